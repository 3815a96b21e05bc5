package delivery

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlite"
	"github.com/heraldhq/herald/internal/store/sqlite/sqlitetest"
)

// callLog is the real store, noting the order of the claim loop's looks and claims.
type callLog struct {
	*sqlite.Store
	mu    sync.Mutex
	calls []string // "look", or "claim" with "full" when it returned as many as asked
}

func (s *callLog) NextWake(ctx context.Context) (time.Time, bool, error) {
	s.note("look")
	return s.Store.NextWake(ctx)
}

func (s *callLog) Claim(ctx context.Context, r store.ClaimRequest) ([]*store.Claimed, error) {
	c, err := s.Store.Claim(ctx, r)
	if len(c) == r.Limit {
		s.note("claim full")
	} else {
		s.note("claim")
	}
	return c, err
}

func (s *callLog) note(call string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call)
}

// TestClaimAfterFullClaimSkipsLook: with a backlog larger than a claim, the claim loop
// claims again right after a full claim without first asking when the next delivery is
// due (on PostgreSQL that look is a round trip), and looks again once a claim comes back
// short.
func TestClaimAfterFullClaimSkipsLook(t *testing.T) {
	s := &callLog{Store: sqlitetest.Open(t, sqlite.Options{})}
	app := createApp(t, s)
	r := newReceiver(t, nil)
	createEndpoint(t, s, app.ID, r.srv.URL, r.secret, nil)
	// Published before the engine starts, so that nothing is leased on publish: the
	// claim loop finds the whole backlog due.
	const n = 50
	for i := 0; i < n; i++ {
		if _, err := s.Publish(bg, &store.PublishInput{Message: newMessage(app.ID, "t", `{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	startEngine(t, Config{Store: s, Logger: discardLogger(), Guard: loopbackGuard(), Lease: time.Minute, ClaimBatch: 10})
	eventually(t, "every delivery", func() bool { got, _ := r.count(); return got == n })

	s.mu.Lock()
	calls := append([]string(nil), s.calls...)
	s.mu.Unlock()
	fullThenClaim := 0
	for i, c := range calls {
		if i > 0 && strings.HasPrefix(c, "claim") && calls[i-1] == "claim full" {
			fullThenClaim++
		}
		if i > 0 && c == "claim" && calls[i-1] == "claim" {
			t.Fatalf("two short claims in a row without a look between them: %v", calls)
		}
	}
	if fullThenClaim == 0 {
		t.Fatalf("every claim after a full one was preceded by a look: %v", calls)
	}
}
