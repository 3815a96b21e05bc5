package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/store/sqlite/sqlitetest"
)

// TestStorageFullAnswer checks that a write failing because the database is full (a
// real SQLite SQLITE_FULL, wrapped as the store and the handlers wrap it) is answered
// 507 with Retry-After, not 500.
func TestStorageFullAnswer(t *testing.T) {
	full := sqlitetest.FullError(t)
	s := &server{log: slog.New(slog.DiscardHandler)}
	w := httptest.NewRecorder()
	s.writeError(w, httptest.NewRequest("POST", "/v1/apps/app_1/messages", nil), storeError(fmt.Errorf("sqlite: %w", full), "app", "app_1"))
	if w.Code != http.StatusInsufficientStorage || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), codeInsufficientStorage) {
		t.Fatalf("answered %d %v %s, want 507 insufficient_storage with Retry-After", w.Code, w.Header(), w.Body)
	}
}
