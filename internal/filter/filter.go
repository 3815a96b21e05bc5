// Package filter implements endpoint payload filters: a JSON language, the one Outpost
// and Convoy users already know, that decides whether a message reaches an endpoint.
//
// A filter is a JSON object that mirrors the message it matches. The message is seen as
//
//	{"type": "invoice.paid", "payload": {...the published JSON...}, "metadata": {"k": "v"}}
//
// A plain value means equality, a nested object descends into the message, several keys
// in one object must all match, and a dotted key ("payload.customer.tier") is the same
// as the nested objects it spells. Operators start with '$':
//
//	$eq $neq $gt $gte $lt $lte      compare (numbers numerically, strings byte-wise)
//	$in $nin                        one of an array of values; $in with a string: substring
//	$startsWith $endsWith $regex    strings; $regex is Go RE2 syntax
//	$exist                          true: the field is present; false: it is absent
//	$and $or                        arrays of filters; $not: one filter
//
// A condition on a field that holds an array holds when it holds for the array itself
// or for any of its elements ("array contains"): {"payload": {"tags": "urgent"}} matches
// {"tags": ["urgent", "vip"]}. $neq and $nin are the negations of $eq and $in, so they
// hold when no element matches, and for an absent field.
//
// Parse validates a filter once and compiles it; Match evaluates the compiled form
// without touching the filter's JSON again. A filter never fails at evaluation: a
// comparison between different types (a number and a string) does not hold.
package filter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Bounds on a filter, so that one endpoint's filter cannot make fan-out slow. Regular
// expressions are Go's RE2, which matches in time linear in the input: a pattern cannot
// backtrack catastrophically, so bounding its length bounds its cost.
const (
	MaxBytes    = 16 << 10 // the filter's JSON
	MaxDepth    = 16       // nesting of objects and arrays in the filter
	MaxNodes    = 256      // conditions, logical operators and $in/$nin values together
	MaxRegexLen = 512      // bytes of one $regex pattern
)

// Roots are the parts of a message a filter can look at.
const (
	RootType     = "type"
	RootPayload  = "payload"
	RootMetadata = "metadata"
)

// Error says which part of a filter is invalid: Path is a JSON path into the filter such
// as "filter.payload.amount.$gtt" and Message says what is wrong there.
type Error struct {
	Path    string
	Message string
}

func (e *Error) Error() string { return e.Path + ": " + e.Message }

// Filter is a compiled filter. The nil *Filter and the empty filter {} match every
// message; a Filter is immutable and safe for concurrent use.
type Filter struct {
	root node // nil: matches everything
	src  json.RawMessage
}

// Parse validates a filter and compiles it. Errors are *Error values naming the bad part.
// An empty input, null and {} give a filter that matches everything.
func Parse(raw []byte) (*Filter, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > MaxBytes {
		return nil, &Error{Path: "filter", Message: fmt.Sprintf("is %d bytes long; the most is %d", len(raw), MaxBytes)}
	}
	if len(raw) == 0 || string(raw) == "null" {
		return &Filter{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &Error{Path: "filter", Message: "is not valid JSON: " + err.Error()}
	}
	if dec.More() {
		return nil, &Error{Path: "filter", Message: "has data after its JSON object"}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, &Error{Path: "filter", Message: "must be a JSON object such as {\"payload\": {\"status\": \"paid\"}}, not " + kindOf(v)}
	}
	c := &compiler{}
	root, err := c.object(nil, obj, "filter", 1)
	if err != nil {
		return nil, err
	}
	return &Filter{root: root, src: append(json.RawMessage(nil), raw...)}, nil
}

// MustParse is Parse for filters known to be valid, such as constants in tests; it
// panics on an error.
func MustParse(raw string) *Filter {
	f, err := Parse([]byte(raw))
	if err != nil {
		panic(err)
	}
	return f
}

// IsEmpty reports whether f matches every message without looking at it.
func (f *Filter) IsEmpty() bool { return f == nil || f.root == nil }

// String returns the filter's JSON as given to Parse ("{}" when empty).
func (f *Filter) String() string {
	if f.IsEmpty() {
		return "{}"
	}
	return string(f.src)
}

// MarshalJSON returns the filter as given to Parse.
func (f *Filter) MarshalJSON() ([]byte, error) { return []byte(f.String()), nil }

// Message is what a filter looks at.
type Message struct {
	Type     string
	Payload  json.RawMessage // a payload that is not JSON is seen as one string
	Metadata map[string]string
}

// Doc is a message prepared for filters: its payload is decoded once, when a filter
// first looks at it, and shared by every filter evaluated against the message. A Doc is
// not safe for concurrent use.
type Doc struct {
	msg     Message
	payload any
	decoded bool
	typ     any            // msg.Type, boxed on first use
	meta    map[string]any // msg.Metadata, boxed on first use
}

// NewDoc prepares m for evaluation; it does no work until a filter needs the payload.
func NewDoc(m Message) *Doc { return &Doc{msg: m} }

// Match reports whether the message d matches f.
func (f *Filter) Match(d *Doc) bool {
	if f == nil || f.root == nil {
		return true
	}
	return f.root.eval(d, nil)
}

// MatchMessage reports whether m matches f; to test several filters against one
// message, make one Doc and call Match.
func (f *Filter) MatchMessage(m Message) bool {
	if f.IsEmpty() {
		return true
	}
	return f.Match(NewDoc(m))
}

// Explain evaluates f against m and says why it matches or not: one reason per
// condition evaluated, in order (evaluation stops at the first condition that decides
// an $and or an $or, so the reasons name the conditions that decided).
func (f *Filter) Explain(m Message) (match bool, reasons []string) {
	if f.IsEmpty() {
		return true, []string{"the filter is empty: every message matches"}
	}
	r := &explainer{}
	match = f.root.eval(NewDoc(m), r)
	return match, r.reasons
}

// Explain parses filter and explains its verdict on m, as POST /v1/filters/test does.
func Explain(filter []byte, m Message) (match bool, reasons []string, err error) {
	f, err := Parse(filter)
	if err != nil {
		return false, nil, err
	}
	match, reasons = f.Explain(m)
	return match, reasons, nil
}

// payloadValue returns the decoded payload: JSON values as encoding/json decodes them
// with UseNumber, or the payload as one string if it is not JSON.
func (d *Doc) payloadValue() (any, bool) {
	if !d.decoded {
		d.decoded = true
		if len(d.msg.Payload) == 0 {
			return nil, false
		}
		dec := json.NewDecoder(bytes.NewReader(d.msg.Payload))
		dec.UseNumber()
		if err := dec.Decode(&d.payload); err != nil || dec.More() {
			d.payload = string(d.msg.Payload)
		}
	}
	if len(d.msg.Payload) == 0 {
		return nil, false
	}
	return d.payload, true
}

// kindOf names the JSON type of a decoded value, for messages.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// compiler turns decoded filter JSON into nodes, counting them against MaxNodes.
type compiler struct {
	nodes int
}

// count adds n nodes, failing at path once there are more than MaxNodes.
func (c *compiler) count(path string, n int) error {
	c.nodes += n
	if c.nodes > MaxNodes {
		return &Error{Path: path, Message: fmt.Sprintf("the filter has more than %d conditions", MaxNodes)}
	}
	return nil
}

// object compiles an object found at field (the message path so far, nil at the root),
// at filter path jpath, depth levels deep.
func (c *compiler) object(field []string, obj map[string]any, jpath string, depth int) (node, error) {
	if depth > MaxDepth {
		return nil, &Error{Path: jpath, Message: fmt.Sprintf("is nested more than %d levels deep", MaxDepth)}
	}
	if len(obj) == 0 {
		if field == nil {
			return nil, nil // {}: matches everything
		}
		return nil, &Error{Path: jpath, Message: `is an empty object, which would match nothing useful; remove it, or use {"$exist": true}`}
	}
	keys := sortedKeys(obj)
	// Field names and $and/$or/$not may stand together (all must hold), but a test of
	// this field's value ($gt...) beside field names below it is ambiguous.
	var ops, fields []string
	for _, k := range keys {
		if isLeafOp(k) {
			ops = append(ops, k)
		} else if !strings.HasPrefix(k, "$") {
			fields = append(fields, k)
		}
	}
	if len(ops) > 0 && len(fields) > 0 {
		return nil, &Error{Path: jpath, Message: fmt.Sprintf("mixes operators (%s) and field names (%s) in one object; put them in an $and", ops[0], fields[0])}
	}
	var all []node
	for _, k := range keys {
		kpath := jpath + "." + k
		var n node
		var err error
		if strings.HasPrefix(k, "$") {
			n, err = c.operator(field, k, obj[k], kpath, depth)
		} else {
			var sub []string
			if sub, err = c.descend(field, k, kpath); err == nil {
				n, err = c.value(sub, obj[k], kpath, depth+1)
			}
		}
		if err != nil {
			return nil, err
		}
		all = append(all, n)
	}
	if len(all) == 1 {
		return all[0], nil
	}
	if err := c.count(jpath, 1); err != nil {
		return nil, err
	}
	return &andNode{children: all}, nil
}

// descend returns field extended by key, whose dots separate further fields, checking
// that the path starts at a root a filter can look at.
func (c *compiler) descend(field []string, key, jpath string) ([]string, error) {
	parts := strings.Split(key, ".")
	for _, p := range parts {
		if p == "" {
			return nil, &Error{Path: jpath, Message: "has an empty field name (a leading, trailing or double dot)"}
		}
	}
	out := make([]string, 0, len(field)+len(parts))
	out = append(append(out, field...), parts...)
	switch out[0] {
	case RootType:
		if len(out) > 1 {
			return nil, &Error{Path: jpath, Message: "type is a string: it has no fields to descend into"}
		}
	case RootMetadata:
		if len(out) > 2 {
			return nil, &Error{Path: jpath, Message: "metadata values are strings: they have no fields to descend into"}
		}
	case RootPayload:
	case "data":
		return nil, &Error{Path: jpath, Message: "unknown field: a filter matches type, payload and metadata (Outpost's data is herald's payload)"}
	case "topic":
		return nil, &Error{Path: jpath, Message: "unknown field: a filter matches type, payload and metadata (Outpost's topic is herald's type)"}
	default:
		return nil, &Error{Path: jpath, Message: "unknown field: a filter matches type, payload and metadata"}
	}
	return out, nil
}

// value compiles the value found under a field name: an object descends or holds
// operators, anything else means equality.
func (c *compiler) value(field []string, v any, jpath string, depth int) (node, error) {
	if obj, ok := v.(map[string]any); ok {
		return c.object(field, obj, jpath, depth)
	}
	if depth > MaxDepth {
		return nil, &Error{Path: jpath, Message: fmt.Sprintf("is nested more than %d levels deep", MaxDepth)}
	}
	return c.leaf(field, "$eq", v, jpath, depth)
}

// operator compiles one "$op": operand pair found at field.
func (c *compiler) operator(field []string, op string, v any, jpath string, depth int) (node, error) {
	switch op {
	case "$and", "$or":
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			return nil, &Error{Path: jpath, Message: op + " takes a non-empty array of filters, not " + kindOf(v)}
		}
		if err := c.count(jpath, 1); err != nil {
			return nil, err
		}
		children := make([]node, 0, len(list))
		for i, item := range list {
			ipath := jpath + "[" + strconv.Itoa(i) + "]"
			var n node
			var err error
			if field == nil {
				obj, ok := item.(map[string]any)
				if !ok || len(obj) == 0 {
					return nil, &Error{Path: ipath, Message: "must be a non-empty filter object, not " + kindOf(item)}
				}
				n, err = c.object(nil, obj, ipath, depth+2)
			} else {
				n, err = c.value(field, item, ipath, depth+2)
			}
			if err != nil {
				return nil, err
			}
			children = append(children, n)
		}
		if op == "$and" {
			return &andNode{children: children}, nil
		}
		return &orNode{children: children, path: jpath}, nil
	case "$not":
		obj, ok := v.(map[string]any)
		if !ok || len(obj) == 0 {
			return nil, &Error{Path: jpath, Message: "$not takes a non-empty filter object, not " + kindOf(v)}
		}
		if err := c.count(jpath, 1); err != nil {
			return nil, err
		}
		inner, err := c.object(field, obj, jpath, depth+1)
		if err != nil {
			return nil, err
		}
		return &notNode{inner: inner, path: jpath}, nil
	}
	if field == nil {
		if isLeafOp(op) {
			return nil, &Error{Path: jpath, Message: op + " compares a field: put it under one, as in {\"payload\": {\"amount\": {\"" + op + "\": ...}}}"}
		}
		return nil, &Error{Path: jpath, Message: "unknown operator; at the top of a filter use $and, $or, $not or the fields type, payload and metadata"}
	}
	return c.leaf(field, op, v, jpath, depth)
}

// isLeafOp reports whether op is an operator that tests a field's value.
func isLeafOp(op string) bool {
	switch op {
	case "$eq", "$neq", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exist", "$startsWith", "$endsWith", "$regex":
		return true
	}
	return false
}

// leaf compiles a field test.
func (c *compiler) leaf(field []string, op string, v any, jpath string, depth int) (node, error) {
	if !isLeafOp(op) {
		return nil, &Error{Path: jpath, Message: "unknown operator; the operators are $eq $neq $gt $gte $lt $lte $in $nin $exist $startsWith $endsWith $regex $and $or $not"}
	}
	if err := c.count(jpath, 1); err != nil {
		return nil, err
	}
	if err := checkDepth(v, jpath, depth); err != nil {
		return nil, err
	}
	l := &leafNode{field: field, op: op, operand: v, path: strings.Join(field, ".")}
	switch op {
	case "$eq", "$neq":
		l.want = newScalar(v)
	case "$gt", "$gte", "$lt", "$lte":
		s := newScalar(v)
		if !s.isNum && !s.isStr {
			return nil, &Error{Path: jpath, Message: op + " compares with a number or a string, not " + kindOf(v)}
		}
		l.want = s
	case "$in", "$nin":
		switch x := v.(type) {
		case []any:
			if err := c.count(jpath, len(x)); err != nil {
				return nil, err
			}
			l.set = make([]scalar, len(x))
			for i, e := range x {
				l.set[i] = newScalar(e)
			}
		case string:
			l.want = newScalar(x) // substring, as Outpost does
			l.substr = true
		default:
			return nil, &Error{Path: jpath, Message: op + " takes an array of values (or, for a substring test, a string), not " + kindOf(v)}
		}
	case "$exist":
		b, ok := v.(bool)
		if !ok {
			return nil, &Error{Path: jpath, Message: "$exist takes true or false, not " + kindOf(v)}
		}
		l.exist = b
	case "$startsWith", "$endsWith":
		s, ok := v.(string)
		if !ok {
			return nil, &Error{Path: jpath, Message: op + " takes a string, not " + kindOf(v)}
		}
		l.want = newScalar(s)
	case "$regex":
		s, ok := v.(string)
		if !ok {
			return nil, &Error{Path: jpath, Message: "$regex takes a string (a Go RE2 pattern), not " + kindOf(v)}
		}
		if len(s) > MaxRegexLen {
			return nil, &Error{Path: jpath, Message: fmt.Sprintf("the pattern is %d bytes long; the most is %d", len(s), MaxRegexLen)}
		}
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, &Error{Path: jpath, Message: "invalid pattern: " + strings.TrimPrefix(err.Error(), "error parsing regexp: ")}
		}
		l.re = re
	}
	return l, nil
}

// checkDepth fails if an operand nests deeper than MaxDepth counting from depth.
func checkDepth(v any, jpath string, depth int) error {
	if depth > MaxDepth {
		return &Error{Path: jpath, Message: fmt.Sprintf("is nested more than %d levels deep", MaxDepth)}
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if err := checkDepth(e, jpath, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, e := range x {
			if err := checkDepth(e, jpath, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// sortedKeys returns m's keys in order, so that errors and reasons are deterministic.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
