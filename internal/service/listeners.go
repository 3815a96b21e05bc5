package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/webhook"
)

// ListenerConcurrency is how many deliveries a listener endpoint gets at once.
const ListenerConcurrency = 8

// Listener describes a `herald listen` session attaching to an app.
type Listener struct {
	AppID      string
	Name       string   // unique within the app
	SourceID   string   // when set, only messages that arrived through this source
	EventTypes []string // nil or empty: every event
}

// AttachListener returns the app's listener endpoint named l.Name with its newest
// secret, creating it on first use, or updating its subscription (and enabling it) when
// the listener now asks for other events or another source. The endpoint, and so its
// secret, outlive the session: a listener that reconnects keeps both.
func (s *Service) AttachListener(ctx context.Context, l Listener, now time.Time) (*domain.Endpoint, *domain.EndpointSecret, error) {
	if s.reserved(l.AppID) {
		return nil, nil, store.NotFound("app", l.AppID)
	}
	return s.attachListener(ctx, l, now, false)
}

func (s *Service) attachListener(ctx context.Context, l Listener, now time.Time, retried bool) (*domain.Endpoint, *domain.EndpointSecret, error) {
	filter := l.EventTypes
	if filter == nil {
		filter = []string{}
	}
	e, err := s.store.GetListenerEndpoint(ctx, l.AppID, l.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		e = &domain.Endpoint{
			ID: ids.New("ep"), AppID: l.AppID, Kind: domain.KindListener, URL: domain.ListenerURL(l.Name),
			Description: "herald listen (" + l.Name + ")", EventTypes: filter, SourceID: l.SourceID,
			Headers: map[string]string{}, Metadata: map[string]string{}, State: domain.EndpointEnabled,
			MaxConcurrency: ListenerConcurrency, CreatedAt: now, UpdatedAt: now,
		}
		sec := &domain.EndpointSecret{ID: ids.New("sec"), EndpointID: e.ID, Secret: webhook.NewHMACSecret(), CreatedAt: now}
		err := s.store.CreateEndpoint(ctx, e, sec)
		if errors.Is(err, store.ErrConflict) && !retried {
			// Another session of the same name created it first: attach to that one.
			return s.attachListener(ctx, l, now, true)
		}
		if err != nil {
			return nil, nil, err
		}
		return e, sec, nil
	case err != nil:
		return nil, nil, fmt.Errorf("find listener %q: %w", l.Name, err)
	}
	if !slices.Equal(e.EventTypes, filter) || e.SourceID != l.SourceID || e.State != domain.EndpointEnabled {
		e.EventTypes, e.SourceID, e.UpdatedAt = filter, l.SourceID, now
		e.SetState(domain.EndpointEnabled, "")
		// No wake: the listener's deliveries go once the hub reports it connected.
		if err := s.updateEndpoint(ctx, e); err != nil {
			return nil, nil, err
		}
	}
	secrets, err := s.store.EndpointSecrets(ctx, e.ID, now)
	if err != nil {
		return nil, nil, fmt.Errorf("listener %s secrets: %w", e.ID, err)
	}
	if len(secrets) == 0 {
		return nil, nil, fmt.Errorf("listener %s has no active secret", e.ID)
	}
	return e, secrets[0], nil
}
