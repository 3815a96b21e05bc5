//go:build unix

// Package filemodetest checks that herald creates its files (keys, the database, the
// node id and lock) readable by their owner only, whatever the umask.
package filemodetest

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// LaxDir sets the process's umask to 0 until t ends and returns a new directory of mode
// 0777: there, a file created without an explicit mode is readable by everyone.
func LaxDir(t testing.TB) string {
	t.Helper()
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return dir
}

// CheckPrivate fails t for each file of paths whose mode is not 0600.
func CheckPrivate(t testing.TB, paths ...string) {
	t.Helper()
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(p), got)
		}
	}
}
