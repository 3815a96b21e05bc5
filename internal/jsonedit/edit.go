package jsonedit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Edit is one change to a document: set the value at Path, or remove it.
type Edit struct {
	Path  string
	Value []byte // compact JSON; nil for an unset
	Unset bool
}

// ParseSet parses a "path=value" or "path:=json" assignment.
//
// After "=", a value that is valid JSON (a number, true, false, null, an object, an
// array or a quoted string) is taken as that JSON, and any other text as a string:
// "amount=5000" is a number, "name=Jo" and "zip=02134" are strings, and a quoted
// value ('id="123"') forces a string. After ":=" the value must be valid JSON, so a
// mistyped object or number is an error instead of a string.
func ParseSet(arg string) (Edit, error) {
	eq := unescapedIndex(arg, '=')
	if eq < 0 {
		return Edit{}, fmt.Errorf("%q: want path=value", arg)
	}
	path, text, strict := arg[:eq], arg[eq+1:], false
	if endsWithUnescaped(path, ':') {
		path, strict = path[:len(path)-1], true
	}
	if _, err := ParsePath(path); err != nil {
		return Edit{}, fmt.Errorf("%q: %w", arg, err)
	}
	value, err := parseValue(text, strict)
	if err != nil {
		return Edit{}, fmt.Errorf("%q: %w", arg, err)
	}
	return Edit{Path: path, Value: value}, nil
}

// ParseUnset parses the path of an unset.
func ParseUnset(path string) (Edit, error) {
	segs, err := ParsePath(path)
	if err != nil {
		return Edit{}, fmt.Errorf("%q: %w", path, err)
	}
	if segs[len(segs)-1] == "-" {
		return Edit{}, fmt.Errorf("%q: \"-\" (a new element) cannot be unset", path)
	}
	return Edit{Path: path, Unset: true}, nil
}

func parseValue(text string, strict bool) ([]byte, error) {
	if json.Valid([]byte(text)) {
		var b bytes.Buffer
		if err := json.Compact(&b, []byte(text)); err != nil {
			return nil, err
		}
		doc, err := Parse(b.Bytes()) // applies MaxDepth
		if err != nil {
			return nil, fmt.Errorf("value: %w", err)
		}
		return doc.JSON(), nil
	}
	if strict {
		return nil, fmt.Errorf("%q is not valid JSON (after := the value must be JSON; use = for text)", text)
	}
	var b bytes.Buffer
	writeString(&b, text)
	return b.Bytes(), nil
}

// unescapedIndex returns the index of the first c not preceded by a backslash escape.
func unescapedIndex(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case c:
			return i
		}
	}
	return -1
}

// endsWithUnescaped reports whether s ends with c and that c is not escaped.
func endsWithUnescaped(s string, c byte) bool {
	if !strings.HasSuffix(s, string(c)) {
		return false
	}
	n := 0
	for i := len(s) - 2; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 0
}

// ParsePath splits a dotted path into its segments, resolving backslash escapes.
func ParsePath(path string) ([]string, error) {
	if path == "" {
		return nil, errors.New("empty path")
	}
	var segs []string
	var seg strings.Builder
	for i := 0; i < len(path); i++ {
		switch c := path[i]; c {
		case '\\':
			if i+1 == len(path) || !strings.ContainsRune(`.=:\`, rune(path[i+1])) {
				return nil, fmt.Errorf("path %q: a backslash escapes only . = : or \\", path)
			}
			i++
			seg.WriteByte(path[i])
		case '.':
			if seg.Len() == 0 {
				return nil, fmt.Errorf("path %q: empty segment", path)
			}
			segs = append(segs, seg.String())
			seg.Reset()
		default:
			seg.WriteByte(c)
		}
	}
	if seg.Len() == 0 {
		return nil, fmt.Errorf("path %q: empty segment", path)
	}
	return append(segs, seg.String()), nil
}

// isIndex reports whether seg is an array index: digits without a leading zero.
func isIndex(seg string) bool {
	if seg == "" || (len(seg) > 1 && seg[0] == '0') {
		return false
	}
	for i := 0; i < len(seg); i++ {
		if seg[i] < '0' || seg[i] > '9' {
			return false
		}
	}
	return true
}

// Apply makes one edit.
func (d *Doc) Apply(e Edit) error {
	if e.Unset {
		return d.Unset(e.Path)
	}
	v, err := Parse(e.Value)
	if err != nil {
		return fmt.Errorf("set %s: %w", e.Path, err)
	}
	return d.Set(e.Path, v)
}

// Set puts value at path. Missing members on the way are created: an array if the
// next segment is an index, an object otherwise; null is replaced the same way.
// An index may be an existing element, or the length of the array ("-") to append.
func (d *Doc) Set(path string, value *Doc) error {
	segs, err := ParsePath(path)
	if err != nil {
		return err
	}
	root, err := set(d.root, segs, 0, value.root)
	if err != nil {
		return err
	}
	d.root = root
	return nil
}

// set returns n with value placed at segs[i:]. A nil n stands for a missing member.
func set(n node, segs []string, i int, value node) (node, error) {
	if i == len(segs) {
		return value, nil
	}
	seg := segs[i]
	if n == nil || kind(n) == "null" {
		if isIndex(seg) || seg == "-" {
			n = &array{}
		} else {
			n = &object{}
		}
	}
	switch c := n.(type) {
	case *object:
		j := c.find(seg)
		var child node
		if j >= 0 {
			child = c.members[j].val
		}
		child, err := set(child, segs, i+1, value)
		if err != nil {
			return nil, err
		}
		if j >= 0 {
			c.members[j].val = child
		} else {
			c.members = append(c.members, member{key: seg, val: child})
		}
		return c, nil
	case *array:
		j, err := c.index(segs, i, true)
		if err != nil {
			return nil, err
		}
		var child node
		if j < len(c.items) {
			child = c.items[j]
		}
		child, err = set(child, segs, i+1, value)
		if err != nil {
			return nil, err
		}
		if j < len(c.items) {
			c.items[j] = child
		} else {
			c.items = append(c.items, child)
		}
		return c, nil
	}
	return nil, fmt.Errorf("%s is %s, not an object or array", joinPath(segs[:i]), kind(n))
}

// Unset removes the member or element at path; it is an error if there is none.
func (d *Doc) Unset(path string) error {
	segs, err := ParsePath(path)
	if err != nil {
		return err
	}
	n := d.root
	for i, seg := range segs {
		last := i == len(segs)-1
		switch c := n.(type) {
		case *object:
			j := c.find(seg)
			if j < 0 {
				return fmt.Errorf("%s: no such member", joinPath(segs[:i+1]))
			}
			if last {
				c.remove(seg)
				return nil
			}
			n = c.members[j].val
		case *array:
			j, err := c.index(segs, i, false)
			if err != nil {
				return err
			}
			if last {
				c.items = append(c.items[:j], c.items[j+1:]...)
				return nil
			}
			n = c.items[j]
		default:
			return fmt.Errorf("%s is %s, not an object or array", joinPath(segs[:i]), kind(n))
		}
	}
	return nil // not reached: ParsePath returns at least one segment
}

// find returns the index of the last member named key (the one JSON decoders keep), or -1.
func (o *object) find(key string) int {
	for i := len(o.members) - 1; i >= 0; i-- {
		if o.members[i].key == key {
			return i
		}
	}
	return -1
}

// remove deletes every member named key.
func (o *object) remove(key string) {
	kept := o.members[:0]
	for _, m := range o.members {
		if m.key != key {
			kept = append(kept, m)
		}
	}
	o.members = kept
}

// index resolves segs[i] against the array; appending (index == length, or "-") is
// allowed only when grow is set.
func (a *array) index(segs []string, i int, grow bool) (int, error) {
	seg := segs[i]
	if seg == "-" && grow {
		return len(a.items), nil
	}
	if !isIndex(seg) {
		want := "0, 1, ..."
		if grow {
			want += ` or "-" to append`
		}
		return 0, fmt.Errorf("%s is an array: want an index (%s), got %q", joinPath(segs[:i]), want, seg)
	}
	j, err := strconv.Atoi(seg)
	limit := len(a.items)
	if grow {
		limit++
	}
	if err != nil || j >= limit {
		return 0, fmt.Errorf("%s: index %s out of range (the array has %d elements)", joinPath(segs[:i+1]), seg, len(a.items))
	}
	return j, nil
}

// joinPath formats segments as a path again, escaping what needs it; the root is "the document".
func joinPath(segs []string) string {
	if len(segs) == 0 {
		return "the document"
	}
	r := strings.NewReplacer(`\`, `\\`, `.`, `\.`, `=`, `\=`, `:`, `\:`)
	parts := make([]string, len(segs))
	for i, s := range segs {
		parts[i] = r.Replace(s)
	}
	return strings.Join(parts, ".")
}
