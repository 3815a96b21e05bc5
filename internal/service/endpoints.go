package service

import (
	"context"
	"time"

	"github.com/heraldhq/herald/internal/domain"
)

// CreateEndpoint stores a new endpoint with its first signing secret.
func (s *Service) CreateEndpoint(ctx context.Context, e *domain.Endpoint, sec *domain.EndpointSecret) error {
	if e.Kind == "" {
		e.Kind = domain.KindHTTP
	}
	return s.store.CreateEndpoint(ctx, e, sec)
}

// UpdateEndpoint stores an endpoint's new configuration or state and tells the engine;
// an endpoint enabled again has its queued deliveries sent at once.
func (s *Service) UpdateEndpoint(ctx context.Context, e *domain.Endpoint) error {
	if err := s.updateEndpoint(ctx, e); err != nil {
		return err
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
