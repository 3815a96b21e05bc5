package filter

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, that what it rejects it rejects with an
// *Error, and that what it accepts evaluates against any message without panicking.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"type": "a.b"}`, `{"payload": {"a": {"$gt": 1, "$lt": 5}}}`,
		`{"$or": [{"payload.tags": "x"}, {"$not": {"metadata.k": {"$in": ["v"]}}}]}`,
		`{"payload": {"s": {"$regex": "^a+$", "$startsWith": "a"}}}`,
		`{"payload.items.0.sku": {"$nin": [1, "2", null, true, [3], {"a": 4}]}}`,
		`{"payload": {"a": {"$exist": false}}}`, `{"payload": {"$or": [1, {"$gt": 2}]}}`,
	} {
		f.Add(seed, `{"a": [1, {"b": "c"}], "s": "aaa", "tags": ["x"]}`)
	}
	f.Fuzz(func(t *testing.T, filter, payload string) {
		flt, err := Parse([]byte(filter))
		if err != nil {
			if _, ok := errors.AsType[*Error](err); !ok {
				t.Fatalf("Parse(%q): error %v is a %T, want *Error", filter, err, err)
			}
			return
		}
		m := Message{Type: "a.b", Payload: json.RawMessage(payload), Metadata: map[string]string{"k": "v"}}
		got := flt.MatchMessage(m)
		if explained, _ := flt.Explain(m); explained != got {
			t.Fatalf("filter %q payload %q: Match %v, Explain %v", filter, payload, got, explained)
		}
		if _, err := Parse([]byte(flt.String())); err != nil {
			t.Fatalf("String() %q does not parse again: %v", flt.String(), err)
		}
	})
}
