package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

// testOperationalApp checks the reserved app: created once however many ask at once,
// hidden from GetApp and ListApps, and neither updated nor deleted through them.
func testOperationalApp(t *testing.T, s store.Store) {
	customer := newApp(t, s)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := s.OperationalApp(ctx, &domain.App{ID: ids.New("app"), Name: "herald operational", CreatedAt: base, UpdatedAt: base})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			seen[a.ID] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(seen) != 1 {
		t.Fatalf("OperationalApp made %d apps: %v", len(seen), seen)
	}
	var op string
	for id := range seen {
		op = id
	}
	again, err := s.OperationalApp(ctx, &domain.App{ID: ids.New("app"), Name: "other", CreatedAt: base, UpdatedAt: base})
	must(t, err)
	if again.ID != op || again.Name != "herald operational" {
		t.Fatalf("OperationalApp again = %+v, want %s", again, op)
	}
	_, err = s.GetApp(ctx, op)
	wantErr(t, err, store.ErrNotFound)
	apps, _, err := s.ListApps(ctx, store.Page{Limit: 100})
	must(t, err)
	if len(apps) != 1 || apps[0].ID != customer.ID {
		t.Fatalf("ListApps = %v, want only %s", apps, customer.ID)
	}
	wantErr(t, s.UpdateApp(ctx, &domain.App{ID: op, Name: "renamed", Metadata: map[string]string{}, UpdatedAt: base}), store.ErrNotFound)
	ep := newEndpoint(t, s, op, nil) // its endpoints are ordinary endpoints
	wantErr(t, s.DeleteApp(ctx, op), store.ErrNotFound)
	if _, err := s.GetEndpoint(ctx, op, ep.ID); err != nil {
		t.Fatalf("the refused delete took the endpoint: %v", err)
	}
}

// testFailingNotified checks the once-per-streak record of message.attempt.failing.
func testFailingNotified(t *testing.T, s store.Store) {
	a := newApp(t, s)
	e1, e2 := newEndpoint(t, s, a.ID, nil), newEndpoint(t, s, a.ID, nil)
	if got, err := s.FailingNotified(ctx, 10); err != nil || len(got) != 0 {
		t.Fatalf("FailingNotified = %v, %v", got, err)
	}
	if since, err := s.ClearFailingNotified(ctx, e1.ID); err != nil || since != nil {
		t.Fatalf("ClearFailingNotified before any mark = %v, %v", since, err)
	}
	ok, err := s.MarkFailingNotified(ctx, e1.ID, base)
	must(t, err)
	if !ok {
		t.Fatal("first mark was refused")
	}
	if ok, _ := s.MarkFailingNotified(ctx, e1.ID, base.Add(time.Hour)); ok {
		t.Fatal("a second mark of the same streak was taken")
	}
	if ok, _ := s.MarkFailingNotified(ctx, "ep_missing", base); ok {
		t.Fatal("a missing endpoint was marked")
	}
	if ok, err := s.MarkFailingNotified(ctx, e2.ID, base.Add(time.Minute)); err != nil || !ok {
		t.Fatalf("mark e2 = %v, %v", ok, err)
	}
	got, err := s.FailingNotified(ctx, 10)
	must(t, err)
	if len(got) != 2 || got[0] != e1.ID || got[1] != e2.ID {
		t.Fatalf("FailingNotified = %v, want [%s %s]", got, e1.ID, e2.ID)
	}
	if got, _ := s.FailingNotified(ctx, 1); len(got) != 1 {
		t.Fatalf("FailingNotified(limit 1) = %v", got)
	}
	since, err := s.ClearFailingNotified(ctx, e1.ID)
	must(t, err)
	if since == nil || !since.Equal(base) {
		t.Fatalf("ClearFailingNotified = %v, want %v", since, base)
	}
	if since, _ := s.ClearFailingNotified(ctx, e1.ID); since != nil {
		t.Fatal("a streak was cleared twice")
	}
	if ok, _ := s.MarkFailingNotified(ctx, e1.ID, base.Add(2*time.Hour)); !ok {
		t.Fatal("a new streak after the clear was refused")
	}
}

// testStatusReads checks the bounded reads behind GET /v1/status.
func testStatusReads(t *testing.T, s store.Store) {
	a := newApp(t, s)
	ok, failing, older := newEndpoint(t, s, a.ID, nil), newEndpoint(t, s, a.ID, nil), newEndpoint(t, s, a.ID, nil)
	for range 3 {
		publish(t, s, a.ID, "a.b", base, nil)
	}
	b, err := s.Backlog(ctx, base.Add(time.Second), 100)
	must(t, err)
	if b.Pending != 9 || b.Due != 9 || b.OldestDueAt == nil || !b.OldestDueAt.Equal(base) {
		t.Fatalf("Backlog = %+v, want 9 pending, 9 due, the oldest due at %v", b, base)
	}
	if b, _ := s.Backlog(ctx, base.Add(time.Second), 5); b.Pending != 5 || b.Due != 5 || b.OldestDueAt == nil {
		t.Fatalf("Backlog with limit 5 = %+v, want both counts capped at 5", b)
	}
	if b, _ := s.Backlog(ctx, base.Add(-time.Hour), 100); b.Due != 0 || b.OldestDueAt != nil {
		t.Fatalf("Backlog before anything was due = %+v", b)
	}

	// Two failing endpoints, each with an attempt; the one failing longer comes first.
	cs := claim(t, s, "n1", base.Add(time.Second), 100)
	var results []*store.AttemptResult
	seen := map[string]bool{}
	for _, c := range cs {
		ep := c.Delivery.EndpointID
		if seen[ep] {
			continue
		}
		seen[ep] = true
		at := base.Add(2 * time.Second)
		switch ep {
		case older.ID:
			at = base.Add(time.Second)
		case ok.ID:
			results = append(results, result(c, at, domain.DeliverySucceeded, nil, 200))
			continue
		}
		next := at.Add(time.Hour)
		r := result(c, at, domain.DeliveryPending, &next, 500)
		r.Attempt.Error = "HTTP 500"
		results = append(results, r)
	}
	must(t, s.Complete(ctx, results))
	// Leased and retrying deliveries are pending but not due.
	if b, _ := s.Backlog(ctx, base.Add(3*time.Second), 100); b.Pending != 8 || b.Due != 0 || b.OldestDueAt != nil {
		t.Fatalf("Backlog after claims = %+v, want 8 pending, none due", b)
	}
	fs, err := s.FailingEndpoints(ctx, 10)
	must(t, err)
	if len(fs) != 2 || fs[0].Endpoint.ID != older.ID || fs[1].Endpoint.ID != failing.ID {
		t.Fatalf("FailingEndpoints = %v, want [%s %s]", fs, older.ID, failing.ID)
	}
	if la := fs[0].LastAttempt; la == nil || la.StatusCode != 500 || la.Error != "HTTP 500" || la.EndpointID != older.ID {
		t.Fatalf("last attempt = %+v", la)
	}
	if fs, _ := s.FailingEndpoints(ctx, 1); len(fs) != 1 {
		t.Fatalf("FailingEndpoints(limit 1) = %d", len(fs))
	}
	must(t, s.SetEndpointState(ctx, older.ID, domain.EndpointDisabled, "x"))
	if fs, _ := s.FailingEndpoints(ctx, 10); len(fs) != 1 || fs[0].Endpoint.ID != failing.ID {
		t.Fatalf("FailingEndpoints lists a disabled endpoint: %v", fs)
	}
	testRecentRejections(t, s, a)
}

func testRecentRejections(t *testing.T, st store.Store, a *domain.App) {
	s, ok := st.(store.SourceStore)
	if !ok {
		return
	}
	quiet := &domain.Source{ID: ids.New("src"), AppID: a.ID, Provider: "openai", Secrets: []string{"x"}, CreatedAt: base, UpdatedAt: base}
	loud := &domain.Source{ID: ids.New("src"), AppID: a.ID, Provider: "openai", Secrets: []string{"x"}, CreatedAt: base, UpdatedAt: base}
	must(t, s.CreateSource(ctx, quiet))
	must(t, s.CreateSource(ctx, loud))
	reject := func(src *domain.Source, at time.Time, code string) {
		must(t, s.RecordRejection(ctx, &domain.Rejection{ID: ids.New("rej"), SourceID: src.ID, AppID: a.ID, ReceivedAt: at,
			Status: 401, Code: code, Message: "no matching signature", Headers: map[string]string{}}))
	}
	reject(quiet, base.Add(-2*time.Hour), "old") // outside the window
	reject(quiet, base.Add(time.Minute), "invalid_signature")
	for i := range 3 {
		reject(loud, base.Add(time.Duration(i)*time.Second), "code_"+string(rune('a'+i)))
	}
	rs, err := st.RecentRejections(ctx, base.Add(-time.Hour), 10)
	must(t, err)
	if len(rs) != 2 || rs[0].SourceID != loud.ID || rs[0].Count != 3 || rs[1].SourceID != quiet.ID || rs[1].Count != 1 {
		t.Fatalf("RecentRejections = %+v", rs)
	}
	if rs[0].Last == nil || rs[0].Last.Code != "code_c" || rs[0].AppID != a.ID || rs[1].Last.Code != "invalid_signature" {
		t.Fatalf("latest rejections = %+v, %+v", rs[0].Last, rs[1].Last)
	}
	if rs, _ := st.RecentRejections(ctx, base.Add(-time.Hour), 1); len(rs) != 1 {
		t.Fatalf("RecentRejections(limit 1) = %d", len(rs))
	}
}
