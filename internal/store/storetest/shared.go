package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

// sharedOnly wraps a test of what only a store.Shared does, enforce per-endpoint limits
// across the nodes that share it, to skip other stores.
func sharedOnly(test func(t *testing.T, s store.Store)) func(t *testing.T, s store.Store) {
	return func(t *testing.T, s store.Store) {
		if _, ok := s.(store.Shared); !ok {
			t.Skip("this backend is not a store.Shared (one node per database): its engine enforces limits")
		}
		test(t, s)
	}
}

// claimLimited claims like a node that relies on the store for per-endpoint limits
// across nodes, with def as the default concurrency.
func claimLimited(t *testing.T, s store.Store, owner string, now time.Time, limit, def int) []*store.Claimed {
	t.Helper()
	c, err := s.Claim(ctx, store.ClaimRequest{Owner: owner, Now: now, LeaseUntil: now.Add(time.Minute), Limit: limit, EndpointConcurrency: def})
	must(t, err)
	return c
}

func countByEndpoint(cs []*store.Claimed) map[string]int {
	n := map[string]int{}
	for _, c := range cs {
		n[c.Delivery.EndpointID]++
	}
	return n
}

// testClaimConcurrencyLimit checks that with EndpointConcurrency set, an endpoint never has
// more unexpired leases than its limit, whoever holds them.
func testClaimConcurrencyLimit(t *testing.T, s store.Store) {
	a := newApp(t, s)
	capped := newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.MaxConcurrency = 3 })
	dflt := newEndpoint(t, s, a.ID, nil) // the default: 2 here
	for i := 0; i < 10; i++ {
		publish(t, s, a.ID, "t", base, nil)
	}
	var all []*store.Claimed
	for _, owner := range []string{"n1", "n2", "n3", "n1"} {
		all = append(all, claimLimited(t, s, owner, base, 2, 2)...)
	}
	if got := countByEndpoint(all); got[capped.ID] != 3 || got[dflt.ID] != 2 {
		t.Fatalf("leased per endpoint = %v, want 3 for the capped endpoint and 2 (the default) for the other", got)
	}
	// A finished delivery frees its slot, for any owner.
	var done *store.Claimed
	for _, c := range all {
		if c.Delivery.EndpointID == capped.ID {
			done = c
			break
		}
	}
	must(t, s.Complete(ctx, []*store.AttemptResult{result(done, base, domain.DeliverySucceeded, nil, 200)}))
	if c := claimLimited(t, s, "n3", base, 10, 2); len(c) != 1 || c[0].Delivery.EndpointID != capped.ID {
		t.Fatalf("after one success, claimed %v; want one delivery of the capped endpoint", countByEndpoint(c))
	}
	// Expired leases do not count: at base+1m every lease above has run out.
	if got := countByEndpoint(claimLimited(t, s, "n4", base.Add(time.Minute), 100, 2)); got[capped.ID] != 3 || got[dflt.ID] != 2 {
		t.Fatalf("after the leases expired, claimed %v", got)
	}
	// Without EndpointConcurrency the caller enforces limits itself: everything due goes.
	if got := countByEndpoint(claim(t, s, "n5", base.Add(2*time.Minute), 100)); got[capped.ID] != 9 || got[dflt.ID] != 10 {
		t.Fatalf("claim without limits = %v, want all 19 pending deliveries", got)
	}
}

// testConcurrentClaimsLimit races claims of many owners for the same endpoints.
func testConcurrentClaimsLimit(t *testing.T, s store.Store) {
	a := newApp(t, s)
	capped := newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.MaxConcurrency = 4 })
	dflt := newEndpoint(t, s, a.ID, nil)
	for i := 0; i < 60; i++ {
		publish(t, s, a.ID, "t", base, nil)
	}
	var mu sync.Mutex
	var all []*store.Claimed
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				c, err := s.Claim(ctx, store.ClaimRequest{Owner: fmt.Sprintf("n%d", g), Now: base, LeaseUntil: base.Add(time.Minute), Limit: 3, EndpointConcurrency: 3})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				all = append(all, c...)
				mu.Unlock()
			}
		}(g)
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, c := range all {
		if seen[c.Delivery.ID] {
			t.Fatalf("delivery %s claimed twice", c.Delivery.ID)
		}
		seen[c.Delivery.ID] = true
	}
	if got := countByEndpoint(all); got[capped.ID] != 4 || got[dflt.ID] != 3 {
		t.Fatalf("concurrent claims leased %v; want exactly 4 and 3", got)
	}
}

// testPublishLeaseLimit checks that lease-on-publish respects limits across owners.
func testPublishLeaseLimit(t *testing.T, s store.Store) {
	a := newApp(t, s)
	capped := newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.MaxConcurrency = 2 })
	dflt := newEndpoint(t, s, a.ID, nil)
	limited := newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.RateLimit, e.MaxConcurrency = 5, 10 })
	leased := map[string]int{}
	for i := 0; i < 5; i++ {
		res := publish(t, s, a.ID, "t", base, func(in *store.PublishInput) {
			in.LeaseOwner, in.LeaseUntil, in.EndpointConcurrency = "n1", base.Add(time.Minute), 3
		})
		if len(res.Deliveries) != 3 {
			t.Fatalf("publish made %d deliveries, want 3", len(res.Deliveries))
		}
		for _, d := range res.Leased {
			leased[d.EndpointID]++
		}
	}
	if leased[capped.ID] != 2 || leased[dflt.ID] != 3 || leased[limited.ID] != 0 {
		t.Fatalf("leased on publish = %v; want 2 (its limit), 3 (the default) and 0 (rate-limited: claims only)", leased)
	}
	got := countByEndpoint(claimLimited(t, s, "n2", base, 100, 3))
	if got[capped.ID] != 0 || got[dflt.ID] != 0 || got[limited.ID] != 5 {
		t.Fatalf("claim after the publishes = %v; want only the rate-limited endpoint's 5 (its burst)", got)
	}
}

// testRateLimit checks the token bucket that Claim keeps per rate-limited endpoint.
func testRateLimit(t *testing.T, s store.Store) {
	a := newApp(t, s)
	newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.RateLimit = 2 })
	for i := 0; i < 20; i++ {
		publish(t, s, a.ID, "t", base, nil)
	}
	steps := []struct {
		owner string
		at    time.Duration
		want  int
	}{
		{"n1", 0, 2},                       // a full bucket: the burst (the rate, at least 1)
		{"n2", 0, 0},                       // empty, for every owner
		{"n2", 500 * time.Millisecond, 1},  // 2/s refills one token in half a second
		{"n1", 500 * time.Millisecond, 0},  // and it is spent
		{"n1", 1000 * time.Millisecond, 1}, // another half second
		{"n3", 10 * time.Second, 2},        // a long pause refills only up to the burst
	}
	for i, st := range steps {
		c := claimLimited(t, s, st.owner, base.Add(st.at), 100, 64)
		if len(c) != st.want {
			t.Fatalf("step %d (%s at +%v): claimed %d, want %d", i, st.owner, st.at, len(c), st.want)
		}
		var results []*store.AttemptResult
		for _, cl := range c {
			results = append(results, result(cl, base.Add(st.at), domain.DeliverySucceeded, nil, 200))
		}
		must(t, s.Complete(ctx, results)) // concurrency is not what limits here
	}
}

// testFIFOWithLimits checks FIFO across owners when the store enforces limits.
func testFIFOWithLimits(t *testing.T, s store.Store) {
	a := newApp(t, s)
	newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.FIFO, e.MaxConcurrency = true, 10 })
	var order []string
	for i := 0; i < 3; i++ {
		res := publish(t, s, a.ID, "t", base, func(in *store.PublishInput) {
			in.LeaseOwner, in.LeaseUntil, in.EndpointConcurrency = "n1", base.Add(time.Minute), 8
		})
		if len(res.Leased) != 0 {
			t.Fatal("a FIFO endpoint's delivery was leased on publish")
		}
		order = append(order, res.Deliveries[0].ID)
	}
	for i := range order {
		c := claimLimited(t, s, fmt.Sprintf("n%d", i), base, 10, 8)
		if len(c) != 1 || c[0].Delivery.ID != order[i] {
			t.Fatalf("step %d: claimed %d, want exactly delivery %d", i, len(c), i)
		}
		if more := claimLimited(t, s, "other", base, 10, 8); len(more) != 0 {
			t.Fatalf("step %d: a second delivery was claimed while one is in flight", i)
		}
		must(t, s.Complete(ctx, []*store.AttemptResult{result(c[0], base, domain.DeliverySucceeded, nil, 200)}))
	}
}

// waitNotified waits for a notification; a store notifies within milliseconds, the long
// timeout only keeps a broken store from hanging the suite.
func waitNotified(t *testing.T, ch <-chan struct{}, after string) {
	t.Helper()
	select {
	case _, ok := <-ch:
		if !ok {
			t.Fatalf("the notification channel closed, waiting after %s", after)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no notification after %s", after)
	}
}

func testNotifier(t *testing.T, s store.Store) {
	n, ok := s.(store.Notifier)
	if !ok {
		t.Skip("this backend does not implement store.Notifier (one node per database)")
	}
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := n.Subscribe(subCtx)
	must(t, err)
	a := newApp(t, s)
	fifo := newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.FIFO = true })
	plain := newEndpoint(t, s, a.ID, nil)
	now := time.Now().UTC().Truncate(time.Millisecond)
	// Publishes that leave a delivery unleased (FIFO endpoints are never leased on publish).
	for i := 0; i < 2; i++ {
		res := publish(t, s, a.ID, "t", now, func(in *store.PublishInput) { in.LeaseOwner, in.LeaseUntil = "n1", now.Add(time.Minute) })
		if len(res.Leased) != 1 || res.Leased[0].EndpointID != plain.ID {
			t.Fatalf("leased %d deliveries on publish, want the plain endpoint's", len(res.Leased))
		}
		waitNotified(t, ch, "a publish with an unleased delivery")
	}
	// Released leases.
	must(t, s.ReleaseLeases(ctx, "n1", nil))
	waitNotified(t, ch, "released leases")
	// A retry.
	c := claim(t, s, "n2", time.Now(), 10)
	if len(c) != 3 {
		t.Fatalf("claimed %d, want the FIFO head and the two released deliveries", len(c))
	}
	var results []*store.AttemptResult
	for _, cl := range c {
		results = append(results, result(cl, time.Now(), domain.DeliveryFailed, nil, 500))
	}
	must(t, s.Complete(ctx, results))
	_, err = s.RetryDelivery(ctx, a.ID, c[0].Delivery.ID, time.Now())
	must(t, err)
	waitNotified(t, ch, "a retry")
	// A resumed endpoint.
	e, err := s.GetEndpoint(ctx, a.ID, fifo.ID)
	must(t, err)
	e.State = domain.EndpointPaused
	must(t, s.UpdateEndpoint(ctx, e))
	e.State = domain.EndpointEnabled
	must(t, s.UpdateEndpoint(ctx, e))
	waitNotified(t, ch, "a resumed endpoint")
	cancel()
	for range ch { // closed when the context ends
	}
}

func testLocker(t *testing.T, s store.Store) {
	l, ok := s.(store.Locker)
	if !ok {
		t.Skip("this backend does not implement store.Locker (one node per database)")
	}
	releaseA, ok, err := l.TryLock(ctx, "a")
	must(t, err)
	if !ok {
		t.Fatal("a free lock was not taken")
	}
	if _, ok, err := l.TryLock(ctx, "a"); err != nil || ok {
		t.Fatalf("a held lock was taken again: %v %v", ok, err)
	}
	releaseB, ok, err := l.TryLock(ctx, "b")
	if err != nil || !ok {
		t.Fatalf("another lock: %v %v", ok, err)
	}
	releaseA()
	releaseA2, ok, err := l.TryLock(ctx, "a")
	if err != nil || !ok {
		t.Fatalf("a released lock was not free: %v %v", ok, err)
	}
	releaseA2()
	releaseB()
}

// testLiveness checks that the leases of a node that stopped heartbeating are released
// by another node's heartbeat, and those of a live node are not.
func testLiveness(t *testing.T, s store.Store) {
	l := s.(store.Liveness)
	a := newApp(t, s)
	newEndpoint(t, s, a.ID, nil)
	for i := 0; i < 3; i++ {
		publish(t, s, a.ID, "t", base, nil)
	}
	if _, err := l.Heartbeat(ctx, "dead", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Heartbeat(ctx, "alive", time.Hour); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claimed, err := s.Claim(ctx, store.ClaimRequest{Owner: "dead", Now: now, LeaseUntil: now.Add(time.Hour), Limit: 2})
	must(t, err)
	if len(claimed) != 2 {
		t.Fatalf("claimed %d, want 2", len(claimed))
	}
	// Every node heartbeated within the hour: nothing is released.
	if released, err := l.Heartbeat(ctx, "alive", time.Hour); err != nil || len(released) != 0 {
		t.Fatalf("heartbeat with a live cluster released %v, %v", released, err)
	}
	if again, err := s.Claim(ctx, store.ClaimRequest{Owner: "alive", Now: now, LeaseUntil: now.Add(time.Hour), Limit: 10}); err != nil || len(again) != 1 {
		t.Fatalf("claim beside a live node got %d, %v; want the 1 unleased delivery", len(again), err)
	}
	nodes, err := l.Nodes(ctx)
	must(t, err)
	if len(nodes) != 2 || nodes[0].ID != "alive" || nodes[0].HeartbeatAt.Before(nodes[0].StartedAt) {
		t.Fatalf("nodes = %+v, want alive (latest heartbeat) and dead", nodes)
	}
	// "dead" heartbeated some milliseconds ago: with a timeout below that, it is silent.
	time.Sleep(20 * time.Millisecond)
	released, err := l.Heartbeat(ctx, "alive", 10*time.Millisecond)
	must(t, err)
	if len(released) != 1 || released[0] != "dead" {
		t.Fatalf("released %v, want [dead]", released)
	}
	taken, err := s.Claim(ctx, store.ClaimRequest{Owner: "alive", Now: time.Now(), LeaseUntil: time.Now().Add(time.Hour), Limit: 10})
	must(t, err)
	if len(taken) != 2 {
		t.Fatalf("after the dead node's release, claimed %d, want its 2 deliveries", len(taken))
	}
	if nodes, err := l.Nodes(ctx); err != nil || len(nodes) != 1 || nodes[0].ID != "alive" {
		t.Fatalf("nodes after the release = %+v, %v; want only alive", nodes, err)
	}
	must(t, l.Leave(ctx, "alive"))
	if nodes, err := l.Nodes(ctx); err != nil || len(nodes) != 0 {
		t.Fatalf("nodes after leaving = %+v, %v", nodes, err)
	}
}
