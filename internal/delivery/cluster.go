package delivery

import (
	"context"
	"log/slog"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

// When several nodes share one store (the store implements store.Shared), the engine
// changes in five ways:
//
//   - Limits: an endpoint's max_concurrency and rate_limit must hold across nodes, which
//     only the store can see. The engine asks it to enforce them in Claim and on publish
//     (EndpointConcurrency), and keeps no rate limiter of its own, which would hold back
//     deliveries the shared bucket has already let through while other nodes send theirs.
//     Concurrency is still limited in memory too, which is exact for this node's sends.
//   - Slots: a delivery holds one of its endpoint's concurrency slots in the store until
//     its outcome is committed, so outcomes are committed sooner (sharedCompleteLinger,
//     waitsForSlotLocked), and a claim cut short by limits is not repeated at once.
//   - Wake-ups: the claim loop also wakes when another node queues work.
//   - Periodic work: retention and auto-disable run under a store.Locker lock, on one node
//     at a time; every node still refreshes its queue-depth gauge.
//   - Liveness: every node heartbeats; the deliveries of a node silent for NodeTimeout
//     (killed, or cut off from the database) are released for the others to claim.

// maintenanceLock names the lock periodic work runs under.
const maintenanceLock = "herald/maintenance"

// notifyInterval is the shortest time between two looks for work prompted by other
// nodes' notifications.
const notifyInterval = 25 * time.Millisecond

// storeLimits returns the EndpointConcurrency to ask the store for: the default limit
// when the store is shared and enforces limits across nodes, 0 when this engine alone
// enforces them.
func (e *Engine) storeLimits() int {
	if _, shared := e.store.(store.Shared); shared {
		return e.cfg.EndpointConcurrency
	}
	return 0
}

// sharedCompleteLinger replaces completeLinger with a shared store. There a finished
// delivery's concurrency slot is free for every node only once its outcome is committed,
// so a long wait would idle endpoints at their limit (and waitsForSlotLocked commits at
// once when this node alone fills an endpoint's slots); a shared store commits outcomes
// without waiting for the disk, so smaller batches are affordable.
const sharedCompleteLinger = 5 * time.Millisecond

// completeLinger returns how long the completer gathers outcomes into one commit.
func (e *Engine) completeLinger() time.Duration {
	if e.storeLimits() > 0 {
		return sharedCompleteLinger
	}
	return completeLinger
}

// waitsForSlotLocked reports whether, with a shared store, the endpoint's next delivery
// waits for the outcome just made to be recorded: this node fills all of the endpoint's
// concurrency slots, and one frees only when an outcome is committed. e.mu must be held.
func (e *Engine) waitsForSlotLocked(ep *endpoint) bool {
	if e.storeLimits() == 0 || ep.cfg == nil {
		return false
	}
	return ep.inflight+len(ep.queue)+1 >= e.maxConcurrency(ep.cfg)
}

// fullClaimsOnly reports whether the claim loop should claim again at once only after a
// claim that filled all the room it asked for. With a shared store a smaller claim
// usually means that endpoints reached their limits, and claiming again would find
// nothing: the outcomes that free their slots wake the loop instead.
func (e *Engine) fullClaimsOnly() bool { return e.storeLimits() > 0 }

// startShared starts what a shared store needs, with the other loops.
func (e *Engine) startShared(ctx context.Context) {
	if l, ok := e.store.(store.Liveness); ok {
		e.loops.Add(1)
		go e.heartbeatLoop(ctx, l)
	}
	if n, ok := e.store.(store.Notifier); ok {
		e.loops.Add(1)
		go func() {
			defer e.loops.Done()
			// Wake the claim loop whenever a node commits claimable work; notifications
			// arriving meanwhile coalesce into one more look, since a busy cluster
			// notifies far more often than a claim is worth making.
			follow(ctx, e.log, "subscribe to other nodes' work", n.Subscribe, func(struct{}) {
				e.signal()
				select {
				case <-ctx.Done():
				case <-time.After(notifyInterval):
				}
			}, e.signal) // the store stopped listening: look now in case something was missed
		}()
	}
}

// follow subscribes and passes every value to handle until ctx ends, calling lost after
// each subscription ends and subscribing again, with a backoff while subscribing fails.
func follow[T any](ctx context.Context, log *slog.Logger, what string, subscribe func(context.Context) (<-chan T, error), handle func(T), lost func()) {
	wait := time.Second
	for ctx.Err() == nil {
		ch, err := subscribe(ctx)
		if err != nil {
			log.Warn(what, "err", err, "retry_in", wait)
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
			wait = min(2*wait, 30*time.Second)
			continue
		}
		wait = time.Second
		for v := range ch {
			handle(v)
		}
		lost()
	}
}

// maintainOnce runs periodic work, on one node at a time when the store can lock.
func (e *Engine) maintainOnce(ctx context.Context) {
	l, ok := e.store.(store.Locker)
	if !ok {
		e.maintain(ctx)
		return
	}
	release, locked, err := l.TryLock(ctx, maintenanceLock)
	if err != nil && ctx.Err() == nil {
		e.log.Warn("maintenance lock", "err", err)
	}
	if !locked {
		if n, err := e.store.QueueDepth(ctx); err == nil {
			e.m.QueueDepth.Set(float64(n))
		}
		return
	}
	defer release()
	e.maintain(ctx)
}

// heartbeatLoop tells the store this node is alive every NodeTimeout/5 and releases the
// deliveries of nodes that stopped doing so; it leaves the cluster when ctx ends.
func (e *Engine) heartbeatLoop(ctx context.Context, l store.Liveness) {
	defer e.loops.Done()
	beat := func() {
		released, err := l.Heartbeat(ctx, e.cfg.NodeID, e.cfg.NodeTimeout)
		if err != nil && ctx.Err() == nil {
			e.log.Warn("heartbeat", "err", err)
		}
		if len(released) > 0 {
			e.log.Warn("took over the deliveries of silent nodes", "nodes", released, "silent_for", e.cfg.NodeTimeout)
			e.signal()
		}
	}
	beat()
	t := time.NewTicker(e.cfg.NodeTimeout / 5)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			leaveCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := l.Leave(leaveCtx, e.cfg.NodeID); err != nil {
				e.log.Warn("leave the cluster", "err", err)
			}
			return
		case <-t.C:
			beat()
		}
	}
}
