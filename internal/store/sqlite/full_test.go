package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald/internal/store/sqlite"
	"github.com/heraldhq/herald/internal/store/sqlite/sqlitetest"
)

// TestIsFull checks that IsFull recognises a real SQLITE_FULL from every driver (a
// database limited with max_page_count, as a full disk would be), wrapped or not.
func TestIsFull(t *testing.T) {
	for _, driver := range sqlite.Drivers() {
		t.Run(driver, func(t *testing.T) {
			db, err := sqlite.OpenDB(driver, filepath.Join(t.TempDir(), "full.db"), []string{"max_page_count(8)"})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if sqlite.IsFull(nil) {
				t.Error("IsFull(nil) = true")
			}
			full := sqlitetest.FillUp(t, db)
			if !sqlite.IsFull(full) || !sqlite.IsFull(fmt.Errorf("publish: %w", full)) {
				t.Errorf("IsFull(%v) = false", full)
			}
			_, other := db.ExecContext(context.Background(), "INSERT INTO nope VALUES (1)")
			if other == nil || sqlite.IsFull(other) {
				t.Errorf("IsFull(%v) = true", other)
			}
		})
	}
}
