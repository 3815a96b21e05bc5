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
	for _, tc := range []struct {
		name string
		open func(t *testing.T, path string) func()
	}{
		{"Open", func(t *testing.T, path string) func() {
			s := openAt(t, path)
			return func() { s.Close() }
		}},
		{"Migrate", func(t *testing.T, path string) func() {
			if _, _, err := Migrate(context.Background(), path, nil); err != nil {
				t.Fatal(err)
			}
			s := openAt(t, path) // Migrate closes its connection; reopen to see live WAL and SHM files
			return func() { s.Close() }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(filemodetest.LaxDir(t), "herald.db")
			closeStore := tc.open(t, path)
			defer closeStore()
			filemodetest.CheckPrivate(t, path, path+"-wal", path+"-shm")
		})
	}
}
