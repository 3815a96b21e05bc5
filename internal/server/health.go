package server

import (
	"net/http"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/httpstatus"
)

// writeFailureHold is how long /readyz fails after a write failed for want of storage,
// unless a write succeeds first.
const writeFailureHold = 10 * time.Second

// writeHealth remembers whether the latest writes failed because the database is full,
// as the answers to them tell (507), so that /readyz fails while they do. It recovers by
// itself: on the next successful write, or writeFailureHold after the last failure.
type writeHealth struct {
	now  func() time.Time
	hold time.Duration

	mu       sync.Mutex
	failedAt time.Time // the last failure not followed by a success; zero for none
}

// failing reports whether writes are failing now, and since when.
func (h *writeHealth) failing() (bool, time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failedAt.IsZero() || h.now().Sub(h.failedAt) >= h.hold {
		return false, time.Time{}
	}
	return true, h.failedAt
}

// observe records the status of an answer to a write.
func (h *writeHealth) observe(status int) {
	switch {
	case status == http.StatusInsufficientStorage:
		h.mu.Lock()
		h.failedAt = h.now()
		h.mu.Unlock()
	case status >= 200 && status < 300:
		h.mu.Lock()
		h.failedAt = time.Time{}
		h.mu.Unlock()
	}
}

// watch passes the status of every answer to a POST, PUT, PATCH or DELETE to observe.
func (h *writeHealth) watch(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			next.ServeHTTP(w, r) // GET /v1/listen hijacks its connection: leave it unwrapped
			return
		}
		rec := &httpstatus.Recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		h.observe(rec.Status)
	})
}
