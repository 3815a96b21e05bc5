package postgres

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/crypt/crypttest"
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/postgres/pgtest"
	"github.com/heraldhq/herald/internal/store/storetest"
	"github.com/heraldhq/herald/webhook"
)

// roundTripBounds are the most round trips each step of a delivery may take, whatever
// the number of messages, deliveries or results it carries (the test also checks that a
// batch of 100 takes the same round trips and statements as one row). Asynchronous NOTIFYs (at most one per step,
// coalesced) are counted apart.
var roundTripBounds = map[string]int{
	"publish, leased":   2,
	"publish, unleased": 2,
	"publish, keyed":    2,
	"publish, repeated": 2,
	"next wake":         1,
	"claim":             2,
	"extend leases":     1,
	"complete":          1,
	"release leases":    1,
}

// step is one measured call of the store.
type step struct {
	name string
	n    int // messages, deliveries or results it carries
	wireCounts
	notifies int
	trips    []string
}

// TestRoundTrips counts, on the wire, the round trips and statements of each step of a
// delivery on the hot path (as the engine of a node on a shared store makes them: leases
// on publish, limits across nodes), for one row and for a batch of 100, and checks them
// against roundTripBounds. Each step is measured on its second run, once the
// connection has prepared its statements (which a pool's connections do once).
func TestRoundTrips(t *testing.T) {
	w := &wire{}
	s, err := open(bg, pgtest.URL(t), Options{Cipher: crypttest.NewBox(t), Logger: slog.New(slog.DiscardHandler), MaxConns: 1}, w.configure)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	single := storetest.CreateApp(t, s, "single")
	storetest.CreateEndpoint(t, s, single.ID, "https://example.com/1", webhook.NewHMACSecret(), nil)
	wide := storetest.CreateApp(t, s, "wide")
	for i := 0; i < 4; i++ {
		storetest.CreateEndpoint(t, s, wide.ID, fmt.Sprintf("https://example.com/w%d", i), webhook.NewHMACSecret(), nil)
	}
	const owner, limit = "node-1", 1000 // limits across nodes, never reached
	msg := func(app string) *domain.Message {
		return &domain.Message{ID: ids.New("msg"), AppID: app, Type: "t", Payload: json.RawMessage(`{"a":1}`), CreatedAt: time.Now().UTC()}
	}
	publish := func(app string, n int, leased bool, key string, repeated bool) []*domain.Delivery {
		ops := make([]*publishOp, n)
		for i := range ops {
			in := &store.PublishInput{Message: msg(app), IdempotencyTTL: time.Hour, EndpointConcurrency: limit}
			if key != "" {
				in.Message.IdempotencyKey = fmt.Sprintf("%s-%d", key, i)
			}
			if leased {
				in.LeaseOwner, in.LeaseUntil = owner, time.Now().Add(time.Minute)
			}
			ops[i] = &publishOp{in: in, ctx: bg, done: make(chan struct{})}
		}
		s.commitPublishes(ops) // as the writer does with n publishes waiting
		var out []*domain.Delivery
		for _, op := range ops {
			if op.err != nil {
				t.Fatal(op.err)
			}
			if op.res.Duplicate != repeated {
				t.Fatalf("key %q: Duplicate = %v", op.in.Message.IdempotencyKey, op.res.Duplicate)
			}
			if leased && len(op.res.Leased) != len(op.res.Deliveries) {
				t.Fatalf("%d of %d deliveries leased on publish", len(op.res.Leased), len(op.res.Deliveries))
			}
			out = append(out, op.res.Deliveries...)
		}
		return out
	}
	claim := func(n int) []*domain.Delivery {
		c, err := s.Claim(bg, store.ClaimRequest{Owner: owner, Now: time.Now(), LeaseUntil: time.Now().Add(time.Minute), Limit: n, EndpointConcurrency: limit})
		if err != nil || len(c) != n {
			t.Fatalf("claim %d: %d claimed, %v", n, len(c), err)
		}
		out := make([]*domain.Delivery, n)
		for i, c := range c {
			out[i] = c.Delivery
		}
		return out
	}
	idsOf := func(ds []*domain.Delivery) []string {
		out := make([]string, len(ds))
		for i, d := range ds {
			out[i] = d.ID
		}
		return out
	}
	complete := func(ds []*domain.Delivery) {
		results := make([]*store.AttemptResult, len(ds))
		for i, d := range ds {
			a := &domain.Attempt{ID: ids.New("att"), DeliveryID: d.ID, AppID: d.AppID, EndpointID: d.EndpointID, MessageID: d.MessageID,
				Number: 1, StartedAt: time.Now(), Latency: time.Millisecond, StatusCode: 200, Outcome: domain.OutcomeSucceeded}
			results[i] = &store.AttemptResult{Attempt: a, Status: domain.DeliverySucceeded}
		}
		if err := s.Complete(bg, results); err != nil {
			t.Fatal(err)
		}
	}

	var steps []step
	measure := func(name string, n, notifies int, fn func()) {
		before, notified := w.counts()
		first := w.tripCount()
		fn()
		after, now := w.counts()
		deadline := time.Now().Add(30 * time.Second) // a wait for the notify loop, not a measure of time
		for now < notified+notifies && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
			after, now = w.counts()
		}
		if now != notified+notifies {
			t.Fatalf("%s: %d notifications sent, want %d", name, now-notified, notifies)
		}
		steps = append(steps, step{name: name, n: n, wireCounts: after.sub(before), notifies: notifies, trips: w.since(first)})
	}
	for round := 0; round < 2; round++ { // the first round prepares the statements
		steps = steps[:0]
		var leased1, leased100, claimed1, claimed100 []*domain.Delivery
		measure("publish, leased", 1, 0, func() { leased1 = publish(single.ID, 1, true, "", false) })
		measure("publish, leased", 100, 0, func() { leased100 = publish(wide.ID, 25, true, "", false) })
		measure("publish, unleased", 1, 1, func() { publish(single.ID, 1, false, "", false) })
		measure("publish, unleased", 100, 1, func() { publish(wide.ID, 25, false, "", false) })
		// Keys taken, then the same keys again.
		measure("publish, keyed", 1, 1, func() { publish(single.ID, 1, false, fmt.Sprint("k1-", round), false) })
		measure("publish, keyed", 100, 1, func() { publish(wide.ID, 25, false, fmt.Sprint("k100-", round), false) })
		measure("publish, repeated", 1, 0, func() { publish(single.ID, 1, false, fmt.Sprint("k1-", round), true) })
		measure("publish, repeated", 100, 0, func() { publish(wide.ID, 25, false, fmt.Sprint("k100-", round), true) })
		measure("next wake", 1, 0, func() {
			if _, _, err := s.NextWake(bg); err != nil {
				t.Fatal(err)
			}
		})
		measure("claim", 1, 0, func() { claimed1 = claim(1) })
		measure("claim", 100, 0, func() { claimed100 = claim(100) })
		for _, c := range []struct {
			ds   []*domain.Delivery
			name string
		}{{claimed1, "extend leases"}, {claimed100, "extend leases"}} {
			measure(c.name, len(c.ds), 0, func() {
				if err := s.ExtendLeases(bg, owner, idsOf(c.ds), time.Now().Add(time.Minute)); err != nil {
					t.Fatal(err)
				}
			})
		}
		measure("complete", 1, 0, func() { complete(claimed1) })
		measure("complete", 100, 0, func() { complete(claimed100) })
		for _, ds := range [][]*domain.Delivery{leased1, leased100} {
			measure("release leases", len(ds), 1, func() {
				if err := s.ReleaseLeases(bg, owner, idsOf(ds)); err != nil {
					t.Fatal(err)
				}
			})
		}
		// What round 1 left pending is claimed in round 2: claim all of it now.
		if c, err := s.Claim(bg, store.ClaimRequest{Owner: owner, Now: time.Now(), LeaseUntil: time.Now().Add(time.Minute), Limit: 10000}); err != nil {
			t.Fatal(err)
		} else {
			ds := make([]*domain.Delivery, len(c))
			for i, c := range c {
				ds[i] = c.Delivery
			}
			complete(ds)
		}
	}
	var table strings.Builder
	for _, st := range steps {
		fmt.Fprintf(&table, "%-18s %3d: %d round trips (%d async NOTIFY), %2d statements, %d prepared: %s\n",
			st.name, st.n, st.RoundTrips, st.notifies, st.Statements, st.Parses, strings.Join(st.trips, " | "))
	}
	t.Logf("per step, once the statements are prepared:\n%s", table.String())
	for _, st := range steps {
		if st.Parses != 0 {
			t.Errorf("%s of %d prepared %d statements on its second run", st.name, st.n, st.Parses)
		}
		if max := roundTripBounds[st.name] + st.notifies; st.RoundTrips > max {
			t.Errorf("%s of %d: %d round trips, want at most %d", st.name, st.n, st.RoundTrips, max)
		}
	}
	// The batch of 100 takes as many round trips and statements as one row.
	byName := map[string]wireCounts{}
	for _, st := range steps {
		if prev, ok := byName[st.name]; ok && prev != st.wireCounts {
			t.Errorf("%s: %v for one row, %v for 100", st.name, prev, st.wireCounts)
		}
		byName[st.name] = st.wireCounts
	}
}
