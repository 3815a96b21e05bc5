package clients_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/server"
)

// dbSize is the size of the SQLite database in dir, its write-ahead log included.
func dbSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	for _, name := range []string{"herald.db", "herald.db-wal"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if err == nil {
			n += fi.Size()
		}
	}
	return n
}

// TestForgedRequestsCannotFillTheDisk posts 200 unauthenticated requests with bad
// signatures and 900 KB of headers to a source: the database stays small, and the
// source's rejections still list the recent ones, as bounded excerpts.
func TestForgedRequestsCannotFillTheDisk(t *testing.T) {
	dir := t.TempDir()
	h := start(t, func(c *server.Config) { c.DataDir = dir })
	app := h.app(t)
	src := h.source(t, app, "github", "s3cret")
	before := dbSize(t, dir)

	forged := http.Header{
		"Content-Type":        {"application/json"},
		"X-Github-Event":      {"issues"},
		"X-Github-Delivery":   {"d-forged"},
		"X-Hub-Signature-256": {"sha256=" + strings.Repeat("0", 64)},
	}
	for i := 0; i < 90; i++ {
		forged.Set(fmt.Sprintf("X-Pad-%02d", i), strings.Repeat("p", 10<<10))
	}
	body := []byte(`{"action":"opened","pad":"` + strings.Repeat("x", 64<<10) + `"}`)
	for i := 0; i < 200; i++ {
		forged.Set("X-Attempt", fmt.Sprint(i))
		if st, _, out := h.do(t, "POST", "/in/"+src, "", body, forged); st != http.StatusUnauthorized {
			t.Fatalf("forged request %d: %d %s, want 401", i, st, out)
		}
	}
	time.Sleep(300 * time.Millisecond) // the source's rejection rate refills
	forged.Set("X-Attempt", "last")
	if st, _, out := h.do(t, "POST", "/in/"+src, "", body, forged); st != http.StatusUnauthorized {
		t.Fatalf("last forged request: %d %s, want 401", st, out)
	}

	grew := dbSize(t, dir) - before
	t.Logf("the database grew by %d bytes", grew)
	type rejection struct {
		Code        string            `json:"code"`
		Headers     map[string]string `json:"headers"`
		Body        string            `json:"body"`
		HeaderCount int               `json:"header_count"`
		HeaderBytes int64             `json:"header_bytes"`
		BodyBytes   int64             `json:"body_bytes"`
	}
	var all []rejection
	for cursor := ""; ; {
		st, _, out := h.do(t, "GET", "/v1/apps/"+app+"/sources/"+src+"/rejections?limit=100&cursor="+url.QueryEscape(cursor), h.APIKey, nil, nil)
		if st != http.StatusOK {
			t.Fatalf("list rejections: %d %s", st, out)
		}
		var page struct {
			Data       []rejection `json:"data"`
			NextCursor string      `json:"next_cursor"`
		}
		if err := json.Unmarshal(out, &page); err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Data...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(all) < 2 {
		t.Fatalf("%d rejections listed, want the recent ones", len(all))
	}
	// How many rejections are recorded depends on how long the requests took (the
	// source's rejection rate refills meanwhile), so the bound is per recorded rejection:
	// an excerpt and its diagnosis are a few KB, counted here up to 64 KB each with the
	// write-ahead log's copies of the pages, against the ~1 MB each request sent.
	if limit := int64(1<<20) + int64(len(all))*(64<<10); grew > limit || grew > 20<<20 {
		t.Fatalf("the database grew by %d bytes for 201 forged requests and %d recorded rejections, want < %d", grew, len(all), min(limit, 20<<20))
	}
	last := all[0] // newest first
	if last.Headers["X-Attempt"] != "last" || last.Code != "invalid_signature" {
		t.Fatalf("the newest rejection is %.300v, want the last forged request", last)
	}
	for _, r := range all {
		total := 0
		for k, v := range r.Headers {
			total += len(k) + len(v)
		}
		if len(r.Headers) > domain.MaxRejectionHeaders || total > domain.MaxRejectionHeaderBytes || len(r.Body) > domain.MaxRejectionBody {
			t.Fatalf("a rejection keeps %d headers (%d bytes) and %d bytes of body: over the excerpt's limits", len(r.Headers), total, len(r.Body))
		}
		if r.HeaderCount < 90 || r.HeaderBytes < 900<<10 || r.BodyBytes != int64(len(body)) {
			t.Fatalf("a rejection says the request had %d headers (%d bytes) and %d bytes of body, want its own sizes", r.HeaderCount, r.HeaderBytes, r.BodyBytes)
		}
		if r.Headers["X-Hub-Signature-256"] == "" || !strings.HasPrefix(r.Body, `{"action":"opened"`) {
			t.Fatalf("the excerpt lost the signature header or the body's start: %.300v", r)
		}
	}
}
