// Package jsonscan walks JSON documents without decoding them, for the webhook
// module's verifiers (to label authenticated deliveries) and its OpenAI event parser.
package jsonscan

import (
	"encoding/json"
	"unicode/utf8"
)

// TopLevelString returns the value of the string member key of the JSON object in body,
// scanning only as far as needed and without decoding the rest of the document.
// It reports false if body is not an object, the key is absent, or its value is not a string.
// It is deliberately forgiving: it is used to label a delivery that has already been
// authenticated, never to decide whether to accept it.
func TopLevelString(body []byte, key string) (string, bool) {
	s := Scanner{B: body}
	s.WS()
	if !s.Eat('{') {
		return "", false
	}
	for {
		s.WS()
		if s.Eat('}') {
			return "", false
		}
		k0, k1, escaped, ok := s.Str()
		if !ok {
			return "", false
		}
		s.WS()
		if !s.Eat(':') {
			return "", false
		}
		s.WS()
		match := !escaped && string(body[k0:k1]) == key
		if match && s.Peek() == '"' {
			v0, v1, vesc, ok := s.Str()
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
		if !s.Value() {
			return "", false
		}
		s.WS()
		if s.Eat(',') {
			continue
		}
		return "", false
	}
}

// Scanner is a forgiving JSON tokenizer over B from offset I. It never allocates and
// never fails loudly: run it only over valid JSON, or only to label trusted input.
type Scanner struct {
	B []byte
	I int
}

// WS skips whitespace.
func (s *Scanner) WS() {
	for s.I < len(s.B) {
		switch s.B[s.I] {
		case ' ', '\t', '\n', '\r':
			s.I++
		default:
			return
		}
	}
}

// Peek returns the next byte, or 0 at the end.
func (s *Scanner) Peek() byte {
	if s.I < len(s.B) {
		return s.B[s.I]
	}
	return 0
}

// Eat consumes c if it is the next byte and reports whether it was.
func (s *Scanner) Eat(c byte) bool {
	if s.I < len(s.B) && s.B[s.I] == c {
		s.I++
		return true
	}
	return false
}

// Str consumes a string and returns the bounds of its contents (without quotes).
func (s *Scanner) Str() (start, end int, escaped, ok bool) {
	if !s.Eat('"') {
		return 0, 0, false, false
	}
	start = s.I
	for s.I < len(s.B) {
		switch s.B[s.I] {
		case '"':
			end = s.I
			s.I++
			return start, end, escaped, true
		case '\\':
			escaped = true
			s.I += 2
		default:
			s.I++
		}
	}
	return 0, 0, false, false
}

// Value skips one JSON value of any kind.
func (s *Scanner) Value() bool {
	switch s.Peek() {
	case '"':
		_, _, _, ok := s.Str()
		return ok
	case '{', '[':
		depth := 0
		for s.I < len(s.B) {
			switch s.B[s.I] {
			case '"':
				if _, _, _, ok := s.Str(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.I++
					return true
				}
			}
			s.I++
		}
		return false
	case 0:
		return false
	default: // number, true, false, null
		start := s.I
		for s.I < len(s.B) {
			switch s.B[s.I] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return s.I > start
			}
			s.I++
		}
		return s.I > start
	}
}

// DescribeJSON names the kind of a valid JSON value, for error messages.
func DescribeJSON(raw []byte) string {
	if len(raw) == 0 {
		return "empty"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	if len(raw) > 24 {
		return "a number"
	}
	return "the number " + string(raw)
}
