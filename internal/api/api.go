// Package api is herald's REST API: apps, API keys, endpoints, messages, deliveries
// and attempts under /v1, as docs/api.md describes, and the OpenAPI document that
// describes it at /openapi.yaml.
package api

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/jsontime"
	"github.com/heraldhq/herald/internal/netguard"
	"github.com/heraldhq/herald/internal/service"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/transform"
	"golang.org/x/sync/semaphore"
)

// openapiYAML is the OpenAPI 3 description of the API, served at /openapi.yaml.
//
//go:embed openapi.yaml
var openapiYAML []byte

// OpenAPI returns the OpenAPI 3 document that describes the API, as served at
// /openapi.yaml; docs/api.md says how to read it.
func OpenAPI() []byte { return bytes.Clone(openapiYAML) }

// Engine is what the API needs from the delivery engine (through the service).
type Engine = service.Engine

// Config configures the API handler.
type Config struct {
	Store           store.Store      // required: the API reads from it
	Engine          Engine           // required unless Service is set
	Guard           *netguard.Guard  // checks endpoint URLs; required
	Resolver        *net.Resolver    // for Guard.CheckURL; nil = net.DefaultResolver
	Logger          *slog.Logger     // nil = slog.Default()
	MaxPayloadBytes int64            // the largest message payload; default 256 KiB (262144)
	SecretGrace     time.Duration    // how long rotated-out secrets keep signing by default; default 24h
	Now             func() time.Time // nil = time.Now
	// Sources keeps the receiving gateway's sources; nil answers 501 on source routes.
	Sources store.SourceStore
	// OnSourceChanged is told when a source is updated or deleted (to drop caches).
	OnSourceChanged func(sourceID string)
	// Listener runs `herald listen` sessions; nil answers 501 on GET /v1/listen.
	Listener Listener
	// Service makes every change; nil builds one from Store, Engine, Sources and
	// OnSourceChanged. A server that runs the gateway too passes the one they share.
	Service *service.Service
	// PublicURL is the server's address as browsers reach it, such as
	// https://hooks.example.com, for portal links; "" uses the request's scheme and host.
	PublicURL string
	// Branding is what GET /v1/session tells the UI; empty fields take DefaultBranding's.
	Branding Branding
	// ConsoleSessionTTL is how long a console sign-in lasts; default 12h.
	ConsoleSessionTTL time.Duration
	// NodeID names this node in GET /v1/stats and /v1/nodes.
	NodeID string
	// NodeTimeout is how long a node may go without a heartbeat before GET /v1/nodes
	// calls it stale; default 10 s, the delivery engine's.
	NodeTimeout time.Duration
	// PortalFrameAncestors are the origins allowed to embed the portal in a frame; when
	// there are any, portal session cookies set over TLS are SameSite=None; Secure;
	// Partitioned, so that they work in a cross-site frame.
	PortalFrameAncestors []string

	// PublishBytesInFlight bounds the request-body bytes of publishes read at once, server
	// wide; default DefaultPublishBytesInFlight, negative for no bound.
	PublishBytesInFlight int64
}

// Defaults of Config.
const (
	defaultMaxPayloadBytes = 256 << 10
	defaultSecretGrace     = 24 * time.Hour
)

// server is the API handler.
type server struct {
	store       store.Store      // reads
	svc         *service.Service // every write
	guard       *netguard.Guard
	resolver    *net.Resolver
	log         *slog.Logger
	maxPayload  int64
	secretGrace time.Duration
	now         func() time.Time
	keys        *keyCache
	mux         *http.ServeMux

	sources  store.SourceStore
	listener Listener
	sandbox  *transform.Sandbox // POST /v1/transformations/test

	publicURL  string
	branding   Branding
	consoleTTL time.Duration
	nodeID     string
	signIns    *ipLimiter
	// startedAt is when this handler was made: this node's start in GET /v1/nodes and /v1/status.
	startedAt   time.Time
	nodeTimeout time.Duration
	embedded    bool // the portal may be framed (Config.PortalFrameAncestors)

	publishBudget *semaphore.Weighted // nil: no bound
	publishBytes  int64               // its size
}

// New returns the API handler: it serves /v1/... and /openapi.yaml, and answers
// anything else with a JSON 404 (or 405 for a known path with another method).
func New(cfg Config) (http.Handler, error) {
	s, err := newServer(cfg)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func newServer(cfg Config) (*server, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("api: Config.Store is required")
	case cfg.Engine == nil && cfg.Service == nil:
		return nil, errors.New("api: Config.Engine is required")
	case cfg.Guard == nil:
		return nil, errors.New("api: Config.Guard is required")
	case cfg.MaxPayloadBytes < 0:
		return nil, errors.New("api: Config.MaxPayloadBytes is negative")
	case cfg.SecretGrace < 0:
		return nil, errors.New("api: Config.SecretGrace is negative")
	case cfg.ConsoleSessionTTL < 0:
		return nil, errors.New("api: Config.ConsoleSessionTTL is negative")
	case cfg.NodeTimeout < 0:
		return nil, errors.New("api: Config.NodeTimeout is negative")
	}
	publicURL, err := checkPublicURL(cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	if err := cfg.Branding.Check(); err != nil {
		return nil, fmt.Errorf("api: Config.Branding: %w", err)
	}
	s := &server{
		store:       cfg.Store,
		guard:       cfg.Guard,
		resolver:    cfg.Resolver,
		log:         logger(cfg.Logger),
		maxPayload:  cfg.MaxPayloadBytes,
		secretGrace: cfg.SecretGrace,
		now:         cfg.Now,
		mux:         http.NewServeMux(),

		sources:  cfg.Sources,
		listener: cfg.Listener,

		publicURL:  publicURL,
		branding:   cfg.Branding.withDefaults(),
		consoleTTL: cfg.ConsoleSessionTTL,
		nodeID:     cfg.NodeID,

		nodeTimeout: cfg.NodeTimeout,
		embedded:    len(cfg.PortalFrameAncestors) > 0,
	}
	s.svc = cfg.Service
	if s.svc == nil {
		svc, err := service.New(service.Config{
			Store: cfg.Store, Engine: cfg.Engine, Sources: cfg.Sources, OnSourceChanged: cfg.OnSourceChanged,
		})
		if err != nil {
			return nil, fmt.Errorf("api: %w", err)
		}
		s.svc = svc
	}
	if s.maxPayload == 0 {
		s.maxPayload = defaultMaxPayloadBytes
	}
	switch s.publishBytes = cfg.PublishBytesInFlight; {
	case s.publishBytes == 0:
		s.publishBytes = DefaultPublishBytesInFlight
	case s.publishBytes < 0:
		s.publishBytes = 0
	}
	if s.publishBytes > 0 {
		s.publishBudget = semaphore.NewWeighted(s.publishBytes)
	}
	if s.secretGrace == 0 {
		s.secretGrace = defaultSecretGrace
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.consoleTTL == 0 {
		s.consoleTTL = defaultConsoleTTL
	}
	if s.nodeTimeout == 0 {
		s.nodeTimeout = defaultNodeTimeout
	}
	s.startedAt = s.timeNow()
	s.keys = newKeyCache(keyCacheTTL, keyCacheSize, s.now)
	s.sandbox = s.newSandbox()
	s.signIns = newIPLimiter(signInEvery, signInBurst, limiterSize, s.now)
	for _, rt := range s.routes() {
		s.mux.Handle(rt.pattern, s.wrap(rt))
	}
	s.mux.HandleFunc("GET /openapi.yaml", serveOpenAPI)
	return s, nil
}

// access says which API keys may use a route.
type access int

const (
	adminOnly access = iota // admin keys and console sessions
	appAccess               // also the key of the app named by {app} (on routes without {app}, any app key: the handler checks)
	anyCaller               // every authenticated caller
	public                  // no authentication
)

// call is what the auth layer learned about a request.
type call struct {
	key     *domain.APIKey  // the API key of a bearer request
	session *domain.Session // the session of a cookie request
	csrf    string          // that session's CSRF token
	onlyApp string          // the one app the caller may reach, "" for admin rights
	appID   string          // the id of the {app} in the path, "" on routes without one
	app     *domain.App     // that app, when it was read to resolve {app}
	// endpoints, when set, limits the request to these endpoints of appID, as a portal
	// session limited to some endpoints is (the routes of one operational endpoint).
	endpoints []string
}

// handler serves one route; an error is answered by writeError.
type handler func(w http.ResponseWriter, r *http.Request, c *call) error

// route is one operation of the API.
type route struct {
	pattern string
	access  access
	// trustAppID lets an admin key's {app} in id form through without reading the app,
	// because the handler's store call fails with ErrNotFound for a missing app anyway.
	trustAppID bool
	// portal is the capability a portal session needs for the route; "" closes the route to them.
	portal string
	// allEndpoints closes the route to portal sessions limited to some endpoints.
	allEndpoints bool
	// query says the route reads query parameters (and refuses the ones it does not
	// know); any other route refuses a query string.
	query  bool
	handle handler
}

// routes lists every operation of the API.
func (s *server) routes() []route {
	const read, manage = domain.CapRead, domain.CapManage
	return append([]route{
		{pattern: "POST /v1/apps", access: adminOnly, handle: s.createApp},
		{pattern: "GET /v1/apps", access: adminOnly, query: true, handle: s.listApps},
		{pattern: "GET /v1/apps/{app}", access: appAccess, handle: s.getApp},
		{pattern: "PATCH /v1/apps/{app}", access: appAccess, handle: s.updateApp},
		{pattern: "DELETE /v1/apps/{app}", access: adminOnly, handle: s.deleteApp},

		{pattern: "POST /v1/apps/{app}/api-keys", access: appAccess, handle: s.createAppKey},
		{pattern: "GET /v1/apps/{app}/api-keys", access: appAccess, query: true, handle: s.listAppKeys},
		{pattern: "DELETE /v1/apps/{app}/api-keys/{key_id}", access: appAccess, handle: s.deleteAppKey},
		{pattern: "POST /v1/api-keys", access: adminOnly, handle: s.createAdminKey},
		{pattern: "GET /v1/api-keys", access: adminOnly, query: true, handle: s.listAdminKeys},
		{pattern: "DELETE /v1/api-keys/{key_id}", access: adminOnly, handle: s.deleteAdminKey},

		{pattern: "POST /v1/filters/test", access: appAccess, portal: read, handle: s.testFilter},
		{pattern: "POST /v1/transformations/test", access: appAccess, portal: read, handle: s.testTransformation},
		{pattern: "GET /v1/transformations/templates", access: anyCaller, portal: read, handle: s.listTemplates},
		{pattern: "POST /v1/apps/{app}/endpoints", access: appAccess, portal: manage, allEndpoints: true, handle: s.createEndpoint},
		{pattern: "GET /v1/apps/{app}/endpoints", access: appAccess, portal: read, query: true, handle: s.listEndpoints},
		{pattern: "GET /v1/apps/{app}/endpoints/{ep}", access: appAccess, portal: read, handle: s.getEndpoint},
		{pattern: "PATCH /v1/apps/{app}/endpoints/{ep}", access: appAccess, portal: manage, handle: s.updateEndpoint},
		{pattern: "DELETE /v1/apps/{app}/endpoints/{ep}", access: appAccess, portal: manage, handle: s.deleteEndpoint},
		{pattern: "GET /v1/apps/{app}/endpoints/{ep}/secret", access: appAccess, portal: manage, handle: s.getEndpointSecrets},
		{pattern: "POST /v1/apps/{app}/endpoints/{ep}/secret/rotate", access: appAccess, portal: manage, handle: s.rotateEndpointSecret},
		{pattern: "POST /v1/apps/{app}/endpoints/{ep}/replay", access: appAccess, portal: manage, handle: s.replayEndpoint},
		{pattern: "GET /v1/apps/{app}/endpoints/{ep}/stats", access: appAccess, portal: read, query: true, handle: s.endpointStats},
		{pattern: "POST /v1/apps/{app}/endpoints/{ep}/test", access: appAccess, portal: manage, handle: s.testEndpoint},

		{pattern: "POST /v1/apps/{app}/messages", access: appAccess, trustAppID: true, handle: s.publishMessage},
		{pattern: "POST /v1/apps/{app}/messages/batch", access: appAccess, trustAppID: true, handle: s.publishBatch},
		{pattern: "GET /v1/apps/{app}/messages", access: appAccess, portal: read, query: true, handle: s.listMessages},
		{pattern: "GET /v1/apps/{app}/messages/{msg}", access: appAccess, portal: read, handle: s.getMessage},

		{pattern: "GET /v1/apps/{app}/deliveries", access: appAccess, portal: read, query: true, handle: s.listDeliveries},
		{pattern: "GET /v1/apps/{app}/deliveries/{dlv}", access: appAccess, portal: read, handle: s.getDelivery},
		{pattern: "POST /v1/apps/{app}/deliveries/{dlv}/retry", access: appAccess, portal: manage, handle: s.retryDelivery},
		{pattern: "GET /v1/apps/{app}/deliveries/{dlv}/attempts", access: appAccess, portal: read, query: true, handle: s.listDeliveryAttempts},
		{pattern: "GET /v1/apps/{app}/attempts", access: appAccess, portal: read, query: true, handle: s.listAttempts},

		{pattern: "POST /v1/apps/{app}/sources", access: appAccess, handle: s.createSource},
		{pattern: "GET /v1/apps/{app}/sources", access: appAccess, query: true, handle: s.listSources},
		{pattern: "GET /v1/apps/{app}/sources/{src}", access: appAccess, handle: s.getSource},
		{pattern: "PATCH /v1/apps/{app}/sources/{src}", access: appAccess, handle: s.updateSource},
		{pattern: "DELETE /v1/apps/{app}/sources/{src}", access: appAccess, handle: s.deleteSource},
		{pattern: "GET /v1/apps/{app}/sources/{src}/secrets", access: appAccess, handle: s.getSourceSecrets},
		{pattern: "GET /v1/apps/{app}/sources/{src}/rejections", access: appAccess, query: true, handle: s.listRejections},
		{pattern: "GET /v1/sources/{src}", access: appAccess, handle: s.getSourceByID},
		{pattern: "GET /v1/listen", access: appAccess, query: true, handle: s.listen},

		{pattern: "POST /v1/console/sessions", access: public, handle: s.signIn},
		{pattern: "DELETE /v1/console/sessions/current", access: anyCaller, portal: read, handle: s.signOut},
		{pattern: "POST /v1/apps/{app}/portal-sessions", access: appAccess, handle: s.createPortalLink},
		{pattern: "DELETE /v1/apps/{app}/portal-sessions", access: appAccess, handle: s.revokePortalSessions},
		{pattern: "POST /v1/portal/sessions", access: public, handle: s.openPortalLink},
		{pattern: "GET /v1/session", access: anyCaller, portal: read, handle: s.getSession},

		{pattern: "POST /v1/event-types", access: adminOnly, handle: s.createEventType},
		{pattern: "GET /v1/event-types", access: anyCaller, portal: read, query: true, handle: s.listEventTypes},
		{pattern: "GET /v1/event-types/{name}", access: anyCaller, portal: read, handle: s.getEventType},
		{pattern: "PATCH /v1/event-types/{name}", access: adminOnly, handle: s.updateEventType},
		{pattern: "DELETE /v1/event-types/{name}", access: adminOnly, handle: s.deleteEventType},

		{pattern: "GET /v1/stats", access: adminOnly, handle: s.serverStats},
		{pattern: "GET /v1/nodes", access: adminOnly, handle: s.listNodes},

		{pattern: "POST /v1/apps/{app}/replay", access: appAccess, portal: manage, allEndpoints: true, handle: s.createAppReplay},
		{pattern: "GET /v1/apps/{app}/replays", access: appAccess, portal: read, allEndpoints: true, query: true, handle: s.listAppReplays},
		{pattern: "GET /v1/apps/{app}/replays/{rpl}", access: appAccess, portal: read, allEndpoints: true, handle: s.getAppReplay},
		{pattern: "POST /v1/apps/{app}/replays/{rpl}/cancel", access: appAccess, portal: manage, allEndpoints: true, handle: s.cancelAppReplay},
		{pattern: "GET /v1/apps/{app}/listeners", access: appAccess, query: true, handle: s.listListeners},
	}, s.operationalRoutes()...)
}

// wrap authenticates and authorizes a request for rt, then runs its handler.
func (s *server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		c, err := s.authorize(r, rt)
		if err == nil && !rt.query && r.URL.RawQuery != "" {
			err = errorf(http.StatusBadRequest, codeInvalidQuery, "%s takes no query parameters; got %q", rt.pattern, r.URL.RawQuery)
		}
		if err == nil {
			err = rt.handle(w, r, c)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

// ServeHTTP routes a request, answering unknown routes and methods with JSON errors.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "api: handler panicked", "method", r.Method, "route", r.Pattern, "panic", v)
			writeJSONError(w, http.StatusInternalServerError, codeInternal, "internal error; the server log has the details")
		}
	}()
	if h, pattern := s.mux.Handler(r); pattern == "" {
		s.noRoute(w, r, h)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// noRoute answers a request that matches no pattern: 405 when the path exists with
// other methods (as the mux's own handler h reports), else 404.
func (s *server) noRoute(w http.ResponseWriter, r *http.Request, h http.Handler) {
	cw := &captureWriter{header: http.Header{}}
	h.ServeHTTP(cw, r)
	if cw.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", cw.header.Get("Allow"))
		writeJSONError(w, http.StatusMethodNotAllowed, codeMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path+"; allowed: "+cw.header.Get("Allow"))
		return
	}
	writeJSONError(w, http.StatusNotFound, codeNotFound, "no route "+r.Method+" "+r.URL.Path)
}

// captureWriter records the status and headers an http.Handler answers with and
// discards the body.
type captureWriter struct {
	header http.Header
	status int
}

func (c *captureWriter) Header() http.Header { return c.header }

func (c *captureWriter) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *captureWriter) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	return len(b), nil
}

// serveOpenAPI serves the OpenAPI document.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/yaml")
	h.Set("Content-Length", strconv.Itoa(len(openapiYAML)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(openapiYAML)
	}
}

// writeJSON answers v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	if a, ok := v.(jsonAppender); ok {
		writeAppended(w, status, a)
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Response types are plain data, so this means a stored payload is not valid JSON.
		buf.Reset()
		status = http.StatusInternalServerError
		buf.WriteString(`{"error":{"code":"internal","message":"internal error: the answer cannot be encoded"}}` + "\n")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// noContent answers 204.
func noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// list is the JSON shape of every list answer.
type list[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// writeList answers a page of records converted with conv.
func writeList[S, T any](w http.ResponseWriter, items []S, next string, conv func(S) T) error {
	out := list[T]{Data: make([]T, 0, len(items)), NextCursor: next}
	for _, it := range items {
		out.Data = append(out.Data, conv(it))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// writePage answers the page a store listing returned, or the listing's error.
func writePage[S, T any](w http.ResponseWriter, what string, items []S, next string, err error, conv func(S) T) error {
	if err != nil {
		return fmt.Errorf("list %s: %w", what, err)
	}
	return writeList(w, items, next, conv)
}

// writeOne answers conv(v) with status, or err, the error of the call that gave v.
func writeOne[S, T any](w http.ResponseWriter, status int, v S, err error, conv func(S) T) error {
	if err != nil {
		return err
	}
	writeJSON(w, status, conv(v))
	return nil
}

// loadPath reads the record of c's app that the path parameter param names, with get;
// what names the record in a not-found error.
func loadPath[T any](r *http.Request, c *call, param, what string, get func(ctx context.Context, appID, id string) (T, error)) (T, error) {
	id := r.PathValue(param)
	v, err := get(r.Context(), c.appID, id)
	return v, storeError(err, what, id)
}

// timestamp is a time answered in RFC 3339, UTC, with milliseconds.
type timestamp = jsontime.Time

// nonNil returns m, or an empty map for nil, so that it is answered as {}.
func nonNil[M ~map[K]V, K comparable, V any](m M) M {
	if m == nil {
		return M{}
	}
	return m
}
