package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/jsontime"
	"github.com/heraldhq/herald/internal/store"
)

// Session cookies and tokens.
const (
	sessionCookie      = "herald_session"
	csrfHeader         = "X-CSRF-Token"
	sessionTokenPrefix = "hs_" // a session's token, the cookie's value
	linkTokenPrefix    = "hl_" // a portal link's single-use token
	tokenLen           = 3 + 43
	// defaultConsoleTTL is how long a console session lasts by default.
	defaultConsoleTTL  = 12 * time.Hour
	defaultPortalTTL   = time.Hour
	maxPortalLinkBytes = 64 << 10
)

// Branding is how the console and the portal present themselves; an app's metadata
// keys brand.name, brand.logo_url, brand.accent and brand.theme override it for the
// app's portal.
type Branding struct {
	Name    string `json:"name"`
	LogoURL string `json:"logo_url"`
	Accent  string `json:"accent"` // a CSS colour, such as #4f46e5
	Theme   string `json:"theme"`  // auto, light or dark
}

// DefaultBranding is the branding of a server that sets none.
var DefaultBranding = Branding{Name: "Herald", Accent: "#4f46e5", Theme: "auto"}

// withDefaults fills the empty fields of b from DefaultBranding.
func (b Branding) withDefaults() Branding {
	if b.Name == "" {
		b.Name = DefaultBranding.Name
	}
	if b.Accent == "" {
		b.Accent = DefaultBranding.Accent
	}
	if b.Theme == "" {
		b.Theme = DefaultBranding.Theme
	}
	return b
}

// forApp returns b overridden by the valid brand.* metadata of app (invalid values are
// ignored: metadata is free text, and the UI must never receive a value Check refuses).
func (b Branding) forApp(app *domain.App) Branding {
	if app == nil {
		return b
	}
	for key, field := range map[string]*string{"brand.name": &b.Name, "brand.logo_url": &b.LogoURL, "brand.accent": &b.Accent, "brand.theme": &b.Theme} {
		v, ok := app.Metadata[key]
		if !ok || v == "" {
			continue
		}
		old := *field
		*field = v
		if b.Check() != nil {
			*field = old
		}
	}
	return b
}

var accentColour = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// Check validates a branding: a name of at most 100 characters, an http(s) logo URL or
// none, an accent colour #rgb or #rrggbb, and a theme of auto, light or dark.
func (b Branding) Check() error {
	if n := utf8.RuneCountInString(b.Name); n > 100 {
		return fmt.Errorf("brand name is %d characters long; the most is 100", n)
	}
	if b.LogoURL != "" {
		u, err := url.Parse(b.LogoURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("brand logo URL %q: want an http:// or https:// URL", b.LogoURL)
		}
	}
	if b.Accent != "" && !accentColour.MatchString(b.Accent) {
		return fmt.Errorf("brand accent %q: want a colour such as #4f46e5", b.Accent)
	}
	switch b.Theme {
	case "", "auto", "light", "dark":
	default:
		return fmt.Errorf("brand theme %q: want auto, light or dark", b.Theme)
	}
	return nil
}

// newToken returns a new random token with the given prefix and its SHA-256 hash.
func newToken(prefix string) (token string, hash []byte) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	token = prefix + base64.RawURLEncoding.EncodeToString(b[:])
	h := sha256.Sum256([]byte(token))
	return token, h[:]
}

// tokenHash returns the SHA-256 hash of a token of the given prefix, or false when it
// does not have the shape of one.
func tokenHash(prefix, token string) ([]byte, bool) {
	if len(token) != tokenLen || !strings.HasPrefix(token, prefix) {
		return nil, false
	}
	if _, err := base64.RawURLEncoding.DecodeString(token[len(prefix):]); err != nil {
		return nil, false
	}
	h := sha256.Sum256([]byte(token))
	return h[:], true
}

// csrfToken returns the CSRF token of the session whose token is token: a hash of it
// under another name, so that it need not be stored and cannot be turned into the
// session's token or its stored hash.
func csrfToken(token string) string {
	h := sha256.Sum256([]byte("herald csrf\x00" + token))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// authenticateSession identifies a cookie request by its session token.
func (s *server) authenticateSession(r *http.Request, token string) (*call, error) {
	hash, ok := tokenHash(sessionTokenPrefix, token)
	if !ok {
		return nil, errorf(http.StatusUnauthorized, codeUnauthorized, "malformed session cookie; sign in again")
	}
	sess, err := s.store.SessionByHash(r.Context(), hash, s.timeNow())
	if errors.Is(err, store.ErrNotFound) {
		return nil, errorf(http.StatusUnauthorized, codeUnauthorized, "the session has expired or was revoked; sign in again")
	}
	if err != nil {
		return nil, fmt.Errorf("look up session: %w", err)
	}
	c := &call{session: sess, csrf: csrfToken(token), onlyApp: sess.AppID}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		got := r.Header.Get(csrfHeader)
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.csrf)) != 1 {
			return nil, errorf(http.StatusForbidden, codeCSRFFailed, "a %s with a session cookie needs the header %s: the session's csrf_token", r.Method, csrfHeader)
		}
	}
	return c, nil
}

// sessionJSON answers a new session: the cookie is set beside it.
type sessionJSON struct {
	CSRFToken string    `json:"csrf_token"`
	ExpiresAt timestamp `json:"expires_at"`
}

// startSession sets the cookie of a new session of the given kind and answers 201 with
// its CSRF token.
func (s *server) startSession(w http.ResponseWriter, r *http.Request, kind, token string, expires time.Time) {
	ck := s.sessionCookie(r, kind)
	ck.Value, ck.Expires, ck.MaxAge = token, expires, int(time.Until(expires).Seconds())+1
	http.SetCookie(w, ck)
	writeJSON(w, http.StatusCreated, sessionJSON{CSRFToken: csrfToken(token), ExpiresAt: timestamp(expires)})
}

// sessionCookie returns the attributes of the session cookie of a session of the given
// kind: HttpOnly, Secure over TLS (directly or behind a proxy that says so) and
// SameSite=Strict; except that a portal session's cookie, when the portal may be
// embedded (Config.PortalFrameAncestors) and the request came over TLS, is
// SameSite=None; Secure; Partitioned: a browser sends a Strict cookie to no frame on
// another site, and keeps a partitioned one for the embedding site alone (CHIPS).
// Without TLS an embedded portal cannot keep a session: browsers take SameSite=None
// cookies only when Secure.
func (s *server) sessionCookie(r *http.Request, kind string) *http.Cookie {
	ck := &http.Cookie{Name: sessionCookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: overTLS(r)}
	if kind == domain.SessionPortal && s.embedded && ck.Secure {
		ck.SameSite, ck.Partitioned = http.SameSiteNoneMode, true
	}
	return ck
}

// overTLS reports whether the client reached the server over TLS (directly, or through
// a proxy that says so).
func overTLS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// readExchange admits a request that exchanges a credential for a session cookie, once
// the client address's sign-in rate allows it (429 otherwise), and decodes its body into in.
func (s *server) readExchange(w http.ResponseWriter, r *http.Request, in any) error {
	if err := s.signIns.allow(w, r); err != nil {
		return err
	}
	return decodeBody(w, r, maxBodyBytes, false, in)
}

// signInInput is the body of POST /v1/console/sessions.
type signInInput struct {
	APIKey opt[string] `json:"api_key"`
}

// signIn serves POST /v1/console/sessions: an operator exchanges an admin API key for
// a session cookie, so that the key never stays in the browser.
func (s *server) signIn(w http.ResponseWriter, r *http.Request, _ *call) error {
	var in signInInput
	if err := s.readExchange(w, r, &in); err != nil {
		return err
	}
	if !in.APIKey.set {
		return invalidField("api_key", "is required: an admin API key")
	}
	k, err := s.lookupKey(r.Context(), in.APIKey.v)
	if err != nil {
		return err
	}
	if k.AppID != "" {
		return errorf(http.StatusForbidden, codeForbidden, "the console needs an admin API key; this key is for app %s", k.AppID)
	}
	now := s.timeNow()
	token, hash := newToken(sessionTokenPrefix)
	sess := &domain.Session{
		ID: ids.New("ses"), Kind: domain.SessionConsole, Hash: hash, KeyID: k.ID,
		Capabilities: []string{domain.CapRead, domain.CapManage}, CreatedAt: now, ExpiresAt: now.Add(s.consoleTTL),
	}
	if err := s.svc.CreateSession(r.Context(), sess); err != nil {
		return storeError(err, "API key", k.ID)
	}
	s.startSession(w, r, sess.Kind, token, sess.ExpiresAt)
	return nil
}

// signOut serves DELETE /v1/console/sessions/current: it ends the request's session.
func (s *server) signOut(w http.ResponseWriter, r *http.Request, c *call) error {
	if c.session == nil {
		return errorf(http.StatusForbidden, codeForbidden, "signing out ends a cookie session; this request has none")
	}
	if err := s.svc.DeleteSession(r.Context(), c.session.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete session: %w", err)
	}
	ck := s.sessionCookie(r, c.session.Kind) // the same attributes, or a partitioned cookie stays
	ck.MaxAge = -1
	http.SetCookie(w, ck)
	return noContent(w)
}

// portalLinkInput is the body of POST /v1/apps/{app}/portal-sessions.
type portalLinkInput struct {
	ExpiresIn    opt[int64]    `json:"expires_in"`
	Capabilities opt[[]string] `json:"capabilities"`
	EndpointIDs  opt[[]string] `json:"endpoint_ids"`
}

// portalLinkJSON answers a new portal link.
type portalLinkJSON struct {
	URL       string    `json:"url"`
	ExpiresAt timestamp `json:"expires_at"`
}

// createPortalLink serves POST /v1/apps/{app}/portal-sessions: the operator's backend
// mints a single-use link that opens a portal session of the app for its customer.
func (s *server) createPortalLink(w http.ResponseWriter, r *http.Request, c *call) error {
	var in portalLinkInput
	if err := decodeBody(w, r, maxBodyBytes, true, &in); err != nil {
		return err
	}
	ttl := defaultPortalTTL
	if in.ExpiresIn.set {
		ttl = time.Duration(min(in.ExpiresIn.v, 1<<32)) * time.Second // bounded: a huge number must not wrap around
		if err := domain.CheckPortalTTL(ttl); err != nil {
			return err
		}
	}
	caps := []string{domain.CapRead}
	if in.Capabilities.set {
		var err error
		if caps, err = domain.CheckCapabilities(in.Capabilities.v); err != nil {
			return err
		}
	}
	endpoints, err := s.checkEndpointIDs(r.Context(), c.appID, in.EndpointIDs.v)
	if err != nil {
		return err
	}
	now := s.timeNow()
	token, hash := newToken(linkTokenPrefix)
	link := &domain.PortalLink{
		ID: ids.New("pl"), Hash: hash, AppID: c.appID, Capabilities: caps, EndpointIDs: endpoints,
		CreatedAt: now, ExpiresAt: now.Add(ttl),
	}
	if err := s.svc.CreatePortalLink(r.Context(), link); err != nil {
		return storeError(err, "app", c.appID)
	}
	writeJSON(w, http.StatusCreated, portalLinkJSON{URL: s.baseURL(r) + "/portal/#token=" + token, ExpiresAt: timestamp(link.ExpiresAt)})
	return nil
}

// checkEndpointIDs validates a portal link's endpoint_ids: endpoints of the app, each
// once, at most domain.MaxPortalEndpointIDs.
func (s *server) checkEndpointIDs(ctx context.Context, appID string, list []string) ([]string, error) {
	if len(list) > domain.MaxPortalEndpointIDs {
		return nil, invalidField("endpoint_ids", "hold %d ids; the most is %d", len(list), domain.MaxPortalEndpointIDs)
	}
	seen := make(map[string]bool, len(list))
	for i, id := range list {
		field := fmt.Sprintf("endpoint_ids[%d]", i)
		if !ids.Valid("ep", id) {
			return nil, invalidField(field, "must be an endpoint id, not %q", id)
		}
		if seen[id] {
			return nil, invalidField(field, "repeats %s", id)
		}
		seen[id] = true
		if _, err := s.store.GetEndpoint(ctx, appID, id); errors.Is(err, store.ErrNotFound) {
			return nil, invalidField(field, "is not an endpoint of app %s: %s", appID, id)
		} else if err != nil {
			return nil, fmt.Errorf("check endpoint %s: %w", id, err)
		}
	}
	return list, nil
}

// checkPublicURL validates Config.PublicURL and returns it without a trailing slash.
func checkPublicURL(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("api: Config.PublicURL %q: want an http:// or https:// URL such as https://hooks.example.com", raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

// baseURL returns the server's public URL: Config.PublicURL, else the request's
// scheme and host.
func (s *server) baseURL(r *http.Request) string {
	if s.publicURL != "" {
		return s.publicURL
	}
	scheme := "http"
	if overTLS(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// revokePortalSessions serves DELETE /v1/apps/{app}/portal-sessions: every portal
// session of the app ends, and every link not yet used stops working.
func (s *server) revokePortalSessions(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.svc.RevokePortalSessions(r.Context(), c.appID); err != nil {
		return storeError(err, "app", c.appID)
	}
	return noContent(w)
}

// openPortalInput is the body of POST /v1/portal/sessions.
type openPortalInput struct {
	Token opt[string] `json:"token"`
}

// openPortalLink serves POST /v1/portal/sessions: the customer's browser exchanges a
// portal link's token, once, for a session cookie with the link's scope and expiry.
func (s *server) openPortalLink(w http.ResponseWriter, r *http.Request, _ *call) error {
	var in openPortalInput
	if err := s.readExchange(w, r, &in); err != nil {
		return err
	}
	invalid := errorf(http.StatusUnauthorized, codeInvalidToken, "the portal link has expired, was used already or was revoked; ask for a new one")
	linkHash, ok := tokenHash(linkTokenPrefix, in.Token.v)
	if !ok {
		return invalid
	}
	now := s.timeNow()
	token, hash := newToken(sessionTokenPrefix)
	sess := &domain.Session{ID: ids.New("ses"), Kind: domain.SessionPortal, Hash: hash, CreatedAt: now}
	if err := s.svc.OpenPortalLink(r.Context(), linkHash, sess, now); errors.Is(err, store.ErrNotFound) {
		return invalid
	} else if err != nil {
		return fmt.Errorf("open portal link: %w", err)
	}
	s.startSession(w, r, sess.Kind, token, sess.ExpiresAt)
	return nil
}

// whoamiJSON is the answer of GET /v1/session.
type whoamiJSON struct {
	Kind         string     `json:"kind"` // console, portal or api_key
	AppID        string     `json:"app_id,omitempty"`
	AppName      string     `json:"app_name,omitempty"`
	Capabilities []string   `json:"capabilities"`
	EndpointIDs  []string   `json:"endpoint_ids,omitempty"`
	CSRFToken    string     `json:"csrf_token,omitempty"`
	ExpiresAt    *timestamp `json:"expires_at,omitempty"`
	Branding     Branding   `json:"branding"`
}

// getSession serves GET /v1/session: who the caller is, what it may do, and how the
// UI should look for it.
func (s *server) getSession(w http.ResponseWriter, r *http.Request, c *call) error {
	out := whoamiJSON{Kind: "api_key", Capabilities: []string{domain.CapRead, domain.CapManage}, AppID: c.onlyApp, Branding: s.branding}
	if c.session != nil {
		out.Kind, out.Capabilities, out.EndpointIDs = c.session.Kind, c.session.Capabilities, c.session.EndpointIDs
		out.CSRFToken, out.ExpiresAt = c.csrf, jsontime.Opt(&c.session.ExpiresAt)
	}
	if out.AppID != "" {
		app, err := s.store.GetApp(r.Context(), out.AppID)
		if err != nil {
			return storeError(err, "app", out.AppID)
		}
		out.AppName, out.Branding = app.Name, s.branding.forApp(app)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
