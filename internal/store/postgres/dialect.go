package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/heraldhq/herald/internal/store/sqlstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// dialect is PostgreSQL's sqlstore.Dialect: native timestamptz and text[] columns,
// which pgx scans itself.
type dialect struct{}

func (dialect) Time(t time.Time) any               { return t }
func (dialect) NullTime(t *time.Time) any          { return t }
func (dialect) List(l []string) any                { return l }
func (dialect) ScanTime(dst *time.Time) any        { return dst }
func (dialect) ScanNullTime(dst **time.Time) any   { return dst }
func (dialect) ScanList(dst *[]string) any         { return dst }
func (dialect) ScanMap(dst *map[string]string) any { return dst }
func (dialect) In(column, param string) string     { return column + ` = ANY(` + param + `)` }
func (dialect) Epoch(column string) string {
	return `CAST(FLOOR(EXTRACT(EPOCH FROM ` + column + `)) AS bigint)`
}
func (dialect) ForUpdate() string                    { return ` FOR UPDATE` }
func (dialect) IsUnique(err error, name string) bool { return isUnique(err, name) }
func (dialect) IsForeignKey(err error) bool          { return isForeignKey(err) }

// isUnique reports whether err violates the named unique constraint (any, if name is "").
func isUnique(err error, name string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && (name == "" || pgErr.ConstraintName == name)
}

// isForeignKey reports whether err violates a foreign key.
func isForeignKey(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}

// pgQuerier is what a pool and a transaction share.
type pgQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// conn adapts a pool or a transaction to sqlstore.Querier.
type conn struct{ q pgQuerier }

func (c conn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := c.q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return c.q.QueryRow(ctx, query, args...)
}

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := c.q.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

// db is the Store as sqlstore sees it: reads on the pool, writes in retried transactions.
type db struct {
	conn
	s *Store
}

func (d db) Write(ctx context.Context, relaxed bool, fn func(q sqlstore.Querier) error) error {
	return d.s.write(ctx, relaxed, func(tx pgx.Tx) error { return fn(conn{tx}) })
}

// events tells every node (this one too) what a committed write changed.
type events struct{ s *Store }

func (e events) EndpointsChanged(ids ...string) { e.s.notifyEndpoints(ids...) }
func (e events) WorkQueued()                    { e.s.requestNotify() }
