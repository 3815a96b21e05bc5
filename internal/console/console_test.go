package console

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func TestHeaders(t *testing.T) {
	h, err := New(Config{PortalFrameAncestors: []string{"https://app.example.com/"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, ctype, ancestors string
	}{
		{"/console/", "text/html; charset=utf-8", "frame-ancestors 'none'"},
		{"/portal/", "text/html; charset=utf-8", "frame-ancestors https://app.example.com"},
		{"/console/assets/app.js", "text/javascript; charset=utf-8", "frame-ancestors 'none'"},
		{"/portal/assets/style.css", "text/css; charset=utf-8", "frame-ancestors https://app.example.com"},
	} {
		rec := get(t, h, "GET", tc.path)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d", tc.path, rec.Code)
		}
		hdr := rec.Header()
		if got := hdr.Get("Content-Type"); got != tc.ctype {
			t.Errorf("%s: Content-Type %q, want %q", tc.path, got, tc.ctype)
		}
		csp := hdr.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "base-uri 'none'", tc.ancestors} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", tc.path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP %q allows something unsafe", tc.path, csp)
		}
		if hdr.Get("X-Content-Type-Options") != "nosniff" || hdr.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", tc.path, hdr)
		}
	}
	for path, code := range map[string]int{
		"/console/nope": 404, "/console/assets/": 404, "/console/assets/nope.js": 404, "/console": 301, "/elsewhere": 404,
	} {
		if rec := get(t, h, "GET", path); rec.Code != code {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, code)
		}
	}
	if rec := get(t, h, "POST", "/console/"); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /console/: %d", rec.Code)
	}
}

func TestFrameAncestorsChecked(t *testing.T) {
	for _, bad := range []string{"app.example.com", "https://a.com; script-src *", "javascript:alert(1)", "https://a.com/path", "'self'"} {
		if _, err := New(Config{PortalFrameAncestors: []string{bad}}); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

// TestAssetRules checks the rules that keep the UI safe under its CSP: no inline script
// or style, no handler attributes, and no HTML built from strings.
func TestAssetRules(t *testing.T) {
	rules := map[string]*regexp.Regexp{
		"innerHTML/outerHTML/insertAdjacentHTML": regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write`),
		"eval or new Function":                   regexp.MustCompile(`\beval\(|new Function\(`),
		"a style attribute":                      regexp.MustCompile(`style=|\.style\.|setAttribute\('style'`),
		"an inline handler":                      regexp.MustCompile(`\son[a-z]+=`),
	}
	err := fs.WalkDir(web, "web", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(web, path)
		for what, re := range rules {
			if loc := re.FindIndex(b); loc != nil {
				t.Errorf("%s has %s: %q", path, what, b[max(0, loc[0]-30):min(len(b), loc[1]+30)])
			}
		}
		if strings.HasSuffix(path, ".html") && regexp.MustCompile(`<script>|<style`).Match(b) {
			t.Errorf("%s has an inline script or style element", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPageWeight reports the bytes of the UI (HTML, JS, CSS), raw and gzipped, and
// keeps it small.
func TestPageWeight(t *testing.T) {
	var raw, gz int
	err := fs.WalkDir(web, "web", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(web, path)
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		w.Write(b)
		w.Close()
		raw += len(b)
		gz += buf.Len()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("page weight: %d bytes (%.1f KiB), %d gzipped (%.1f KiB)", raw, float64(raw)/1024, gz, float64(gz)/1024)
	if raw > 200<<10 {
		t.Errorf("the UI grew to %d bytes; keep it under 200 KiB", raw)
	}
}
