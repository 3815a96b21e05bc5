package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The hot path's transactions are pipelined: each step of a transaction is one pgx.Batch,
// sent in one round trip, and BEGIN rides in the round trip of the first step, COMMIT in
// that of the last. A transaction of k dependent steps costs k round trips instead of
// k+2 (k+3 with relaxed durability, whose setting rides along too). A transaction of one
// step needs neither: a batch sent outside a transaction ends with a single Sync, so its
// statements run in one implicit transaction that commits, or rolls back, as a whole.
//
// A COMMIT sent with the last step commits whatever the caller then makes of its
// results: the last step holds only statements whose answers cannot fail to be read.
// If the connection breaks meanwhile (ctx ends), the outcome is unknown, as when a
// COMMIT alone is lost: a claim committed unseen holds its deliveries until their lease
// ends or their owner releases its leases (which a stopping engine does).

// relaxSQL makes a transaction commit without waiting for its WAL flush (see Store.write).
const relaxSQL = `SELECT set_config('synchronous_commit', 'off', true)`

// pipe is a pipelined transaction on one pooled connection.
type pipe struct {
	conn    *pgxpool.Conn
	relaxed bool
	begun   bool // BEGIN was sent
	ended   bool // COMMIT was sent, or the only step ran in an implicit transaction
}

// send sends b in one round trip, as the transaction's last step when last is set. The
// caller reads every answer of b, then closes the results, which reports the COMMIT's.
func (p *pipe) send(ctx context.Context, b *pgx.Batch, last bool) pgx.BatchResults {
	full := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(b.QueuedQueries)+3)}
	pre := 0
	if !p.begun && !p.ended {
		if !last {
			full.Queue("BEGIN")
			p.begun = true
			pre++
		}
		if p.relaxed {
			full.Queue(relaxSQL)
			pre++
		}
	}
	full.QueuedQueries = append(full.QueuedQueries, b.QueuedQueries...)
	commit := last && p.begun
	if commit {
		full.Queue("COMMIT")
	}
	if last {
		p.ended = true
	}
	br := p.conn.SendBatch(ctx, full)
	for i := 0; i < pre; i++ {
		if _, err := br.Exec(); err != nil {
			return &pipeResults{BatchResults: br, err: err}
		}
	}
	return &pipeResults{BatchResults: br, commit: commit}
}

// pipeResults are a step's answers, without those of the statements pipe adds.
type pipeResults struct {
	pgx.BatchResults
	commit bool
	err    error // BEGIN failed
}

func (r *pipeResults) Exec() (pgconn.CommandTag, error) {
	if r.err != nil {
		return pgconn.CommandTag{}, r.err
	}
	return r.BatchResults.Exec()
}

func (r *pipeResults) Query() (pgx.Rows, error) {
	if r.err != nil {
		return nil, r.err
	}
	return r.BatchResults.Query()
}

func (r *pipeResults) QueryRow() pgx.Row {
	if r.err != nil {
		return errRow{r.err}
	}
	return r.BatchResults.QueryRow()
}

// Close reads what the caller left unread and reports the first error, COMMIT's included.
func (r *pipeResults) Close() error {
	err := r.err
	if r.commit && err == nil {
		var tag pgconn.CommandTag
		if tag, err = r.BatchResults.Exec(); err == nil && tag.String() == "ROLLBACK" {
			err = pgx.ErrTxCommitRollback
		}
	}
	if cerr := r.BatchResults.Close(); err == nil {
		err = cerr
	}
	return err
}

// errRow is a row that fails to scan.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// pipelined runs fn as one pipelined transaction, again when PostgreSQL aborts it for a
// deadlock or a serialisation failure (as write does). fn must reset its results when it
// starts.
func (s *Store) pipelined(ctx context.Context, relaxed bool, fn func(p *pipe) error) error {
	return s.retrying(ctx, func() error { return s.tryPipe(ctx, relaxed, fn) })
}

// tryPipe runs fn once on a pooled connection. A transaction that fn began and did not
// end commits in a round trip of its own; one that failed rolls back.
func (s *Store) tryPipe(ctx context.Context, relaxed bool, fn func(p *pipe) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	p := &pipe{conn: conn, relaxed: relaxed}
	err = fn(p)
	if err == nil && p.begun && !p.ended {
		err = p.send(ctx, &pgx.Batch{}, true).Close()
	}
	if err != nil && conn.Conn().PgConn().TxStatus() != 'I' {
		// If this fails too, the pool discards the connection, still in its transaction.
		conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
	}
	return err
}
