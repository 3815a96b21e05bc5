// Package jsonedit edits a JSON document by dotted paths ("data.object.amount",
// "items.0.name") while keeping its members in their original order and every
// untouched number and string byte for byte as it was written.
//
// A path is a list of segments separated by dots. A segment names an object member,
// or indexes an array: "0", "1", ... or "-" for a new element at the end. A dot,
// equals sign, colon or backslash inside a member name is escaped with a backslash
// ("metadata.order\.id").
package jsonedit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// MaxDepth is how deeply objects and arrays may nest in a document Parse accepts.
const MaxDepth = 1000

// Doc is a parsed JSON document that can be edited and encoded again.
type Doc struct {
	root node
}

// node is one JSON value: *object, *array, or a scalar kept as its raw JSON text (raw).
type node any

type object struct{ members []member }

type member struct {
	key string
	val node
}

type array struct{ items []node }

// raw is the JSON text of a string, number, boolean or null, exactly as it was written.
type raw []byte

// Parse parses one JSON value. Duplicate member names are kept, as they were written.
func Parse(data []byte) (*Doc, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	p := parser{dec: dec, data: data}
	root, err := p.value(0)
	if err != nil {
		return nil, fmt.Errorf("parse JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("parse JSON: more than one value (at byte %d)", dec.InputOffset())
	}
	return &Doc{root: root}, nil
}

type parser struct {
	dec  *json.Decoder
	data []byte
}

// value reads the next value. Scalars keep their raw text: the bytes between the
// previous token's end and this one's, less the separators and white space.
func (p *parser) value(depth int) (node, error) {
	start := p.dec.InputOffset()
	tok, err := p.dec.Token()
	if err == io.EOF {
		return nil, errors.New("unexpected end of input")
	}
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		if depth >= MaxDepth {
			return nil, fmt.Errorf("nested deeper than %d levels", MaxDepth)
		}
		return p.object(depth + 1)
	case json.Delim('['):
		if depth >= MaxDepth {
			return nil, fmt.Errorf("nested deeper than %d levels", MaxDepth)
		}
		return p.array(depth + 1)
	case json.Delim('}'), json.Delim(']'):
		return nil, fmt.Errorf("unexpected %v at byte %d", tok, p.dec.InputOffset())
	}
	text := bytes.TrimLeft(p.data[start:p.dec.InputOffset()], " \t\r\n,:")
	return raw(text), nil
}

func (p *parser) object(depth int) (node, error) {
	o := &object{}
	for p.dec.More() {
		tok, err := p.dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("want a member name at byte %d", p.dec.InputOffset())
		}
		val, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		o.members = append(o.members, member{key: key, val: val})
	}
	if _, err := p.dec.Token(); err != nil { // '}'
		return nil, err
	}
	return o, nil
}

func (p *parser) array(depth int) (node, error) {
	a := &array{}
	for p.dec.More() {
		val, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		a.items = append(a.items, val)
	}
	if _, err := p.dec.Token(); err != nil { // ']'
		return nil, err
	}
	return a, nil
}

// JSON returns the document as compact JSON.
func (d *Doc) JSON() []byte {
	var b bytes.Buffer
	writeNode(&b, d.root)
	return b.Bytes()
}

func writeNode(b *bytes.Buffer, n node) {
	switch v := n.(type) {
	case *object:
		b.WriteByte('{')
		for i, m := range v.members {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, m.key)
			b.WriteByte(':')
			writeNode(b, m.val)
		}
		b.WriteByte('}')
	case *array:
		b.WriteByte('[')
		for i, item := range v.items {
			if i > 0 {
				b.WriteByte(',')
			}
			writeNode(b, item)
		}
		b.WriteByte(']')
	case raw:
		b.Write(v)
	}
}

// writeString writes s as a JSON string without escaping <, > and &, as most senders do.
func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	b.Truncate(b.Len() - 1)
}

// Field is one top-level member of an object document.
type Field struct {
	Name string
	// Value is the member's JSON text; String is its value if it is a JSON string.
	Value    []byte
	String   string
	IsString bool
}

// Fields returns the members of an object document in order, for encoding it as a form.
func (d *Doc) Fields() ([]Field, error) {
	o, ok := d.root.(*object)
	if !ok {
		return nil, fmt.Errorf("the document is %s, want an object", kind(d.root))
	}
	fields := make([]Field, 0, len(o.members))
	for _, m := range o.members {
		var b bytes.Buffer
		writeNode(&b, m.val)
		f := Field{Name: m.key, Value: b.Bytes()}
		if r, ok := m.val.(raw); ok && len(r) > 0 && r[0] == '"' {
			f.IsString = json.Unmarshal(r, &f.String) == nil
		}
		fields = append(fields, f)
	}
	return fields, nil
}

// Get returns the JSON text at path, and whether it exists.
func (d *Doc) Get(path string) ([]byte, bool) {
	segs, err := ParsePath(path)
	if err != nil {
		return nil, false
	}
	n := d.root
	for _, seg := range segs {
		switch c := n.(type) {
		case *object:
			i := c.find(seg)
			if i < 0 {
				return nil, false
			}
			n = c.members[i].val
		case *array:
			i, err := strconv.Atoi(seg)
			if err != nil || !isIndex(seg) || i >= len(c.items) {
				return nil, false
			}
			n = c.items[i]
		default:
			return nil, false
		}
	}
	var b bytes.Buffer
	writeNode(&b, n)
	return b.Bytes(), true
}

// kind names the JSON type of n for error messages.
func kind(n node) string {
	switch v := n.(type) {
	case *object:
		return "an object"
	case *array:
		return "an array"
	case raw:
		switch {
		case len(v) == 0:
			return "empty"
		case v[0] == '"':
			return "a string"
		case v[0] == 't' || v[0] == 'f':
			return "a boolean"
		case v[0] == 'n':
			return "null"
		}
		return "a number"
	}
	return "empty"
}
