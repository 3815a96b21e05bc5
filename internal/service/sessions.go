package service

import (
	"context"
	"time"

	"github.com/heraldhq/herald/internal/domain"
)

// CreateSession stores a new session (the hash of its token).
func (s *Service) CreateSession(ctx context.Context, sess *domain.Session) error {
	return s.store.CreateSession(ctx, sess)
}

// DeleteSession ends a session.
func (s *Service) DeleteSession(ctx context.Context, id string) error {
	return s.store.DeleteSession(ctx, id)
}

// CreatePortalLink stores a new single-use portal link (the hash of its token).
func (s *Service) CreatePortalLink(ctx context.Context, l *domain.PortalLink) error {
	return s.store.CreatePortalLink(ctx, l)
}

// OpenPortalLink uses up the unexpired link whose token has hash linkHash and stores
// sess as a portal session with the link's app, capabilities, endpoints and expiry;
// store.ErrNotFound when there is no such link.
func (s *Service) OpenPortalLink(ctx context.Context, linkHash []byte, sess *domain.Session, now time.Time) error {
	return s.store.OpenPortalLink(ctx, linkHash, sess, now)
}

// RevokePortalSessions ends every portal session of an app and voids its unused links.
func (s *Service) RevokePortalSessions(ctx context.Context, appID string) error {
	return s.store.RevokePortalSessions(ctx, appID)
}

// CreateEventType adds a type to the event catalogue; store.ErrConflict if it exists.
func (s *Service) CreateEventType(ctx context.Context, t *domain.EventType) error {
	return s.store.CreateEventType(ctx, t)
}

// UpdateEventType stores an event type's new description, schema, example or deprecation.
func (s *Service) UpdateEventType(ctx context.Context, t *domain.EventType) error {
	return s.store.UpdateEventType(ctx, t)
}

// DeleteEventType removes a type from the event catalogue.
func (s *Service) DeleteEventType(ctx context.Context, name string) error {
	return s.store.DeleteEventType(ctx, name)
}
