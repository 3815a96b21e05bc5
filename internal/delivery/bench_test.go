package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/transform"
	"github.com/heraldhq/herald/webhook"
)

// BenchmarkPrepareAttempt measures what the engine does for one attempt before the
// request leaves, without the network: the endpoint's transformation (none, a one-line
// reshape, the Slack template), the headers and their signature, and the redacted copy
// of them that the attempt records.
func BenchmarkPrepareAttempt(b *testing.B) {
	signer, err := webhook.NewStandardKeys([]webhook.Secret{webhook.NewHMACSecret()})
	if err != nil {
		b.Fatal(err)
	}
	// A generous limit: this measures the cost of a run, not the limit, on a busy machine.
	e := &Engine{sendCtx: context.Background(), sender: newSender(nil, nil, "herald/bench", 1)}
	sb := transform.New(transform.Config{Timeout: time.Second})
	slack, _ := transform.TemplateByName("slack")
	cases := []struct{ name, script string }{
		{"no transformation", ""},
		{"reshape", `function handler(w) { w.payload = {event: w.eventType, cents: w.payload.amount}; return w }`},
		{"slack template", slack.Script},
	}
	payload := []byte(`{"id":"in_1","amount":4200,"currency":"usd","customer":{"tier":"premium","email":"a@example.com"}}`)
	for _, c := range cases {
		var t tools
		if c.script != "" {
			if t.script, err = sb.Compile(context.Background(), c.script); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := &request{url: "https://example.com/hook", messageID: "msg_01JD3XK5M2Q8W0RZ7C4T6YB9HN", eventType: "invoice.paid",
					body: payload, headers: map[string]string{"X-Team": "billing"}, signer: signer, timeout: time.Second, tools: t}
				r.secrets = r.headers
				if _, stop := e.transform(r); stop {
					b.Fatal("the transformation stopped the attempt")
				}
				h, err := e.sender.header(r, time.Now())
				if err != nil {
					b.Fatal(err)
				}
				_ = newHeaderRecorder().headers(h, false, r.secrets)
			}
		})
	}
}
