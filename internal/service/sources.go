package service

import (
	"context"
	"errors"

	"github.com/heraldhq/herald/internal/domain"
)

// ErrNoSources means the store keeps no sources (the receiving gateway is off).
var ErrNoSources = errors.New("this server's database does not support sources")

// CreateSource stores a new source.
func (s *Service) CreateSource(ctx context.Context, src *domain.Source) error {
	if s.sources == nil {
		return ErrNoSources
	}
	return s.sources.CreateSource(ctx, src)
}

// UpdateSource stores a source's new configuration or secrets and tells the gateway.
func (s *Service) UpdateSource(ctx context.Context, src *domain.Source) error {
	if s.sources == nil {
		return ErrNoSources
	}
	if err := s.sources.UpdateSource(ctx, src); err != nil {
		return err
	}
	s.sourceChanged(src.ID)
	return nil
}

// DeleteSource deletes a source of appID and tells the gateway.
func (s *Service) DeleteSource(ctx context.Context, appID, id string) error {
	if s.sources == nil {
		return ErrNoSources
	}
	if err := s.sources.DeleteSource(ctx, appID, id); err != nil {
		return err
	}
	s.sourceChanged(id)
	return nil
}

func (s *Service) sourceChanged(id string) {
	if s.onSourceChanged != nil {
		s.onSourceChanged(id)
	}
}
