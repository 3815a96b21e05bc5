package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/webhook"
)

// Beside the suite, storetest holds what other tests take from it: fixtures for the
// tests of the store's users (the engine, its hostile tests), and a check each backend
// runs with its own timing.

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

// AttemptOutcome returns the outcome of an attempt that left its delivery in status:
// retrying if pending, failed if failed, else succeeded.
func AttemptOutcome(status string) string {
	switch status {
	case domain.DeliveryPending:
		return domain.OutcomeRetrying
	case domain.DeliveryFailed:
		return domain.OutcomeFailed
	}
	return domain.OutcomeSucceeded
}

// WritesRacingClose starts eight writes on s (apps created, messages published to an
// app that does not exist), closes s, and fails t unless every write either commits or
// fails with store.ErrClosed within wait: a write must never wait forever on a closed
// store.
func WritesRacingClose(t *testing.T, s store.Store, wait time.Duration) {
	t.Helper()
	ctx := context.Background()
	errc := make(chan error, 8)
	for j := 0; j < 8; j++ {
		go func(j int) {
			now := time.Now()
			if j%2 == 0 {
				errc <- s.CreateApp(ctx, &domain.App{ID: ids.New("app"), Name: "x", CreatedAt: now, UpdatedAt: now})
				return
			}
			m := &domain.Message{ID: ids.New("msg"), AppID: "app_missing", Type: "t", Payload: json.RawMessage(`{}`), CreatedAt: now}
			_, err := s.Publish(ctx, &store.PublishInput{Message: m})
			if errors.Is(err, store.ErrNotFound) {
				err = nil
			}
			errc <- err
		}(j)
	}
	s.Close()
	for j := 0; j < 8; j++ {
		select {
		case err := <-errc:
			if err != nil && !errors.Is(err, store.ErrClosed) {
				t.Fatalf("write racing Close: %v", err)
			}
		case <-time.After(wait):
			t.Fatal("a write racing Close never returned")
		}
	}
}
