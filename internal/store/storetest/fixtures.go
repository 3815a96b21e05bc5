package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/webhook"
)

// What the tests of the store's users (the engine, its hostile tests) set up in a store.

// CreateApp stores a new app named name.
func CreateApp(t testing.TB, s store.Store, name string) *domain.App {
	t.Helper()
	now := time.Now().UTC()
	app := &domain.App{ID: ids.New("app"), Name: name, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateApp(context.Background(), app); err != nil {
		t.Fatal(err)
	}
	return app
}

// CreateEndpoint stores an enabled endpoint of the app for every event type, at url and
// signing with secret, after mutate (if not nil) changed it.
func CreateEndpoint(t testing.TB, s store.Store, appID, url string, secret webhook.Secret, mutate func(*domain.Endpoint)) *domain.Endpoint {
	t.Helper()
	now := time.Now().UTC()
	e := &domain.Endpoint{ID: ids.New("ep"), AppID: appID, URL: url, State: domain.EndpointEnabled, CreatedAt: now, UpdatedAt: now}
	if mutate != nil {
		mutate(e)
	}
	sec := &domain.EndpointSecret{ID: ids.New("sec"), EndpointID: e.ID, Secret: secret, CreatedAt: now}
	if err := s.CreateEndpoint(context.Background(), e, sec); err != nil {
		t.Fatal(err)
	}
	return e
}
