// Package storetest is the conformance suite every store.Store backend must pass.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/webhook"
)

// Factory returns a new, empty store for one test; the suite closes it.
type Factory func(t *testing.T) store.Store

// Run runs the whole suite against stores made by newStore.
func Run(t *testing.T, newStore Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Apps", testApps},
		{"APIKeys", testAPIKeys},
		{"Endpoints", testEndpoints},
		{"SecretRotation", testSecretRotation},
		{"PublishFanOut", testPublishFanOut},
		{"Idempotency", testIdempotency},
		{"ConcurrentPublish", testConcurrentPublish},
		{"ClaimComplete", testClaimComplete},
		{"LeaseExpiry", testLeaseExpiry},
		{"PublishLease", testPublishLease},
		{"PausedEndpoint", testPausedEndpoint},
		{"FIFO", testFIFO},
		{"Exclude", testExclude},
		{"RetryAndReplay", testRetryAndReplay},
		{"Purge", testPurge},
		{"DisableFailing", testDisableFailing},
		{"Pagination", testPagination},
		{"MessageSourceAndHeaders", testMessageSourceAndHeaders},
		{"ClaimConcurrencyLimit", sharedOnly(testClaimConcurrencyLimit)},
		{"ConcurrentClaimsLimit", sharedOnly(testConcurrentClaimsLimit)},
		{"PublishLeaseLimit", sharedOnly(testPublishLeaseLimit)},
		{"RateLimit", sharedOnly(testRateLimit)},
		{"FIFOWithLimits", sharedOnly(testFIFOWithLimits)},
		{"Liveness", sharedOnly(testLiveness)},
		{"Notifier", testNotifier},
		{"Locker", testLocker},
		{"Sources", testSources},
		{"SourceUIDs", testSourceUIDs},
		{"EndpointKinds", testEndpointKinds},
		{"WatchEndpoints", testWatchEndpoints},
		{"Sessions", testSessions},
		{"EventTypes", testEventTypes},
		{"PublishToEndpoints", testPublishToEndpoints},
		{"ScopedLists", testScopedLists},
		{"AttemptStats", testAttemptStats},
		{"AttemptHours", testAttemptHours},
		{"ReplayJobs", testReplayJobs},
		{"ListenerPresence", testListenerPresence},
		{"ListenerExpiry", testListenerExpiry},
		{"ParkBacklogs", testParkBacklogs},
		{"FilteredFanOut", testFilteredFanOut},
		{"EndpointTransformationAndAuth", testEndpointTransformationAndAuth},
		{"AttemptRequestHeaders", testAttemptRequestHeaders},
		{"MessageTrace", testMessageTrace},
		{"Backlog", testBacklog},
		{"OperationalApp", testOperationalApp},
		{"FailingNotified", testFailingNotified},
		{"StatusReads", testStatusReads},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() { s.Close() })
			tc.fn(t, s)
		})
	}
}

var ctx = context.Background()

// base is a fixed, millisecond-aligned time so that round trips compare equal.
var base = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// idsAt makes the ids of messages and attempts for the times the tests give them, as
// herald makes them when they happen: stores select them by time through their ids.
var idsAt = ids.NewGenerator()

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newApp(t *testing.T, s store.Store) *domain.App {
	t.Helper()
	a := &domain.App{ID: ids.New("app"), Name: "Acme", Metadata: map[string]string{"plan": "pro"}, CreatedAt: base, UpdatedAt: base}
	must(t, s.CreateApp(ctx, a))
	return a
}

func newEndpoint(t *testing.T, s store.Store, appID string, mutate func(e *domain.Endpoint)) *domain.Endpoint {
	t.Helper()
	e := &domain.Endpoint{
		ID: ids.New("ep"), AppID: appID, URL: "https://example.com/hook", EventTypes: []string{},
		Headers: map[string]string{}, Metadata: map[string]string{}, State: domain.EndpointEnabled,
		CreatedAt: base, UpdatedAt: base,
	}
	if mutate != nil {
		mutate(e)
	}
	sec := &domain.EndpointSecret{ID: ids.New("sec"), EndpointID: e.ID, Secret: webhook.NewHMACSecret(), CreatedAt: base}
	must(t, s.CreateEndpoint(ctx, e, sec))
	return e
}

func newSecret(endpointID string) *domain.EndpointSecret {
	return &domain.EndpointSecret{ID: ids.New("sec"), EndpointID: endpointID, Secret: webhook.NewHMACSecret(), CreatedAt: base}
}

func publish(t *testing.T, s store.Store, appID, typ string, at time.Time, mutate func(in *store.PublishInput)) *store.PublishResult {
	t.Helper()
	in := &store.PublishInput{
		Message:        &domain.Message{ID: idsAt.NewAt("msg", at), AppID: appID, Type: typ, Payload: json.RawMessage(`{"type":"` + typ + `"}`), CreatedAt: at},
		IdempotencyTTL: 24 * time.Hour,
	}
	if mutate != nil {
		mutate(in)
	}
	res, err := s.Publish(ctx, in)
	must(t, err)
	return res
}

func claim(t *testing.T, s store.Store, owner string, now time.Time, limit int, exclude ...string) []*store.Claimed {
	t.Helper()
	c, err := s.Claim(ctx, store.ClaimRequest{Owner: owner, Now: now, LeaseUntil: now.Add(time.Minute), Limit: limit, Exclude: exclude})
	must(t, err)
	return c
}

func result(c *store.Claimed, at time.Time, status string, next *time.Time, code int) *store.AttemptResult {
	d := c.Delivery
	return &store.AttemptResult{
		Attempt: &domain.Attempt{
			ID: idsAt.NewAt("att", at), DeliveryID: d.ID, AppID: d.AppID, EndpointID: d.EndpointID, MessageID: d.MessageID,
			Number: d.Attempts + 1, StartedAt: at, Latency: 1500 * time.Microsecond, StatusCode: code,
			ResponseHeaders: map[string]string{"Content-Type": "text/plain"}, ResponseBody: []byte("ok"), Outcome: AttemptOutcome(status),
		},
		Status: status, NextAttemptAt: next, EndpointFailed: status != domain.DeliverySucceeded,
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

func testApps(t *testing.T, s store.Store) {
	a := newApp(t, s)
	got, err := s.GetApp(ctx, a.ID)
	must(t, err)
	if got.Name != "Acme" || got.Metadata["plan"] != "pro" || !got.CreatedAt.Equal(base) {
		t.Fatalf("GetApp = %+v", got)
	}
	a.Name, a.UID = "Acme Inc", "acme"
	must(t, s.UpdateApp(ctx, a))
	if got, err = s.GetApp(ctx, "acme"); err != nil || got.ID != a.ID || got.Name != "Acme Inc" {
		t.Fatalf("GetApp by uid = %+v, %v", got, err)
	}
	b := &domain.App{ID: ids.New("app"), Name: "B", UID: "acme", CreatedAt: base, UpdatedAt: base}
	wantErr(t, s.CreateApp(ctx, b), store.ErrConflict)
	_, err = s.GetApp(ctx, "app_missing")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.UpdateApp(ctx, &domain.App{ID: "app_missing"}), store.ErrNotFound)

	newEndpoint(t, s, a.ID, nil)
	publish(t, s, a.ID, "x.y", base, nil)
	must(t, s.DeleteApp(ctx, a.ID))
	_, err = s.GetApp(ctx, a.ID)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.DeleteApp(ctx, a.ID), store.ErrNotFound)
	if n, _ := s.QueueDepth(ctx); n != 0 {
		t.Errorf("queue depth %d after deleting the app", n)
	}
}

func testAPIKeys(t *testing.T, s store.Store) {
	if ok, err := s.HasAdminKey(ctx); err != nil || ok {
		t.Fatalf("HasAdminKey on empty store = %v, %v", ok, err)
	}
	a := newApp(t, s)
	admin := &domain.APIKey{ID: ids.New("key"), Name: "admin", Prefix: "hk_abc", Hash: []byte("hash-admin-0123456789012345678901"), CreatedAt: base}
	appKey := &domain.APIKey{ID: ids.New("key"), AppID: a.ID, Name: "app", Prefix: "hk_def", Hash: []byte("hash-app-01234567890123456789012"), CreatedAt: base}
	must(t, s.CreateAPIKey(ctx, admin))
	must(t, s.CreateAPIKey(ctx, appKey))
	wantErr(t, s.CreateAPIKey(ctx, &domain.APIKey{ID: ids.New("key"), Hash: admin.Hash, CreatedAt: base}), store.ErrConflict)
	if ok, _ := s.HasAdminKey(ctx); !ok {
		t.Fatal("HasAdminKey = false after creating one")
	}
	got, err := s.APIKeyByHash(ctx, appKey.Hash)
	must(t, err)
	if got.ID != appKey.ID || got.AppID != a.ID {
		t.Fatalf("APIKeyByHash = %+v", got)
	}
	_, err = s.APIKeyByHash(ctx, []byte("nope"))
	wantErr(t, err, store.ErrNotFound)
	keys, _, err := s.ListAPIKeys(ctx, a.ID, store.Page{})
	must(t, err)
	if len(keys) != 1 || keys[0].ID != appKey.ID {
		t.Fatalf("ListAPIKeys(app) = %v", keys)
	}
	wantErr(t, s.DeleteAPIKey(ctx, "", appKey.ID), store.ErrNotFound) // wrong scope
	must(t, s.DeleteAPIKey(ctx, a.ID, appKey.ID))
	_, err = s.APIKeyByHash(ctx, appKey.Hash)
	wantErr(t, err, store.ErrNotFound)
}

func testEndpoints(t *testing.T, s store.Store) {
	a, other := newApp(t, s), newApp(t, s)
	e := newEndpoint(t, s, a.ID, func(e *domain.Endpoint) {
		e.EventTypes = []string{"response.*", "batch.completed"}
		e.Headers = map[string]string{"X-Team": "core"}
		e.MaxConcurrency, e.RateLimit, e.TimeoutMS, e.FIFO = 4, 2.5, 5000, true
	})
	got, err := s.GetEndpoint(ctx, a.ID, e.ID)
	must(t, err)
	if got.URL != e.URL || len(got.EventTypes) != 2 || got.Headers["X-Team"] != "core" || got.MaxConcurrency != 4 ||
		got.RateLimit != 2.5 || got.TimeoutMS != 5000 || !got.FIFO || got.State != domain.EndpointEnabled {
		t.Fatalf("GetEndpoint = %+v", got)
	}
	_, err = s.GetEndpoint(ctx, other.ID, e.ID)
	wantErr(t, err, store.ErrNotFound)
	if _, err := s.GetEndpoint(ctx, "", e.ID); err != nil {
		t.Fatalf("GetEndpoint with any app: %v", err)
	}
	wantErr(t, s.CreateEndpoint(ctx, &domain.Endpoint{ID: ids.New("ep"), AppID: "app_missing", State: "enabled", CreatedAt: base, UpdatedAt: base},
		&domain.EndpointSecret{ID: ids.New("sec"), Secret: webhook.NewHMACSecret(), CreatedAt: base}), store.ErrNotFound)

	e.URL, e.State, e.FIFO = "https://example.org/new", domain.EndpointPaused, false
	must(t, s.UpdateEndpoint(ctx, e))
	got, _ = s.GetEndpoint(ctx, a.ID, e.ID)
	if got.URL != "https://example.org/new" || got.State != domain.EndpointPaused || got.FIFO {
		t.Fatalf("after update = %+v", got)
	}
	e.AppID = other.ID
	wantErr(t, s.UpdateEndpoint(ctx, e), store.ErrNotFound)
	e.AppID = a.ID
	must(t, s.SetEndpointState(ctx, e.ID, domain.EndpointDisabled, "410 Gone"))
	got, _ = s.GetEndpoint(ctx, a.ID, e.ID)
	if got.State != domain.EndpointDisabled || got.DisabledReason != "410 Gone" {
		t.Fatalf("after SetEndpointState = %+v", got)
	}
	wantErr(t, s.DeleteEndpoint(ctx, other.ID, e.ID), store.ErrNotFound)
	must(t, s.DeleteEndpoint(ctx, a.ID, e.ID))
	_, err = s.GetEndpoint(ctx, a.ID, e.ID)
	wantErr(t, err, store.ErrNotFound)
}

func testSecretRotation(t *testing.T, s store.Store) {
	a := newApp(t, s)
	e := newEndpoint(t, s, a.ID, nil)
	first, err := s.EndpointSecrets(ctx, e.ID, base)
	must(t, err)
	if len(first) != 1 || first[0].Secret.Kind() != webhook.HMACKey {
		t.Fatalf("secrets = %v", first)
	}
	next := &domain.EndpointSecret{ID: ids.New("sec"), EndpointID: e.ID, Secret: webhook.NewHMACSecret(), CreatedAt: base.Add(time.Minute)}
	must(t, s.RotateEndpointSecret(ctx, next, base.Add(24*time.Hour)))
	both, _ := s.EndpointSecrets(ctx, e.ID, base.Add(time.Hour))
	if len(both) != 2 || !both[0].Secret.Equal(next.Secret) || !both[1].Secret.Equal(first[0].Secret) || both[1].ExpiresAt == nil {
		t.Fatalf("during rotation = %+v", both)
	}
	after, _ := s.EndpointSecrets(ctx, e.ID, base.Add(25*time.Hour))
	if len(after) != 1 || !after[0].Secret.Equal(next.Secret) {
		t.Fatalf("after the old key expired = %+v", after)
	}
	wantErr(t, s.RotateEndpointSecret(ctx, &domain.EndpointSecret{ID: ids.New("sec"), EndpointID: "ep_missing", Secret: webhook.NewHMACSecret(), CreatedAt: base}, base), store.ErrNotFound)
}

func testPublishFanOut(t *testing.T, s store.Store) {
	a := newApp(t, s)
	all := newEndpoint(t, s, a.ID, nil)
	responses := newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.EventTypes = []string{"response.*"} })
	batches := newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.EventTypes = []string{"batch.completed"} })
	paused := newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.State = domain.EndpointPaused })
	newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.State = domain.EndpointDisabled })
	other := newApp(t, s)
	newEndpoint(t, s, other.ID, nil)

	res := publish(t, s, a.ID, "response.completed", base, nil)
	got := map[string]bool{}
	for _, d := range res.Deliveries {
		got[d.EndpointID] = true
		if d.Status != domain.DeliveryPending || d.MessageID != res.Message.ID {
			t.Errorf("delivery %+v", d)
		}
	}
	if len(got) != 3 || !got[all.ID] || !got[responses.ID] || !got[paused.ID] || got[batches.ID] {
		t.Fatalf("response.completed went to %v; want all, responses and paused", got)
	}
	m, err := s.GetMessage(ctx, a.ID, res.Message.ID)
	must(t, err)
	if string(m.Payload) != `{"type":"response.completed"}` || m.Type != "response.completed" {
		t.Fatalf("GetMessage = %+v", m)
	}
	_, err = s.GetMessage(ctx, other.ID, res.Message.ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.Publish(ctx, &store.PublishInput{Message: &domain.Message{ID: ids.New("msg"), AppID: "app_missing", Type: "x", Payload: json.RawMessage(`{}`), CreatedAt: base}})
	wantErr(t, err, store.ErrNotFound)

	ds, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{AppID: a.ID, MessageID: res.Message.ID})
	must(t, err)
	if len(ds) != 3 {
		t.Fatalf("ListDeliveries by message = %d, want 3", len(ds))
	}
	ds, _, _ = s.ListDeliveries(ctx, store.DeliveryFilter{AppID: a.ID, EndpointID: paused.ID})
	if len(ds) != 1 {
		t.Fatalf("ListDeliveries by endpoint = %d, want 1", len(ds))
	}
	if n, _ := s.QueueDepth(ctx); n != 3 {
		t.Errorf("QueueDepth = %d, want 3", n)
	}
}

func testIdempotency(t *testing.T, s store.Store) {
	a := newApp(t, s)
	newEndpoint(t, s, a.ID, nil)
	key := func(in *store.PublishInput) { in.Message.IdempotencyKey = "order-42" }
	first := publish(t, s, a.ID, "order.paid", base, key)
	again := publish(t, s, a.ID, "order.paid", base.Add(time.Hour), key)
	if !again.Duplicate || again.Message.ID != first.Message.ID || len(again.Deliveries) != 0 {
		t.Fatalf("repeat within TTL: duplicate=%v id=%s deliveries=%d", again.Duplicate, again.Message.ID, len(again.Deliveries))
	}
	later := publish(t, s, a.ID, "order.paid", base.Add(25*time.Hour), key)
	if later.Duplicate || later.Message.ID == first.Message.ID || len(later.Deliveries) != 1 {
		t.Fatalf("repeat after TTL: duplicate=%v", later.Duplicate)
	}
	other := newApp(t, s)
	if res := publish(t, s, other.ID, "order.paid", base, key); res.Duplicate {
		t.Fatal("idempotency keys leak across apps")
	}
}

// testConcurrentPublish checks that concurrent publishes (which share commits) each get
// their own message and deliveries, and that a failing one does not spoil the others.
func testConcurrentPublish(t *testing.T, s store.Store) {
	a := newApp(t, s)
	newEndpoint(t, s, a.ID, nil)
	newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.EventTypes = []string{"even"} })
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			typ, app := "odd", a.ID
			if i%2 == 0 {
				typ = "even"
			}
			if i%10 == 9 {
				app = "app_missing"
			}
			_, errs[i] = s.Publish(ctx, &store.PublishInput{Message: &domain.Message{ID: ids.New("msg"), AppID: app, Type: typ, Payload: json.RawMessage(`{}`), CreatedAt: base}})
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if (i%10 == 9) != (err != nil) {
			t.Fatalf("publish %d: err = %v", i, err)
		}
	}
	msgs := 0
	for cursor := ""; ; {
		page, next, err := s.ListMessages(ctx, store.MessageFilter{AppID: a.ID, Page: store.Page{Limit: 70, Cursor: cursor}})
		must(t, err)
		msgs += len(page)
		if next == "" {
			break
		}
		cursor = next
	}
	if msgs != 180 {
		t.Fatalf("%d messages stored, want 180", msgs)
	}
	// Every stored message reaches the catch-all endpoint; the 100 "even" ones (none of
	// the failed publishes is even) reach the filtered endpoint too.
	if depth, _ := s.QueueDepth(ctx); depth != 180+100 {
		t.Fatalf("queue depth %d, want 280", depth)
	}
}

func testPagination(t *testing.T, s store.Store) {
	var want []string
	for i := 0; i < 7; i++ {
		want = append(want, newApp(t, s).ID)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(want)))
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		apps, next, err := s.ListApps(ctx, store.Page{Limit: 3, Cursor: cursor})
		must(t, err)
		for _, a := range apps {
			got = append(got, a.ID)
		}
		if next == "" {
			break
		}
		cursor = next
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("paged apps = %v, want %v (newest first)", got, want)
	}
}

// testMessageSourceAndHeaders checks that a source's messages keep their headers through
// publish and claim, and reach only endpoints that take them.
func testMessageSourceAndHeaders(t *testing.T, s store.Store) {
	a := newApp(t, s)
	unfiltered := newEndpoint(t, s, a.ID, nil)
	onlySrc := newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.SourceID = "src_1" })
	got, err := s.GetEndpoint(ctx, a.ID, onlySrc.ID)
	must(t, err)
	if got.SourceID != "src_1" {
		t.Fatalf("endpoint source = %q", got.SourceID)
	}
	fromAPI := publish(t, s, a.ID, "t", base, nil)
	if len(fromAPI.Deliveries) != 1 || fromAPI.Deliveries[0].EndpointID != unfiltered.ID {
		t.Fatalf("an API message reached %d endpoints, want only the unfiltered one", len(fromAPI.Deliveries))
	}
	headers := map[string]string{"Content-Type": "application/x-www-form-urlencoded", domain.ForwardedHeaderPrefix + "X-Slack-Signature": "v0=abc"}
	fromSrc := publish(t, s, a.ID, "t", base, func(in *store.PublishInput) {
		in.Message.SourceID, in.Message.Headers = "src_1", headers
	})
	if len(fromSrc.Deliveries) != 2 {
		t.Fatalf("a source message reached %d endpoints, want 2", len(fromSrc.Deliveries))
	}
	m, err := s.GetMessage(ctx, a.ID, fromSrc.Message.ID)
	must(t, err)
	if m.SourceID != "src_1" || fmt.Sprint(m.Headers) != fmt.Sprint(headers) {
		t.Fatalf("message = %+v", m)
	}
	list, _, err := s.ListMessages(ctx, store.MessageFilter{AppID: a.ID, SourceID: "src_1"})
	must(t, err)
	if len(list) != 1 || list[0].ID != fromSrc.Message.ID {
		t.Fatalf("ListMessages by source = %d messages", len(list))
	}
	for _, c := range claim(t, s, "n1", base, 10) {
		if c.Delivery.MessageID == fromSrc.Message.ID && fmt.Sprint(c.Headers) != fmt.Sprint(headers) {
			t.Fatalf("claimed headers = %v", c.Headers)
		}
		if c.Delivery.MessageID == fromAPI.Message.ID && len(c.Headers) != 0 {
			t.Fatalf("an API message claimed with headers %v", c.Headers)
		}
	}
}

func testSources(t *testing.T, st store.Store) {
	s, ok := st.(store.SourceStore)
	if !ok {
		t.Skip("this backend does not implement store.SourceStore")
	}
	a, other := newApp(t, st), newApp(t, st)
	src := &domain.Source{ID: ids.New("src"), AppID: a.ID, Name: "openai", Provider: "openai",
		Secrets: []string{"whsec_new", "whsec_old"}, MaxBodyBytes: 1 << 20, DedupeWindow: 72 * time.Hour, CreatedAt: base, UpdatedAt: base}
	must(t, s.CreateSource(ctx, src))
	gen := &domain.Source{ID: ids.New("src"), AppID: a.ID, Provider: "hmac", Secrets: []string{"s3cret"},
		HMAC: &webhook.HMACConfig{Header: "X-Signature", Prefix: "sha256=", Secret: "must-not-be-stored"}, CreatedAt: base, UpdatedAt: base}
	must(t, s.CreateSource(ctx, gen))
	wantErr(t, s.CreateSource(ctx, &domain.Source{ID: ids.New("src"), AppID: "app_missing", Provider: "openai", Secrets: []string{"x"}, CreatedAt: base, UpdatedAt: base}), store.ErrNotFound)

	got, err := s.GetSource(ctx, "", src.ID)
	must(t, err)
	if got.AppID != a.ID || fmt.Sprint(got.Secrets) != "[whsec_new whsec_old]" || got.DedupeWindow != 72*time.Hour || got.MaxBodyBytes != 1<<20 {
		t.Fatalf("GetSource = %+v", got)
	}
	_, err = s.GetSource(ctx, other.ID, src.ID)
	wantErr(t, err, store.ErrNotFound)
	g, _ := s.GetSource(ctx, a.ID, gen.ID)
	if g.HMAC == nil || g.HMAC.Header != "X-Signature" || g.HMAC.Secret != "" {
		t.Fatalf("generic source config = %+v", g.HMAC)
	}
	list, _, err := s.ListSources(ctx, a.ID, store.Page{})
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("ListSources = %d", len(list))
	}
	src.Secrets, src.Name = []string{"whsec_rotated"}, "renamed"
	must(t, s.UpdateSource(ctx, src))
	got, _ = s.GetSource(ctx, a.ID, src.ID)
	if got.Name != "renamed" || fmt.Sprint(got.Secrets) != "[whsec_rotated]" {
		t.Fatalf("after update = %+v", got)
	}

	rej := &domain.Rejection{ID: ids.New("rej"), SourceID: src.ID, AppID: a.ID, ReceivedAt: base, Status: 401, Code: "invalid_signature",
		Message: "no matching signature", RemoteAddr: "127.0.0.1:5555", Headers: map[string]string{"Webhook-Id": "msg_1"}, Body: []byte(`{"x":1}`)}
	must(t, s.RecordRejection(ctx, rej))
	rs, _, err := s.ListRejections(ctx, a.ID, src.ID, store.Page{})
	must(t, err)
	if len(rs) != 1 || rs[0].Code != "invalid_signature" || string(rs[0].Body) != `{"x":1}` || rs[0].Headers["Webhook-Id"] != "msg_1" {
		t.Fatalf("ListRejections = %+v", rs)
	}
	if rs[0].Diagnosis == nil || len(rs[0].Diagnosis) != 0 {
		t.Fatalf("a rejection recorded without a diagnosis reads as %#v, want an empty list", rs[0].Diagnosis)
	}
	checkRejectionDiagnosis(t, s, a.ID, src.ID)
	if rs, _, _ := s.ListRejections(ctx, other.ID, src.ID, store.Page{}); len(rs) != 0 {
		t.Fatal("rejections leak across apps")
	}
	wantErr(t, s.DeleteSource(ctx, other.ID, src.ID), store.ErrNotFound)
	must(t, s.DeleteSource(ctx, a.ID, src.ID))
	_, err = s.GetSource(ctx, a.ID, src.ID)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.RecordRejection(ctx, &domain.Rejection{ID: ids.New("rej"), SourceID: src.ID, AppID: a.ID, ReceivedAt: base}), store.ErrNotFound)
}
