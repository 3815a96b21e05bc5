//go:build unix

package datadir

import (
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald/internal/filemodetest"
)

// TestFilesArePrivate checks that the node id and lock files are created with mode
// 0600 under a umask of 0, in a 0777 directory.
func TestFilesArePrivate(t *testing.T) {
	dir := filemodetest.LaxDir(t)
	if _, err := NodeID(dir); err != nil {
		t.Fatal(err)
	}
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	filemodetest.CheckPrivate(t, filepath.Join(dir, NodeIDFile), filepath.Join(dir, LockFile))
}
