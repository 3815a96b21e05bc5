package filter

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// node is one compiled part of a filter. eval reports whether d matches it; when r is
// not nil, it also records why.
type node interface {
	eval(d *Doc, r *explainer) bool
}

// andNode holds when every child holds.
type andNode struct {
	children []node
}

func (n *andNode) eval(d *Doc, r *explainer) bool {
	for _, c := range n.children {
		if !c.eval(d, r) {
			return false
		}
	}
	return true
}

// orNode holds when any child holds.
type orNode struct {
	children []node
	path     string // in the filter, for reasons
}

func (n *orNode) eval(d *Doc, r *explainer) bool {
	for i, c := range n.children {
		if c.eval(d, r) {
			r.addf("%s: true (alternative %d of %d holds)", n.path, i+1, len(n.children))
			return true
		}
	}
	r.addf("%s: false (none of its %d alternatives holds)", n.path, len(n.children))
	return false
}

// notNode holds when its inner node does not.
type notNode struct {
	inner node
	path  string // in the filter, for reasons
}

func (n *notNode) eval(d *Doc, r *explainer) bool {
	if n.inner.eval(d, r) {
		r.addf("%s: false (the condition inside holds)", n.path)
		return false
	}
	r.addf("%s: true (the condition inside does not hold)", n.path)
	return true
}

// leafNode tests the values at one field of the message.
type leafNode struct {
	field   []string // message path: RootType, RootPayload or RootMetadata, then fields
	path    string   // field joined with dots, for reasons
	op      string   // as written: $eq, $neq, $in, $nin...
	operand any      // as written, for reasons
	want    scalar   // the operand of comparisons and string tests
	set     []scalar // the values of $in and $nin
	substr  bool     // $in or $nin with a string: a substring test
	exist   bool     // the operand of $exist
	re      interface{ MatchString(string) bool }
}

func (l *leafNode) eval(d *Doc, r *explainer) bool {
	if r == nil {
		switch l.op {
		case "$exist":
			return d.each(l.field, present{}) == l.exist
		case "$neq", "$nin":
			return !d.each(l.field, l)
		}
		return d.each(l.field, l)
	}
	rec := &recorder{l: l}
	hit := d.each(l.field, rec)
	first, found := rec.first, rec.found
	var ok bool
	switch l.op {
	case "$exist":
		ok = found == l.exist
	case "$neq", "$nin":
		ok = !hit
	default:
		ok = hit
	}
	seen := l.path + " is absent"
	if found {
		seen = l.path + " is " + show(first)
		if hint := l.typeHint(first); !hit && hint != "" {
			seen += "; " + hint
		}
	}
	r.addf("%s %s %s: %t (%s)", l.path, l.op, show(l.operand), ok, seen)
	return ok
}

// tester tests one value found at a field.
type tester interface {
	test(v any) bool
}

// present is the test of $exist: any value at all.
type present struct{}

func (present) test(any) bool { return true }

// recorder tests values like its leaf and remembers the first value seen, for reasons.
type recorder struct {
	l     *leafNode
	first any
	found bool
}

func (r *recorder) test(v any) bool {
	if !r.found {
		r.first, r.found = v, true
	}
	return r.l.op == "$exist" || r.l.test(v)
}

// test reports whether one value at the field passes the positive form of the operator
// ($eq for $neq, $in for $nin).
func (l *leafNode) test(v any) bool {
	switch l.op {
	case "$eq", "$neq":
		return equal(v, l.want.v)
	case "$gt", "$gte", "$lt", "$lte":
		c, ok := compare(v, &l.want)
		if !ok {
			return false
		}
		switch l.op {
		case "$gt":
			return c > 0
		case "$gte":
			return c >= 0
		case "$lt":
			return c < 0
		}
		return c <= 0
	case "$in", "$nin":
		if l.substr {
			s, ok := v.(string)
			return ok && strings.Contains(s, l.want.s)
		}
		for i := range l.set {
			if equal(v, l.set[i].v) {
				return true
			}
		}
		return false
	case "$startsWith":
		s, ok := v.(string)
		return ok && strings.HasPrefix(s, l.want.s)
	case "$endsWith":
		s, ok := v.(string)
		return ok && strings.HasSuffix(s, l.want.s)
	case "$regex":
		s, ok := v.(string)
		return ok && l.re.MatchString(s)
	}
	return false
}

// typeHint says why a value of the wrong type cannot pass the operator, or "".
func (l *leafNode) typeHint(v any) string {
	if _, isArr := v.([]any); isArr {
		return ""
	}
	switch l.op {
	case "$gt", "$gte", "$lt", "$lte":
		if _, ok := compare(v, &l.want); !ok {
			if l.want.isNum {
				return fmt.Sprintf("%s is %s and %s compares numbers", l.path, kindOf(v), l.op)
			}
			return fmt.Sprintf("%s is %s and %s compares strings", l.path, kindOf(v), l.op)
		}
	case "$startsWith", "$endsWith", "$regex":
		if _, ok := v.(string); !ok {
			return fmt.Sprintf("%s is %s and %s tests strings", l.path, kindOf(v), l.op)
		}
	}
	return ""
}

// each tests each value at field of the message — the value itself and, if it
// is an array, each element — until t's test returns true, and reports whether it did.
// Arrays met on the way are searched element by element (and by index, for a numeric
// field name), so "payload.items.sku" reaches the sku of every item.
func (d *Doc) each(field []string, t tester) bool {
	switch field[0] {
	case RootType:
		if d.typ == nil {
			d.typ = d.msg.Type // boxed once, not on every test
		}
		return t.test(d.typ)
	case RootMetadata:
		if d.msg.Metadata == nil {
			return false
		}
		if d.meta == nil {
			d.meta = make(map[string]any, len(d.msg.Metadata))
			for k, v := range d.msg.Metadata {
				d.meta[k] = v
			}
		}
		if len(field) == 1 {
			return t.test(d.meta)
		}
		v, ok := d.meta[field[1]]
		return ok && t.test(v)
	case RootPayload:
		v, ok := d.payloadValue()
		return ok && walk(v, field[1:], t)
	}
	return false
}

// walk tests the values at path under v; see Doc.each.
func walk(v any, path []string, t tester) bool {
	if len(path) == 0 {
		if t.test(v) {
			return true
		}
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				if t.test(e) {
					return true
				}
			}
		}
		return false
	}
	switch x := v.(type) {
	case map[string]any:
		next, ok := x[path[0]]
		return ok && walk(next, path[1:], t)
	case []any:
		if i, ok := index(path[0]); ok && i < len(x) && walk(x[i], path[1:], t) {
			return true
		}
		for _, e := range x {
			if _, obj := e.(map[string]any); obj && walk(e, path, t) {
				return true
			}
		}
	}
	return false
}

// index parses a field name made of decimal digits as an array index, without the
// allocation of strconv's error for the usual name that is not one.
func index(name string) (int, bool) {
	if name == "" || len(name) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// scalar is a compiled operand: the decoded value and, for numbers and strings, the
// forms comparisons use.
type scalar struct {
	v     any
	isNum bool
	isStr bool
	i     int64 // when isInt
	isInt bool
	f     float64
	s     string
}

func newScalar(v any) scalar {
	s := scalar{v: v}
	switch x := v.(type) {
	case json.Number:
		s.isNum = true
		s.i, s.isInt = parseInt(x)
		s.f, _ = x.Float64()
	case string:
		s.isStr, s.s = true, x
	}
	return s
}

// parseInt parses an integral JSON number.
func parseInt(n json.Number) (int64, bool) {
	i, err := strconv.ParseInt(string(n), 10, 64)
	return i, err == nil
}

// compare orders a value of the message against a number or string operand; ok is
// false when they are not both numbers or both strings.
func compare(v any, want *scalar) (c int, ok bool) {
	switch x := v.(type) {
	case json.Number:
		if !want.isNum {
			return 0, false
		}
		if want.isInt {
			if i, ok := parseInt(x); ok {
				return cmpOrdered(i, want.i), true
			}
		}
		f, err := x.Float64()
		if err != nil {
			return 0, false
		}
		return cmpOrdered(f, want.f), true
	case string:
		if !want.isStr {
			return 0, false
		}
		return strings.Compare(x, want.s), true
	}
	return 0, false
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// equal reports whether two decoded JSON values are equal: numbers by value, arrays
// element by element, objects key by key.
func equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		if x == y {
			return true
		}
		s := newScalar(y)
		c, ok := compare(x, &s)
		return ok && c == 0
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !equal(xv, yv) {
				return false
			}
		}
		return true
	}
	return false
}

// explainer collects the reasons of an evaluation; a nil *explainer collects nothing.
type explainer struct {
	reasons []string
}

func (r *explainer) addf(format string, args ...any) {
	if r != nil {
		r.reasons = append(r.reasons, fmt.Sprintf(format, args...))
	}
}

// maxShown bounds how much of a value a reason quotes.
const maxShown = 80

// show renders a value as JSON for a reason, cut to maxShown bytes.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > maxShown {
		cut := maxShown
		for cut > 0 && !utf8.RuneStart(b[cut]) {
			cut--
		}
		return string(b[:cut]) + "…"
	}
	return string(b)
}
