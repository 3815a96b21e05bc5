// Package console serves herald's web console (/console/, for operators) and customer
// portal (/portal/, for one app's customers) from the binary: static HTML, CSS and
// JavaScript modules that are clients of the public REST API, with strict security
// headers.
package console

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
)

// web holds the UI: index.html and the assets it loads.
//
//go:embed web
var web embed.FS

// Config configures the UI handler.
type Config struct {
	// PortalFrameAncestors lists the origins (such as https://app.example.com) that may
	// embed /portal/ in a frame; empty allows none. /console/ is never framed.
	PortalFrameAncestors []string
}

// handler serves the UI under /console/ and /portal/.
type handler struct {
	files      http.Handler
	index      []byte
	consoleCSP string
	portalCSP  string
}

// cspBase is the Content-Security-Policy of every UI response, less frame-ancestors.
const cspBase = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; object-src 'none'; frame-ancestors "

// New returns the handler of /console/ and /portal/ (mount it on both prefixes).
func New(cfg Config) (http.Handler, error) {
	root, err := fs.Sub(web, "web")
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	index, err := fs.ReadFile(root, "index.html")
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	ancestors, err := frameAncestors(cfg.PortalFrameAncestors)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	return &handler{
		files:      http.FileServerFS(root),
		index:      index,
		consoleCSP: cspBase + "'none'",
		portalCSP:  cspBase + ancestors,
	}, nil
}

// frameAncestors checks the allowed framing origins and returns the CSP source list.
func frameAncestors(origins []string) (string, error) {
	if len(origins) == 0 {
		return "'none'", nil
	}
	list := make([]string, 0, len(origins))
	for _, o := range origins {
		o = strings.TrimSuffix(strings.TrimSpace(o), "/")
		if !validOrigin(o) {
			return "", fmt.Errorf("portal frame ancestor %q: want an origin such as https://app.example.com", o)
		}
		list = append(list, o)
	}
	return strings.Join(list, " "), nil
}

// validOrigin reports whether o is scheme://host[:port] with no path, spaces or quotes
// (so that it cannot change the meaning of the policy).
func validOrigin(o string) bool {
	scheme, rest, ok := strings.Cut(o, "://")
	if !ok || (scheme != "https" && scheme != "http") || rest == "" {
		return false
	}
	for _, c := range rest {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:*[]", c)) {
			return false
		}
	}
	return true
}

// errNotUI is returned by scope for paths outside the UI.
var errNotUI = errors.New("not a UI path")

// scope returns "console" or "portal" and the path inside it.
func scope(path string) (string, string, error) {
	for _, s := range []string{"console", "portal"} {
		if p, ok := strings.CutPrefix(path, "/"+s+"/"); ok {
			return s, p, nil
		}
	}
	return "", "", errNotUI
}

// ServeHTTP serves index.html for the scope's root and the embedded assets below it.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s, p, err := scope(r.URL.Path)
	if err != nil {
		if r.URL.Path == "/console" || r.URL.Path == "/portal" {
			http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
			return
		}
		http.NotFound(w, r)
		return
	}
	csp := h.consoleCSP
	if s == "portal" {
		csp = h.portalCSP
	}
	hdr.Set("Content-Security-Policy", csp)
	if csp == h.consoleCSP {
		hdr.Set("X-Frame-Options", "DENY")
	}
	if p == "" || p == "index.html" {
		hdr.Set("Content-Type", "text/html; charset=utf-8")
		hdr.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(h.index)
		}
		return
	}
	if !strings.HasPrefix(p, "assets/") || strings.HasSuffix(p, "/") {
		http.NotFound(w, r)
		return
	}
	hdr.Set("Cache-Control", "no-cache")
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + p
	h.files.ServeHTTP(w, r2)
}
