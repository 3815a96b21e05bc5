package sqlstore

import "time"

// Dialect is what differs between the SQL databases for the shared statements: how
// times and lists are stored, how a few expressions are written, and how constraint
// violations look. Maps are stored as JSON text by every dialect.
type Dialect interface {
	// Time encodes a time argument; NullTime encodes nil as NULL.
	Time(t time.Time) any
	NullTime(t *time.Time) any
	// List encodes a list of strings (event types, ids).
	List(l []string) any

	// ScanTime, ScanNullTime, ScanList and ScanMap return scan destinations that store a
	// column's value into dst. Times may come back in any zone, lists and maps nil:
	// the scanners normalise them.
	ScanTime(dst *time.Time) any
	ScanNullTime(dst **time.Time) any
	ScanList(dst *[]string) any
	ScanMap(dst *map[string]string) any

	// In returns a condition that column is one of the list encoded by List in param.
	In(column, param string) string
	// Epoch returns an expression of the whole seconds since 1970 of a time column.
	Epoch(column string) string
	// ForUpdate is the clause that locks the rows a SELECT reads until the commit, or ""
	// where writes are serialised anyway.
	ForUpdate() string

	// IsUnique reports whether err violates the unique constraint named as PostgreSQL
	// names it (apps_uid_key), or any when constraint is "".
	IsUnique(err error, constraint string) bool
	// IsForeignKey reports whether err violates a foreign key.
	IsForeignKey(err error) bool
}
