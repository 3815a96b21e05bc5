package delivery

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/crypt"
	"github.com/heraldhq/herald/internal/crypt/crypttest"
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/netguard"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/storetest"
	"github.com/heraldhq/herald/webhook"
)

// What the tests of the engine, on one node or several, share.

var bg = context.Background()

// discardLogger returns a logger that writes nothing.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// loopbackGuard returns a guard that lets engines reach test receivers on loopback.
func loopbackGuard() *netguard.Guard {
	return netguard.New([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
}

// testCipher returns a cipher with a new random key, for a test store.
func testCipher(t testing.TB) *crypt.Box {
	t.Helper()
	return crypttest.NewBox(t)
}

// startEngine creates and starts an engine and stops it when t ends (before the stores
// the test opened earlier are closed).
func startEngine(t *testing.T, cfg Config) *Engine {
	t.Helper()
	eng, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	eng.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(bg, 10*time.Second)
		defer cancel()
		eng.Stop(ctx)
	})
	return eng
}

// createApp stores a new app.
func createApp(t *testing.T, s store.Store) *domain.App {
	t.Helper()
	return storetest.CreateApp(t, s, "test")
}

// createEndpoint stores an enabled endpoint of the app for every event type, at url and
// signing with secret, after mutate (if not nil) changed it.
func createEndpoint(t *testing.T, s store.Store, appID, url string, secret webhook.Secret, mutate func(*domain.Endpoint)) *domain.Endpoint {
	t.Helper()
	return storetest.CreateEndpoint(t, s, appID, url, secret, mutate)
}

// newMessage returns a new message of the app.
func newMessage(appID, typ, payload string) *domain.Message {
	return &domain.Message{ID: ids.New("msg"), AppID: appID, Type: typ, Payload: json.RawMessage(payload), CreatedAt: time.Now().UTC()}
}

// eventually polls cond for up to 10 s; tests assert outcomes, not timings.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// inflight counts a receiver's requests in flight and remembers the most at once.
type inflight struct {
	mu       sync.Mutex
	now, top int
}

func (c *inflight) enter() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now++
	c.top = max(c.top, c.now)
}

func (c *inflight) leave() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now--
}

// peak returns the most requests that were in flight at once.
func (c *inflight) peak() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.top
}
