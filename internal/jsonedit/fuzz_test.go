package jsonedit

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzEdit parses any input and applies any assignment: a parsed document encodes to
// JSON that means the same as the input, and an edit never yields invalid JSON.
func FuzzEdit(f *testing.F) {
	f.Add([]byte(sample), "data.object.amount=5000")
	f.Add([]byte(`{"a":[1,{"b":null}]}`), `a.1.b.c:={"x":[1]}`)
	f.Add([]byte(`[]`), "-.a=1")
	f.Add([]byte(`{"k\u00e9y":"v\"q"}`), `k\.y="s"`)
	f.Fuzz(func(t *testing.T, data []byte, assignment string) {
		doc, err := Parse(data)
		if err != nil {
			return
		}
		out := doc.JSON()
		if !json.Valid(out) {
			t.Fatalf("Parse(%q).JSON() = %q, not valid JSON", data, out)
		}
		if !sameJSON(data, out) {
			t.Fatalf("Parse(%q).JSON() = %q, which means something else", data, out)
		}
		e, err := ParseSet(assignment)
		if err != nil {
			return
		}
		if err := doc.Apply(e); err != nil {
			return
		}
		if out := doc.JSON(); !json.Valid(out) {
			t.Fatalf("after %q: %q is not valid JSON", assignment, out)
		}
	})
}

func sameJSON(a, b []byte) bool {
	decode := func(data []byte) (any, error) {
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		var v any
		return v, d.Decode(&v)
	}
	va, errA := decode(a)
	vb, errB := decode(b)
	return errA == nil && errB == nil && reflect.DeepEqual(va, vb)
}
