// Package delivery is herald's delivery engine: it takes due deliveries from the store's
// queue, sends them as signed HTTP requests within per-endpoint limits, and records the
// outcome with the retry that follows.
package delivery

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultSchedule returns the delay before each retry after the first attempt: 5 s, 5 min,
// 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h — ten attempts over about three and a half days.
func DefaultSchedule() []time.Duration {
	return []time.Duration{
		5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
		10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour,
	}
}

// Policy decides when a failed delivery is tried again.
type Policy struct {
	// Schedule holds the delay before retry 1, 2, ...; after the last one the delivery fails.
	Schedule []time.Duration
	// Jitter spreads each delay by up to ± this fraction (0.2 = ±20%) so that retries of a
	// burst do not arrive together.
	Jitter float64
	// MaxRetryAfter bounds how far a Retry-After header may push a retry (default 1 h);
	// a Retry-After shorter than the scheduled delay is not honoured.
	MaxRetryAfter time.Duration
}

// DefaultPolicy returns the Standard Webhooks schedule with ±20% jitter.
func DefaultPolicy() Policy {
	return Policy{Schedule: DefaultSchedule(), Jitter: 0.2, MaxRetryAfter: time.Hour}
}

// ParseSchedule parses a comma-separated list of durations such as "5s,5m,30m,2h".
func ParseSchedule(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := time.ParseDuration(part)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("retry schedule %q: %q is not a duration", s, part)
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("retry schedule %q is empty", s)
	}
	return out, nil
}

// Next returns when to retry after the failed attempt number step (1 = the first attempt
// of this round), or false when the schedule is exhausted. retryAfter is the receiver's
// Retry-After, zero if none.
func (p Policy) Next(step int, now time.Time, retryAfter time.Duration) (time.Time, bool) {
	if step < 1 || step > len(p.Schedule) {
		return time.Time{}, false
	}
	delay := p.Schedule[step-1]
	if p.Jitter > 0 && delay > 0 {
		spread := float64(delay) * p.Jitter
		delay += time.Duration((rand.Float64()*2 - 1) * spread)
	}
	if retryAfter > delay {
		limit := p.MaxRetryAfter
		if limit <= 0 {
			limit = time.Hour
		}
		delay = max(delay, min(retryAfter, limit))
	}
	return now.Add(delay), true
}

// retryAfter parses a Retry-After header (seconds or an HTTP date) relative to now.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, 7*24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
