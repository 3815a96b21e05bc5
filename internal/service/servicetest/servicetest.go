// Package servicetest stands in for the delivery engine in the tests of what tells it
// about changes (the service, the API).
package servicetest

import (
	"context"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

// Engine is a service.Engine that publishes straight to Store (sending nothing) and
// records the other calls.
type Engine struct {
	Store      store.Store
	PublishErr error // when set, every publish fails with it

	mu          sync.Mutex
	wakes       int
	changed     []string
	toldWakes   int // how many of wakes and changed Told returned already
	toldChanged int
}

// Publish implements service.Engine, with idempotency keys kept a day.
func (e *Engine) Publish(ctx context.Context, m *domain.Message) (*store.PublishResult, error) {
	return e.PublishWithTTL(ctx, m, 24*time.Hour)
}

// PublishWithTTL implements service.Engine.
func (e *Engine) PublishWithTTL(ctx context.Context, m *domain.Message, ttl time.Duration) (*store.PublishResult, error) {
	return e.publish(ctx, &store.PublishInput{Message: m, IdempotencyTTL: ttl})
}

// PublishTo implements service.Engine.
func (e *Engine) PublishTo(ctx context.Context, m *domain.Message, endpointIDs []string) (*store.PublishResult, error) {
	return e.publish(ctx, &store.PublishInput{Message: m, IdempotencyTTL: 24 * time.Hour, Endpoints: endpointIDs})
}

func (e *Engine) publish(ctx context.Context, in *store.PublishInput) (*store.PublishResult, error) {
	if e.PublishErr != nil {
		return nil, e.PublishErr
	}
	return e.Store.Publish(ctx, in)
}

// Wake implements service.Engine.
func (e *Engine) Wake() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.wakes++
}

// EndpointChanged implements service.Engine.
func (e *Engine) EndpointChanged(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.changed = append(e.changed, id)
}

// Counts returns how many times Wake and EndpointChanged were called.
func (e *Engine) Counts() (wakes, changed int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.wakes, len(e.changed)
}

// Told returns the Wake calls and the endpoints EndpointChanged named since the last
// Told (changed is nil when there were none).
func (e *Engine) Told() (wakes int, changed []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	wakes = e.wakes - e.toldWakes
	if len(e.changed) > e.toldChanged {
		changed = append([]string(nil), e.changed[e.toldChanged:]...)
	}
	e.toldWakes, e.toldChanged = e.wakes, len(e.changed)
	return wakes, changed
}
