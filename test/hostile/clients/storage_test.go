package clients_test

import (
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/server"
	"github.com/heraldhq/herald/webhook"
)

// fullDatabase is a SQLite database name that cannot grow past pages pages, as if its
// disk were full. The store appends its own parameters after a '?' of its own, so the
// last parameter here swallows its first one (journal_mode(WAL)), which is given again.
func fullDatabase(dir string, pages int) string {
	return "sqlite:" + filepath.Join(dir, "herald.db") + "?_pragma=max_page_count(" + strconv.Itoa(pages) +
		")&_pragma=journal_mode(WAL)&_swallowed="
}

// TestDatabaseFull fills a database that cannot grow: publishes through the API and the
// gateway are answered 507 with Retry-After (not 500), /readyz fails while writes do,
// and all recover by themselves once there is room again (here: an app is deleted).
func TestDatabaseFull(t *testing.T) {
	h := start(t, func(c *server.Config) { c.Database = fullDatabase(t.TempDir(), 200) })
	filler, app := h.app(t), h.app(t)
	src := h.source(t, app, "github", "s3cret")
	pad := `{"pad":"` + strings.Repeat("x", 16<<10) + `"}`
	full := false
	for i := 0; i < 200 && !full; i++ {
		st, out := h.publish(t, filler, pad)
		switch {
		case st == http.StatusAccepted:
		case st == http.StatusInsufficientStorage:
			full = true
		case st == http.StatusInternalServerError && strings.Contains(h.logs.String(), "no such savepoint"):
			// SQLite rolls the whole transaction back on SQLITE_FULL; the store's
			// group commit then fails on "ROLLBACK TO op" and returns that error
			// instead of SQLITE_FULL (internal/store/sqlite, runBatch).
			t.Fatalf("publish %d: the store lost SQLITE_FULL behind \"no such savepoint\": %d %s", i, st, out)
		default:
			t.Fatalf("publish %d: %d %s\n%s", i, st, out, h.logs)
		}
	}
	if !full {
		t.Fatal("200 publishes of 16 KiB did not fill a database of 200 pages")
	}
	st, hdr, out := h.do(t, "POST", "/v1/apps/"+app+"/messages", h.APIKey, []byte(`{"type":"a.b","payload":`+pad+`}`), nil)
	if st != http.StatusInsufficientStorage || hdr.Get("Retry-After") == "" {
		t.Fatalf("API publish on a full database: %d %v %s, want 507 with Retry-After", st, hdr, out)
	}
	gh, err := webhook.NewProvider("github", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"action":"opened","pad":"` + strings.Repeat("x", 16<<10) + `"}`)
	sig, err := gh.Sign(webhook.Delivery{ID: "d-1", Type: "issues"}, body)
	if err != nil {
		t.Fatal(err)
	}
	sig.Set("Content-Type", "application/json")
	if st, hdr, out := h.do(t, "POST", "/in/"+src, "", body, sig); st != http.StatusInsufficientStorage || hdr.Get("Retry-After") == "" {
		t.Fatalf("webhook on a full database: %d %v %s, want 507 with Retry-After", st, hdr, out)
	}
	if st, _, out := h.do(t, "GET", "/readyz", "", nil, nil); st != http.StatusServiceUnavailable {
		t.Fatalf("/readyz on a full database: %d %s, want 503", st, out)
	}
	if st, _, out := h.do(t, "DELETE", "/v1/apps/"+filler, h.APIKey, nil, nil); st != http.StatusNoContent {
		t.Fatalf("delete the filler app: %d %s", st, out)
	}
	if st, out := h.publish(t, app, pad); st != http.StatusAccepted {
		t.Fatalf("publish once there is room: %d %s", st, out)
	}
	if st, _, out := h.do(t, "GET", "/readyz", "", nil, nil); st != http.StatusOK {
		t.Fatalf("/readyz once writes succeed: %d %s, want 200", st, out)
	}
}
