package delivery

import (
	"context"
	"errors"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

// requestLocked snapshots what a send needs, so it runs without the lock.
func (e *Engine) requestLocked(ep *endpoint, j *job) *request {
	timeout := e.timeout(ep.cfg)
	return &request{
		url:        ep.cfg.URL,
		endpointID: ep.id,
		messageID:  j.c.Delivery.MessageID,
		eventType:  j.c.Type,
		body:       j.c.Payload,
		headers:    ep.cfg.Headers,
		secrets:    ep.cfg.Headers,
		msgHeaders: j.c.Headers,
		signer:     ep.signer,
		timeout:    timeout,
		relay:      ep.cfg.IsListener(),
		schedule:   ep.cfg.RetrySchedule,
		tools:      ep.tools,
		trace:      j.c.Trace,
	}
}

// send makes one attempt and turns its response into a result for the recorder.
func (e *Engine) send(ep *endpoint, j *job, req *request) {
	defer e.sends.Done()
	started := time.Now()
	var spans *attemptSpans
	if e.tracer != nil {
		spans = e.startAttempt(j, req, started)
	}
	resp := req.do(e)
	d := j.c.Delivery
	if resp.err != nil && (e.sendCtx.Err() != nil || errors.Is(resp.err, ErrListenerGone)) {
		spans.abandon(resp)
		e.abandon(ep, d.ID)
		return
	}
	now := time.Now()
	policy := e.cfg.Policy
	if len(req.schedule) > 0 {
		policy.Schedule = req.schedule // the endpoint's own schedule; jitter and Retry-After as the server's
	}
	o := classify(resp, d.RetryStep, policy, now)
	r := attemptResult(d, started, resp, o)
	e.m.countAttempt(o.attempt, resp.status)
	e.m.AttemptLatency.Observe(resp.latency.Seconds())
	if o.endpointFailed {
		e.m.EndpointFailures.Inc()
	}
	if o.attempt == domain.OutcomeSucceeded {
		e.m.DeliveryLatency.Observe(now.Sub(d.CreatedAt).Seconds())
	}
	spans.end(resp, o)

	e.mu.Lock()
	j.done = true
	e.adaptLocked(ep, o, resp.retryAfter, resp.latency, now)
	fifo := ep.cfg != nil && ep.cfg.FIFO || e.waitsForSlotLocked(ep)
	e.finishedLocked(ep)
	e.mu.Unlock()
	e.results <- result{r: r, fifo: fifo}
}

// abandon ends an attempt that did not really happen: a hard stop cut it short, or its
// listener went away. The delivery goes back to the store to go again at once (after a
// restart, or when the listener reconnects) without spending a retry.
func (e *Engine) abandon(ep *endpoint, deliveryID string) {
	e.mu.Lock()
	if e.sendCtx.Err() != nil {
		ep.inflight--
		e.inflight--
		e.appLocked(ep.app).inflight--
		e.aborted = append(e.aborted, deliveryID)
		e.mu.Unlock()
		return
	}
	e.forgetLocked(deliveryID)
	e.m.Held.Set(float64(len(e.held)))
	e.finishedLocked(ep)
	e.mu.Unlock()
	if err := e.store.ReleaseLeases(context.Background(), e.cfg.NodeID, []string{deliveryID}); err != nil {
		e.log.Warn("release a listener's delivery", "delivery", deliveryID, "err", err)
	}
}

// attemptResult is the record of an attempt at d that started at started, for the store.
func attemptResult(d *domain.Delivery, started time.Time, resp response, o outcome) *store.AttemptResult {
	a := &domain.Attempt{
		ID: ids.New("att"), DeliveryID: d.ID, AppID: d.AppID, EndpointID: d.EndpointID, MessageID: d.MessageID,
		Number: d.Attempts + 1, StartedAt: started.UTC(), Latency: resp.latency, StatusCode: resp.status,
		Error: o.errText, Outcome: o.attempt, RequestHeaders: resp.sent,
	}
	if resp.header != nil {
		a.ResponseHeaders = headerSummary(resp.header)
		a.ResponseBody = resp.body
	}
	return &store.AttemptResult{
		Attempt: a, Status: o.status, NextAttemptAt: o.nextAttemptAt,
		EndpointFailed: o.endpointFailed, DisableEndpoint: o.disableEndpoint, Unsent: o.unsent,
	}
}

// do sends the request over its listener's relay, or transforms it (when the endpoint
// has a transformation) and sends it over HTTP.
func (r *request) do(e *Engine) response {
	if r.relay {
		return e.sendRelay(r, time.Now())
	}
	if resp, stop := e.transform(r); stop {
		return resp
	}
	return e.sender.send(e.sendCtx, r, time.Now())
}
