package opevents

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/crypt"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/postgres"
	"github.com/heraldhq/herald/internal/store/postgres/pgtest"
	"github.com/heraldhq/herald/internal/store/sqlite"
	"github.com/heraldhq/herald/internal/store/storetest"
	"github.com/heraldhq/herald/webhook"
)

var (
	bg    = context.Background()
	quiet = slog.New(slog.DiscardHandler)
)

// storePublisher publishes straight into the store, as the engine does before sending.
type storePublisher struct {
	s  store.Store
	mu sync.Mutex
	n  int
}

func (p *storePublisher) Publish(ctx context.Context, m *domain.Message) (*store.PublishResult, error) {
	p.mu.Lock()
	p.n++
	p.mu.Unlock()
	return p.s.Publish(ctx, &store.PublishInput{Message: m, IdempotencyTTL: time.Hour})
}

// fixture is a store with a customer app and endpoint, the operational app and one
// operational endpoint listening to types.
type fixture struct {
	t     *testing.T
	store store.Store
	opApp *domain.App
	app   *domain.App
	ep    *domain.Endpoint
	pub   *storePublisher
}

func newFixture(t *testing.T, types ...string) *fixture {
	t.Helper()
	st, err := sqlite.Open(bg, filepath.Join(t.TempDir(), "h.db"), sqlite.Options{Cipher: testCipher(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newFixtureOn(t, st, types...)
}

func testCipher() *crypt.Box {
	key := make([]byte, crypt.KeySize)
	rand.Read(key)
	box, _ := crypt.NewBox(key)
	return box
}

// newFixtureOn is newFixture on the store st.
func newFixtureOn(t *testing.T, st store.Store, types ...string) *fixture {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	op, err := st.OperationalApp(bg, &domain.App{ID: ids.New("app"), Name: "operational", CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, store: st, opApp: op, pub: &storePublisher{s: st}}
	f.endpoint(op.ID, func(e *domain.Endpoint) { e.EventTypes = types })
	f.app = &domain.App{ID: ids.New("app"), Name: "acme", UID: "acme", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateApp(bg, f.app); err != nil {
		t.Fatal(err)
	}
	f.ep = f.endpoint(f.app.ID, nil)
	return f
}

func (f *fixture) endpoint(appID string, mutate func(e *domain.Endpoint)) *domain.Endpoint {
	f.t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	e := &domain.Endpoint{ID: ids.New("ep"), AppID: appID, Kind: domain.KindHTTP, URL: "https://example.com/ops", EventTypes: []string{},
		Headers: map[string]string{}, Metadata: map[string]string{}, State: domain.EndpointEnabled, CreatedAt: now, UpdatedAt: now}
	if mutate != nil {
		mutate(e)
	}
	sec := &domain.EndpointSecret{ID: ids.New("sec"), EndpointID: e.ID, Secret: webhook.NewHMACSecret(), CreatedAt: now}
	if err := f.store.CreateEndpoint(bg, e, sec); err != nil {
		f.t.Fatal(err)
	}
	return e
}

// notifier returns a started Notifier of the fixture's store, stopped when the test ends.
func (f *fixture) notifier(mutate func(c *Config)) *Notifier {
	f.t.Helper()
	cfg := Config{Store: f.store, FailingAfter: 3, Logger: quiet}
	if mutate != nil {
		mutate(&cfg)
	}
	n, err := New(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	n.Start(f.pub, f.opApp.ID)
	f.t.Cleanup(func() { n.Stop(bg) })
	return n
}

// flush waits until n has done everything queued before it.
func flush(n *Notifier) {
	done := make(chan struct{})
	n.work <- func(context.Context) { close(done) }
	<-done
}

// event is an operational webhook as published.
type event struct {
	Type      string          `json:"type"`
	Timestamp string          `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// events returns the operational webhooks published so far, oldest first.
func (f *fixture) events() []event {
	f.t.Helper()
	ms, _, err := f.store.ListMessages(bg, store.MessageFilter{AppID: f.opApp.ID, Page: store.Page{Limit: 1000}})
	if err != nil {
		f.t.Fatal(err)
	}
	out := make([]event, 0, len(ms))
	for i := len(ms) - 1; i >= 0; i-- {
		var e event
		if err := json.Unmarshal(ms[i].Payload, &e); err != nil {
			f.t.Fatal(err)
		}
		if e.Type != ms[i].Type {
			f.t.Fatalf("message type %s carries an event of type %s", ms[i].Type, e.Type)
		}
		out = append(out, e)
	}
	return out
}

func types(es []event) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Type
	}
	return out
}

func data[T any](t *testing.T, e event) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(e.Data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// attempt returns a recorded attempt of the fixture's endpoint with HTTP status code.
func (f *fixture) attempt(number, code int, status string) delivery.RecordedAttempt {
	outcome := storetest.AttemptOutcome(status)
	a := &domain.Attempt{ID: ids.New("att"), DeliveryID: "dlv_1", AppID: f.app.ID, EndpointID: f.ep.ID, MessageID: ids.New("msg"),
		Number: number, StartedAt: time.Now().UTC().Truncate(time.Millisecond), StatusCode: code, Outcome: outcome}
	r := &store.AttemptResult{Attempt: a, Status: status, EndpointFailed: status != domain.DeliverySucceeded}
	if outcome != domain.OutcomeSucceeded {
		a.Error = "HTTP 500"
	}
	return delivery.RecordedAttempt{AttemptResult: r}
}

func TestFailingExhaustedRecovered(t *testing.T) {
	f := newFixture(t)
	n := f.notifier(nil)
	fail := func(i int, status string) delivery.RecordedAttempt { return f.attempt(i, 500, status) }
	n.AttemptsRecorded([]delivery.RecordedAttempt{fail(1, domain.DeliveryPending), fail(2, domain.DeliveryPending)})
	n.AttemptsRecorded([]delivery.RecordedAttempt{fail(3, domain.DeliveryFailed)})
	n.AttemptsRecorded([]delivery.RecordedAttempt{fail(1, domain.DeliveryPending), fail(2, domain.DeliveryPending)}) // still one streak
	flush(n)
	es := f.events()
	if got := types(es); !slices.Equal(got, []string{domain.OpAttemptFailing, domain.OpAttemptExhausted}) {
		t.Fatalf("events = %v", got)
	}
	failing := data[AttemptEvent](t, es[0])
	if failing.AppID != f.app.ID || failing.AppUID != "acme" || failing.EndpointID != f.ep.ID || failing.Failures != 3 ||
		failing.FailSince == nil || failing.LastAttempt.ResponseStatusCode != 500 || failing.LastAttempt.Number != 3 || failing.LastAttempt.Error != "HTTP 500" {
		t.Errorf("failing = %+v", failing)
	}
	if ex := data[AttemptEvent](t, es[1]); ex.Attempts != 3 || ex.MsgID == "" || ex.FailSince != nil {
		t.Errorf("exhausted = %+v", ex)
	}
	n.AttemptsRecorded([]delivery.RecordedAttempt{f.attempt(3, 200, domain.DeliverySucceeded), f.attempt(1, 200, domain.DeliverySucceeded)})
	flush(n)
	es = f.events()
	if got := types(es); len(got) != 3 || got[2] != domain.OpAttemptRecovered {
		t.Fatalf("events after success = %v, want one recovered", got)
	}
	if rec := data[AttemptEvent](t, es[2]); rec.FailSince == nil || rec.LastAttempt.ResponseStatusCode != 200 || rec.LastAttempt.Error != "" {
		t.Errorf("recovered = %+v", rec)
	}
	// A new streak is news again.
	for i := range 3 {
		n.AttemptsRecorded([]delivery.RecordedAttempt{fail(i+1, domain.DeliveryPending)})
	}
	flush(n)
	if got := types(f.events()); len(got) != 4 || got[3] != domain.OpAttemptFailing {
		t.Fatalf("events after a second streak = %v", got)
	}
}

// TestStreakSurvivesRestartAndNodes checks that failing is sent once per streak and
// recovered after it, by whichever node sees them, and after a restart.
func TestStreakSurvivesRestartAndNodes(t *testing.T) {
	f := newFixture(t)
	testStreakAcrossNodes(t, f, f.notifier(nil), f.notifier(nil))
}

// TestStreakAcrossPostgresNodes is TestStreakSurvivesRestartAndNodes with two nodes,
// each with its own connection to one PostgreSQL database.
func TestStreakAcrossPostgresNodes(t *testing.T) {
	url := pgtest.URL(t)
	box := testCipher()
	open := func() store.Store {
		st, err := postgres.Open(bg, url, postgres.Options{Cipher: box, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	f := newFixtureOn(t, open())
	other := &fixture{t: t, store: open(), opApp: f.opApp, app: f.app, ep: f.ep}
	other.pub = &storePublisher{s: other.store}
	testStreakAcrossNodes(t, f, f.notifier(nil), other.notifier(nil))
}

func testStreakAcrossNodes(t *testing.T, f *fixture, a, b *Notifier) {
	for i := range 3 {
		a.AttemptsRecorded([]delivery.RecordedAttempt{f.attempt(i+1, 503, domain.DeliveryPending)})
		b.AttemptsRecorded([]delivery.RecordedAttempt{f.attempt(i+1, 503, domain.DeliveryPending)})
	}
	flush(a)
	flush(b)
	if got := types(f.events()); !slices.Equal(got, []string{domain.OpAttemptFailing}) {
		t.Fatalf("two nodes sent %v, want one failing", got)
	}
	restarted := f.notifier(nil) // a third Notifier: a node started after the failures
	flush(restarted)
	restarted.AttemptsRecorded([]delivery.RecordedAttempt{f.attempt(4, 200, domain.DeliverySucceeded)})
	flush(restarted)
	a.AttemptsRecorded([]delivery.RecordedAttempt{f.attempt(5, 200, domain.DeliverySucceeded)})
	flush(a)
	if got := types(f.events()); !slices.Equal(got, []string{domain.OpAttemptFailing, domain.OpAttemptRecovered}) {
		t.Fatalf("events = %v, want failing then one recovered", got)
	}
	// Node b saw neither success: once it re-reads the marks, its next streak is news.
	b.work <- b.refreshNotified
	for i := range 3 {
		b.AttemptsRecorded([]delivery.RecordedAttempt{f.attempt(i+1, 503, domain.DeliveryPending)})
	}
	flush(b)
	if got := types(f.events()); !slices.Equal(got, []string{domain.OpAttemptFailing, domain.OpAttemptRecovered, domain.OpAttemptFailing}) {
		t.Fatalf("events = %v, want a second failing from the node that missed the recovery", got)
	}
}

func TestGoneDisablesOnce(t *testing.T) {
	f := newFixture(t)
	n := f.notifier(func(c *Config) { c.FailingAfter = -1 })
	gone := func() delivery.RecordedAttempt {
		a := f.attempt(1, 410, domain.DeliveryFailed)
		a.DisableEndpoint = domain.GoneReason
		return a
	}
	n.AttemptsRecorded([]delivery.RecordedAttempt{gone(), gone()}) // two in flight answered 410
	flush(n)
	es := f.events()
	if got := types(es); !slices.Equal(got, []string{domain.OpAttemptExhausted, domain.OpEndpointDisabled, domain.OpAttemptExhausted}) {
		t.Fatalf("events = %v", got)
	}
	d := data[EndpointDisabledEvent](t, es[1])
	if d.Trigger != domain.TriggerAutomatic || d.Reason != domain.DisabledGone || d.Detail != domain.GoneReason ||
		d.FailSince == nil || d.LastAttempt == nil || d.LastAttempt.ResponseStatusCode != 410 {
		t.Errorf("disabled = %+v", d)
	}
}

func TestEndpointLifecycle(t *testing.T) {
	f := newFixture(t, "endpoint.*")
	n := f.notifier(nil)
	ep := *f.ep
	n.EndpointCreated(&ep)
	next := ep
	next.URL, next.EventTypes = "https://example.com/v2", []string{"a.b"}
	n.EndpointUpdated(&ep, &next)
	paused := next
	paused.SetState(domain.EndpointPaused, "")
	n.EndpointUpdated(&next, &paused)
	disabled := paused
	disabled.SetState(domain.EndpointDisabled, "")
	n.EndpointUpdated(&paused, &disabled)
	enabled := disabled
	enabled.SetState(domain.EndpointEnabled, "")
	n.EndpointUpdated(&disabled, &enabled)
	n.EndpointUpdated(&enabled, &enabled) // nothing changed: nothing sent
	n.EndpointDeleted(&enabled)
	// Not watched: the operational endpoints themselves, and listeners.
	op := &domain.Endpoint{ID: "ep_op", AppID: f.opApp.ID}
	n.EndpointCreated(op)
	n.EndpointCreated(&domain.Endpoint{ID: "ep_l", AppID: f.app.ID, Kind: domain.KindListener})
	// Not subscribed: message.* events.
	n.AttemptsRecorded([]delivery.RecordedAttempt{f.attempt(1, 500, domain.DeliveryFailed)})
	flush(n)
	es := f.events()
	want := []string{domain.OpEndpointCreated, domain.OpEndpointUpdated, domain.OpEndpointUpdated, domain.OpEndpointDisabled,
		domain.OpEndpointEnabled, domain.OpEndpointDeleted}
	if got := types(es); !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
	if u := data[EndpointEvent](t, es[1]); !slices.Equal(u.Changes, []string{"url", "event_types"}) || u.AppUID != "acme" {
		t.Errorf("updated = %+v", u)
	}
	if u := data[EndpointEvent](t, es[2]); !slices.Equal(u.Changes, []string{"state"}) {
		t.Errorf("paused = %+v", u)
	}
	if d := data[EndpointDisabledEvent](t, es[3]); d.Trigger != domain.TriggerManual || d.Reason != domain.DisabledManual || d.FailSince != nil {
		t.Errorf("disabled = %+v", d)
	}
	if e := data[EndpointEvent](t, es[4]); e.Trigger != domain.TriggerManual || e.EndpointID != f.ep.ID {
		t.Errorf("enabled = %+v", e)
	}
	var raw map[string]any
	json.Unmarshal(es[3].Data, &raw)
	if v, ok := raw["failSince"]; !ok || v != nil {
		t.Errorf("disabled failSince = %v (present %v), want null", v, ok)
	}
}

func TestNothingPublishedWithoutListeners(t *testing.T) {
	f := newFixture(t)
	n := f.notifier(nil)
	eps, _, _ := f.store.ListEndpoints(bg, f.opApp.ID, store.Page{})
	for _, e := range eps {
		if err := f.store.DeleteEndpoint(bg, f.opApp.ID, e.ID); err != nil {
			t.Fatal(err)
		}
	}
	n.OperationalEndpointsChanged()
	n.EndpointCreated(f.ep)
	n.AttemptsRecorded([]delivery.RecordedAttempt{f.attempt(1, 500, domain.DeliveryFailed)})
	flush(n)
	if f.pub.n != 0 {
		t.Fatalf("%d events published with no operational endpoint", f.pub.n)
	}
}

func TestHooksNeverBlock(t *testing.T) {
	f := newFixture(t)
	n, err := New(Config{Store: f.store, Queue: 2, Logger: quiet}) // never started: nothing drains the queue
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		n.AttemptsRecorded(nil)
		n.EndpointCreated(f.ep)
	}
	if got := n.dropped.Load(); got != 198 {
		t.Fatalf("dropped %d, want 198", got)
	}
	n.Stop(bg) // a Notifier never started stops at once
}

// TestNoEventsAboutOperationalEndpoints checks that an operational endpoint that fails,
// exhausts deliveries and is disabled sends nothing: no event about an event.
func TestNoEventsAboutOperationalEndpoints(t *testing.T) {
	f := newFixture(t)
	n := f.notifier(func(c *Config) { c.FailingAfter = 1 })
	eps, _, err := f.store.ListEndpoints(bg, f.opApp.ID, store.Page{})
	if err != nil || len(eps) != 1 {
		t.Fatalf("operational endpoints: %v, %v", eps, err)
	}
	opEp := eps[0]
	for i := range 3 {
		a := f.attempt(i+1, 410, domain.DeliveryFailed)
		a.Attempt.AppID, a.Attempt.EndpointID, a.DisableEndpoint = f.opApp.ID, opEp.ID, domain.GoneReason
		n.AttemptsRecorded([]delivery.RecordedAttempt{a})
	}
	n.EndpointsDisabled([]*domain.Endpoint{opEp}, "failing continuously for 1h0m0s")
	listener := f.attempt(1, 500, domain.DeliveryFailed)
	listener.Listener = true
	n.AttemptsRecorded([]delivery.RecordedAttempt{listener})
	flush(n)
	if f.pub.n != 0 {
		t.Fatalf("%d events about operational endpoints and listeners: %v", f.pub.n, types(f.events()))
	}
}
