// Package apitest runs herald's real API for the tests of its clients (the client
// package, the CLI), with every answer checked against the OpenAPI document: a test
// whose requests get an answer the document does not describe fails.
package apitest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/api"
	"github.com/heraldhq/herald/internal/api/openapitest"
	"github.com/heraldhq/herald/internal/crypt"
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/netguard"
	"github.com/heraldhq/herald/internal/service"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlite"
)

// Server is the API on a loopback port, over a SQLite store in a temporary directory.
type Server struct {
	URL      string      // such as http://127.0.0.1:41234
	AdminKey string      // an admin API key
	Store    store.Store // the store behind the API, for tests that set up what the API cannot

	close func()
}

// NewServer starts the API for the test t and stops it when t ends. Messages are
// stored with their deliveries and never sent: there is no delivery engine.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s, err := Start(t.TempDir(), t)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts the API over a store in the directory dir, reporting every answer
// that departs from the OpenAPI document to report; NewServer is Start for a test.
// Stop it with Close.
func Start(dir string, report openapitest.Reporter) (*Server, error) {
	ctx := context.Background()
	key := make([]byte, crypt.KeySize)
	rand.Read(key)
	box, err := crypt.NewBox(key)
	if err != nil {
		return nil, err
	}
	discard := slog.New(slog.DiscardHandler)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "herald.db"), sqlite.Options{Cipher: box, Logger: discard})
	if err != nil {
		return nil, fmt.Errorf("open the store: %w", err)
	}
	apiKey, prefix, hash := api.NewAPIKey()
	if err := st.CreateAPIKey(ctx, &domain.APIKey{ID: ids.New("key"), Name: "admin", Prefix: prefix, Hash: hash, CreatedAt: time.Now()}); err != nil {
		st.Close()
		return nil, fmt.Errorf("create the admin key: %w", err)
	}
	// The service of `herald serve`, with the operational app it ensures on start.
	svc, err := service.New(service.Config{Store: st, Sources: st, Engine: storeEngine{st}, Logger: discard})
	if err == nil {
		_, err = svc.EnsureOperationalApp(ctx, time.Now())
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	h, err := api.New(api.Config{
		Store:   st,
		Sources: st, // sources are stored; nothing is received (no gateway runs)
		Engine:  storeEngine{st},
		Service: svc,
		Guard:   netguard.New(nil),
		Logger:  discard,
		// No DNS in tests: unresolvable names pass the URL check (every dial is checked later).
		Resolver: &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("no DNS in tests")
		}},
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	v, err := openapitest.New(ctx, api.OpenAPI())
	if err != nil {
		st.Close()
		return nil, err
	}
	srv := httptest.NewServer(v.Handler(report, h))
	// App-wide replays run as on a server.
	replays, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); svc.RunReplays(replays, "apitest") }()
	return &Server{URL: srv.URL, AdminKey: apiKey, Store: st, close: func() { srv.Close(); stop(); <-done; st.Close() }}, nil
}

// Close stops the server and closes its store.
func (s *Server) Close() { s.close() }

// HTTPClient returns an HTTP client for a client of a herald server that the test
// started otherwise (a whole `herald serve`): every answer it gets is checked
// against the OpenAPI document, and a failure is reported to t.
func HTTPClient(t testing.TB) *http.Client {
	t.Helper()
	return &http.Client{Transport: validator(t).Transport(t, nil)}
}

// validator loads the API's OpenAPI document, failing t if it cannot.
func validator(t testing.TB) *openapitest.Validator {
	t.Helper()
	v, err := openapitest.New(context.Background(), api.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// storeEngine stands in for the delivery engine: it stores messages and sends nothing.
type storeEngine struct{ st store.Store }

func (e storeEngine) Publish(ctx context.Context, m *domain.Message) (*store.PublishResult, error) {
	return e.st.Publish(ctx, &store.PublishInput{Message: m, IdempotencyTTL: 24 * time.Hour})
}

func (e storeEngine) PublishWithTTL(ctx context.Context, m *domain.Message, _ time.Duration) (*store.PublishResult, error) {
	return e.Publish(ctx, m)
}

func (e storeEngine) PublishTo(ctx context.Context, m *domain.Message, endpointIDs []string) (*store.PublishResult, error) {
	return e.st.Publish(ctx, &store.PublishInput{Message: m, IdempotencyTTL: 24 * time.Hour, Endpoints: endpointIDs})
}

func (storeEngine) Wake()                  {}
func (storeEngine) EndpointChanged(string) {}

// FinishDue claims every due delivery of st and records one attempt for each, answered
// with code: 2xx succeeds, anything else fails for good. It returns the deliveries.
func FinishDue(t testing.TB, st store.Store, code int) []*domain.Delivery {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	claimed, err := st.Claim(ctx, store.ClaimRequest{Owner: "test", Now: now, LeaseUntil: now.Add(time.Minute), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var results []*store.AttemptResult
	var ds []*domain.Delivery
	for _, c := range claimed {
		d := c.Delivery
		ds = append(ds, d)
		r := &store.AttemptResult{
			Attempt: &domain.Attempt{
				ID: ids.New("att"), DeliveryID: d.ID, AppID: d.AppID, EndpointID: d.EndpointID, MessageID: d.MessageID,
				Number: d.Attempts + 1, StartedAt: now, Latency: 12500 * time.Microsecond, StatusCode: code,
				ResponseHeaders: map[string]string{"content-type": "text/plain"}, ResponseBody: []byte("answer"),
				Outcome: domain.OutcomeSucceeded,
			},
			Status: domain.DeliverySucceeded,
		}
		if code < 200 || code > 299 {
			r.Attempt.Outcome, r.Attempt.Error, r.Status, r.EndpointFailed = domain.OutcomeFailed, "HTTP 500 Internal Server Error", domain.DeliveryFailed, true
		}
		results = append(results, r)
	}
	if err := st.Complete(ctx, results); err != nil {
		t.Fatal(err)
	}
	return ds
}
