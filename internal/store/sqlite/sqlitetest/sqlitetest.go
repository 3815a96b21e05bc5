// Package sqlitetest gives tests real SQLite errors, made by a real database.
package sqlitetest

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, for FullError
)

// FullError returns the error SQLite gives when a database cannot grow (SQLITE_FULL), as
// a full disk would: from a new database limited to 8 pages (modernc.org/sqlite).
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
