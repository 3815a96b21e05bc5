package postgres

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/crypt/crypttest"
	"github.com/heraldhq/herald/internal/store/postgres/pgtest"
	"github.com/heraldhq/herald/internal/store/sqlstore"
	"github.com/heraldhq/herald/internal/store/storetest"
	"github.com/jackc/pgx/v5"
)

// migrateFrom seeds a new database with seed, given a statement runner on a raw
// connection and the migrations older than version, then opens the store, which
// applies the rest.
func migrateFrom(t *testing.T, version int, seed func(exec func(string, ...any) error, before []sqlstore.Migration)) *Store {
	t.Helper()
	url := pgtest.URL(t)
	conn, err := pgx.Connect(bg, url)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var before []sqlstore.Migration
	for _, m := range ms {
		if m.Version < version {
			before = append(before, m)
		}
	}
	seed(func(q string, args ...any) error { _, err := conn.Exec(bg, q, args...); return err }, before)
	conn.Close(bg)
	s := openURL(t, url, crypttest.NewBox(t))
	t.Cleanup(func() { s.Close() })
	return s
}

// pgTime encodes a time as PostgreSQL takes it.
func pgTime(t time.Time) any { return t }

// TestMigrationListenerKinds checks what migration 3 makes of duplicate listeners.
func TestMigrationListenerKinds(t *testing.T) {
	s := migrateFrom(t, 3, func(exec func(string, ...any) error, before []sqlstore.Migration) {
		storetest.SeedListenerMigration(t, exec, versionsTable, []string{before[0].SQL, before[1].SQL}, pgTime)
	})
	storetest.CheckListenerMigration(t, s)
}

// TestMigrationAttemptHours checks that migration 10 counts the attempts stored before it.
func TestMigrationAttemptHours(t *testing.T) {
	s := migrateFrom(t, 10, func(exec func(string, ...any) error, before []sqlstore.Migration) {
		storetest.SeedAttemptHoursMigration(t, exec, versionsTable, before, pgTime)
	})
	storetest.CheckAttemptHoursMigration(t, s)
}
