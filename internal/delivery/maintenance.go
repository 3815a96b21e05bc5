package delivery

import (
	"context"
	"errors"
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
	run := func(ctx context.Context) {
		e.touchListeners(ctx) // on every node: each knows only its own listeners
		e.maintainOnce(ctx)
	}
	run(ctx)
	every(ctx, e.cfg.MaintenanceInterval, run)
}

// touchListeners records that the listeners attached to this node are alive, so that
// the node that maintains does not expire them.
func (e *Engine) touchListeners(ctx context.Context) {
	if e.cfg.Relay == nil {
		return
	}
	if err := e.store.TouchListeners(ctx, e.cfg.Relay.Attached(), time.Now()); err != nil && ctx.Err() == nil {
		e.log.Error("touch listeners", "err", err)
	}
}

// ListenerSeen records that a listener attached to or left endpointID now; the hub
// calls it, so that a listener back after a long absence is not expired.
func (e *Engine) ListenerSeen(ctx context.Context, endpointID string) {
	err := e.store.TouchListeners(ctx, []string{endpointID}, time.Now())
	if err != nil && ctx.Err() == nil && !errors.Is(err, store.ErrClosed) { // the last leave at shutdown
		e.log.Error("touch listener", "endpoint", endpointID, "err", err)
	}
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
	e.parkBacklogs(ctx, now)
	if e.cfg.ListenerExpiry > 0 {
		e.expireListeners(ctx, now)
	}
	if e.cfg.ListenerIdle > 0 {
		e.removeIdleListeners(ctx, now)
	}
	if e.cfg.Retention > 0 {
		e.purge(ctx, now)
	}
}

// parkBacklogs takes the backlogs of paused and disabled endpoints out of the queue:
// a disabled endpoint's pending deliveries fail, a paused one's wait without a time
// (until resumed) or, older than Retention, fail so that retention can purge them.
func (e *Engine) parkBacklogs(ctx context.Context, now time.Time) {
	var expireBefore time.Time // never, without retention
	if e.cfg.Retention > 0 {
		expireBefore = now.Add(-e.cfg.Retention)
	}
	r, err := e.store.ParkBacklogs(ctx, now, expireBefore)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("park backlogs", "err", err)
		}
		return
	}
	if r.Failed+r.Parked+r.Unparked > 0 {
		e.log.Info("backlogs of paused and disabled endpoints", "failed", r.Failed, "parked", r.Parked, "unparked", r.Unparked)
	}
}

// attachedHere returns the listener endpoints attached to this node.
func (e *Engine) attachedHere() []string {
	if e.cfg.Relay == nil {
		return nil
	}
	return e.cfg.Relay.Attached()
}

// expireListeners fails the pending deliveries of listener endpoints that have had no
// session for ListenerExpiry: nobody is coming for them.
func (e *Engine) expireListeners(ctx context.Context, now time.Time) {
	reason := fmt.Sprintf("expired: no herald listen session for %s", e.cfg.ListenerExpiry)
	n, err := e.store.ExpireListenerDeliveries(ctx, now.Add(-e.cfg.ListenerExpiry), e.attachedHere(), reason, now)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("expire listener deliveries", "err", err)
		}
		return
	}
	if n > 0 {
		e.log.Info("listener deliveries expired", "deliveries", n, "reason", reason)
	}
}

// removeIdleListeners deletes the listener endpoints, with their deliveries, that have
// had no session for ListenerIdle; a listener that comes back later gets a new one.
func (e *Engine) removeIdleListeners(ctx context.Context, now time.Time) {
	eps, err := e.store.IdleListeners(ctx, now.Add(-e.cfg.ListenerIdle), purgeBatch)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Error("find idle listeners", "err", err)
		}
		return
	}
	for _, ep := range eps {
		if e.cfg.Relay != nil && e.cfg.Relay.Connected(ep.ID) {
			continue
		}
		if err := e.store.DeleteEndpoint(ctx, ep.AppID, ep.ID); err != nil {
			if ctx.Err() == nil && !errors.Is(err, store.ErrNotFound) {
				e.log.Error("remove idle listener", "endpoint", ep.ID, "err", err)
			}
			continue
		}
		e.log.Info("idle listener removed", "endpoint", ep.ID, "app", ep.AppID, "url", ep.URL, "idle_for", e.cfg.ListenerIdle)
		e.EndpointChanged(ep.ID)
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
	if len(eps) > 0 && e.cfg.Observer != nil {
		e.cfg.Observer.EndpointsDisabled(eps, reason)
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
