//go:build unix

package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald/internal/filemodetest"
)

// TestFilesArePrivate checks that the database, WAL and shared-memory files are mode
// 0600 under a umask of 0 in a 0777 directory, whether Open or Migrate creates them.
func TestFilesArePrivate(t *testing.T) {
	t.Run("Open", func(t *testing.T) { checkPrivate(t, nil) })
	t.Run("Migrate", func(t *testing.T) {
		checkPrivate(t, func(path string) error {
			_, _, err := Migrate(context.Background(), path, nil)
			return err
		})
	})
}

// checkPrivate runs create (if not nil) on a new database path, opens the store there
// and checks the mode of its files.
func checkPrivate(t *testing.T, create func(path string) error) {
	path := filepath.Join(filemodetest.LaxDir(t), "herald.db")
	if create != nil {
		if err := create(path); err != nil {
			t.Fatal(err)
		}
	}
	s := openAt(t, path) // after Migrate, which closes its connection: to see live WAL and SHM files
	defer s.Close()
	filemodetest.CheckPrivate(t, path, path+"-wal", path+"-shm")
}
