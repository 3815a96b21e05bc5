package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// fileMode is the mode of the database file and its WAL and shared-memory files: they
// hold payloads and secrets, so only the owner may read them.
const fileMode = 0o600

// inMemory reports whether path names no file on disk.
func inMemory(path string) bool {
	return path == "" || strings.HasPrefix(path, ":memory:") || strings.Contains(path, "mode=memory")
}

// createPrivate creates the database file at path with mode 0600, whatever the umask,
// before SQLite opens it (SQLite gives the WAL and shared-memory files the database's
// mode); an existing file is left as it is.
func createPrivate(path string) error {
	if inMemory(path) {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	err = f.Chmod(fileMode) // the umask may have narrowed nothing, but a 0 umask must not widen it either
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	return nil
}

// restrictCompanions sets the database's WAL and shared-memory files, if any, to mode
// 0600, in case they were made wider than the database (by an older version, say).
func restrictCompanions(path string) error {
	if inMemory(path) {
		return nil
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
		if st.Mode().Perm()&^fileMode != 0 {
			if err := os.Chmod(p, st.Mode().Perm()&fileMode); err != nil {
				return fmt.Errorf("sqlite: restrict %s: %w", p, err)
			}
		}
	}
	return nil
}
