package main

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// unknownMembers returns the paths of the members of the JSON document raw that the
// Go type of v has no field for, following structs (their json tags, embedded
// structs included), pointers, slices and maps; a string where a struct is expected
// is a Stripe-style unexpanded id and is accepted. Names in extra are accepted:
// "name" anywhere, "parent.name" under a member called parent; they are fields a
// provider sends that its SDK does not model.
func unknownMembers(raw []byte, v any, extra map[string]bool) []string {
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return []string{"(not JSON: " + err.Error() + ")"}
	}
	var out []string
	walkMembers(doc, reflect.TypeOf(v), "", extra, &out)
	sort.Strings(out)
	return out
}

func walkMembers(doc any, t reflect.Type, path string, extra map[string]bool, out *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := doc.(map[string]any)
		if !ok {
			return // a scalar for a struct: an id, a timestamp
		}
		fields := jsonFields(t)
		for k, val := range obj {
			ft, ok := fields[k]
			if !ok {
				ft, ok = fields[strings.ToLower(k)]
			}
			if !ok {
				if !extra[k] && !extra[parent(path)+k] {
					*out = append(*out, path+k)
				}
				continue
			}
			walkMembers(val, ft, path+k+".", extra, out)
		}
	case reflect.Slice, reflect.Array:
		if arr, ok := doc.([]any); ok && t.Elem().Kind() != reflect.Uint8 {
			for _, item := range arr {
				walkMembers(item, t.Elem(), path+"[]"+".", extra, out)
			}
		}
	case reflect.Map:
		if obj, ok := doc.(map[string]any); ok {
			for k, val := range obj {
				walkMembers(val, t.Elem(), path+k+".", extra, out)
			}
		}
	}
}

// parent returns the last member name of a path "a.b." with its dot ("b."), or "".
func parent(path string) string {
	p := strings.TrimSuffix(path, ".")
	return p[strings.LastIndexByte(p, '.')+1:] + "."
}

// jsonFields maps a struct's JSON member names to field types, as encoding/json
// reads them: tags, untagged exported names (also lower-cased, for its
// case-insensitive match) and the fields of embedded structs.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			for k, v := range jsonFields(ft) {
				if _, ok := fields[k]; !ok {
					fields[k] = v
				}
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
			fields[strings.ToLower(name)] = f.Type
		}
		fields[name] = f.Type
	}
	return fields
}

func TestUnknownMembers(t *testing.T) {
	type inner struct {
		A int `json:"a"`
	}
	type Embedded struct {
		E string `json:"e"`
	}
	type outer struct {
		Embedded
		ID    string            `json:"id"`
		In    *inner            `json:"in"`
		List  []inner           `json:"list"`
		Map   map[string]inner  `json:"map"`
		Any   map[string]any    `json:"any"`
		Raw   json.RawMessage   `json:"raw"`
		Plain string            // untagged: "Plain" or "plain"
		Skip  string            `json:"-"`
		Tags  map[string]string `json:"tags"`
	}
	cases := []struct {
		doc  string
		want string
	}{
		{`{"id":"x","e":"y","in":{"a":1},"list":[{"a":1}],"map":{"k":{"a":1}},"any":{"z":1},"raw":{"q":1},"plain":"p","tags":{"t":"v"}}`, ""},
		{`{"in":"in_123"}`, ""}, // an unexpanded id
		{`{"nope":1}`, "nope"},
		{`{"in":{"b":1}}`, "in.b"},
		{`{"list":[{"a":1},{"c":1}]}`, "list.[].c"},
		{`{"map":{"k":{"d":1}}}`, "map.k.d"},
		{`{"Skip":"x"}`, "Skip"},
		{`{"forks":1}`, ""},                 // in extra
		{`{"in":{"a":1,"x":1}}`, ""},        // in.x is in extra
		{`{"list":[{"x":1}]}`, "list.[].x"}, // x is allowed under in only
	}
	for _, c := range cases {
		got := strings.Join(unknownMembers([]byte(c.doc), &outer{}, map[string]bool{"forks": true, "in.x": true}), ",")
		if got != c.want {
			t.Errorf("%s: unknown %q, want %q", c.doc, got, c.want)
		}
	}
}
