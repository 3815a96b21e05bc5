package domain

import (
	"fmt"
	"strings"
	"time"
)

// Bounds of an endpoint's own retry schedule.
const (
	MaxRetrySchedule = 30                 // retries after the first attempt
	MinRetryDelay    = time.Second        // so a schedule cannot hammer a receiver
	MaxRetryDelay    = 7 * 24 * time.Hour // one step
	MaxRetrySpan     = 30 * 24 * time.Hour
)

// ParseRetrySchedule validates an endpoint's retry_schedule, the delays before retry
// 1, 2, ... written as Go durations (["5s", "1m", "10m", "1h"]); after the last one a
// delivery fails. An empty schedule means the server's.
func ParseRetrySchedule(steps []string) ([]time.Duration, error) {
	if len(steps) > MaxRetrySchedule {
		return nil, fieldErrorf("retry_schedule", "has %d steps; the most is %d", len(steps), MaxRetrySchedule)
	}
	out := make([]time.Duration, 0, len(steps))
	var total time.Duration
	for i, s := range steps {
		field := fmt.Sprintf("retry_schedule[%d]", i)
		d, err := time.ParseDuration(strings.TrimSpace(s))
		switch {
		case err != nil:
			return nil, fieldErrorf(field, "must be a duration such as 30s, 5m or 2h, not %q", s)
		case d < MinRetryDelay || d > MaxRetryDelay:
			return nil, fieldErrorf(field, "must be from %s to %s, not %s", MinRetryDelay, fmtDays(MaxRetryDelay), s)
		}
		total += d
		out = append(out, d)
	}
	if total > MaxRetrySpan {
		return nil, fieldErrorf("retry_schedule", "spans %s; the most is %s", fmtDays(total), fmtDays(MaxRetrySpan))
	}
	return out, nil
}

// FormatRetrySchedule writes a schedule back as durations ParseRetrySchedule reads.
func FormatRetrySchedule(schedule []time.Duration) []string {
	out := make([]string, len(schedule))
	for i, d := range schedule {
		out[i] = shortDuration(d)
	}
	return out
}

// shortDuration writes d without Go's trailing zero units ("1h0m0s" becomes "1h").
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// fmtDays writes a long duration in days and hours.
func fmtDays(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return shortDuration(d)
}

// DeliveryHeader is the response header a receiver sets to steer retries:
// "webhook-delivery: abort" stops retrying the message, "disable" disables the endpoint.
const DeliveryHeader = "Webhook-Delivery"

// Directive is what a receiver asked for with DeliveryHeader.
type Directive int

const (
	// DirectiveNone: the receiver asked for nothing; the answer is judged as usual.
	DirectiveNone Directive = iota
	// DirectiveAbort: do not retry this message to this endpoint. A failed attempt ends
	// the delivery as failed at once, and does not count toward disabling the endpoint,
	// which answered deliberately. It changes nothing about a 2xx.
	DirectiveAbort
	// DirectiveDisable: disable the endpoint (the receiver's own), whatever the status;
	// a failed delivery is not retried, a 2xx still counts as delivered.
	DirectiveDisable
)

// ParseDirective reads the value of a receiver's DeliveryHeader: "abort" (and
// Svix's "abort-message") or "disable", case-insensitively; anything else is
// DirectiveNone, so an unknown value never changes what happens.
func ParseDirective(value string) Directive {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "abort", "abort-message":
		return DirectiveAbort
	case "disable":
		return DirectiveDisable
	}
	return DirectiveNone
}

// String names the directive as a receiver writes it.
func (d Directive) String() string {
	switch d {
	case DirectiveAbort:
		return "abort"
	case DirectiveDisable:
		return "disable"
	}
	return ""
}
