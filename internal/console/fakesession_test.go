package console_test

// TEMPORARY: stands in for console-api's session routes until they are merged.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"sync"
)

type fakeSessions struct {
	next     http.Handler
	mu       sync.Mutex
	sessions map[string][2]string // id -> key, csrf
}

func (f *fakeSessions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1/console/sessions" && r.Method == "POST" {
		var in struct {
			APIKey string `json:"api_key"`
		}
		json.NewDecoder(r.Body).Decode(&in)
		req, _ := http.NewRequest("GET", "/v1/api-keys", nil)
		req.Header.Set("Authorization", "Bearer "+in.APIKey)
		rec := &recorder{h: http.Header{}}
		f.next.ServeHTTP(rec, req)
		if rec.code != 200 {
			w.WriteHeader(401)
			io.WriteString(w, `{"error":{"code":"unauthorized","message":"unknown API key"}}`)
			return
		}
		id, csrf := rnd(), rnd()
		f.mu.Lock()
		f.sessions[id] = [2]string{in.APIKey, csrf}
		f.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "herald_session", Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(map[string]string{"csrf_token": csrf})
		return
	}
	c, err := r.Cookie("herald_session")
	var sess [2]string
	ok := false
	if err == nil {
		f.mu.Lock()
		sess, ok = f.sessions[c.Value]
		f.mu.Unlock()
	}
	if r.URL.Path == "/v1/session" {
		if !ok {
			w.WriteHeader(401)
			io.WriteString(w, `{"error":{"code":"unauthorized","message":"no session"}}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"kind": "console", "capabilities": []string{"read", "manage"}, "csrf_token": sess[1],
			"branding": map[string]string{"name": "Herald", "accent": "#4f46e5", "theme": "auto"}})
		return
	}
	if ok && r.Header.Get("Authorization") == "" {
		if r.Method != "GET" && r.Header.Get("X-CSRF-Token") != sess[1] {
			w.WriteHeader(403)
			io.WriteString(w, `{"error":{"code":"csrf_failed","message":"missing CSRF token"}}`)
			return
		}
		if r.URL.Path == "/v1/console/sessions/current" {
			w.WriteHeader(204)
			return
		}
		r.Header.Set("Authorization", "Bearer "+sess[0])
	}
	f.next.ServeHTTP(w, r)
}

type recorder struct {
	h    http.Header
	code int
	b    bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) WriteHeader(c int)           { r.code = c }
func (r *recorder) Write(b []byte) (int, error) { return r.b.Write(b) }

func rnd() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
