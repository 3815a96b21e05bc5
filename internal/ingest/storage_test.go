package ingest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/heraldhq/herald/internal/store/sqlite/sqlitetest"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestStorageFull(t *testing.T) {
	full := sqlitetest.FullError(t)
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
