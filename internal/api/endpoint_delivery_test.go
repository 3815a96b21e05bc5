package api

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/testpki"
)

// secretsIn reports which of secrets occur in b.
func secretsIn(b []byte, secrets []string) []string {
	var found []string
	for _, s := range secrets {
		if strings.Contains(string(b), s) {
			found = append(found, s)
		}
	}
	return found
}

// TestEndpointAuthNeverAnswered sets credentials of every type and reads the endpoint
// back every way the API answers one — the create and update answers, get and list
// with the admin key, an app key, a console session and a portal session, scoped to
// the endpoint or not — and checks that no answer holds a secret, that each says
// whether one is stored, and that the database holds none in plain text.
func TestEndpointAuthNeverAnswered(t *testing.T) {
	e := newEnv(t)
	pki := testpki.New(t)
	app := e.must(201, req{method: "POST", path: "/v1/apps", key: e.admin, body: map[string]any{"name": "Acme", "uid": "acme"}})["id"].(string)
	appKey := e.newKey(app)
	auths := []map[string]any{
		{"type": "basic", "username": "herald", "password": "pw-basic-s3cret"},
		{"type": "bearer", "token": "tok-bearer-s3cret", "ca_pem": pki.CAPEM},
		{"type": "oauth2", "token_url": "https://auth.example.com/token", "client_id": "cid", "client_secret": "oauth-client-s3cret",
			"scopes": []string{"webhooks:write"}, "audience": "https://api.example", "client_auth": "body"},
		{"type": "mtls", "cert_pem": pki.ClientCertPEM, "key_pem": pki.ClientKeyPEM, "ca_pem": pki.CAPEM},
	}
	secrets := []string{"pw-basic-s3cret", "tok-bearer-s3cret", "oauth-client-s3cret", strings.Split(pki.ClientKeyPEM, "\n")[1]}
	var eps []string
	for _, a := range auths {
		resp := e.do(req{method: "POST", path: "/v1/apps/acme/endpoints", key: e.admin,
			body: map[string]any{"url": "https://hooks.example.com/" + a["type"].(string), "auth": a}})
		if resp.status != 201 {
			t.Fatalf("create with %s auth: %d %s", a["type"], resp.status, resp.body)
		}
		if found := secretsIn(resp.body, secrets); len(found) > 0 {
			t.Errorf("the create answer holds %q", found)
		}
		got := resp.obj(t)["auth"].(map[string]any)
		if got["type"] != a["type"] || got["secret_set"] != true {
			t.Errorf("created %s auth answered as %v", a["type"], got)
		}
		eps = append(eps, resp.obj(t)["id"].(string))
	}
	// An update that changes nothing of the credentials, and one that resends them as read.
	e.must(200, req{method: "PATCH", path: "/v1/apps/acme/endpoints/" + eps[0], key: e.admin, body: map[string]any{"description": "d"}})
	read := e.must(200, req{method: "GET", path: "/v1/apps/acme/endpoints/" + eps[2], key: e.admin})
	resp := e.do(req{method: "PATCH", path: "/v1/apps/acme/endpoints/" + eps[2], key: e.admin, body: map[string]any{"auth": read["auth"]}})
	if resp.status != 200 || len(secretsIn(resp.body, secrets)) > 0 {
		t.Fatalf("resending auth as read: %d %s", resp.status, resp.body)
	}
	stored, err := e.store.GetEndpoint(context.Background(), app, eps[2])
	if err != nil || stored.Auth == nil || stored.Auth.ClientSecret != "oauth-client-s3cret" {
		t.Fatalf("resending auth as read lost the client secret: %+v, %v", stored.Auth, err)
	}

	console := e.signIn(e.admin)
	portal := e.portal(app, nil)
	scoped := e.portal(app, map[string]any{"endpoint_ids": []string{eps[1], eps[3]}})
	reads := []req{
		{method: "GET", path: "/v1/apps/acme/endpoints", key: e.admin},
		{method: "GET", path: "/v1/apps/" + app + "/endpoints", key: appKey},
		console.as(req{method: "GET", path: "/v1/apps/" + app + "/endpoints"}, true),
		portal.as(req{method: "GET", path: "/v1/apps/" + app + "/endpoints"}, true),
		scoped.as(req{method: "GET", path: "/v1/apps/" + app + "/endpoints"}, true),
	}
	for _, id := range eps {
		reads = append(reads, req{method: "GET", path: "/v1/apps/acme/endpoints/" + id, key: appKey},
			portal.as(req{method: "GET", path: "/v1/apps/" + app + "/endpoints/" + id}, true))
	}
	for _, r := range reads {
		resp := e.do(r)
		if resp.status != 200 {
			t.Fatalf("%s %s: %d %s", r.method, r.path, resp.status, resp.body)
		}
		if found := secretsIn(resp.body, secrets); len(found) > 0 {
			t.Errorf("%s %s answers %q", r.method, r.path, found)
		}
		if !strings.Contains(string(resp.body), `"secret_set":true`) {
			t.Errorf("%s %s: no secret_set in %s", r.method, r.path, resp.body)
		}
	}

	raw, err := sql.Open("sqlite", "file:"+e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.Query(`SELECT auth FROM endpoints`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		if found := secretsIn(b, secrets); len(found) > 0 {
			t.Errorf("the database holds %q in plain text", found)
		}
	}
}

// TestEndpointAuthUpdate checks the update rules: a secret left out is kept while the
// type stays, required again when the type changes, and null removes the credentials.
func TestEndpointAuthUpdate(t *testing.T) {
	e := newEnv(t)
	app := e.must(201, req{method: "POST", path: "/v1/apps", key: e.admin, body: map[string]any{"name": "Acme", "uid": "acme"}})["id"].(string)
	ep := e.must(201, req{method: "POST", path: "/v1/apps/acme/endpoints", key: e.admin, body: map[string]any{
		"url": "https://hooks.example.com/", "auth": map[string]any{"type": "basic", "username": "a", "password": "pw1"}}})["id"].(string)
	patch := func(auth any) response {
		return e.do(req{method: "PATCH", path: "/v1/apps/acme/endpoints/" + ep, key: e.admin, body: map[string]any{"auth": auth}})
	}
	stored := func() *domain.Auth {
		got, err := e.store.GetEndpoint(context.Background(), app, ep)
		if err != nil {
			t.Fatal(err)
		}
		return got.Auth
	}
	if resp := patch(map[string]any{"type": "basic", "username": "b"}); resp.status != 200 {
		t.Fatalf("new user name, password left out: %d %s", resp.status, resp.body)
	}
	if a := stored(); a.Username != "b" || a.Password != "pw1" {
		t.Errorf("after renaming: %+v, want user b with the old password", a)
	}
	if resp := patch(map[string]any{"type": "bearer"}); resp.status != 400 || !strings.Contains(string(resp.body), "auth.token") {
		t.Errorf("a new type without its secret: %d %s, want 400 naming auth.token", resp.status, resp.body)
	}
	if resp := patch(map[string]any{"type": "bearer", "token": "t2"}); resp.status != 200 {
		t.Fatalf("bearer: %d %s", resp.status, resp.body)
	}
	if a := stored(); a.Type != domain.AuthBearer || a.Token != "t2" || a.Password != "" {
		t.Errorf("after switching to bearer: %+v", a)
	}
	resp := patch(nil)
	if resp.status != 200 || resp.obj(t)["auth"] != nil || stored() != nil {
		t.Errorf("auth null: %d %s, stored %+v; want the credentials removed", resp.status, resp.body, stored())
	}
}

// TestEndpointTransformationAndAuthRefused sends malformed, huge and misplaced
// transformations and credentials: each is a 400 that names the field (and, for a
// script, the line), and nothing is stored.
func TestEndpointTransformationAndAuthRefused(t *testing.T) {
	e := newEnv(t)
	pki := testpki.New(t)
	e.must(201, req{method: "POST", path: "/v1/apps", key: e.admin, body: map[string]any{"name": "Acme", "uid": "acme"}})
	e.must(201, req{method: "POST", path: "/v1/apps", key: e.admin, body: map[string]any{"name": "Other", "uid": "other"}})
	ep := e.must(201, req{method: "POST", path: "/v1/apps/acme/endpoints", key: e.admin, body: map[string]any{"url": "https://hooks.example.com/"}})["id"].(string)
	tests := []struct {
		name     string
		body     string
		status   int
		code     string
		contains string
	}{
		{"syntax error", `{"transformation": "function handler(w) {\n  return w +;\n}"}`, 400, "invalid_field", "transformation does not compile: transformation compile error at line 2: SyntaxError"},
		{"no handler", `{"transformation": "var x = 1;"}`, 400, "invalid_field", "must define function handler(webhook)"},
		{"top level throws", `{"transformation": "\n\nthrow new Error('no');\nfunction handler(w) { return w }"}`, 400, "invalid_field", "at line 3"},
		{"top level never ends", `{"transformation": "while (true) {}\nfunction handler(w) { return w }"}`, 400, "invalid_field", "time limit"},
		{"huge script", `{"transformation": "` + strings.Repeat("/", 70_000) + `"}`, 400, "invalid_field", "the most is 65536"},
		{"transformation not a string", `{"transformation": {"src": "x"}}`, 400, "wrong_type", "transformation"},
		{"transformation null", `{"transformation": null}`, 400, "wrong_type", "transformation"},
		{"auth not an object", `{"auth": "bearer x"}`, 400, "wrong_type", `"auth" must be an object or null`},
		{"auth unknown field", `{"auth": {"type": "basic", "username": "u", "passwrd": "x"}}`, 400, "unknown_field", `"passwrd" in auth`},
		{"auth wrong field type", `{"auth": {"type": "oauth2", "scopes": "a b"}}`, 400, "wrong_type", `"auth.scopes" must be an array of strings`},
		{"auth without type", `{"auth": {"token": "x"}}`, 400, "invalid_field", "auth.type must be one of"},
		{"auth unknown type", `{"auth": {"type": "digest"}}`, 400, "invalid_field", "auth.type"},
		{"auth field of another type", `{"auth": {"type": "bearer", "token": "x", "password": "y"}}`, 400, "invalid_field", "auth.password is not used by bearer"},
		{"huge token", `{"auth": {"type": "bearer", "token": "` + strings.Repeat("t", 5000) + `"}}`, 400, "invalid_field", "auth.token is 5000 bytes long"},
		{"token with a line break", `{"auth": {"type": "bearer", "token": "a\r\nX-Evil: 1"}}`, 400, "invalid_field", "auth.token must not contain control characters"},
		{"token url on a private network", `{"auth": {"type": "oauth2", "token_url": "http://10.0.0.1/t", "client_id": "a", "client_secret": "b"}}`, 400, "invalid_field", "auth.token_url is not allowed"},
		{"token url not http", `{"auth": {"type": "oauth2", "token_url": "file:///etc/passwd", "client_id": "a", "client_secret": "b"}}`, 400, "invalid_field", "auth.token_url must be an http or https URL"},
		{"certificate and a foreign key", `{"auth": {"type": "mtls", "cert_pem": ` + jsonString(pki.ClientCertPEM) + `, "key_pem": ` + jsonString(pki.ServerKeyPEM) + `}}`, 400, "invalid_field", "auth.cert_pem and key_pem must be"},
		{"CA not PEM", `{"auth": {"type": "bearer", "token": "t", "ca_pem": "garbage"}}`, 400, "invalid_field", "auth.ca_pem holds no PEM certificate"},
		{"huge CA", `{"auth": {"type": "bearer", "token": "t", "ca_pem": "` + strings.Repeat("c", 70_000) + `"}}`, 400, "invalid_field", "auth.ca_pem is 70000 bytes long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []req{
				{method: "POST", path: "/v1/apps/acme/endpoints", body: withURL(tt.body)},
				{method: "PATCH", path: "/v1/apps/acme/endpoints/" + ep, body: tt.body},
			} {
				r.key = e.admin
				resp := e.do(r)
				msg, _ := resp.obj(t)["error"].(map[string]any)["message"].(string)
				if resp.status != tt.status || resp.code() != tt.code || !strings.Contains(msg, tt.contains) {
					t.Errorf("%s: %d %s, want %d %s containing %q", r.method, resp.status, resp.body, tt.status, tt.code, tt.contains)
				}
			}
		})
	}
	got := e.must(200, req{method: "GET", path: "/v1/apps/acme/endpoints/" + ep, key: e.admin})
	if got["transformation"] != nil || got["auth"] != nil {
		t.Errorf("a refused write changed the endpoint: %v", got)
	}
	eps := e.must(200, req{method: "GET", path: "/v1/apps/acme/endpoints", key: e.admin})["data"].([]any)
	if len(eps) != 1 {
		t.Errorf("refused creates left %d endpoints, want 1", len(eps))
	}
	// Another app's key cannot set the endpoint's credentials.
	other := e.newKey(e.must(200, req{method: "GET", path: "/v1/apps/other", key: e.admin})["id"].(string))
	resp := e.do(req{method: "PATCH", path: "/v1/apps/acme/endpoints/" + ep, key: other, body: `{"auth": {"type": "bearer", "token": "x"}}`})
	if resp.status != 403 && resp.status != 404 {
		t.Errorf("another app's key: %d %s, want 403 or 404", resp.status, resp.body)
	}
}

// TestEndpointTransformationRoundTrip sets a template, reads it back, and removes it.
func TestEndpointTransformationRoundTrip(t *testing.T) {
	e := newEnv(t)
	e.must(201, req{method: "POST", path: "/v1/apps", key: e.admin, body: map[string]any{"name": "Acme", "uid": "acme"}})
	const script = "function handler(webhook) {\n  webhook.payload = {text: webhook.eventType};\n  return webhook;\n}\n"
	created := e.must(201, req{method: "POST", path: "/v1/apps/acme/endpoints", key: e.admin,
		body: map[string]any{"url": "https://hooks.slack.com/services/T/B/X", "transformation": script}})
	ep := created["id"].(string)
	if created["transformation"] != script {
		t.Errorf("created transformation %q", created["transformation"])
	}
	if got := e.must(200, req{method: "GET", path: "/v1/apps/acme/endpoints/" + ep, key: e.admin}); got["transformation"] != script {
		t.Errorf("read back %q", got["transformation"])
	}
	if got := e.must(200, req{method: "PATCH", path: "/v1/apps/acme/endpoints/" + ep, key: e.admin, body: map[string]any{"transformation": ""}}); got["transformation"] != nil {
		t.Errorf("after removing: %v", got["transformation"])
	}
}

// jsonString encodes s as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// withURL adds a url to a JSON object body, for a create.
func withURL(body string) string {
	return `{"url": "https://hooks.example.com/new", ` + strings.TrimPrefix(body, "{")
}
