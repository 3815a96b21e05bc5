// Package sqlitetest opens throwaway SQLite stores for tests: a real database in the
// test's temporary directory, secrets sealed with a random key. FullError gives SQLite's
// own error for a full disk.
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

// Open returns a new store in t's temporary directory, closed when the test ends. A nil
// opts.Cipher is a box with a random key, a nil opts.Logger discards.
func Open(t testing.TB, opts sqlite.Options) *sqlite.Store {
	t.Helper()
	return OpenFile(t, filepath.Join(t.TempDir(), "herald.db"), opts)
}

// OpenFile is Open with the database at path.
func OpenFile(t testing.TB, path string, opts sqlite.Options) *sqlite.Store {
	t.Helper()
	if opts.Cipher == nil {
		opts.Cipher = crypttest.NewBox(t)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	st, err := sqlite.Open(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
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
	return FillUp(t, db)
}

// FillUp writes 4 KiB rows to db, which must be limited (max_page_count), until it
// refuses one, and returns that error.
func FillUp(t testing.TB, db *sql.DB) error {
	t.Helper()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE filler (v TEXT)"); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if _, err := db.ExecContext(ctx, "INSERT INTO filler VALUES (?)", strings.Repeat("x", 4096)); err != nil {
			return err
		}
	}
	t.Fatal("100 inserts of 4 KiB fit in the database: is it limited with max_page_count?")
	return nil
}
