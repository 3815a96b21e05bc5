package diagnose

import (
	"bytes"
	"hash/maphash"
	"net/url"
	"strings"
	"unicode/utf8"
)

// maxReserialize is the largest body the diagnosis parses and writes again.
const maxReserialize = 256 << 10

// bodyCandidate is a body the sender may have signed before something changed it.
type bodyCandidate struct {
	body []byte
	desc string // how the signed body differs, completing "the signature matches it ..."
	kind string // "json", "form", "text" or "charset", for the hint
}

// jsonStyles are the ways of writing JSON tried, most common first; each is also tried
// with sorted keys. Their descriptions complete "the signature matches the same JSON ...".
var jsonStyles = []struct {
	style jsonStyle
	desc  string
}{
	{jsonStyle{}, "written compactly, with no spaces or line breaks (as JavaScript's JSON.stringify writes it)"},
	{jsonStyle{spaced: true, ascii: true}, `written with Python's json.dumps spacing (", " and ": ") and non-ASCII characters escaped as \uXXXX`},
	{jsonStyle{spaced: true}, `written with spaces after "," and ":" (Python's json.dumps spacing)`},
	{jsonStyle{html: true}, "written compactly with <, > and & escaped as \\u003c, \\u003e and \\u0026 (as Go's encoding/json writes it)"},
	{jsonStyle{html: true, newline: true}, "written compactly with <, > and & escaped and a trailing newline (as Go's json.Encoder writes it)"},
	{jsonStyle{newline: true}, "written compactly with a trailing newline"},
	{jsonStyle{ascii: true}, "written compactly with non-ASCII characters escaped as \\uXXXX"},
	{jsonStyle{ascii: true, slash: true}, "written compactly with / and non-ASCII characters escaped (as PHP's json_encode writes it)"},
	{jsonStyle{indent: "  "}, "indented by 2 spaces"},
	{jsonStyle{indent: "    "}, "indented by 4 spaces"},
	{jsonStyle{indent: "  ", ascii: true}, "indented by 2 spaces with non-ASCII characters escaped"},
	{jsonStyle{indent: "    ", ascii: true}, "indented by 4 spaces with non-ASCII characters escaped (Python's json.dumps(indent=4))"},
	{jsonStyle{indent: "\t"}, "indented by tabs"},
	{jsonStyle{indent: "  ", newline: true}, "indented by 2 spaces, with a trailing newline"},
	{jsonStyle{indent: "    ", newline: true}, "indented by 4 spaces, with a trailing newline"},
	{jsonStyle{spaced: true, ascii: true, newline: true}, "written with Python's json.dumps spacing and a trailing newline"},
	{jsonStyle{jsNums: true}, "written compactly with its numbers as JavaScript prints them (1.0 as 1, large integers rounded)"},
}

// bodyCandidates calls try with each body the sender may have signed, most likely
// first, until try returns true (a match). charge is told the bytes each parse or
// re-serialisation costs, and stops the search by returning false. bodyCandidates
// returns whether the body was too large to re-serialise.
func bodyCandidates(body []byte, charge func(n int) bool, try func(c bodyCandidate) bool) (tooLarge bool) {
	seen := newSeen(body)
	emit := func(c bodyCandidate) bool {
		if !seen.add(c.body) {
			return false
		}
		return try(c)
	}
	for _, c := range textCandidates(body) {
		if emit(c) {
			return false
		}
	}
	if len(body) > maxReserialize {
		return true
	}
	if !charge(len(body)) {
		return false
	}
	if doc, f, err := parseJSON(body); err == nil {
		for _, sorted := range []bool{false, true} {
			for _, s := range jsonStyles {
				st := s.style
				st.sortKeys = sorted
				if !st.needs(f) {
					continue
				}
				if !charge(len(body)) {
					return false
				}
				desc := s.desc
				if sorted {
					desc += ", with the object keys sorted"
				}
				if emit(bodyCandidate{st.encode(doc, len(body)), desc, "json"}) {
					return false
				}
			}
		}
		return false
	}
	for _, c := range formCandidates(body) {
		if emit(c) {
			return false
		}
	}
	return false
}

// textCandidates are the body with its line endings, surrounding whitespace, byte-order
// mark or character encoding undone.
func textCandidates(body []byte) []bodyCandidate {
	var out []bodyCandidate
	add := func(b []byte, desc, kind string) { out = append(out, bodyCandidate{b, desc, kind}) }
	switch {
	case bytes.HasSuffix(body, []byte("\r\n")):
		add(body[:len(body)-2], "without its trailing CRLF line break", "text")
	case bytes.HasSuffix(body, []byte("\n")):
		add(body[:len(body)-1], "without its trailing newline", "text")
	default:
		add(append(body[:len(body):len(body)], '\n'), "with a trailing newline, which was lost on the way", "text")
	}
	if bytes.Contains(body, []byte("\r\n")) {
		add(bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n")), "with LF line endings (it arrived with CRLF)", "text")
	} else if bytes.Contains(body, []byte("\n")) {
		add(bytes.ReplaceAll(body, []byte("\n"), []byte("\r\n")), "with CRLF line endings (it arrived with LF)", "text")
	}
	if t := bytes.TrimSpace(body); len(t) != len(body) {
		add(t, "without the whitespace around it", "text")
	}
	if b, ok := bytes.CutPrefix(body, []byte("\xef\xbb\xbf")); ok {
		add(b, "without the byte-order mark at its start", "charset")
	}
	if !utf8.Valid(body) {
		add(latin1ToUTF8(body), "encoded as UTF-8 (it arrived as Latin-1)", "charset")
	} else if b, ok := utf8ToLatin1(body); ok {
		add(b, "encoded as Latin-1 (it arrived as UTF-8)", "charset")
	}
	return out
}

// formCandidates are a form body (application/x-www-form-urlencoded) written again
// as frameworks do: keys sorted, spaces as + or %20.
func formCandidates(body []byte) []bodyCandidate {
	if len(body) == 0 || bytes.IndexByte(body, '=') < 0 || bytes.ContainsAny(body, " \n{") {
		return nil
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil
	}
	sorted := vals.Encode()
	inOrder := formInOrder(string(body))
	return []bodyCandidate{
		{[]byte(sorted), "as a form written again with its fields sorted and spaces as +", "form"},
		{[]byte(strings.ReplaceAll(sorted, "+", "%20")), "as a form written again with its fields sorted and spaces as %20", "form"},
		{[]byte(inOrder), "as a form written again with its fields in order and spaces as +", "form"},
		{[]byte(strings.ReplaceAll(inOrder, "+", "%20")), "as a form written again with its fields in order and spaces as %20", "form"},
	}
}

// formInOrder re-escapes a form's fields, keeping their order.
func formInOrder(body string) string {
	var b strings.Builder
	for i, field := range strings.Split(body, "&") {
		k, v, _ := strings.Cut(field, "=")
		k, _ = url.QueryUnescape(k)
		v, _ = url.QueryUnescape(v)
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(v))
	}
	return b.String()
}

func latin1ToUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/4)
	for _, c := range b {
		out = utf8.AppendRune(out, rune(c))
	}
	return out
}

// utf8ToLatin1 returns b in Latin-1 if it has a character outside ASCII and all its
// characters fit.
func utf8ToLatin1(b []byte) ([]byte, bool) {
	out := make([]byte, 0, len(b))
	wide := false
	for _, r := range string(b) {
		if r > 0xff {
			return nil, false
		}
		wide = wide || r >= utf8.RuneSelf
		out = append(out, byte(r))
	}
	return out, wide
}

// seen remembers the bodies already tried, by hash.
type seen struct {
	seed maphash.Seed
	set  map[uint64]bool
}

func newSeen(original []byte) *seen {
	s := &seen{seed: maphash.MakeSeed(), set: map[uint64]bool{}}
	s.add(original)
	return s
}

// add reports whether b is new.
func (s *seen) add(b []byte) bool {
	h := maphash.Bytes(s.seed, b)
	if s.set[h] {
		return false
	}
	s.set[h] = true
	return true
}
