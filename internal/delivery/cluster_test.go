package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store/postgres"
	"github.com/heraldhq/herald/internal/store/postgres/pgtest"
	"github.com/heraldhq/herald/webhook"
)

// TestClusterLimits runs two engines on one PostgreSQL schema, as two nodes, and checks
// that an endpoint's concurrency limit and FIFO order hold across them.
func TestClusterLimits(t *testing.T) {
	engines, stores := newCluster(t, 2)

	// The receiver records, per endpoint path, requests in flight at once and the order of
	// the payload numbers.
	secret := webhook.NewHMACSecret()
	verifier, _ := webhook.NewStandardKeys([]webhook.Secret{secret})
	var mu sync.Mutex
	active := map[string]*inflight{"/capped": {}, "/fifo": {}}
	got := map[string][]int{}
	var bad atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if _, err := verifier.Verify(body, r.Header); err != nil {
			bad.Add(1)
			w.WriteHeader(400)
			return
		}
		var p struct{ N int }
		json.Unmarshal(body, &p)
		active[r.URL.Path].enter()
		mu.Lock()
		got[r.URL.Path] = append(got[r.URL.Path], p.N)
		mu.Unlock()
		time.Sleep(3 * time.Millisecond) // long enough for requests to overlap
		active[r.URL.Path].leave()
	}))
	defer recv.Close()

	app := createApp(t, stores[0])
	createEndpoint(t, stores[1], app.ID, recv.URL+"/capped", secret, func(e *domain.Endpoint) {
		e.EventTypes, e.MaxConcurrency = []string{"capped"}, 3
	})
	createEndpoint(t, stores[1], app.ID, recv.URL+"/fifo", secret, func(e *domain.Endpoint) {
		e.EventTypes, e.FIFO = []string{"fifo"}, true
	})

	const n = 150
	publish := func(eng *Engine, typ string, i int) {
		if _, err := eng.Publish(bg, newMessage(app.ID, typ, fmt.Sprintf(`{"n":%d}`, i))); err != nil {
			t.Error(err)
		}
	}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ { // capped: concurrent publishes through both nodes
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				publish(engines[i%2], "capped", i)
			}
		}(w)
	}
	wg.Add(1)
	go func() { // FIFO: one publish after the other, alternating nodes
		defer wg.Done()
		for i := 0; i < n; i++ {
			publish(engines[i%2], "fifo", i)
		}
	}()
	wg.Wait()
	eventually(t, "every delivery", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got["/capped"]) >= n && len(got["/fifo"]) >= n
	})
	mu.Lock()
	defer mu.Unlock()
	if bad.Load() != 0 {
		t.Fatalf("%d requests with a bad signature", bad.Load())
	}
	if len(got["/capped"]) != n || len(got["/fifo"]) != n {
		t.Fatalf("received %d and %d requests, want %d each (no duplicates without failures)", len(got["/capped"]), len(got["/fifo"]), n)
	}
	if n := active["/capped"].peak(); n > 3 {
		t.Errorf("the capped endpoint had %d requests in flight at once across the nodes; its max_concurrency is 3", n)
	}
	if n := active["/fifo"].peak(); n != 1 {
		t.Errorf("the FIFO endpoint had %d requests in flight at once", n)
	}
	for i, v := range got["/fifo"] {
		if v != i {
			t.Fatalf("FIFO delivery %d carried message %d; order: %v", i, v, got["/fifo"])
		}
	}
}

// newCluster starts n engines, as n nodes, each with its own store on one new PostgreSQL
// schema, and stops them when t ends.
func newCluster(t *testing.T, n int) ([]*Engine, []*postgres.Store) {
	t.Helper()
	url := pgtest.URL(t)
	box := testCipher(t)
	var engines []*Engine
	var stores []*postgres.Store
	for i := 0; i < n; i++ {
		s, err := postgres.Open(bg, url, postgres.Options{Cipher: box, Logger: discardLogger()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		eng := startEngine(t, Config{
			Store: s, Logger: discardLogger(), NodeID: fmt.Sprintf("node-%d", i), Guard: loopbackGuard(), Lease: 5 * time.Second,
		})
		engines, stores = append(engines, eng), append(stores, s)
	}
	return engines, stores
}

// TestClusterEndpointChanges checks that a node stops using its cached copy of an
// endpoint as soon as another node changes it, rather than when the cache expires.
func TestClusterEndpointChanges(t *testing.T) {
	engines, stores := newCluster(t, 2)
	secret := webhook.NewHMACSecret()
	var mu sync.Mutex
	got := map[string]int{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.URL.Path]++
		mu.Unlock()
	}))
	defer recv.Close()
	received := func(path string) int {
		mu.Lock()
		defer mu.Unlock()
		return got[path]
	}

	app := createApp(t, stores[0])
	ep := createEndpoint(t, stores[0], app.ID, recv.URL+"/old", secret, func(e *domain.Endpoint) { e.EventTypes = []string{"a.b"} })
	// Wait until node 1 hears of endpoint changes (its LISTEN connection is up; when it
	// comes up, every node drops what it cached before), by changing another endpoint.
	watch, stop := context.WithCancel(bg)
	defer stop()
	heard, err := stores[1].WatchEndpoints(watch)
	if err != nil {
		t.Fatal(err)
	}
	probe := createEndpoint(t, stores[0], app.ID, recv.URL+"/probe", secret, func(e *domain.Endpoint) { e.EventTypes = []string{"probe"} })
	eventually(t, "node 1 to listen for endpoint changes", func() bool {
		if err := stores[0].SetEndpointState(bg, probe.ID, domain.EndpointEnabled, ""); err != nil {
			t.Fatal(err)
		}
		for {
			select {
			case id := <-heard:
				if id == probe.ID {
					return true
				}
			case <-time.After(20 * time.Millisecond):
				return false
			}
		}
	})

	publish := func() {
		if _, err := engines[1].Publish(bg, newMessage(app.ID, "a.b", `{}`)); err != nil {
			t.Fatal(err)
		}
	}
	cached := func() (ok, valid bool) {
		engines[1].mu.Lock()
		defer engines[1].mu.Unlock()
		c, ok := engines[1].endpoints[ep.ID]
		return ok && c.cfg != nil, ok && !c.validTo.IsZero()
	}

	// Node 1 delivers a message and caches the endpoint.
	publish()
	eventually(t, "the first delivery", func() bool { return received("/old") == 1 })
	if ok, valid := cached(); !ok || !valid {
		t.Fatalf("node 1 did not cache the endpoint it delivered to (cached %v, valid %v)", ok, valid)
	}

	// Node 0 changes its URL: node 1 drops its copy, and the next delivery goes to the new URL.
	ep.URL, ep.UpdatedAt = recv.URL+"/new", time.Now().UTC()
	if err := stores[0].UpdateEndpoint(bg, ep); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node 1 to drop the endpoint it cached", func() bool { _, valid := cached(); return !valid })
	publish()
	eventually(t, "a delivery to the new URL", func() bool { return received("/new") == 1 })
	if n := received("/old"); n != 1 {
		t.Errorf("the old URL got %d requests after the change, want none", n-1)
	}

	// Pausing it on node 0 reaches node 1 too.
	if ok, valid := cached(); !ok || !valid {
		t.Fatalf("node 1 did not reload the endpoint (cached %v, valid %v)", ok, valid)
	}
	if err := stores[0].SetEndpointState(bg, ep.ID, domain.EndpointPaused, ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node 1 to drop the paused endpoint", func() bool { _, valid := cached(); return !valid })
}
