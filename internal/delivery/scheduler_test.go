package delivery

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
)

func TestNextLimit(t *testing.T) {
	const timeout = 10 * time.Second
	ok := outcome{status: domain.DeliverySucceeded}
	failed := outcome{status: domain.DeliveryPending, endpointFailed: true}
	throttled := outcome{status: domain.DeliveryPending, throttled: true}
	timedOut := outcome{status: domain.DeliveryPending, timedOut: true}
	for _, tc := range []struct {
		name       string
		limit, max int
		o          outcome
		latency    time.Duration
		want       int
	}{
		{"a timely success grows the limit", 8, 64, ok, 50 * time.Millisecond, 9},
		{"up to the configured limit", 64, 64, ok, 50 * time.Millisecond, 64},
		{"a limit lowered by a change is met at once", 64, 10, ok, 50 * time.Millisecond, 10},
		{"a success at half the timeout still grows it", 8, 64, ok, timeout / 2, 9},
		{"a slower success holds it", 8, 64, ok, timeout/2 + time.Millisecond, 8},
		{"a timeout halves it", 8, 64, timedOut, timeout, 4},
		{"push-back halves it", 9, 64, throttled, 10 * time.Millisecond, 4},
		{"never below one", 1, 64, timedOut, timeout, 1},
		{"other failures leave it", 8, 64, failed, 10 * time.Millisecond, 8},
		{"FIFO stays at one", 1, 1, ok, 10 * time.Millisecond, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextLimit(tc.limit, tc.max, tc.o, tc.latency, timeout); got != tc.want {
				t.Errorf("nextLimit(%d, %d, ...) = %d, want %d", tc.limit, tc.max, got, tc.want)
			}
		})
	}
}

// TestNextLimitHangingEndpoint follows an endpoint whose attempts all time out from its
// first load: it never holds more than initialLimit requests, and after one round of
// timeouts it holds one.
func TestNextLimitHangingEndpoint(t *testing.T) {
	limit := min(64, initialLimit)
	for range initialLimit { // the first round: every request in flight times out
		limit = nextLimit(limit, 64, outcome{status: domain.DeliveryPending, timedOut: true}, 30*time.Second, 30*time.Second)
	}
	if limit != 1 {
		t.Fatalf("after a round of timeouts the limit is %d, want 1", limit)
	}
}

func TestAdmitAndAppWorkers(t *testing.T) {
	for _, tc := range []struct {
		workers, appWorkers int // configured
		wantAppWorkers      int
	}{
		{512, 0, 256},
		{16, 0, 8},
		{1, 0, 1},
		{16, 4, 4},
		{16, 100, 16},
	} {
		c := Config{Store: &hungStore{}, Workers: tc.workers, AppWorkers: tc.appWorkers}
		if err := c.setDefaults(); err != nil {
			t.Fatal(err)
		}
		if c.AppWorkers != tc.wantAppWorkers {
			t.Errorf("Workers %d, AppWorkers %d: default %d, want %d", tc.workers, tc.appWorkers, c.AppWorkers, tc.wantAppWorkers)
		}
		if !admit(c.AppWorkers-1, c.AppWorkers) || admit(c.AppWorkers, c.AppWorkers) {
			t.Errorf("admit lets an app exceed %d requests, or stops it short of them", c.AppWorkers)
		}
	}
}
