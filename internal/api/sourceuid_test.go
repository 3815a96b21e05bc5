package api

import (
	"strings"
	"testing"
)

// TestSourceUIDs checks the API's side of source uids, every answer against
// openapi.yaml: set, found by it under its app only, listened to by it, unique, valid.
func TestSourceUIDs(t *testing.T) {
	f := newFixture(t)
	got := f.must(200, req{method: "PATCH", path: "/v1/apps/acme/sources/" + f.src, key: f.keyA, body: `{"uid":"openai-prod"}`})
	if got["uid"] != "openai-prod" || got["ingest_path"] != "/in/openai-prod" || got["ingest_url"] != f.http.URL+"/in/openai-prod" {
		t.Fatalf("PATCH uid: %v", got)
	}
	if got := f.must(200, req{method: "GET", path: "/v1/apps/acme/sources/openai-prod", key: f.keyA}); got["id"] != f.src {
		t.Errorf("GET by uid: %v", got)
	}
	if got := f.must(200, req{method: "GET", path: "/v1/sources/openai-prod", key: f.keyA}); got["id"] != f.src {
		t.Errorf("GET /v1/sources by uid: %v", got)
	}
	if resp := f.do(req{method: "GET", path: "/v1/sources/openai-prod", key: f.keyB}); resp.status != 404 {
		t.Errorf("another app's key, by uid: %d %s", resp.status, resp.body)
	}
	if resp := f.do(req{method: "GET", path: "/v1/apps/other/sources/openai-prod", key: f.keyB}); resp.status != 404 {
		t.Errorf("under another app, by uid: %d %s", resp.status, resp.body)
	}
	f.must(200, req{method: "GET", path: "/v1/apps/acme/sources/openai-prod/rejections", key: f.keyA})
	hello, resp := f.listen("/v1/listen?source=openai-prod&name=uid", f.keyA)
	if resp.status != 101 || hello["source_id"] != f.src || hello["app_id"] != f.appA {
		t.Errorf("listen by uid: %d %v", resp.status, hello)
	}
	if resp := f.do(req{method: "GET", path: "/v1/listen?source=openai-prod", key: f.keyB}); resp.status != 403 || strings.Contains(string(resp.body), f.appA) {
		t.Errorf("listen to another app's source by uid: %d %s (must not name the app)", resp.status, resp.body)
	}

	for _, tc := range []struct {
		body   string
		status int
		code   string
	}{
		{`{"provider":"github","secret":"s","uid":"openai-prod"}`, 409, "conflict"},
		{`{"provider":"github","secret":"s","uid":"Openai"}`, 400, "invalid_field"},
		{`{"provider":"github","secret":"s","uid":"` + strings.Repeat("a", 65) + `"}`, 400, "invalid_field"},
		{`{"provider":"github","secret":"s","uid":"src_01JD3XK5M2Q8W0RZ7C4T6YB9HN"}`, 400, "invalid_field"},
		{`{"provider":"github","secret":"s","uid":7}`, 400, "wrong_type"},
	} {
		if resp := f.do(req{method: "POST", path: "/v1/apps/other/sources", key: f.keyB, body: tc.body}); resp.status != tc.status || resp.code() != tc.code {
			t.Errorf("POST %s: %d %s, want %d %s", tc.body, resp.status, resp.body, tc.status, tc.code)
		}
	}
	got = f.must(201, req{method: "POST", path: "/v1/apps/other/sources", key: f.keyB, body: `{"provider":"github","secret":"s","uid":"gh-b"}`})
	if got["uid"] != "gh-b" {
		t.Errorf("create with a uid: %v", got)
	}
	got = f.must(200, req{method: "PATCH", path: "/v1/apps/acme/sources/openai-prod", key: f.keyA, body: `{"uid":""}`})
	if _, ok := got["uid"]; ok || got["ingest_path"] != "/in/"+f.src {
		t.Errorf("PATCH uid \"\": %v", got)
	}
	f.must(404, req{method: "GET", path: "/v1/apps/acme/sources/openai-prod", key: f.keyA})
}
