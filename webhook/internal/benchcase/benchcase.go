// Package benchcase holds the inputs and the measuring loop shared by the webhook
// module's own benchmarks and the comparisons in webhook/internal/compat, so that both
// measure the same deliveries the same way.
package benchcase

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/webhook"
)

// The secret, message id and timestamp of every benchmarked delivery.
const (
	Secret = "whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c="
	ID     = "wh_685c059ae39c8190af8c71ed1022a24d"
	Unix   = 1750861210
)

// Sizes are the body sizes every benchmark runs at.
var Sizes = []struct {
	Name string
	Size int
}{
	{"1KB", 1 << 10},
	{"64KB", 64 << 10},
}

// Body returns an OpenAI-style event envelope of exactly size bytes, padded in data.
func Body(tb testing.TB, size int) []byte {
	tb.Helper()
	const head = `{"object":"event","id":"evt_685c059ae3a481909bdc86819b066fb6","type":"response.completed","created_at":1750861210,"data":{"id":"resp_685c059ae3a481909bdc86819b066fb6","status":"completed","metadata":{"note":"`
	const tail = `"}}}`
	const filler = "The quick brown fox jumps over the lazy dog; "
	n := size - len(head) - len(tail)
	if n < 0 {
		tb.Fatalf("size %d is smaller than the envelope", size)
	}
	body := make([]byte, 0, size)
	body = append(body, head...)
	body = append(body, strings.Repeat(filler, n/len(filler)+1)[:n]...)
	body = append(body, tail...)
	if len(body) != size || !json.Valid(body) {
		tb.Fatalf("bench body: %d bytes, valid JSON %v", len(body), json.Valid(body))
	}
	return body
}

// Header returns the headers of a delivery with id ID, stamped unix and signed sig, as
// OpenAI sends them.
func Header(unix int64, sig string) http.Header {
	h := http.Header{}
	h.Set(webhook.HeaderID, ID)
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(unix, 10))
	h.Set(webhook.HeaderSignature, sig)
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "OpenAI/1.0 (+https://platform.openai.com/docs/webhooks)")
	return h
}

// EachSize runs bench as a sub-benchmark of b for every size in Sizes, with a body of
// that size.
func EachSize(b *testing.B, bench func(b *testing.B, body []byte)) {
	for _, sz := range Sizes {
		b.Run(sz.Name, func(b *testing.B) { bench(b, Body(b, sz.Size)) })
	}
}

// Measure checks that op succeeds once, then measures it over body: op must do the
// whole work on body of one call (a verification, a signature) and report its failure,
// so a benchmark cannot pass while doing something else.
func Measure(b *testing.B, body []byte, op func() error) {
	b.Helper()
	if err := op(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
}

// Verify measures herald's Standard verifier on a delivery of body with headers h,
// stamped Unix, at a fixed time 30 seconds later.
func Verify(b *testing.B, body []byte, h http.Header) {
	b.Helper()
	now := time.Unix(Unix, 0).Add(30 * time.Second)
	wh, err := webhook.NewStandard(Secret, webhook.WithClock(func() time.Time { return now }))
	if err != nil {
		b.Fatal(err)
	}
	Measure(b, body, func() error {
		d, err := wh.Verify(body, h)
		if err == nil && d.Type != "response.completed" {
			return fmt.Errorf("Verify = %+v", d)
		}
		return err
	})
}

// SignatureHeader measures herald's SignatureHeader on body (id ID, stamped Unix), which
// must produce want.
func SignatureHeader(b *testing.B, body []byte, want string) {
	b.Helper()
	ts := time.Unix(Unix, 0)
	wh, err := webhook.NewStandard(Secret)
	if err != nil {
		b.Fatal(err)
	}
	if sig, err := wh.SignatureHeader(ID, ts, body); err != nil || sig != want {
		b.Fatalf("SignatureHeader = %q, %v; want %q", sig, err, want)
	}
	Measure(b, body, func() error {
		_, err := wh.SignatureHeader(ID, ts, body)
		return err
	})
}
