package sqlite

import (
	"context"
	"database/sql"

	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlstore"
)

// rows adapts *sql.Rows to sqlstore.Rows.
type rows struct{ *sql.Rows }

func (r rows) Close() { r.Rows.Close() }

// wrapRows adapts a query's answer.
func wrapRows(r *sql.Rows, err error) (sqlstore.Rows, error) {
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}

// db is the Store as sqlstore sees it: reads on the read-only pool, writes on the writer.
type db struct{ s *Store }

func (d db) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	if d.s.observe != nil {
		d.s.observe(query, args)
	}
	return wrapRows(d.s.read.QueryContext(ctx, query, args...))
}

func (d db) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	if d.s.observe != nil {
		d.s.observe(query, args)
	}
	return d.s.read.QueryRowContext(ctx, query, args...)
}

func (d db) Write(ctx context.Context, relaxed bool, fn func(q sqlstore.Querier) error) error {
	return d.s.enqueue(&writeOp{ctx: ctx, fn: func(w *writer) error { return fn(w) }, done: make(chan error, 1), relaxed: relaxed})
}

// Query, QueryRow and Exec make the writer a sqlstore.Querier; they run in the op's
// context, which is the one given.

func (w *writer) Query(_ context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return w.query(query, args...)
}

func (w *writer) QueryRow(_ context.Context, query string, args ...any) sqlstore.Row {
	return w.queryRow(query, args...)
}

func (w *writer) Exec(_ context.Context, query string, args ...any) (int64, error) {
	return w.execN(query, args...)
}

// events passes the committed endpoint changes of this process to its watchers.
type events struct{ s *Store }

func (e events) EndpointsChanged(ids ...string) { e.s.feed.Publish(ids...) }

// WorkQueued does nothing: no other node shares the database.
func (events) WorkQueued() {}

// WatchEndpoints implements store.Store with an in-process feed: after the commit of a
// write that changes endpoints, their ids go to every watcher.
func (s *Store) WatchEndpoints(ctx context.Context) (<-chan string, error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.isClosed {
		return nil, store.ErrClosed
	}
	ch, _ := s.feed.Watch(ctx)
	return ch, nil
}
