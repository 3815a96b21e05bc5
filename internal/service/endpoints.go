package service

import (
	"context"
	"errors"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

// Observer hears of changes to endpoints after they are committed: herald's operational
// webhooks (internal/opevents) are one. Its methods must return at once.
type Observer interface {
	EndpointCreated(e *domain.Endpoint)
	// EndpointUpdated is told of a change from prev (as stored before) to next.
	EndpointUpdated(prev, next *domain.Endpoint)
	EndpointDeleted(e *domain.Endpoint)
	// OperationalEndpointsChanged says an operational endpoint was created, changed or deleted.
	OperationalEndpointsChanged()
}

// CreateEndpoint stores a new endpoint of an app with its first signing secret.
func (s *Service) CreateEndpoint(ctx context.Context, e *domain.Endpoint, sec *domain.EndpointSecret) error {
	if s.reserved(e.AppID) {
		return store.NotFound("app", e.AppID)
	}
	e.Kind = e.EffectiveKind()
	if err := s.store.CreateEndpoint(ctx, e, sec); err != nil {
		return err
	}
	if s.observer != nil {
		s.observer.EndpointCreated(e)
	}
	return nil
}

// UpdateEndpoint stores an app's endpoint's new configuration or state and tells the
// engine; an endpoint enabled again has its queued deliveries sent at once.
func (s *Service) UpdateEndpoint(ctx context.Context, e *domain.Endpoint) error {
	if s.reserved(e.AppID) {
		return store.NotFound("endpoint", e.ID)
	}
	var prev *domain.Endpoint
	if s.observer != nil {
		var err error
		if prev, err = s.store.GetEndpoint(ctx, e.AppID, e.ID); err != nil {
			return err
		}
	}
	if err := s.updateEndpoint(ctx, e); err != nil {
		return err
	}
	if prev != nil {
		s.observer.EndpointUpdated(prev, e)
	}
	if e.State == domain.EndpointEnabled {
		s.engine.Wake()
	}
	return nil
}

// updateEndpoint stores e and tells the engine.
func (s *Service) updateEndpoint(ctx context.Context, e *domain.Endpoint) error {
	if err := s.store.UpdateEndpoint(ctx, e); err != nil {
		return err
	}
	s.engine.EndpointChanged(e.ID)
	return nil
}

// DeleteEndpoint deletes an endpoint of appID with its deliveries, and tells the engine.
func (s *Service) DeleteEndpoint(ctx context.Context, appID, id string) error {
	if s.reserved(appID) {
		return store.NotFound("endpoint", id)
	}
	var gone *domain.Endpoint
	if s.observer != nil {
		var err error
		if gone, err = s.store.GetEndpoint(ctx, appID, id); err != nil {
			return err
		}
	}
	if err := s.deleteEndpoint(ctx, appID, id); err != nil {
		return err
	}
	if gone != nil {
		s.observer.EndpointDeleted(gone)
	}
	return nil
}

func (s *Service) deleteEndpoint(ctx context.Context, appID, id string) error {
	if err := s.store.DeleteEndpoint(ctx, appID, id); err != nil {
		return err
	}
	s.engine.EndpointChanged(id)
	return nil
}

// RotateEndpointSecret adds sec as the endpoint's newest signing secret; the older ones
// keep signing until oldExpiresAt. The engine signs with the new set from the next attempt.
func (s *Service) RotateEndpointSecret(ctx context.Context, sec *domain.EndpointSecret, oldExpiresAt time.Time) error {
	if err := s.store.RotateEndpointSecret(ctx, sec, oldExpiresAt); err != nil {
		return err
	}
	s.engine.EndpointChanged(sec.EndpointID)
	return nil
}

// errNoOperationalApp means EnsureOperationalApp has not run.
var errNoOperationalApp = errors.New("service: the operational app is not set up")
