package api

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// TestStorageFullAnswer checks that a write failing because the database is full (a
// real SQLite SQLITE_FULL, wrapped as the store and the handlers wrap it) is answered
// 507 with Retry-After, not 500.
func TestStorageFullAnswer(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "full.db")+"?_pragma=max_page_count(8)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (v TEXT)"); err != nil {
		t.Fatal(err)
	}
	var full error
	for i := 0; i < 100 && full == nil; i++ {
		_, full = db.ExecContext(ctx, "INSERT INTO t VALUES (?)", strings.Repeat("x", 4096))
	}
	if full == nil {
		t.Fatal("100 inserts of 4 KiB fit in 8 pages")
	}
	s := &server{log: slog.New(slog.DiscardHandler)}
	w := httptest.NewRecorder()
	s.writeError(w, httptest.NewRequest("POST", "/v1/apps/app_1/messages", nil), storeError(fmt.Errorf("sqlite: %w", full), "app", "app_1"))
	if w.Code != http.StatusInsufficientStorage || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), codeInsufficientStorage) {
		t.Fatalf("answered %d %v %s, want 507 insufficient_storage with Retry-After", w.Code, w.Header(), w.Body)
	}
}
