package domain

import (
	"encoding/json"
	"testing"

	"github.com/heraldhq/herald/internal/filter"
)

func TestAcceptsMessage(t *testing.T) {
	m := &Message{Type: "invoice.paid", SourceID: "src_1", Headers: map[string]string{"X-Shop": "eu-1"},
		Payload: json.RawMessage(`{"amount": 4200}`)}
	tests := []struct {
		name string
		sub  Subscription
		want bool
	}{
		{"no filter", Subscription{}, true},
		{"type fails before the filter", Subscription{EventTypes: []string{"charge.*"}, Filter: filter.MustParse(`{"payload.amount": 4200}`)}, false},
		{"filter holds", Subscription{Filter: filter.MustParse(`{"payload.amount": {"$gt": 100}}`)}, true},
		{"filter fails", Subscription{Filter: filter.MustParse(`{"payload.amount": {"$gt": 10000}}`)}, false},
		{"source_id in metadata", Subscription{Filter: filter.MustParse(`{"metadata.source_id": "src_1"}`)}, true},
		{"forwarded headers in metadata", Subscription{Filter: filter.MustParse(`{"metadata": {"X-Shop": {"$startsWith": "eu-"}}}`)}, true},
	}
	for _, tt := range tests {
		if got := tt.sub.AcceptsMessage(NewFanout(m)); got != tt.want {
			t.Errorf("%s: AcceptsMessage = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// BenchmarkFanout measures the fan-out rule per endpoint: without a payload filter
// (the cost every endpoint pays) and with one, the payload decoded once per message.
func BenchmarkFanout(b *testing.B) {
	m := &Message{Type: "invoice.paid", Payload: json.RawMessage(`{"id":"in_1","amount":4200,"currency":"usd","customer":{"tier":"premium"}}`)}
	plain := Subscription{EventTypes: []string{"invoice.*"}}
	filtered := Subscription{EventTypes: []string{"invoice.*"}, Filter: filter.MustParse(`{"payload": {"amount": {"$gte": 1000}}}`)}
	b.Run("type only, Accepts", func(b *testing.B) {
		for b.Loop() {
			plain.Accepts(m.Type, m.SourceID)
		}
	})
	b.Run("no filter, AcceptsMessage", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			plain.AcceptsMessage(NewFanout(m))
		}
	})
	b.Run("filter, per message with its decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			filtered.AcceptsMessage(NewFanout(m))
		}
	})
	b.Run("filter, each further endpoint", func(b *testing.B) {
		f := NewFanout(m)
		filtered.AcceptsMessage(f)
		b.ReportAllocs()
		for b.Loop() {
			filtered.AcceptsMessage(f)
		}
	})
}
