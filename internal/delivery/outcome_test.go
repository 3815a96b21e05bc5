package delivery

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/transform"
)

func TestClassify(t *testing.T) {
	// No jitter, so that retry times are exact; two retries after the first attempt.
	p := Policy{Schedule: []time.Duration{5 * time.Second, time.Minute}, MaxRetryAfter: time.Hour}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	retrying := func(after time.Duration) outcome {
		next := now.Add(after).UTC()
		return outcome{attempt: domain.OutcomeRetrying, status: domain.DeliveryPending, nextAttemptAt: &next, endpointFailed: true}
	}
	failed := outcome{attempt: domain.OutcomeFailed, status: domain.DeliveryFailed, endpointFailed: true}
	succeeded := outcome{attempt: domain.OutcomeSucceeded, status: domain.DeliverySucceeded}
	with := func(o outcome, errText string, throttled bool) outcome {
		o.errText, o.throttled = errText, throttled
		return o
	}
	aborted := func(errText, disable string) outcome {
		return outcome{attempt: domain.OutcomeFailed, status: domain.DeliveryFailed, errText: errText, disableEndpoint: disable}
	}
	gone := with(failed, "HTTP 410", false)
	gone.disableEndpoint = goneReason
	timeout := errors.New("timeout: no response within 15s")
	refused := errors.New("dial tcp 127.0.0.1:1: connect: connection refused")

	tests := []struct {
		name string
		resp response
		step int // the delivery's retry step before the attempt
		want outcome
	}{
		{"200", response{status: 200}, 0, succeeded},
		{"204", response{status: 204}, 0, succeeded},
		{"299", response{status: 299}, 0, succeeded},
		{"2xx on the last attempt", response{status: 200}, 2, succeeded},
		{"1xx fails", response{status: 101}, 0, with(retrying(5*time.Second), "HTTP 101", false)},
		{"300", response{status: 300}, 0, with(retrying(5*time.Second), "HTTP 300", false)},
		{"302 is not followed", response{status: 302}, 0, with(retrying(5*time.Second), "HTTP 302", false)},
		{"400", response{status: 400}, 0, with(retrying(5*time.Second), "HTTP 400", false)},
		{"404", response{status: 404}, 0, with(retrying(5*time.Second), "HTTP 404", false)},
		{"500", response{status: 500}, 0, with(retrying(5*time.Second), "HTTP 500", false)},
		{"second retry follows the schedule", response{status: 500}, 1, with(retrying(time.Minute), "HTTP 500", false)},
		{"410 disables", response{status: 410}, 0, gone},
		{"410 ignores Retry-After", response{status: 410, retryAfter: time.Minute}, 0, gone},
		{"410 on the last attempt", response{status: 410}, 2, gone},
		{"an error with 410 still disables", response{status: 410, err: refused}, 0, with(gone, refused.Error(), false)},
		{"429", response{status: 429}, 0, with(retrying(5*time.Second), "HTTP 429", true)},
		{"429 Retry-After longer than the schedule", response{status: 429, retryAfter: 30 * time.Second}, 0, with(retrying(30*time.Second), "HTTP 429", true)},
		{"429 Retry-After shorter than the schedule", response{status: 429, retryAfter: 2 * time.Second}, 0, with(retrying(5*time.Second), "HTTP 429", true)},
		{"429 Retry-After capped", response{status: 429, retryAfter: 3 * time.Hour}, 0, with(retrying(time.Hour), "HTTP 429", true)},
		{"502", response{status: 502}, 0, with(retrying(5*time.Second), "HTTP 502", true)},
		{"503 is not push-back", response{status: 503}, 0, with(retrying(5*time.Second), "HTTP 503", false)},
		{"503 Retry-After", response{status: 503, retryAfter: 30 * time.Second}, 0, with(retrying(30*time.Second), "HTTP 503", false)},
		{"504", response{status: 504}, 0, with(retrying(5*time.Second), "HTTP 504", true)},
		{"504 Retry-After", response{status: 504, retryAfter: 30 * time.Second}, 0, with(retrying(30*time.Second), "HTTP 504", true)},
		{"500 Retry-After", response{status: 500, retryAfter: 30 * time.Second}, 0, with(retrying(30*time.Second), "HTTP 500", false)},
		{"timeout", response{err: timeout}, 0, with(retrying(5*time.Second), timeout.Error(), false)},
		{"network error", response{err: refused}, 0, with(retrying(5*time.Second), refused.Error(), false)},
		{"an error beats a 2xx status", response{status: 200, err: timeout}, 0, with(retrying(5*time.Second), timeout.Error(), false)},
		{"an error beats a 429 status", response{status: 429, err: timeout}, 0, with(retrying(5*time.Second), timeout.Error(), false)},
		{"last attempt exhausts the schedule", response{status: 500}, 2, with(failed, "HTTP 500", false)},
		{"last attempt ignores Retry-After", response{status: 503, retryAfter: time.Second}, 2, with(failed, "HTTP 503", false)},
		{"last attempt still pushes back", response{status: 429}, 2, with(failed, "HTTP 429", true)},
		{"last attempt timing out", response{err: timeout}, 2, with(failed, timeout.Error(), false)},
		{"past the schedule", response{status: 500}, 7, with(failed, "HTTP 500", false)},

		// The receiver's webhook-delivery answer.
		{"abort stops retrying", response{status: 422, header: deliveryHeader("abort")}, 0, aborted("HTTP 422; the receiver answered webhook-delivery: abort", "")},
		{"Svix's abort-message", response{status: 400, header: deliveryHeader("abort-message")}, 0, aborted("HTTP 400; the receiver answered webhook-delivery: abort", "")},
		{"abort with a 2xx is a success", response{status: 200, header: deliveryHeader("abort")}, 0, succeeded},
		{"abort with 410 still stops", response{status: 410, header: deliveryHeader("abort")}, 0, aborted("HTTP 410; the receiver answered webhook-delivery: abort", "")},
		{"disable after a failure", response{status: 500, header: deliveryHeader("disable")}, 0, aborted("HTTP 500; the receiver answered webhook-delivery: disable", disableReason)},
		{"disable after a success", response{status: 200, header: deliveryHeader("Disable")}, 0, func() outcome { o := succeeded; o.disableEndpoint = disableReason; return o }()},
		{"an unknown directive changes nothing", response{status: 500, header: deliveryHeader("later")}, 0, with(retrying(5*time.Second), "HTTP 500", false)},
		{"a transport error has no directive", response{err: refused, header: deliveryHeader("abort")}, 0, with(retrying(5*time.Second), refused.Error(), false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classify(tt.resp, tt.step, p, now)
			if g, w := describe(got), describe(tt.want); g != w {
				t.Errorf("classify(%d, %v, step %d):\n got %s\nwant %s", tt.resp.status, tt.resp.err, tt.step, g, w)
			}
			if got.nextAttemptAt != nil && got.nextAttemptAt.Location() != time.UTC {
				t.Errorf("next attempt at %s, want UTC", got.nextAttemptAt)
			}
		})
	}
}

// describe spells out an outcome, its retry time as an instant, for comparison.
func describe(o outcome) string {
	next := "none"
	if o.nextAttemptAt != nil {
		next = o.nextAttemptAt.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("{err %q attempt %s status %s next %s failed %t disable %q throttled %t timed out %t unsent %t}",
		o.errText, o.attempt, o.status, next, o.endpointFailed, o.disableEndpoint, o.throttled, o.timedOut, o.unsent)
}

// deliveryHeader is a response header with a webhook-delivery directive.
func deliveryHeader(v string) http.Header {
	return http.Header{"Webhook-Delivery": {v}}
}

// TestClassifyUnsent covers attempts that made no request: a cancelled delivery, a
// script error (fails at once) and a script that ran out of time (retried), none of
// which counts against the endpoint.
func TestClassifyUnsent(t *testing.T) {
	p := Policy{Schedule: []time.Duration{5 * time.Second}, MaxRetryAfter: time.Hour}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	next := now.Add(5 * time.Second)
	threw := &transform.Error{Kind: transform.KindRuntime, Line: 2, Message: "Error: boom"}
	slow := &transform.Error{Kind: transform.KindTimeout, Message: "the script ran longer than the time limit"}
	tests := []struct {
		name string
		resp response
		step int
		want outcome
	}{
		{"cancelled", response{unsent: true}, 0,
			outcome{unsent: true, errText: cancelledText, status: domain.DeliveryCancelled, attempt: domain.OutcomeCancelled}},
		{"threw", response{unsent: true, err: threw}, 0,
			outcome{unsent: true, errText: threw.Error(), status: domain.DeliveryFailed, attempt: domain.OutcomeFailed}},
		{"timed out", response{unsent: true, err: slow, timedOut: true}, 0,
			outcome{unsent: true, timedOut: true, errText: slow.Error(), status: domain.DeliveryPending, attempt: domain.OutcomeRetrying, nextAttemptAt: &next}},
		{"timed out, schedule spent", response{unsent: true, err: slow, timedOut: true}, 1,
			outcome{unsent: true, timedOut: true, errText: slow.Error(), status: domain.DeliveryFailed, attempt: domain.OutcomeFailed}},
	}
	for _, tt := range tests {
		if g, w := describe(classify(tt.resp, tt.step, p, now)), describe(tt.want); g != w {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, g, w)
		}
	}
}
