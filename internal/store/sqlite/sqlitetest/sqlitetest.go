// Package sqlitetest opens real SQLite stores for the tests of the store's users (the
// engine, the service, the API) and makes SQLite fail as a full disk does.
package sqlitetest

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/crypt/crypttest"
	"github.com/heraldhq/herald/internal/store/sqlite"
)

// Open opens a store in a new temporary directory, encrypting secrets with a new random
// key, and closes it when t ends.
func Open(t testing.TB) *sqlite.Store {
	t.Helper()
	return OpenFile(t, filepath.Join(t.TempDir(), "herald.db"))
}

// OpenFile is Open with the database at path.
func OpenFile(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{Cipher: crypttest.NewBox(t), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// FullError returns the error SQLite gives when a database cannot grow: a real one, from
// a database limited with max_page_count, as a full disk would.
func FullError(t testing.TB) error {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "full.db")+"?_pragma=max_page_count(8)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (v TEXT)"); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if _, err := db.ExecContext(ctx, "INSERT INTO t VALUES (?)", strings.Repeat("x", 4096)); err != nil {
			return err
		}
	}
	t.Fatal("100 inserts of 4 KiB fit in 8 pages")
	return nil
}
