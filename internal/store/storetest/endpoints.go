package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

// testEndpointKinds checks that an endpoint's kind is stored, that an app has one
// listener endpoint of each name, and GetListenerEndpoint.
func testEndpointKinds(t *testing.T, s store.Store) {
	a, other := newApp(t, s), newApp(t, s)
	plain := newEndpoint(t, s, a.ID, nil)
	if got, _ := s.GetEndpoint(ctx, a.ID, plain.ID); got.Kind != domain.KindHTTP {
		t.Fatalf("an endpoint created without a kind reads as %q, want %q", got.Kind, domain.KindHTTP)
	}
	laptop := newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.Kind, e.URL = domain.KindListener, domain.ListenerURL("laptop") })
	got, err := s.GetListenerEndpoint(ctx, a.ID, "laptop")
	must(t, err)
	if got.ID != laptop.ID || got.Kind != domain.KindListener || !got.IsListener() {
		t.Fatalf("GetListenerEndpoint = %+v", got)
	}
	_, err = s.GetListenerEndpoint(ctx, a.ID, "desktop")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetListenerEndpoint(ctx, other.ID, "laptop")
	wantErr(t, err, store.ErrNotFound)

	again := &domain.Endpoint{ID: ids.New("ep"), AppID: a.ID, Kind: domain.KindListener, URL: domain.ListenerURL("laptop"),
		State: domain.EndpointEnabled, CreatedAt: base, UpdatedAt: base}
	wantErr(t, s.CreateEndpoint(ctx, again, newSecret(again.ID)), store.ErrConflict)
	// Another app, or an HTTP endpoint with the same URL, is no conflict.
	newEndpoint(t, s, other.ID, func(e *domain.Endpoint) { e.Kind, e.URL = domain.KindListener, domain.ListenerURL("laptop") })
	newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.Kind, e.URL = domain.KindHTTP, domain.ListenerURL("laptop") })
	// Nor is a listener of another name, which may not be renamed onto this one.
	desk := newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.Kind, e.URL = domain.KindListener, domain.ListenerURL("desk") })
	desk.URL = domain.ListenerURL("laptop")
	wantErr(t, s.UpdateEndpoint(ctx, desk), store.ErrConflict)

	// An endpoint created without a kind is an HTTP endpoint, whatever its URL: the kind
	// is stated, never guessed (the service sets it).
	legacy := newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.URL = domain.ListenerURL("legacy") })
	if got, err := s.GetListenerEndpoint(ctx, a.ID, "legacy"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetListenerEndpoint of an endpoint created without a kind = %v, %v; want not found", got, err)
	}
	// Kinds survive listing.
	eps, _, err := s.ListEndpoints(ctx, a.ID, store.Page{})
	must(t, err)
	kinds := map[string]string{}
	for _, e := range eps {
		kinds[e.ID] = e.Kind
	}
	if kinds[plain.ID] != domain.KindHTTP || kinds[laptop.ID] != domain.KindListener || kinds[legacy.ID] != domain.KindHTTP {
		t.Fatalf("listed kinds = %v", kinds)
	}
}

// testWatchEndpoints checks that every write changing an endpoint's configuration,
// state or secrets reports the endpoint's id to watchers after its commit, and that the
// channel closes when the watch's context ends.
func testWatchEndpoints(t *testing.T, s store.Store) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := s.WatchEndpoints(wctx)
	must(t, err)
	if first := <-ch; first != "" {
		t.Fatalf("a watch began with %q, want \"\" (what was cached before may be stale)", first)
	}
	a := newApp(t, s)
	e := newEndpoint(t, s, a.ID, nil)
	heard := func(after string, ids ...string) {
		t.Helper()
		want := map[string]bool{}
		for _, id := range ids {
			want[id] = true
		}
		deadline := time.After(30 * time.Second) // a store reports within milliseconds
		for len(want) > 0 {
			select {
			case id, ok := <-ch:
				if !ok {
					t.Fatalf("the watch channel closed, waiting after %s", after)
				}
				delete(want, id) // "" (the watch began, or the store reconnected) is no answer here

			case <-deadline:
				t.Fatalf("endpoints %v not reported after %s", want, after)
			}
		}
	}
	e.Description = "changed"
	must(t, s.UpdateEndpoint(ctx, e))
	heard("UpdateEndpoint", e.ID)
	must(t, s.SetEndpointState(ctx, e.ID, domain.EndpointPaused, ""))
	heard("SetEndpointState", e.ID)
	must(t, s.RotateEndpointSecret(ctx, newSecret(e.ID), base.Add(time.Hour)))
	heard("RotateEndpointSecret", e.ID)

	// An outcome that disables the endpoint (410 Gone).
	must(t, s.SetEndpointState(ctx, e.ID, domain.EndpointEnabled, ""))
	heard("SetEndpointState", e.ID)
	publish(t, s, a.ID, "t", base, nil)
	c := claim(t, s, "n1", base, 10)
	r := result(c[0], base, domain.DeliveryFailed, nil, 410)
	r.DisableEndpoint = "the endpoint answered 410 Gone"
	must(t, s.Complete(ctx, []*store.AttemptResult{r}))
	heard("Complete with DisableEndpoint", e.ID)

	// Auto-disable.
	f := newEndpoint(t, s, a.ID, nil)
	publish(t, s, a.ID, "t", base, nil)
	c = claim(t, s, "n1", base.Add(time.Minute), 10)
	next := base.Add(time.Hour)
	must(t, s.Complete(ctx, []*store.AttemptResult{result(c[0], base, domain.DeliveryPending, &next, 500)}))
	disabled, err := s.DisableFailingEndpoints(ctx, base.Add(time.Minute), "failing")
	must(t, err)
	if len(disabled) != 1 || disabled[0].ID != f.ID {
		t.Fatalf("DisableFailingEndpoints = %v", disabled)
	}
	heard("DisableFailingEndpoints", f.ID)

	must(t, s.DeleteEndpoint(ctx, a.ID, e.ID))
	heard("DeleteEndpoint", e.ID)
	must(t, s.DeleteApp(ctx, a.ID))
	heard("DeleteApp", f.ID)

	cancel()
	for range ch { // closed when the context ends
	}
}
