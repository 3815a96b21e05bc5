package sqlite

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"log/slog"
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"

	"github.com/heraldhq/herald/internal/crypt"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/storetest"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "herald.db"))
}

func openAt(t *testing.T, path string) *Store {
	t.Helper()
	return openWith(t, path, store.RejectionLimits{})
}

func openWith(t *testing.T, path string, rej store.RejectionLimits) *Store {
	t.Helper()
	return openDriver(t, path, "", rej)
}

// openDriver opens a store on the named driver ("" for the build's default).
func openDriver(t testing.TB, path, driver string, rej store.RejectionLimits) *Store {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	box, err := crypt.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), path, Options{Cipher: box, Logger: slog.New(slog.DiscardHandler), Rejections: rej, Driver: driver})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConformance runs the store conformance suite on every SQLite driver of the build.
func TestConformance(t *testing.T) {
	for _, driver := range Drivers() {
		t.Run(driver, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store {
				return openDriver(t, filepath.Join(t.TempDir(), "herald.db"), driver, store.RejectionLimits{})
			})
		})
	}
}

func TestRejectionLimits(t *testing.T) {
	storetest.RunRejectionLimits(t, func(t *testing.T, l store.RejectionLimits) store.Store {
		return openWith(t, filepath.Join(t.TempDir(), "herald.db"), l)
	})
}

// TestWriteAfterClose checks that writes racing with Close fail with ErrClosed instead of
// waiting forever.
func TestWriteAfterClose(t *testing.T) {
	for i := 0; i < 50; i++ {
		s := openTest(t)
		errc := make(chan error, 8)
		for j := 0; j < 8; j++ {
			go func() {
				errc <- s.CreateApp(context.Background(), &domain.App{ID: ids.New("app"), Name: "x", CreatedAt: time.Now(), UpdatedAt: time.Now()})
			}()
		}
		s.Close()
		for j := 0; j < 8; j++ {
			select {
			case err := <-errc:
				if err != nil && !errors.Is(err, store.ErrClosed) {
					t.Fatalf("write racing Close: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("a write racing Close never returned")
			}
		}
	}
}
