package service

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
	"golang.org/x/sync/errgroup"
)

// TestReplaysRunInTheBackground starts an app-wide replay of failed deliveries longer
// than two steps, of which one step ran before a "restart", and checks that the runner
// finishes it, queues each delivery once, and wakes the engine.
func TestReplaysRunInTheBackground(t *testing.T) {
	ctx := context.Background()
	svc, eng, st := newService(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	app := createApp(t, svc, now)
	createEndpoint(t, svc, app.ID, now)
	const n = 2*ReplayStepMessages + 7
	var g errgroup.Group
	g.SetLimit(16) // concurrent publishes share commits
	for i := range n {
		g.Go(func() error {
			m := &domain.Message{ID: ids.New("msg"), AppID: app.ID, Type: "invoice.paid", Payload: json.RawMessage(`{}`), CreatedAt: now.Add(time.Duration(i-n) * time.Millisecond)}
			_, err := st.Publish(ctx, &store.PublishInput{Message: m, IdempotencyTTL: time.Hour})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	for {
		cs, err := st.Claim(ctx, store.ClaimRequest{Owner: "n0", Now: now, LeaseUntil: now.Add(time.Minute), Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 0 {
			break
		}
		var rs []*store.AttemptResult
		for _, c := range cs {
			d := c.Delivery
			rs = append(rs, &store.AttemptResult{Status: domain.DeliveryFailed, Attempt: &domain.Attempt{ID: ids.New("att"), DeliveryID: d.ID, AppID: d.AppID,
				EndpointID: d.EndpointID, MessageID: d.MessageID, Number: 1, StartedAt: now, Outcome: domain.OutcomeFailed}})
		}
		if err := st.Complete(ctx, rs); err != nil {
			t.Fatal(err)
		}
	}
	j := &domain.ReplayJob{ID: ids.New("rpl"), AppID: app.ID, State: domain.ReplayRunning, Statuses: []string{domain.DeliveryFailed},
		Until: now.Add(time.Millisecond), CreatedAt: now, UpdatedAt: now}
	if err := svc.StartReplay(ctx, j); err != nil {
		t.Fatal(err)
	}
	// The node ran a step, then stopped (its lease stays, as after kill -9).
	if _, err := st.ReplayStep(ctx, j.ID, "node-1", now, ReplayLease, ReplayStepMessages); err != nil {
		t.Fatal(err)
	}
	eng.Told()
	// The same node, restarted, takes its job back at once and finishes it.
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { svc.RunReplays(rctx, "node-1"); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := svc.store.GetReplayJob(ctx, app.ID, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State == domain.ReplayDone {
			if got.Scanned != n || got.Replayed != n {
				t.Errorf("done after looking at %d messages and queueing %d deliveries; want %d of each", got.Scanned, got.Replayed, n)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replay is still %s after 20 s: %+v", got.State, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if wakes, _ := eng.Told(); wakes == 0 {
		t.Error("the runner queued deliveries without waking the engine")
	}
	pending, err := st.QueueDepth(ctx)
	if err != nil || pending != n {
		t.Errorf("%d deliveries pending (%v), want %d", pending, err, n)
	}
}
