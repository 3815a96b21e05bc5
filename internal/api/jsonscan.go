package api

import "encoding/json"

// jsonScan reads a JSON text in one pass, without reflection or allocation, for the
// publish routes' fast path (decodeFast). It accepts only what it is sure of: a syntax
// error, a duplicate key, a key with an escape sequence (whose decoded form could repeat
// another key), an object of more than maxScanKeys keys or nesting deeper than
// maxScanDepth make it give up, and the caller falls back to the strict reflective
// decoder (decodeJSON), which then answers the input exactly as it always has. Invalid
// UTF-8 is the caller's to check (decodeJSON's rule), as with json.Valid.
type jsonScan struct {
	b     []byte
	i     int
	depth int
	nkeys int
	keys  [maxScanOpenKeys]span // keys[:nkeys]: those of the objects being read, innermost last
}

// span is a [start, end) range of jsonScan.b.
type span struct{ start, end int }

const (
	// maxScanKeys bounds the keys of one object the scan checks for duplicates (each
	// against all before it); a larger object goes to the reflective decoder.
	maxScanKeys = 64
	// maxScanOpenKeys bounds the keys of all the objects being read at once.
	maxScanOpenKeys = 256
	// maxScanDepth bounds nesting on the fast path (encoding/json allows 10,000).
	maxScanDepth = 256
)

// ws skips JSON whitespace.
func (s *jsonScan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next byte after whitespace, or 0 at the end.
func (s *jsonScan) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// eat consumes c after whitespace.
func (s *jsonScan) eat(c byte) bool {
	if s.peek() != c {
		return false
	}
	s.i++
	return true
}

// end reports whether only whitespace is left.
func (s *jsonScan) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// value reads one JSON value and returns its span.
func (s *jsonScan) value() (span, bool) {
	c := s.peek()
	start := s.i
	var ok bool
	switch c {
	case '{':
		ok = s.object()
	case '[':
		ok = s.array()
	case '"':
		_, _, ok = s.str()
	case 't':
		ok = s.literal("true")
	case 'f':
		ok = s.literal("false")
	case 'n':
		ok = s.literal("null")
	default:
		ok = s.number()
	}
	return span{start, s.i}, ok
}

func (s *jsonScan) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *jsonScan) number() bool {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return false
		}
		i = j
	}
	s.i = i
	return true
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// str reads a string; it returns the span of its content (without the quotes) and
// whether the content holds an escape sequence.
func (s *jsonScan) str() (content span, escaped, ok bool) {
	b := s.b
	i := s.i + 1 // after the opening quote
	start := i
	for i < len(b) {
		c := b[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			i++ // the common case first, in the tightest loop
			continue
		}
		switch {
		case c == '"':
			s.i = i + 1
			return span{start, i}, escaped, true
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				return span{}, false, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return span{}, false, false
				}
				i += 6
			default:
				return span{}, false, false
			}
		default: // a control character
			return span{}, false, false
		}
	}
	return span{}, false, false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// key reads an object key and its colon, and checks the key against the object's
// earlier keys (s.keys[first:s.nkeys]).
func (s *jsonScan) key(first int) (span, bool) {
	if s.peek() != '"' {
		return span{}, false
	}
	k, escaped, ok := s.str()
	if !ok || escaped || s.nkeys-first >= maxScanKeys || s.nkeys == len(s.keys) {
		return span{}, false
	}
	name := s.b[k.start:k.end]
	for _, prev := range s.keys[first:s.nkeys] {
		if string(s.b[prev.start:prev.end]) == string(name) {
			return span{}, false
		}
	}
	s.keys[s.nkeys] = k
	s.nkeys++
	return k, s.eat(':')
}

// object reads an object, checking that no key repeats.
func (s *jsonScan) object() bool {
	if s.depth == maxScanDepth {
		return false
	}
	s.depth++
	s.i++ // '{'
	first := s.nkeys
	ok := s.members(first)
	s.nkeys = first
	s.depth--
	return ok
}

// members reads an object's members and its closing brace.
func (s *jsonScan) members(first int) bool {
	if s.eat('}') {
		return true
	}
	for {
		if _, ok := s.key(first); !ok {
			return false
		}
		if _, ok := s.value(); !ok {
			return false
		}
		if !s.eat(',') {
			return s.eat('}')
		}
	}
}

// array reads an array.
func (s *jsonScan) array() bool {
	if s.depth == maxScanDepth {
		return false
	}
	s.depth++
	s.i++ // '['
	ok := s.elements()
	s.depth--
	return ok
}

// elements reads an array's elements and its closing bracket.
func (s *jsonScan) elements() bool {
	if s.eat(']') {
		return true
	}
	for {
		if _, ok := s.value(); !ok {
			return false
		}
		if !s.eat(',') {
			return s.eat(']')
		}
	}
}

// plainString reads a string value without escape sequences and returns it.
func (s *jsonScan) plainString() (string, bool) {
	if s.peek() != '"' {
		return "", false
	}
	c, escaped, ok := s.str()
	if !ok || escaped {
		return "", false
	}
	return string(s.b[c.start:c.end]), true
}

// validJSON is json.Valid, in one quick pass for what the scanner takes (most
// payloads); encoding/json answers only for what it declines.
func validJSON(b []byte) bool {
	s := jsonScan{b: b}
	if _, ok := s.value(); ok && s.end() {
		return true
	}
	return json.Valid(b)
}

// compactJSON appends src, a valid JSON text, to dst without the whitespace outside
// its strings: what encoding/json writes for a json.RawMessage (without HTML escaping).
func compactJSON(dst, src []byte) []byte {
	start := 0
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '"':
			for i++; i < len(src) && src[i] != '"'; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case ' ', '\t', '\n', '\r':
			dst = append(dst, src[start:i]...)
			start = i + 1
		}
	}
	return append(dst, src[start:]...)
}
