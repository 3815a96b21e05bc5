package storetest

import (
	"crypto/sha256"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

// hashOf returns a token's SHA-256 hash, as the API stores it.
func hashOf(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func testSessions(t *testing.T, s store.Store) {
	a, b := newApp(t, s), newApp(t, s)
	key := &domain.APIKey{ID: ids.New("key"), Name: "admin", Prefix: "hk_admin", Hash: hashOf("admin key"), CreatedAt: base}
	must(t, s.CreateAPIKey(ctx, key))

	console := &domain.Session{ID: ids.New("ses"), Kind: domain.SessionConsole, Hash: hashOf("console"), KeyID: key.ID,
		Capabilities: []string{domain.CapRead, domain.CapManage}, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	must(t, s.CreateSession(ctx, console))
	got, err := s.SessionByHash(ctx, hashOf("console"), base.Add(time.Minute))
	must(t, err)
	if got.ID != console.ID || got.KeyID != key.ID || got.AppID != "" || !got.ExpiresAt.Equal(console.ExpiresAt) || !slices.Equal(got.Capabilities, console.Capabilities) {
		t.Errorf("SessionByHash = %+v, want %+v", got, console)
	}
	_, err = s.SessionByHash(ctx, hashOf("console"), base.Add(time.Hour))
	wantErr(t, err, store.ErrNotFound) // expired
	_, err = s.SessionByHash(ctx, hashOf("nope"), base)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.CreateSession(ctx, &domain.Session{ID: ids.New("ses"), Kind: domain.SessionConsole, Hash: hashOf("x"), KeyID: ids.New("key"),
		CreatedAt: base, ExpiresAt: base.Add(time.Hour)}), store.ErrNotFound)

	// A portal link opens one session with its scope and expiry, once.
	link := &domain.PortalLink{ID: ids.New("pl"), Hash: hashOf("link"), AppID: a.ID, Capabilities: []string{domain.CapRead},
		EndpointIDs: []string{"ep_1", "ep_2"}, CreatedAt: base, ExpiresAt: base.Add(2 * time.Hour)}
	must(t, s.CreatePortalLink(ctx, link))
	_, err = s.SessionByHash(ctx, hashOf("link"), base)
	wantErr(t, err, store.ErrNotFound) // a link is no session
	portal := &domain.Session{ID: ids.New("ses"), Kind: domain.SessionPortal, Hash: hashOf("portal"), CreatedAt: base.Add(time.Minute)}
	must(t, s.OpenPortalLink(ctx, hashOf("link"), portal, base.Add(time.Minute)))
	if portal.AppID != a.ID || !portal.ExpiresAt.Equal(link.ExpiresAt) || !slices.Equal(portal.EndpointIDs, link.EndpointIDs) {
		t.Errorf("opened session %+v, want the link's scope %+v", portal, link)
	}
	got, err = s.SessionByHash(ctx, hashOf("portal"), base.Add(time.Minute))
	must(t, err)
	if got.Kind != domain.SessionPortal || got.AppID != a.ID || !slices.Equal(got.EndpointIDs, link.EndpointIDs) || !slices.Equal(got.Capabilities, link.Capabilities) {
		t.Errorf("stored portal session %+v", got)
	}
	again := &domain.Session{ID: ids.New("ses"), Kind: domain.SessionPortal, Hash: hashOf("portal 2"), CreatedAt: base.Add(time.Minute)}
	wantErr(t, s.OpenPortalLink(ctx, hashOf("link"), again, base.Add(time.Minute)), store.ErrNotFound) // used
	late := &domain.PortalLink{ID: ids.New("pl"), Hash: hashOf("late"), AppID: a.ID, Capabilities: []string{domain.CapRead}, CreatedAt: base, ExpiresAt: base.Add(time.Minute)}
	must(t, s.CreatePortalLink(ctx, late))
	wantErr(t, s.OpenPortalLink(ctx, hashOf("late"), again, base.Add(time.Minute)), store.ErrNotFound) // expired

	// Revoking ends an app's sessions and links, not another app's.
	unused := &domain.PortalLink{ID: ids.New("pl"), Hash: hashOf("unused"), AppID: a.ID, Capabilities: []string{domain.CapRead}, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	must(t, s.CreatePortalLink(ctx, unused))
	other := &domain.PortalLink{ID: ids.New("pl"), Hash: hashOf("other"), AppID: b.ID, Capabilities: []string{domain.CapRead}, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	must(t, s.CreatePortalLink(ctx, other))
	must(t, s.RevokePortalSessions(ctx, a.ID))
	_, err = s.SessionByHash(ctx, hashOf("portal"), base.Add(time.Minute))
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.OpenPortalLink(ctx, hashOf("unused"), again, base.Add(time.Minute)), store.ErrNotFound)
	must(t, s.OpenPortalLink(ctx, hashOf("other"), again, base.Add(time.Minute)))

	// Sessions end with their key or app; DeleteSession ends one.
	must(t, s.DeleteAPIKey(ctx, "", key.ID))
	_, err = s.SessionByHash(ctx, hashOf("console"), base)
	wantErr(t, err, store.ErrNotFound)
	must(t, s.DeleteApp(ctx, b.ID))
	_, err = s.SessionByHash(ctx, hashOf("portal 2"), base.Add(time.Minute))
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.DeleteSession(ctx, again.ID), store.ErrNotFound)
	third := &domain.Session{ID: ids.New("ses"), Kind: domain.SessionPortal, Hash: hashOf("third"), AppID: a.ID, Capabilities: []string{domain.CapRead},
		CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	must(t, s.CreateSession(ctx, third))
	must(t, s.DeleteSession(ctx, third.ID))
	_, err = s.SessionByHash(ctx, hashOf("third"), base)
	wantErr(t, err, store.ErrNotFound)
}

func testEventTypes(t *testing.T, s store.Store) {
	paid := &domain.EventType{Name: "invoice.paid", Description: "paid", Schema: json.RawMessage(`{"type": "object"}`),
		Example: json.RawMessage(`{"id":  "inv_1"}`), CreatedAt: base, UpdatedAt: base}
	created := &domain.EventType{Name: "invoice.created", CreatedAt: base, UpdatedAt: base}
	must(t, s.CreateEventType(ctx, paid))
	must(t, s.CreateEventType(ctx, created))
	wantErr(t, s.CreateEventType(ctx, &domain.EventType{Name: "invoice.paid", CreatedAt: base, UpdatedAt: base}), store.ErrConflict)
	got, err := s.GetEventType(ctx, "invoice.paid")
	must(t, err)
	if string(got.Schema) != string(paid.Schema) || string(got.Example) != string(paid.Example) || got.Description != "paid" || got.Deprecated || !got.CreatedAt.Equal(base) {
		t.Errorf("GetEventType = %+v (documents kept byte for byte), want %+v", got, paid)
	}
	got, err = s.GetEventType(ctx, "invoice.created")
	must(t, err)
	if got.Schema != nil || got.Example != nil {
		t.Errorf("unset documents: schema %q example %q, want nil", got.Schema, got.Example)
	}
	page, next, err := s.ListEventTypes(ctx, store.Page{Limit: 1})
	must(t, err)
	if len(page) != 1 || page[0].Name != "invoice.created" || next != "invoice.created" {
		t.Fatalf("first page %v %q", page, next)
	}
	page, next, err = s.ListEventTypes(ctx, store.Page{Limit: 1, Cursor: next})
	must(t, err)
	if len(page) != 1 || page[0].Name != "invoice.paid" || next != "" {
		t.Fatalf("second page %v %q", page, next)
	}
	paid.Deprecated, paid.Schema, paid.UpdatedAt = true, nil, base.Add(time.Hour)
	must(t, s.UpdateEventType(ctx, paid))
	got, err = s.GetEventType(ctx, "invoice.paid")
	must(t, err)
	if !got.Deprecated || got.Schema != nil || !got.UpdatedAt.Equal(paid.UpdatedAt) {
		t.Errorf("updated %+v", got)
	}
	wantErr(t, s.UpdateEventType(ctx, &domain.EventType{Name: "nope"}), store.ErrNotFound)
	must(t, s.DeleteEventType(ctx, "invoice.paid"))
	wantErr(t, s.DeleteEventType(ctx, "invoice.paid"), store.ErrNotFound)
	_, err = s.GetEventType(ctx, "invoice.paid")
	wantErr(t, err, store.ErrNotFound)
}

func testPublishToEndpoints(t *testing.T, s store.Store) {
	a := newApp(t, s)
	picky := newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.EventTypes = []string{"other.*"} })
	all := newEndpoint(t, s, a.ID, nil)
	otherApp := newEndpoint(t, s, newApp(t, s).ID, nil)
	res := publish(t, s, a.ID, "invoice.paid", base, func(in *store.PublishInput) { in.Endpoints = []string{picky.ID} })
	if len(res.Deliveries) != 1 || res.Deliveries[0].EndpointID != picky.ID {
		t.Fatalf("deliveries %v, want one to the chosen endpoint whatever its filter", res.Deliveries)
	}
	// Another app's endpoint is never a target.
	res = publish(t, s, a.ID, "invoice.paid", base, func(in *store.PublishInput) { in.Endpoints = []string{otherApp.ID, all.ID} })
	if len(res.Deliveries) != 1 || res.Deliveries[0].EndpointID != all.ID {
		t.Fatalf("deliveries %v, want one to %s", res.Deliveries, all.ID)
	}
}

func testScopedLists(t *testing.T, s store.Store) {
	a := newApp(t, s)
	e1 := newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.EventTypes = []string{"one"} })
	e2 := newEndpoint(t, s, a.ID, nil)
	m1 := publish(t, s, a.ID, "one", base, nil).Message                  // to e1 and e2
	m2 := publish(t, s, a.ID, "two", base.Add(time.Second), nil).Message // to e2
	for _, c := range claim(t, s, "n", base.Add(time.Minute), 10) {
		must(t, s.Complete(ctx, []*store.AttemptResult{result(c, base.Add(time.Minute), domain.DeliverySucceeded, nil, 200)}))
	}
	scope := []string{e1.ID}
	ms, _, err := s.ListMessages(ctx, store.MessageFilter{AppID: a.ID, EndpointIDs: scope, Page: store.Page{Limit: 10}})
	must(t, err)
	if len(ms) != 1 || ms[0].ID != m1.ID {
		t.Errorf("messages of %v: %v, want %s only", scope, ms, m1.ID)
	}
	ms, _, err = s.ListMessages(ctx, store.MessageFilter{AppID: a.ID, Page: store.Page{Limit: 10}})
	must(t, err)
	if len(ms) != 2 || ms[0].ID != m2.ID {
		t.Errorf("every message: %v", ms)
	}
	ds, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{AppID: a.ID, EndpointIDs: scope, Page: store.Page{Limit: 10}})
	must(t, err)
	if len(ds) != 1 || ds[0].EndpointID != e1.ID {
		t.Errorf("deliveries of %v: %v", scope, ds)
	}
	as, _, err := s.ListAttempts(ctx, store.AttemptFilter{AppID: a.ID, EndpointIDs: []string{e2.ID}, Page: store.Page{Limit: 10}})
	must(t, err)
	if len(as) != 2 || as[0].EndpointID != e2.ID || as[1].EndpointID != e2.ID {
		t.Errorf("attempts of e2: %v", as)
	}
}

func testAttemptStats(t *testing.T, s store.Store) {
	a := newApp(t, s)
	e1, e2 := newEndpoint(t, s, a.ID, nil), newEndpoint(t, s, a.ID, nil)
	publish(t, s, a.ID, "t", base, nil)
	claimed := claim(t, s, "n", base, 10)
	if len(claimed) != 2 {
		t.Fatalf("claimed %d", len(claimed))
	}
	next := base.Add(time.Hour)
	for _, c := range claimed {
		at := []time.Time{base.Add(5 * time.Minute), base.Add(65 * time.Minute), base.Add(70*time.Minute - time.Millisecond), base.Add(3 * time.Hour)}
		status := []string{domain.DeliveryPending, domain.DeliveryPending, domain.DeliverySucceeded, domain.DeliverySucceeded}
		for i := range at {
			r := result(c, at[i], status[i], &next, 500)
			if i == 1 {
				r.Attempt.Error = "boom"
			}
			r.Attempt.Number = i + 1
			if status[i] == domain.DeliverySucceeded {
				r.NextAttemptAt = nil
			}
			must(t, s.Complete(ctx, []*store.AttemptResult{r}))
		}
	}
	f := store.AttemptStatsFilter{AppID: a.ID, EndpointID: e1.ID, Since: base, Until: base.Add(2 * time.Hour), Bucket: time.Hour}
	st, err := s.AttemptStats(ctx, f)
	must(t, err)
	want := []store.StatsBucket{{Start: base, Failed: 1}, {Start: base.Add(time.Hour), Succeeded: 1, Failed: 1}}
	if !slices.Equal(st.Buckets, want) || st.Succeeded != 1 || st.Failed != 2 {
		t.Errorf("stats of e1: %+v, want buckets %+v", st, want)
	}
	if st.Last == nil || !st.Last.StartedAt.Equal(base.Add(70*time.Minute-time.Millisecond)) || st.LastFailure == nil || st.LastFailure.Error != "boom" {
		t.Errorf("last %+v, last failure %+v", st.Last, st.LastFailure)
	}
	// Every endpoint, in 30-minute buckets over 4 hours.
	st, err = s.AttemptStats(ctx, store.AttemptStatsFilter{Since: base, Until: base.Add(4 * time.Hour), Bucket: 30 * time.Minute})
	must(t, err)
	if len(st.Buckets) != 8 || st.Succeeded != 4 || st.Failed != 4 || st.Buckets[2].Failed != 2 || st.Buckets[2].Succeeded != 2 || st.Buckets[6].Succeeded != 2 {
		t.Errorf("stats of every endpoint: %+v", st)
	}
	// An endpoint without attempts, and a range without any.
	st, err = s.AttemptStats(ctx, store.AttemptStatsFilter{EndpointID: e2.ID, Since: base.Add(-time.Hour), Until: base, Bucket: time.Hour})
	must(t, err)
	if st.Succeeded+st.Failed != 0 || st.Last != nil || st.LastFailure != nil || len(st.Buckets) != 1 {
		t.Errorf("empty range: %+v", st)
	}
	oldest, err := s.OldestPending(ctx)
	must(t, err)
	if oldest != nil {
		t.Errorf("OldestPending = %v with nothing pending", oldest)
	}
	publish(t, s, a.ID, "t", base.Add(time.Minute), nil)
	publish(t, s, a.ID, "t", base.Add(2*time.Minute), nil)
	oldest, err = s.OldestPending(ctx)
	must(t, err)
	if oldest == nil || !oldest.Equal(base.Add(time.Minute)) {
		t.Errorf("OldestPending = %v, want %v", oldest, base.Add(time.Minute))
	}
}
