package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

// JSON encodes a map of strings as JSON text ({} for nil), as every dialect stores maps.
func JSON(m map[string]string) string {
	b, err := json.Marshal(NonNilMap(m))
	if err != nil {
		panic(fmt.Sprintf("sqlstore: encode %T: %v", m, err)) // maps of strings always encode
	}
	return string(b)
}

// NonNilMap returns m, or an empty map for nil.
func NonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// NonNil returns l, or an empty list for nil.
func NonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// NullString maps "" to NULL.
func NullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// utcPtr returns *t in UTC, or nil.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// TimeBounds turns a TimeRange into two arguments of d; open bounds become the first
// and the last day of the common era's first ten thousand years.
func TimeBounds(d Dialect, r store.TimeRange) (since, until any) {
	s, u := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	if !r.Since.IsZero() {
		s = r.Since
	}
	if !r.Until.IsZero() {
		u = r.Until
	}
	return d.Time(s), d.Time(u)
}

// pageSQL completes a query whose WHERE clause uses n parameters into one page of it,
// newest first: the cursor is parameter n+1 and the limit n+2.
func pageSQL(query string, n int) string {
	cursor, limit := "$"+strconv.Itoa(n+1), "$"+strconv.Itoa(n+2)
	return query + ` AND (` + cursor + ` = '' OR id < ` + cursor + `) ORDER BY id DESC LIMIT ` + limit
}

// list reads one page of records with a query built by pageSQL from args.
func list[T any](ctx context.Context, r Reader, query string, args []any, p store.Page, scan func(Row) (T, error), id func(T) string) ([]T, string, error) {
	limit := store.PageLimit(p)
	rows, err := r.Query(ctx, pageSQL(query, len(args)), append(args, p.Cursor, limit+1)...)
	items, err := Collect(rows, err, scan)
	if err != nil {
		return nil, "", err
	}
	items, next := store.TrimPage(items, limit, id)
	return items, next, nil
}
