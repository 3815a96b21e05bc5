// Package datadir keeps what a server owns in its data directory: its node id, and the
// lock that makes it the only process using the directory.
package datadir

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// A node's id names it in the leases it holds. A node that restarts under the same id
// releases its old leases at once (see delivery.Engine.Start), so `herald serve` keeps one id per
// data directory, and locks the directory so that no two processes share that id.

// NodeIDFile is the file in a data directory that holds the node id of its server.
const NodeIDFile = "node-id"

// LockFile is the file in a data directory that a running server keeps locked.
const LockFile = "herald.lock"

// maxNodeIDLen bounds a node id read from a data directory.
const maxNodeIDLen = 128

// NodeID returns the node id kept in dir, creating it (in a file of mode 0600)
// with a new id, host-random, on first use.
func NodeID(dir string) (string, error) {
	path := filepath.Join(dir, NodeIDFile)
	if id, err := readNodeID(path); !errors.Is(err, fs.ErrNotExist) {
		return id, err
	}
	host, _ := os.Hostname()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("node id: %w", err)
	}
	id := hex.EncodeToString(b[:])
	if host = strings.Map(nodeIDRune, host); host != "" {
		id = host + "-" + id
	}
	// Write it aside and link it into place, which fails if another process was first:
	// then its id is the one.
	tmp, err := os.CreateTemp(dir, NodeIDFile+".*")
	if err != nil {
		return "", fmt.Errorf("node id: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(id + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("node id: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("node id: %w", err)
	}
	return readNodeID(path)
}

// readNodeID reads and checks a node id file.
func readNodeID(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("node id: %w", err)
	}
	id := strings.TrimSpace(string(b))
	if id == "" || len(id) > maxNodeIDLen || strings.IndexFunc(id, unicode.IsSpace) >= 0 {
		return "", fmt.Errorf("node id: %s holds %q: want one word of up to %d characters (or delete the file for a new id)", path, string(b[:min(len(b), 64)]), maxNodeIDLen)
	}
	return id, nil
}

// nodeIDRune keeps letters, digits, '-', '_' and '.' of a host name, and drops the rest.
func nodeIDRune(r rune) rune {
	if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.') {
		return r
	}
	return -1
}

// ErrDataDirLocked means another process holds a data directory's lock.
var ErrDataDirLocked = errors.New("data directory in use")

// Lock takes an exclusive lock on dir for as long as this process lives or until
// unlock is called, so that no two servers run on one data directory (and node id). It
// fails with an error wrapping ErrDataDirLocked when another process holds the lock.
func Lock(dir string) (unlock func() error, err error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the data directory: %w", err)
	}
	if err := lockFile(f); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, ErrDataDirLocked) {
			who := "another process"
			if pid := strings.TrimSpace(string(holder)); pid != "" && len(pid) < 16 {
				who = "another herald process (pid " + pid + ")"
			}
			return nil, fmt.Errorf("%w: %s is used by %s; stop it, or give this server its own --data-dir", ErrDataDirLocked, dir, who)
		}
		return nil, fmt.Errorf("lock the data directory: %w", err)
	}
	// The holder's pid, for the error of the next one (best effort: the lock is what counts).
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(fmt.Sprintf("%d\n", os.Getpid())), 0)
	}
	return func() error {
		f.Truncate(0)
		return f.Close() // closing the file releases the lock
	}, nil
}
