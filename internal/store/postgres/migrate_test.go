package postgres

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/crypt/crypttest"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/postgres/pgtest"
	"github.com/heraldhq/herald/internal/store/sqlstore"
	"github.com/heraldhq/herald/internal/store/storetest"
	"github.com/jackc/pgx/v5"
)

// migrateFrom is storetest.MigrateFrom on a new schema.
func migrateFrom(t *testing.T, version int, seed func(exec func(string, ...any) error, before []sqlstore.Migration)) *Store {
	t.Helper()
	url := pgtest.URL(t)
	conn, err := pgx.Connect(bg, url)
	if err != nil {
		t.Fatal(err)
	}
	return storetest.MigrateFrom(t, storetest.MigrationDB{
		Migrations: migrations,
		Exec:       func(q string, args ...any) error { _, err := conn.Exec(bg, q, args...); return err },
		Open:       func() store.Store { conn.Close(bg); return openURL(t, url, crypttest.NewBox(t)) },
	}, version, seed).(*Store)
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
