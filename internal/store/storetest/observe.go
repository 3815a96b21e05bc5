package storetest

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

// testMessageTrace checks that a message's trace context is stored by the publish and
// handed back with every claim of its deliveries, leased at publish or claimed later,
// and with the message itself; a message published outside a trace has none.
func testMessageTrace(t *testing.T, s store.Store) {
	a := newApp(t, s)
	newEndpoint(t, s, a.ID, nil)
	trace := domain.TraceContext{Parent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", State: "vendor=opaque,other=x"}
	traced := publish(t, s, a.ID, "t", base, func(in *store.PublishInput) { in.Message.Trace = trace })
	plain := publish(t, s, a.ID, "t", base, nil)
	leased := publish(t, s, a.ID, "t", base, func(in *store.PublishInput) {
		in.Message.Trace = domain.TraceContext{Parent: trace.Parent}
		in.LeaseOwner, in.LeaseUntil = "n1", base.Add(time.Minute)
	})
	if len(leased.Leased) != 1 {
		t.Fatalf("leased at publish: %d deliveries", len(leased.Leased))
	}
	m, err := s.GetMessage(ctx, a.ID, traced.Message.ID)
	must(t, err)
	if m.Trace != trace {
		t.Fatalf("GetMessage trace = %+v, want %+v", m.Trace, trace)
	}
	if m, _ := s.GetMessage(ctx, a.ID, plain.Message.ID); !m.Trace.IsZero() || m.Trace.State != "" {
		t.Fatalf("a message published outside a trace has trace %+v", m.Trace)
	}
	byMessage := map[string]domain.TraceContext{}
	for _, c := range claim(t, s, "n2", base, 10) {
		byMessage[c.Delivery.MessageID] = c.Trace
	}
	if len(byMessage) != 2 || byMessage[traced.Message.ID] != trace || !byMessage[plain.Message.ID].IsZero() {
		t.Fatalf("claimed traces = %+v", byMessage)
	}
	// The leased delivery's lease runs out; whoever claims it then gets its trace too.
	var found bool
	for _, c := range claim(t, s, "n3", base.Add(2*time.Minute), 10) {
		if c.Delivery.MessageID == leased.Message.ID {
			found = true
			if c.Trace != (domain.TraceContext{Parent: trace.Parent}) {
				t.Fatalf("claim after the publish lease ran out: trace %+v", c.Trace)
			}
		}
	}
	if !found {
		t.Fatal("the delivery leased at publish was not claimed after its lease ran out")
	}
}

// testBacklog checks Backlog: it counts due deliveries no node holds, up to the limit,
// and names when the longest-waiting of them fell due.
func testBacklog(t *testing.T, s store.Store) {
	b, err := s.Backlog(ctx, base, 100)
	must(t, err)
	if b.Due != 0 || b.OldestDueAt != nil {
		t.Fatalf("empty store: backlog = %+v", b)
	}
	a := newApp(t, s)
	newEndpoint(t, s, a.ID, nil)
	for i := range 5 {
		publish(t, s, a.ID, "t", base.Add(time.Duration(i)*time.Second), nil)
	}
	publish(t, s, a.ID, "t", base.Add(time.Hour), nil) // not due yet
	publish(t, s, a.ID, "t", base, func(in *store.PublishInput) {
		in.LeaseOwner, in.LeaseUntil = "n1", base.Add(time.Minute) // held by a node
	})
	now := base.Add(10 * time.Second)
	b, err = s.Backlog(ctx, now, 100)
	must(t, err)
	if b.Due != 5 || b.OldestDueAt == nil || !b.OldestDueAt.Equal(base) || b.OldestDueAt.Location() != time.UTC {
		t.Fatalf("backlog = %d, oldest due %v; want 5, %v", b.Due, b.OldestDueAt, base)
	}
	if b, _ := s.Backlog(ctx, now, 3); b.Due != 3 || !b.OldestDueAt.Equal(base) {
		t.Fatalf("backlog up to 3 = %+v", b)
	}
	c := claim(t, s, "n2", now, 2) // the two longest-waiting go to a node
	if len(c) != 2 {
		t.Fatalf("claimed %d", len(c))
	}
	if b, _ := s.Backlog(ctx, now, 100); b.Due != 3 || !b.OldestDueAt.Equal(base.Add(2*time.Second)) {
		t.Fatalf("backlog after a claim = %d, oldest due %v", b.Due, b.OldestDueAt)
	}
}
