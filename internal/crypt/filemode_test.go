//go:build unix

package crypt

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestKeyFileIsPrivate checks that LoadKey creates the key file with mode 0600 under a
// umask of 0, in a 0777 directory.
func TestKeyFileIsPrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(dir, ""); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o600 {
		t.Errorf("key file mode %v, want 0600", got)
	}
}
