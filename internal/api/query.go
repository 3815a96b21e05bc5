package api

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

// List page sizes.
const (
	defaultLimit = 50
	maxLimit     = 1000
)

// query reads a request's query parameters, remembering the first problem and which
// parameters the route reads, so that done refuses the others.
type query struct {
	values url.Values
	err    *apiError
	known  map[string]bool
}

func newQuery(u *url.URL) *query {
	return &query{values: u.Query(), known: map[string]bool{}}
}

// fail records the first problem.
func (q *query) fail(e *apiError) {
	if q.err == nil {
		q.err = e
	}
}

// str returns the parameter's value, "" when absent; it may be given once.
func (q *query) str(name string) string {
	q.known[name] = true
	v := q.values[name]
	switch len(v) {
	case 0:
		return ""
	case 1:
		return v[0]
	}
	q.fail(invalidQuery(name, "is given %d times; give it at most once", len(v)))
	return ""
}

// id returns the parameter as an id with the given prefix, "" when absent.
func (q *query) id(name, prefix string) string {
	v := q.str(name)
	if v != "" && !ids.Valid(prefix, v) {
		q.fail(invalidQuery(name, "must be a %s_ id, not %q", prefix, v))
		return ""
	}
	return v
}

// page returns the limit and cursor parameters; cursorPrefix is the id prefix of the
// listed records (cursors are record ids).
func (q *query) page(cursorPrefix string) store.Page {
	return q.pageOf(func(c string) bool { return ids.Valid(cursorPrefix, c) })
}

// pageQuery reads the query of a route whose only parameters are limit and cursor;
// cursorPrefix is the id prefix of the listed records.
func pageQuery(u *url.URL, cursorPrefix string) (store.Page, error) {
	q := newQuery(u)
	p := q.page(cursorPrefix)
	return p, q.done()
}

// pageOf returns the limit and cursor parameters; validCursor checks the cursor.
func (q *query) pageOf(validCursor func(string) bool) store.Page {
	p := store.Page{Limit: defaultLimit, Cursor: q.str("cursor")}
	if s := q.str("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			q.fail(invalidQuery("limit", "must be an integer from 1 to %d, not %q", maxLimit, s))
		} else {
			p.Limit = n
		}
	}
	if p.Cursor != "" && !validCursor(p.Cursor) {
		q.fail(invalidQuery("cursor", "must be the next_cursor of the previous page, not %q", p.Cursor))
		p.Cursor = ""
	}
	return p
}

// timeRange returns the since (inclusive) and until (exclusive) parameters.
func (q *query) timeRange() store.TimeRange {
	var r store.TimeRange
	r.Since = q.time("since")
	r.Until = q.time("until")
	if !r.Since.IsZero() && !r.Until.IsZero() && !r.Since.Before(r.Until) {
		q.fail(invalidQuery("until", "must be after since"))
	}
	return r
}

// time returns an RFC 3339 parameter, the zero time when absent.
func (q *query) time(name string) time.Time {
	s := q.str(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		q.fail(invalidQuery(name, "must be an RFC 3339 time such as 2026-11-26T12:00:00Z, not %q", s))
		return time.Time{}
	}
	return t.UTC()
}

// oneOf returns the parameter if it is one of allowed, "" when absent.
func (q *query) oneOf(name string, allowed ...string) string {
	s := q.str(name)
	if s == "" {
		return ""
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	q.fail(invalidQuery(name, "must be one of %s, not %q", strings.Join(allowed, ", "), s))
	return ""
}

// done returns the first problem, or nil. A parameter the route does not read is one:
// a misspelt filter would otherwise list everything.
func (q *query) done() error {
	if q.err != nil {
		return q.err
	}
	var unknown []string
	for name := range q.values {
		if !q.known[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		known := slices.Sorted(maps.Keys(q.known))
		return invalidQuery(unknown[0], "is not known here; this route reads %s", strings.Join(known, ", "))
	}
	return nil
}
