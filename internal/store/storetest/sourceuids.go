package storetest

import (
	"testing"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

// testSourceUIDs checks that a source is found by its uid as by its id, only within its
// app when an app is given, that a uid is unique on the server, and that sources
// without one do not collide.
func testSourceUIDs(t *testing.T, st store.Store) {
	s, ok := st.(store.SourceStore)
	if !ok {
		t.Skip("this backend does not implement store.SourceStore")
	}
	a, other := newApp(t, st), newApp(t, st)
	newSource := func(appID, uid string) *domain.Source {
		return &domain.Source{ID: ids.New("src"), AppID: appID, UID: uid, Provider: "openai", Secrets: []string{"whsec_x"}, CreatedAt: base, UpdatedAt: base}
	}
	src := newSource(a.ID, "stripe-live")
	must(t, s.CreateSource(ctx, src))
	for _, none := range []*domain.Source{newSource(a.ID, ""), newSource(other.ID, "")} {
		must(t, s.CreateSource(ctx, none)) // sources without a uid never collide
	}
	wantErr(t, s.CreateSource(ctx, newSource(other.ID, "stripe-live")), store.ErrConflict)
	wantErr(t, s.CreateSource(ctx, newSource(a.ID, "stripe-live")), store.ErrConflict)

	for _, ref := range []string{src.ID, "stripe-live"} {
		got, err := s.GetSource(ctx, "", ref)
		must(t, err)
		if got.ID != src.ID || got.UID != "stripe-live" {
			t.Fatalf("GetSource(%q) = %+v", ref, got)
		}
		got, err = s.GetSource(ctx, a.ID, ref)
		must(t, err)
		if got.ID != src.ID {
			t.Fatalf("GetSource(app, %q) = %+v", ref, got)
		}
		_, err = s.GetSource(ctx, other.ID, ref) // another app's source is not found by its uid either
		wantErr(t, err, store.ErrNotFound)
	}
	for _, ref := range []string{"", "stripe", "STRIPE-LIVE", "stripe-live ", "stripe-live%"} {
		if _, err := s.GetSource(ctx, "", ref); err == nil {
			t.Fatalf("GetSource(%q) found a source", ref)
		}
	}

	// A new uid: the old one stops finding it; another source may take the old one.
	src.UID = "stripe-new"
	must(t, s.UpdateSource(ctx, src))
	_, err := s.GetSource(ctx, "", "stripe-live")
	wantErr(t, err, store.ErrNotFound)
	if got, err := s.GetSource(ctx, "", "stripe-new"); err != nil || got.ID != src.ID {
		t.Fatalf("GetSource(new uid) = %+v, %v", got, err)
	}
	taker := newSource(other.ID, "stripe-live")
	must(t, s.CreateSource(ctx, taker))
	src.UID = "stripe-live"
	wantErr(t, s.UpdateSource(ctx, src), store.ErrConflict)
	src.UID = ""
	must(t, s.UpdateSource(ctx, src))
	if got, _ := s.GetSource(ctx, a.ID, src.ID); got.UID != "" {
		t.Fatalf("uid after clearing it = %q", got.UID)
	}
	list, _, err := s.ListSources(ctx, other.ID, store.Page{})
	must(t, err)
	uids := map[string]bool{}
	for _, l := range list {
		uids[l.UID] = true
	}
	if len(list) != 2 || !uids["stripe-live"] || !uids[""] {
		t.Fatalf("ListSources(other) = %d sources, uids %v", len(list), uids)
	}
}
