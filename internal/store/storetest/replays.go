package storetest

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

// replayTypes are the event types of testReplayJobs' messages, in turn.
var replayTypes = []string{"invoice.paid", "invoice.created", "customer.updated"}

// replayFixture publishes 24 messages of app, a minute apart from base, to three
// endpoints, and records an attempt of each delivery: failed when the message's number
// is even, else succeeded; the third endpoint is disabled afterwards. The deliveries of
// the last 4 messages are left pending. It returns the endpoints and the messages.
func replayFixture(t *testing.T, s store.Store, appID string) (eps []*domain.Endpoint, msgs []*domain.Message) {
	t.Helper()
	for range 3 {
		eps = append(eps, newEndpoint(t, s, appID, nil))
	}
	for i := range 24 {
		msgs = append(msgs, publish(t, s, appID, replayTypes[i%3], base.Add(time.Duration(i)*time.Minute), nil).Message)
	}
	number := map[string]int{}
	for i, m := range msgs {
		number[m.ID] = i
	}
	var results []*store.AttemptResult
	for _, c := range claim(t, s, "n0", base.Add(time.Hour), 100) {
		i := number[c.Delivery.MessageID]
		if i >= 20 {
			continue
		}
		status := domain.DeliverySucceeded
		if i%2 == 0 {
			status = domain.DeliveryFailed
		}
		results = append(results, result(c, base.Add(time.Hour), status, nil, 500))
	}
	must(t, s.Complete(ctx, results))
	must(t, s.SetEndpointState(ctx, eps[2].ID, domain.EndpointDisabled, "test"))
	return eps, msgs
}

// testReplayJobs runs app-wide replays step by step: what they queue, their cursor,
// counts and progress, leases between nodes, cancelling, the limit of running jobs and
// the app scope.
func testReplayJobs(t *testing.T, s store.Store) {
	a, other := newApp(t, s), newApp(t, s)
	eps, msgs := replayFixture(t, s, a.ID)
	now := base.Add(2 * time.Hour)
	// Failed deliveries of invoice.* messages from minute 2 to 20 (exclusive): messages
	// 2..19 (18 of them), of which invoice.* (i%3 != 2) and failed (even): 4, 6, 10, 12, 16, 18.
	j := &domain.ReplayJob{ID: ids.New("rpl"), AppID: a.ID, State: domain.ReplayRunning,
		Since: base.Add(2 * time.Minute), Until: base.Add(20 * time.Minute), Statuses: []string{domain.DeliveryFailed},
		EventTypes: []string{"invoice.*"}, CreatedAt: now, UpdatedAt: now}
	must(t, j.Check())
	must(t, s.CreateReplayJob(ctx, j))
	queued, steps, progress := 0, 0, -1.0
	for {
		r, err := s.ReplayStep(ctx, j.ID, "n1", now, time.Minute, 4)
		must(t, err)
		steps++
		queued += r.Queued
		if p := r.Job.Progress(); p < progress {
			t.Errorf("progress went back from %v to %v", progress, p)
		} else {
			progress = p
		}
		if r.Job.State == domain.ReplayDone {
			j = r.Job
			break
		}
		if steps > 10 {
			t.Fatal("the replay does not finish")
		}
	}
	// Two enabled endpoints each: 6 messages × 2 = 12; the disabled endpoint is skipped.
	if queued != 12 || j.Replayed != 12 || j.Scanned != 18 || steps != 5 || progress != 1 || j.FinishedAt == nil || j.LeaseOwner != "" {
		t.Errorf("replay queued %d in %d steps, job %+v; want 12 deliveries of 18 messages in 5 steps", queued, steps, j)
	}
	if j.CursorID != msgs[19].ID || !j.CursorAt.Equal(msgs[19].CreatedAt) {
		t.Errorf("cursor %s at %v, want the last message of the range %s", j.CursorID, j.CursorAt, msgs[19].ID)
	}
	pending, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{AppID: a.ID, Status: domain.DeliveryPending, Page: store.Page{Limit: 100}})
	must(t, err)
	if len(pending) != 12+12 { // and the 4 last messages' 12, untouched
		t.Errorf("%d pending deliveries, want 24", len(pending))
	}
	for _, d := range pending {
		if d.EndpointID == eps[2].ID && d.MessageID != msgs[20].ID && d.MessageID != msgs[21].ID && d.MessageID != msgs[22].ID && d.MessageID != msgs[23].ID {
			t.Errorf("a delivery of the disabled endpoint was replayed: %+v", d)
		}
	}
	// A finished job's step changes nothing.
	if r, err := s.ReplayStep(ctx, j.ID, "n2", now, time.Minute, 4); err != nil || r.Queued != 0 || r.Job.State != domain.ReplayDone {
		t.Errorf("a step of a finished job = %+v, %v", r, err)
	}
	testReplayLeases(t, s, a.ID, now)
	testReplayLimits(t, s, a.ID, other.ID, now)
}

// testReplayLeases checks that a job runs on one node at a time, and moves to another
// when its lease expires; and cancelling.
func testReplayLeases(t *testing.T, s store.Store, appID string, now time.Time) {
	j := &domain.ReplayJob{ID: ids.New("rpl"), AppID: appID, State: domain.ReplayRunning, Until: now, CreatedAt: now, UpdatedAt: now}
	must(t, s.CreateReplayJob(ctx, j))
	r, err := s.ReplayStep(ctx, j.ID, "n1", now, time.Minute, 5)
	must(t, err)
	if r.Job.Scanned != 5 || r.Job.FirstAt == nil || !r.Job.FirstAt.Equal(base) || r.Job.LeaseOwner != "n1" || r.Job.Progress() <= 0 {
		t.Errorf("after one step: %+v (progress %v)", r.Job, r.Job.Progress())
	}
	_, err = s.ReplayStep(ctx, j.ID, "n2", now.Add(30*time.Second), time.Minute, 5)
	wantErr(t, err, store.ErrConflict)
	for owner, want := range map[string]int{"n1": 1, "n2": 0} {
		if ids, err := s.RunnableReplayJobs(ctx, owner, now.Add(30*time.Second), 10); err != nil || len(ids) != want {
			t.Errorf("runnable for %s while n1 holds the lease: %v, %v; want %d", owner, ids, err, want)
		}
	}
	if ids, err := s.RunnableReplayJobs(ctx, "n2", now.Add(2*time.Minute), 10); err != nil || len(ids) != 1 || ids[0] != j.ID {
		t.Errorf("runnable for n2 after the lease expired: %v, %v", ids, err)
	}
	r, err = s.ReplayStep(ctx, j.ID, "n2", now.Add(2*time.Minute), time.Minute, 5)
	must(t, err)
	if r.Job.Scanned != 10 || r.Job.LeaseOwner != "n2" {
		t.Errorf("after n2's step: %+v", r.Job)
	}
	c, err := s.CancelReplayJob(ctx, appID, j.ID, now.Add(3*time.Minute))
	must(t, err)
	if c.State != domain.ReplayCancelled || c.FinishedAt == nil || c.Scanned != 10 {
		t.Errorf("cancelled: %+v", c)
	}
	if r, err := s.ReplayStep(ctx, j.ID, "n2", now.Add(3*time.Minute), time.Minute, 5); err != nil || r.Job.State != domain.ReplayCancelled || r.Job.Scanned != 10 {
		t.Errorf("a step of a cancelled job = %+v, %v", r, err)
	}
	if c, err := s.CancelReplayJob(ctx, appID, j.ID, now.Add(4*time.Minute)); err != nil || c.State != domain.ReplayCancelled {
		t.Errorf("cancelling again = %+v, %v", c, err)
	}
}

// testReplayLimits checks the limit of running replays per app, the app scope of the
// reads, listing, and the removal of old finished jobs.
func testReplayLimits(t *testing.T, s store.Store, appID, otherApp string, now time.Time) {
	var running []string
	for len(running) < domain.MaxRunningReplays {
		j := &domain.ReplayJob{ID: ids.New("rpl"), AppID: appID, State: domain.ReplayRunning, Until: now, CreatedAt: now, UpdatedAt: now}
		must(t, s.CreateReplayJob(ctx, j))
		running = append(running, j.ID)
	}
	extra := &domain.ReplayJob{ID: ids.New("rpl"), AppID: appID, State: domain.ReplayRunning, Until: now, CreatedAt: now, UpdatedAt: now}
	wantErr(t, s.CreateReplayJob(ctx, extra), store.ErrConflict)
	// Another app is not limited by this one's, and sees none of its jobs.
	mine := &domain.ReplayJob{ID: ids.New("rpl"), AppID: otherApp, State: domain.ReplayRunning, Until: now, CreatedAt: now, UpdatedAt: now}
	must(t, s.CreateReplayJob(ctx, mine))
	_, err := s.GetReplayJob(ctx, otherApp, running[0])
	wantErr(t, err, store.ErrNotFound)
	_, err = s.CancelReplayJob(ctx, otherApp, running[0], now)
	wantErr(t, err, store.ErrNotFound)
	if j, err := s.GetReplayJob(ctx, appID, running[0]); err != nil || j.State != domain.ReplayRunning {
		t.Errorf("the other app's cancel changed the job: %+v, %v", j, err)
	}
	missing := &domain.ReplayJob{ID: ids.New("rpl"), AppID: "app_missing", State: domain.ReplayRunning, Until: now, CreatedAt: now, UpdatedAt: now}
	wantErr(t, s.CreateReplayJob(ctx, missing), store.ErrNotFound)
	// Newest first, by pages: the 2 finished ones and the 5 running ones.
	var listed []string
	for p := (store.Page{Limit: 3}); ; {
		js, next, err := s.ListReplayJobs(ctx, appID, p)
		must(t, err)
		for _, j := range js {
			listed = append(listed, j.ID)
		}
		if next == "" {
			break
		}
		p.Cursor = next
	}
	if len(listed) != 7 || listed[0] != running[len(running)-1] {
		t.Errorf("listed %v", listed)
	}
	for _, id := range running[1:] {
		_, err := s.CancelReplayJob(ctx, appID, id, now)
		must(t, err)
	}
	must(t, s.FailReplayJob(ctx, running[0], "the database broke", now))
	if j, err := s.GetReplayJob(ctx, appID, running[0]); err != nil || j.State != domain.ReplayFailed || j.Error != "the database broke" || j.FinishedAt == nil {
		t.Errorf("failed job: %+v, %v", j, err)
	}
	// Of many finished replays, starting one keeps the newest.
	for range domain.MaxKeptReplays + 5 {
		j := &domain.ReplayJob{ID: ids.New("rpl"), AppID: otherApp, State: domain.ReplayRunning, Until: now, CreatedAt: now, UpdatedAt: now}
		must(t, s.CreateReplayJob(ctx, j))
		_, err := s.CancelReplayJob(ctx, otherApp, j.ID, now)
		must(t, err)
	}
	if js, next, err := s.ListReplayJobs(ctx, otherApp, store.Page{Limit: 1000}); err != nil || len(js) != domain.MaxKeptReplays+1 || next != "" {
		t.Errorf("%d replays of an app kept (%v); want %d finished and the running one", len(js), err, domain.MaxKeptReplays)
	}
	// A month later, starting a replay removes the finished ones.
	later := now.Add(domain.ReplayKeep + time.Hour)
	must(t, s.CreateReplayJob(ctx, &domain.ReplayJob{ID: ids.New("rpl"), AppID: appID, State: domain.ReplayRunning, Until: later, CreatedAt: later, UpdatedAt: later}))
	if js, _, err := s.ListReplayJobs(ctx, appID, store.Page{Limit: 100}); err != nil || len(js) != 1 {
		t.Errorf("after a month, %d jobs listed (%v); want the new one", len(js), err)
	}
}

// testListenerPresence checks MarkListener and ListListeners: a session that leaves
// clears its record only while it is the recorded one.
func testListenerPresence(t *testing.T, s store.Store) {
	app := newApp(t, s)
	l := newEndpoint(t, s, app.ID, func(e *domain.Endpoint) { e.Kind, e.URL = domain.KindListener, domain.ListenerURL("laptop") })
	http := newEndpoint(t, s, app.ID, nil)
	presence := func() domain.ListenerPresence {
		t.Helper()
		ls, next, err := s.ListListeners(ctx, app.ID, store.Page{Limit: 10})
		must(t, err)
		if len(ls) != 1 || next != "" || ls[0].Endpoint.ID != l.ID || ls[0].Endpoint.URL != l.URL {
			t.Fatalf("ListListeners = %v, %q; want the listener alone", ls, next)
		}
		return ls[0].Presence
	}
	if p := presence(); p.ConnectedAt != nil || p.SeenAt != nil || p.Node != "" {
		t.Errorf("a new listener's presence: %+v", p)
	}
	t1, t2 := base.Add(time.Minute), base.Add(2*time.Minute)
	must(t, s.MarkListener(ctx, l.ID, "n1", t1, true, t1))
	if p := presence(); p.ConnectedAt == nil || !p.ConnectedAt.Equal(t1) || p.Node != "n1" || !p.SeenAt.Equal(t1) {
		t.Errorf("connected: %+v", p)
	}
	must(t, s.MarkListener(ctx, l.ID, "n2", t2, true, t2))
	must(t, s.MarkListener(ctx, l.ID, "n1", t1, false, t2.Add(time.Second))) // the older session leaves
	if p := presence(); p.ConnectedAt == nil || !p.ConnectedAt.Equal(t2) || p.Node != "n2" {
		t.Errorf("the older session's leaving cleared the newer's record: %+v", p)
	}
	must(t, s.MarkListener(ctx, l.ID, "n2", t2, false, t2.Add(time.Minute)))
	if p := presence(); p.ConnectedAt != nil || p.Node != "" || !p.SeenAt.Equal(t2.Add(time.Minute)) {
		t.Errorf("left: %+v", p)
	}
	must(t, s.MarkListener(ctx, http.ID, "n1", t1, true, t1)) // not a listener: nothing
	presence()
}
