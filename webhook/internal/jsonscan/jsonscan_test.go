package jsonscan

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func FuzzTopLevelString(f *testing.F) {
	f.Add([]byte(`{"type":"response.completed","id":"evt_1"}`), "type")
	f.Add([]byte(`{"data":{"type":"inner"},"type":"outer"}`), "type")
	f.Add([]byte(`{"type":"a\u00e9\n\"b"}`), "type")
	f.Add([]byte(`{"type":null}`), "type")
	f.Add([]byte(`{"a":[1,{"b":"}"}],"type":"x"}`), "type")
	f.Add([]byte(`{"type":"x","type":"y"}`), "type")
	f.Add([]byte(" \n{ \"id\" : \"evt_2\" } "), "id")
	f.Add([]byte(`["type","x"]`), "type")
	f.Add([]byte(`{"type":"\`), "type")
	f.Add([]byte(`{"test": 2432232314}`), "id")
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		got, ok := TopLevelString(body, key)
		if ok && !utf8.ValidString(got) {
			t.Fatalf("topLevelString = %q, not UTF-8", got)
		}
		if !ok && got != "" {
			t.Fatalf("topLevelString = %q, false", got)
		}
		// On plain valid JSON it must agree with encoding/json (first occurrence wins).
		if json.Valid(body) && utf8.Valid(body) && bytes.IndexByte(body, '\\') < 0 {
			want, wantOK := refTopLevelString(body, key)
			if got != want || ok != wantOK {
				t.Fatalf("topLevelString(%q, %q) = %q, %v; encoding/json says %q, %v", body, key, got, ok, want, wantOK)
			}
		}
	})
}

// refTopLevelString is topLevelString written with encoding/json's tokenizer.
func refTopLevelString(body []byte, key string) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", false
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return "", false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return "", false
		}
		if k == key {
			var s string
			if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
				return "", false
			}
			return s, true
		}
	}
	return "", false
}
