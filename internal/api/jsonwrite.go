package api

import (
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/jsontime"
)

// jsonAppender is an answer that writes its own JSON without reflection: byte for byte
// what writeJSON's encoder (encoding/json, without HTML escaping) writes for it, which
// FuzzMessageJSON checks. The publish answers are, since every message gets one.
type jsonAppender interface {
	appendJSON(dst []byte) []byte
	jsonSize() int // an estimate of the length, to size the buffer once
}

// writeAppended is writeJSON for a jsonAppender.
func writeAppended(w http.ResponseWriter, status int, v jsonAppender) {
	b := v.appendJSON(make([]byte, 0, v.jsonSize()+1))
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// appendJSON implements jsonAppender. m.Payload must be valid JSON, as toMessageJSON
// makes it.
func (m messageJSON) appendJSON(b []byte) []byte {
	return append(m.appendFields(b), '}')
}

// appendFields writes m as a JSON object without its closing brace.
func (m *messageJSON) appendFields(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, m.ID)
	b = append(b, `,"app_id":`...)
	b = appendJSONString(b, m.AppID)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, m.Type)
	b = append(b, `,"payload":`...)
	if len(m.Payload) == 0 {
		b = append(b, "null"...)
	} else {
		b = compactJSON(b, m.Payload)
	}
	if m.PayloadEncoding != "" {
		b = append(b, `,"payload_encoding":`...)
		b = appendJSONString(b, m.PayloadEncoding)
	}
	if m.IdempotencyKey != "" {
		b = append(b, `,"idempotency_key":`...)
		b = appendJSONString(b, m.IdempotencyKey)
	}
	if m.SourceID != "" {
		b = append(b, `,"source_id":`...)
		b = appendJSONString(b, m.SourceID)
	}
	if len(m.Headers) > 0 {
		b = append(b, `,"headers":`...)
		b = appendStringMap(b, m.Headers)
	}
	b = append(b, `,"created_at":`...)
	b = jsontime.Append(b, time.Time(m.CreatedAt))
	if m.Deliveries != nil {
		b = append(b, `,"deliveries":`...)
		b = strconv.AppendInt(b, int64(*m.Deliveries), 10)
	}
	return b
}

// jsonSize implements jsonAppender.
func (m messageJSON) jsonSize() int {
	n := 256 + len(m.Payload) + len(m.Type) + len(m.IdempotencyKey)
	for k, v := range m.Headers {
		n += len(k) + len(v) + 8
	}
	return n
}

// batchAnswerJSON is the answer to a batch publish: {"data": [...]}.
type batchAnswerJSON struct {
	Data []batchResultJSON `json:"data"`
}

// jsonSize implements jsonAppender.
func (a batchAnswerJSON) jsonSize() int {
	n := 16
	for i := range a.Data {
		n += a.Data[i].jsonSize()
	}
	return n
}

// appendJSON implements jsonAppender.
func (a batchAnswerJSON) appendJSON(b []byte) []byte {
	if a.Data == nil {
		return append(b, `{"data":null}`...)
	}
	b = append(b, `{"data":[`...)
	for i := range a.Data {
		if i > 0 {
			b = append(b, ',')
		}
		b = a.Data[i].appendJSON(b)
	}
	return append(b, "]}"...)
}

// appendJSON implements jsonAppender (and hides messageJSON's, which would drop
// Duplicate).
func (r batchResultJSON) appendJSON(b []byte) []byte {
	b = r.appendFields(b)
	b = append(b, `,"duplicate":`...)
	b = strconv.AppendBool(b, r.Duplicate)
	return append(b, '}')
}

// jsonSize implements jsonAppender.
func (r batchResultJSON) jsonSize() int { return r.messageJSON.jsonSize() + 24 }

// appendStringMap writes m as a JSON object with its keys sorted, as encoding/json does.
func appendStringMap(b []byte, m map[string]string) []byte {
	var arr [16]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, m[k])
	}
	return append(b, '}')
}

// appendJSONString writes s as a JSON string exactly as encoding/json does without HTML
// escaping: short escapes for \b \f \n \r \t, \u00XX for other control characters,
// \ufffd for each byte of invalid UTF-8, and \u2028 and \u2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
