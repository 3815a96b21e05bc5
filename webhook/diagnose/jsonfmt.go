package diagnose

import (
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonValue is a parsed JSON value that keeps what re-serialising needs: object members
// in their order (duplicates included) and numbers as written.
type jsonValue struct {
	kind byte   // '{', '[', '"', '0' (number), 'l' (literal: true, false, null)
	text string // a string's value, a number's or a literal's text
	keys []string
	vals []*jsonValue
}

// jsonFeatures says which re-serialisation options can change a document.
type jsonFeatures struct {
	nonASCII bool // a string holds a character outside ASCII
	html     bool // a string holds <, > or &
	slash    bool // a string holds /
	control  bool // a string holds U+007F, or U+2028 or U+2029
	unsorted bool // an object's keys are not in sorted order
	numbers  bool // a number is not written as JavaScript prints it
}

// maxJSONDepth bounds the nesting the re-serialiser follows.
const maxJSONDepth = 256

var errNotJSON = errors.New("not JSON")

// parseJSON parses one JSON document, surrounding whitespace allowed.
func parseJSON(b []byte) (*jsonValue, jsonFeatures, error) {
	p := jsonParser{b: b}
	p.ws()
	v, err := p.value(0)
	if err != nil {
		return nil, p.f, err
	}
	if p.ws(); p.i != len(b) {
		return nil, p.f, errNotJSON
	}
	return v, p.f, nil
}

type jsonParser struct {
	b []byte
	i int
	f jsonFeatures
}

func (p *jsonParser) ws() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\n' || p.b[p.i] == '\r') {
		p.i++
	}
}

func (p *jsonParser) value(depth int) (*jsonValue, error) {
	if depth > maxJSONDepth || p.i >= len(p.b) {
		return nil, errNotJSON
	}
	switch c := p.b[p.i]; {
	case c == '{' || c == '[':
		return p.container(c, depth)
	case c == '"':
		s, err := p.str()
		return &jsonValue{kind: '"', text: s}, err
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if strings.HasPrefix(string(p.b[p.i:min(len(p.b), p.i+5)]), lit) {
			p.i += len(lit)
			return &jsonValue{kind: 'l', text: lit}, nil
		}
	}
	return nil, errNotJSON
}

func (p *jsonParser) container(open byte, depth int) (*jsonValue, error) {
	v := &jsonValue{kind: open}
	closer := byte('}')
	if open == '[' {
		closer = ']'
	}
	p.i++
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == closer {
		p.i++
		return v, nil
	}
	for {
		p.ws()
		if open == '{' {
			if p.i >= len(p.b) || p.b[p.i] != '"' {
				return nil, errNotJSON
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			if n := len(v.keys); n > 0 && v.keys[n-1] > k {
				p.f.unsorted = true
			}
			v.keys = append(v.keys, k)
			if p.ws(); p.i >= len(p.b) || p.b[p.i] != ':' {
				return nil, errNotJSON
			}
			p.i++
			p.ws()
		}
		elem, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v.vals = append(v.vals, elem)
		if p.ws(); p.i >= len(p.b) {
			return nil, errNotJSON
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case closer:
			p.i++
			return v, nil
		default:
			return nil, errNotJSON
		}
	}
}

// str reads a string and returns its value; invalid UTF-8 and lone surrogates are
// refused, since no encoder would write them back as they were.
func (p *jsonParser) str() (string, error) {
	p.i++ // the quote
	var sb strings.Builder
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return sb.String(), nil
		case c < 0x20:
			return "", errNotJSON
		case c == '\\':
			if err := p.escape(&sb); err != nil {
				return "", err
			}
		case c < utf8.RuneSelf:
			start := p.i // a run of plain ASCII, copied at once
			for ; p.i < len(p.b) && p.b[p.i] >= 0x20 && p.b[p.i] < utf8.RuneSelf && p.b[p.i] != '"' && p.b[p.i] != '\\'; p.i++ {
				if c := p.b[p.i]; c == '<' || c == '>' || c == '&' || c == '/' || c == 0x7f {
					p.note(rune(c))
				}
			}
			sb.Write(p.b[start:p.i])
		default:
			r, n := utf8.DecodeRune(p.b[p.i:])
			if r == utf8.RuneError && n == 1 {
				return "", errNotJSON
			}
			p.note(r)
			sb.WriteRune(r)
			p.i += n
		}
	}
	return "", errNotJSON
}

func (p *jsonParser) escape(sb *strings.Builder) error {
	if p.i+1 >= len(p.b) {
		return errNotJSON
	}
	e := p.b[p.i+1]
	p.i += 2
	if i := strings.IndexByte(`"\/bfnrt`, e); i >= 0 {
		r := rune("\"\\/\b\f\n\r\t"[i])
		p.note(r)
		sb.WriteRune(r)
		return nil
	}
	if e != 'u' {
		return errNotJSON
	}
	r, ok := p.hex4()
	if !ok {
		return errNotJSON
	}
	if utf16.IsSurrogate(r) {
		if p.i+1 >= len(p.b) || p.b[p.i] != '\\' || p.b[p.i+1] != 'u' {
			return errNotJSON
		}
		p.i += 2
		r2, ok := p.hex4()
		if r = utf16.DecodeRune(r, r2); !ok || r == utf8.RuneError {
			return errNotJSON
		}
	}
	p.note(r)
	sb.WriteRune(r)
	return nil
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.b[p.i:p.i+4]), 16, 32)
	p.i += 4
	return rune(n), err == nil
}

// note records which escaping options a character makes a difference to.
func (p *jsonParser) note(r rune) {
	switch {
	case r == '<' || r == '>' || r == '&':
		p.f.html = true
	case r == '/':
		p.f.slash = true
	case r == 0x7f || r == '\u2028' || r == '\u2029':
		p.f.control = true
	}
	if r >= utf8.RuneSelf {
		p.f.nonASCII = true
	}
}

func (p *jsonParser) number() (*jsonValue, error) {
	start := p.i
	if p.b[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.b) && p.b[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return nil, errNotJSON
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, errNotJSON
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, errNotJSON
		}
	}
	text := string(p.b[start:p.i])
	if jsNumber(text) != text {
		p.f.numbers = true
	}
	return &jsonValue{kind: '0', text: text}, nil
}

// jsonStyle is one way of writing JSON, as some library or tool writes it.
type jsonStyle struct {
	spaced   bool   // ", " and ": " on one line (Python's json.dumps)
	indent   string // one level of indentation; "" for one line
	ascii    bool   // non-ASCII as \uXXXX (Python's ensure_ascii, PHP)
	html     bool   // <, >, & as \u003c... and U+2028, U+2029 escaped (Go's encoding/json)
	slash    bool   // / as \/ (PHP)
	jsNums   bool   // numbers as JavaScript prints them
	sortKeys bool
	newline  bool // a trailing newline
}

// needs reports whether the style can differ from the plain compact one for a
// document with features f; a style that cannot is not worth trying.
func (s jsonStyle) needs(f jsonFeatures) bool {
	return (!s.ascii || f.nonASCII || f.control) && (!s.html || f.html || f.control) &&
		(!s.slash || f.slash) && (!s.jsNums || f.numbers) && (!s.sortKeys || f.unsorted)
}

// encode writes v in the style.
func (s jsonStyle) encode(v *jsonValue, sizeHint int) []byte {
	b := make([]byte, 0, sizeHint+sizeHint/4+16)
	b = s.value(b, v, 0)
	if s.newline {
		b = append(b, '\n')
	}
	return b
}

func (s jsonStyle) value(b []byte, v *jsonValue, depth int) []byte {
	switch v.kind {
	case '"':
		return s.str(b, v.text)
	case '0':
		if s.jsNums {
			return append(b, jsNumber(v.text)...)
		}
		return append(b, v.text...)
	case 'l':
		return append(b, v.text...)
	}
	closer := byte('}')
	if v.kind == '[' {
		closer = ']'
	}
	b = append(b, v.kind)
	if len(v.vals) == 0 {
		return append(b, closer)
	}
	order := make([]int, len(v.vals))
	for i := range order {
		order[i] = i
	}
	if s.sortKeys && v.kind == '{' {
		sort.SliceStable(order, func(i, j int) bool { return v.keys[order[i]] < v.keys[order[j]] })
	}
	for n, i := range order {
		if n > 0 {
			b = append(b, ',')
			if s.spaced && s.indent == "" {
				b = append(b, ' ')
			}
		}
		b = s.newlineIndent(b, depth+1)
		if v.kind == '{' {
			b = s.str(b, v.keys[i])
			b = append(b, ':')
			if s.spaced || s.indent != "" {
				b = append(b, ' ')
			}
		}
		b = s.value(b, v.vals[i], depth+1)
	}
	b = s.newlineIndent(b, depth)
	return append(b, closer)
}

func (s jsonStyle) newlineIndent(b []byte, depth int) []byte {
	if s.indent == "" {
		return b
	}
	b = append(b, '\n')
	for i := 0; i < depth; i++ {
		b = append(b, s.indent...)
	}
	return b
}

const hexDigits = "0123456789abcdef"

func (s jsonStyle) str(b []byte, str string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(str); {
		if c := str[i]; s.plain(c) {
			i++ // copied with the rest of its run
			continue
		}
		b = append(b, str[start:i]...)
		r, n := utf8.DecodeRuneInString(str[i:])
		i, start = i+n, i+n
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20,
			s.html && (r == '<' || r == '>' || r == '&' || r == '\u2028' || r == '\u2029'),
			s.ascii && r == 0x7f:
			b = appendU(b, r)
		case r == '/' && s.slash:
			b = append(b, '\\', '/')
		case r >= utf8.RuneSelf && s.ascii:
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				b = appendU(appendU(b, r1), r2)
			} else {
				b = appendU(b, r)
			}
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	b = append(b, str[start:]...)
	return append(b, '"')
}

// plain reports whether the byte c of a string is written as it is, without looking at
// the character it belongs to.
func (s jsonStyle) plain(c byte) bool {
	switch {
	case c < 0x20 || c == '"' || c == '\\':
		return false
	case c >= utf8.RuneSelf:
		return !s.ascii && !s.html // html escapes U+2028 and U+2029
	case c == '<' || c == '>' || c == '&':
		return !s.html
	case c == '/':
		return !s.slash
	case c == 0x7f:
		return !s.ascii
	}
	return true
}

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// jsNumber returns a JSON number literal as JavaScript's JSON.stringify writes it after
// JSON.parse: shortest round-trip digits, no exponent between 1e-7 and 1e21.
func jsNumber(lit string) string {
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(f, 0) {
		return lit
	}
	if f == 0 {
		return "0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // "-d.ddde±xx"
	neg := e[0] == '-'
	if neg {
		e = e[1:]
	}
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	n, k := x+1, len(digits) // the decimal point is after n digits
	var out string
	switch {
	case k <= n && n <= 21:
		out = digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		out = digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		out = "0." + strings.Repeat("0", -n) + digits
	default:
		sign := "+"
		if n-1 < 0 {
			sign = "-"
		}
		out = digits[:1]
		if k > 1 {
			out += "." + digits[1:]
		}
		out += "e" + sign + strconv.Itoa(abs(n-1))
	}
	if neg {
		out = "-" + out
	}
	return out
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
