package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/heraldhq/herald/internal/store"
)

// Row is one result row (*sql.Row, pgx.Row).
type Row interface {
	Scan(dest ...any) error
}

// Rows is a result set (a wrapped *sql.Rows, pgx.Rows).
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Reader runs queries.
type Reader interface {
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Querier runs statements inside a write transaction.
type Querier interface {
	Reader
	// Exec runs a statement and returns how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
}

// DB is a backend's connection as the core uses it.
type DB interface {
	// Reader reads outside any transaction.
	Reader
	// Write runs fn in a transaction that has committed when Write returns nil. fn may
	// run more than once and must reset its results when it starts. Relaxed writes are
	// bookkeeping that a crash may lose (see the backends).
	Write(ctx context.Context, relaxed bool, fn func(q Querier) error) error
}

// Collect scans every row of a query's answer with scan; err is the query's error.
func Collect[T any](rows Rows, err error, scan func(Row) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ScanString scans a row of one text column, for Collect.
func ScanString(row Row) (string, error) {
	var s string
	err := row.Scan(&s)
	return s, err
}

// exists runs a query of one boolean column.
func exists(ctx context.Context, r Reader, query string, args ...any) (bool, error) {
	var ok bool
	err := r.QueryRow(ctx, query, args...).Scan(&ok)
	return ok, err
}

// get scans the one row a query returns, or returns store.NotFound(what, id) when it
// returns none.
func get[T any](row Row, scan func(Row) (T, error), what, id string) (T, error) {
	v, err := scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return v, store.NotFound(what, id)
	}
	return v, err
}

// IsNoRows reports whether err says that a query returned no row.
func IsNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
