package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

// purgeBatch bounds how many rows of each kind one purge deletes.
const purgeBatch = 500

// maintenanceLoop disables endpoints that keep failing, purges old data in small batches,
// and refreshes the queue-depth gauge.
func (e *Engine) maintenanceLoop(ctx context.Context) {
	defer e.loops.Done()
	e.maintainOnce(ctx)
	every(ctx, e.cfg.MaintenanceInterval, e.maintainOnce)
}

// maintain runs the periodic work once (see maintainOnce for when).
func (e *Engine) maintain(ctx context.Context) {
	if n, err := e.store.QueueDepth(ctx); err == nil {
		e.m.QueueDepth.Set(float64(n))
	}
	now := time.Now()
	if e.cfg.DisableAfter > 0 {
		e.disableFailing(ctx, now)
	}
	if e.cfg.Retention > 0 {
		e.purge(ctx, now)
	}
}

// disableFailing disables the endpoints that have failed continuously for DisableAfter.
func (e *Engine) disableFailing(ctx context.Context, now time.Time) {
	reason := fmt.Sprintf("failing continuously for %s", e.cfg.DisableAfter)
	eps, err := e.store.DisableFailingEndpoints(ctx, now.Add(-e.cfg.DisableAfter), reason)
	if err != nil && ctx.Err() == nil {
		e.log.Error("disable failing endpoints", "err", err)
	}
	for _, ep := range eps {
		e.m.Disabled.WithLabelValues("failing").Inc()
		e.log.Warn("endpoint disabled", "endpoint", ep.ID, "app", ep.AppID, "reason", reason)
		e.EndpointChanged(ep.ID)
	}
}

// purge deletes messages and attempts older than Retention, and idempotency keys older
// than IdempotencyTTL, a batch at a time until none is left.
func (e *Engine) purge(ctx context.Context, now time.Time) {
	total := store.PurgeResult{}
	for ctx.Err() == nil {
		r, err := e.store.Purge(ctx, now.Add(-e.cfg.Retention), now.Add(-e.cfg.IdempotencyTTL), purgeBatch)
		if err != nil {
			if ctx.Err() == nil {
				e.log.Error("purge", "err", err)
			}
			break
		}
		total.Messages += r.Messages
		total.Attempts += r.Attempts
		total.IdempotencyKeys += r.IdempotencyKeys
		if r.Messages < purgeBatch && r.Attempts < purgeBatch && r.IdempotencyKeys < purgeBatch {
			break
		}
		// Small batches with a pause between them keep the writer free for deliveries.
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	if total.Messages+total.Attempts+total.IdempotencyKeys > 0 {
		e.log.Info("retention purge", "messages", total.Messages, "attempts", total.Attempts, "idempotency_keys", total.IdempotencyKeys)
	}
}
