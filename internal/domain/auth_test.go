package domain

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/netguard"
	"github.com/heraldhq/herald/internal/testpki"
)

func oauth2Auth(tokenURL, style string) Auth {
	return Auth{Type: AuthOAuth2, TokenURL: tokenURL, ClientID: "herald-client", ClientSecret: "client-secret",
		Scopes: []string{"webhooks:write", "events"}, Audience: "https://api.example", ClientAuth: style}
}

func TestAuthCheck(t *testing.T) {
	pki := testpki.New(t)
	guard := netguard.New(nil)
	checkURL := func(ctx context.Context, u string) error { return guard.CheckURL(ctx, u, nil) }
	with := func(a Auth, change func(*Auth)) Auth { change(&a); return a }
	tests := []struct {
		name      string
		auth      Auth
		wantField string // "" for valid
	}{
		{"basic", Auth{Type: AuthBasic, Username: "u", Password: "p"}, ""},
		{"basic with a CA", Auth{Type: AuthBasic, Username: "u", Password: "p", CAPEM: pki.CAPEM}, ""},
		{"basic without user", Auth{Type: AuthBasic, Password: "p"}, "auth.username"},
		{"basic user with a colon", Auth{Type: AuthBasic, Username: "a:b"}, "auth.username"},
		{"basic with a token", Auth{Type: AuthBasic, Username: "u", Token: "t"}, "auth.token"},
		{"bearer", Auth{Type: AuthBearer, Token: "t"}, ""},
		{"bearer without token", Auth{Type: AuthBearer}, "auth.token"},
		{"bearer token with a newline", Auth{Type: AuthBearer, Token: "a\r\nX-Evil: 1"}, "auth.token"},
		{"bearer with a key", Auth{Type: AuthBearer, Token: "t", KeyPEM: pki.ClientKeyPEM}, "auth.key_pem"},
		{"oauth2", oauth2Auth("https://auth.example.com/token", ""), ""},
		{"oauth2 bad url", oauth2Auth("ftp://x/token", ""), "auth.token_url"},
		{"oauth2 url with a password", oauth2Auth("https://u:p@auth.example.com/token", ""), "auth.token_url"},
		{"oauth2 token url on a private network", oauth2Auth("http://10.0.0.1/token", ""), "auth.token_url"},
		{"oauth2 without secret", Auth{Type: AuthOAuth2, TokenURL: "https://a.example/t", ClientID: "x"}, "auth.client_id"},
		{"oauth2 bad client auth", oauth2Auth("https://a.example/t", "query"), "auth.client_auth"},
		{"oauth2 bad scope", with(oauth2Auth("https://a.example/t", ""), func(a *Auth) { a.Scopes = []string{"a b"} }), "auth.scopes[0]"},
		{"oauth2 too many scopes", with(oauth2Auth("https://a.example/t", ""), func(a *Auth) { a.Scopes = strings.Fields(strings.Repeat("s ", MaxScopes+1)) }), "auth.scopes"},
		{"oauth2 with a password", with(oauth2Auth("https://a.example/t", ""), func(a *Auth) { a.Password = "p" }), "auth.password"},
		{"mtls", Auth{Type: AuthMTLS, CertPEM: pki.ClientCertPEM, KeyPEM: pki.ClientKeyPEM, CAPEM: pki.CAPEM}, ""},
		{"mtls without key", Auth{Type: AuthMTLS, CertPEM: pki.ClientCertPEM}, "auth.cert_pem"},
		{"mtls mismatched key", Auth{Type: AuthMTLS, CertPEM: pki.ClientCertPEM, KeyPEM: pki.ServerKeyPEM}, "auth.cert_pem"},
		{"mtls garbage", Auth{Type: AuthMTLS, CertPEM: "-----BEGIN CERTIFICATE-----\nnope\n", KeyPEM: "x"}, "auth.cert_pem"},
		{"ca not PEM", Auth{Type: AuthBearer, Token: "t", CAPEM: "nope"}, "auth.ca_pem"},
		{"no type", Auth{Token: "t"}, "auth.type"},
		{"unknown type", Auth{Type: "digest"}, "auth.type"},
		{"token too long", Auth{Type: AuthBearer, Token: strings.Repeat("t", MaxAuthField+1)}, "auth.token"},
		{"certificate too long", Auth{Type: AuthMTLS, CertPEM: strings.Repeat("c", MaxAuthPEM+1), KeyPEM: "k"}, "auth.cert_pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.auth.Check(context.Background(), checkURL)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			fe, ok := errors.AsType[*FieldError](err)
			if !ok || fe.Field != tt.wantField {
				t.Errorf("Check: %v, want a *FieldError for %s", err, tt.wantField)
			}
		})
	}
}

func TestAuthPublicHidesSecrets(t *testing.T) {
	a := Auth{Type: AuthOAuth2, Username: "u", Password: "pw", Token: "tok", TokenURL: "https://a/t", ClientID: "id",
		ClientSecret: "cs", KeyPEM: "KEY", CertPEM: "CERT", CAPEM: "CA"}
	b, _ := json.Marshal(a.Public())
	for _, secret := range []string{`"pw"`, `"tok"`, `"cs"`, `"KEY"`} {
		if strings.Contains(string(b), secret) {
			t.Errorf("Public() shows %s: %s", secret, b)
		}
	}
	if !strings.Contains(string(b), `"client_id":"id"`) || !strings.Contains(string(b), `"type":"oauth2"`) {
		t.Errorf("Public() lost the non-secret parts: %s", b)
	}
	if !a.SecretSet() || a.Public().SecretSet() {
		t.Errorf("SecretSet: %v before Public, %v after; want true, false", a.SecretSet(), a.Public().SecretSet())
	}
}

func TestAuthKeepSecrets(t *testing.T) {
	old := &Auth{Type: AuthOAuth2, TokenURL: "https://a/t", ClientID: "id", ClientSecret: "cs"}
	tests := []struct {
		name string
		in   Auth
		want Auth
	}{
		{"same type, secret left out", Auth{Type: AuthOAuth2, TokenURL: "https://b/t", ClientID: "id2"},
			Auth{Type: AuthOAuth2, TokenURL: "https://b/t", ClientID: "id2", ClientSecret: "cs"}},
		{"same type, new secret", Auth{Type: AuthOAuth2, ClientSecret: "new"}, Auth{Type: AuthOAuth2, ClientSecret: "new"}},
		{"another type", Auth{Type: AuthBearer}, Auth{Type: AuthBearer}},
	}
	for _, tt := range tests {
		got := tt.in
		got.KeepSecrets(old)
		if !got.Equal(&tt.want) {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
	a := Auth{Type: AuthBearer}
	a.KeepSecrets(nil)
	if a.Token != "" {
		t.Errorf("KeepSecrets(nil) set a token")
	}
}

func TestAuthEqual(t *testing.T) {
	a := &Auth{Type: AuthOAuth2, Scopes: []string{"a", "b"}, ClientSecret: "x"}
	for _, tt := range []struct {
		b    *Auth
		want bool
	}{
		{&Auth{Type: AuthOAuth2, Scopes: []string{"a", "b"}, ClientSecret: "x"}, true},
		{&Auth{Type: AuthOAuth2, Scopes: []string{"a"}, ClientSecret: "x"}, false},
		{&Auth{Type: AuthOAuth2, Scopes: []string{"a", "b"}, ClientSecret: "y"}, false},
		{nil, false},
	} {
		if got := a.Equal(tt.b); got != tt.want {
			t.Errorf("Equal(%+v) = %v, want %v", tt.b, got, tt.want)
		}
	}
	if !(*Auth)(nil).Equal(nil) {
		t.Error("nil is not equal to nil")
	}
}

func TestRedactRequestHeaders(t *testing.T) {
	custom := map[string]string{"X-Api-Key": "key_0123456789", "X-Team": "core"}
	h := map[string]string{
		"Authorization":       "Bearer tok",
		"Proxy-Authorization": "Basic eA==",
		"Cookie":              "session=1",
		"x-api-key":           "key_0123456789",
		"X-Moved-Key":         "prefix key_0123456789",
		"X-Team-Name":         "core", // too short to count as one of the secrets
		"Webhook-Id":          "msg_1",
		"Webhook-Signature":   "v1,abc",
		"Webhook-Timestamp":   "1700000000",
		"Content-Type":        "application/json",
	}
	RedactRequestHeaders(h, custom)
	want := map[string]string{
		"Authorization": RedactedValue, "Proxy-Authorization": RedactedValue, "Cookie": RedactedValue,
		"x-api-key": RedactedValue, "X-Moved-Key": RedactedValue, "X-Team-Name": "core",
		"Webhook-Id": "msg_1", "Webhook-Signature": "v1,abc", "Webhook-Timestamp": "1700000000", "Content-Type": "application/json",
	}
	for k, v := range want {
		if h[k] != v {
			t.Errorf("%s = %q, want %q", k, h[k], v)
		}
	}
}
