package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/api"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/netguard"
	"github.com/heraldhq/herald/internal/outbound"
	"github.com/heraldhq/herald/internal/server"
	"github.com/heraldhq/herald/internal/telemetry"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// serveEnv maps serve's flags to the environment variables that set them.
func serveEnv() map[string]string {
	env := map[string]string{
		"addr": "HERALD_ADDR", "data-dir": "HERALD_DATA_DIR", "database": "HERALD_DATABASE_URL",
		"log-level": "HERALD_LOG_LEVEL", "log-format": "HERALD_LOG_FORMAT", "allow-network": "HERALD_ALLOW_NETWORKS",
		"workers": "HERALD_WORKERS", "app-workers": "HERALD_APP_WORKERS", "node-timeout": "HERALD_NODE_TIMEOUT", "endpoint-concurrency": "HERALD_ENDPOINT_CONCURRENCY", "timeout": "HERALD_TIMEOUT",
		"retry-schedule": "HERALD_RETRY_SCHEDULE", "retention": "HERALD_RETENTION", "disable-after": "HERALD_DISABLE_AFTER",
		"rejection-retention": "HERALD_REJECTION_RETENTION", "listener-expiry": "HERALD_LISTENER_EXPIRY", "listener-idle": "HERALD_LISTENER_IDLE",
		"max-payload-bytes": "HERALD_MAX_PAYLOAD_BYTES", "shutdown-timeout": "HERALD_SHUTDOWN_TIMEOUT",
		"synchronous": "HERALD_SQLITE_SYNCHRONOUS", "node-id": "HERALD_NODE_ID", "egress-proxy": "HERALD_EGRESS_PROXY",
		"public-url": "HERALD_PUBLIC_URL", "portal-frame-ancestors": "HERALD_PORTAL_FRAME_ANCESTORS",
		"console-session-ttl": "HERALD_CONSOLE_SESSION_TTL", "brand-name": "HERALD_BRAND_NAME",
		"brand-logo-url": "HERALD_BRAND_LOGO_URL", "brand-accent": "HERALD_BRAND_ACCENT", "brand-theme": "HERALD_BRAND_THEME",
		"admin-addr": "HERALD_ADMIN_ADDR", "pprof": "HERALD_PPROF", "metrics-token": "HERALD_METRICS_TOKEN",
		"max-connections": "HERALD_MAX_CONNECTIONS", "header-timeout": "HERALD_HEADER_TIMEOUT",
		"body-timeout": "HERALD_BODY_TIMEOUT", "idle-timeout": "HERALD_IDLE_TIMEOUT",
		"publish-bytes-in-flight": "HERALD_PUBLISH_BYTES_IN_FLIGHT",
	}
	maps.Copy(env, opsEnv())
	return env
}

func newServeCmd() *cobra.Command {
	var sf serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the delivery server",
		Long: `Run herald's delivery server: the REST API (see /openapi.yaml), the delivery
engine, /healthz, /readyz and Prometheus /metrics, on an embedded SQLite database
in the data directory. No other service is needed.

To run several herald nodes, point them all at one PostgreSQL database with
--database postgres://user:password@host:5432/dbname (or HERALD_DATABASE_URL) and
give them all the same HERALD_ENCRYPTION_KEY. Every node serves the API and
delivers; per-endpoint limits and FIFO order hold across nodes. Migrations run on
start (or with 'herald migrate').

On first start herald creates an admin API key and prints it once; set
HERALD_API_KEY to choose it yourself (hk_ and 21 to 125 random letters, digits,
'-' or '_'). Endpoint secrets are encrypted at rest with
HERALD_ENCRYPTION_KEY (32 bytes, base64) or a key file it creates in the data
directory — back that file up with the database.

Settings come from flags, then environment variables (HERALD_ADDR, HERALD_DATA_DIR,
HERALD_DATABASE_URL, HERALD_LOG_LEVEL, HERALD_ALLOW_NETWORKS, ...: each flag's
HERALD_ name is in its help), then a JSON config file (--config) whose keys are the
flag names, then the defaults.

OpenTelemetry traces and metrics are exported over OTLP/HTTP when the standard
variables name a collector (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME,
OTEL_TRACES_SAMPLER, ...; docs/observability.md); without them tracing is off.

SSRF protection is on: herald refuses to deliver to loopback, private, link-local,
CGNAT and cloud-metadata addresses. For local development and tests allow them
explicitly, e.g. --allow-network 127.0.0.0/8.`,
		Example: `  herald serve
  herald serve --addr 0.0.0.0:8080 --data-dir /var/lib/herald
  HERALD_API_KEY=hk_... herald serve --allow-network 127.0.0.0/8 --log-level debug
  herald serve --config herald.json
  HERALD_ENCRYPTION_KEY=... herald serve --database postgres://herald:secret@db.internal:5432/herald`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applySettings(cmd.Flags(), sf.configFile); err != nil {
				return usageError{err: err, cmd: cmd}
			}
			log, err := newLogger(cmd.ErrOrStderr(), sf.logLevel, sf.logFormat)
			if err != nil {
				return usageError{err: err, cmd: cmd}
			}
			cfg, err := sf.config()
			if err != nil {
				return usageError{err: err, cmd: cmd}
			}
			srv, err := server.New(cmd.Context(), cfg, log, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			if sf.cpuProfile != "" {
				f, err := os.Create(sf.cpuProfile)
				if err != nil {
					return fmt.Errorf("--cpu-profile: %w", err)
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return fmt.Errorf("--cpu-profile: %w", err)
				}
				defer pprof.StopCPUProfile()
			}
			return srv.Run(cmd.Context(), nil)
		},
	}
	sf.register(cmd.Flags())
	return cmd
}

// serveFlags are serve's settings, as flags, environment variables or config keys.
type serveFlags struct {
	configFile                            string
	addr, dataDir, database               string
	logLevel, logFormat                   string
	allow                                 []string
	egressProxy                           string
	workers, epConcurrency                int
	appWorkers                            int
	timeout, shutdownTimeout, nodeTimeout time.Duration
	retrySchedule                         string
	cpuProfile                            string
	retention, disableAfter               string
	listenerExpiry, listenerIdle          string
	rejectionRetention                    string
	maxPayload                            int64
	synchronous, nodeID                   string
	publicURL                             string
	frameAncestors                        []string
	consoleTTL                            time.Duration
	brand                                 api.Branding
	maxConns                              int
	headerTimeout                         time.Duration
	bodyTimeout, idleTimeout              time.Duration
	publishBytes                          int64
	adminAddr, metricsToken               string
	pprofOn                               bool
	ops                                   opsFlags
}

// register defines serve's flags on f.
func (sf *serveFlags) register(f *pflag.FlagSet) {
	env := serveEnv()
	help := func(name, text string) string { return text + " [$" + env[name] + "]" }
	f.StringVar(&sf.configFile, "config", "", "JSON config file whose keys are these flag names [$HERALD_CONFIG]")
	f.StringVar(&sf.addr, "addr", "127.0.0.1:8080", help("addr", "listen address"))
	f.StringVar(&sf.dataDir, "data-dir", "herald-data", help("data-dir", "data directory (database, encryption key)"))
	f.StringVar(&sf.database, "database", "", help("database", "database: a SQLite file path (default DATA-DIR/herald.db), or postgres://user:password@host:port/dbname"))
	f.StringVar(&sf.logLevel, "log-level", "info", help("log-level", "log level: debug, info, warn or error"))
	f.StringVar(&sf.logFormat, "log-format", "text", help("log-format", "log format: text or json"))
	f.StringArrayVar(&sf.allow, "allow-network", nil, help("allow-network", "CIDR or address the SSRF guard lets through (repeatable, or comma-separated)"))
	f.StringVar(&sf.egressProxy, "egress-proxy", "", help("egress-proxy", "send webhooks through this HTTP CONNECT proxy, http://[user:pass@]host:port, so receivers see its fixed IP; the SSRF guard still checks each destination (default: $HTTPS_PROXY)"))
	f.IntVar(&sf.workers, "workers", 512, help("workers", "most webhook requests in flight at once"))
	f.IntVar(&sf.appWorkers, "app-workers", 0, help("app-workers", "most webhook requests in flight for one app, so that one app's slow endpoints leave workers for the others (default: half of --workers; --workers or more: no limit of its own)"))
	f.IntVar(&sf.epConcurrency, "endpoint-concurrency", 64, help("endpoint-concurrency", "most requests in flight to one endpoint without its own max_concurrency"))
	f.DurationVar(&sf.timeout, "timeout", 15*time.Second, help("timeout", "request timeout for endpoints without their own"))
	f.StringVar(&sf.retrySchedule, "retry-schedule", "5s,5m,30m,2h,5h,10h,14h,20h,24h", help("retry-schedule", "delays before each retry (±20% jitter)"))
	f.StringVar(&sf.retention, "retention", "30d", help("retention", "keep messages and attempts this long (e.g. 30d, 72h; 0 keeps them forever)"))
	f.StringVar(&sf.rejectionRetention, "rejection-retention", "7d", help("rejection-retention", "keep the gateway's rejected requests this long (e.g. 7d, 24h; 0 keeps them until the store's budget of rejections is spent)"))
	f.StringVar(&sf.disableAfter, "disable-after", "5d", help("disable-after", "disable an endpoint failing continuously this long (0 never does)"))
	f.StringVar(&sf.listenerExpiry, "listener-expiry", "24h", help("listener-expiry", "fail the waiting deliveries of a listener endpoint with no herald listen session for this long (0 never does)"))
	f.StringVar(&sf.listenerIdle, "listener-idle", "7d", help("listener-idle", "remove a listener endpoint with no herald listen session for this long (0 never does)"))
	f.Int64Var(&sf.maxPayload, "max-payload-bytes", 256<<10, help("max-payload-bytes", "largest message payload accepted"))
	f.DurationVar(&sf.shutdownTimeout, "shutdown-timeout", 30*time.Second, help("shutdown-timeout", "how long deliveries in flight may take to finish on shutdown"))
	f.StringVar(&sf.synchronous, "synchronous", "FULL", help("synchronous", "SQLite durability: FULL survives power loss, NORMAL only a process crash"))
	f.StringVar(&sf.cpuProfile, "cpu-profile", "", "write a CPU profile of the whole run to this file (for performance work)")
	f.StringVar(&sf.publicURL, "public-url", "", help("public-url", "the server's address as browsers reach it, for portal links (default: each request's scheme and host)"))
	f.StringArrayVar(&sf.frameAncestors, "portal-frame-ancestors", nil, help("portal-frame-ancestors", "origins that may embed the portal in a frame, such as https://app.example.com (repeatable, or comma-separated; default none)"))
	f.DurationVar(&sf.consoleTTL, "console-session-ttl", 12*time.Hour, help("console-session-ttl", "how long a console sign-in lasts"))
	f.StringVar(&sf.brand.Name, "brand-name", api.DefaultBranding.Name, help("brand-name", "product name shown by the console and portal"))
	f.StringVar(&sf.brand.LogoURL, "brand-logo-url", "", help("brand-logo-url", "logo of the console and portal (an https:// URL)"))
	f.StringVar(&sf.brand.Accent, "brand-accent", api.DefaultBranding.Accent, help("brand-accent", "accent colour of the console and portal, #rrggbb"))
	f.StringVar(&sf.brand.Theme, "brand-theme", api.DefaultBranding.Theme, help("brand-theme", "auto, light or dark"))
	f.DurationVar(&sf.nodeTimeout, "node-timeout", 10*time.Second, help("node-timeout", "on PostgreSQL, how long a node may go without a heartbeat (sent every fifth of this) before the other nodes take over its deliveries"))
	f.StringVar(&sf.nodeID, "node-id", "", help("node-id", "this process's name in delivery leases (default: the one kept in DATA-DIR/node-id, created on first start)"))
	f.IntVar(&sf.maxConns, "max-connections", server.DefaultMaxConnections, help("max-connections", "most HTTP connections open at once; at the limit the slowest client's is closed (0: no limit)"))
	f.DurationVar(&sf.headerTimeout, "header-timeout", server.DefaultHeaderTimeout, help("header-timeout", "time a client has to send a request's headers (0: no limit)"))
	f.DurationVar(&sf.bodyTimeout, "body-timeout", server.DefaultBodyTimeout, help("body-timeout", "time a client has to send a request's body (0: no limit)"))
	f.DurationVar(&sf.idleTimeout, "idle-timeout", server.DefaultIdleTimeout, help("idle-timeout", "how long a kept-alive connection may wait for its next request (0: no limit)"))
	sf.ops.register(f, help)
	f.Int64Var(&sf.publishBytes, "publish-bytes-in-flight", api.DefaultPublishBytesInFlight, help("publish-bytes-in-flight", "request-body bytes of message publishes read at once, server-wide; past it publishes get 503 with Retry-After (0: no limit)"))
	f.StringVar(&sf.adminAddr, "admin-addr", "", help("admin-addr", "serve /metrics on this address (such as 127.0.0.1:9090) instead of --addr, and pprof with --pprof (default: /metrics on --addr)"))
	f.BoolVar(&sf.pprofOn, "pprof", false, help("pprof", "serve Go's profiles at /debug/pprof/ on --admin-addr"))
	f.StringVar(&sf.metricsToken, "metrics-token", "", help("metrics-token", "require 'Authorization: Bearer TOKEN' on /metrics and pprof (default: open, as Prometheus scrapes without credentials)"))
}

// config checks the settings and turns them into a server configuration.
func (sf *serveFlags) config() (cfg server.Config, err error) {
	var splitAllow []string
	for _, a := range sf.allow {
		splitAllow = append(splitAllow, strings.Split(a, ",")...)
	}
	prefixes, err := netguard.ParsePrefixes(splitAllow)
	if err != nil {
		return cfg, fmt.Errorf("--allow-network: %w", err)
	}
	if sf.egressProxy == "" {
		sf.egressProxy = os.Getenv("HTTPS_PROXY")
	}
	var proxyURL *url.URL
	if sf.egressProxy != "" {
		if proxyURL, err = outbound.ParseProxy(sf.egressProxy); err != nil {
			return cfg, fmt.Errorf("--egress-proxy: %w", err)
		}
	}
	cfg = server.Config{
		EgressProxy: proxyURL,
		Addr:        sf.addr, DataDir: sf.dataDir, Database: sf.database, APIKey: os.Getenv("HERALD_API_KEY"),
		EncryptionKey: os.Getenv("HERALD_ENCRYPTION_KEY"), AllowNetworks: prefixes, Synchronous: sf.synchronous,
		Workers: sf.workers, AppWorkers: sf.appWorkers, EndpointConcurrency: sf.epConcurrency, Timeout: sf.timeout, MaxPayloadBytes: sf.maxPayload,
		ShutdownTimeout: sf.shutdownTimeout, NodeID: sf.nodeID, NodeTimeout: sf.nodeTimeout,
		MaxConnections: orOff(sf.maxConns), HeaderTimeout: orOff(sf.headerTimeout), BodyTimeout: orOff(sf.bodyTimeout),
		IdleTimeout: orOff(sf.idleTimeout), PublishBytesInFlight: orOff(sf.publishBytes),
		PublicURL: sf.publicURL, Branding: sf.brand, ConsoleSessionTTL: sf.consoleTTL,
		Telemetry: telemetry.FromEnv(os.Getenv), AdminAddr: sf.adminAddr, PProf: sf.pprofOn, MetricsToken: sf.metricsToken,
	}
	cfg.Telemetry.ServiceVersion = buildVersion()
	for _, a := range sf.frameAncestors {
		cfg.PortalFrameAncestors = append(cfg.PortalFrameAncestors, strings.Split(a, ",")...)
	}
	if err := sf.brand.Check(); err != nil {
		return cfg, fmt.Errorf("--brand-*: %w", err)
	}
	if sf.retrySchedule != "" {
		if cfg.RetrySchedule, err = delivery.ParseSchedule(sf.retrySchedule); err != nil {
			return cfg, fmt.Errorf("--retry-schedule: %w", err)
		}
	}
	if cfg.Retention, err = parseDays("--retention", sf.retention); err != nil {
		return cfg, err
	}
	if cfg.Rejections.Retention, err = parseDays("--rejection-retention", sf.rejectionRetention); err != nil {
		return cfg, err
	}
	if cfg.DisableAfter, err = parseDays("--disable-after", sf.disableAfter); err != nil {
		return cfg, err
	}
	if cfg.ListenerExpiry, err = parseDays("--listener-expiry", sf.listenerExpiry); err != nil {
		return cfg, err
	}
	if cfg.ListenerIdle, err = parseDays("--listener-idle", sf.listenerIdle); err != nil {
		return cfg, err
	}
	if err := sf.ops.apply(&cfg); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// orOff maps a flag's 0 ("no limit") to server.Config's negative value for off.
func orOff[T int | int64 | time.Duration](v T) T {
	if v == 0 {
		return -1
	}
	return v
}

// applySettings fills flags the user did not set from the environment, then from the
// config file (HERALD_CONFIG when --config is not given).
func applySettings(flags *pflag.FlagSet, configFile string) error {
	if configFile == "" {
		configFile = os.Getenv("HERALD_CONFIG")
	}
	var file map[string]any
	if configFile != "" {
		b, err := os.ReadFile(configFile)
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.UseNumber()
		if err := dec.Decode(&file); err != nil {
			return fmt.Errorf("config %s: not a JSON object: %w", configFile, err)
		}
		for k := range file {
			if flags.Lookup(k) == nil || k == "config" {
				return fmt.Errorf("config %s: unknown setting %q", configFile, k)
			}
		}
	}
	var errs []string
	flags.VisitAll(func(fl *pflag.Flag) {
		if fl.Changed || len(errs) > 0 {
			return
		}
		if name, ok := serveEnv()[fl.Name]; ok {
			if v, set := os.LookupEnv(name); set {
				if err := fl.Value.Set(v); err != nil {
					errs = append(errs, fmt.Sprintf("$%s: %v", name, err))
				}
				return
			}
		}
		v, ok := file[fl.Name]
		if !ok {
			return
		}
		vals := []any{v}
		if list, isList := v.([]any); isList {
			vals = list
		}
		for _, item := range vals {
			if err := fl.Value.Set(fmt.Sprint(item)); err != nil {
				errs = append(errs, fmt.Sprintf("config %s: %s: %v", configFile, fl.Name, err))
				return
			}
		}
	})
	if len(errs) > 0 {
		return fmt.Errorf("%s", errs[0])
	}
	return nil
}

// parseDays parses a duration that may use a "d" (days) suffix; "0" means off (-1).
func parseDays(flag, s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" || s == "" {
		return -1, nil
	}
	d, err := parseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s %q: want a duration such as 30d or 72h", flag, s)
	}
	return d, nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
