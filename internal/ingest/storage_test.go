package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	_ "modernc.org/sqlite"
)

// fillSQLite returns the error SQLite gives when a database cannot grow: a real one, from
// a database limited with max_page_count, as a full disk would.
func fillSQLite(t *testing.T) error {
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

func TestStorageFull(t *testing.T) {
	full := fillSQLite(t)
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"SQLite full", full, true},
		{"SQLite full, wrapped", fmt.Errorf("app app_1: sqlite: %w", full), true},
		{"PostgreSQL disk_full", fmt.Errorf("postgres: publish: %w", &pgconn.PgError{Code: "53100"}), true},
		{"PostgreSQL unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"other", errors.New("sqlite: database is full"), false},
		{"nil", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := StorageFull(tc.err); got != tc.want {
				t.Errorf("StorageFull(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
