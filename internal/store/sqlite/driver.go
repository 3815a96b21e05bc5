package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"modernc.org/sqlite"
)

// The drivers Options.Driver names. Every build has DriverModernc; a build with
// `-tags sqlite_cgo` (and cgo enabled) also has DriverMattn and uses it by default.
const (
	DriverModernc = "modernc" // modernc.org/sqlite: SQLite translated to Go, no C compiler needed
	DriverMattn   = "mattn"   // github.com/mattn/go-sqlite3: SQLite's C code through cgo
)

// Drivers returns the SQLite drivers this build has, its default first.
func Drivers() []string {
	if mattnBuilt {
		return []string{DriverMattn, DriverModernc}
	}
	return []string{DriverModernc}
}

// driverOrDefault resolves Options.Driver: "" is the build's default.
func driverOrDefault(name string) (string, error) {
	if name == "" {
		return Drivers()[0], nil
	}
	for _, d := range Drivers() {
		if d == name {
			return d, nil
		}
	}
	if name == DriverMattn {
		return "", fmt.Errorf("sqlite: driver %q needs a build with -tags sqlite_cgo and CGO_ENABLED=1", name)
	}
	return "", fmt.Errorf("sqlite: no driver %q: want %s", name, strings.Join(Drivers(), " or "))
}

// openDB opens the database file at path with the named driver; every connection it
// makes runs pragmas (such as "journal_mode(WAL)") first, whichever the driver.
func openDB(driver, path string, pragmas []string) (*sql.DB, error) {
	if driver == DriverMattn {
		return openMattn(path, pragmas)
	}
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	return sql.Open("sqlite", "file:"+path+"?"+q.Encode())
}

// IsFull reports whether err is SQLite's SQLITE_FULL (a full disk, or the
// max_page_count limit), from whichever driver this build has.
func IsFull(err error) bool {
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		return se.Code()&0xff == sqliteFull
	}
	return mattnFull(err)
}

// sqliteFull is SQLite's primary result code SQLITE_FULL.
const sqliteFull = 13

// numberedParams rewrites the $N placeholders of query (sqlstore's, PostgreSQL's form) as
// ?N, which SQLite binds to the Nth argument whatever the order in which they appear.
// String literals and quoted identifiers are left alone ('$.a' is a JSON path).
func numberedParams(query string) string {
	if !strings.Contains(query, "$") {
		return query
	}
	b := []byte(query)
	var quote byte // the quote character of the literal or identifier being read, or 0
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case quote != 0:
			if c == quote {
				quote = 0 // a doubled quote ('') closes and reopens: the same result
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '$' && i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '9':
			b[i] = '?'
		}
	}
	return string(b)
}
