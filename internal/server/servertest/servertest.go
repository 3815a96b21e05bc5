// Package servertest runs a whole herald server (server.New, then Run) on a loopback
// port for the tests that talk to one from outside: the console's browser tests, the
// CLI's, the emulator's, the hostile clients' and the server's own end-to-end tests
// (package server_test; export_test.go there opens the few internals they check).
package servertest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/api"
	"github.com/heraldhq/herald/internal/api/apitest"
	"github.com/heraldhq/herald/internal/server"
)

// Server is a herald server that runs until its test ends.
type Server struct {
	*server.Server
	URL     string // such as http://127.0.0.1:41234
	Addr    string // such as 127.0.0.1:41234
	APIKey  string // the admin API key
	DataDir string // the server's data directory (its SQLite database is herald.db there)

	stop func()
}

// Config returns the configuration Start begins with: a new data directory and admin
// key, receivers on loopback allowed, and a 2 s attempt timeout.
func Config(t testing.TB) server.Config {
	key, _, _ := api.NewAPIKey()
	return server.Config{
		DataDir:       t.TempDir(),
		APIKey:        key,
		AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Timeout:       2 * time.Second,
	}
}

// Start runs a server with Config(t), changed by mutate if it is not nil, and returns
// once it is ready. The server logs nothing.
func Start(t testing.TB, mutate func(*server.Config)) *Server {
	t.Helper()
	return StartLogging(t, slog.New(slog.DiscardHandler), mutate)
}

// StartLogging is Start with the server logging to log.
func StartLogging(t testing.TB, log *slog.Logger, mutate func(*server.Config)) *Server {
	t.Helper()
	cfg := Config(t)
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := server.New(context.Background(), cfg, log, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("server shutdown: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("the server did not shut down in 30 s")
			}
		})
	}
	t.Cleanup(stop)
	s := &Server{Server: srv, URL: "http://" + ln.Addr().String(), Addr: ln.Addr().String(), APIKey: cfg.APIKey, DataDir: cfg.DataDir, stop: stop}
	s.waitReady(t)
	return s
}

// Stop shuts the server down and waits for it to finish (which flushes its telemetry);
// the test's end does the same if Stop was not called.
func (s *Server) Stop() { s.stop() }

// waitReady waits up to 20 s for GET /readyz to answer 200.
func (s *Server) waitReady(t testing.TB) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; {
		if resp, err := http.Get(s.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the server was not ready in 20 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Client returns a client of the server with the admin key; every answer it gets is
// checked against the OpenAPI document, and a departure fails t.
func (s *Server) Client(t testing.TB) *client.Client {
	t.Helper()
	return client.New(s.URL, s.APIKey, apitest.HTTPClient(t))
}

// NewApp creates an app through c, failing t if it cannot.
func NewApp(t testing.TB, c *client.Client, in client.AppInput) *client.App {
	t.Helper()
	app, err := c.CreateApp(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// Call sends a request to the API at base outside the typed client: method path (such
// as /v1/apps) with body as JSON, the header fields in h (which may be nil) and key as
// its bearer token. It returns the answer's status and body, failing t if there is none.
func Call(t testing.TB, base, key, method, path string, h http.Header, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if h != nil {
		req.Header = h.Clone()
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, answer
}
