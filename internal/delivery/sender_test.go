package delivery

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

// TestEngineHugeResponseHeaders: a receiver that answers with a megabyte of headers gets
// a failed attempt that says why; herald does not read the headers into memory.
func TestEngineHugeResponseHeaders(t *testing.T) {
	h := newHarness(t, nil)
	r := newReceiver(t, func(n int, w http.ResponseWriter) {
		v := strings.Repeat("x", 1000)
		for i := range 1024 { // 1 MB in all
			w.Header().Set(fmt.Sprintf("X-Filler-%d", i), v)
		}
		w.WriteHeader(http.StatusOK)
	})
	e := h.endpoint(r, nil)
	h.publish("t", 1)
	var atts []*domain.Attempt
	eventually(t, "a recorded attempt", func() bool {
		atts, _, _ = h.store.ListAttempts(bg, store.AttemptFilter{AppID: h.app.ID, EndpointID: e.ID})
		return len(atts) >= 1
	})
	a := atts[len(atts)-1]
	if a.Outcome == domain.OutcomeSucceeded || a.StatusCode != 0 || !strings.Contains(a.Error, "headers exceeded") {
		t.Fatalf("attempt with 1 MB of response headers: outcome %s, status %d, error %q; want a failure saying the headers were too large",
			a.Outcome, a.StatusCode, a.Error)
	}
}
