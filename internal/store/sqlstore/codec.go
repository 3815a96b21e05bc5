package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
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

// list reads one page of records, newest first, of a query whose WHERE clause uses
// the parameters args. The cursor condition is added only for a later page, so that the
// first page of a filtered list walks the filter's index from its newest entry.
func list[T any](ctx context.Context, r Reader, query string, args []any, p store.Page, scan func(Row) (T, error), id func(T) string) ([]T, string, error) {
	limit := store.PageLimit(p)
	if p.Cursor != "" {
		args = append(args, p.Cursor)
		query += ` AND id < $` + strconv.Itoa(len(args))
	}
	args = append(args, limit+1)
	rows, err := r.Query(ctx, query+` ORDER BY id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	items, err := Collect(rows, err, scan)
	if err != nil {
		return nil, "", err
	}
	items, next := store.TrimPage(items, limit, id)
	return items, next, nil
}

// where builds the WHERE clause of a list from the conditions its filter sets, and
// only those: a condition such as ($2 = ” OR type = $2) hides the column from the
// query planner, which then cannot use its index.
type where struct {
	conds []string
	args  []any
}

// add adds a condition whose one parameter is written $? and has the value arg.
func (w *where) add(cond string, arg any) {
	w.args = append(w.args, arg)
	w.conds = append(w.conds, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(w.args))))
}

// eq adds column = v unless v is empty.
func (w *where) eq(column, v string) {
	if v != "" {
		w.add(column+` = $?`, v)
	}
}

// timeRange adds the bounds of r that are set, on column.
func (w *where) timeRange(d Dialect, column string, r store.TimeRange) {
	if !r.Since.IsZero() {
		w.add(column+` >= $?`, d.Time(r.Since))
	}
	if !r.Until.IsZero() {
		w.add(column+` < $?`, d.Time(r.Until))
	}
}

// sql returns the clause, WHERE and the conditions joined by AND.
func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ` WHERE true`
	}
	return ` WHERE ` + strings.Join(w.conds, ` AND `)
}
