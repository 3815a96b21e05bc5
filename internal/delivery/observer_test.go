package delivery

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
)

// recordingObserver keeps what the engine tells an Observer.
type recordingObserver struct {
	mu       sync.Mutex
	attempts []RecordedAttempt
	disabled []*domain.Endpoint
	reasons  []string
}

func (o *recordingObserver) AttemptsRecorded(as []RecordedAttempt) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.attempts = append(o.attempts, as...)
}

func (o *recordingObserver) EndpointsDisabled(eps []*domain.Endpoint, reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.disabled = append(o.disabled, eps...)
	o.reasons = append(o.reasons, reason)
}

func (o *recordingObserver) seen() ([]RecordedAttempt, []*domain.Endpoint, []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]RecordedAttempt(nil), o.attempts...), append([]*domain.Endpoint(nil), o.disabled...), append([]string(nil), o.reasons...)
}

// TestObserverHearsRecordedAttempts checks that the observer hears every recorded
// attempt in order, with its outcome and a 410's disable.
func TestObserverHearsRecordedAttempts(t *testing.T) {
	obs := &recordingObserver{}
	h := newHarness(t, func(c *Config) { c.Observer = obs })
	r := newReceiver(t, func(n int, w http.ResponseWriter) {
		switch n {
		case 1:
			w.WriteHeader(http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusGone)
		}
	})
	e := h.endpoint(r, nil)
	msg := h.publish("t", 1)[0]
	eventually(t, "two attempts to be observed", func() bool { as, _, _ := obs.seen(); return len(as) == 2 })
	as, _, _ := obs.seen()
	first, second := as[0], as[1]
	if first.Attempt.MessageID != msg || first.Attempt.EndpointID != e.ID || first.Attempt.Number != 1 ||
		first.Status != domain.DeliveryPending || !first.EndpointFailed || first.Attempt.StatusCode != 500 || first.Listener {
		t.Errorf("first attempt = %+v / %+v", first.AttemptResult, first.Attempt)
	}
	if second.Attempt.Number != 2 || second.Status != domain.DeliveryFailed || second.DisableEndpoint != domain.GoneReason {
		t.Errorf("second attempt = %+v / %+v", second.AttemptResult, second.Attempt)
	}
	// The observer hears of it after the commit: the store has it already.
	if got, _ := h.store.GetEndpoint(bg, "", e.ID); got.State != domain.EndpointDisabled {
		t.Errorf("endpoint state = %s when the observer heard of the 410", got.State)
	}
}

// TestObserverHearsAutomaticDisable checks that maintenance tells the observer of the
// endpoints it disables for failing too long, with their failing_since.
func TestObserverHearsAutomaticDisable(t *testing.T) {
	obs := &recordingObserver{}
	h := newHarness(t, func(c *Config) {
		c.Observer = obs
		c.DisableAfter = time.Millisecond
		c.MaintenanceInterval = 20 * time.Millisecond
		c.Policy = Policy{Schedule: []time.Duration{time.Hour}} // one failure, then a long wait
	})
	r := newReceiver(t, func(n int, w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) })
	e := h.endpoint(r, nil)
	h.publish("t", 1)
	eventually(t, "the endpoint to be disabled", func() bool { _, ds, _ := obs.seen(); return len(ds) == 1 })
	_, ds, reasons := obs.seen()
	if ds[0].ID != e.ID || ds[0].FailingSince == nil || ds[0].State != domain.EndpointDisabled || reasons[0] != "failing continuously for 1ms" {
		t.Fatalf("disabled %+v for %q", ds[0], reasons[0])
	}
}
