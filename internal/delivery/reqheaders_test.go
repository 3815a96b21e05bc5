package delivery

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/domain"
)

// TestRecordedHeadersBounded: a value past maxSentValue is cut, and past maxSentBytes
// the other headers go before herald's webhook-* ones.
func TestRecordedHeadersBounded(t *testing.T) {
	h := map[string]string{"Webhook-Id": "msg_1", "Webhook-Signature": "v1,sig", "X-Long": strings.Repeat("v", 5000)}
	for i := range 40 {
		h[fmt.Sprintf("X-Filler-%02d", i)] = strings.Repeat("f", 1000)
	}
	got := redactAndBound(h, nil)
	if got["Webhook-Id"] != "msg_1" || got["Webhook-Signature"] != "v1,sig" {
		t.Errorf("herald's headers were dropped: %v", got)
	}
	if v := got["X-Long"]; v != "" && len(v) != maxSentValue+len("…") {
		t.Errorf("X-Long recorded with %d bytes, want it cut to %d", len(v), maxSentValue)
	}
	total := 0
	for k, v := range got {
		total += len(k) + len(v)
	}
	if total > maxSentBytes || len(got) < 10 {
		t.Errorf("%d headers of %d bytes recorded; want at most %d bytes, most of them kept", len(got), total, maxSentBytes)
	}
}

// TestRecordedHeadersPrepared: when no header was written (the connection failed), the
// prepared headers are recorded, with the Authorization credentials would add.
func TestRecordedHeadersPrepared(t *testing.T) {
	rec := newHeaderRecorder()
	got := rec.headers(http.Header{"Webhook-Id": {"msg_1"}, "X-Key": {"secret-value"}}, true, map[string]string{"X-Key": "secret-value"})
	want := map[string]string{"Webhook-Id": "msg_1", "X-Key": domain.RedactedValue, "Authorization": domain.RedactedValue}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("recorded %v, want %v", got, want)
	}
	rec.trace().WroteHeaderField(":authority", []string{"example.com"})
	rec.trace().WroteHeaderField(":path", []string{"/hook"})
	rec.trace().WroteHeaderField("webhook-id", []string{"msg_2"})
	got = rec.headers(nil, true, nil)
	if want := map[string]string{"Host": "example.com", "Webhook-Id": "msg_2"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("recorded %v from an HTTP/2 request, want %v", got, want)
	}
}
