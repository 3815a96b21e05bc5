package delivery

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlite"
)

// hungStore is the real store until down is set; from then on every write the engine
// makes on its way out waits for its context, as a database that stopped answering.
type hungStore struct {
	*sqlite.Store
	down atomic.Bool
}

func (s *hungStore) hang(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

func (s *hungStore) Complete(ctx context.Context, results []*store.AttemptResult) error {
	if s.down.Load() {
		return s.hang(ctx)
	}
	return s.Store.Complete(ctx, results)
}

func (s *hungStore) ReleaseLeases(ctx context.Context, owner string, ids []string) error {
	if s.down.Load() {
		return s.hang(ctx)
	}
	return s.Store.ReleaseLeases(ctx, owner, ids)
}

func (s *hungStore) ExtendLeases(ctx context.Context, owner string, ids []string, until time.Time) error {
	if s.down.Load() {
		return s.hang(ctx)
	}
	return s.Store.ExtendLeases(ctx, owner, ids, until)
}

// TestEngineStopHonoursContextWhenStoreHangs: with the database not answering, Stop
// still returns once its context ends, with an error, whatever it was holding: queued
// deliveries, a request in flight, and finished attempts waiting to be recorded.
func TestEngineStopHonoursContextWhenStoreHangs(t *testing.T) {
	var hs *hungStore
	h := newHarness(t, func(c *Config) {
		hs = &hungStore{Store: c.Store.(*sqlite.Store)}
		c.Store = hs
	})
	block := make(chan struct{})
	slow := newReceiver(t, func(n int, w http.ResponseWriter) { <-block })
	t.Cleanup(func() { close(block) }) // runs before the receiver's Close, which waits for handlers
	fast := newReceiver(t, nil)
	h.endpoint(slow, func(e *domain.Endpoint) { e.EventTypes, e.MaxConcurrency = []string{"slow"}, 1 })
	h.endpoint(fast, func(e *domain.Endpoint) { e.EventTypes = []string{"fast"} })
	h.publish("slow", 5) // one in flight, the rest queued
	eventually(t, "the slow request", func() bool { n, _ := slow.count(); return n >= 1 })
	hs.down.Store(true)
	h.publish("fast", 1) // published before the store hung: answered, but never recorded
	eventually(t, "the fast request", func() bool { n, _ := fast.count(); return n == 1 })

	ctx, cancel := context.WithTimeout(bg, 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.eng.Stop(ctx) }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Stop returned no error, yet the store took none of its releases")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not return after its context ended while the store hung")
	}
}
