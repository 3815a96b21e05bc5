package datadir

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestNodeID(t *testing.T) {
	dir := t.TempDir()
	first, err := NodeID(dir)
	if err != nil || first == "" {
		t.Fatalf("first use: %q, %v", first, err)
	}
	again, err := NodeID(dir)
	if err != nil || again != first {
		t.Fatalf("second use: %q, %v; want the first id %q", again, err, first)
	}
	if other, _ := NodeID(t.TempDir()); other == first {
		t.Fatalf("two data directories share the node id %q", first)
	}
	st, err := os.Stat(filepath.Join(dir, NodeIDFile))
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("node-id file mode %v, want 0600", st.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("data directory holds %d files, want only %s", len(entries), NodeIDFile)
	}

	for _, tc := range []struct {
		name, content, want string // want: the id, or "" for an error
	}{
		{"written by hand", "node-a\n", "node-a"},
		{"spaces around", "  node-b  \r\n", "node-b"},
		{"empty", "\n", ""},
		{"two words", "node a\n", ""},
		{"too long", strings.Repeat("x", maxNodeIDLen+1), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, NodeIDFile), []byte(tc.content), 0o600)
			id, err := NodeID(dir)
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), NodeIDFile) {
					t.Fatalf("got %q, %v; want an error naming the file", id, err)
				}
				return
			}
			if err != nil || id != tc.want {
				t.Fatalf("got %q, %v; want %q", id, err, tc.want)
			}
		})
	}
}

func TestLock(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the data directory lock is a no-op here")
	}
	dir := t.TempDir()
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	// flock locks belong to open files, so a second open in this process is refused too.
	_, err = Lock(dir)
	if !errors.Is(err, ErrDataDirLocked) || !strings.Contains(err.Error(), "pid ") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("second lock: %v; want one line saying which process holds it", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	unlock, err = Lock(dir)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock()
}
