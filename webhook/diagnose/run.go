package diagnose

import (
	"fmt"
	"net/http"
	"net/textproto"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/heraldhq/herald/webhook"
)

// Bounds on what the diagnosis reads of a request.
const (
	maxHeaderNames   = 512     // header names examined
	maxSecrets       = 16      // secrets and retired secrets examined, each
	maxHeaderRewrite = 8 << 10 // longest signature header rewritten to test a fix
	maxNameInText    = 64      // longest header name quoted in a message
)

// diagnosis is one run of Explain.
type diagnosis struct {
	in       Input
	now      time.Time
	tol      time.Duration // <= 0: the timestamp check is off
	work     int64         // bytes left to hash or re-serialise
	s        scheme
	h        http.Header // the request's headers, canonical keys, as analysed
	vt       webhook.Verifier
	findings []Finding
	partial  bool
	verified bool
	err      string
	skew     int // index of the timestamp finding, -1 if none

	wrongKind map[int]bool // secrets already found of the wrong kind
}

func newDiagnosis(in Input) *diagnosis {
	d := &diagnosis{in: in, now: in.Now, tol: in.Tolerance, work: in.MaxWork, skew: -1, wrongKind: map[int]bool{}}
	if d.now.IsZero() {
		d.now = time.Now()
	}
	if d.tol == 0 {
		d.tol = webhook.DefaultTolerance
	}
	if d.work <= 0 {
		d.work = DefaultMaxWork
	}
	if len(d.in.Secrets) > maxSecrets {
		d.in.Secrets, d.partial = d.in.Secrets[:maxSecrets], true
	}
	if len(d.in.Retired) > maxSecrets {
		d.in.Retired, d.partial = d.in.Retired[:maxSecrets], true
	}
	return d
}

func (d *diagnosis) add(f Finding) int {
	d.findings = append(d.findings, f)
	return len(d.findings) - 1
}

func (d *diagnosis) report() Report {
	r := Report{Verified: d.verified, Error: d.err, Partial: d.partial, Findings: []Finding{}}
	if d.verified {
		return r
	}
	sort.SliceStable(d.findings, func(i, j int) bool { return d.findings[i].Confirmed && !d.findings[j].Confirmed })
	if len(d.findings) > MaxFindings {
		d.findings, r.Partial = d.findings[:MaxFindings], true
	}
	r.Findings = append(r.Findings, d.findings...)
	return r
}

// charge takes n bytes of work from the budget, and reports false (and a partial
// report) once it is spent.
func (d *diagnosis) charge(n int64) bool {
	if n > d.work {
		d.partial, d.work = true, 0
		return false
	}
	d.work -= n
	return true
}

// try reports whether v verifies body and h, if the budget allows hashing it with keys keys.
func (d *diagnosis) try(v webhook.Verifier, body []byte, h http.Header, keys int) bool {
	if v == nil || !d.charge(int64(len(body)+256)*int64(max(keys, 1))) {
		return false
	}
	_, err := v.Verify(body, h)
	return err == nil
}

// run is the diagnosis, cheapest and likeliest checks first; each step that proves a
// cause stops it.
func (d *diagnosis) run() {
	s, err := newScheme(d.in.Provider, d.in.HMAC)
	if err != nil {
		hint := "Choose one of the providers listed, matching who sends the webhooks."
		if strings.EqualFold(strings.TrimSpace(d.in.Provider), "hmac") {
			hint = "Give the hmac configuration: at least the header that carries the signature, and its prefix, encoding, algorithm and template if they are not the defaults."
		}
		d.add(Finding{Code: CodeInvalidConfig, Message: capitalize(err.Error()) + ".", Hint: hint})
		return
	}
	d.s = s
	d.h = d.canonical()
	kindWrong := d.secretKinds()
	v, err := s.verifier(d.in.Secrets, d.tol, d.now)
	if err != nil {
		if !kindWrong {
			d.add(Finding{Code: CodeInvalidConfig, Message: "The configuration cannot verify: " + err.Error() + ".",
				Hint: "Fix the secret: paste it exactly as the provider shows it."})
		}
		d.checkHeaders()
		return
	}
	_, verr := v.Verify(d.in.Body, d.in.Header)
	if verr == nil {
		d.verified = true
		return
	}
	d.err = verr.Error()
	if d.vt, err = s.verifier(d.in.Secrets, 0, d.now); err != nil {
		return // cannot happen: the same secrets made v
	}
	if d.headerCase(v) || !d.checkHeaders() {
		return
	}
	if !d.checkTimestamp() {
		return
	}
	if _, err := d.vt.Verify(d.in.Body, d.h); err == nil { // free, as the first verification: the budget is for candidates
		// The signature is right: the timestamp is the cause.
		if d.skew >= 0 {
			d.findings[d.skew].Confirmed = true
		}
		return
	}
	if d.checkSignatureFormat() || d.checkRetired() || d.checkSecrets() || d.checkBody() {
		return
	}
	d.noMatch()
}

// canonical returns the request's headers under canonical keys, at most maxHeaderNames
// of them, and records which needed ones were not canonical.
func (d *diagnosis) canonical() http.Header {
	names := make([]string, 0, min(len(d.in.Header), maxHeaderNames))
	for k := range d.in.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	if len(names) > maxHeaderNames {
		names, d.partial = names[:maxHeaderNames], true
	}
	h := make(http.Header, len(names))
	for _, k := range names {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		if ck == k {
			h[ck] = append(d.in.Header[k][:len(d.in.Header[k]):len(d.in.Header[k])], h[ck]...)
		} else {
			h[ck] = append(h[ck], d.in.Header[k]...)
		}
	}
	return h
}

// headerCase reports (and says) whether the request verifies once its header keys are
// canonical: an http.Header built by hand (from a Lambda event, a test) with keys such
// as "stripe-signature" hides them from Header.Get and from every verifier.
func (d *diagnosis) headerCase(v webhook.Verifier) bool {
	var odd []string
	for _, name := range d.s.required() {
		if len(d.in.Header[name]) == 0 && len(d.h[name]) > 0 {
			odd = append(odd, name)
		}
	}
	if len(odd) == 0 {
		return false
	}
	_, err := v.Verify(d.in.Body, d.h)
	d.add(Finding{
		Code: CodeHeaderCase, Confirmed: err == nil,
		Message: fmt.Sprintf("The http.Header holds %s under keys not in canonical form (such as %q), so lookups do not find them.",
			quoteNames(odd), lower(odd[0])),
		Hint: "Build the header with Header.Set or Header.Add, or canonicalise the keys with textproto.CanonicalMIMEHeaderKey; HTTP header names are case-insensitive but an http.Header map is not.",
	})
	return err == nil
}

// secretKinds adds a finding for each secret of the wrong kind and reports whether there was one.
func (d *diagnosis) secretKinds() bool {
	found := false
	for i, sec := range d.in.Secrets {
		if f := d.s.secretKind(sec, d.secretName(i, false)); f != nil {
			d.add(*f)
			found, d.wrongKind[i] = true, true
		}
	}
	return found
}

// secretName names secret i in messages, by position only.
func (d *diagnosis) secretName(i int, retired bool) string {
	switch {
	case retired && len(d.in.Retired) == 1:
		return "the retired secret"
	case retired:
		return fmt.Sprintf("retired secret %d", i+1)
	case len(d.in.Secrets) == 1:
		return "the secret"
	}
	return fmt.Sprintf("secret %d", i+1)
}

// checkTimestamp says what is wrong with the signed timestamp; it returns false if the
// timestamp does not parse, so that the signature cannot be checked.
func (d *diagnosis) checkTimestamp() bool {
	if d.s.standard && strings.Contains(headerValue(d.h, d.s.id), ".") {
		d.add(Finding{Code: CodeMalformedHeader, Message: fmt.Sprintf("The %s header contains a dot, which Standard Webhooks forbids: the signed content is id.timestamp.body.", lower(d.s.id)),
			Hint: "The sender must use ids without dots (msg_..., evt_...)."})
		return false
	}
	raw, name, has := d.s.timestamp(d.h)
	if has && raw == "" && d.s.provider == "stripe" {
		d.add(Finding{Code: CodeMalformedHeader, Message: "Stripe-Signature has no t= timestamp.",
			Hint: "Stripe writes the header as t=<unix seconds>,v1=<hex digest>: pass the whole header on, unchanged."})
		return false
	}
	if !has || raw == "" {
		return true
	}
	if why, ok := timestampShape(raw, d.now); !ok {
		d.add(Finding{Code: CodeMalformedHeader, Message: fmt.Sprintf("%s is %q: %s.", capitalize(name), cut(raw, 40), why),
			Hint: "The sender must write the signing time as whole seconds since 1970 (Unix time) and sign that exact text."})
		return false
	} else if why != "" {
		d.skew = d.add(Finding{Code: CodeMalformedHeader, Message: fmt.Sprintf("%s is %s: %s.", capitalize(name), raw, why),
			Hint: "The scheme signs whole seconds since 1970: the sender must divide by 1000 (Math.floor(Date.now()/1000) in JavaScript)."})
		return true
	}
	unix, _ := parseUnix(raw)
	skew := d.now.Sub(time.Unix(unix, 0))
	if d.tol <= 0 || (skew <= d.tol && -skew <= d.tol) {
		return true
	}
	f := Finding{Code: CodeTimestampSkew}
	when := time.Unix(unix, 0).UTC().Format(time.RFC3339)
	if skew > 0 {
		f.Message = fmt.Sprintf("The signed timestamp (%s, %s) is %s in the past; the tolerance is %s.", name, when, fmtDuration(skew), d.tol)
		f.Hint = "If the signature is right, either this machine's clock is ahead (sync it with NTP) or the request is old: a replay, a queued retry or a saved capture. To check an old capture, turn the check off (herald verify --tolerance 0)."
		if skew > 24*time.Hour {
			f.Hint = "A request this old is a replay or a saved capture, not a live delivery: to check a capture, turn the check off (herald verify --tolerance 0); a live sender's clock this far off needs fixing."
		}
	} else {
		f.Message = fmt.Sprintf("The signed timestamp (%s, %s) is %s in the future; the tolerance is %s.", name, when, fmtDuration(-skew), d.tol)
		f.Hint = "The sender's clock is ahead or this machine's is behind: sync the clocks with NTP."
	}
	d.skew = d.add(f)
	return true
}

// timestampShape checks a raw timestamp: ok is false if it is not decimal seconds at
// all; why is also set for seconds that are really milliseconds.
func timestampShape(raw string, now time.Time) (why string, ok bool) {
	if n, ok := parseUnix(raw); ok {
		if len(raw) >= 13 && abs64(n/1000-now.Unix()) < 10*365*24*3600 {
			return "milliseconds since 1970, where the scheme wants seconds", true
		}
		return "", true
	}
	switch {
	case strings.Trim(raw, "0123456789") == "" && strings.HasPrefix(raw, "0"):
		return "it has leading zeros", false
	case strings.Count(raw, ".") == 1 && strings.Trim(raw, "0123456789.") == "":
		return "it has a fraction; the scheme signs whole seconds", false
	case strings.ContainsAny(raw, "-:T") && len(raw) >= 10:
		if _, err := time.Parse(time.RFC3339, raw); err == nil {
			return "a date, where the scheme wants seconds since 1970", false
		}
	}
	return "not a number of seconds since 1970", false
}

// parseUnix accepts canonical decimal seconds, as the verifiers do.
func parseUnix(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 18 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

// checkRetired reports whether a retired secret signed the request.
func (d *diagnosis) checkRetired() bool {
	for i, sec := range d.in.Retired {
		v, err := d.s.verifier([]string{sec}, 0, d.now)
		if err != nil || !d.try(v, d.in.Body, d.h, 1) {
			continue
		}
		d.add(Finding{Code: CodeRotatedSecret, Confirmed: true,
			Message: fmt.Sprintf("The request is signed with %s, which was rotated out.", d.secretName(i, true)),
			Hint:    "The sender still signs with the old secret: finish the rotation at the sender (give it the new secret), or accept the old one as well until it has.",
		})
		return true
	}
	return false
}

// checkSecrets reports whether the request is signed with a configured secret written
// or decoded differently.
func (d *diagnosis) checkSecrets() bool {
	for i, sec := range d.in.Secrets {
		key, _ := d.s.keyOf(sec)
		for _, c := range d.s.secretCandidates(sec, key) {
			str, ok := d.s.secretFor(c.key)
			if !ok {
				continue
			}
			v, err := d.s.verifier([]string{str}, 0, d.now)
			if err != nil || !d.try(v, d.in.Body, d.h, 1) {
				continue
			}
			d.add(Finding{Code: CodeSecretEncoding, Confirmed: true,
				Message: fmt.Sprintf("The signature was made with %s %s.", d.secretName(i, false), c.what),
				Hint:    c.hint,
			})
			return true
		}
	}
	return false
}

// checkBody reports whether the sender signed the body before something changed it.
func (d *diagnosis) checkBody() bool {
	found := false
	charge := func(n int) bool { return d.charge(int64(n)) }
	tooLarge := bodyCandidates(d.in.Body, charge, func(c bodyCandidate) bool {
		if !d.try(d.vt, c.body, d.h, len(d.in.Secrets)) {
			return false
		}
		found = true
		f := Finding{Code: CodeBodyChanged, Confirmed: true}
		switch c.kind {
		case "json":
			f.Message = "The body was re-serialised after it was signed: the signature matches the same JSON " + c.desc + "."
			f.Hint = "Verify the raw bytes as they arrived, before any JSON parsing: read the body once, verify it, then parse it (Express: express.raw({type: 'application/json'}); Flask: request.get_data(); Django: request.body; Go: io.ReadAll(r.Body)). Never serialise a parsed object again to verify it."
		case "form":
			f.Message = "The form body was re-encoded after it was signed: the signature matches it " + c.desc + "."
			f.Hint = "Verify the raw body before the framework parses the form (Express: express.raw({type: 'application/x-www-form-urlencoded'}); Flask: request.get_data() before request.form)."
		case "charset":
			f.Message = "The body's characters were re-encoded after it was signed: the signature matches it " + c.desc + "."
			f.Hint = "Read the body as bytes and verify them, not a string decoded and encoded again in another character set."
		default:
			f.Message = "The body was changed after it was signed: the signature matches it " + c.desc + "."
			f.Hint = "Something between the sender and the verifier changed the bytes (a proxy, a framework, an editor, a copy and paste): verify the body byte for byte as it arrived. To send a saved body use curl --data-binary @file (curl -d strips newlines)."
		}
		d.add(f)
		return true
	})
	if tooLarge {
		d.partial = true
	}
	return found
}

// noMatch says that no known mistake explains the mismatch, with what the header holds.
func (d *diagnosis) noMatch() {
	if len(d.in.Body) == 0 {
		d.add(Finding{Code: CodeBodyEmpty, Message: "The body is empty.",
			Hint: "Something read the request body before the verifier (a JSON middleware, a logging wrapper), or the sender sent none: verify the raw body, read once."})
	}
	list, total := d.s.entries(headerValue(d.h, d.s.sig))
	counts := map[string]int{}
	var versions []string
	for _, e := range list {
		if counts[e.version] == 0 {
			versions = append(versions, e.version)
		}
		counts[e.version]++
	}
	if d.s.standard {
		d.standardKinds(counts)
	}
	var parts []string
	for _, v := range versions {
		name := cut(v, 16)
		if name == "" {
			name = "untagged"
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", name, counts[v]))
	}
	secrets := "the configured secret"
	if n := len(d.in.Secrets); n > 1 {
		secrets = fmt.Sprintf("any of the %d configured secrets", n)
	}
	msg := fmt.Sprintf("The signature in %s does not match this body under %s.", lower(d.s.sig), secrets)
	if total > 1 {
		msg = fmt.Sprintf("None of the %d signatures in %s (%s) matches this body under %s.", total, lower(d.s.sig), strings.Join(parts, ", "), secrets)
	}
	hint := "No known mistake explains it: check that the secret is this endpoint's current signing secret (each endpoint has its own; test and live modes differ) and that the body is the raw bytes as received."
	if d.s.standard {
		hint += " Standard Webhooks also signs " + lower(d.s.id) + " and " + lower(d.s.ts) + ": pass them on unchanged."
	}
	if d.partial {
		hint += " Not every candidate was tried (the body is large, or the work limit was reached)."
	}
	d.add(Finding{Code: CodeNoMatch, Message: msg, Hint: hint})
	for i, sec := range d.in.Secrets {
		if d.wrongKind[i] {
			continue
		}
		if f := d.s.secretFormat(sec, d.secretName(i, false)); f != nil {
			d.add(*f)
		}
	}
}

// standardKinds says when the signatures and the keys are of different kinds: Ed25519
// signatures and HMAC secrets, or the other way round.
func (d *diagnosis) standardKinds(counts map[string]int) {
	var hmacKeys, publicKeys int
	for _, sec := range d.in.Secrets {
		if hasAnyPrefix(strings.TrimSpace(sec), "whpk_", "whsk_") {
			publicKeys++
		} else {
			hmacKeys++
		}
	}
	switch {
	case counts["v1a"] > 0 && counts["v1"] == 0 && publicKeys == 0:
		d.add(Finding{Code: CodeSecretKind, Message: "The sender signs with Ed25519 only (v1a signatures), and no Ed25519 public key is configured.",
			Hint: "Configure the sender's public key (whpk_...) instead of, or beside, the HMAC secret."})
	case counts["v1"] > 0 && counts["v1a"] == 0 && hmacKeys == 0:
		d.add(Finding{Code: CodeSecretKind, Message: "The sender signs with HMAC only (v1 signatures), and only Ed25519 keys are configured.",
			Hint: "Configure the sender's HMAC secret (whsec_...)."})
	}
	for v := range counts {
		if v != "v1" && v != "v1a" {
			d.add(Finding{Code: CodeSignatureFormat, Message: fmt.Sprintf("Some signatures carry the version tag %q, which Standard Webhooks does not define (v1 is HMAC-SHA256, v1a Ed25519).", cut(v, 16)),
				Hint: "Signatures are written \"v1,<base64>\", separated by spaces; check how the sender builds the header."})
			break
		}
	}
}

func fmtDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int64(d/(24*time.Hour)))
	}
	return d.String()
}

func abs64(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// cut shortens text from the request for a message, and replaces what is not printable.
func cut(s string, n int) string {
	more := ""
	if len(s) > n {
		s, more = s[:n], "…"
	}
	return strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?")) + more
}

// quoteNames lists header names, lower case, for a message: "a", "a and b", "a, b and c".
func quoteNames(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = lower(n)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}
