// Package service carries out every change to herald's records: it writes through the
// store, then tells whoever keeps a copy (the delivery engine, the gateway's source
// cache) that the record changed. The REST API, the receiving gateway and the listener
// hub change records only through it; reads go straight to the store.
//
// Each node's store also publishes endpoint changes to every node (store.Store's
// WatchEndpoints), so a node whose API did not make the change learns of it too; the
// service tells its own engine at once, before the write's caller gets an answer, so
// that the next delivery never uses a copy this node knows is stale.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

// Engine is what the service tells of changes; *delivery.Engine is one.
type Engine interface {
	// Publish stores m and its deliveries durably and queues them.
	Publish(ctx context.Context, m *domain.Message) (*store.PublishResult, error)
	// PublishWithTTL is Publish with the idempotency key remembered for ttl.
	PublishWithTTL(ctx context.Context, m *domain.Message, ttl time.Duration) (*store.PublishResult, error)
	// PublishTo stores m with deliveries to the given endpoints only, whatever their
	// event filters, and queues them.
	PublishTo(ctx context.Context, m *domain.Message, endpointIDs []string) (*store.PublishResult, error)
	// Wake says deliveries may have become due (after a retry, replay or resume).
	Wake()
	// EndpointChanged drops the engine's cached copy of an endpoint.
	EndpointChanged(endpointID string)
}

// Config configures a Service.
type Config struct {
	Store  store.Store // required
	Engine Engine      // required
	// Sources keeps the receiving gateway's sources; nil when the store has none.
	Sources store.SourceStore
	// OnSourceChanged is told when a source is updated or deleted (to drop caches).
	OnSourceChanged func(sourceID string)
	// Observer, when set, hears of endpoint changes (herald's operational webhooks).
	Observer Observer
	// Logger receives the errors of background work (RunReplays); nil means slog.Default().
	Logger *slog.Logger
}

// Service changes herald's records. Its methods are safe for concurrent use.
type Service struct {
	store           store.Store
	engine          Engine
	sources         store.SourceStore
	onSourceChanged func(string)
	observer        Observer
	opApp           atomic.Value // string: the operational app's id, once EnsureOperationalApp found it
	log             *slog.Logger
	replayKick      chan struct{} // StartReplay wakes RunReplays
}

// New returns a service over cfg's store and engine.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("service: Config.Store is required")
	case cfg.Engine == nil:
		return nil, errors.New("service: Config.Engine is required")
	}
	s := &Service{store: cfg.Store, engine: cfg.Engine, sources: cfg.Sources, onSourceChanged: cfg.OnSourceChanged,
		observer: cfg.Observer, log: cfg.Logger, replayKick: make(chan struct{}, 1)}
	s.opApp.Store("")
	if s.log == nil {
		s.log = slog.Default()
	}
	return s, nil
}

// Publish stores m (ID, AppID, Type, Payload, IdempotencyKey and CreatedAt set) with
// one delivery per endpoint that accepts it, and queues them; nil error means durable.
func (s *Service) Publish(ctx context.Context, m *domain.Message) (*store.PublishResult, error) {
	if s.reserved(m.AppID) {
		return nil, store.NotFound("app", m.AppID)
	}
	return s.engine.Publish(ctx, m)
}

// PublishWithTTL is Publish with the idempotency key remembered for ttl (the receiving
// gateway keeps provider delivery ids longer than the API's default).
func (s *Service) PublishWithTTL(ctx context.Context, m *domain.Message, ttl time.Duration) (*store.PublishResult, error) {
	if s.reserved(m.AppID) {
		return nil, store.NotFound("app", m.AppID)
	}
	return s.engine.PublishWithTTL(ctx, m, ttl)
}

// CreateApp stores a new app.
func (s *Service) CreateApp(ctx context.Context, a *domain.App) error {
	return s.store.CreateApp(ctx, a)
}

// UpdateApp stores an app's new name, uid or metadata.
func (s *Service) UpdateApp(ctx context.Context, a *domain.App) error {
	return s.store.UpdateApp(ctx, a)
}

// DeleteApp deletes an app with its endpoints, messages and keys, and tells the engine
// that its endpoints are gone.
func (s *Service) DeleteApp(ctx context.Context, id string) error {
	var endpoints []string
	for p := (store.Page{Limit: store.MaxPageSize}); ; {
		eps, next, err := s.store.ListEndpoints(ctx, id, p)
		if err != nil {
			return fmt.Errorf("list endpoints of app %s: %w", id, err)
		}
		for _, e := range eps {
			endpoints = append(endpoints, e.ID)
		}
		if next == "" {
			break
		}
		p.Cursor = next
	}
	if err := s.store.DeleteApp(ctx, id); err != nil {
		return err
	}
	for _, ep := range endpoints {
		s.engine.EndpointChanged(ep)
	}
	return nil
}

// CreateAPIKey stores a new API key (its hash; the key itself is never stored).
func (s *Service) CreateAPIKey(ctx context.Context, k *domain.APIKey) error {
	return s.store.CreateAPIKey(ctx, k)
}

// DeleteAPIKey deletes an API key of appID ("" for admin keys).
func (s *Service) DeleteAPIKey(ctx context.Context, appID, id string) error {
	return s.store.DeleteAPIKey(ctx, appID, id)
}

// RetryDelivery queues a delivery for an attempt now, whatever its status, and wakes
// the engine; store.ErrConflict if it is in flight, a *domain.StateError if its
// endpoint is disabled.
func (s *Service) RetryDelivery(ctx context.Context, appID, id string, now time.Time) (*domain.Delivery, error) {
	cur, err := s.store.GetDelivery(ctx, appID, id)
	if err != nil {
		return nil, err
	}
	ep, err := s.store.GetEndpoint(ctx, cur.AppID, cur.EndpointID)
	if err != nil {
		return nil, fmt.Errorf("endpoint of delivery %s: %w", id, err)
	}
	if err := ep.CheckRetry(); err != nil {
		return nil, err
	}
	d, err := s.store.RetryDelivery(ctx, appID, id, now)
	if err != nil {
		return nil, err
	}
	s.engine.Wake()
	return d, nil
}

// Replay queues one batch of finished deliveries matching f for an attempt now, and
// wakes the engine when it queued any.
func (s *Service) Replay(ctx context.Context, f store.ReplayFilter, now time.Time) (*store.ReplayResult, error) {
	res, err := s.store.Replay(ctx, f, now)
	if err != nil {
		return nil, err
	}
	if res.Replayed > 0 {
		s.engine.Wake()
	}
	return res, nil
}

// PublishTo stores m with one delivery to each of endpointIDs (endpoints of m's app),
// whatever their event filters, and queues them: a test event.
func (s *Service) PublishTo(ctx context.Context, m *domain.Message, endpointIDs []string) (*store.PublishResult, error) {
	if s.reserved(m.AppID) {
		return nil, store.NotFound("app", m.AppID)
	}
	return s.engine.PublishTo(ctx, m, endpointIDs)
}
