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
	var (
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
	)
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
			if err := applySettings(cmd.Flags(), configFile); err != nil {
				return usageError{err: err, cmd: cmd}
			}
			log, err := newLogger(cmd.ErrOrStderr(), logLevel, logFormat)
			if err != nil {
				return usageError{err: err, cmd: cmd}
			}
			var splitAllow []string
			for _, a := range allow {
				splitAllow = append(splitAllow, strings.Split(a, ",")...)
			}
			prefixes, err := netguard.ParsePrefixes(splitAllow)
			if err != nil {
				return usageError{err: fmt.Errorf("--allow-network: %w", err), cmd: cmd}
			}
			if egressProxy == "" {
				egressProxy = os.Getenv("HTTPS_PROXY")
			}
			var proxyURL *url.URL
			if egressProxy != "" {
				if proxyURL, err = outbound.ParseProxy(egressProxy); err != nil {
					return usageError{err: fmt.Errorf("--egress-proxy: %w", err), cmd: cmd}
				}
			}
			cfg := server.Config{
				EgressProxy: proxyURL,
				Addr:        addr, DataDir: dataDir, Database: database, APIKey: os.Getenv("HERALD_API_KEY"),
				EncryptionKey: os.Getenv("HERALD_ENCRYPTION_KEY"), AllowNetworks: prefixes, Synchronous: synchronous,
				Workers: workers, AppWorkers: appWorkers, EndpointConcurrency: epConcurrency, Timeout: timeout, MaxPayloadBytes: maxPayload,
				ShutdownTimeout: shutdownTimeout, NodeID: nodeID, NodeTimeout: nodeTimeout,
				MaxConnections: orOff(maxConns), HeaderTimeout: orOff(headerTimeout), BodyTimeout: orOff(bodyTimeout),
				IdleTimeout: orOff(idleTimeout), PublishBytesInFlight: orOff(publishBytes),
				PublicURL: publicURL, Branding: brand, ConsoleSessionTTL: consoleTTL,
				Telemetry: telemetry.FromEnv(os.Getenv), AdminAddr: adminAddr, PProf: pprofOn, MetricsToken: metricsToken,
			}
			cfg.Telemetry.ServiceVersion = buildVersion()
			for _, a := range frameAncestors {
				cfg.PortalFrameAncestors = append(cfg.PortalFrameAncestors, strings.Split(a, ",")...)
			}
			if err := brand.Check(); err != nil {
				return usageError{err: fmt.Errorf("--brand-*: %w", err), cmd: cmd}
			}
			if retrySchedule != "" {
				if cfg.RetrySchedule, err = delivery.ParseSchedule(retrySchedule); err != nil {
					return usageError{err: fmt.Errorf("--retry-schedule: %w", err), cmd: cmd}
				}
			}
			if cfg.Retention, err = parseDays("--retention", retention); err != nil {
				return usageError{err: err, cmd: cmd}
			}
			if cfg.Rejections.Retention, err = parseDays("--rejection-retention", rejectionRetention); err != nil {
				return usageError{err: err, cmd: cmd}
			}
			if cfg.DisableAfter, err = parseDays("--disable-after", disableAfter); err != nil {
				return usageError{err: err, cmd: cmd}
			}
			if cfg.ListenerExpiry, err = parseDays("--listener-expiry", listenerExpiry); err != nil {
				return usageError{err: err, cmd: cmd}
			}
			if cfg.ListenerIdle, err = parseDays("--listener-idle", listenerIdle); err != nil {
				return usageError{err: err, cmd: cmd}
			}
			if err := ops.apply(&cfg); err != nil {
				return usageError{err: err, cmd: cmd}
			}
			srv, err := server.New(cmd.Context(), cfg, log, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
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
	f := cmd.Flags()
	env := serveEnv()
	help := func(name, text string) string { return text + " [$" + env[name] + "]" }
	f.StringVar(&configFile, "config", "", "JSON config file whose keys are these flag names [$HERALD_CONFIG]")
	f.StringVar(&addr, "addr", "127.0.0.1:8080", help("addr", "listen address"))
	f.StringVar(&dataDir, "data-dir", "herald-data", help("data-dir", "data directory (database, encryption key)"))
	f.StringVar(&database, "database", "", help("database", "database: a SQLite file path (default DATA-DIR/herald.db), or postgres://user:password@host:port/dbname"))
	f.StringVar(&logLevel, "log-level", "info", help("log-level", "log level: debug, info, warn or error"))
	f.StringVar(&logFormat, "log-format", "text", help("log-format", "log format: text or json"))
	f.StringArrayVar(&allow, "allow-network", nil, help("allow-network", "CIDR or address the SSRF guard lets through (repeatable, or comma-separated)"))
	f.StringVar(&egressProxy, "egress-proxy", "", help("egress-proxy", "send webhooks through this HTTP CONNECT proxy, http://[user:pass@]host:port, so receivers see its fixed IP; the SSRF guard still checks each destination (default: $HTTPS_PROXY)"))
	f.IntVar(&workers, "workers", 512, help("workers", "most webhook requests in flight at once"))
	f.IntVar(&appWorkers, "app-workers", 0, help("app-workers", "most webhook requests in flight for one app, so that one app's slow endpoints leave workers for the others (default: half of --workers; --workers or more: no limit of its own)"))
	f.IntVar(&epConcurrency, "endpoint-concurrency", 64, help("endpoint-concurrency", "most requests in flight to one endpoint without its own max_concurrency"))
	f.DurationVar(&timeout, "timeout", 15*time.Second, help("timeout", "request timeout for endpoints without their own"))
	f.StringVar(&retrySchedule, "retry-schedule", "5s,5m,30m,2h,5h,10h,14h,20h,24h", help("retry-schedule", "delays before each retry (±20% jitter)"))
	f.StringVar(&retention, "retention", "30d", help("retention", "keep messages and attempts this long (e.g. 30d, 72h; 0 keeps them forever)"))
	f.StringVar(&rejectionRetention, "rejection-retention", "7d", help("rejection-retention", "keep the gateway's rejected requests this long (e.g. 7d, 24h; 0 keeps them until the store's budget of rejections is spent)"))
	f.StringVar(&disableAfter, "disable-after", "5d", help("disable-after", "disable an endpoint failing continuously this long (0 never does)"))
	f.StringVar(&listenerExpiry, "listener-expiry", "24h", help("listener-expiry", "fail the waiting deliveries of a listener endpoint with no herald listen session for this long (0 never does)"))
	f.StringVar(&listenerIdle, "listener-idle", "7d", help("listener-idle", "remove a listener endpoint with no herald listen session for this long (0 never does)"))
	f.Int64Var(&maxPayload, "max-payload-bytes", 256<<10, help("max-payload-bytes", "largest message payload accepted"))
	f.DurationVar(&shutdownTimeout, "shutdown-timeout", 30*time.Second, help("shutdown-timeout", "how long deliveries in flight may take to finish on shutdown"))
	f.StringVar(&synchronous, "synchronous", "FULL", help("synchronous", "SQLite durability: FULL survives power loss, NORMAL only a process crash"))
	f.StringVar(&cpuProfile, "cpu-profile", "", "write a CPU profile of the whole run to this file (for performance work)")
	f.StringVar(&publicURL, "public-url", "", help("public-url", "the server's address as browsers reach it, for portal links (default: each request's scheme and host)"))
	f.StringArrayVar(&frameAncestors, "portal-frame-ancestors", nil, help("portal-frame-ancestors", "origins that may embed the portal in a frame, such as https://app.example.com (repeatable, or comma-separated; default none)"))
	f.DurationVar(&consoleTTL, "console-session-ttl", 12*time.Hour, help("console-session-ttl", "how long a console sign-in lasts"))
	f.StringVar(&brand.Name, "brand-name", api.DefaultBranding.Name, help("brand-name", "product name shown by the console and portal"))
	f.StringVar(&brand.LogoURL, "brand-logo-url", "", help("brand-logo-url", "logo of the console and portal (an https:// URL)"))
	f.StringVar(&brand.Accent, "brand-accent", api.DefaultBranding.Accent, help("brand-accent", "accent colour of the console and portal, #rrggbb"))
	f.StringVar(&brand.Theme, "brand-theme", api.DefaultBranding.Theme, help("brand-theme", "auto, light or dark"))
	f.DurationVar(&nodeTimeout, "node-timeout", 10*time.Second, help("node-timeout", "on PostgreSQL, how long a node may go without a heartbeat (sent every fifth of this) before the other nodes take over its deliveries"))
	f.StringVar(&nodeID, "node-id", "", help("node-id", "this process's name in delivery leases (default: the one kept in DATA-DIR/node-id, created on first start)"))
	f.IntVar(&maxConns, "max-connections", server.DefaultMaxConnections, help("max-connections", "most HTTP connections open at once; at the limit the slowest client's is closed (0: no limit)"))
	f.DurationVar(&headerTimeout, "header-timeout", server.DefaultHeaderTimeout, help("header-timeout", "time a client has to send a request's headers (0: no limit)"))
	f.DurationVar(&bodyTimeout, "body-timeout", server.DefaultBodyTimeout, help("body-timeout", "time a client has to send a request's body (0: no limit)"))
	f.DurationVar(&idleTimeout, "idle-timeout", server.DefaultIdleTimeout, help("idle-timeout", "how long a kept-alive connection may wait for its next request (0: no limit)"))
	ops.register(f, help)
	f.Int64Var(&publishBytes, "publish-bytes-in-flight", api.DefaultPublishBytesInFlight, help("publish-bytes-in-flight", "request-body bytes of message publishes read at once, server-wide; past it publishes get 503 with Retry-After (0: no limit)"))
	f.StringVar(&adminAddr, "admin-addr", "", help("admin-addr", "serve /metrics on this address (such as 127.0.0.1:9090) instead of --addr, and pprof with --pprof (default: /metrics on --addr)"))
	f.BoolVar(&pprofOn, "pprof", false, help("pprof", "serve Go's profiles at /debug/pprof/ on --admin-addr"))
	f.StringVar(&metricsToken, "metrics-token", "", help("metrics-token", "require 'Authorization: Bearer TOKEN' on /metrics and pprof (default: open, as Prometheus scrapes without credentials)"))
	return cmd
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
