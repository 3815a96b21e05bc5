package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
)

// FuzzDecode checks that the strict decoder never panics, and that it either accepts a
// JSON object or answers one of the documented 400 codes.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"url":"https://example.com","event_types":["a.*"],"headers":{"X":"y"},"max_concurrency":5,"rate_limit":1.5,"fifo":true}`,
		`{"url":null}`, `{"nope":1}`, `{"max_concurrency":1e3}`, `[]`, `null`, `{}`, `{} {}`, `{"metadata":{"k":1}}`, "",
		`{"description":"\u0000\ud800"}`, `{"url":"x","url":"y"}`, " \n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in endpointInput
		err := decodeJSON(body, true, &in)
		if err == nil {
			var obj map[string]json.RawMessage
			if len(bytes.TrimSpace(body)) > 0 && json.Unmarshal(body, &obj) != nil {
				t.Fatalf("accepted %q, which is not a JSON object", body)
			}
			return
		}
		ae, ok := errors.AsType[*apiError](err)
		if !ok {
			t.Fatalf("%q: error %v is not an API error", body, err)
		}
		switch ae.code {
		case codeMalformedJSON, codeUnknownField, codeWrongType:
		default:
			t.Fatalf("%q: code %s", body, ae.code)
		}
		if ae.status != http.StatusBadRequest || ae.message == "" {
			t.Fatalf("%q: %d %q", body, ae.status, ae.message)
		}
	})
}
