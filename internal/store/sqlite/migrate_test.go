package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald/internal/store/sqlstore"
	"github.com/heraldhq/herald/internal/store/storetest"
)

// TestMigrationListenerKinds checks what migration 3 makes of duplicate listeners.
func TestMigrationListenerKinds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "herald.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) error { _, err := db.Exec(q, args...); return err }
	storetest.SeedListenerMigration(t, exec, versionsTable, []string{ms[0].SQL, ms[1].SQL}, dialect{}.Time)
	db.Close()
	s := openAt(t, path)
	defer s.Close()
	storetest.CheckListenerMigration(t, s)
}

// TestMigrationAttemptHours checks that migration 10 counts the attempts stored before it.
func TestMigrationAttemptHours(t *testing.T) {
	path := filepath.Join(t.TempDir(), "herald.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var before []sqlstore.Migration
	for _, m := range ms {
		if m.Version < 10 {
			before = append(before, m)
		}
	}
	exec := func(q string, args ...any) error { _, err := db.Exec(q, args...); return err }
	storetest.SeedAttemptHoursMigration(t, exec, versionsTable, before, dialect{}.Time)
	db.Close()
	s := openAt(t, path)
	defer s.Close()
	storetest.CheckAttemptHoursMigration(t, s)
}
