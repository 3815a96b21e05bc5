package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/httpbody"
)

// maxBodyBytes bounds every request body except a message's.
const maxBodyBytes = 1 << 20

// maxBatchBody bounds the body of a batch publish.
const maxBatchBody = 16 << 20

// envelopeBytes is what a message body may hold beyond its payload.
const envelopeBytes = 64 << 10

// readBody checks the Content-Type (JSON, when present) and returns the body, at most
// limit bytes of it.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/json" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, errorf(http.StatusUnsupportedMediaType, codeUnsupportedMedia, "Content-Type %q is not supported; send application/json", ct)
		}
	}
	body, err := httpbody.Read(http.MaxBytesReader(w, r.Body, limit), r.ContentLength)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, errorf(http.StatusRequestEntityTooLarge, codePayloadTooLarge, "the request body is larger than %d bytes", limit)
		}
		// A malformed chunked body, a client that went away or one too slow to send:
		// the client's doing, not a server error.
		return nil, errorf(http.StatusBadRequest, codeMalformedJSON, "the request body could not be read: %v", err)
	}
	return body, nil
}

// decodeBody reads a JSON object into v (a pointer to a struct), rejecting unknown
// fields, wrong types and trailing data. With optional set, an empty body leaves v as it is.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, optional bool, v any) error {
	body, err := readBody(w, r, limit)
	if err != nil {
		return err
	}
	return decodeJSON(body, optional, v)
}

// decodeJSON decodes body strictly into v; see decodeBody. A fastDecoder decodes its
// common form itself.
func decodeJSON(body []byte, optional bool, v any) error {
	if f, ok := v.(fastDecoder); ok && f.decodeFast(body) {
		return nil
	}
	return decodeStrict(body, optional, v)
}

// decodeStrict decodes body strictly into v with encoding/json; see decodeBody.
func decodeStrict(body []byte, optional bool, v any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		if optional {
			return nil
		}
		return errorf(http.StatusBadRequest, codeMalformedJSON, "the request body is empty; send a JSON object")
	}
	if !utf8.Valid(body) {
		return errorf(http.StatusBadRequest, codeMalformedJSON, "the request body is not valid UTF-8 (at offset %d)", invalidUTF8At(body))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if rest := bytes.TrimSpace(body[dec.InputOffset():]); len(rest) > 0 {
		return errorf(http.StatusBadRequest, codeMalformedJSON, "unexpected data after the JSON object at offset %d", dec.InputOffset())
	}
	if trimmed[0] != '{' {
		return errorf(http.StatusBadRequest, codeWrongType, "the request body must be a JSON object")
	}
	if key, path, ok := duplicateKey(body); ok {
		return errorf(http.StatusBadRequest, codeMalformedJSON, "duplicate key %q in %s: give each key once", key, path)
	}
	return nil
}

// invalidUTF8At returns the offset of the first byte of b that is not valid UTF-8.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// duplicateKey finds the first object key that appears twice in the same object of body,
// which must be valid JSON, and the path of that object (such as "messages[2].payload").
// Receivers and decoders disagree on which of the two wins, so neither is accepted.
func duplicateKey(body []byte) (key, path string, found bool) {
	type frame struct {
		keys   map[string]struct{} // nil for an array
		name   string              // the path of this value
		index  int                 // the next element's index, in an array
		key    string              // the last key read, in an object
		expect bool                // in an object: the next string is a key
	}
	var stack []*frame
	child := func() string {
		if len(stack) == 0 {
			return "the body"
		}
		f := stack[len(stack)-1]
		if f.keys == nil {
			return fmt.Sprintf("%s[%d]", f.name, f.index)
		}
		if f.name == "the body" {
			return f.key
		}
		return f.name + "." + f.key
	}
	for i := 0; i < len(body); i++ {
		switch c := body[i]; c {
		case '{':
			stack = append(stack, &frame{keys: map[string]struct{}{}, name: child(), expect: true})
		case '[':
			stack = append(stack, &frame{name: child()})
		case '}', ']':
			stack = stack[:len(stack)-1]
		case ',':
			if f := stack[len(stack)-1]; f.keys == nil {
				f.index++
			} else {
				f.expect = true
			}
		case '"':
			start := i
			escaped := false
			for i++; body[i] != '"'; i++ {
				if body[i] == '\\' {
					escaped = true
					i++
				}
			}
			if f := stack[len(stack)-1]; f.keys != nil && f.expect {
				k := string(body[start+1 : i])
				if escaped {
					_ = json.Unmarshal(body[start:i+1], &k)
				}
				if _, dup := f.keys[k]; dup {
					return k, f.name, true
				}
				f.keys[k], f.key, f.expect = struct{}{}, k, false
			}
		}
	}
	return "", "", false
}

// jsonError maps an encoding/json decoding error to the documented codes.
func jsonError(err error) error {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return errorf(http.StatusBadRequest, codeMalformedJSON, "invalid JSON at offset %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return errorf(http.StatusBadRequest, codeMalformedJSON, "invalid JSON: the body ends before the JSON value does")
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if te.Field == "" {
			return errorf(http.StatusBadRequest, codeWrongType, "the request body must be a JSON object, not %s", jsonKind(te.Value))
		}
		return errorf(http.StatusBadRequest, codeWrongType, "field %q must be %s; found %s", te.Field, jsonTypeName(te.Type), jsonKind(te.Value))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return errorf(http.StatusBadRequest, codeUnknownField, "unknown field %s", name)
	}
	return fmt.Errorf("decode request body: %w", err)
}

// jsonKind names the JSON value an UnmarshalTypeError saw ("number 1.5" → "a number (1.5)").
func jsonKind(value string) string {
	kind, detail, _ := strings.Cut(value, " ")
	switch kind {
	case "null":
		return "null"
	case "array", "object":
		kind = "an " + kind
	case "bool":
		kind = "a boolean"
	default:
		kind = "a " + kind
	}
	if detail != "" {
		return kind + " (" + detail + ")"
	}
	return kind
}

// jsonTypeName names the JSON type that decodes into t.
func jsonTypeName(t reflect.Type) string {
	if t == nil {
		return "a different type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Map:
		if t.Elem().Kind() == reflect.String {
			return "an object of strings"
		}
		return "an object"
	case reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.String {
			return "an array of strings"
		}
		return "an array"
	}
	return "a different type"
}

// opt is an optional request field: set reports whether the body had it. null is
// refused as the wrong type, so that a field is either absent or has a value.
type opt[T any] struct {
	set bool
	v   T
}

// setChecked copies o's value into dst when o is set and check accepts it.
func (o opt[T]) setChecked(dst *T, check func(T) error) error {
	if !o.set {
		return nil
	}
	if err := check(o.v); err != nil {
		return err
	}
	*dst = o.v
	return nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (o *opt[T]) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return &json.UnmarshalTypeError{Value: "null", Type: reflect.TypeFor[T]()}
	}
	if err := json.Unmarshal(b, &o.v); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			// Name the field's type, not that of the map value or array element that is wrong.
			return &json.UnmarshalTypeError{Value: te.Value, Type: reflect.TypeFor[T](), Offset: te.Offset}
		}
		return err
	}
	o.set = true
	return nil
}
