package storetest

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

func testClaimComplete(t *testing.T, s store.Store) {
	a := newApp(t, s)
	e := newEndpoint(t, s, a.ID, nil)
	res := publish(t, s, a.ID, "t", base, nil)
	if c := claim(t, s, "n1", base.Add(-time.Second), 10); len(c) != 0 {
		t.Fatalf("claimed %d deliveries before they were due", len(c))
	}
	c := claim(t, s, "n1", base, 10)
	if len(c) != 1 || c[0].Type != "t" || string(c[0].Payload) != `{"type":"t"}` || c[0].Delivery.ID != res.Deliveries[0].ID {
		t.Fatalf("claim = %+v", c)
	}
	if again := claim(t, s, "n2", base.Add(time.Second), 10); len(again) != 0 {
		t.Fatal("a leased delivery was claimed twice")
	}
	retryAt := base.Add(5 * time.Second)
	must(t, s.Complete(ctx, []*store.AttemptResult{result(c[0], base, domain.DeliveryPending, &retryAt, 503)}))
	got, _ := s.GetEndpoint(ctx, a.ID, e.ID)
	if got.FailingSince == nil || !got.FailingSince.Equal(base) {
		t.Fatalf("failing_since = %v, want %v", got.FailingSince, base)
	}
	if c := claim(t, s, "n1", base.Add(4*time.Second), 10); len(c) != 0 {
		t.Fatal("claimed before the retry was due")
	}
	c = claim(t, s, "n1", retryAt, 10)
	if len(c) != 1 || c[0].Delivery.Attempts != 1 {
		t.Fatalf("retry claim = %+v", c)
	}
	must(t, s.Complete(ctx, []*store.AttemptResult{result(c[0], retryAt, domain.DeliverySucceeded, nil, 200)}))
	d, _ := s.GetDelivery(ctx, a.ID, c[0].Delivery.ID)
	if d.Status != domain.DeliverySucceeded || d.Attempts != 2 || d.LastStatusCode != 200 || d.NextAttemptAt != nil {
		t.Fatalf("delivery after success = %+v", d)
	}
	got, _ = s.GetEndpoint(ctx, a.ID, e.ID)
	if got.FailingSince != nil {
		t.Fatal("failing_since not cleared by a success")
	}
	atts, _, err := s.ListAttempts(ctx, store.AttemptFilter{AppID: a.ID, DeliveryID: d.ID})
	must(t, err)
	if len(atts) != 2 || atts[0].StatusCode != 200 || atts[1].StatusCode != 503 || atts[1].Latency != 1500*time.Microsecond ||
		atts[0].ResponseHeaders["Content-Type"] != "text/plain" || string(atts[0].ResponseBody) != "ok" {
		t.Fatalf("attempts = %+v %+v", atts[0], atts[1])
	}
	if _, ok, _ := s.NextWake(ctx); ok {
		t.Error("NextWake reports work after everything succeeded")
	}
	if n, _ := s.QueueDepth(ctx); n != 0 {
		t.Errorf("QueueDepth = %d", n)
	}

	// 410: the delivery fails and the endpoint is disabled.
	publish(t, s, a.ID, "t", base, nil)
	c = claim(t, s, "n1", base.Add(time.Minute), 10)
	r := result(c[0], base.Add(time.Minute), domain.DeliveryFailed, nil, 410)
	r.DisableEndpoint = "the endpoint answered 410 Gone"
	must(t, s.Complete(ctx, []*store.AttemptResult{r}))
	got, _ = s.GetEndpoint(ctx, a.ID, e.ID)
	if got.State != domain.EndpointDisabled || got.DisabledReason != r.DisableEndpoint {
		t.Fatalf("endpoint after 410 = %+v", got)
	}
}

func testLeaseExpiry(t *testing.T, s store.Store) {
	a := newApp(t, s)
	newEndpoint(t, s, a.ID, nil)
	publish(t, s, a.ID, "t", base, nil)
	c := claim(t, s, "dead-node", base, 10)
	if len(c) != 1 {
		t.Fatal("nothing claimed")
	}
	if wake, ok, _ := s.NextWake(ctx); !ok || !wake.Equal(base.Add(time.Minute)) {
		t.Fatalf("NextWake = %v %v, want the lease expiry", wake, ok)
	}
	if c2 := claim(t, s, "n2", base.Add(59*time.Second), 10); len(c2) != 0 {
		t.Fatal("claimed before the lease expired")
	}
	c2 := claim(t, s, "n2", base.Add(time.Minute), 10)
	if len(c2) != 1 || c2[0].Delivery.ID != c[0].Delivery.ID {
		t.Fatal("an expired lease was not claimable")
	}
	// Extending and releasing.
	must(t, s.ExtendLeases(ctx, "n2", []string{c2[0].Delivery.ID}, base.Add(10*time.Minute)))
	if c3 := claim(t, s, "n3", base.Add(5*time.Minute), 10); len(c3) != 0 {
		t.Fatal("claimed despite an extended lease")
	}
	must(t, s.ReleaseLeases(ctx, "n2", nil))
	if c3 := claim(t, s, "n3", time.Now(), 10); len(c3) != 1 {
		t.Fatal("a released delivery was not claimable")
	}
}

func testPublishLease(t *testing.T, s store.Store) {
	a := newApp(t, s)
	newEndpoint(t, s, a.ID, nil)
	newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.FIFO = true })
	newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.State = domain.EndpointPaused })
	res := publish(t, s, a.ID, "t", base, func(in *store.PublishInput) {
		in.LeaseOwner, in.LeaseUntil = "n1", base.Add(time.Minute)
	})
	if len(res.Deliveries) != 3 || len(res.Leased) != 1 {
		t.Fatalf("deliveries %d leased %d, want 3 and 1 (FIFO and paused endpoints are not leased)", len(res.Deliveries), len(res.Leased))
	}
	c := claim(t, s, "n2", base, 10)
	if len(c) != 1 || c[0].Delivery.ID == res.Leased[0].ID {
		t.Fatalf("claim after a leased publish = %d deliveries, want only the FIFO one", len(c))
	}
}

func testPausedEndpoint(t *testing.T, s store.Store) {
	a := newApp(t, s)
	e := newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.State = domain.EndpointPaused })
	publish(t, s, a.ID, "t", base, nil)
	if c := claim(t, s, "n1", base.Add(time.Hour), 10); len(c) != 0 {
		t.Fatal("claimed a paused endpoint's delivery")
	}
	e.State = domain.EndpointEnabled
	must(t, s.UpdateEndpoint(ctx, e))
	if c := claim(t, s, "n1", base.Add(time.Hour), 10); len(c) != 1 {
		t.Fatal("a resumed endpoint's queued delivery was not claimable")
	}
}

func testFIFO(t *testing.T, s store.Store) {
	a := newApp(t, s)
	newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.FIFO = true })
	var order []string
	for i := 0; i < 5; i++ {
		order = append(order, publish(t, s, a.ID, "t", base, nil).Deliveries[0].ID)
	}
	now := base
	for i := 0; i < 5; i++ {
		c := claim(t, s, "n1", now, 10)
		if len(c) != 1 || c[0].Delivery.ID != order[i] {
			t.Fatalf("step %d: claimed %d, want exactly delivery %d in order", i, len(c), i)
		}
		if more := claim(t, s, "n2", now, 10); len(more) != 0 {
			t.Fatalf("step %d: a second delivery was claimed while one is in flight", i)
		}
		if i == 2 {
			// A failure holds the line until its retry succeeds.
			retry := now.Add(10 * time.Second)
			must(t, s.Complete(ctx, []*store.AttemptResult{result(c[0], now, domain.DeliveryPending, &retry, 500)}))
			if more := claim(t, s, "n1", now.Add(5*time.Second), 10); len(more) != 0 {
				t.Fatal("FIFO skipped past a failed delivery waiting for its retry")
			}
			now = retry
			c = claim(t, s, "n1", now, 10)
			if len(c) != 1 || c[0].Delivery.ID != order[i] {
				t.Fatal("the retried head was not claimed")
			}
		}
		must(t, s.Complete(ctx, []*store.AttemptResult{result(c[0], now, domain.DeliverySucceeded, nil, 200)}))
	}
}

func testExclude(t *testing.T, s store.Store) {
	a := newApp(t, s)
	busy := newEndpoint(t, s, a.ID, nil)
	free := newEndpoint(t, s, a.ID, nil)
	publish(t, s, a.ID, "t", base, nil)
	c := claim(t, s, "n1", base, 10, busy.ID)
	if len(c) != 1 || c[0].Delivery.EndpointID != free.ID {
		t.Fatalf("claim with exclude = %+v", c)
	}
}

func testRetryAndReplay(t *testing.T, s store.Store) {
	a := newApp(t, s)
	e := newEndpoint(t, s, a.ID, nil)
	var claimed []*store.Claimed
	for i := 0; i < 5; i++ {
		publish(t, s, a.ID, "t", base, nil)
	}
	claimed = claim(t, s, "n1", base, 10)
	var results []*store.AttemptResult
	for i, c := range claimed {
		status := domain.DeliveryFailed
		if i < 2 {
			status = domain.DeliverySucceeded
		}
		results = append(results, result(c, base, status, nil, 500))
	}
	must(t, s.Complete(ctx, results))

	d, err := s.RetryDelivery(ctx, a.ID, claimed[0].Delivery.ID, base.Add(time.Minute))
	must(t, err)
	if d.Status != domain.DeliveryPending || d.NextAttemptAt == nil {
		t.Fatalf("after RetryDelivery = %+v", d)
	}
	c := claim(t, s, "n1", base.Add(time.Minute), 10)
	if len(c) != 1 {
		t.Fatal("the retried delivery was not claimable")
	}
	_, err = s.RetryDelivery(ctx, a.ID, c[0].Delivery.ID, base.Add(time.Minute))
	wantErr(t, err, store.ErrConflict)
	must(t, s.Complete(ctx, []*store.AttemptResult{result(c[0], base.Add(time.Minute), domain.DeliverySucceeded, nil, 200)}))
	_, err = s.RetryDelivery(ctx, a.ID, "dlv_missing", base)
	wantErr(t, err, store.ErrNotFound)

	// Replay the three failed ones, two per call.
	total, after := 0, ""
	for calls := 0; ; calls++ {
		r, err := s.Replay(ctx, store.ReplayFilter{AppID: a.ID, EndpointID: e.ID, Status: domain.DeliveryFailed, Limit: 2, After: after}, base.Add(2*time.Minute))
		must(t, err)
		total += r.Replayed
		if r.Next == "" {
			break
		}
		after = r.Next
		if calls > 5 {
			t.Fatal("replay does not finish")
		}
	}
	if total != 3 {
		t.Fatalf("replayed %d, want the 3 failed deliveries", total)
	}
	if c := claim(t, s, "n1", base.Add(2*time.Minute), 10); len(c) != 3 {
		t.Fatalf("claimed %d replayed deliveries, want 3", len(c))
	}
	_, err = s.Replay(ctx, store.ReplayFilter{AppID: a.ID, EndpointID: "ep_missing"}, base)
	wantErr(t, err, store.ErrNotFound)
}

func testPurge(t *testing.T, s store.Store) {
	a := newApp(t, s)
	newEndpoint(t, s, a.ID, nil)
	old := publish(t, s, a.ID, "t", base, func(in *store.PublishInput) { in.Message.IdempotencyKey = "k1" })
	c := claim(t, s, "n1", base, 10)
	must(t, s.Complete(ctx, []*store.AttemptResult{result(c[0], base, domain.DeliverySucceeded, nil, 200)}))
	stuck := publish(t, s, a.ID, "t", base, nil) // still pending: must survive
	fresh := publish(t, s, a.ID, "t", base.Add(48*time.Hour), nil)

	res, err := s.Purge(ctx, base.Add(time.Hour), base.Add(time.Hour), 100)
	must(t, err)
	if res.Messages != 1 || res.Deliveries != 1 || res.Attempts != 1 || res.IdempotencyKeys != 1 {
		t.Fatalf("purge = %+v", res)
	}
	_, err = s.GetMessage(ctx, a.ID, old.Message.ID)
	wantErr(t, err, store.ErrNotFound)
	for _, m := range []*store.PublishResult{stuck, fresh} {
		if _, err := s.GetMessage(ctx, a.ID, m.Message.ID); err != nil {
			t.Errorf("message %s purged: %v", m.Message.ID, err)
		}
	}
	// The purged key is free again.
	if again := publish(t, s, a.ID, "t", base.Add(2*time.Hour), func(in *store.PublishInput) { in.Message.IdempotencyKey = "k1" }); again.Duplicate {
		t.Error("idempotency key survived its purge")
	}
}

func testDisableFailing(t *testing.T, s store.Store) {
	a := newApp(t, s)
	failing := newEndpoint(t, s, a.ID, nil)
	healthy := newEndpoint(t, s, a.ID, nil)
	publish(t, s, a.ID, "t", base, nil)
	var results []*store.AttemptResult
	for _, c := range claim(t, s, "n1", base, 10) {
		if c.Delivery.EndpointID == failing.ID {
			next := base.Add(time.Hour)
			results = append(results, result(c, base, domain.DeliveryPending, &next, 500))
		} else {
			results = append(results, result(c, base, domain.DeliverySucceeded, nil, 200))
		}
	}
	must(t, s.Complete(ctx, results))
	if got, _ := s.DisableFailingEndpoints(ctx, base.Add(-time.Hour), "failing"); len(got) != 0 {
		t.Fatal("disabled an endpoint failing for less than the window")
	}
	got, err := s.DisableFailingEndpoints(ctx, base.Add(time.Hour), "failing for 5 days")
	must(t, err)
	if len(got) != 1 || got[0].ID != failing.ID || got[0].State != domain.EndpointDisabled {
		t.Fatalf("disabled = %+v", got)
	}
	h, _ := s.GetEndpoint(ctx, a.ID, healthy.ID)
	if h.State != domain.EndpointEnabled {
		t.Fatal("a healthy endpoint was disabled")
	}
}
