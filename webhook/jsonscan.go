package webhook

import (
	"encoding/json"
	"unicode/utf8"
)

// topLevelString returns the value of the string member key of the JSON object in body,
// scanning only as far as needed and without decoding the rest of the document.
// It reports false if body is not an object, the key is absent, or its value is not a string.
// It is deliberately forgiving: it is used to label a delivery that has already been
// authenticated, never to decide whether to accept it.
func topLevelString(body []byte, key string) (string, bool) {
	s := scanner{b: body}
	s.ws()
	if !s.eat('{') {
		return "", false
	}
	for {
		s.ws()
		if s.eat('}') {
			return "", false
		}
		k0, k1, escaped, ok := s.str()
		if !ok {
			return "", false
		}
		s.ws()
		if !s.eat(':') {
			return "", false
		}
		s.ws()
		match := !escaped && string(body[k0:k1]) == key
		if match && s.peek() == '"' {
			v0, v1, vesc, ok := s.str()
			if !ok {
				return "", false
			}
			if !vesc {
				raw := body[v0:v1]
				if !utf8.Valid(raw) {
					return "", false
				}
				return string(raw), true
			}
			var out string
			if json.Unmarshal(body[v0-1:v1+1], &out) != nil {
				return "", false
			}
			return out, true
		}
		if match {
			return "", false
		}
		if !s.value() {
			return "", false
		}
		s.ws()
		if s.eat(',') {
			continue
		}
		return "", false
	}
}

type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str consumes a string and returns the bounds of its contents (without quotes).
func (s *scanner) str() (start, end int, escaped, ok bool) {
	if !s.eat('"') {
		return 0, 0, false, false
	}
	start = s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			end = s.i
			s.i++
			return start, end, escaped, true
		case '\\':
			escaped = true
			s.i += 2
		default:
			s.i++
		}
	}
	return 0, 0, false, false
}

// value skips one JSON value of any kind.
func (s *scanner) value() bool {
	switch s.peek() {
	case '"':
		_, _, _, ok := s.str()
		return ok
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if _, _, _, ok := s.str(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return true
				}
			}
			s.i++
		}
		return false
	case 0:
		return false
	default: // number, true, false, null
		start := s.i
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return s.i > start
			}
			s.i++
		}
		return s.i > start
	}
}
