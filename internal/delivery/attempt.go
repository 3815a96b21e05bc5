package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

// requestLocked snapshots what a send needs, so it runs without the lock.
func (e *Engine) requestLocked(ep *endpoint, j *job) *request {
	timeout := e.cfg.Timeout
	if ep.cfg.TimeoutMS > 0 {
		timeout = time.Duration(ep.cfg.TimeoutMS) * time.Millisecond
	}
	return &request{
		url:        ep.cfg.URL,
		endpointID: ep.id,
		messageID:  j.c.Delivery.MessageID,
		eventType:  j.c.Type,
		body:       j.c.Payload,
		headers:    ep.cfg.Headers,
		msgHeaders: j.c.Headers,
		signer:     ep.signer,
		timeout:    timeout,
		relay:      IsListenerURL(ep.cfg.URL),
	}
}

// send makes one attempt and turns its response into a result for the completer.
func (e *Engine) send(ep *endpoint, j *job, req *request) {
	defer e.sends.Done()
	started := time.Now()
	resp := req.do(e)
	d := j.c.Delivery
	if resp.err != nil && (e.sendCtx.Err() != nil || errors.Is(resp.err, ErrListenerGone)) {
		// A hard stop, or a listener that went away: the attempt did not really happen.
		// Hand the delivery back to the store to go again at once (after a restart, or
		// when the listener reconnects), without spending a retry.
		e.mu.Lock()
		ep.inflight--
		e.inflight--
		if e.sendCtx.Err() != nil {
			e.aborted = append(e.aborted, d.ID)
			e.mu.Unlock()
			return
		}
		delete(e.held, d.ID)
		e.m.Held.Set(float64(len(e.held)))
		e.pumpLocked(ep)
		e.mu.Unlock()
		if err := e.store.ReleaseLeases(context.Background(), e.cfg.NodeID, []string{d.ID}); err != nil {
			e.log.Warn("release a listener's delivery", "delivery", d.ID, "err", err)
		}
		return
	}
	a := &domain.Attempt{
		ID: ids.New("att"), DeliveryID: d.ID, AppID: d.AppID, EndpointID: d.EndpointID, MessageID: d.MessageID,
		Number: d.Attempts + 1, StartedAt: started.UTC(), Latency: resp.latency, StatusCode: resp.status,
	}
	r := &store.AttemptResult{Attempt: a}
	push := false
	switch {
	case resp.err != nil:
		a.Error = resp.err.Error()
	case resp.status >= 200 && resp.status <= 299:
	default:
		a.Error = fmt.Sprintf("HTTP %d", resp.status)
		push = resp.status == 429 || resp.status == 502 || resp.status == 504
	}
	if resp.header != nil {
		a.ResponseHeaders = headerSummary(resp.header)
		a.ResponseBody = resp.body
	}
	now := time.Now()
	switch {
	case a.Error == "":
		r.Status, a.Outcome = domain.DeliverySucceeded, domain.OutcomeSucceeded
	case resp.status == 410:
		r.Status, a.Outcome = domain.DeliveryFailed, domain.OutcomeFailed
		r.DisableEndpoint = "the endpoint answered 410 Gone"
		r.EndpointFailed = true
	default:
		r.EndpointFailed = true
		if next, ok := e.cfg.Policy.Next(d.RetryStep+1, now, resp.retryAfter); ok {
			next = next.UTC()
			r.Status, a.Outcome, r.NextAttemptAt = domain.DeliveryPending, domain.OutcomeRetrying, &next
		} else {
			r.Status, a.Outcome = domain.DeliveryFailed, domain.OutcomeFailed
		}
	}
	e.m.Deliveries.WithLabelValues(a.Outcome).Inc()
	e.m.AttemptLatency.Observe(resp.latency.Seconds())
	if r.EndpointFailed {
		e.m.EndpointFailures.WithLabelValues(d.EndpointID).Inc()
	}

	e.mu.Lock()
	ep.inflight--
	e.inflight--
	j.done = true
	switch {
	case r.DisableEndpoint != "":
		e.m.Disabled.WithLabelValues("gone").Inc()
		e.log.Warn("endpoint disabled", "endpoint", ep.id, "reason", r.DisableEndpoint)
		if ep.cfg != nil {
			c := *ep.cfg
			c.State, c.DisabledReason = domain.EndpointDisabled, r.DisableEndpoint
			ep.cfg = &c
		}
	case push:
		ep.throttle++
		wait := resp.retryAfter
		if wait <= 0 {
			wait = min(time.Second<<min(ep.throttle-1, 6), time.Minute)
		}
		ep.backoff = now.Add(min(max(wait, time.Second), time.Hour))
		ep.limit = max(1, ep.limit/2)
	case r.Status == domain.DeliverySucceeded:
		ep.throttle = 0
		if ep.cfg != nil {
			limit := ep.cfg.MaxConcurrency
			if limit <= 0 {
				limit = e.cfg.EndpointConcurrency
			}
			if ep.cfg.FIFO {
				limit = 1
			}
			if ep.limit < limit {
				ep.limit++
			}
		}
	}
	fifo := ep.cfg != nil && ep.cfg.FIFO || e.waitsForSlotLocked(ep)
	e.pumpLocked(ep)
	for other := range e.starved {
		if e.inflight >= e.cfg.Workers {
			break
		}
		e.pumpLocked(other)
	}
	e.mu.Unlock()
	e.results <- result{r: r, fifo: fifo}
}

func (r *request) do(e *Engine) response {
	if r.relay {
		return e.sendRelay(r, time.Now())
	}
	return e.sender.send(e.sendCtx, r, time.Now())
}
