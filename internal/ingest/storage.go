package ingest

import (
	"errors"

	"github.com/heraldhq/herald/internal/store/sqlite"
	"github.com/jackc/pgx/v5/pgconn"
)

// StorageFull reports whether err says that the database is out of space: SQLite's
// SQLITE_FULL (a full disk, or the max_page_count limit; from either SQLite driver) or
// PostgreSQL's disk_full (SQLSTATE 53100). It reads the drivers' errors because the store
// has no sentinel for it yet; a store.ErrFull would replace this.
func StorageFull(err error) bool {
	if sqlite.IsFull(err) {
		return true
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code == "53100"
	}
	return false
}

// StorageRetryAfter is the Retry-After, in seconds, of an answer to a write that failed
// because the database is full.
const StorageRetryAfter = 30
