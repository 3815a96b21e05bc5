package sqlite

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/crypt/crypttest"
	"github.com/heraldhq/herald/internal/store"
)

// TestDriverPragmas checks that every driver runs every connection with the store's
// pragmas, whatever the driver's own defaults (mattn's is synchronous=NORMAL).
func TestDriverPragmas(t *testing.T) {
	want := map[string]string{
		"journal_mode": "wal", "busy_timeout": "10000", "foreign_keys": "1",
		"synchronous": "2", // FULL
		"temp_store":  "2", // MEMORY
		"cache_size":  "-32000",
	}
	for _, driver := range Drivers() {
		t.Run(driver, func(t *testing.T) {
			s := openDriver(t, filepath.Join(t.TempDir(), "herald.db"), driver, store.RejectionLimits{})
			defer s.Close()
			ctx := context.Background()
			pragma := func(name string) (string, string) {
				t.Helper()
				var onRead, onWrite string
				if err := s.read.QueryRowContext(ctx, "PRAGMA "+name).Scan(&onRead); err != nil {
					t.Fatalf("read pool: PRAGMA %s: %v", name, err)
				}
				if err := s.do(ctx, func(w *writer) error { return w.queryRow("PRAGMA " + name).Scan(&onWrite) }); err != nil {
					t.Fatalf("writer: PRAGMA %s: %v", name, err)
				}
				return onRead, onWrite
			}
			for name, v := range want {
				onRead, onWrite := pragma(name)
				if onRead != v || onWrite != v {
					t.Errorf("PRAGMA %s = %s on the read pool and %s on the writer, want %s", name, onRead, onWrite, v)
				}
			}
			if onRead, onWrite := pragma("query_only"); onRead != "1" || onWrite != "0" {
				t.Errorf("PRAGMA query_only = %s on the read pool and %s on the writer, want 1 and 0", onRead, onWrite)
			}
		})
	}
}

// TestDriversShareFiles checks that a database written by one driver opens with every
// other, so that switching builds keeps the data.
func TestDriversShareFiles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "herald.db")
	box := crypttest.NewBox(t)
	var appID string
	for i, driver := range append(Drivers(), Drivers()[0]) {
		s, err := Open(ctx, path, Options{Cipher: box, Logger: slog.New(slog.DiscardHandler), Driver: driver})
		if err != nil {
			t.Fatalf("open with %s: %v", driver, err)
		}
		if i == 0 {
			appID, _ = benchApp(t, s)
		} else if _, err := s.GetApp(ctx, appID); err != nil {
			t.Errorf("with %s, the app written with %s: %v", driver, Drivers()[0], err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDriverChoice checks Options.Driver: "" is the build's default, and a driver the
// build lacks is refused with what to do about it.
func TestDriverChoice(t *testing.T) {
	s := openDriver(t, filepath.Join(t.TempDir(), "herald.db"), "", store.RejectionLimits{})
	if got := s.Driver(); got != Drivers()[0] {
		t.Errorf("default driver %s, want %s", got, Drivers()[0])
	}
	s.Close()
	for _, tc := range []struct{ driver, want string }{
		{"postgres", `no driver "postgres"`},
		{DriverMattn, "-tags sqlite_cgo"},
	} {
		if tc.driver == DriverMattn && mattnBuilt {
			continue
		}
		_, err := Open(context.Background(), filepath.Join(t.TempDir(), "herald.db"), Options{Cipher: crypttest.NewBox(t), Driver: tc.driver})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open with driver %q: %v, want an error saying %q", tc.driver, err, tc.want)
		}
	}
}

func TestNumberedParams(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"UPDATE t SET a = $2 WHERE id = $1 AND b = $12", "UPDATE t SET a = ?2 WHERE id = ?1 AND b = ?12"},
		{"SELECT json_extract(v, '$.a') FROM t WHERE k = $1", "SELECT json_extract(v, '$.a') FROM t WHERE k = ?1"},
		{`SELECT "col$1", 'it''s $1', $1`, `SELECT "col$1", 'it''s $1', ?1`},
		{"SELECT $a, $", "SELECT $a, $"},
	} {
		if got := numberedParams(tc.in); got != tc.want {
			t.Errorf("numberedParams(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestDriverPlaceholders checks that every driver binds sqlstore's $N placeholders by
// number, also when one repeats or they appear out of order.
func TestDriverPlaceholders(t *testing.T) {
	for _, driver := range Drivers() {
		t.Run(driver, func(t *testing.T) {
			db, err := openDB(driver, filepath.Join(t.TempDir(), "p.db"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var a, b, c string
			if err := db.QueryRowContext(context.Background(), `SELECT $3, $1, '$2' || $1`, "one", "two", "three").Scan(&a, &b, &c); err != nil {
				t.Fatal(err)
			}
			if a != "three" || b != "one" || c != "$2one" {
				t.Errorf("got %q %q %q, want three one $2one", a, b, c)
			}
		})
	}
}
