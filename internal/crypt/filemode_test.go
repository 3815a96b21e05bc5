//go:build unix

package crypt

import (
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald/internal/filemodetest"
)

// TestKeyFileIsPrivate checks that LoadKey creates the key file with mode 0600 under a
// umask of 0, in a 0777 directory.
func TestKeyFileIsPrivate(t *testing.T) {
	dir := filemodetest.LaxDir(t)
	if _, err := LoadKey(dir, ""); err != nil {
		t.Fatal(err)
	}
	filemodetest.CheckPrivate(t, filepath.Join(dir, KeyFile))
}
