package filter

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// invoice is the message most tests match against.
var invoice = Message{
	Type: "invoice.paid",
	Payload: json.RawMessage(`{
		"id": "in_1", "amount": 4200, "ratio": 0.25, "big": 9007199254740993, "currency": "usd",
		"paid": true, "note": null, "email": "ada@example.com",
		"customer": {"tier": "premium", "address": {"country": "FR"}},
		"tags": ["urgent", "vip"], "counts": [1, 5, 10],
		"items": [{"sku": "a-1", "qty": 2}, {"sku": "b-2", "qty": 7}],
		"matrix": [[1, 2], [3]],
		"created": "2026-01-15T10:00:00Z"
	}`),
	Metadata: map[string]string{"region": "eu", "source": "api"},
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name   string
		filter string
		want   bool
	}{
		// The empty filter.
		{"empty object", `{}`, true},
		{"null", `null`, true},

		// Implicit equality, nesting, dotted keys.
		{"type equal", `{"type": "invoice.paid"}`, true},
		{"type differs", `{"type": "invoice.failed"}`, false},
		{"payload string", `{"payload": {"currency": "usd"}}`, true},
		{"payload number", `{"payload": {"amount": 4200}}`, true},
		{"payload number written differently", `{"payload": {"amount": 4200.0}}`, true},
		{"payload bool", `{"payload": {"paid": true}}`, true},
		{"payload null", `{"payload": {"note": null}}`, true},
		{"implicit and, both hold", `{"payload": {"currency": "usd", "paid": true}}`, true},
		{"implicit and, one fails", `{"payload": {"currency": "usd", "paid": false}}`, false},
		{"nested objects", `{"payload": {"customer": {"address": {"country": "FR"}}}}`, true},
		{"dotted key", `{"payload.customer.address.country": "FR"}`, true},
		{"dotted key below an object", `{"payload": {"customer.tier": "premium"}}`, true},
		{"dotted key differs", `{"payload.customer.tier": "basic"}`, false},
		{"metadata", `{"metadata": {"region": "eu"}}`, true},
		{"metadata dotted", `{"metadata.source": "api"}`, true},
		{"metadata differs", `{"metadata": {"region": "us"}}`, false},
		{"top level and type", `{"type": "invoice.paid", "payload": {"amount": 4200}}`, true},
		{"whole array equal", `{"payload": {"counts": [1, 5, 10]}}`, true},
		{"whole array in another order", `{"payload": {"counts": [10, 5, 1]}}`, false},
		{"object equality through $eq", `{"payload": {"customer.address": {"$eq": {"country": "FR"}}}}`, true},
		{"large integers compare exactly", `{"payload": {"big": 9007199254740993}}`, true},
		{"large integers differ by one", `{"payload": {"big": 9007199254740992}}`, false},

		// Array contains.
		{"array contains a scalar", `{"payload": {"tags": "urgent"}}`, true},
		{"array does not contain", `{"payload": {"tags": "spam"}}`, false},
		{"array of objects, field of any element", `{"payload": {"items": {"sku": "b-2"}}}`, true},
		{"array of objects, dotted", `{"payload.items.sku": "a-1"}`, true},
		{"array of objects, missing", `{"payload.items.sku": "c-3"}`, false},
		{"array index", `{"payload.items.1.sku": "b-2"}`, true},
		{"array index, other element", `{"payload.items.0.sku": "b-2"}`, false},
		{"array contains with $gt", `{"payload": {"counts": {"$gt": 9}}}`, true},
		{"array contains with $gt, none", `{"payload": {"counts": {"$gt": 10}}}`, false},
		{"array of objects with an operator", `{"payload.items.qty": {"$gte": 7}}`, true},
		{"inner array as an element", `{"payload": {"matrix": [3]}}`, true},

		// Each operator.
		{"$eq", `{"payload": {"currency": {"$eq": "usd"}}}`, true},
		{"$eq fails", `{"payload": {"currency": {"$eq": "eur"}}}`, false},
		{"$neq", `{"payload": {"currency": {"$neq": "eur"}}}`, true},
		{"$neq fails", `{"payload": {"currency": {"$neq": "usd"}}}`, false},
		{"$neq on array: no element equals", `{"payload": {"tags": {"$neq": "spam"}}}`, true},
		{"$neq on array: an element equals", `{"payload": {"tags": {"$neq": "vip"}}}`, false},
		{"$gt", `{"payload": {"amount": {"$gt": 4199}}}`, true},
		{"$gt equal fails", `{"payload": {"amount": {"$gt": 4200}}}`, false},
		{"$gte", `{"payload": {"amount": {"$gte": 4200}}}`, true},
		{"$lt", `{"payload": {"amount": {"$lt": 4200.5}}}`, true},
		{"$lt fails", `{"payload": {"amount": {"$lt": 4200}}}`, false},
		{"$lte", `{"payload": {"amount": {"$lte": 4200}}}`, true},
		{"$gt fraction", `{"payload": {"ratio": {"$gt": 0.2}}}`, true},
		{"range", `{"payload": {"amount": {"$gte": 100, "$lt": 5000}}}`, true},
		{"range fails", `{"payload": {"amount": {"$gte": 100, "$lt": 500}}}`, false},
		{"$gt on strings (RFC 3339 times)", `{"payload": {"created": {"$gte": "2026-01-01T00:00:00Z", "$lt": "2026-02-01T00:00:00Z"}}}`, true},
		{"$in", `{"payload": {"currency": {"$in": ["eur", "usd"]}}}`, true},
		{"$in fails", `{"payload": {"currency": {"$in": ["eur", "gbp"]}}}`, false},
		{"$in numbers", `{"payload": {"amount": {"$in": [1, 4200]}}}`, true},
		{"$in empty list", `{"payload": {"currency": {"$in": []}}}`, false},
		{"$in on array", `{"payload": {"tags": {"$in": ["vip", "x"]}}}`, true},
		{"$in with a string is a substring test", `{"payload": {"email": {"$in": "@example."}}}`, true},
		{"$in substring fails", `{"payload": {"email": {"$in": "@other."}}}`, false},
		{"$nin", `{"payload": {"currency": {"$nin": ["eur", "gbp"]}}}`, true},
		{"$nin fails", `{"payload": {"currency": {"$nin": ["usd"]}}}`, false},
		{"$nin on array", `{"payload": {"tags": {"$nin": ["urgent"]}}}`, false},
		{"$exist true", `{"payload": {"customer": {"$exist": true}}}`, true},
		{"$exist true on null", `{"payload": {"note": {"$exist": true}}}`, true},
		{"$exist false", `{"payload": {"deleted_at": {"$exist": false}}}`, true},
		{"$exist false fails", `{"payload": {"amount": {"$exist": false}}}`, false},
		{"$exist metadata", `{"metadata": {"region": {"$exist": true}}}`, true},
		{"$exist metadata missing", `{"metadata": {"tenant": {"$exist": true}}}`, false},
		{"$startsWith", `{"type": {"$startsWith": "invoice."}}`, true},
		{"$startsWith fails", `{"type": {"$startsWith": "charge."}}`, false},
		{"$endsWith", `{"payload": {"email": {"$endsWith": "@example.com"}}}`, true},
		{"$endsWith fails", `{"payload": {"email": {"$endsWith": "@example.org"}}}`, false},
		{"$regex", `{"payload": {"id": {"$regex": "^in_[0-9]+$"}}}`, true},
		{"$regex fails", `{"payload": {"id": {"$regex": "^ch_"}}}`, false},
		{"$regex on array elements", `{"payload": {"tags": {"$regex": "^urg"}}}`, true},

		// Logical operators.
		{"$or first", `{"$or": [{"type": "invoice.paid"}, {"type": "x"}]}`, true},
		{"$or second", `{"$or": [{"type": "x"}, {"payload": {"amount": 4200}}]}`, true},
		{"$or none", `{"$or": [{"type": "x"}, {"type": "y"}]}`, false},
		{"$and", `{"$and": [{"type": "invoice.paid"}, {"payload": {"amount": {"$gte": 100}}}]}`, true},
		{"$and one fails", `{"$and": [{"type": "invoice.paid"}, {"payload": {"amount": {"$gte": 10000}}}]}`, false},
		{"$not", `{"$not": {"type": "x"}}`, true},
		{"$not fails", `{"$not": {"type": "invoice.paid"}}`, false},
		{"$not on a field's condition", `{"payload": {"currency": {"$not": {"$in": ["eur", "gbp"]}}}}`, true},
		{"$not on a field's condition fails", `{"payload": {"currency": {"$not": {"$in": ["usd"]}}}}`, false},
		{"$or on a field", `{"payload": {"amount": {"$or": [{"$lt": 10}, {"$gt": 1000}]}}}`, true},
		{"$or of sub-documents", `{"payload": {"$or": [{"currency": "eur"}, {"customer.tier": "premium"}]}}`, true},
		{"$or of values", `{"payload": {"currency": {"$or": ["eur", "usd"]}}}`, true},
		{"nested logic", `{"$or": [{"$and": [{"type": "x"}, {"payload.amount": 4200}]}, {"$not": {"metadata.region": "us"}}]}`, true},
		{"logic beside fields", `{"type": "invoice.paid", "$or": [{"payload.currency": "eur"}, {"payload.paid": true}]}`, true},

		// Absent paths never match a positive condition and never panic.
		{"absent field", `{"payload": {"missing": "x"}}`, false},
		{"absent deep field", `{"payload": {"customer": {"missing": {"deeper": 1}}}}`, false},
		{"descend into a string", `{"payload": {"currency": {"code": "usd"}}}`, false},
		{"descend into a number", `{"payload.amount.cents": 1}`, false},
		{"absent with $gt", `{"payload": {"missing": {"$gt": 1}}}`, false},
		{"absent with $neq holds", `{"payload": {"missing": {"$neq": 1}}}`, true},
		{"absent with $nin holds", `{"payload": {"missing": {"$nin": [1]}}}`, true},
		{"absent metadata key", `{"metadata": {"tenant": "x"}}`, false},
		{"array index out of range", `{"payload.items.9.sku": "a-1"}`, false},

		// Type mismatches do not hold (and do not fail).
		{"number vs string", `{"payload": {"amount": "4200"}}`, false},
		{"string vs number", `{"payload": {"currency": 1}}`, false},
		{"$gt number on a string", `{"payload": {"currency": {"$gt": 1}}}`, false},
		{"$gt string on a number", `{"payload": {"amount": {"$gt": "1"}}}`, false},
		{"$startsWith on a number", `{"payload": {"amount": {"$startsWith": "42"}}}`, false},
		{"$regex on a bool", `{"payload": {"paid": {"$regex": "true"}}}`, false},
		{"bool vs string", `{"payload": {"paid": "true"}}`, false},
		{"null vs absent", `{"payload": {"missing": null}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.filter))
			if err != nil {
				t.Fatalf("Parse(%s): %v", tt.filter, err)
			}
			if got := f.MatchMessage(invoice); got != tt.want {
				t.Errorf("Match(%s) = %v, want %v", tt.filter, got, tt.want)
			}
			// Explain reaches the same verdict by the same evaluation.
			got, reasons := f.Explain(invoice)
			if got != tt.want || len(reasons) == 0 {
				t.Errorf("Explain(%s) = %v %q, want %v with reasons", tt.filter, got, reasons, tt.want)
			}
		})
	}
}

func TestPayloadShapes(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		filter  string
		want    bool
	}{
		{"no payload: payload fields absent", ``, `{"payload": {"a": {"$exist": false}}}`, true},
		{"no payload: $exist false on payload", ``, `{"payload": {"$exist": false}}`, true},
		{"not JSON: the payload is one string", `token=abc&team=T1`, `{"payload": {"$startsWith": "token="}}`, true},
		{"not JSON: no fields", `token=abc`, `{"payload.token": "abc"}`, false},
		{"array payload: contains", `[{"id": 1}, {"id": 2}]`, `{"payload.id": 2}`, true},
		{"scalar payload", `42`, `{"payload": {"$gte": 40}}`, true},
		{"string payload", `"hello"`, `{"payload": "hello"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Message{Type: "t", Payload: json.RawMessage(tt.payload)}
			if got := MustParse(tt.filter).MatchMessage(m); got != tt.want {
				t.Errorf("Match(%s) on %q = %v, want %v", tt.filter, tt.payload, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	deep := `{"payload": ` + strings.Repeat(`{"a": `, MaxDepth) + `1` + strings.Repeat(`}`, MaxDepth) + `}`
	many := make([]string, MaxNodes+1)
	for i := range many {
		many[i] = fmt.Sprintf(`{"payload.n": %d}`, i)
	}
	wide := `{"$or": [` + strings.Join(many, ",") + `]}`
	tests := []struct {
		name     string
		filter   string
		wantPath string
		wantMsg  string // a part of the message
	}{
		{"not JSON", `{"payload": `, "filter", "not valid JSON"},
		{"not an object", `[1]`, "filter", "must be a JSON object"},
		{"trailing data", `{} {}`, "filter", "after its JSON object"},
		{"too large", `{"type": "` + strings.Repeat("x", MaxBytes) + `"}`, "filter", "bytes long"},
		{"unknown operator", `{"payload": {"amount": {"$gtt": 5}}}`, "filter.payload.amount.$gtt", "unknown operator"},
		{"unknown top-level field", `{"body": {"a": 1}}`, "filter.body", "unknown field"},
		{"Outpost's data", `{"data": {"a": 1}}`, "filter.data", "payload"},
		{"Outpost's topic", `{"topic": "a"}`, "filter.topic", "type"},
		{"field operator at the top", `{"$gt": 5}`, "filter.$gt", "compares a field"},
		{"unknown operator at the top", `{"$nor": []}`, "filter.$nor", "unknown operator"},
		{"mixed operators and fields", `{"payload": {"amount": {"$gt": 5, "cents": 1}}}`, "filter.payload.amount", "mixes operators"},
		{"empty nested object", `{"payload": {"customer": {}}}`, "filter.payload.customer", "empty object"},
		{"empty key segment", `{"payload..amount": 1}`, "filter.payload..amount", "empty field name"},
		{"type has no fields", `{"type": {"name": "x"}}`, "filter.type.name", "type is a string"},
		{"metadata values have no fields", `{"metadata.a.b": "x"}`, "filter.metadata.a.b", "metadata values are strings"},
		{"$gt with a bool", `{"payload": {"amount": {"$gt": true}}}`, "filter.payload.amount.$gt", "number or a string"},
		{"$lte with an array", `{"payload": {"amount": {"$lte": [1]}}}`, "filter.payload.amount.$lte", "number or a string"},
		{"$in with a number", `{"payload": {"amount": {"$in": 5}}}`, "filter.payload.amount.$in", "array of values"},
		{"$nin with an object", `{"payload": {"amount": {"$nin": {}}}}`, "filter.payload.amount.$nin", "array of values"},
		{"$exist with a string", `{"payload": {"amount": {"$exist": "yes"}}}`, "filter.payload.amount.$exist", "true or false"},
		{"$startsWith with a number", `{"type": {"$startsWith": 1}}`, "filter.type.$startsWith", "takes a string"},
		{"$regex invalid", `{"type": {"$regex": "a("}}`, "filter.type.$regex", "invalid pattern"},
		{"$regex too long", `{"type": {"$regex": "` + strings.Repeat("a", MaxRegexLen+1) + `"}}`, "filter.type.$regex", "bytes long"},
		{"$regex backreference (not RE2)", `{"type": {"$regex": "(a)\\1"}}`, "filter.type.$regex", "invalid pattern"},
		{"$or not an array", `{"$or": {"type": "a"}}`, "filter.$or", "non-empty array"},
		{"$or empty", `{"$or": []}`, "filter.$or", "non-empty array"},
		{"$and element not an object", `{"$and": [{"type": "a"}, 3]}`, "filter.$and[1]", "filter object"},
		{"$or element empty", `{"$or": [{}]}`, "filter.$or[0]", "filter object"},
		{"error inside $or", `{"$or": [{"type": "a"}, {"payload": {"x": {"$bad": 1}}}]}`, "filter.$or[1].payload.x.$bad", "unknown operator"},
		{"$not not an object", `{"$not": [1]}`, "filter.$not", "filter object"},
		{"error inside $not", `{"payload": {"a": {"$not": {"$in": 1}}}}`, "filter.payload.a.$not.$in", "array of values"},
		{"too deep", deep, "filter.payload" + strings.Repeat(".a", MaxDepth-1), "levels deep"},
		{"too many conditions", wide, "filter.$or", "more than"},
		{"too many $in values", `{"payload": {"a": {"$in": [` + strings.TrimSuffix(strings.Repeat("1,", MaxNodes+1), ",") + `]}}}`, "filter.payload.a.$in", "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.filter))
			if err == nil {
				t.Fatalf("Parse accepted %.80s: %v", tt.filter, f)
			}
			fe, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("error %v (%T), want *Error", err, err)
			}
			if !strings.HasPrefix(fe.Path, tt.wantPath) || !strings.Contains(fe.Message, tt.wantMsg) {
				t.Errorf("error %q, want path %q and a message with %q", err, tt.wantPath, tt.wantMsg)
			}
			if err.Error() != fe.Path+": "+fe.Message {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

func TestExplain(t *testing.T) {
	tests := []struct {
		filter      string
		want        bool
		wantReasons []string
	}{
		{`{}`, true, []string{"the filter is empty: every message matches"}},
		{`{"payload": {"amount": {"$gte": 1000}}}`, true,
			[]string{`payload.amount $gte 1000: true (payload.amount is 4200)`}},
		{`{"payload": {"status": {"$in": ["paid"]}}}`, false,
			[]string{`payload.status $in ["paid"]: false (payload.status is absent)`}},
		{`{"payload": {"currency": {"$gt": 5}}}`, false,
			[]string{`payload.currency $gt 5: false (payload.currency is "usd"; payload.currency is a string and $gt compares numbers)`}},
		{`{"payload": {"tags": "urgent"}}`, true,
			[]string{`payload.tags $eq "urgent": true (payload.tags is ["urgent","vip"])`}},
		{`{"type": "invoice.paid", "payload.amount": {"$lt": 100}}`, false, []string{
			`payload.amount $lt 100: false (payload.amount is 4200)`,
		}},
		{`{"$or": [{"type": "x"}, {"metadata.region": "eu"}]}`, true, []string{
			`type $eq "x": false (type is "invoice.paid")`,
			`metadata.region $eq "eu": true (metadata.region is "eu")`,
			`filter.$or: true (alternative 2 of 2 holds)`,
		}},
		{`{"$not": {"type": {"$startsWith": "invoice."}}}`, false, []string{
			`type $startsWith "invoice.": true (type is "invoice.paid")`,
			`filter.$not: false (the condition inside holds)`,
		}},
		{`{"payload": {"deleted_at": {"$exist": false}, "currency": {"$neq": "usd"}}}`, false, []string{
			`payload.currency $neq "usd": false (payload.currency is "usd")`,
		}},
	}
	for _, tt := range tests {
		match, reasons, err := Explain([]byte(tt.filter), invoice)
		if err != nil {
			t.Fatalf("Explain(%s): %v", tt.filter, err)
		}
		if match != tt.want || strings.Join(reasons, "\n") != strings.Join(tt.wantReasons, "\n") {
			t.Errorf("Explain(%s) = %v\n%s\nwant %v\n%s", tt.filter, match, strings.Join(reasons, "\n"), tt.want, strings.Join(tt.wantReasons, "\n"))
		}
	}
	if _, _, err := Explain([]byte(`{"x": 1}`), invoice); err == nil {
		t.Error("Explain of an invalid filter did not fail")
	}
}

func TestEmptyAndString(t *testing.T) {
	var none *Filter
	if !none.IsEmpty() || !none.Match(NewDoc(invoice)) || none.String() != "{}" {
		t.Error("the nil filter is not the empty filter")
	}
	for _, raw := range []string{``, `null`, `{}`, ` { } `} {
		f, err := Parse([]byte(raw))
		if err != nil || !f.IsEmpty() || !f.MatchMessage(Message{}) {
			t.Errorf("Parse(%q) = %v, %v; want an empty filter", raw, f, err)
		}
	}
	src := `{"type": "a"}`
	f := MustParse(src)
	if b, _ := json.Marshal(f); string(b) != `{"type":"a"}` || f.String() != src {
		t.Errorf("String %q, MarshalJSON %s", f.String(), b)
	}
}

// TestDocSharedAcrossFilters checks that one Doc serves several filters (fan-out to
// many endpoints decodes a payload once).
func TestDocSharedAcrossFilters(t *testing.T) {
	d := NewDoc(invoice)
	for _, raw := range []string{`{"payload.amount": 4200}`, `{"payload.currency": "usd"}`, `{"type": "invoice.paid"}`} {
		if !MustParse(raw).Match(d) {
			t.Errorf("%s did not match through a shared Doc", raw)
		}
	}
	if MustParse(`{"payload.currency": "eur"}`).Match(d) {
		t.Error("a shared Doc matched the wrong currency")
	}
}
