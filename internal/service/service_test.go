package service

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/service/servicetest"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlite"
	"github.com/heraldhq/herald/internal/store/sqlite/sqlitetest"
	"github.com/heraldhq/herald/webhook"
)

func newService(t *testing.T) (*Service, *servicetest.Engine, store.Store) {
	t.Helper()
	st := sqlitetest.Open(t, sqlite.Options{})
	eng := &servicetest.Engine{Store: st}
	svc, err := New(Config{Store: st, Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	return svc, eng, st
}

// createApp stores a new app through the service.
func createApp(t *testing.T, svc *Service, now time.Time) *domain.App {
	t.Helper()
	app := &domain.App{ID: ids.New("app"), Name: "acme", Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now}
	if err := svc.CreateApp(context.Background(), app); err != nil {
		t.Fatal(err)
	}
	return app
}

// createEndpoint stores a new endpoint of appID, with a secret, through the service.
func createEndpoint(t *testing.T, svc *Service, appID string, now time.Time) *domain.Endpoint {
	t.Helper()
	e := &domain.Endpoint{ID: ids.New("ep"), AppID: appID, URL: "https://example.com/hook", State: domain.EndpointEnabled,
		EventTypes: []string{}, Headers: map[string]string{}, Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now}
	sec := &domain.EndpointSecret{ID: ids.New("sec"), EndpointID: e.ID, Secret: webhook.NewHMACSecret(), CreatedAt: now}
	if err := svc.CreateEndpoint(context.Background(), e, sec); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestNewRequiresStoreAndEngine(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New without a store: no error")
	}
	if _, err := New(Config{Store: &sqlite.Store{}}); err == nil {
		t.Error("New without an engine: no error")
	}
}

// TestEveryEndpointWriteTellsTheEngine is the rule the service exists for: after each
// write, the engine has been told before the call returns.
func TestEveryEndpointWriteTellsTheEngine(t *testing.T) {
	ctx := context.Background()
	svc, eng, st := newService(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	app := createApp(t, svc, now)
	newEndpoint := func() *domain.Endpoint {
		e := createEndpoint(t, svc, app.ID, now)
		if e.Kind != domain.KindHTTP {
			t.Fatalf("created endpoint kind %q, want %q", e.Kind, domain.KindHTTP)
		}
		return e
	}
	e := newEndpoint()
	if w, c := eng.Told(); w != 0 || c != nil {
		t.Errorf("create: %d wakes, changed %v; want nothing (no copy to drop)", w, c)
	}

	e.SetState(domain.EndpointPaused, "")
	if err := svc.UpdateEndpoint(ctx, e); err != nil {
		t.Fatal(err)
	}
	if w, c := eng.Told(); w != 0 || !slices.Equal(c, []string{e.ID}) {
		t.Errorf("pause: %d wakes, changed %v; want 0 and [%s]", w, c, e.ID)
	}
	e.SetState(domain.EndpointEnabled, "")
	if err := svc.UpdateEndpoint(ctx, e); err != nil {
		t.Fatal(err)
	}
	if w, c := eng.Told(); w != 1 || !slices.Equal(c, []string{e.ID}) {
		t.Errorf("resume: %d wakes, changed %v; want 1 and [%s]", w, c, e.ID)
	}

	sec := &domain.EndpointSecret{ID: ids.New("sec"), EndpointID: e.ID, Secret: webhook.NewHMACSecret(), CreatedAt: now}
	if err := svc.RotateEndpointSecret(ctx, sec, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, c := eng.Told(); !slices.Equal(c, []string{e.ID}) {
		t.Errorf("rotate: changed %v, want [%s]", c, e.ID)
	}

	if err := svc.DeleteEndpoint(ctx, app.ID, e.ID); err != nil {
		t.Fatal(err)
	}
	if _, c := eng.Told(); !slices.Equal(c, []string{e.ID}) {
		t.Errorf("delete: changed %v, want [%s]", c, e.ID)
	}
	if err := svc.DeleteEndpoint(ctx, app.ID, e.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete again: %v, want ErrNotFound", err)
	}
	if _, c := eng.Told(); c != nil {
		t.Errorf("a failed delete told the engine %v", c)
	}

	a, b := newEndpoint(), newEndpoint()
	if err := svc.DeleteApp(ctx, app.ID); err != nil {
		t.Fatal(err)
	}
	_, c := eng.Told()
	slices.Sort(c)
	want := []string{a.ID, b.ID}
	slices.Sort(want)
	if !slices.Equal(c, want) {
		t.Errorf("delete app: changed %v, want %v", c, want)
	}
	if _, err := st.GetEndpoint(ctx, "", a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("endpoint of a deleted app: %v", err)
	}
}

func TestAttachListener(t *testing.T) {
	ctx := context.Background()
	svc, eng, _ := newService(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	app := createApp(t, svc, now)
	l := Listener{AppID: app.ID, Name: "laptop"}
	e1, s1, err := svc.AttachListener(ctx, l, now)
	if err != nil {
		t.Fatal(err)
	}
	if !e1.IsListener() || e1.URL != "listen:laptop" || e1.MaxConcurrency != ListenerConcurrency || s1.Secret.IsZero() {
		t.Fatalf("first attach: %+v, secret %v", e1, s1.Secret.IsZero())
	}
	e2, s2, err := svc.AttachListener(ctx, l, now)
	if err != nil {
		t.Fatal(err)
	}
	if e2.ID != e1.ID || s2.ID != s1.ID || !e2.IsListener() {
		t.Errorf("reattach made endpoint %s secret %s, want the same %s %s", e2.ID, s2.ID, e1.ID, s1.ID)
	}
	if w, c := eng.Told(); w != 0 || c != nil {
		t.Errorf("attach without change told the engine: %d wakes, %v", w, c)
	}
	l.EventTypes = []string{"response.*"}
	e3, _, err := svc.AttachListener(ctx, l, now)
	if err != nil {
		t.Fatal(err)
	}
	if e3.ID != e1.ID || !slices.Equal(e3.EventTypes, l.EventTypes) {
		t.Errorf("attach with a filter: %+v", e3)
	}
	if _, c := eng.Told(); !slices.Equal(c, []string{e1.ID}) {
		t.Errorf("changing the filter told the engine %v, want [%s]", c, e1.ID)
	}
	other, _, err := svc.AttachListener(ctx, Listener{AppID: app.ID, Name: "ci"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if other.ID == e1.ID {
		t.Error("a listener of another name got the same endpoint")
	}
	if _, _, err := svc.AttachListener(ctx, Listener{AppID: "app_missing", Name: "x"}, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("attach to a missing app: %v, want ErrNotFound", err)
	}
}
