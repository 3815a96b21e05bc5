// Package server assembles herald's delivery server: the store, the delivery engine,
// the REST API and the operational endpoints, with a graceful shutdown.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/internal/api"
	"github.com/heraldhq/herald/internal/console"
	"github.com/heraldhq/herald/internal/crypt"
	"github.com/heraldhq/herald/internal/datadir"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/ingest"
	"github.com/heraldhq/herald/internal/netguard"
	"github.com/heraldhq/herald/internal/opevents"
	"github.com/heraldhq/herald/internal/relay"
	"github.com/heraldhq/herald/internal/service"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/postgres"
	"github.com/heraldhq/herald/internal/store/sqlite"
	"github.com/heraldhq/herald/internal/telemetry"
	"github.com/heraldhq/herald/internal/tracing"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel/trace"
)

// Config is everything `herald serve` can be told.
type Config struct {
	Addr          string         // listen address, default 127.0.0.1:8080
	DataDir       string         // default ./herald-data
	Database      string         // a postgres:// URL, or "sqlite:PATH" / a file path; default DataDir/herald.db
	APIKey        string         // an admin key to accept (HERALD_API_KEY); otherwise one is created on first start
	EncryptionKey string         // HERALD_ENCRYPTION_KEY; otherwise DataDir/encryption.key
	AllowNetworks []netip.Prefix // exceptions to the SSRF guard
	EgressProxy   *url.URL       // an HTTP CONNECT proxy for webhook requests (--egress-proxy, HTTPS_PROXY); nil: direct
	Synchronous   string         // SQLite synchronous pragma: FULL (default) or NORMAL
	// Rejections bounds the gateway's rejected requests kept (rows, bytes, retention;
	// --rejection-retention); zero fields take the store's defaults.
	Rejections store.RejectionLimits

	Workers             int
	AppWorkers          int // most requests in flight for one app; default half of Workers
	EndpointConcurrency int
	Timeout             time.Duration
	RetrySchedule       []time.Duration
	Retention           time.Duration
	DisableAfter        time.Duration
	ListenerExpiry      time.Duration // fail a gone listener's pending deliveries after this (0: 24 h; negative: never)
	ListenerIdle        time.Duration // remove a listener endpoint unused this long (0: 7 days; negative: never)
	MaxPayloadBytes     int64
	ShutdownTimeout     time.Duration // default 30 s
	NodeID              string
	NodeTimeout         time.Duration // PostgreSQL: silence after which a node's deliveries go to the others; default 10 s
	UserAgent           string        // the User-Agent header of webhook requests; default herald's own

	// PublicURL is the server's address as browsers reach it (https://hooks.example.com),
	// for portal links; "" uses each request's own scheme and host.
	PublicURL string
	// Branding is the console's and portal's look; apps override it with brand.* metadata.
	Branding api.Branding
	// ConsoleSessionTTL is how long a console sign-in lasts; default 12h.
	ConsoleSessionTTL time.Duration
	// PortalFrameAncestors are the origins allowed to embed /portal/ in a frame (the
	// Content-Security-Policy frame-ancestors list); empty allows none.
	PortalFrameAncestors []string

	// Limits against slow and hostile clients (docs/delivery.md, "Limits"): 0 takes the
	// default, a negative value turns the limit off.
	MaxConnections       int           // connections open at once; default DefaultMaxConnections
	HeaderTimeout        time.Duration // to read a request's headers; default DefaultHeaderTimeout
	BodyTimeout          time.Duration // to read a request's body; default DefaultBodyTimeout
	IdleTimeout          time.Duration // a kept-alive connection may wait for its next request; default DefaultIdleTimeout
	PublishBytesInFlight int64         // request-body bytes of publishes read at once; default api.DefaultPublishBytesInFlight

	// Watching it (docs/observability.md).
	Telemetry    telemetry.Config // OpenTelemetry, from the OTEL_* variables; the zero Config exports nothing
	AdminAddr    string           // serve /metrics (and pprof) on this address instead of Addr; "" keeps /metrics on Addr
	PProf        bool             // serve Go's profiles at /debug/pprof/ on AdminAddr
	MetricsToken string           // require Authorization: Bearer <token> on /metrics and pprof; "" leaves them open

	// Operational webhooks (docs/operational-webhooks.md): OpFailingAfter consecutive
	// failed attempts of an endpoint send message.attempt.failing (0: 4; negative:
	// never); OpRejectionSpike says when source.rejections.spiking is sent (zero fields:
	// the defaults).
	OpFailingAfter   int
	OpRejectionSpike opevents.SpikeConfig
	// MaintenanceInterval is how often the engine disables failing endpoints, purges and
	// parks backlogs (default 1 min); tests shorten it.
	MaintenanceInterval time.Duration
}

// FrameAncestors returns the CSP frame-ancestors source list of /portal/ for
// PortalFrameAncestors: the origins, or 'none'.
func (c Config) FrameAncestors() string {
	if len(c.PortalFrameAncestors) == 0 {
		return "'none'"
	}
	return strings.Join(c.PortalFrameAncestors, " ")
}

// Server is a running herald delivery server.
type Server struct {
	cfg      Config
	log      *slog.Logger
	store    store.Store
	engine   *delivery.Engine
	svc      *service.Service // every change; runs the app-wide replays
	hub      *relay.Hub
	handler  http.Handler
	ready    atomic.Bool
	registry *prometheus.Registry
	writes   *writeHealth
	ops      *opevents.Notifier
	opApp    string // the operational app's id

	telemetry *telemetry.Telemetry
	adminAddr atomic.Value // string: where the admin endpoints listen, once they do
}

// New opens the store, creates the first admin key if needed (printing it to out once),
// and builds the engine and the HTTP handler. Call Run to serve.
func New(ctx context.Context, cfg Config, log *slog.Logger, out io.Writer) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8080"
	}
	if cfg.DataDir == "" {
		cfg.DataDir = "herald-data"
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	if err := checkFrameAncestors(cfg.PortalFrameAncestors); err != nil {
		return nil, err
	}
	if err := cfg.checkObservability(); err != nil {
		return nil, err
	}
	log = slog.New(tracing.LogHandler(log.Handler())) // lines logged in a trace name it
	box, err := openDataDir(&cfg)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg, box, log)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, store: st, registry: prometheus.NewRegistry(), writes: &writeHealth{now: time.Now, hold: writeFailureHold}}
	if err := s.build(ctx, out); err != nil {
		s.closeEarly()
		return nil, err
	}
	return s, nil
}

// openDataDir creates the data directory and returns the box that seals secrets with
// its key; it names the node after the directory when cfg has no node id.
func openDataDir(cfg *Config) (*crypt.Box, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	key, err := crypt.LoadKey(cfg.DataDir, cfg.EncryptionKey)
	if err != nil {
		return nil, err
	}
	box, err := crypt.NewBox(key)
	if err != nil {
		return nil, err
	}
	if cfg.NodeID == "" { // one id per data directory: a restart takes its leases back at once
		if cfg.NodeID, err = datadir.NodeID(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	return box, nil
}

// build makes everything around the open store: the admin key, telemetry, the engine,
// operational webhooks, the service, the gateway, the API and the HTTP handler.
func (s *Server) build(ctx context.Context, out io.Writer) error {
	cfg, st, log := s.cfg, s.store, s.log
	if err := s.ensureAdminKey(ctx, out); err != nil {
		return err
	}
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := s.setupTelemetry(ctx); err != nil {
		return err
	}
	tp := s.telemetry.TracerProvider()
	guard := netguard.New(cfg.AllowNetworks)
	s.hub = relay.NewHub(log)
	s.registerListenerGauge()
	var err error
	if s.ops, err = opevents.New(opevents.Config{Store: st, Logger: log, FailingAfter: cfg.OpFailingAfter, Spike: cfg.OpRejectionSpike}); err != nil {
		return err
	}
	if err := s.newEngine(guard, tp); err != nil {
		return err
	}
	apiCfg := api.Config{
		Store: st, Engine: s.engine, Guard: guard, Logger: log, MaxPayloadBytes: cfg.MaxPayloadBytes, Listener: s.hub,
		PublicURL: cfg.PublicURL, Branding: cfg.Branding, ConsoleSessionTTL: cfg.ConsoleSessionTTL, NodeID: s.engine.NodeID(),
		NodeTimeout: cfg.NodeTimeout, PortalFrameAncestors: cfg.PortalFrameAncestors,
		PublishBytesInFlight: cfg.PublishBytesInFlight,
	}
	inbound, err := s.newService(ctx, &apiCfg, tp)
	if err != nil {
		return err
	}
	apiHandler, err := api.New(apiCfg)
	if err != nil {
		return err
	}
	ui, err := console.New(console.Config{PortalFrameAncestors: cfg.PortalFrameAncestors})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/console/", ui)
	mux.Handle("/portal/", ui)
	mux.Handle("GET /console", ui)
	mux.Handle("GET /portal", ui)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok"}`+"\n")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	if cfg.AdminAddr == "" {
		mux.Handle("GET /metrics", s.metricsHandler())
	}
	mux.Handle("/in/{source}", inbound)
	mux.Handle("/", apiHandler)
	s.handler = guardBody(s.writes.watch(tracing.Handler(mux, tp, untraced...)), orDefault(cfg.BodyTimeout, DefaultBodyTimeout))
	return nil
}

// newEngine makes the delivery engine and has it follow the listeners' hub.
func (s *Server) newEngine(guard *netguard.Guard, tp trace.TracerProvider) error {
	cfg := s.cfg
	policy := delivery.DefaultPolicy()
	if len(cfg.RetrySchedule) > 0 {
		policy.Schedule = cfg.RetrySchedule
	}
	var err error
	s.engine, err = delivery.New(delivery.Config{
		Store: s.store, Logger: s.log, Metrics: delivery.NewMetrics(s.registry), Tracing: tp, Guard: guard, EgressProxy: cfg.EgressProxy, Relay: s.hub, NodeID: cfg.NodeID,
		Policy: policy, Workers: cfg.Workers, AppWorkers: cfg.AppWorkers, NodeTimeout: cfg.NodeTimeout, EndpointConcurrency: cfg.EndpointConcurrency, Timeout: cfg.Timeout,
		Retention: cfg.Retention, DisableAfter: cfg.DisableAfter, UserAgent: cfg.UserAgent,
		ListenerExpiry: cfg.ListenerExpiry, ListenerIdle: cfg.ListenerIdle,
		Observer: s.ops, MaintenanceInterval: cfg.MaintenanceInterval,
	})
	if err != nil {
		return err
	}
	s.hub.OnChange = func(endpointID string, connected bool) {
		s.engine.ListenerSeen(context.Background(), endpointID)
		s.engine.EndpointChanged(endpointID)
		if connected {
			s.engine.Wake() // what waited for the listener goes now
		}
	}
	return nil
}

// newService makes the service every write goes through and, when the store keeps
// sources, the gateway; it sets both in apiCfg and returns the handler of /in/{source}.
func (s *Server) newService(ctx context.Context, apiCfg *api.Config, tp trace.TracerProvider) (http.Handler, error) {
	svcCfg := service.Config{Store: s.store, Engine: s.engine, Observer: s.ops, Logger: s.log}
	var inbound http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotImplemented)
		io.WriteString(w, `{"error":{"code":"not_implemented","message":"this server's database does not support sources"}}`+"\n")
	})
	var in *ingest.Handler
	ss, hasSources := s.store.(store.SourceStore)
	if hasSources {
		svcCfg.Sources, svcCfg.OnSourceChanged = ss, func(id string) { in.SourceChanged(id) }
	}
	svc, err := service.New(svcCfg)
	if err != nil {
		return nil, err
	}
	s.svc = svc
	if hasSources {
		if in, err = ingest.New(ingest.Config{Sources: ss, Publisher: svc, Logger: s.log, Metrics: ingest.NewMetrics(s.registry), Tracing: tp, Observer: s.ops}); err != nil {
			return nil, err
		}
		apiCfg.Sources, inbound = ss, in
	}
	apiCfg.Service = svc
	if s.opApp, err = svc.EnsureOperationalApp(ctx, time.Now()); err != nil {
		return nil, err
	}
	return inbound, nil
}

// checkFrameAncestors validates the origins allowed to frame the portal: each an
// http(s) origin without a path (a host may start with *. for its subdomains), so that
// nothing can be injected into the Content-Security-Policy header.
func checkFrameAncestors(origins []string) error {
	for _, o := range origins {
		u, err := url.Parse(o)
		host := ""
		if err == nil {
			host = strings.TrimPrefix(u.Host, "*.")
		}
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || host == "" || strings.ContainsAny(host, "*;, '\"") ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return fmt.Errorf("--portal-frame-ancestors %q: want origins such as https://app.example.com or https://*.example.com", o)
		}
	}
	return nil
}

// orDefault returns d for 0, 0 (no limit) for a negative value, and v otherwise.
func orDefault[T int | int64 | time.Duration](v, d T) T {
	switch {
	case v == 0:
		return d
	case v < 0:
		return 0
	}
	return v
}

// resolveDatabase reads Config.Database: a PostgreSQL URL (postgres://...), or the path
// of a SQLite file (a path, sqlite:PATH, or empty for DATA-DIR/herald.db).
func resolveDatabase(cfg Config) (postgresURL, sqlitePath string, err error) {
	db := cfg.Database
	switch {
	case db == "":
		return "", filepath.Join(cfg.DataDir, "herald.db"), nil
	case postgres.IsURL(db):
		if s := strings.ToUpper(cfg.Synchronous); s != "" && s != "FULL" {
			return "", "", errors.New("--synchronous applies to the SQLite database only; PostgreSQL commits every publish durably")
		}
		return db, "", nil
	case strings.HasPrefix(db, "sqlite:"):
		return "", strings.TrimPrefix(strings.TrimPrefix(db, "sqlite:"), "//"), nil
	case strings.Contains(db, "://"):
		return "", "", fmt.Errorf("%q: want postgres://user:password@host:port/dbname, a SQLite file path, or sqlite:PATH", redact(db))
	}
	return "", db, nil
}

// redact hides the password of a URL-like database name.
func redact(db string) string {
	if u, err := url.Parse(db); err == nil && u.User != nil {
		return u.Redacted()
	}
	return db
}

func openStore(ctx context.Context, cfg Config, box *crypt.Box, log *slog.Logger) (store.Store, error) {
	pgURL, path, err := resolveDatabase(cfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	if pgURL != "" {
		st, err := postgres.Open(ctx, pgURL, postgres.Options{Cipher: box, Logger: log, Rejections: cfg.Rejections})
		if err != nil {
			return nil, fmt.Errorf("database: %w", err)
		}
		return st, nil
	}
	st, err := sqlite.Open(ctx, path, sqlite.Options{Cipher: box, Logger: log, Synchronous: cfg.Synchronous, Rejections: cfg.Rejections})
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	return st, nil
}

// Migrate applies the pending schema migrations of the database cfg names, as New does
// on start, and returns what the database is and its schema version before and after.
func Migrate(ctx context.Context, cfg Config, log *slog.Logger) (db string, from, to int, err error) {
	if cfg.DataDir == "" {
		cfg.DataDir = "herald-data"
	}
	pgURL, path, err := resolveDatabase(cfg)
	if err != nil {
		return "", 0, 0, fmt.Errorf("database: %w", err)
	}
	if pgURL != "" {
		from, to, err = postgres.Migrate(ctx, pgURL, log)
		return "PostgreSQL " + redact(pgURL), from, to, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", 0, 0, fmt.Errorf("database: %w", err)
	}
	from, to, err = sqlite.Migrate(ctx, path, log)
	return "SQLite " + path, from, to, err
}

// ensureAdminKey makes sure an admin key exists: HERALD_API_KEY if given, else a new one
// printed once.
func (s *Server) ensureAdminKey(ctx context.Context, out io.Writer) error {
	if s.cfg.APIKey != "" {
		if !api.WellFormedAPIKey(s.cfg.APIKey) {
			return errors.New("HERALD_API_KEY: want " + api.APIKeyFormat + ", chosen at random (or unset it, and herald creates one)")
		}
		hash := api.HashAPIKey(s.cfg.APIKey)
		if _, err := s.store.APIKeyByHash(ctx, hash); err == nil {
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return s.store.CreateAPIKey(ctx, &domain.APIKey{
			ID: ids.New("key"), Name: "HERALD_API_KEY", Prefix: s.cfg.APIKey[:12], Hash: hash, CreatedAt: time.Now().UTC(),
		})
	}
	ok, err := s.store.HasAdminKey(ctx)
	if err != nil || ok {
		return err
	}
	key, prefix, hash := api.NewAPIKey()
	if err := s.store.CreateAPIKey(ctx, &domain.APIKey{ID: ids.New("key"), Name: "admin", Prefix: prefix, Hash: hash, CreatedAt: time.Now().UTC()}); err != nil {
		return err
	}
	fmt.Fprintf(out, "Created the admin API key. It is shown only this once; keep it safe:\n\n    %s\n\nUse it as HERALD_API_KEY=%s for the herald CLI, or as 'Authorization: Bearer <key>'.\n", key, key)
	return nil
}

// Handler returns the server's HTTP handler (API, health, metrics).
func (s *Server) Handler() http.Handler { return s.handler }

// Store returns the server's store.
func (s *Server) Store() store.Store { return s.store }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if !s.ready.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"status":"unavailable"}`+"\n")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.store.QueueDepth(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"status":"database unavailable"}`+"\n")
		return
	}
	if failing, since := s.writes.failing(); failing {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, `{"status":"database full","since":%q}`+"\n", since.UTC().Format(time.RFC3339))
		return
	}
	io.WriteString(w, `{"status":"ready"}`+"\n")
}

// Run serves on ln (or on cfg.Addr when ln is nil) until ctx ends, then shuts down
// gracefully: it stops accepting requests, lets API requests finish, lets deliveries in
// flight finish (up to ShutdownTimeout) and releases the rest, and closes the store.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	unlock, err := datadir.Lock(s.cfg.DataDir) // no second server with this node id
	if err != nil {
		s.closeEarly()
		return err
	}
	defer unlock()
	if ln == nil {
		if ln, err = net.Listen("tcp", s.cfg.Addr); err != nil {
			s.closeEarly()
			return fmt.Errorf("listen: %w", err)
		}
	}
	stopAdmin, err := s.startAdmin()
	if err != nil {
		ln.Close()
		s.closeEarly()
		return err
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: orDefault(s.cfg.HeaderTimeout, DefaultHeaderTimeout),
		IdleTimeout:       orDefault(s.cfg.IdleTimeout, DefaultIdleTimeout),
		ConnContext:       connContext,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	if max := orDefault(s.cfg.MaxConnections, DefaultMaxConnections); max > 0 {
		lim := newConnLimiter(ln, max, s.log, s.registry)
		ln, srv.ConnState = lim, lim.connState
	}
	s.engine.Start()
	s.ops.Start(s.engine, s.opApp)
	replays, stopReplays := context.WithCancel(context.Background())
	replaysDone := make(chan struct{})
	go func() { defer close(replaysDone); s.svc.RunReplays(replays, s.engine.NodeID()) }()
	s.ready.Store(true)
	s.log.Info("herald serving", "addr", ln.Addr().String(), "node", s.engine.NodeID())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.ready.Store(false)
	s.log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	errs := []error{}
	if err := srv.Shutdown(shutdownCtx); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	s.hub.Close() // listeners reconnect elsewhere (or to this server, restarted); their deliveries wait
	stopReplays() // a replay continues from its last step on the next start, or on another node
	<-replaysDone
	if err := s.engine.Stop(shutdownCtx); err != nil {
		errs = append(errs, err)
	}
	s.ops.Stop(shutdownCtx)                       // after the engine: its last outcomes are news too
	if err := s.shutdownTelemetry(); err != nil { // the last attempts' spans
		errs = append(errs, err)
	}
	if err := stopAdmin(shutdownCtx); err != nil {
		errs = append(errs, fmt.Errorf("admin shutdown: %w", err))
	}
	if err := s.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close store: %w", err))
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		errs = append(errs, serveErr)
	}
	return errors.Join(errs...)
}
