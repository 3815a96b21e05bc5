package domain

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Auth types: how herald authenticates to an endpoint's receiver.
const (
	AuthNone   = ""
	AuthBasic  = "basic"
	AuthBearer = "bearer"
	AuthOAuth2 = "oauth2"
	AuthMTLS   = "mtls"
)

// OAuth2 client authentication styles at the token endpoint (RFC 6749, section 2.3.1).
const (
	ClientAuthHeader = "header" // HTTP Basic with the client id and secret (the default)
	ClientAuthBody   = "body"   // client_id and client_secret as form fields
)

// Auth is how herald authenticates to one endpoint's receiver (package outbound applies
// it). The secret parts (Password, Token, ClientSecret, KeyPEM) are stored encrypted and
// never answered by the API; Public returns the rest.
type Auth struct {
	Type string `json:"type"`

	Username string `json:"username,omitempty"` // basic
	Password string `json:"password,omitempty"` // basic; secret

	Token string `json:"token,omitempty"` // bearer; secret

	TokenURL     string   `json:"token_url,omitempty"` // oauth2
	ClientID     string   `json:"client_id,omitempty"`
	ClientSecret string   `json:"client_secret,omitempty"` // secret
	Scopes       []string `json:"scopes,omitempty"`
	Audience     string   `json:"audience,omitempty"`    // sent when set (Auth0 and others want it)
	ClientAuth   string   `json:"client_auth,omitempty"` // ClientAuthHeader (default) or ClientAuthBody

	CertPEM string `json:"cert_pem,omitempty"` // mtls: the client certificate (chain)
	KeyPEM  string `json:"key_pem,omitempty"`  // mtls: its private key; secret

	// CAPEM, with any type, replaces the system roots when verifying this receiver.
	CAPEM string `json:"ca_pem,omitempty"`
}

// Limits on credentials.
const (
	MaxAuthField = 4 << 10  // a user name, password, token, id, secret or audience
	MaxAuthPEM   = 64 << 10 // a certificate chain, key or CA bundle
	MaxScopes    = 32
)

func authErr(field, format string, args ...any) error {
	return fieldErrorf("auth."+field, format, args...)
}

// Check validates a; errors are *FieldError values naming the field ("auth.token_url").
// checkURL, when not nil, checks the token URL against the SSRF guard.
func (a *Auth) Check(ctx context.Context, checkURL func(context.Context, string) error) error {
	for _, f := range []struct{ name, v string }{{"username", a.Username}, {"password", a.Password}, {"token", a.Token},
		{"token_url", a.TokenURL}, {"client_id", a.ClientID}, {"client_secret", a.ClientSecret}, {"audience", a.Audience}} {
		if len(f.v) > MaxAuthField {
			return authErr(f.name, "is %d bytes long; the most is %d", len(f.v), MaxAuthField)
		}
		if !validHeaderValue(f.v) {
			return authErr(f.name, "must not contain control characters (line breaks, NUL)")
		}
	}
	for _, f := range []struct{ name, v string }{{"cert_pem", a.CertPEM}, {"key_pem", a.KeyPEM}, {"ca_pem", a.CAPEM}} {
		if len(f.v) > MaxAuthPEM {
			return authErr(f.name, "is %d bytes long; the most is %d", len(f.v), MaxAuthPEM)
		}
	}
	if err := a.checkType(ctx, checkURL); err != nil {
		return err
	}
	if a.CAPEM != "" {
		if _, err := CertPool(a.CAPEM); err != nil {
			return authErr("ca_pem", "%v", err)
		}
	}
	return nil
}

// checkType validates the fields a's type needs, and refuses those it does not use, so
// that a credential is never stored where it would be silently ignored.
func (a *Auth) checkType(ctx context.Context, checkURL func(context.Context, string) error) error {
	var used []string
	switch a.Type {
	case AuthBasic:
		used = []string{"username", "password"}
		if a.Username == "" {
			return authErr("username", "is required for basic authentication")
		}
		if strings.Contains(a.Username, ":") {
			return authErr("username", "must not contain a colon (HTTP Basic separates the password with one)")
		}
	case AuthBearer:
		used = []string{"token"}
		if a.Token == "" {
			return authErr("token", "is required for bearer authentication")
		}
	case AuthOAuth2:
		used = []string{"token_url", "client_id", "client_secret", "scopes", "audience", "client_auth"}
		if err := a.checkOAuth2(ctx, checkURL); err != nil {
			return err
		}
	case AuthMTLS:
		used = []string{"cert_pem", "key_pem"}
		if a.CertPEM == "" || a.KeyPEM == "" {
			return authErr("cert_pem", "and key_pem are required for mutual TLS")
		}
		if _, err := tls.X509KeyPair([]byte(a.CertPEM), []byte(a.KeyPEM)); err != nil {
			return authErr("cert_pem", "and key_pem must be a PEM certificate and its private key: %v", err)
		}
	default:
		return authErr("type", "must be one of basic, bearer, oauth2 or mtls, not %q", a.Type)
	}
	for _, f := range a.fields() {
		if f.set && !slices.Contains(used, f.name) {
			return authErr(f.name, "is not used by %s authentication; leave it out", a.Type)
		}
	}
	return nil
}

// checkOAuth2 validates the client-credentials fields.
func (a *Auth) checkOAuth2(ctx context.Context, checkURL func(context.Context, string) error) error {
	u, err := url.Parse(a.TokenURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return authErr("token_url", "must be an http or https URL with a host and no user:password@, not %q", a.TokenURL)
	}
	if checkURL != nil {
		if err := checkURL(ctx, a.TokenURL); err != nil {
			return authErr("token_url", "is not allowed: %v", err)
		}
	}
	if a.ClientID == "" || a.ClientSecret == "" {
		return authErr("client_id", "and client_secret are required for OAuth2 client credentials")
	}
	if a.ClientAuth != "" && a.ClientAuth != ClientAuthHeader && a.ClientAuth != ClientAuthBody {
		return authErr("client_auth", "must be %q or %q, not %q", ClientAuthHeader, ClientAuthBody, a.ClientAuth)
	}
	if len(a.Scopes) > MaxScopes {
		return authErr("scopes", "has %d scopes; the most is %d", len(a.Scopes), MaxScopes)
	}
	for i, s := range a.Scopes {
		if s == "" || len(s) > 256 || strings.ContainsAny(s, " \"\\") || !validHeaderValue(s) {
			return authErr(fmt.Sprintf("scopes[%d]", i), "must be a scope token of at most 256 bytes, without spaces, quotes or backslashes")
		}
	}
	return nil
}

// authField is one field of an Auth, for the checks that apply to each.
type authField struct {
	name   string
	set    bool
	secret bool
}

// fields lists a's fields other than type and ca_pem (which any type may have).
func (a *Auth) fields() []authField {
	return []authField{
		{"username", a.Username != "", false}, {"password", a.Password != "", true},
		{"token", a.Token != "", true},
		{"token_url", a.TokenURL != "", false}, {"client_id", a.ClientID != "", false},
		{"client_secret", a.ClientSecret != "", true}, {"scopes", len(a.Scopes) > 0, false},
		{"audience", a.Audience != "", false}, {"client_auth", a.ClientAuth != "", false},
		{"cert_pem", a.CertPEM != "", false}, {"key_pem", a.KeyPEM != "", true},
	}
}

// Public returns a without its secrets, for answers: the type and what identifies the
// credentials without granting anything.
func (a Auth) Public() Auth {
	return Auth{
		Type: a.Type, Username: a.Username, TokenURL: a.TokenURL, ClientID: a.ClientID,
		Scopes: a.Scopes, Audience: a.Audience, ClientAuth: a.ClientAuth, CertPEM: a.CertPEM, CAPEM: a.CAPEM,
	}
}

// SecretSet reports whether a holds the secret its type needs.
func (a Auth) SecretSet() bool {
	switch a.Type {
	case AuthBasic:
		return a.Password != ""
	case AuthBearer:
		return a.Token != ""
	case AuthOAuth2:
		return a.ClientSecret != ""
	case AuthMTLS:
		return a.KeyPEM != ""
	}
	return false
}

// KeepSecrets fills the secrets a leaves out (password, token, client_secret, key_pem)
// from old, the endpoint's current credentials, when both are of the same type: so an
// update can resend what it read, which never holds the secrets, and keep them.
func (a *Auth) KeepSecrets(old *Auth) {
	if old == nil || old.Type != a.Type {
		return
	}
	keep := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	keep(&a.Password, old.Password)
	keep(&a.Token, old.Token)
	keep(&a.ClientSecret, old.ClientSecret)
	keep(&a.KeyPEM, old.KeyPEM)
}

// Secrets returns the secret values of a that are set, for redaction.
func (a *Auth) Secrets() []string {
	var out []string
	for _, v := range []string{a.Password, a.Token, a.ClientSecret, a.KeyPEM} {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Equal reports whether a and b are the same credentials (nil is none).
func (a *Auth) Equal(b *Auth) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Type == b.Type && a.Username == b.Username && a.Password == b.Password && a.Token == b.Token &&
		a.TokenURL == b.TokenURL && a.ClientID == b.ClientID && a.ClientSecret == b.ClientSecret &&
		slices.Equal(a.Scopes, b.Scopes) && a.Audience == b.Audience && a.ClientAuth == b.ClientAuth &&
		a.CertPEM == b.CertPEM && a.KeyPEM == b.KeyPEM && a.CAPEM == b.CAPEM
}

// CertPool parses a PEM bundle of CA certificates.
func CertPool(pemText string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(pemText)) {
		return nil, fmt.Errorf("holds no PEM certificate")
	}
	return pool, nil
}
