package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlstore"
)

func (s *Store) inTx(ctx context.Context, fn func() error) error {
	if _, err := s.writeC.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		_, _ = s.writeC.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}
	_, err := s.writeC.ExecContext(ctx, "COMMIT")
	if err != nil {
		_, _ = s.writeC.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	}
	return err
}

// do runs fn in the writer goroutine, inside a transaction shared with other callers'
// writes, and returns once that transaction committed (or fn failed and was rolled back
// to its savepoint).
func (s *Store) do(ctx context.Context, fn func(w *writer) error) error {
	return s.enqueue(&writeOp{ctx: ctx, fn: fn, done: make(chan error, 1)})
}

// doRelaxed is do for bookkeeping writes that may skip the fsync (see writeOp.relaxed).
func (s *Store) doRelaxed(ctx context.Context, fn func(w *writer) error) error {
	return s.enqueue(&writeOp{ctx: ctx, fn: fn, done: make(chan error, 1), relaxed: true})
}

// enqueue hands an op to the writer and waits for its outcome.
func (s *Store) enqueue(op *writeOp) error {
	ctx := op.ctx
	// The read lock orders sends before Close: once Close holds the write lock, no op can
	// be queued after the writer's final drain.
	s.closeMu.RLock()
	if s.isClosed {
		s.closeMu.RUnlock()
		return store.ErrClosed
	}
	select {
	case s.ops <- op:
		s.closeMu.RUnlock()
	case <-ctx.Done():
		s.closeMu.RUnlock()
		return ctx.Err()
	}
	// Once queued, the op runs (or fails) promptly; wait for the commit even if ctx ends,
	// so that a caller never mistakes a committed write for a failed one.
	return <-op.done
}

func (s *Store) writeLoop() {
	defer close(s.done)
	batch := make([]*writeOp, 0, s.opts.MaxBatch)
	for {
		batch = batch[:0]
		select {
		case op := <-s.ops:
			batch = append(batch, op)
		case <-s.quit:
			// Commit whatever is still queued, then stop.
			for {
				if batch = sqlstore.FillBatch(batch, s.ops, s.opts.MaxBatch); len(batch) == 0 {
					return
				}
				s.commit(batch)
				batch = batch[:0]
			}
		}
		batch = sqlstore.FillBatch(batch, s.ops, s.opts.MaxBatch)
		s.txs++
		s.opsN += len(batch)
		s.commit(batch)
	}
}

// commit runs a batch of ops in one transaction. The fast path runs them back to back;
// if one fails, the transaction is rolled back and the batch re-run with a savepoint
// around each op, so that one op's failure does not undo the others. Ops are written to
// be re-runnable: they reset their results when they start.
func (s *Store) commit(batch []*writeOp) {
	errs := make([]error, len(batch))
	seq := s.seq
	if err := s.runBatch(batch, errs, false); err == nil {
		if err := s.control("COMMIT"); err == nil {
			s.finish(batch, errs)
			return
		}
	}
	_ = s.control("ROLLBACK")
	s.seq = seq
	clear(errs)
	if err := s.runBatch(batch, errs, true); err != nil {
		_ = s.control("ROLLBACK")
		s.seq = seq
		for i := range errs {
			errs[i] = fmt.Errorf("sqlite: %w", err)
		}
		s.finish(batch, errs)
		return
	}
	if err := s.control("COMMIT"); err != nil {
		_ = s.control("ROLLBACK")
		s.seq = seq
		for i := range errs {
			errs[i] = fmt.Errorf("sqlite: commit: %w", err)
		}
	}
	s.finish(batch, errs)
}

// runBatch runs the ops inside BEGIN. Without savepoints it stops at the first failing
// op and returns its error; with savepoints it records each op's error in errs and
// returns only errors of the transaction itself.
func (s *Store) runBatch(batch []*writeOp, errs []error, savepoints bool) error {
	if err := s.setSync(batch); err != nil {
		return err
	}
	if err := s.control("BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	w := &writer{s: s}
	clear(s.appCache)
	for i, op := range batch {
		if err := op.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if !op.publish {
			clear(s.appCache) // it may change endpoints
		}
		if savepoints {
			if err := s.control("SAVEPOINT op"); err != nil {
				return err
			}
		}
		savedSeq := s.seq
		w.ctx = op.ctx
		err := op.fn(w)
		if err == nil {
			if savepoints {
				if err := s.control("RELEASE op"); err != nil {
					return err
				}
			}
			continue
		}
		if !savepoints {
			return err
		}
		errs[i] = err
		s.seq = savedSeq
		clear(s.appCache)
		if rerr := s.control("ROLLBACK TO op"); rerr != nil {
			// SQLite undoes the whole transaction on some errors (SQLITE_FULL), taking
			// the savepoint with it: keep the error that caused it.
			return fmt.Errorf("%w (rolling back: %v)", err, rerr)
		}
		if err := s.control("RELEASE op"); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) finish(batch []*writeOp, errs []error) {
	for i, op := range batch {
		op.done <- errs[i]
	}
}

// setSync picks the durability of the next commit: the configured level if any op in the
// batch needs it, NORMAL if all are relaxed bookkeeping.
func (s *Store) setSync(batch []*writeOp) error {
	want := "NORMAL"
	for _, op := range batch {
		if !op.relaxed {
			want = s.opts.Synchronous
			break
		}
	}
	if want == s.syncMode {
		return nil
	}
	if err := s.control("PRAGMA synchronous = " + want); err != nil {
		return fmt.Errorf("synchronous %s: %w", want, err)
	}
	s.syncMode = want
	return nil
}

// control runs a transaction-control statement, prepared once.
func (s *Store) control(query string) error {
	w := &writer{s: s, ctx: context.Background()}
	_, err := w.exec(query)
	return err
}

// writer gives ops prepared statements on the write connection.
type writer struct {
	s   *Store
	ctx context.Context
}

func (w *writer) stmt(query string, args []any) (*sql.Stmt, error) {
	if w.s.observe != nil {
		w.s.observe(query, args)
	}
	if st, ok := w.s.stmts[query]; ok {
		return st, nil
	}
	st, err := w.s.writeC.PrepareContext(context.Background(), query)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", query, err)
	}
	w.s.stmts[query] = st
	return st, nil
}

func (w *writer) exec(query string, args ...any) (sql.Result, error) {
	st, err := w.stmt(query, args)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(w.ctx, args...)
}

func (w *writer) query(query string, args ...any) (sqlstore.Rows, error) {
	st, err := w.stmt(query, args)
	if err != nil {
		return nil, err
	}
	return wrapRows(st.QueryContext(w.ctx, args...))
}

func (w *writer) queryRow(query string, args ...any) *sql.Row {
	st, err := w.stmt(query, args)
	if err != nil {
		return w.s.writeC.QueryRowContext(w.ctx, "SELECT raise(ABORT, ?)", err.Error())
	}
	return st.QueryRowContext(w.ctx, args...)
}

// execN runs an update and returns the number of rows it changed.
func (w *writer) execN(query string, args ...any) (int64, error) {
	res, err := w.exec(query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
