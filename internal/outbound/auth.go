// Package outbound builds how herald reaches one receiver: the credentials it presents
// (a domain.Auth: HTTP Basic, a bearer token, OAuth2 client credentials, a TLS client
// certificate), the CA it trusts for that receiver, and the dialer every request goes
// through — directly or through an egress proxy, with the SSRF guard checking the
// final destination either way.
package outbound

import (
	"crypto/tls"
	"fmt"
	"net/http"

	"github.com/heraldhq/herald/internal/domain"
)

// Client sends requests to one receiver with its credentials; it is safe for concurrent
// use, and caches an OAuth2 token across requests.
type Client struct {
	rt     http.RoundTripper
	own    *http.Transport // the clone rt is when the receiver has its own TLS configuration
	auth   domain.Auth
	tokens *tokenSource // oauth2 only
}

// NewClient returns a Client for a receiver authenticated by auth. base is the shared
// transport (its dialer carries the SSRF guard); a receiver with a client certificate
// or its own CA gets a clone of it with that TLS configuration. tokenClient fetches
// OAuth2 tokens; it must be guarded as well, since token URLs come from users.
func NewClient(auth domain.Auth, base *http.Transport, tokenClient *http.Client) (*Client, error) {
	c := &Client{rt: base, auth: auth}
	if auth.Type == domain.AuthMTLS || auth.CAPEM != "" {
		cfg, err := tlsConfig(auth)
		if err != nil {
			return nil, err
		}
		tr := base.Clone()
		tr.TLSClientConfig = cfg
		c.rt, c.own = tr, tr
	}
	if auth.Type == domain.AuthOAuth2 {
		c.tokens = newTokenSource(auth, tokenClient)
	}
	return c, nil
}

// CloseIdleConnections closes the idle connections of the client's own transport (a
// receiver with a client certificate or its own CA), when it is dropped; the shared
// transport is left alone.
func (c *Client) CloseIdleConnections() {
	if c.own != nil {
		c.own.CloseIdleConnections()
	}
}

// tlsConfig is the TLS configuration for a receiver: its client certificate and the CA
// that signs its server certificate, when given.
func tlsConfig(auth domain.Auth) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if auth.Type == domain.AuthMTLS {
		cert, err := tls.X509KeyPair([]byte(auth.CertPEM), []byte(auth.KeyPEM))
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if auth.CAPEM != "" {
		pool, err := domain.CertPool(auth.CAPEM)
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
	case domain.AuthBasic:
		req = req.Clone(req.Context())
		req.SetBasicAuth(c.auth.Username, c.auth.Password)
	case domain.AuthBearer:
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", "Bearer "+c.auth.Token)
	case domain.AuthOAuth2:
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
