package service

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

// OperationalAppName names the reserved app that holds the operational endpoints.
const OperationalAppName = "herald operational webhooks"

// EnsureOperationalApp finds, or on first start creates, the reserved app whose
// endpoints are the operator's operational endpoints, and returns its id. From then on
// the service refuses every publish into it and every change to its endpoints but those
// of the operational methods below.
func (s *Service) EnsureOperationalApp(ctx context.Context, now time.Time) (string, error) {
	now = now.UTC().Truncate(time.Millisecond)
	a, err := s.store.OperationalApp(ctx, &domain.App{ID: ids.New("app"), Name: OperationalAppName, Metadata: map[string]string{}, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return "", fmt.Errorf("operational app: %w", err)
	}
	s.opApp.Store(a.ID)
	return a.ID, nil
}

// OperationalAppID returns the reserved app's id, "" before EnsureOperationalApp.
func (s *Service) OperationalAppID() string { return s.opApp.Load().(string) }

// reserved reports whether appID is the operational app, which the ordinary methods refuse.
func (s *Service) reserved(appID string) bool {
	id := s.OperationalAppID()
	return id != "" && appID == id
}

func (s *Service) operationalApp() (string, error) {
	id := s.OperationalAppID()
	if id == "" {
		return "", errNoOperationalApp
	}
	return id, nil
}

// CreateOperationalEndpoint stores a new operational endpoint: an endpoint of the
// operational app whose event filter names operational event types only. (The API makes
// them FIFO by default, so that operational events arrive in the order they happened.)
func (s *Service) CreateOperationalEndpoint(ctx context.Context, e *domain.Endpoint, sec *domain.EndpointSecret) error {
	app, err := s.operationalApp()
	if err != nil {
		return err
	}
	if err := domain.CheckOperationalEventFilter(e.EventTypes); err != nil {
		return err
	}
	e.AppID, e.Kind = app, domain.KindHTTP
	if err := s.store.CreateEndpoint(ctx, e, sec); err != nil {
		return err
	}
	s.operationalChanged()
	return nil
}

// UpdateOperationalEndpoint stores an operational endpoint's new configuration or state.
func (s *Service) UpdateOperationalEndpoint(ctx context.Context, e *domain.Endpoint) error {
	app, err := s.operationalApp()
	if err != nil {
		return err
	}
	if e.AppID != app {
		return store.NotFound("operational endpoint", e.ID)
	}
	if err := domain.CheckOperationalEventFilter(e.EventTypes); err != nil {
		return err
	}
	if err := s.updateEndpoint(ctx, e); err != nil {
		return err
	}
	s.operationalChanged()
	if e.State == domain.EndpointEnabled {
		s.engine.Wake()
	}
	return nil
}

// DeleteOperationalEndpoint deletes an operational endpoint with its deliveries.
func (s *Service) DeleteOperationalEndpoint(ctx context.Context, id string) error {
	app, err := s.operationalApp()
	if err != nil {
		return err
	}
	if err := s.deleteEndpoint(ctx, app, id); err != nil {
		return err
	}
	s.operationalChanged()
	return nil
}

func (s *Service) operationalChanged() {
	if s.observer != nil {
		s.observer.OperationalEndpointsChanged()
	}
}
