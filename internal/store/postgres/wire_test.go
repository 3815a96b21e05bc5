package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// wire counts what a pool's connections send to PostgreSQL, from the protocol messages
// themselves (so nothing pgx does unseen escapes it), and, with a pgx tracer, which
// statements those were. A round trip is a Sync or a simple Query message: after each the
// client waits for the server's ReadyForQuery; a pgx.Batch sends one Sync for all its
// statements. Executes and simple queries are statements run; Parses are statements
// prepared (pgx prepares each on first use on a connection).
type wire struct {
	mu       sync.Mutex
	c        wireCounts
	trips    []string // each round trip pgx made, with its statements
	notifies int      // pg_notify statements answered
}

// wireCounts is what connections sent.
type wireCounts struct {
	RoundTrips, Statements, Parses, Pings int
}

func (a wireCounts) sub(b wireCounts) wireCounts {
	return wireCounts{a.RoundTrips - b.RoundTrips, a.Statements - b.Statements, a.Parses - b.Parses, a.Pings - b.Pings}
}

// configure installs w on a pool's configuration. Pools ping a connection idle for over
// a second before handing it out (an extra round trip that only an idle node pays):
// the counting pool does not, so that counts do not depend on the machine's speed.
func (w *wire) configure(cfg *pgxpool.Config) {
	cfg.ConnConfig.AfterNetConnect = func(ctx context.Context, _ *pgconn.Config, c net.Conn) (net.Conn, error) {
		return &wireConn{Conn: c, w: w}, nil
	}
	cfg.ConnConfig.Tracer = w
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
}

func (w *wire) counts() (wireCounts, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c, w.notifies
}

// since returns the round trips pgx made since the n-th.
func (w *wire) since(n int) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.trips[n:]...)
}

func (w *wire) tripCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.trips)
}

func (w *wire) message(typ byte, body []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch typ {
	case 'S':
		w.c.RoundTrips++
	case 'Q':
		if bytes.HasPrefix(body, []byte("-- ping")) {
			w.c.Pings++
			return
		}
		w.c.RoundTrips++
		w.c.Statements++
	case 'E':
		w.c.Statements++
	case 'P':
		w.c.Parses++
	}
}

// TraceQueryStart records a statement sent alone: one round trip.
func (w *wire) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.trips = append(w.trips, summary(d.SQL))
	if strings.Contains(d.SQL, "pg_notify") {
		ctx = context.WithValue(ctx, notifyKey{}, true)
	}
	return ctx
}

type notifyKey struct{}

// TraceQueryEnd counts the notifications sent (asynchronously, by the notify loop).
func (w *wire) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryEndData) {
	if ctx.Value(notifyKey{}) != nil {
		w.mu.Lock()
		w.notifies++
		w.mu.Unlock()
	}
}

// TraceBatchStart records a batch: one round trip for all its statements.
func (w *wire) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	var s []string
	for _, q := range d.Batch.QueuedQueries {
		s = append(s, summary(q.SQL))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.trips = append(w.trips, strings.Join(s, " + "))
	return ctx
}

func (w *wire) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (w *wire) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// summary shortens a statement to its first words.
func summary(sql string) string {
	f := strings.Fields(sql)
	if len(f) > 5 {
		f = f[:5]
	}
	return "[" + strings.Join(f, " ") + "]"
}

// wireConn passes a connection's traffic through, parsing the messages the client sends.
type wireConn struct {
	net.Conn
	w       *wire
	started bool   // the untyped startup message was sent
	buf     []byte // a message not yet complete
}

func (c *wireConn) Write(p []byte) (int, error) {
	c.scan(p)
	return c.Conn.Write(p)
}

func (c *wireConn) scan(p []byte) {
	c.buf = append(c.buf, p...)
	for {
		if !c.started { // StartupMessage: a length, no type byte
			if len(c.buf) < 4 {
				return
			}
			n := int(binary.BigEndian.Uint32(c.buf))
			if len(c.buf) < n {
				return
			}
			c.buf, c.started = c.buf[n:], true
			continue
		}
		if len(c.buf) < 5 {
			return
		}
		n := 1 + int(binary.BigEndian.Uint32(c.buf[1:]))
		if len(c.buf) < n {
			return
		}
		c.w.message(c.buf[0], c.buf[5:n])
		c.buf = c.buf[n:]
	}
}

func (c wireCounts) String() string {
	return fmt.Sprintf("%d round trips, %d statements, %d prepared", c.RoundTrips, c.Statements, c.Parses)
}
