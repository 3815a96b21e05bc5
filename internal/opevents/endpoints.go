package opevents

import (
	"context"
	"time"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/jsontime"
	"github.com/heraldhq/herald/internal/store"
)

// streak is an endpoint's run of consecutive failed attempts, as this node saw it.
type streak struct {
	since    time.Time // the first failed attempt's start
	failures int
	notified bool // message.attempt.failing was sent for it (by any node)
}

// AttemptsRecorded implements delivery.Observer.
func (n *Notifier) AttemptsRecorded(as []delivery.RecordedAttempt) {
	n.enqueue("attempts", func(ctx context.Context) { n.attempts(ctx, as) })
}

// EndpointsDisabled implements delivery.Observer.
func (n *Notifier) EndpointsDisabled(eps []*domain.Endpoint, reason string) {
	n.enqueue(domain.OpEndpointDisabled, func(ctx context.Context) {
		for _, e := range eps {
			if n.watched(e) {
				n.disabled(ctx, e, domain.TriggerAutomatic, domain.DisabledFailing, reason, n.latestAttempt(ctx, e))
			}
		}
	})
}

// EndpointCreated is told of a new endpoint of an app (the service calls it).
func (n *Notifier) EndpointCreated(e *domain.Endpoint) {
	n.enqueue(domain.OpEndpointCreated, func(ctx context.Context) {
		if n.watched(e) {
			n.emit(ctx, domain.OpEndpointCreated, n.endpointEvent(ctx, e), "")
		}
	})
}

// EndpointUpdated is told of an endpoint's change from prev to next: a state change
// sends endpoint.disabled or endpoint.enabled, a change of settings endpoint.updated.
func (n *Notifier) EndpointUpdated(prev, next *domain.Endpoint) {
	n.enqueue(domain.OpEndpointUpdated, func(ctx context.Context) {
		if !n.watched(next) {
			return
		}
		changes := domain.EndpointChanges(prev, next)
		switch {
		case prev.State != domain.EndpointDisabled && next.State == domain.EndpointDisabled:
			n.disabled(ctx, next, domain.TriggerManual, domain.DisabledManual, next.DisabledReason, nil)
		case prev.State == domain.EndpointDisabled && next.State == domain.EndpointEnabled:
			delete(n.disabledAt, next.ID) // its next automatic disable is news again
			ev := n.endpointEvent(ctx, next)
			ev.Trigger = domain.TriggerManual
			n.emit(ctx, domain.OpEndpointEnabled, ev, "")
		case prev.State != next.State: // paused or resumed
			changes = append(changes, "state")
		}
		if len(changes) > 0 {
			ev := n.endpointEvent(ctx, next)
			ev.Changes = changes
			n.emit(ctx, domain.OpEndpointUpdated, ev, "")
		}
	})
}

// EndpointDeleted is told of a deleted endpoint.
func (n *Notifier) EndpointDeleted(e *domain.Endpoint) {
	n.enqueue(domain.OpEndpointDeleted, func(ctx context.Context) {
		delete(n.streaks, e.ID)
		delete(n.notified, e.ID)
		if n.watched(e) {
			n.emit(ctx, domain.OpEndpointDeleted, n.endpointEvent(ctx, e), "")
		}
	})
}

// watched reports whether e's events are operational webhooks: not for the operational
// endpoints themselves (no event about an event), nor for `herald listen` sessions.
func (n *Notifier) watched(e *domain.Endpoint) bool {
	return e.AppID != n.appID && !e.IsListener()
}

func (n *Notifier) endpointEvent(ctx context.Context, e *domain.Endpoint) *EndpointEvent {
	return &EndpointEvent{AppID: e.AppID, AppUID: n.appUID(ctx, e.AppID), EndpointID: e.ID}
}

// disabled sends endpoint.disabled.
func (n *Notifier) disabled(ctx context.Context, e *domain.Endpoint, trigger, reason, detail string, last *domain.Attempt) {
	ev := &EndpointDisabledEvent{
		AppID: e.AppID, AppUID: n.appUID(ctx, e.AppID), EndpointID: e.ID, FailSince: jsontime.Opt(e.FailingSince),
		Trigger: trigger, Reason: reason, Detail: detail,
	}
	if last != nil {
		la := lastAttempt(last)
		ev.LastAttempt = &la
	}
	n.emit(ctx, domain.OpEndpointDisabled, ev, "")
}

// latestAttempt returns e's latest attempt, nil when it has none or it cannot be read.
func (n *Notifier) latestAttempt(ctx context.Context, e *domain.Endpoint) *domain.Attempt {
	as, _, err := n.store.ListAttempts(ctx, store.AttemptFilter{AppID: e.AppID, EndpointID: e.ID, Page: store.Page{Limit: 1}})
	if err != nil || len(as) == 0 {
		return nil
	}
	return as[0]
}

// attempts turns recorded attempts into events, in order: failing, exhausted, disabled.
func (n *Notifier) attempts(ctx context.Context, as []delivery.RecordedAttempt) {
	for _, a := range as {
		at := a.Attempt
		if at.AppID == n.appID || a.Listener {
			continue
		}
		switch {
		case at.Outcome == domain.OutcomeSucceeded:
			n.succeeded(ctx, a)
		case a.EndpointFailed:
			n.failed(ctx, a)
		}
		if a.Status == domain.DeliveryFailed {
			ev := n.attemptEvent(ctx, at)
			ev.Attempts = at.Number
			n.emit(ctx, domain.OpAttemptExhausted, ev, "")
		}
		if a.DisableEndpoint != "" {
			n.autoDisabled(ctx, a)
		}
	}
}

func (n *Notifier) attemptEvent(ctx context.Context, a *domain.Attempt) *AttemptEvent {
	return &AttemptEvent{
		AppID: a.AppID, AppUID: n.appUID(ctx, a.AppID), MsgID: a.MessageID, EndpointID: a.EndpointID, LastAttempt: lastAttempt(a),
	}
}

// failed counts a failed attempt into its endpoint's streak and sends
// message.attempt.failing once the streak is FailingAfter long, once per streak across
// nodes and restarts (the store keeps the mark).
func (n *Notifier) failed(ctx context.Context, a delivery.RecordedAttempt) {
	at := a.Attempt
	st := n.streaks[at.EndpointID]
	if st == nil {
		st = &streak{since: at.StartedAt}
		n.streaks[at.EndpointID] = st
	}
	st.failures++
	if st.notified || n.cfg.FailingAfter < 0 || st.failures < n.cfg.FailingAfter {
		return
	}
	if n.notified[at.EndpointID] { // another node, or this one before a restart
		st.notified = true
		return
	}
	marked, err := n.store.MarkFailingNotified(ctx, at.EndpointID, st.since)
	if err != nil {
		n.log.Error("operational webhooks: mark a failing endpoint", "endpoint", at.EndpointID, "err", err)
		return // tried again at the next failure
	}
	st.notified, n.notified[at.EndpointID] = true, true
	if !marked {
		return
	}
	ev := n.attemptEvent(ctx, at)
	ev.FailSince, ev.Failures = jsontime.Opt(&st.since), st.failures
	n.emit(ctx, domain.OpAttemptFailing, ev, "")
}

// succeeded ends its endpoint's streak and, when the streak was notified as failing,
// sends message.attempt.recovered (once, however many nodes see a success).
func (n *Notifier) succeeded(ctx context.Context, a delivery.RecordedAttempt) {
	at := a.Attempt
	st := n.streaks[at.EndpointID]
	delete(n.streaks, at.EndpointID)
	if (st == nil || !st.notified) && !n.notified[at.EndpointID] {
		return
	}
	since, err := n.store.ClearFailingNotified(ctx, at.EndpointID)
	if err != nil {
		n.log.Error("operational webhooks: clear a failing endpoint", "endpoint", at.EndpointID, "err", err)
		return
	}
	delete(n.notified, at.EndpointID)
	if since == nil {
		return // another node sent it
	}
	ev := n.attemptEvent(ctx, at)
	ev.FailSince = jsontime.Opt(since)
	n.emit(ctx, domain.OpAttemptRecovered, ev, "")
}

// autoDisabled sends endpoint.disabled for an endpoint an attempt disabled (410 Gone,
// webhook-delivery: disable); attempts in flight at once may all answer so, and only the
// first is reported.
func (n *Notifier) autoDisabled(ctx context.Context, a delivery.RecordedAttempt) {
	at := a.Attempt
	now := n.cfg.Now()
	if t, ok := n.disabledAt[at.EndpointID]; ok && now.Sub(t) < disabledDedupe {
		return
	}
	n.disabledAt[at.EndpointID] = now
	e := &domain.Endpoint{ID: at.EndpointID, AppID: at.AppID}
	if st := n.streaks[at.EndpointID]; st != nil {
		e.FailingSince = &st.since
	}
	n.disabled(ctx, e, domain.TriggerAutomatic, domain.DisabledCause(a.DisableEndpoint), a.DisableEndpoint, at)
}
