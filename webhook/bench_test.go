package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/webhook"
)

// Benchmarks of signing and verifying an OpenAI-style delivery:
//
//	cd webhook && go test -run '^$' -bench . -benchmem -count 5 -cpu 1
//
// Comparisons with openai-go and the Standard Webhooks reference library, on the same
// inputs, are in the webhook/internal/compat module, which may depend on them.

const (
	benchSecret = "whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c="
	benchID     = "wh_685c059ae39c8190af8c71ed1022a24d"
	benchUnix   = 1750861210
)

var benchSizes = []struct {
	name string
	size int
}{
	{"1KB", 1 << 10},
	{"64KB", 64 << 10},
}

// benchBody returns an OpenAI-style event envelope of exactly size bytes, padded in data.
func benchBody(tb testing.TB, size int) []byte {
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

// benchSigned returns the headers of a delivery of body at unix signed with benchSecret
// as the Standard Webhooks spec says, computed with crypto/hmac, not with the package.
func benchSigned(tb testing.TB, body []byte, unix int64) http.Header {
	tb.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(benchSecret, "whsec_"))
	if err != nil {
		tb.Fatal(err)
	}
	ts := strconv.FormatInt(unix, 10)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(benchID + "." + ts + "."))
	m.Write(body)
	h := http.Header{}
	h.Set(webhook.HeaderID, benchID)
	h.Set(webhook.HeaderTimestamp, ts)
	h.Set(webhook.HeaderSignature, "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "OpenAI/1.0 (+https://platform.openai.com/docs/webhooks)")
	return h
}

func BenchmarkVerify(b *testing.B) {
	now := time.Unix(benchUnix, 0).Add(30 * time.Second)
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			body := benchBody(b, sz.size)
			h := benchSigned(b, body, benchUnix)
			wh, err := webhook.NewStandard(benchSecret, webhook.WithClock(func() time.Time { return now }))
			if err != nil {
				b.Fatal(err)
			}
			if d, err := wh.Verify(body, h); err != nil || d.Type != "response.completed" {
				b.Fatalf("Verify = %+v, %v", d, err)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := wh.Verify(body, h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSign(b *testing.B) {
	ts := time.Unix(benchUnix, 0)
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			body := benchBody(b, sz.size)
			wh, err := webhook.NewStandard(benchSecret)
			if err != nil {
				b.Fatal(err)
			}
			want := benchSigned(b, body, benchUnix).Get(webhook.HeaderSignature)
			if sig, err := wh.SignatureHeader(benchID, ts, body); err != nil || sig != want {
				b.Fatalf("SignatureHeader = %q, %v; want %q", sig, err, want)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := wh.SignatureHeader(benchID, ts, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestBenchInputs keeps the benchmark inputs honest without running the benchmarks.
func TestBenchInputs(t *testing.T) {
	for _, sz := range benchSizes {
		body := benchBody(t, sz.size)
		wh, _ := webhook.NewStandard(benchSecret, webhook.WithClock(func() time.Time { return time.Unix(benchUnix, 0) }))
		if d, err := wh.Verify(body, benchSigned(t, body, benchUnix)); err != nil || d.Type != "response.completed" {
			t.Errorf("%s: %+v, %v", sz.name, d, err)
		}
	}
}
