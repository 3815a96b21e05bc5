package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/webhook"
	"golang.org/x/time/rate"
)

// endpoint is the engine's cached view of one endpoint plus its live sending state.
type endpoint struct {
	id       string
	app      string           // the app's id
	cfg      *domain.Endpoint // nil until loaded
	signer   *webhook.Standard
	limiter  *rate.Limiter // nil: unlimited
	validTo  time.Time     // reload after this (cache TTL, or a secret expiring)
	changes  uint64        // how many times EndpointChanged was called for it
	loadedAt uint64        // the value of changes when the load that gave cfg started
	loading  bool
	queue    []*job
	inflight int
	limit    int // current in-flight limit: see nextLimit
	backoff  time.Time
	throttle int // consecutive push-back answers (429, 502, 504)
	timer    bool
	tools    tools // the transformation and credentials cfg asks for
}

// endpointCacheTTL bounds how stale the engine's copy of an endpoint may be when
// another node (or the database directly) changed it.
const endpointCacheTTL = 10 * time.Second

// endpointChangedLocked marks ep's cached copy as changed: nothing more is sent with it,
// and a queue waiting on it reloads it. e.mu must be held.
func (e *Engine) endpointChangedLocked(ep *endpoint) {
	ep.validTo = time.Time{}
	ep.changes++
	if len(ep.queue) > 0 && !ep.loading {
		ep.loading = true
		go e.load(ep)
	}
}

// load fetches an endpoint's configuration and secrets, then resumes its queue.
func (e *Engine) load(ep *endpoint) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.mu.Lock()
	changes, oldTools := ep.changes, ep.tools
	e.mu.Unlock()
	cfg, signer, validTo, err := e.fetchEndpoint(ctx, ep.id, time.Now())
	var newTools tools
	if err == nil {
		newTools = e.prepareTools(ctx, cfg, oldTools)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ep.loading = false
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Deleted: its deliveries went with it.
		dropTools(ep.tools, tools{})
		ep.tools = tools{}
		for _, j := range ep.queue {
			e.forgetLocked(j.c.Delivery.ID)
		}
		ep.queue = nil
		delete(e.endpoints, ep.id)
		delete(e.starved, ep)
		if a := e.apps[ep.app]; a != nil {
			delete(a.starved, ep)
			e.tidyAppLocked(ep.app, a)
		}
	case err != nil:
		e.log.Warn("load endpoint", "endpoint", ep.id, "err", err)
		ep.validTo = time.Time{}
		e.retryPumpLocked(ep, time.Second)
	default:
		dropTools(ep.tools, newTools)
		ep.tools = newTools
		e.cacheLocked(ep, cfg, signer, validTo, changes)
		e.pumpLocked(ep)
	}
}

// fetchEndpoint reads an endpoint's configuration and makes a signer with its active
// secrets; validTo is when the copy must be read again (the cache TTL from now, or
// sooner when a secret expires).
func (e *Engine) fetchEndpoint(ctx context.Context, id string, now time.Time) (cfg *domain.Endpoint, signer *webhook.Standard, validTo time.Time, err error) {
	cfg, err = e.store.GetEndpoint(ctx, "", id)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	secrets, err := e.store.EndpointSecrets(ctx, id, now)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	validTo = now.Add(endpointCacheTTL)
	keys := make([]webhook.Secret, 0, len(secrets))
	for _, s := range secrets {
		keys = append(keys, s.Secret)
		if s.ExpiresAt != nil && s.ExpiresAt.Before(validTo) {
			validTo = *s.ExpiresAt
		}
	}
	if len(keys) == 0 {
		return nil, nil, time.Time{}, fmt.Errorf("endpoint %s has no active secret", id)
	}
	signer, err = webhook.NewStandardKeys(keys)
	if err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("make a signer: %w", err)
	}
	return cfg, signer, validTo, nil
}

// cacheLocked makes a freshly read configuration the endpoint's cached copy, as of the
// changes-th call of EndpointChanged, and fits its limits to it. e.mu must be held.
func (e *Engine) cacheLocked(ep *endpoint, cfg *domain.Endpoint, signer *webhook.Standard, validTo time.Time, changes uint64) {
	limit := e.concurrencyLimit(cfg)
	switch {
	case ep.cfg == nil || ep.cfg.MaxConcurrency != cfg.MaxConcurrency || ep.cfg.FIFO != cfg.FIFO:
		ep.limit = min(limit, initialLimit)
	case ep.limit > limit:
		ep.limit = limit
	}
	if cfg.RateLimit > 0 && e.storeLimits() == 0 { // a shared store meters rates itself, across nodes
		if ep.limiter == nil || float64(ep.limiter.Limit()) != cfg.RateLimit {
			ep.limiter = rate.NewLimiter(rate.Limit(cfg.RateLimit), max(1, int(cfg.RateLimit)))
		}
	} else {
		ep.limiter = nil
	}
	ep.cfg, ep.signer, ep.validTo, ep.loadedAt = cfg, signer, validTo, changes
}

// maxConcurrency returns an endpoint's own in-flight limit, or the engine's default.
func (e *Engine) maxConcurrency(cfg *domain.Endpoint) int {
	if cfg.MaxConcurrency > 0 {
		return cfg.MaxConcurrency
	}
	return e.cfg.EndpointConcurrency
}

// concurrencyLimit returns how many deliveries to an endpoint may be in flight at once
// when it does not push back: 1 for a FIFO endpoint, its maxConcurrency otherwise.
func (e *Engine) concurrencyLimit(cfg *domain.Endpoint) int {
	if cfg.FIFO {
		return 1
	}
	return e.maxConcurrency(cfg)
}

// followEndpointChanges drops cached endpoints as the store reports them changed, by
// this node or another ("": any of them), until ctx ends.
func (e *Engine) followEndpointChanges(ctx context.Context) {
	defer e.loops.Done()
	follow(ctx, e.log, "watch endpoint changes", e.store.WatchEndpoints, func(id string) {
		if id == "" {
			e.allEndpointsChanged()
		} else {
			e.EndpointChanged(id)
		}
	}, e.allEndpointsChanged) // the store stopped listening: changes may have been missed
}

// timeout returns an endpoint's request timeout: its own, or the engine's default.
func (e *Engine) timeout(cfg *domain.Endpoint) time.Duration {
	if cfg.TimeoutMS > 0 {
		return time.Duration(cfg.TimeoutMS) * time.Millisecond
	}
	return e.cfg.Timeout
}

// initialLimit is an endpoint's in-flight limit before it has answered anything (or after
// its limits changed), when its configured limit is higher.
const initialLimit = 8

// nextLimit returns an endpoint's in-flight limit after an attempt with outcome o that
// took latency, given its current limit, its configured limit (most) and its timeout.
// The limit starts at initialLimit and grows by one per timely success (so it doubles
// with every round of successes, up to most); it halves, down to 1, when the endpoint
// pushes back (429, 502, 504) or an attempt times out; and it stays put after other
// failures and after a success that took more than half the timeout. So an endpoint that
// never answers holds at most initialLimit workers, fewer once its attempts time out,
// and never gets more.
func nextLimit(limit, most int, o outcome, latency, timeout time.Duration) int {
	switch {
	case o.throttled || o.timedOut:
		limit /= 2
	case o.status == domain.DeliverySucceeded && latency <= timeout/2:
		limit++
	}
	return min(max(limit, 1), most)
}
