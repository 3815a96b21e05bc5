// Package sqlitetest opens throwaway SQLite stores for tests: a real database in the
// test's temporary directory, secrets sealed with a random key.
package sqlitetest

import (
	"context"
	"crypto/rand"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald/internal/crypt"
	"github.com/heraldhq/herald/internal/store/sqlite"
)

// Open returns a new store in t's temporary directory, closed when the test ends. A nil
// opts.Cipher is a box with a random key, a nil opts.Logger discards.
func Open(t testing.TB, opts sqlite.Options) *sqlite.Store {
	t.Helper()
	if opts.Cipher == nil {
		key := make([]byte, crypt.KeySize)
		rand.Read(key)
		box, err := crypt.NewBox(key)
		if err != nil {
			t.Fatal(err)
		}
		opts.Cipher = box
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "herald.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
