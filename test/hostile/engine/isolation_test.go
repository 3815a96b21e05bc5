// Package engine holds hostile tests of the delivery engine: tenants, receivers and
// crashes that try to stall it, at a small scale, on a real SQLite store and real
// HTTP receivers on loopback.
package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/netguard"
	"github.com/heraldhq/herald/internal/store/sqlite"
	"github.com/heraldhq/herald/internal/store/sqlite/sqlitetest"
	"github.com/heraldhq/herald/internal/store/storetest"
	"github.com/heraldhq/herald/internal/tarpit"
	"github.com/heraldhq/herald/webhook"
)

// TestTenantIsolationHangingEndpoints reproduces, at a small scale, an app whose nine
// endpoints accept connections and never answer (30 s timeout) while another app
// publishes: with 16 workers the hanging app used to hold all of them, and the healthy
// app's webhooks waited for the 30 s timeouts. They must arrive within seconds.
func TestTenantIsolationHangingEndpoints(t *testing.T) {
	s := sqlitetest.Open(t, sqlite.Options{})
	hang, err := tarpit.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hang.Close() })
	eng, err := delivery.New(delivery.Config{
		Store: s, Logger: slog.New(slog.DiscardHandler), Workers: 16,
		Guard: netguard.New([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}),
	})
	if err != nil {
		t.Fatal(err)
	}
	eng.Start()
	t.Cleanup(func() {
		hang.Close() // the hanging requests fail now, instead of holding Stop for 30 s
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		eng.Stop(ctx)
	})

	hostile := storetest.CreateApp(t, s, "hostile")
	for range 9 {
		storetest.CreateEndpoint(t, s, hostile.ID, "http://"+hang.Addr().String(), webhook.NewHMACSecret(), func(e *domain.Endpoint) {
			e.TimeoutMS = 30_000
		})
	}
	for i := range 50 { // 450 deliveries that will hang
		publish(t, eng, hostile.ID, i)
	}
	deadline := time.Now().Add(10 * time.Second)
	for hang.Accepted() < 8 { // the hanging app has taken what it can
		if time.Now().After(deadline) {
			t.Fatalf("only %d connections to the hanging endpoints", hang.Accepted())
		}
		time.Sleep(10 * time.Millisecond)
	}

	healthy := storetest.CreateApp(t, s, "healthy")
	var (
		mu      sync.Mutex
		arrived = map[int]time.Time{}
	)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ N int }
		json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		if _, ok := arrived[body.N]; !ok {
			arrived[body.N] = time.Now()
		}
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rcv.Close)
	storetest.CreateEndpoint(t, s, healthy.ID, rcv.URL, webhook.NewHMACSecret(), nil)
	const n = 40
	published := make([]time.Time, n)
	for i := range n {
		published[i] = time.Now()
		publish(t, eng, healthy.ID, i)
	}

	// The bound: a few seconds, far below the hanging endpoints' 30 s timeout.
	const bound = 3 * time.Second
	deadline = time.Now().Add(bound + 5*time.Second)
	for {
		mu.Lock()
		got := len(arrived)
		mu.Unlock()
		if got == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d webhooks of the healthy app arrived within %s while another app's endpoints hung", got, n, time.Since(published[0]).Round(time.Millisecond))
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	lat := make([]time.Duration, 0, n)
	for i, at := range arrived {
		lat = append(lat, at.Sub(published[i]))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("healthy app, publish → arrival: p50 %s, max %s; hanging connections: %d", lat[n/2].Round(time.Millisecond), lat[n-1].Round(time.Millisecond), hang.Accepted())
	if lat[n-1] > bound {
		t.Fatalf("the healthy app's slowest webhook took %s, want at most %s", lat[n-1], bound)
	}
}

func publish(t *testing.T, eng *delivery.Engine, appID string, n int) {
	t.Helper()
	m := &domain.Message{ID: ids.New("msg"), AppID: appID, Type: "t", Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)), CreatedAt: time.Now().UTC()}
	if _, err := eng.Publish(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}
