// Package pgtest gives tests their own schema in the PostgreSQL database named by
// HERALD_TEST_DATABASE_URL (./scripts/test sets it to a throwaway cluster).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the variable that holds the test database's URL.
const EnvVar = "HERALD_TEST_DATABASE_URL"

// SkipReason says why PostgreSQL tests did not run.
const SkipReason = EnvVar + " is not set: skipping the PostgreSQL tests (./scripts/test runs them against a throwaway cluster)"

// Available reports whether a test database is configured.
func Available() bool { return os.Getenv(EnvVar) != "" }

// URL creates a new, empty schema in the test database and returns a URL whose
// search_path selects it; the schema is dropped when t ends. Without a test database
// it skips t.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvVar)
	if base == "" {
		t.Skip(SkipReason)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "herald_test_" + hex.EncodeToString(b[:])
	exec(t, base, `CREATE SCHEMA `+schema)
	t.Cleanup(func() { exec(t, base, `DROP SCHEMA `+schema+` CASCADE`) })
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

func exec(t testing.TB, url, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
