package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

// maintenanceLoop disables endpoints that keep failing, purges old data in small batches,
// and refreshes the queue-depth gauge.
func (e *Engine) maintenanceLoop(ctx context.Context) {
	defer e.loops.Done()
	e.maintainOnce(ctx)
	t := time.NewTicker(e.cfg.MaintenanceInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			e.maintainOnce(ctx)
		}
	}
}

func (e *Engine) maintain(ctx context.Context) {
	if n, err := e.store.QueueDepth(ctx); err == nil {
		e.m.QueueDepth.Set(float64(n))
	}
	now := time.Now()
	if e.cfg.DisableAfter > 0 {
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
	if e.cfg.Retention > 0 {
		total := store.PurgeResult{}
		for ctx.Err() == nil {
			r, err := e.store.Purge(ctx, now.Add(-e.cfg.Retention), now.Add(-e.cfg.IdempotencyTTL), 500)
			if err != nil {
				if ctx.Err() == nil {
					e.log.Error("purge", "err", err)
				}
				break
			}
			total.Messages += r.Messages
			total.Attempts += r.Attempts
			total.IdempotencyKeys += r.IdempotencyKeys
			if r.Messages < 500 && r.Attempts < 500 && r.IdempotencyKeys < 500 {
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
}
