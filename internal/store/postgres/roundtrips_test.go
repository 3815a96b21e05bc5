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
	r := newRig(t)
	for round := 0; round < 2; round++ { // the first round prepares the statements
		r.steps = r.steps[:0]
		r.round(round)
	}
	var table strings.Builder
	for _, st := range r.steps {
		fmt.Fprintf(&table, "%-18s %3d: %d round trips (%d async NOTIFY), %2d statements, %d prepared: %s\n",
			st.name, st.n, st.RoundTrips, st.notifies, st.Statements, st.Parses, strings.Join(st.trips, " | "))
	}
	t.Logf("per step, once the statements are prepared:\n%s", table.String())
	for _, st := range r.steps {
		if st.Parses != 0 {
			t.Errorf("%s of %d prepared %d statements on its second run", st.name, st.n, st.Parses)
		}
		if max := roundTripBounds[st.name] + st.notifies; st.RoundTrips > max {
			t.Errorf("%s of %d: %d round trips, want at most %d", st.name, st.n, st.RoundTrips, max)
		}
	}
	// The batch of 100 takes as many round trips and statements as one row.
	byName := map[string]wireCounts{}
	for _, st := range r.steps {
		if prev, ok := byName[st.name]; ok && prev != st.wireCounts {
			t.Errorf("%s: %v for one row, %v for 100", st.name, prev, st.wireCounts)
		}
		byName[st.name] = st.wireCounts
	}
}

// rig is a store whose round trips are counted, with an app of one endpoint (single)
// and one of four (wide: 25 messages make 100 deliveries).
type rig struct {
	t            *testing.T
	s            *Store
	w            *wire
	single, wide string
	steps        []step
}

// The lease owner, and a default concurrency limit across nodes that is never reached.
const rigOwner, rigLimit = "node-1", 1000

func newRig(t *testing.T) *rig {
	w := &wire{}
	s, err := open(bg, pgtest.URL(t), Options{Cipher: crypttest.NewBox(t), Logger: slog.New(slog.DiscardHandler), MaxConns: 1}, w.configure)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	single := storetest.CreateApp(t, s, "single")
	storetest.CreateEndpoint(t, s, single.ID, "https://example.com/1", webhook.NewHMACSecret(), nil)
	wide := storetest.CreateApp(t, s, "wide")
	for i := 0; i < 4; i++ {
		storetest.CreateEndpoint(t, s, wide.ID, fmt.Sprintf("https://example.com/w%d", i), webhook.NewHMACSecret(), nil)
	}
	return &rig{t: t, s: s, w: w, single: single.ID, wide: wide.ID}
}

// round measures every step once, each for one row and for 100.
func (r *rig) round(round int) {
	t, s := r.t, r.s
	var leased1, leased100, claimed1, claimed100 []*domain.Delivery
	r.measure("publish, leased", 1, 0, func() { leased1 = r.publish(r.single, 1, true, "", false) })
	r.measure("publish, leased", 100, 0, func() { leased100 = r.publish(r.wide, 25, true, "", false) })
	r.measure("publish, unleased", 1, 1, func() { r.publish(r.single, 1, false, "", false) })
	r.measure("publish, unleased", 100, 1, func() { r.publish(r.wide, 25, false, "", false) })
	// Keys taken, then the same keys again.
	r.measure("publish, keyed", 1, 1, func() { r.publish(r.single, 1, false, fmt.Sprint("k1-", round), false) })
	r.measure("publish, keyed", 100, 1, func() { r.publish(r.wide, 25, false, fmt.Sprint("k100-", round), false) })
	r.measure("publish, repeated", 1, 0, func() { r.publish(r.single, 1, false, fmt.Sprint("k1-", round), true) })
	r.measure("publish, repeated", 100, 0, func() { r.publish(r.wide, 25, false, fmt.Sprint("k100-", round), true) })
	r.measure("next wake", 1, 0, func() {
		if _, _, err := s.NextWake(bg); err != nil {
			t.Fatal(err)
		}
	})
	r.measure("claim", 1, 0, func() { claimed1 = r.claim(1) })
	r.measure("claim", 100, 0, func() { claimed100 = r.claim(100) })
	for _, ds := range [][]*domain.Delivery{claimed1, claimed100} {
		r.measure("extend leases", len(ds), 0, func() {
			if err := s.ExtendLeases(bg, rigOwner, idsOf(ds), time.Now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		})
	}
	r.measure("complete", 1, 0, func() { r.complete(claimed1) })
	r.measure("complete", 100, 0, func() { r.complete(claimed100) })
	for _, ds := range [][]*domain.Delivery{leased1, leased100} {
		r.measure("release leases", len(ds), 1, func() {
			if err := s.ReleaseLeases(bg, rigOwner, idsOf(ds)); err != nil {
				t.Fatal(err)
			}
		})
	}
	// Leave nothing pending for the next round's claims.
	c, err := s.Claim(bg, store.ClaimRequest{Owner: rigOwner, Now: time.Now(), LeaseUntil: time.Now().Add(time.Minute), Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	ds := make([]*domain.Delivery, len(c))
	for i, c := range c {
		ds[i] = c.Delivery
	}
	r.complete(ds)
}

// measure runs fn, a step of n rows, and records what it sent, with the notifications
// it makes the notify loop send.
func (r *rig) measure(name string, n, notifies int, fn func()) {
	before, notified := r.w.counts()
	first := r.w.tripCount()
	fn()
	after, now := r.w.counts()
	deadline := time.Now().Add(30 * time.Second) // a wait for the notify loop, not a measure of time
	for now < notified+notifies && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		after, now = r.w.counts()
	}
	if now != notified+notifies {
		r.t.Fatalf("%s: %d notifications sent, want %d", name, now-notified, notifies)
	}
	r.steps = append(r.steps, step{name: name, n: n, wireCounts: after.sub(before), notifies: notifies, trips: r.w.since(first)})
}

// publish publishes n messages to app in one batch, as the writer does with n publishes
// waiting, with idempotency keys key-0, key-1... unless key is "", and checks that they
// repeat keys or not, and that every delivery is leased if leased.
func (r *rig) publish(app string, n int, leased bool, key string, repeated bool) []*domain.Delivery {
	ops := make([]*publishOp, n)
	for i := range ops {
		m := &domain.Message{ID: ids.New("msg"), AppID: app, Type: "t", Payload: json.RawMessage(`{"a":1}`), CreatedAt: time.Now().UTC()}
		in := &store.PublishInput{Message: m, IdempotencyTTL: time.Hour, EndpointConcurrency: rigLimit}
		if key != "" {
			m.IdempotencyKey = fmt.Sprintf("%s-%d", key, i)
		}
		if leased {
			in.LeaseOwner, in.LeaseUntil = rigOwner, time.Now().Add(time.Minute)
		}
		ops[i] = &publishOp{in: in, ctx: bg, done: make(chan struct{})}
	}
	r.s.commitPublishes(ops)
	var out []*domain.Delivery
	for _, op := range ops {
		switch {
		case op.err != nil:
			r.t.Fatal(op.err)
		case op.res.Duplicate != repeated:
			r.t.Fatalf("key %q: Duplicate = %v", op.in.Message.IdempotencyKey, op.res.Duplicate)
		case leased && len(op.res.Leased) != len(op.res.Deliveries):
			r.t.Fatalf("%d of %d deliveries leased on publish", len(op.res.Leased), len(op.res.Deliveries))
		}
		out = append(out, op.res.Deliveries...)
	}
	return out
}

// claim claims n deliveries, and fails unless it gets n.
func (r *rig) claim(n int) []*domain.Delivery {
	c, err := r.s.Claim(bg, store.ClaimRequest{Owner: rigOwner, Now: time.Now(), LeaseUntil: time.Now().Add(time.Minute), Limit: n, EndpointConcurrency: rigLimit})
	if err != nil || len(c) != n {
		r.t.Fatalf("claim %d: %d claimed, %v", n, len(c), err)
	}
	out := make([]*domain.Delivery, n)
	for i, c := range c {
		out[i] = c.Delivery
	}
	return out
}

// complete records a successful attempt of each delivery.
func (r *rig) complete(ds []*domain.Delivery) {
	results := make([]*store.AttemptResult, len(ds))
	for i, d := range ds {
		a := &domain.Attempt{ID: ids.New("att"), DeliveryID: d.ID, AppID: d.AppID, EndpointID: d.EndpointID, MessageID: d.MessageID,
			Number: 1, StartedAt: time.Now(), Latency: time.Millisecond, StatusCode: 200, Outcome: domain.OutcomeSucceeded}
		results[i] = &store.AttemptResult{Attempt: a, Status: domain.DeliverySucceeded}
	}
	if err := r.s.Complete(bg, results); err != nil {
		r.t.Fatal(err)
	}
}

func idsOf(ds []*domain.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}
