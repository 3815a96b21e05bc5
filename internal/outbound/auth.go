// Package outbound builds how herald reaches one receiver: the credentials it presents
// (HTTP Basic, a bearer token, OAuth2 client credentials, a TLS client certificate),
// the CA it trusts for that receiver, and the dialer every request goes through —
// directly or through an egress proxy, with the SSRF guard checking the final
// destination either way.
package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Auth types.
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

// Auth is how herald authenticates to one endpoint's receiver. The secret parts
// (Password, Token, ClientSecret, KeyPEM) are stored encrypted and never answered by
// the API; Public returns the rest.
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
	maxField = 4 << 10  // a user name, password, token, id or secret
	maxPEM   = 64 << 10 // a certificate chain, key or CA bundle
)

// FieldError names the invalid field of an Auth, as "auth.token_url".
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + " " + e.Message }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: "auth." + field, Message: fmt.Sprintf(format, args...)}
}

// Check validates a; errors are *FieldError values. checkURL, when not nil, checks the
// token URL against the SSRF guard.
func (a *Auth) Check(ctx context.Context, checkURL func(context.Context, string) error) error {
	for name, v := range map[string]string{"username": a.Username, "password": a.Password, "token": a.Token,
		"client_id": a.ClientID, "client_secret": a.ClientSecret, "audience": a.Audience} {
		if len(v) > maxField {
			return fieldErr(name, "is %d bytes long; the most is %d", len(v), maxField)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return fieldErr(name, "must not contain line breaks or NUL")
		}
	}
	for name, v := range map[string]string{"cert_pem": a.CertPEM, "key_pem": a.KeyPEM, "ca_pem": a.CAPEM} {
		if len(v) > maxPEM {
			return fieldErr(name, "is %d bytes long; the most is %d", len(v), maxPEM)
		}
	}
	switch a.Type {
	case AuthNone:
	case AuthBasic:
		if a.Username == "" {
			return fieldErr("username", "is required for basic authentication")
		}
		if strings.Contains(a.Username, ":") {
			return fieldErr("username", "must not contain a colon (HTTP Basic separates the password with one)")
		}
	case AuthBearer:
		if a.Token == "" {
			return fieldErr("token", "is required for bearer authentication")
		}
	case AuthOAuth2:
		u, err := url.Parse(a.TokenURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fieldErr("token_url", "must be an http or https URL, not %q", a.TokenURL)
		}
		if checkURL != nil {
			if err := checkURL(ctx, a.TokenURL); err != nil {
				return fieldErr("token_url", "is not allowed: %v", err)
			}
		}
		if a.ClientID == "" || a.ClientSecret == "" {
			return fieldErr("client_id", "and client_secret are required for OAuth2 client credentials")
		}
		if a.ClientAuth != "" && a.ClientAuth != ClientAuthHeader && a.ClientAuth != ClientAuthBody {
			return fieldErr("client_auth", "must be %q or %q, not %q", ClientAuthHeader, ClientAuthBody, a.ClientAuth)
		}
		for i, s := range a.Scopes {
			if s == "" || strings.ContainsAny(s, " \"\\") || len(s) > 256 {
				return fieldErr(fmt.Sprintf("scopes[%d]", i), "must be a scope token without spaces, quotes or backslashes")
			}
		}
	case AuthMTLS:
		if _, err := tls.X509KeyPair([]byte(a.CertPEM), []byte(a.KeyPEM)); err != nil {
			return fieldErr("cert_pem", "and key_pem must be a PEM certificate and its private key: %v", err)
		}
	default:
		return fieldErr("type", "must be one of basic, bearer, oauth2 or mtls, not %q", a.Type)
	}
	if a.CAPEM != "" {
		if _, err := certPool(a.CAPEM); err != nil {
			return fieldErr("ca_pem", "%v", err)
		}
	}
	return nil
}

// Public returns a without its secrets, for answers: the type and what identifies
// the credentials without granting anything.
func (a Auth) Public() Auth {
	return Auth{
		Type: a.Type, Username: a.Username, TokenURL: a.TokenURL, ClientID: a.ClientID,
		Scopes: a.Scopes, Audience: a.Audience, ClientAuth: a.ClientAuth, CertPEM: a.CertPEM, CAPEM: a.CAPEM,
	}
}

// certPool parses a PEM bundle of CA certificates.
func certPool(pemText string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(pemText)) {
		return nil, errors.New("holds no PEM certificate")
	}
	return pool, nil
}

// Client sends requests to one receiver with its credentials; it is safe for concurrent
// use, and caches an OAuth2 token across requests.
type Client struct {
	rt     http.RoundTripper
	auth   Auth
	tokens *tokenSource // oauth2 only
}

// NewClient returns a Client for a receiver authenticated by auth. base is the shared
// transport (its dialer carries the SSRF guard); a receiver with a client certificate
// or its own CA gets a clone of it with that TLS configuration. tokenClient fetches
// OAuth2 tokens; it must be guarded as well, since token URLs come from users.
func NewClient(auth Auth, base *http.Transport, tokenClient *http.Client) (*Client, error) {
	c := &Client{rt: base, auth: auth}
	if auth.Type == AuthMTLS || auth.CAPEM != "" {
		cfg, err := tlsConfig(auth)
		if err != nil {
			return nil, err
		}
		tr := base.Clone()
		tr.TLSClientConfig = cfg
		c.rt = tr
	}
	if auth.Type == AuthOAuth2 {
		c.tokens = newTokenSource(auth, tokenClient)
	}
	return c, nil
}

// tlsConfig is the TLS configuration for a receiver: its client certificate and the CA
// that signs its server certificate, when given.
func tlsConfig(auth Auth) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if auth.Type == AuthMTLS {
		cert, err := tls.X509KeyPair([]byte(auth.CertPEM), []byte(auth.KeyPEM))
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if auth.CAPEM != "" {
		pool, err := certPool(auth.CAPEM)
		if err != nil {
			return nil, fmt.Errorf("receiver CA: %w", err)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// RoundTrip sends req with the receiver's credentials. With OAuth2, a 401 answer drops
// the cached token and the request goes once more with a new one (req must then have
// GetBody, as requests built from a bytes.Reader do).
func (c *Client) RoundTrip(req *http.Request) (*http.Response, error) {
	switch c.auth.Type {
	case AuthBasic:
		req = req.Clone(req.Context())
		req.SetBasicAuth(c.auth.Username, c.auth.Password)
	case AuthBearer:
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", "Bearer "+c.auth.Token)
	case AuthOAuth2:
		return c.oauth2RoundTrip(req)
	}
	return c.rt.RoundTrip(req)
}

// oauth2RoundTrip sends req with the cached token, refreshing it once on a 401.
func (c *Client) oauth2RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := c.tokens.token(req.Context())
	if err != nil {
		return nil, err
	}
	first := req.Clone(req.Context())
	first.Header.Set("Authorization", "Bearer "+tok)
	resp, err := c.rt.RoundTrip(first)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || req.GetBody == nil {
		return resp, err
	}
	c.tokens.invalidate(tok)
	fresh, err := c.tokens.token(req.Context())
	if err != nil {
		return resp, nil // the 401 stands; the token error would hide it
	}
	body, err := req.GetBody()
	if err != nil {
		return resp, nil
	}
	resp.Body.Close()
	again := req.Clone(req.Context())
	again.Body = body
	again.Header.Set("Authorization", "Bearer "+fresh)
	return c.rt.RoundTrip(again)
}
