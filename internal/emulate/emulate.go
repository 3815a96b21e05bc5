// Package emulate runs a provider emulator for local development together with an
// embedded herald server that delivers the emulator's webhooks: the emulated API on
// one address, herald's API on another, and an app whose endpoints receive the events
// with herald's signatures, retries and delivery logs. It can publish through a herald
// server that already runs instead (Config.Server).
package emulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/api"
	"github.com/heraldhq/herald/internal/emulate/openai"
	"github.com/heraldhq/herald/internal/server"
	"github.com/heraldhq/herald/webhook"
)

// AppUID is the uid of the herald app whose endpoints receive the emulator's webhooks.
const AppUID = "openai"

// Config configures Start.
type Config struct {
	Addr          string         // the emulated API's listen address (default 127.0.0.1:8090)
	Server        string         // a running herald server to publish through; empty starts an embedded one
	HeraldAddr    string         // the embedded herald's listen address (default 127.0.0.1:8091)
	DataDir       string         // the embedded herald's data directory; empty means a temporary one, removed by Close
	APIKey        string         // herald's admin API key: Server's (required with it), or the embedded one's (generated if empty)
	WebhookURLs   []string       // endpoints to create (or reuse) in the app
	WebhookSecret string         // their whsec_ secret; generated if empty (or taken from a reused endpoint)
	EventTypes    []string       // the endpoints' event filter; empty means every event
	AllowNetworks []netip.Prefix // more networks for herald's SSRF guard, besides loopback
	RetrySchedule []time.Duration
	OpenAI        openai.Config // the emulator's settings; its Publisher and Endpoints are set by Start
	Logger        *slog.Logger  // default slog.Default()
	HeraldLogger  *slog.Logger  // the herald server's logger; default Logger
}

// Stack is a running emulator with its herald server.
type Stack struct {
	OpenAIURL     string             // the emulated API's base URL, ending in /v1
	HeraldURL     string             // the herald server's URL
	APIKey        string             // herald's admin API key
	App           *client.App        // the app that receives the events
	WebhookSecret string             // the secret of the endpoints created from WebhookURLs
	Endpoints     []*client.Endpoint // the endpoints created or reused from WebhookURLs
	Emulator      *openai.Emulator
	Herald        *client.Client // an admin client of the herald server

	api     *http.Server
	cancel  context.CancelFunc
	herald  chan error // the embedded herald server's Run result; nil with Config.Server
	tempDir string
}

// Start starts herald (unless cfg.Server names a running one) and the emulator, and
// prepares the app and its endpoints. The servers run until Close.
func Start(ctx context.Context, cfg Config) (st *Stack, err error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8090"
	}
	if cfg.HeraldAddr == "" {
		cfg.HeraldAddr = "127.0.0.1:8091"
	}
	if cfg.HeraldLogger == nil {
		cfg.HeraldLogger = log
	}
	if cfg.WebhookSecret != "" {
		if _, err := webhook.NewOpenAI(cfg.WebhookSecret); err != nil {
			return nil, fmt.Errorf("webhook secret: %w", err)
		}
	}
	if cfg.Server != "" && cfg.APIKey == "" {
		return nil, errors.New("herald server " + cfg.Server + ": an API key is required")
	}
	s := &Stack{APIKey: cfg.APIKey}
	var closers []func()
	defer func() {
		if err != nil {
			for i := len(closers) - 1; i >= 0; i-- {
				closers[i]()
			}
		}
	}()

	apiLn, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("emulator listen: %w", err)
	}
	closers = append(closers, func() { apiLn.Close() })
	if cfg.Server != "" {
		s.HeraldURL = strings.TrimSuffix(cfg.Server, "/")
	} else if err := s.startHerald(ctx, cfg, &closers); err != nil {
		return nil, err
	}
	s.Herald = client.New(s.HeraldURL, s.APIKey, nil)
	if err := waitReady(ctx, s.HeraldURL); err != nil {
		return nil, err
	}
	if err := s.prepare(ctx, cfg); err != nil {
		return nil, err
	}

	ocfg := cfg.OpenAI
	ocfg.Publisher = openai.NewHeraldPublisher(s.Herald, s.App.ID)
	ocfg.Endpoints = openai.NewHeraldEndpoints(s.Herald, s.App.ID)
	if ocfg.Logger == nil {
		ocfg.Logger = log
	}
	s.Emulator = openai.New(ocfg)
	s.api = &http.Server{
		Handler:           s.Emulator,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go s.api.Serve(apiLn)
	s.OpenAIURL = "http://" + apiLn.Addr().String() + "/v1"
	return s, nil
}

// startHerald starts the embedded herald server, adding what undoes it to closers.
func (s *Stack) startHerald(ctx context.Context, cfg Config, closers *[]func()) (err error) {
	heraldLn, err := net.Listen("tcp", cfg.HeraldAddr)
	if err != nil {
		return fmt.Errorf("herald listen: %w", err)
	}
	*closers = append(*closers, func() { heraldLn.Close() })

	dataDir := cfg.DataDir
	if dataDir == "" {
		if dataDir, err = os.MkdirTemp("", "herald-emulate-"); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
		s.tempDir = dataDir
		*closers = append(*closers, func() { os.RemoveAll(dataDir) })
	}
	if s.APIKey == "" {
		s.APIKey, _, _ = api.NewAPIKey()
	}
	allow := append([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}, cfg.AllowNetworks...)
	srv, err := server.New(ctx, server.Config{
		DataDir: dataDir, APIKey: s.APIKey, AllowNetworks: allow, RetrySchedule: cfg.RetrySchedule,
		UserAgent: openai.UserAgent, ShutdownTimeout: 5 * time.Second,
	}, cfg.HeraldLogger, io.Discard)
	if err != nil {
		return fmt.Errorf("herald: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel, s.herald = cancel, make(chan error, 1)
	go func() { s.herald <- srv.Run(runCtx, heraldLn) }()
	*closers = append(*closers, func() { cancel(); <-s.herald })
	s.HeraldURL = "http://" + heraldLn.Addr().String()
	return nil
}

// waitReady waits until herald's /readyz answers 200.
func waitReady(ctx context.Context, base string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("herald at %s did not become ready: %w", base, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// prepare creates the app, unless the data directory has it, and the endpoints.
func (s *Stack) prepare(ctx context.Context, cfg Config) error {
	app, err := s.Herald.GetApp(ctx, AppUID)
	var apiErr *client.Error
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		app, err = s.Herald.CreateApp(ctx, client.AppInput{Name: "OpenAI (emulated)", UID: AppUID})
	}
	if err != nil {
		return fmt.Errorf("herald app %q: %w", AppUID, err)
	}
	s.App = app
	existing := map[string]*client.Endpoint{}
	for cursor := ""; ; {
		page, next, err := s.Herald.ListEndpoints(ctx, app.ID, client.ListParams{Limit: 1000, Cursor: cursor})
		if err != nil {
			return fmt.Errorf("list endpoints: %w", err)
		}
		for _, ep := range page {
			existing[ep.URL] = ep
		}
		if next == "" {
			break
		}
		cursor = next
	}
	secret := cfg.WebhookSecret
	if secret == "" {
		for _, u := range cfg.WebhookURLs {
			if ep := existing[u]; ep != nil {
				if secret, err = s.currentSecret(ctx, ep); err != nil {
					return err
				}
				break
			}
		}
	}
	if secret == "" {
		secret = webhook.NewHMACSecret().Reveal()
	}
	if _, err := webhook.NewOpenAI(secret); err != nil {
		return fmt.Errorf("webhook secret: %w", err)
	}
	s.WebhookSecret = secret
	for _, u := range cfg.WebhookURLs {
		ep := existing[u]
		if ep == nil {
			if ep, err = s.Herald.CreateEndpoint(ctx, app.ID, client.EndpointInput{
				URL: u, Description: "created by herald emulate openai", EventTypes: cfg.EventTypes, Secret: secret,
			}); err != nil {
				return fmt.Errorf("endpoint %s: %w", u, err)
			}
		} else if cur, err := s.currentSecret(ctx, ep); err != nil {
			return err
		} else if cur != secret {
			if _, err := s.Herald.RotateEndpointSecret(ctx, app.ID, ep.ID, client.RotateSecretInput{Secret: secret, GracePeriodSeconds: new(int)}); err != nil {
				return fmt.Errorf("endpoint %s: set the secret: %w", u, err)
			}
		}
		s.Endpoints = append(s.Endpoints, ep)
		existing[u] = ep
	}
	return nil
}

// currentSecret returns the newest signing secret of an endpoint.
func (s *Stack) currentSecret(ctx context.Context, ep *client.Endpoint) (string, error) {
	secrets, err := s.Herald.EndpointSecrets(ctx, ep.AppID, ep.ID)
	if err != nil {
		return "", fmt.Errorf("endpoint %s: secrets: %w", ep.URL, err)
	}
	newest := openai.CurrentSecret(secrets)
	if newest == nil {
		return "", fmt.Errorf("endpoint %s has no current secret", ep.URL)
	}
	return newest.Secret, nil
}

// Close stops the emulator (nothing pending finishes any more), then the embedded herald,
// letting deliveries in flight finish for up to 5 seconds, and removes a temporary data
// directory. A herald server given as Config.Server keeps running.
func (s *Stack) Close() error {
	var errs []error
	if err := s.Emulator.Close(); err != nil {
		errs = append(errs, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.api.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("emulator shutdown: %w", err))
	}
	if s.herald != nil {
		s.cancel()
		if err := <-s.herald; err != nil {
			errs = append(errs, fmt.Errorf("herald: %w", err))
		}
	}
	if s.tempDir != "" {
		if err := os.RemoveAll(s.tempDir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
