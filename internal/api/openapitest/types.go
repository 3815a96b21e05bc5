package openapitest

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// Use says which way a Go type crosses the wire, for CheckType.
type Use int

const (
	// Answer is a type answers are encoded from or decoded into: every required
	// property must be encoded always (no omitempty).
	Answer Use = iota
	// Request is a type a client encodes a request body from: optional properties
	// are encoded only when set (omitempty or omitzero), so that a zero value the
	// caller did not mean is not sent. (A required one may be omitempty: absent or
	// empty, the server refuses it alike, and one type may serve create and update.)
	Request
	// Decoded is a type the server decodes a request body into: only the field
	// names and types are compared.
	Decoded
)

// CheckType reports every way the JSON form of the struct type t departs from the
// component schema name: a property without a field, a field without a property,
// a field whose type cannot hold the property's, and, as use says, omitempty where
// it must not be or is missing. Struct fields whose property is an object (or an
// array of objects) are checked against that property's schema too. Properties in
// except are left out, both ways.
func (v *Validator) CheckType(name string, t reflect.Type, use Use, except ...string) []error {
	ref := v.doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		return []error{fmt.Errorf("the document has no schema %s", name)}
	}
	var errs []error
	checkStruct(name, ref.Value, t, use, except, &errs)
	return errs
}

// field is one JSON field of a struct type.
type field struct {
	typ       reflect.Type
	omitEmpty bool // omitempty or omitzero
}

// jsonFields returns the JSON fields of the struct type t as encoding/json sees
// them, embedded structs flattened.
func jsonFields(t reflect.Type) map[string]field {
	fields := map[string]field{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(f.Type) {
				fields[k] = v
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		optList := strings.Split(opts, ",")
		fields[name] = field{typ: f.Type, omitEmpty: slices.Contains(optList, "omitempty") || slices.Contains(optList, "omitzero")}
	}
	return fields
}

// properties returns the properties and required names of an object schema,
// with an allOf of objects merged.
func properties(s *openapi3.Schema) (openapi3.Schemas, []string) {
	props := openapi3.Schemas{}
	required := slices.Clone(s.Required)
	for k, p := range s.Properties {
		props[k] = p
	}
	for _, part := range s.AllOf {
		if part.Value == nil {
			continue
		}
		pp, pr := properties(part.Value)
		for k, p := range pp {
			props[k] = p
		}
		required = append(required, pr...)
	}
	return props, required
}

func checkStruct(where string, s *openapi3.Schema, t reflect.Type, use Use, except []string, errs *[]error) {
	t = deref(t)
	if t.Kind() != reflect.Struct {
		*errs = append(*errs, fmt.Errorf("%s: %v is not a struct", where, t))
		return
	}
	props, required := properties(s)
	fields := jsonFields(t)
	var names []string
	for name := range props {
		names = append(names, name)
	}
	for name := range fields {
		if props[name] == nil {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		if slices.Contains(except, name) {
			continue
		}
		at := where + "." + name
		p, f := props[name], fields[name]
		switch {
		case p == nil:
			*errs = append(*errs, fmt.Errorf("%s: field %s.%s has no property in the document", at, t.Name(), name))
			continue
		case f.typ == nil:
			*errs = append(*errs, fmt.Errorf("%s: property has no field in %s", at, t.Name()))
			continue
		}
		req := slices.Contains(required, name)
		switch {
		case use == Answer && req && f.omitEmpty:
			*errs = append(*errs, fmt.Errorf("%s: required, but %s.%s is omitempty", at, t.Name(), name))
		case use == Request && !req && !f.omitEmpty:
			*errs = append(*errs, fmt.Errorf("%s: optional, but %s.%s is sent even when unset (no omitempty)", at, t.Name(), name))
		}
		checkValue(at, p.Value, f.typ, use, errs)
	}
}

var (
	timeType      = reflect.TypeFor[time.Time]()
	rawType       = reflect.TypeFor[json.RawMessage]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	textType      = reflect.TypeFor[encoding.TextMarshaler]()
)

// deref strips pointers and the server's optional-field wrappers such as opt[T]
// (structs with a set flag whose value is their field v).
func deref(t reflect.Type) reflect.Type {
	for {
		switch {
		case t.Kind() == reflect.Pointer:
			t = t.Elem()
		case t.Kind() == reflect.Struct && hasField(t, "set"):
			f, ok := t.FieldByName("v")
			if !ok {
				return t
			}
			t = f.Type
		default:
			return t
		}
	}
}

// hasField reports whether the struct type t has a field called name.
func hasField(t reflect.Type, name string) bool {
	_, ok := t.FieldByName(name)
	return ok
}

// checkValue reports whether a Go value of type t can hold what schema s describes.
func checkValue(at string, s *openapi3.Schema, t reflect.Type, use Use, errs *[]error) {
	if s == nil {
		return
	}
	t = deref(t)
	if t == rawType {
		return // any JSON
	}
	if len(s.AllOf) == 1 && s.Type == nil {
		s = s.AllOf[0].Value // a $ref with a description of its own
	}
	custom := t != timeType && (t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType) ||
		t.Implements(textType))
	bad := func() {
		*errs = append(*errs, fmt.Errorf("%s: %v cannot hold the document's %s", at, t, describe(s)))
	}
	switch {
	case s.Type == nil:
		// Any JSON value: only a raw message or an interface holds it.
		if t.Kind() != reflect.Interface {
			bad()
		}
	case s.Type.Is(openapi3.TypeString):
		if t.Kind() != reflect.String && t != timeType && !custom {
			bad()
		}
		if s.Format == "date-time" && t.Kind() == reflect.String && use != Decoded { // a decoder may parse it itself
			bad()
		}
	case s.Type.Is(openapi3.TypeInteger):
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		default:
			bad()
		}
	case s.Type.Is(openapi3.TypeNumber):
		if t.Kind() != reflect.Float64 && t.Kind() != reflect.Float32 {
			bad()
		}
	case s.Type.Is(openapi3.TypeBoolean):
		if t.Kind() != reflect.Bool {
			bad()
		}
	case s.Type.Is(openapi3.TypeArray):
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			bad()
			return
		}
		if s.Items != nil {
			checkValue(at+"[]", s.Items.Value, t.Elem(), use, errs)
		}
	case s.Type.Is(openapi3.TypeObject):
		switch {
		case t.Kind() == reflect.Map:
			if s.AdditionalProperties.Schema != nil {
				checkValue(at+"{}", s.AdditionalProperties.Schema.Value, t.Elem(), use, errs)
			}
		case t.Kind() == reflect.Struct && !custom:
			checkStruct(at, s, t, use, nil, errs)
		default:
			bad()
		}
	}
}

// describe names a schema's type for messages.
func describe(s *openapi3.Schema) string {
	if s.Type == nil {
		return "any value"
	}
	d := strings.Join(s.Type.Slice(), "|")
	if s.Format != "" {
		d += " (" + s.Format + ")"
	}
	return d
}

// Enum returns the enum of the property path of the component schema name, such
// as Enum("Endpoint", "state"), or of the schema itself with no path; nil if it has none.
func (v *Validator) Enum(name string, path ...string) []string {
	ref := v.doc.Components.Schemas[name]
	if ref == nil {
		return nil
	}
	s := ref.Value
	for _, p := range path {
		if s == nil {
			return nil
		}
		props, _ := properties(s)
		next := props[p]
		if next == nil {
			return nil
		}
		s = next.Value
		if s != nil && len(s.AllOf) == 1 && s.Type == nil {
			s = s.AllOf[0].Value
		}
	}
	if s == nil {
		return nil
	}
	var out []string
	for _, e := range s.Enum {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

// Enums returns every property of the component schema name (and of the object
// properties within it) that has an enum, as paths such as "error.code".
func (v *Validator) Enums(name string) []string {
	ref := v.doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		return nil
	}
	var out []string
	var walk func(prefix string, s *openapi3.Schema, depth int)
	walk = func(prefix string, s *openapi3.Schema, depth int) {
		if s == nil || depth > 4 {
			return
		}
		if len(s.AllOf) == 1 && s.Type == nil {
			s = s.AllOf[0].Value
		}
		if len(s.Enum) > 0 && prefix != "" {
			out = append(out, prefix)
		}
		props, _ := properties(s)
		for k, p := range props {
			path := k
			if prefix != "" {
				path = prefix + "." + k
			}
			walk(path, p.Value, depth+1)
		}
	}
	walk("", ref.Value, 0)
	sort.Strings(out)
	return out
}
