package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

// API key format: "hk_" and the unpadded base64url encoding of 32 random bytes, for the
// keys herald makes; an operator's own HERALD_API_KEY may be any "hk_" and 21 to 125
// characters of the same alphabet.
const (
	keyPrefix    = "hk_"
	keyMinLen    = len(keyPrefix) + 21
	keyMaxLen    = 128
	keyPrefixLen = 12 // how much of a key is kept to recognise it

	// APIKeyFormat describes the keys WellFormedAPIKey accepts, for error messages.
	APIKeyFormat = "hk_ followed by 21 to 125 letters, digits, '-' or '_'"
)

// Key cache tuning: a key is looked up in the store at most once per keyCacheTTL.
const (
	keyCacheTTL  = 10 * time.Second
	keyCacheSize = 10000
)

// NewAPIKey returns a new random API key, its prefix (the first 12 characters, to
// recognise it) and its SHA-256 hash (what is stored).
func NewAPIKey() (key, prefix string, hash []byte) {
	key, hash = newToken(keyPrefix)
	return key, key[:keyPrefixLen], hash
}

// HashAPIKey returns the SHA-256 hash of key, as stored.
func HashAPIKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// WellFormedAPIKey reports whether key has the shape of an API key (APIKeyFormat).
func WellFormedAPIKey(key string) bool {
	if len(key) < keyMinLen || len(key) > keyMaxLen || !strings.HasPrefix(key, keyPrefix) {
		return false
	}
	for i := len(keyPrefix); i < len(key); i++ {
		c := key[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// authorize authenticates the request (an API key or a session cookie), checks that
// its caller may use rt, and resolves {app}. Every scope rule of the API is here: admin
// and app keys, console sessions (which act as admin keys) and portal sessions (see
// authorizePortal).
func (s *server) authorize(r *http.Request, rt route) (*call, error) {
	if rt.access == public {
		return &call{}, nil
	}
	c, err := s.authenticate(r)
	if err != nil {
		return nil, err
	}
	if c.session != nil && c.session.Kind == domain.SessionPortal {
		return s.authorizePortal(r, rt, c)
	}
	admin := c.onlyApp == ""
	if rt.access == adminOnly && !admin {
		return nil, errorf(http.StatusForbidden, codeForbidden, "this operation needs an admin API key")
	}
	ref := r.PathValue("app")
	if ref == "" {
		return c, nil
	}
	if s.svc.OperationalAppID() == ref { // reached only through /v1/operational-endpoints
		if !admin {
			return nil, errorf(http.StatusForbidden, codeForbidden, "this API key is not for app %q", ref)
		}
		return nil, notFound("app", ref)
	}
	switch {
	case !admin && ref == c.onlyApp:
		// The key exists, so its app does (keys go with their app).
		c.appID = ref
		return c, nil
	case admin && rt.trustAppID && ids.Valid("app", ref):
		c.appID = ref
		return c, nil
	}
	app, err := s.store.GetApp(r.Context(), ref)
	if err != nil {
		if !admin && errors.Is(err, store.ErrNotFound) {
			return nil, errorf(http.StatusForbidden, codeForbidden, "this API key is not for app %q", ref)
		}
		return nil, storeError(err, "app", ref)
	}
	if !admin && app.ID != c.onlyApp {
		return nil, errorf(http.StatusForbidden, codeForbidden, "this API key is not for app %q", ref)
	}
	c.appID, c.app = app.ID, app
	return c, nil
}

// authorizePortal checks a portal session's request: it reaches only its own app
// (anything else is answered 404, as if it did not exist), only routes open to portal
// sessions with a capability it has, and, when it is limited to some endpoints, only
// those endpoints and their deliveries, attempts and messages.
func (s *server) authorizePortal(r *http.Request, rt route, c *call) (*call, error) {
	sess := c.session
	if ref := r.PathValue("app"); ref != "" {
		if ref != sess.AppID {
			app, err := s.store.GetApp(r.Context(), ref)
			if err != nil || app.ID != sess.AppID {
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return nil, storeError(err, "app", ref)
				}
				return nil, notFound("app", ref)
			}
			c.app = app
		}
		c.appID = sess.AppID
	}
	switch {
	case rt.portal == "":
		return nil, errorf(http.StatusForbidden, codeForbidden, "a portal session cannot use this operation")
	case !sess.Can(rt.portal):
		return nil, errorf(http.StatusForbidden, codeForbidden, "this portal session may only read")
	case len(sess.EndpointIDs) == 0:
		return c, nil
	case rt.allEndpoints:
		return nil, errorf(http.StatusForbidden, codeForbidden, "this portal session is limited to some endpoints")
	}
	ctx := r.Context()
	if id := r.PathValue("ep"); id != "" && !sess.SeesEndpoint(id) {
		return nil, notFound("endpoint", id)
	}
	if id := r.URL.Query().Get("endpoint_id"); id != "" && !sess.SeesEndpoint(id) {
		return nil, notFound("endpoint", id)
	}
	if id := r.PathValue("dlv"); id != "" {
		d, err := s.store.GetDelivery(ctx, c.appID, id)
		if err != nil {
			return nil, storeError(err, "delivery", id)
		}
		if !sess.SeesEndpoint(d.EndpointID) {
			return nil, notFound("delivery", id)
		}
	}
	if id := r.PathValue("msg"); id != "" {
		ds, _, err := s.store.ListDeliveries(ctx, store.DeliveryFilter{AppID: c.appID, MessageID: id, EndpointIDs: sess.EndpointIDs, Page: store.Page{Limit: 1}})
		if err != nil {
			return nil, fmt.Errorf("list deliveries of message %s: %w", id, err)
		}
		if len(ds) == 0 {
			return nil, notFound("message", id)
		}
	}
	return c, nil
}

// endpointScope returns the endpoints the caller is limited to, nil for all of the app's.
func (c *call) endpointScope() []string {
	if c.endpoints != nil {
		return c.endpoints
	}
	if c.session == nil {
		return nil
	}
	return c.session.EndpointIDs
}

// authenticate identifies the caller: by the API key of the Authorization header, else
// by the session cookie, whose state-changing requests must carry the session's CSRF
// token.
func (s *server) authenticate(r *http.Request) (*call, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		if ck, err := r.Cookie(sessionCookie); err == nil {
			return s.authenticateSession(r, ck.Value)
		}
		return nil, errorf(http.StatusUnauthorized, codeUnauthorized, "missing Authorization header; send Authorization: Bearer <api key>")
	}
	scheme, key, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, errorf(http.StatusUnauthorized, codeUnauthorized, "malformed Authorization header; send Authorization: Bearer <api key>")
	}
	k, err := s.lookupKey(r.Context(), strings.TrimSpace(key))
	if err != nil {
		return nil, err
	}
	return &call{key: k, onlyApp: k.AppID}, nil
}

// lookupKey returns the stored API key key, from the cache when it is there.
func (s *server) lookupKey(ctx context.Context, key string) (*domain.APIKey, error) {
	if !WellFormedAPIKey(key) {
		return nil, errorf(http.StatusUnauthorized, codeUnauthorized, "malformed API key; keys are "+APIKeyFormat)
	}
	hash := sha256.Sum256([]byte(key))
	if k := s.keys.get(hash); k != nil {
		return k, nil
	}
	k, err := s.store.APIKeyByHash(ctx, hash[:])
	if errors.Is(err, store.ErrNotFound) {
		return nil, errorf(http.StatusUnauthorized, codeUnauthorized, "unknown API key")
	}
	if err != nil {
		return nil, fmt.Errorf("look up API key: %w", err)
	}
	s.keys.put(hash, k)
	return k, nil
}

// keyCache remembers recently used API keys so that most requests need no store
// lookup; it is safe for concurrent use.
type keyCache struct {
	ttl  time.Duration
	size int
	now  func() time.Time

	mu      sync.RWMutex
	entries map[[sha256.Size]byte]keyEntry
}

type keyEntry struct {
	key     *domain.APIKey
	expires time.Time
}

func newKeyCache(ttl time.Duration, size int, now func() time.Time) *keyCache {
	return &keyCache{ttl: ttl, size: size, now: now, entries: make(map[[sha256.Size]byte]keyEntry)}
}

// get returns the cached key with this hash, or nil.
func (c *keyCache) get(hash [sha256.Size]byte) *domain.APIKey {
	c.mu.RLock()
	e, ok := c.entries[hash]
	c.mu.RUnlock()
	if !ok || !c.now().Before(e.expires) {
		return nil
	}
	return e.key
}

// put caches k under hash, making room if the cache is full.
func (c *keyCache) put(hash [sha256.Size]byte, k *domain.APIKey) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.size {
		for h, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, h)
			}
		}
		if len(c.entries) >= c.size {
			clear(c.entries)
		}
	}
	c.entries[hash] = keyEntry{key: k, expires: now.Add(c.ttl)}
}

// drop forgets the keys for which match returns true.
func (c *keyCache) drop(match func(*domain.APIKey) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, e := range c.entries {
		if match(e.key) {
			delete(c.entries, h)
		}
	}
}
