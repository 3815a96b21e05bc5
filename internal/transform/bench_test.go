package transform

import (
	"context"
	"testing"
	"time"
)

// BenchmarkRun measures one transformation per delivery: taking a pooled runtime,
// building the webhook object (JSON.parse of the payload), the call, JSON.stringify of
// the result and the output checks.
func BenchmarkRun(b *testing.B) {
	slack, _ := TemplateByName("slack")
	scripts := []struct{ name, src string }{
		{"identity", `function handler(w) { return w }`},
		{"reshape", `function handler(w) { w.headers["X-Id"] = w.payload.id; w.payload = {event: w.eventType, cents: w.payload.amount}; return w }`},
		{"slack template", slack.Script},
	}
	sb := New(Config{Timeout: time.Second}) // measure the cost, not the limit, on a busy machine
	for _, sc := range scripts {
		s := compile(b, sb, sc.src)
		b.Run(sc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Run(context.Background(), input); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCompile measures compiling a script and preparing its first runtime (done
// when an endpoint is written or loaded, not per delivery).
func BenchmarkCompile(b *testing.B) {
	slack, _ := TemplateByName("slack")
	sb := New(Config{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sb.Compile(context.Background(), slack.Script); err != nil {
			b.Fatal(err)
		}
	}
}
