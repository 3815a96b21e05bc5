package domain

import (
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/heraldhq/herald/webhook/diagnose"
)

// Limits of what a Rejection keeps of a refused request.
const (
	MaxRejectionHeaders     = 32      // headers kept
	MaxRejectionHeaderName  = 128     // bytes of a kept header's name; longer names are dropped
	MaxRejectionHeaderValue = 1 << 10 // bytes of a kept header's value; longer values are cut
	MaxRejectionHeaderBytes = 8 << 10 // bytes of all kept names and values
	MaxRejectionBody        = 4 << 10 // bytes of the body kept
	MaxRejectionMessage     = 1 << 10 // bytes of the refusal's message kept
	MaxRejectionFindings    = 8       // findings of the diagnosis kept
	MaxRejectionFindingText = 1 << 10 // bytes of a finding's code, message or hint kept
)

// Excerpt is the bounded part of a refused request that a Rejection keeps, with the request's own sizes.
type Excerpt struct {
	Headers     map[string]string
	Body        []byte
	HeaderCount int   // headers the request had, Authorization and Cookie included
	HeaderBytes int64 // bytes of the request's header names and values
	BodyBytes   int64 // bytes of the request's body
}

// RejectionExcerpt returns what a Rejection keeps of a request's headers and body: never
// Authorization or Cookie; in name order, at most MaxRejectionHeaders headers whose names
// fit MaxRejectionHeaderName, each value (repeated values joined by ", ") cut to
// MaxRejectionHeaderValue, until MaxRejectionHeaderBytes; and the first MaxRejectionBody
// bytes of the body. Cuts fall on UTF-8 boundaries.
func RejectionExcerpt(header map[string][]string, body []byte) Excerpt {
	ex := Excerpt{Headers: map[string]string{}, HeaderCount: len(header), BodyBytes: int64(len(body))}
	names := make([]string, 0, len(header))
	for k, vs := range header {
		ex.HeaderBytes += int64(len(k))
		for _, v := range vs {
			ex.HeaderBytes += int64(len(v))
		}
		if k == "Authorization" || k == "Cookie" || len(k) > MaxRejectionHeaderName {
			continue
		}
		names = append(names, k)
	}
	sort.Strings(names)
	left := MaxRejectionHeaderBytes
	for _, k := range names {
		if len(ex.Headers) == MaxRejectionHeaders {
			break
		}
		if left <= len(k) {
			continue
		}
		v := joinCut(header[k], min(MaxRejectionHeaderValue, left-len(k)))
		ex.Headers[k] = v
		left -= len(k) + len(v)
	}
	ex.Body = []byte(CutUTF8(string(body), MaxRejectionBody))
	return ex
}

// RejectionDiagnosis returns what a Rejection keeps of a diagnosis: at most
// MaxRejectionFindings findings, each code, message and hint cut to MaxRejectionFindingText
// bytes on a UTF-8 boundary; never nil.
func RejectionDiagnosis(findings []diagnose.Finding) []diagnose.Finding {
	out := make([]diagnose.Finding, 0, min(len(findings), MaxRejectionFindings))
	for _, f := range findings[:min(len(findings), MaxRejectionFindings)] {
		out = append(out, diagnose.Finding{
			Code: CutUTF8(f.Code, MaxRejectionFindingText), Message: CutUTF8(f.Message, MaxRejectionFindingText),
			Hint: CutUTF8(f.Hint, MaxRejectionFindingText), Confirmed: f.Confirmed,
		})
	}
	return out
}

// joinCut joins values with ", " and cuts the result to at most n bytes, reading no more
// of the values than it keeps.
func joinCut(values []string, n int) string {
	var b strings.Builder
	for i, v := range values {
		if i > 0 {
			v = ", " + v
		}
		if b.Len()+len(v) > n {
			b.WriteString(v[:n-b.Len()])
			return CutUTF8(b.String(), n)
		}
		b.WriteString(v)
	}
	return b.String()
}

// CutUTF8 returns s cut to at most n bytes, on a UTF-8 boundary when s is valid UTF-8.
func CutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && i > n-utf8.UTFMax && !utf8.RuneStart(s[i]) {
		i--
	}
	if i <= n-utf8.UTFMax {
		i = n // not UTF-8: a plain byte cut
	}
	return s[:i]
}
