package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of the connection and request limits (see docs/delivery.md, "Limits").
const (
	DefaultMaxConnections = 4096
	DefaultHeaderTimeout  = 10 * time.Second
	DefaultBodyTimeout    = 60 * time.Second
	DefaultIdleTimeout    = 120 * time.Second
)

// shedSample bounds how many open connections the limiter looks at to pick one to shed,
// so that a flood of new connections costs a bounded amount of work each. Go's map
// iteration order is random, so the sample is too.
const shedSample = 256

// connLimiter is a net.Listener that keeps at most max connections open. A connection
// that arrives at the limit takes the place of the one that has been waiting longest on
// its client (for request headers, between requests, or for a request body): a slow or
// idle client loses its connection, and a health check or a publish still gets in. When
// every open connection is busy in a handler, the new one is answered 503 and closed.
type connLimiter struct {
	net.Listener
	max     int
	log     *slog.Logger
	now     func() time.Time
	metrics *connMetrics

	mu    sync.Mutex
	conns map[*limitedConn]struct{}
}

// connMetrics counts what the limiter does.
type connMetrics struct {
	open    prometheus.GaugeFunc
	shed    prometheus.Counter
	refused prometheus.Counter
}

func newConnLimiter(ln net.Listener, max int, log *slog.Logger, reg prometheus.Registerer) *connLimiter {
	l := &connLimiter{Listener: ln, max: max, log: log, now: time.Now, conns: make(map[*limitedConn]struct{})}
	l.metrics = &connMetrics{
		open: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "herald_http_connections_open", Help: "HTTP connections open now.",
		}, func() float64 { return float64(l.open()) }),
		shed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_http_connections_shed_total", Help: "Connections closed at the limit because their client was the slowest.",
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_http_connections_refused_total", Help: "Connections answered 503 at the limit because every open one was busy.",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{l.metrics.open, l.metrics.shed, l.metrics.refused} {
			if err := reg.Register(c); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
				log.Warn("server: register connection metrics", "err", err)
			}
		}
	}
	return l
}

// open returns the number of connections open now.
func (l *connLimiter) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// Accept implements net.Listener.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		lc := &limitedConn{Conn: c, l: l, waiting: true, since: l.now()}
		l.mu.Lock()
		var victim *limitedConn
		if len(l.conns) >= l.max {
			if victim = l.slowestLocked(); victim == nil {
				l.mu.Unlock()
				l.metrics.refused.Inc()
				refuse(c)
				continue
			}
			delete(l.conns, victim)
		}
		l.conns[lc] = struct{}{}
		l.mu.Unlock()
		if victim != nil {
			l.metrics.shed.Inc()
			victim.Conn.Close() // its reader fails; the server then closes it through limitedConn
		}
		return lc, nil
	}
}

// slowestLocked returns the connection of a sample that has been waiting on its client
// the longest, or nil when none in the sample is waiting.
func (l *connLimiter) slowestLocked() *limitedConn {
	var victim *limitedConn
	n := 0
	for c := range l.conns {
		if c.waiting && (victim == nil || c.since.Before(victim.since)) {
			victim = c
		}
		if n++; n >= shedSample && victim != nil {
			break
		}
	}
	return victim
}

// refuse answers a connection that cannot be served 503 and closes it.
func refuse(c net.Conn) {
	_ = c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	_, _ = io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/json\r\n"+
		"Connection: close\r\nContent-Length: 84\r\n\r\n"+
		`{"error":{"code":"unavailable","message":"too many connections; retry in a second"}}`)
	_ = c.Close()
}

// connState is the http.Server's ConnState hook: a connection waits on its client while
// it reads request headers (new or idle), and not while a handler runs.
func (l *connLimiter) connState(c net.Conn, st http.ConnState) {
	lc, ok := c.(*limitedConn)
	if !ok {
		return
	}
	switch st {
	case http.StateNew, http.StateIdle:
		lc.setWaiting(true)
	case http.StateActive, http.StateHijacked:
		lc.setWaiting(false)
	}
}

// limitedConn is a connection counted by a connLimiter.
type limitedConn struct {
	net.Conn
	l    *connLimiter
	once sync.Once

	// Guarded by l.mu.
	waiting bool      // the server waits on the client
	since   time.Time // when it started to
}

// setWaiting records whether the server waits on the client now.
func (c *limitedConn) setWaiting(waiting bool) {
	c.l.mu.Lock()
	if c.waiting != waiting {
		c.waiting, c.since = waiting, c.l.now()
	}
	c.l.mu.Unlock()
}

// Close implements net.Conn.
func (c *limitedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

// connKey is the context key of a request's *limitedConn.
type connKey struct{}

// connContext is the http.Server's ConnContext hook.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if lc, ok := c.(*limitedConn); ok {
		return context.WithValue(ctx, connKey{}, lc)
	}
	return ctx
}

// guardBody gives a request body a read deadline (timeout, when positive) and marks the
// connection as waiting on its client until the body is read, so that a client that
// trickles its body is cut off and, at the connection limit, shed first. The deadline is
// lifted once the body is read to its end, so that it cannot cut a long answer; a body
// left unread keeps it, so that the server's discarding the rest is bounded too.
func guardBody(next http.Handler, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		lc, _ := r.Context().Value(connKey{}).(*limitedConn)
		rc := http.NewResponseController(w)
		if timeout > 0 {
			_ = rc.SetReadDeadline(time.Now().Add(timeout)) // ErrNotSupported outside a real server
		}
		if lc != nil {
			lc.setWaiting(true)
		}
		r.Body = &guardedBody{ReadCloser: r.Body, conn: lc, rc: rc, deadline: timeout > 0}
		next.ServeHTTP(w, r)
	})
}

// guardedBody is a request body under guardBody.
type guardedBody struct {
	io.ReadCloser
	conn     *limitedConn
	rc       *http.ResponseController
	deadline bool
	done     bool
}

// Read implements io.Reader; at the end of the body it lifts the deadline and the
// waiting mark.
func (b *guardedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		if b.deadline {
			_ = b.rc.SetReadDeadline(time.Time{})
		}
		if b.conn != nil {
			b.conn.setWaiting(false)
		}
	}
	return n, err
}
