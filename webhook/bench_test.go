package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/webhook"
	"github.com/heraldhq/herald/webhook/internal/benchcase"
)

// Benchmarks of signing and verifying an OpenAI-style delivery:
//
//	cd webhook && go test -run '^$' -bench . -benchmem -count 5 -cpu 1
//
// Comparisons with openai-go and the Standard Webhooks reference library, on the same
// inputs (package internal/benchcase), are in the webhook/internal/compat module, which
// may depend on them.

// benchSigned returns the headers of a delivery of body at unix signed with
// benchcase.Secret as the Standard Webhooks spec says, computed with crypto/hmac, not
// with the package.
func benchSigned(tb testing.TB, body []byte, unix int64) http.Header {
	tb.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(benchcase.Secret, "whsec_"))
	if err != nil {
		tb.Fatal(err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(benchcase.ID + "." + strconv.FormatInt(unix, 10) + "."))
	m.Write(body)
	return benchcase.Header(unix, "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
}

func BenchmarkVerify(b *testing.B) {
	benchcase.EachSize(b, func(b *testing.B, body []byte) {
		benchcase.Verify(b, body, benchSigned(b, body, benchcase.Unix))
	})
}

func BenchmarkSign(b *testing.B) {
	benchcase.EachSize(b, func(b *testing.B, body []byte) {
		benchcase.SignatureHeader(b, body, benchSigned(b, body, benchcase.Unix).Get(webhook.HeaderSignature))
	})
}

// TestBenchInputs keeps the benchmark inputs honest without running the benchmarks.
func TestBenchInputs(t *testing.T) {
	for _, sz := range benchcase.Sizes {
		body := benchcase.Body(t, sz.Size)
		wh, _ := webhook.NewStandard(benchcase.Secret, webhook.WithClock(func() time.Time { return time.Unix(benchcase.Unix, 0) }))
		if d, err := wh.Verify(body, benchSigned(t, body, benchcase.Unix)); err != nil || d.Type != "response.completed" {
			t.Errorf("%s: %+v, %v", sz.Name, d, err)
		}
	}
}
