package postgres

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/crypt/crypttest"
	"github.com/heraldhq/herald/internal/store/postgres/pgtest"
	"github.com/heraldhq/herald/internal/store/storetest"
	"github.com/jackc/pgx/v5"
)

// TestMigrationListenerKinds checks what migration 3 makes of duplicate listeners.
func TestMigrationListenerKinds(t *testing.T) {
	url := pgtest.URL(t)
	conn, err := pgx.Connect(bg, url)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) error { _, err := conn.Exec(bg, q, args...); return err }
	storetest.SeedListenerMigration(t, exec, versionsTable, []string{ms[0].SQL, ms[1].SQL}, func(t time.Time) any { return t })
	conn.Close(bg)
	s := openURL(t, url, crypttest.NewBox(t))
	defer s.Close()
	storetest.CheckListenerMigration(t, s)
}
