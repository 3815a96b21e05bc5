package ingest

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// StorageFull reports whether err says that the database is out of space: SQLite's
// SQLITE_FULL (a full disk, or the max_page_count limit) or PostgreSQL's disk_full
// (SQLSTATE 53100). It reads the drivers' errors because the store has no sentinel for
// it yet; a store.ErrFull would replace this.
func StorageFull(err error) bool {
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		return se.Code()&0xff == sqliteFull
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code == "53100"
	}
	return false
}

// sqliteFull is SQLite's primary result code SQLITE_FULL.
const sqliteFull = 13

// StorageRetryAfter is the Retry-After, in seconds, of an answer to a write that failed
// because the database is full.
const StorageRetryAfter = 30
