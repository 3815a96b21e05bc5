package main

import (
	"context"
	"strings"
	"testing"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/testpki"
	"github.com/heraldhq/herald/internal/transform"
)

// TestEndpointDeliveryFlags sets and changes transformations and credentials with the
// endpoint commands' flags, secrets from the command line, a file and the environment,
// and checks what the server stored (and that it never prints a secret).
func TestEndpointDeliveryFlags(t *testing.T) {
	e := newAPIEnv(t)
	ctx := context.Background()
	write := fileWriter(t, t.TempDir())
	pki := testpki.New(t)
	script := "function handler(webhook) {\n  webhook.payload = {text: webhook.eventType};\n  return webhook;\n}\n"
	scriptFile := write("handler.js", script)
	secretFile := write("client-secret.txt", "oauth-s3cret-from-file\n")
	certFile, keyFile, caFile := write("c.pem", pki.ClientCertPEM), write("c.key", pki.ClientKeyPEM), write("ca.pem", pki.CAPEM)
	filterFile := write("filter.json", `{"payload": {"amount": {"$gte": 1000}}}`)
	t.Setenv("TEST_BEARER_TOKEN", "tok-from-env")

	var app client.App
	e.okJSON(t, &app, "app", "create", "--name", "Acme", "--uid", "acme")
	stored := func(id string) (string, *client.EndpointAuth) {
		t.Helper()
		got, err := e.st.GetEndpoint(ctx, app.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Auth == nil {
			return got.Transformation, nil
		}
		return got.Transformation, &client.EndpointAuth{Type: got.Auth.Type, Username: got.Auth.Username, ClientID: got.Auth.ClientID}
	}
	secretOf := func(id string) string {
		t.Helper()
		got, _ := e.st.GetEndpoint(ctx, app.ID, id)
		if got.Auth == nil {
			return ""
		}
		return got.Auth.Password + got.Auth.Token + got.Auth.ClientSecret + got.Auth.KeyPEM
	}

	out := e.ok(t, "endpoint", "create", "--app", "acme", "--url", "https://example.com/hook", "--transformation", scriptFile,
		"--auth-basic", "herald:pw-on-the-line", "--filter", "@"+filterFile)
	id := detail(t, out, "id")
	if s, a := stored(id); s != script || a == nil || a.Type != client.AuthBasic || a.Username != "herald" || secretOf(id) != "pw-on-the-line" {
		t.Fatalf("create --transformation --auth-basic: stored %q, %+v", s, a)
	}
	if strings.Contains(out, "pw-on-the-line") || detail(t, out, "auth") != "basic, user herald, secret set" ||
		!strings.Contains(detail(t, out, "transformation"), "4 lines") || !strings.Contains(detail(t, out, "filter"), "$gte") {
		t.Errorf("create printed:\n%s", out)
	}

	steps := []struct {
		name       string
		args       []string
		stdin      string
		wantType   string
		wantSecret string
		wantScript string
	}{
		{"bearer from the environment", []string{"--auth-bearer", "env:TEST_BEARER_TOKEN"}, "", client.AuthBearer, "tok-from-env", script},
		{"template", []string{"--transformation-template", "slack"}, "", client.AuthBearer, "tok-from-env", slackScript(t)},
		{"script on stdin", []string{"--transformation", "-"}, "function handler(w) { return w }", client.AuthBearer, "tok-from-env", "function handler(w) { return w }"},
		{"oauth2 with a secret file", []string{"--oauth2-token-url", "https://auth.example.com/token", "--oauth2-client-id", "herald",
			"--oauth2-client-secret", "@" + secretFile, "--oauth2-scope", "a,b"}, "", client.AuthOAuth2, "oauth-s3cret-from-file", "function handler(w) { return w }"},
		{"new client id, secret kept", []string{"--oauth2-client-id", "herald-2"}, "", client.AuthOAuth2, "oauth-s3cret-from-file", "function handler(w) { return w }"},
		{"mtls", []string{"--mtls-cert", certFile, "--mtls-key", keyFile, "--ca-cert", caFile}, "", client.AuthMTLS, pki.ClientKeyPEM, "function handler(w) { return w }"},
		{"no transformation, no auth", []string{"--transformation", "", "--no-auth"}, "", "", "", ""},
	}
	for _, st := range steps {
		code, out, stderr := e.cli(t, st.stdin, append([]string{"endpoint", "update", "--app", "acme", id}, st.args...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", st.name, code, stderr)
		}
		s, a := stored(id)
		typ := ""
		if a != nil {
			typ = a.Type
		}
		if s != st.wantScript || typ != st.wantType || secretOf(id) != st.wantSecret {
			t.Errorf("%s: stored script %q, auth %+v, secret %q", st.name, s, a, secretOf(id))
		}
		if st.wantSecret != "" && strings.Contains(out, strings.TrimSpace(st.wantSecret)) {
			t.Errorf("%s printed the secret:\n%s", st.name, out)
		}
	}
	if _, a := stored(id); a != nil {
		t.Errorf("--no-auth left %+v", a)
	}
}

func slackScript(t *testing.T) string {
	tpl, ok := transform.TemplateByName("slack")
	if !ok {
		t.Fatal("no slack template")
	}
	return tpl.Script
}

// TestEndpointDeliveryFlagErrors: contradictory, incomplete and unreadable flags, and
// what the server refuses, each fail with one line.
func TestEndpointDeliveryFlagErrors(t *testing.T) {
	e := newAPIEnv(t)
	e.ok(t, "app", "create", "--name", "Acme", "--uid", "acme")
	id := detail(t, e.ok(t, "endpoint", "create", "--app", "acme", "--url", "https://example.com/hook"), "id")
	base := []string{"endpoint", "create", "--app", "acme", "--url", "https://example.com/x"}
	tests := []struct {
		name     string
		args     []string
		contains string
	}{
		{"two kinds", append(base, "--auth-basic", "u:p", "--auth-bearer", "t"), "give one kind of credentials"},
		{"basic without a colon", append(base, "--auth-basic", "user"), "want user:password"},
		{"env unset", append(base, "--auth-bearer", "env:HERALD_TEST_NOT_SET_ANYWHERE"), "the variable is not set"},
		{"secret file missing", append(base, "--auth-bearer", "@/nonexistent/token"), "no such file"},
		{"CA alone", append(base, "--ca-cert", "/nonexistent"), "--ca-cert goes with credentials"},
		{"both transformations", append(base, "--transformation", "x.js", "--transformation-template", "slack"), "not both"},
		{"unknown template", append(base, "--transformation-template", "mattermost"), "want slack, discord or teams"},
		{"script that does not compile", append(base, "--transformation", "-"), "at line 1: SyntaxError"},
		{"no-auth with credentials", []string{"endpoint", "update", "--app", "acme", id, "--no-auth", "--auth-bearer", "t"}, "--no-auth cannot go with credentials"},
		{"CA alone on an endpoint without credentials", []string{"endpoint", "update", "--app", "acme", id, "--ca-cert", "/dev/null"}, "--ca-cert goes with credentials"},
		{"server refuses a private token URL", append(base, "--oauth2-token-url", "http://10.1.2.3/token", "--oauth2-client-id", "a", "--oauth2-client-secret", "b"), "auth.token_url is not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := e.cli(t, "function handler(w) {", tt.args...)
			wantOneLineError(t, code, stderr, tt.contains)
		})
	}
}
