package delivery

import (
	"context"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

// job is a delivery this node holds: queued on its endpoint, in flight, or done and
// waiting for its outcome to be recorded.
type job struct {
	c       *store.Claimed
	started bool
	// done: the attempt is over and its outcome is on its way to the store. Once that
	// commits, the delivery may be claimed again (a retry falls due) before record has
	// forgotten the old job; such a claim replaces a done job instead of being dropped.
	done bool
}

// enqueue adds leased deliveries to their endpoints' queues.
func (e *Engine) enqueue(claimed []*store.Claimed) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var release []string
	for _, c := range claimed {
		id := c.Delivery.ID
		if e.stopping {
			release = append(release, id)
			continue
		}
		if old, dup := e.held[id]; dup && !old.done {
			continue // already queued or in flight here (a lease renewed late and re-claimed)
		}
		j := &job{c: c}
		e.held[id] = j
		ep := e.endpoints[c.Delivery.EndpointID]
		if ep == nil {
			ep = &endpoint{id: c.Delivery.EndpointID}
			e.endpoints[ep.id] = ep
		}
		ep.queue = append(ep.queue, j)
	}
	e.m.Held.Set(float64(len(e.held)))
	for _, c := range claimed {
		if ep := e.endpoints[c.Delivery.EndpointID]; ep != nil {
			e.pumpLocked(ep)
		}
	}
	if len(release) > 0 {
		go func() {
			if err := e.store.ReleaseLeases(context.Background(), e.cfg.NodeID, release); err != nil {
				e.log.Warn("release leases", "err", err)
			}
		}()
	}
}

// pumpLocked starts as many of the endpoint's queued deliveries as its limits allow.
// e.mu must be held.
func (e *Engine) pumpLocked(ep *endpoint) {
	if len(ep.queue) == 0 {
		delete(e.starved, ep)
		return
	}
	now := time.Now()
	changed := ep.loadedAt != ep.changes
	if ep.cfg == nil || changed || now.After(ep.validTo) {
		if !ep.loading {
			ep.loading = true
			go e.load(ep)
		}
		// An expired copy serves until the reload ends; a changed one does not: the change
		// may be a new URL, a pause or a disable.
		if ep.cfg == nil || changed {
			return
		}
	}
	if ep.cfg.State != domain.EndpointEnabled || (e.isListener(ep) && !e.listenerConnected(ep)) {
		e.releaseQueueLocked(ep) // they wait in the store: for the resume, or for the listener
		return
	}
	for len(ep.queue) > 0 && ep.inflight < ep.limit {
		if now.Before(ep.backoff) {
			e.retryPumpLocked(ep, ep.backoff.Sub(now))
			return
		}
		if e.inflight >= e.cfg.Workers || e.stopping {
			e.starved[ep] = true
			return
		}
		if ep.limiter != nil {
			r := ep.limiter.ReserveN(now, 1)
			if d := r.DelayFrom(now); d > 0 {
				r.CancelAt(now)
				e.retryPumpLocked(ep, d)
				return
			}
		}
		j := ep.queue[0]
		ep.queue[0] = nil
		ep.queue = ep.queue[1:]
		j.started = true
		ep.inflight++
		e.inflight++
		e.sends.Add(1)
		go e.send(ep, j, e.requestLocked(ep, j))
	}
	if len(ep.queue) == 0 {
		delete(e.starved, ep)
	}
}

// retryPumpLocked pumps the endpoint again after d, unless a pump is already set to
// come. e.mu must be held.
func (e *Engine) retryPumpLocked(ep *endpoint, d time.Duration) {
	if ep.timer {
		return
	}
	ep.timer = true
	time.AfterFunc(d, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		ep.timer = false
		e.pumpLocked(ep)
	})
}

// pumpStarvedLocked gives free workers to endpoints that were waiting for one.
// e.mu must be held.
func (e *Engine) pumpStarvedLocked() {
	for other := range e.starved {
		if e.inflight >= e.cfg.Workers {
			break
		}
		e.pumpLocked(other)
	}
}

// adaptLocked adjusts an endpoint's sending state to the outcome of an attempt made at
// now: a 410 disables the cached copy, push-back halves its in-flight limit and backs it
// off (for retryAfter if the endpoint said so), and a success raises the limit again
// towards the configured one. e.mu must be held.
func (e *Engine) adaptLocked(ep *endpoint, o outcome, retryAfter time.Duration, now time.Time) {
	switch {
	case o.disableEndpoint != "":
		e.m.Disabled.WithLabelValues("gone").Inc()
		e.log.Warn("endpoint disabled", "endpoint", ep.id, "reason", o.disableEndpoint)
		if ep.cfg != nil {
			c := *ep.cfg
			c.State, c.DisabledReason = domain.EndpointDisabled, o.disableEndpoint
			ep.cfg = &c
		}
	case o.throttled:
		ep.throttle++
		wait := retryAfter
		if wait <= 0 {
			wait = min(time.Second<<min(ep.throttle-1, 6), time.Minute)
		}
		ep.backoff = now.Add(min(max(wait, time.Second), time.Hour))
		ep.limit = max(1, ep.limit/2)
	case o.status == domain.DeliverySucceeded:
		ep.throttle = 0
		if ep.cfg != nil && ep.limit < e.concurrencyLimit(ep.cfg) {
			ep.limit++
		}
	}
}

// releaseQueueLocked hands an endpoint's queued deliveries back to the store (the endpoint
// was paused or disabled after they were claimed); they stay pending there.
func (e *Engine) releaseQueueLocked(ep *endpoint) {
	if len(ep.queue) == 0 {
		return
	}
	ids := make([]string, len(ep.queue))
	for i, j := range ep.queue {
		ids[i] = j.c.Delivery.ID
		delete(e.held, ids[i])
	}
	ep.queue = nil
	delete(e.starved, ep)
	e.m.Held.Set(float64(len(e.held)))
	go func() {
		if err := e.store.ReleaseLeases(context.Background(), e.cfg.NodeID, ids); err != nil {
			e.log.Warn("release leases of a paused endpoint", "endpoint", ep.id, "err", err)
		}
	}()
}

// saturatedLocked lists endpoints that should not get more deliveries claimed for now.
// e.mu must be held.
func (e *Engine) saturatedLocked() []string {
	var out []string
	now := time.Now()
	for id, ep := range e.endpoints {
		if len(ep.queue) >= 2*max(ep.limit, 1) || now.Before(ep.backoff) || (ep.cfg != nil && ep.cfg.State != domain.EndpointEnabled) ||
			(e.isListener(ep) && !e.listenerConnected(ep)) {
			out = append(out, id)
		}
	}
	return out
}
