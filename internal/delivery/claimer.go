package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

// claimIdleWait is how long the claim loop sleeps when nothing is due, unless woken.
const claimIdleWait = 30 * time.Second

// claimLoop leases due deliveries whenever there is room, sleeping until the next one is
// due or something wakes it.
func (e *Engine) claimLoop(ctx context.Context) {
	defer e.loops.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	look := true // ask the store when the next delivery falls due before claiming
	for {
		wait := claimIdleWait
		starved := false // due work was left unclaimed for lack of room in this node or its endpoints
		e.mu.Lock()
		room := min(e.cfg.ClaimBatch, e.maxHeld()-len(e.held))
		exclude := e.saturatedLocked()
		e.mu.Unlock()
		if room > 0 {
			w, st, err := e.claimDue(ctx, room, exclude, look)
			look = true
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				e.log.Error("claim due deliveries", "err", err)
				wait = time.Second
			case w == 0:
				// A full claim: there may be more due right now, so claim again without
				// looking first (on a shared store the look is one more round trip).
				look = false
				continue
			default:
				wait, starved = w, st
			}
		}
		if room <= 0 {
			// Completions wake the loop once half the room is free; until then, look every
			// second, so that an app whose deliveries hang holding most of the room (its
			// share, plus whatever its fan-outs leased at publish) delays the other apps'
			// claims by a second at most.
			wait = time.Second
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

// claimDue leases up to room due deliveries, none of the endpoints in exclude, and queues
// them. It returns how long the claim loop may sleep (0: claim again at once) and whether
// it left due work unclaimed for lack of room. It claims nothing once ctx ends. With look,
// it first asks the store when the next delivery falls due, and claims only if one is due
// (a claim is a write transaction, a look is a read); without, it claims at once, as
// after a full claim.
func (e *Engine) claimDue(ctx context.Context, room int, exclude []string, look bool) (wait time.Duration, starved bool, err error) {
	now := time.Now()
	if look {
		next, ok, err := e.store.NextWake(ctx)
		now = time.Now()
		switch {
		case ctx.Err() != nil:
			return 0, false, ctx.Err()
		case err != nil:
			return 0, false, fmt.Errorf("next wake: %w", err)
		case !ok:
			return claimIdleWait, false, nil
		case next.After(now):
			return min(next.Sub(now), claimIdleWait), false, nil
		}
	}
	claimed, err := e.store.Claim(ctx, store.ClaimRequest{
		Owner: e.cfg.NodeID, Now: now, LeaseUntil: now.Add(e.cfg.Lease), Limit: room, Exclude: exclude,
		EndpointConcurrency: e.storeLimits(),
	})
	switch {
	case ctx.Err() != nil:
		return 0, false, ctx.Err()
	case err != nil:
		return 0, false, fmt.Errorf("claim: %w", err)
	}
	e.claimedByClaim.Add(float64(len(claimed)))
	e.enqueue(claimed)
	if !look && len(claimed) == 0 {
		return e.claimDue(ctx, room, exclude, true) // nothing was due after all: look, as usual
	}
	// Due but not claimed means excluded (a saturated endpoint): its completions wake us.
	// A shared store also stops short at endpoints' limits (see fullClaimsOnly).
	if len(claimed) < room && (len(claimed) == 0 || e.fullClaimsOnly()) {
		return time.Second, true, nil
	}
	return 0, false, nil
}

// renewLoop extends the leases of held deliveries so that slow queues and slow
// endpoints do not lose them to other nodes.
func (e *Engine) renewLoop(ctx context.Context) {
	defer e.loops.Done()
	every(ctx, e.cfg.Lease/3, e.renewLeases)
}

// renewLeases extends the lease of every held delivery, in batches.
func (e *Engine) renewLeases(ctx context.Context) {
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
