package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/telemetry"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Where an operator watches herald: /metrics (on the main address, or on AdminAddr with
// pprof), optionally behind a bearer token, and OpenTelemetry (docs/observability.md).

// untraced are the paths that get no server span: probes and scrapes, which come every
// few seconds and would drown the traces that matter.
var untraced = []string{"/healthz", "/readyz", "/metrics"}

// telemetryShutdownTimeout bounds the last export of spans and metrics at shutdown.
const telemetryShutdownTimeout = 5 * time.Second

// checkObservability checks the settings of this file.
func (c Config) checkObservability() error {
	if c.PProf && c.AdminAddr == "" {
		return errors.New("--pprof needs --admin-addr: profiles are served only on the admin address")
	}
	if c.MetricsToken != "" && (len(c.MetricsToken) < 16 || strings.ContainsAny(c.MetricsToken, " \t\r\n")) {
		return errors.New("--metrics-token: want at least 16 characters without spaces, chosen at random")
	}
	return c.Telemetry.Check()
}

// setupTelemetry starts OpenTelemetry as cfg.Telemetry says and registers the
// collectors the engine does not own.
func (s *Server) setupTelemetry(ctx context.Context) error {
	tel, err := telemetry.New(ctx, s.cfg.Telemetry, s.cfg.NodeID, s.registry, s.log)
	if err != nil {
		return err
	}
	s.telemetry = tel
	if d := tel.Describe(); d != nil {
		s.log.Info("opentelemetry export", d...)
	}
	return nil
}

// registerListenerGauge reports how many herald listen sessions this node holds.
func (s *Server) registerListenerGauge() {
	s.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "herald_listeners_connected", Help: "herald listen sessions attached to this node.",
	}, func() float64 { return float64(s.hub.Count()) }))
}

// metricsHandler serves the registry, behind the bearer token when one is set.
func (s *Server) metricsHandler() http.Handler {
	return s.requireToken(promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
}

// requireToken answers 401 to a request without `Authorization: Bearer <MetricsToken>`
// when a token is set.
func (s *Server) requireToken(next http.Handler) http.Handler {
	if s.cfg.MetricsToken == "" {
		return next
	}
	want := []byte("Bearer " + s.cfg.MetricsToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="herald metrics"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"code":"unauthorized","message":"this endpoint needs Authorization: Bearer <the --metrics-token>"}}`+"\n")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// adminHandler is what AdminAddr serves: /metrics, and /debug/pprof/ with PProf.
func (s *Server) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metricsHandler())
	if s.cfg.PProf {
		mux.Handle("GET /debug/pprof/", s.requireToken(http.HandlerFunc(pprof.Index)))
		mux.Handle("GET /debug/pprof/cmdline", s.requireToken(http.HandlerFunc(pprof.Cmdline)))
		mux.Handle("GET /debug/pprof/profile", s.requireToken(http.HandlerFunc(pprof.Profile)))
		mux.Handle("GET /debug/pprof/symbol", s.requireToken(http.HandlerFunc(pprof.Symbol)))
		mux.Handle("GET /debug/pprof/trace", s.requireToken(http.HandlerFunc(pprof.Trace)))
	}
	return mux
}

// startAdmin listens on AdminAddr and serves the admin handler until stop is called
// (which does nothing when no admin address is set).
func (s *Server) startAdmin() (stop func(context.Context) error, err error) {
	if s.cfg.AdminAddr == "" {
		return func(context.Context) error { return nil }, nil
	}
	ln, err := net.Listen("tcp", s.cfg.AdminAddr)
	if err != nil {
		return nil, fmt.Errorf("--admin-addr: %w", err)
	}
	s.adminAddr.Store(ln.Addr().String())
	srv := &http.Server{
		Handler:           s.adminHandler(),
		ReadHeaderTimeout: orDefault(s.cfg.HeaderTimeout, DefaultHeaderTimeout),
		IdleTimeout:       orDefault(s.cfg.IdleTimeout, DefaultIdleTimeout),
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("admin server", "err", err)
		}
	}()
	s.log.Info("admin endpoints", "addr", ln.Addr().String(), "pprof", s.cfg.PProf)
	return srv.Shutdown, nil
}

// AdminAddr returns the address the admin endpoints listen on, once Run has started
// them; "" before, or without Config.AdminAddr.
func (s *Server) AdminAddr() string {
	a, _ := s.adminAddr.Load().(string)
	return a
}

// closeEarly closes what New opened, when New fails after setting up telemetry.
func (s *Server) closeEarly() {
	s.store.Close()
	s.shutdownTelemetry()
}

// shutdownTelemetry exports the last spans and metrics.
func (s *Server) shutdownTelemetry() error {
	ctx, cancel := context.WithTimeout(context.Background(), telemetryShutdownTimeout)
	defer cancel()
	if err := s.telemetry.Shutdown(ctx); err != nil {
		return fmt.Errorf("opentelemetry: %w", err)
	}
	return nil
}
