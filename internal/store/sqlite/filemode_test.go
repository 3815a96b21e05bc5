//go:build unix

package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFilesArePrivate checks that the database, WAL and shared-memory files are mode
// 0600 under a umask of 0 in a 0777 directory, whether Open or Migrate creates them.
func TestFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
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
			dir := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(dir, 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, 0o777); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "herald.db")
			closeStore := tc.open(t, path)
			defer closeStore()
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				st, err := os.Stat(p)
				if err != nil {
					t.Fatalf("stat: %v", err)
				}
				if got := st.Mode().Perm(); got != 0o600 {
					t.Errorf("%s: mode %v, want 0600", filepath.Base(p), got)
				}
			}
		})
	}
}
