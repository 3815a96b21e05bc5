package api

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Sign-in limits: per client address, 10 attempts a minute with bursts of 5, for the
// console sign-in and portal link exchange together; at most limiterSize addresses
// are remembered.
const (
	signInEvery = 6 * time.Second
	signInBurst = 5
	limiterSize = 10000
)

// ipLimiter rate-limits requests per client IP address, remembering a bounded number
// of addresses; it is safe for concurrent use.
type ipLimiter struct {
	every time.Duration
	burst int
	size  int
	now   func() time.Time

	mu      sync.Mutex
	clients map[string]*rate.Limiter
}

func newIPLimiter(every time.Duration, burst, size int, now func() time.Time) *ipLimiter {
	return &ipLimiter{every: every, burst: burst, size: size, now: now, clients: make(map[string]*rate.Limiter)}
}

// allow takes one token of the request's client address, or answers why not: 429 with
// Retry-After.
func (l *ipLimiter) allow(w http.ResponseWriter, r *http.Request) error {
	ip := clientIP(r)
	now := l.now()
	l.mu.Lock()
	lim, ok := l.clients[ip]
	if !ok {
		if len(l.clients) >= l.size {
			l.forgetIdle(now)
		}
		lim = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.clients[ip] = lim
	}
	res := lim.ReserveN(now, 1)
	delay := res.DelayFrom(now)
	if delay > 0 {
		res.CancelAt(now) // a refused attempt costs nothing more
	}
	l.mu.Unlock()
	if delay <= 0 {
		return nil
	}
	secs := int(math.Ceil(delay.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return errorf(http.StatusTooManyRequests, codeRateLimited, "too many sign-in attempts from %s; try again in %d seconds", ip, secs)
}

// forgetIdle drops the addresses whose limiter is full again (they would start afresh
// anyway), or every address when none is idle: a flood of addresses must not grow the
// map without bound. The caller holds l.mu.
func (l *ipLimiter) forgetIdle(now time.Time) {
	for ip, lim := range l.clients {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.clients, ip)
		}
	}
	if len(l.clients) >= l.size {
		clear(l.clients)
	}
}

// clientIP returns the address the request came from; a proxy's X-Forwarded-For is not
// trusted, since any client can send one.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
