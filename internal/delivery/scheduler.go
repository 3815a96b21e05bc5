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
		e.holdLocked(j)
		ep := e.endpoints[c.Delivery.EndpointID]
		if ep == nil {
			ep = &endpoint{id: c.Delivery.EndpointID, app: c.Delivery.AppID}
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
		a := e.appLocked(ep.app)
		if !admit(a.inflight, e.cfg.AppWorkers) {
			a.starved[ep] = true
			delete(e.starved, ep)
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
		a.inflight++
		e.sends.Add(1)
		go e.send(ep, j, e.requestLocked(ep, j))
	}
	if len(ep.queue) == 0 {
		delete(e.starved, ep)
		if a := e.apps[ep.app]; a != nil {
			delete(a.starved, ep)
		}
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

// Apps share the workers. However many endpoints an app has and however slowly they
// answer, it has at most Config.AppWorkers requests in flight and holds at most its
// share of maxHeld deliveries: the other workers stay free for other apps. Within an app,
// each endpoint's limit starts small and grows with timely successes (see nextLimit), so
// that one hanging endpoint does not take the app's whole share either.

// app is the sending state of one app's deliveries on this node.
type app struct {
	held     int                // deliveries held: queued, in flight, or waiting to be recorded
	inflight int                // requests in flight
	starved  map[*endpoint]bool // endpoints with queued deliveries waiting for the app's share
}

// admit reports whether an app with appInflight requests in flight may start another
// when it may have appWorkers at once (a worker must also be free).
func admit(appInflight, appWorkers int) bool { return appInflight < appWorkers }

// appLocked returns the state of the app with this id, creating it. e.mu must be held.
func (e *Engine) appLocked(id string) *app {
	a := e.apps[id]
	if a == nil {
		a = &app{starved: make(map[*endpoint]bool)}
		e.apps[id] = a
	}
	return a
}

// holdLocked records that this node holds j's delivery (replacing a done job of the same
// delivery). e.mu must be held.
func (e *Engine) holdLocked(j *job) {
	id := j.c.Delivery.ID
	if _, replaced := e.held[id]; !replaced {
		e.appLocked(j.c.Delivery.AppID).held++
	}
	e.held[id] = j
}

// forgetLocked records that this node no longer holds the delivery. e.mu must be held.
func (e *Engine) forgetLocked(id string) {
	j := e.held[id]
	if j == nil {
		return
	}
	delete(e.held, id)
	if a := e.apps[j.c.Delivery.AppID]; a != nil {
		a.held--
		e.tidyAppLocked(j.c.Delivery.AppID, a)
	}
}

// tidyAppLocked drops the state of an app with nothing held here. e.mu must be held.
func (e *Engine) tidyAppLocked(id string, a *app) {
	if a.held <= 0 && a.inflight <= 0 && len(a.starved) == 0 {
		delete(e.apps, id)
	}
}

// finishedLocked accounts for the end of a request to ep and gives the freed worker to
// what waits for one: ep's queue, the app's other endpoints, then any app's. e.mu must
// be held.
func (e *Engine) finishedLocked(ep *endpoint) {
	ep.inflight--
	e.inflight--
	a := e.appLocked(ep.app)
	a.inflight--
	e.pumpLocked(ep)
	for other := range a.starved {
		if !admit(a.inflight, e.cfg.AppWorkers) || e.inflight >= e.cfg.Workers {
			break
		}
		delete(a.starved, other)
		e.pumpLocked(other)
	}
	e.pumpStarvedLocked()
	e.tidyAppLocked(ep.app, a)
}

// maxAppHeld bounds the deliveries of one app this node holds: its share of maxHeld.
func (e *Engine) maxAppHeld() int { return e.cfg.AppWorkers * 4 }

// leaseOnPublishLocked reports whether a message of the app should be leased to this
// node as it is published: the node and the app both have room. Otherwise its deliveries
// are claimed when there is room. e.mu must be held.
func (e *Engine) leaseOnPublishLocked(appID string) bool {
	if !e.started || e.stopping || len(e.held) >= e.maxHeld() {
		return false
	}
	a := e.apps[appID]
	return a == nil || a.held < e.maxAppHeld()
}

// adaptLocked adjusts an endpoint's sending state to the outcome of an attempt that took
// latency and ended at now: a 410 disables the cached copy, push-back backs it off (for
// retryAfter if the endpoint said so), and its in-flight limit follows nextLimit.
// e.mu must be held.
func (e *Engine) adaptLocked(ep *endpoint, o outcome, retryAfter, latency time.Duration, now time.Time) {
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
	case o.status == domain.DeliverySucceeded:
		ep.throttle = 0
	}
	if ep.cfg != nil {
		ep.limit = nextLimit(ep.limit, e.concurrencyLimit(ep.cfg), o, latency, e.timeout(ep.cfg))
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
		e.forgetLocked(ids[i])
	}
	ep.queue = nil
	delete(e.starved, ep)
	if a := e.apps[ep.app]; a != nil {
		delete(a.starved, ep)
		e.tidyAppLocked(ep.app, a)
	}
	e.m.Held.Set(float64(len(e.held)))
	go func() {
		if err := e.store.ReleaseLeases(context.Background(), e.cfg.NodeID, ids); err != nil {
			e.log.Warn("release leases of a paused endpoint", "endpoint", ep.id, "err", err)
		}
	}()
}

// saturatedLocked lists endpoints that should not get more deliveries claimed for now,
// among them every endpoint of an app that holds its share of deliveries here.
// e.mu must be held.
func (e *Engine) saturatedLocked() []string {
	var out []string
	now := time.Now()
	for id, ep := range e.endpoints {
		a := e.apps[ep.app]
		if len(ep.queue) >= 2*max(ep.limit, 1) || now.Before(ep.backoff) || (ep.cfg != nil && ep.cfg.State != domain.EndpointEnabled) ||
			(e.isListener(ep) && !e.listenerConnected(ep)) || (a != nil && a.held >= e.maxAppHeld()) {
			out = append(out, id)
		}
	}
	return out
}
