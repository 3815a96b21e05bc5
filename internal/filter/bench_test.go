package filter

import (
	"encoding/json"
	"testing"
)

// BenchmarkMatch measures one filter against one message, the cost fan-out pays per
// endpoint that has a filter. "decode" includes decoding the payload (paid once per
// message, however many endpoints filter it); "shared doc" is each further filter.
func BenchmarkMatch(b *testing.B) {
	msg := Message{
		Type: "invoice.paid",
		Payload: json.RawMessage(`{"id":"in_1","amount":4200,"currency":"usd","customer":{"id":"cus_1","tier":"premium",
			"email":"ada@example.com"},"tags":["urgent","vip"],"lines":[{"sku":"a-1","qty":2},{"sku":"b-2","qty":7}]}`),
		Metadata: map[string]string{"region": "eu"},
	}
	filters := []struct{ name, src string }{
		{"type only", `{"type": {"$startsWith": "invoice."}}`},
		{"payload eq", `{"payload": {"currency": "usd"}}`},
		{"payload range and in", `{"payload": {"amount": {"$gte": 1000, "$lt": 10000}, "currency": {"$in": ["usd", "eur"]}}}`},
		{"complex", `{"$or": [{"payload.customer.tier": "enterprise"}, {"$and": [{"payload.tags": "urgent"},
			{"payload.lines.sku": {"$regex": "^b-"}}, {"$not": {"metadata.region": "us"}}]}]}`},
	}
	b.Run("no filter", func(b *testing.B) {
		var f *Filter
		d := NewDoc(msg)
		b.ReportAllocs()
		for b.Loop() {
			if !f.Match(d) {
				b.Fatal("no match")
			}
		}
	})
	for _, tt := range filters {
		f := MustParse(tt.src)
		b.Run(tt.name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !f.Match(NewDoc(msg)) {
					b.Fatal("no match")
				}
			}
		})
		b.Run(tt.name+"/shared doc", func(b *testing.B) {
			d := NewDoc(msg)
			f.Match(d)
			b.ReportAllocs()
			for b.Loop() {
				if !f.Match(d) {
					b.Fatal("no match")
				}
			}
		})
	}
}

// BenchmarkParse measures validating and compiling a filter (done when an endpoint is
// written or loaded, not per message).
func BenchmarkParse(b *testing.B) {
	src := []byte(`{"$or": [{"payload.customer.tier": "enterprise"}, {"$and": [{"payload.tags": "urgent"},
		{"payload.lines.sku": {"$regex": "^b-"}}, {"$not": {"metadata.region": "us"}}]}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}
