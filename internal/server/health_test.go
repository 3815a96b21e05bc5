package server

import (
	"testing"
	"time"
)

// TestWriteHealth checks that writes failing for want of storage make the server
// unready, and that it recovers by itself: on a successful write, or after the hold.
func TestWriteHealth(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	h := &writeHealth{now: func() time.Time { return now }, hold: 10 * time.Second}
	type step struct {
		after   time.Duration // the clock moves on this much first
		observe int           // then an answer with this status is seen (0: none)
		failing bool          // what failing reports then
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"healthy", []step{{0, 202, false}, {time.Second, 404, false}}},
		{"full until a write succeeds", []step{{0, 507, true}, {time.Second, 500, true}, {time.Second, 202, false}}},
		{"full until the hold passes", []step{{0, 507, true}, {9 * time.Second, 0, true}, {time.Second, 0, false}}},
		{"the hold restarts on each failure", []step{{0, 507, true}, {8 * time.Second, 507, true}, {8 * time.Second, 0, true}, {2 * time.Second, 0, false}}},
		{"client errors change nothing", []step{{0, 507, true}, {time.Second, 400, true}, {time.Second, 413, true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.failedAt = time.Time{}
			for i, s := range tc.steps {
				now = now.Add(s.after)
				if s.observe != 0 {
					h.observe(s.observe)
				}
				if got, _ := h.failing(); got != s.failing {
					t.Fatalf("step %d (%+v): failing = %v, want %v", i, s, got, s.failing)
				}
			}
		})
	}
}
