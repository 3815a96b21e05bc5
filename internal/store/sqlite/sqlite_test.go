package sqlite

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/crypt/crypttest"
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
	s, err := Open(context.Background(), path, Options{Cipher: crypttest.NewBox(t), Logger: slog.New(slog.DiscardHandler), Rejections: rej, Driver: driver})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConformance runs the store conformance suite on every SQLite driver of the build,
// then checks the plans of the statements it ran (see checkPlans).
func TestConformance(t *testing.T) {
	for _, driver := range Drivers() {
		ran := &statements{}
		t.Run(driver, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store {
				s := openDriver(t, filepath.Join(t.TempDir(), "herald.db"), driver, store.RejectionLimits{})
				s.observe = ran.add
				return s
			})
		})
		t.Run(driver+"/plans", func(t *testing.T) { checkPlans(t, driver, ran) })
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
		storetest.WritesRacingClose(t, openTest(t), 10*time.Second)
	}
}
