package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/webhook"
)

// sealedEndpoint opens a store on a new file, creates an app and an endpoint changed
// by mutate, and opens the file a second time, raw, to read what is stored.
func sealedEndpoint(t *testing.T, mutate func(*domain.Endpoint)) (*Store, *sql.DB, *domain.App, *domain.Endpoint) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "herald.db")
	s := openAt(t, path)
	t.Cleanup(func() { s.Close() })
	now := time.Now().UTC()
	app := &domain.App{ID: ids.New("app"), Name: "a", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	e := &domain.Endpoint{ID: ids.New("ep"), AppID: app.ID, URL: "https://example.com/hook", State: domain.EndpointEnabled,
		CreatedAt: now, UpdatedAt: now}
	mutate(e)
	sec := &domain.EndpointSecret{ID: ids.New("sec"), EndpointID: e.ID, Secret: webhook.NewHMACSecret(), CreatedAt: now}
	if err := s.CreateEndpoint(ctx, e, sec); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return s, raw, app, e
}

// TestEndpointHeadersSealed checks that an endpoint's header values are encrypted in the
// database file, read back in plain text, and that a row stored in plain text before
// (no sealed prefix) still reads.
func TestEndpointHeadersSealed(t *testing.T) {
	ctx := context.Background()
	const bearer = "Bearer tok_9f8e7d6c5b4a"
	s, raw, app, e := sealedEndpoint(t, func(e *domain.Endpoint) {
		e.Headers = map[string]string{"Authorization": bearer, "X-Team": "core-team"}
	})
	rawHeaders := func() string {
		t.Helper()
		var h string
		if err := raw.QueryRowContext(ctx, `SELECT headers FROM endpoints WHERE id = ?`, e.ID).Scan(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}

	for _, tc := range []struct {
		name   string
		change func()
		want   map[string]string
	}{
		{"created", func() {}, map[string]string{"Authorization": bearer, "X-Team": "core-team"}},
		{"updated", func() {
			e.Headers = map[string]string{"Authorization": "Bearer tok_updated42"}
			if err := s.UpdateEndpoint(ctx, e); err != nil {
				t.Fatal(err)
			}
		}, map[string]string{"Authorization": "Bearer tok_updated42"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.change()
			stored := rawHeaders()
			for name, v := range tc.want {
				if strings.Contains(stored, v) || strings.Contains(stored, strings.TrimPrefix(v, "Bearer ")) {
					t.Errorf("the headers column holds the value of %s in plain text: %s", name, stored)
				}
				if !strings.Contains(stored, name) {
					t.Errorf("the headers column lost the name %s: %s", name, stored)
				}
			}
			got, err := s.GetEndpoint(ctx, app.ID, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Headers) != len(tc.want) {
				t.Fatalf("headers = %v, want %v", got.Headers, tc.want)
			}
			for name, v := range tc.want {
				if got.Headers[name] != v {
					t.Errorf("headers[%s] = %q, want %q", name, got.Headers[name], v)
				}
			}
		})
	}

	t.Run("plain text row", func(t *testing.T) {
		if _, err := raw.ExecContext(ctx, `UPDATE endpoints SET headers = ? WHERE id = ?`, `{"X-Old":"legacy-value"}`, e.ID); err != nil {
			t.Fatal(err)
		}
		eps, _, err := s.ListEndpoints(ctx, app.ID, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(eps) != 1 || eps[0].Headers["X-Old"] != "legacy-value" {
			t.Fatalf("listed %v", eps)
		}
	})
}

// TestEndpointAuthSealed checks that an endpoint's receiver credentials are encrypted in
// the database file, secrets and the rest alike, and read back whole.
func TestEndpointAuthSealed(t *testing.T) {
	ctx := context.Background()
	auth := &domain.Auth{Type: domain.AuthOAuth2, TokenURL: "https://auth.example/token", ClientID: "client-id-42",
		ClientSecret: "client-secret-9f8e7d"}
	s, raw, app, e := sealedEndpoint(t, func(e *domain.Endpoint) { e.Auth = auth })
	var stored []byte
	if err := raw.QueryRowContext(ctx, `SELECT auth FROM endpoints WHERE id = ?`, e.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{auth.ClientSecret, auth.ClientID, auth.TokenURL, "oauth2"} {
		if strings.Contains(string(stored), v) {
			t.Errorf("the auth column holds %q in plain text", v)
		}
	}
	got, err := s.GetEndpoint(ctx, app.ID, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Auth.Equal(auth) {
		t.Errorf("auth read back as %+v, want %+v", got.Auth, auth)
	}
}
