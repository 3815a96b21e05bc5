package delivery

import (
	"context"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

// claimLoop leases due deliveries whenever there is room, sleeping until the next one is
// due or something wakes it.
func (e *Engine) claimLoop(ctx context.Context) {
	defer e.loops.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait := 30 * time.Second
		starved := false // due work was left unclaimed for lack of room in this node or its endpoints
		e.mu.Lock()
		room := min(e.cfg.ClaimBatch, e.maxHeld()-len(e.held))
		exclude := e.saturatedLocked()
		e.mu.Unlock()
		if room > 0 {
			// Look before claiming: a claim is a write transaction, a look is a read.
			next, ok, err := e.store.NextWake(ctx)
			now := time.Now()
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				e.log.Error("next wake", "err", err)
				wait = time.Second
			case !ok:
			case next.After(now):
				wait = min(next.Sub(now), wait)
			default:
				claimed, err := e.store.Claim(ctx, store.ClaimRequest{
					Owner: e.cfg.NodeID, Now: now, LeaseUntil: now.Add(e.cfg.Lease), Limit: room, Exclude: exclude,
					EndpointConcurrency: e.storeLimits(),
				})
				switch {
				case ctx.Err() != nil:
					return
				case err != nil:
					e.log.Error("claim deliveries", "err", err)
					wait = time.Second
				case len(claimed) == room:
					e.enqueue(claimed)
					continue // there may be more due right now
				default:
					e.enqueue(claimed)
					// Due but not claimed means excluded (a saturated endpoint): its completions wake us.
					// A shared store also stops short at endpoints' limits (see fullClaimsOnly).
					if len(claimed) == 0 || e.fullClaimsOnly() {
						wait, starved = time.Second, true
					} else {
						continue
					}
				}
			}
		}
		e.claimStarved.Store(room <= 0 || starved)
		e.claimWake.Store(time.Now().Add(wait).UnixNano())
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-e.wake:
		case <-timer.C:
		}
		e.claimWake.Store(0)
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// renewLoop extends the leases of held deliveries so that slow queues and slow
// endpoints do not lose them to other nodes.
func (e *Engine) renewLoop(ctx context.Context) {
	defer e.loops.Done()
	t := time.NewTicker(e.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		e.mu.Lock()
		ids := make([]string, 0, len(e.held))
		for id := range e.held {
			ids = append(ids, id)
		}
		e.mu.Unlock()
		for len(ids) > 0 {
			n := min(len(ids), 5000)
			if err := e.store.ExtendLeases(ctx, e.cfg.NodeID, ids[:n], time.Now().Add(e.cfg.Lease)); err != nil && ctx.Err() == nil {
				e.log.Error("extend leases", "err", err)
			}
			ids = ids[n:]
		}
	}
}
