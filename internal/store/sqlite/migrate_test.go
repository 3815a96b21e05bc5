package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlstore"
	"github.com/heraldhq/herald/internal/store/storetest"
)

// migrateFrom is storetest.MigrateFrom on a new database file.
func migrateFrom(t *testing.T, version int, seed func(exec func(string, ...any) error, before []sqlstore.Migration)) *Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "herald.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	return storetest.MigrateFrom(t, storetest.MigrationDB{
		Migrations: migrations,
		Exec:       func(q string, args ...any) error { _, err := db.Exec(q, args...); return err },
		Open:       func() store.Store { db.Close(); return openAt(t, path) },
	}, version, seed).(*Store)
}

// TestMigrationListenerKinds checks what migration 3 makes of duplicate listeners.
func TestMigrationListenerKinds(t *testing.T) {
	s := migrateFrom(t, 3, func(exec func(string, ...any) error, before []sqlstore.Migration) {
		storetest.SeedListenerMigration(t, exec, versionsTable, []string{before[0].SQL, before[1].SQL}, dialect{}.Time)
	})
	storetest.CheckListenerMigration(t, s)
}

// TestMigrationAttemptHours checks that migration 10 counts the attempts stored before it.
func TestMigrationAttemptHours(t *testing.T) {
	s := migrateFrom(t, 10, func(exec func(string, ...any) error, before []sqlstore.Migration) {
		storetest.SeedAttemptHoursMigration(t, exec, versionsTable, before, dialect{}.Time)
	})
	storetest.CheckAttemptHoursMigration(t, s)
}
