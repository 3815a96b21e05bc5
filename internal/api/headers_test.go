package api

import (
	"context"
	"database/sql"
	"strings"
	"testing"
)

// TestEndpointHeadersRedacted checks that custom header values are answered only to the
// request that set them, are redacted in every other answer, survive a PATCH that sends
// the redacted value back, and are not in the database file in plain text.
func TestEndpointHeadersRedacted(t *testing.T) {
	e := newEnv(t)
	app := e.must(201, req{method: "POST", path: "/v1/apps", key: e.admin, body: map[string]any{"name": "Acme", "uid": "acme"}})["id"].(string)
	const bearer = "Bearer tok_5ecret_v4lue"
	created := e.must(201, req{method: "POST", path: "/v1/apps/acme/endpoints", key: e.admin, body: map[string]any{
		"url": "https://one.example.com/hook", "headers": map[string]string{"Authorization": bearer, "X-Team": "core"},
	}})
	ep := created["id"].(string)
	headersOf := func(obj map[string]any) map[string]any {
		t.Helper()
		h, ok := obj["headers"].(map[string]any)
		if !ok {
			t.Fatalf("no headers in %v", obj)
		}
		return h
	}
	if h := headersOf(created); h["Authorization"] != bearer || h["X-Team"] != "core" {
		t.Errorf("the create answer shows headers %v, want the values set", h)
	}

	redacted := map[string]any{"Authorization": redactedHeader, "X-Team": redactedHeader}
	for _, tc := range []struct {
		name string
		r    req
		want map[string]any
	}{
		{"get", req{method: "GET", path: "/v1/apps/acme/endpoints/" + ep}, redacted},
		{"list", req{method: "GET", path: "/v1/apps/acme/endpoints"}, redacted},
		{"patch other field", req{method: "PATCH", path: "/v1/apps/acme/endpoints/" + ep, body: map[string]any{"description": "d"}}, redacted},
		{"patch redacted back", req{method: "PATCH", path: "/v1/apps/acme/endpoints/" + ep,
			body: map[string]any{"headers": map[string]string{"Authorization": redactedHeader, "X-Team": "platform"}}},
			map[string]any{"Authorization": bearer, "X-Team": "platform"}},
		{"get after patch", req{method: "GET", path: "/v1/apps/acme/endpoints/" + ep}, redacted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.r.key = e.admin
			obj := e.must(200, tc.r)
			if tc.name == "list" {
				obj = obj["data"].([]any)[0].(map[string]any)
			}
			h := headersOf(obj)
			if len(h) != len(tc.want) {
				t.Fatalf("headers %v, want %v", h, tc.want)
			}
			for name, v := range tc.want {
				if h[name] != v {
					t.Errorf("headers[%s] = %v, want %v", name, h[name], v)
				}
			}
		})
	}

	stored, err := e.store.GetEndpoint(context.Background(), app, ep)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Headers["Authorization"] != bearer || stored.Headers["X-Team"] != "platform" {
		t.Errorf("stored headers %v, want the bearer kept and X-Team changed", stored.Headers)
	}
	raw, err := sql.Open("sqlite", "file:"+e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var row string
	if err := raw.QueryRow(`SELECT headers FROM endpoints WHERE id = ?`, ep).Scan(&row); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(row, "5ecret") || strings.Contains(row, "platform") {
		t.Errorf("the headers column holds a value in plain text: %s", row)
	}
}
