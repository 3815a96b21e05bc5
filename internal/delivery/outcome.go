package delivery

import (
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/domain"
)

// goneReason is why an endpoint that answered 410 is disabled.
const goneReason = domain.GoneReason

// disableReason is why an endpoint whose receiver asked to be disabled is disabled.
const disableReason = domain.ReceiverDisableReason

// outcome is what one attempt means for its delivery and its endpoint.
type outcome struct {
	errText         string     // the attempt's error: "" when it succeeded
	attempt         string     // the attempt's outcome: domain.OutcomeSucceeded, OutcomeRetrying or OutcomeFailed
	status          string     // the delivery's new status: domain.DeliverySucceeded, DeliveryPending or DeliveryFailed
	nextAttemptAt   *time.Time // when the delivery goes again (UTC); nil when it does not
	endpointFailed  bool       // the attempt failed, so the endpoint is failing
	disableEndpoint string     // why the endpoint must be disabled now; "" when it need not be
	throttled       bool       // the endpoint pushed back (429, 502, 504): send to it more slowly
	timedOut        bool       // the endpoint (or its transformation) took too long: send it fewer at once
	unsent          bool       // no request was made: the endpoint's failure streak stays as it is
}

// cancelledText is the error text of an attempt its endpoint's transformation cancelled.
const cancelledText = "cancelled by the endpoint's transformation (webhook.cancel); nothing was sent"

// classify decides what an attempt's response means for a delivery whose retry step
// (its position in p's schedule) was retryStep before the attempt. A receiver's
// webhook-delivery answer header overrides the schedule: abort fails the delivery now,
// disable also disables the endpoint (even after a 2xx). It reads no clock and
// touches no state; only p's jitter makes it random.
func classify(resp response, retryStep int, p Policy, now time.Time) outcome {
	if resp.unsent {
		return classifyUnsent(resp, retryStep, p, now)
	}
	var o outcome
	switch {
	case resp.err != nil:
		o.errText = resp.err.Error()
		o.timedOut = resp.timedOut
	case resp.status >= 200 && resp.status <= 299:
	default:
		o.errText = fmt.Sprintf("HTTP %d", resp.status)
		o.throttled = resp.status == 429 || resp.status == 502 || resp.status == 504
	}
	directive := domain.DirectiveNone
	if resp.err == nil && resp.header != nil {
		directive = domain.ParseDirective(resp.header.Get(domain.DeliveryHeader))
	}
	if directive == domain.DirectiveDisable {
		o.disableEndpoint = disableReason
	}
	switch {
	case o.errText == "":
		o.status, o.attempt = domain.DeliverySucceeded, domain.OutcomeSucceeded
	case directive != domain.DirectiveNone:
		// The receiver answered on purpose: no retry, and its endpoint is not failing.
		o.status, o.attempt = domain.DeliveryFailed, domain.OutcomeFailed
		o.errText += "; the receiver answered webhook-delivery: " + directive.String()
	case resp.status == 410:
		o.status, o.attempt = domain.DeliveryFailed, domain.OutcomeFailed
		o.disableEndpoint = goneReason
		o.endpointFailed = true
	default:
		o.endpointFailed = true
		if next, ok := p.Next(retryStep+1, now, resp.retryAfter); ok {
			next = next.UTC()
			o.status, o.attempt, o.nextAttemptAt = domain.DeliveryPending, domain.OutcomeRetrying, &next
		} else {
			o.status, o.attempt = domain.DeliveryFailed, domain.OutcomeFailed
		}
	}
	return o
}

// classifyUnsent decides what an attempt that made no request means: its endpoint's
// transformation cancelled the delivery (resp.err is nil), which ends it as cancelled,
// or failed. A script that threw or returned something that cannot be sent fails the
// delivery at once: it would fail the same way again (fix the script, then replay the
// failed deliveries). A script that ran out of time is retried on the endpoint's
// schedule, since the time limit can be the machine's load. Neither counts against the
// endpoint: its receiver was never asked.
func classifyUnsent(resp response, retryStep int, p Policy, now time.Time) outcome {
	o := outcome{unsent: true}
	switch {
	case resp.err == nil:
		o.errText, o.status, o.attempt = cancelledText, domain.DeliveryCancelled, domain.OutcomeCancelled
		return o
	case resp.timedOut:
		o.errText, o.timedOut = resp.err.Error(), true
		if next, ok := p.Next(retryStep+1, now, 0); ok {
			next = next.UTC()
			o.status, o.attempt, o.nextAttemptAt = domain.DeliveryPending, domain.OutcomeRetrying, &next
			return o
		}
	default:
		o.errText = resp.err.Error()
	}
	o.status, o.attempt = domain.DeliveryFailed, domain.OutcomeFailed
	return o
}
