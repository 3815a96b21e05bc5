package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/heraldhq/herald/internal/api/openapitest"
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/netguard"
	"github.com/heraldhq/herald/internal/relay"
	"github.com/heraldhq/herald/internal/service/servicetest"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlite"
	"github.com/heraldhq/herald/internal/store/sqlite/sqlitetest"
	"github.com/heraldhq/herald/webhook"
)

// testEngine is the delivery engine of the tests: it publishes straight to the store
// and counts the other calls, and those of Config.OnSourceChanged.
type testEngine struct {
	servicetest.Engine

	mu             sync.Mutex
	sourcesChanged []string
}

// SourceChanged is the server's Config.OnSourceChanged.
func (e *testEngine) SourceChanged(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sourcesChanged = append(e.sourcesChanged, id)
}

// sourceChanges returns the number of OnSourceChanged calls so far.
func (e *testEngine) sourceChanges() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.sourcesChanged)
}

// env is one API server on a fresh SQLite store, reached over real HTTP. The store is
// also its SourceStore, and a relay hub runs its listeners.
type env struct {
	t        testing.TB
	path     string // the SQLite file
	store    *sqlite.Store
	engine   *testEngine
	hub      *relay.Hub
	server   *server
	http     *httptest.Server
	admin    string // an admin API key
	patterns sync.Map
	contract *openapitest.Validator // checks every answer against openapi.yaml
}

// noDNS is a resolver that fails at once, so that URL checks never leave the machine.
func noDNS() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		return nil, errors.New("no DNS in tests")
	}}
}

func newEnv(t testing.TB, configure ...func(*Config)) *env {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	path := filepath.Join(t.TempDir(), "herald.db")
	st := sqlitetest.OpenFile(t, path, sqlite.Options{})
	e := &env{t: t, path: path, store: st, engine: &testEngine{Engine: servicetest.Engine{Store: st}}, hub: relay.NewHub(quiet)}
	cfg := Config{
		Store: st, Engine: e.engine, Guard: netguard.New(nil), Resolver: noDNS(), Logger: quiet,
		Sources: st, OnSourceChanged: e.engine.SourceChanged, Listener: e.hub,
	}
	for _, f := range configure {
		f(&cfg)
	}
	var err error
	if e.server, err = newServer(cfg); err != nil {
		t.Fatal(err)
	}
	if e.contract, err = openapitest.New(context.Background(), openapiYAML); err != nil {
		t.Fatal(err)
	}
	// Every answer of every test is checked against openapi.yaml.
	checked := e.contract.Handler(t, e.server)
	e.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Noted before serving: a WebSocket session (GET /v1/listen) runs until the client leaves.
		if _, pattern := e.server.mux.Handler(r); pattern != "" {
			e.patterns.Store(pattern, true)
		}
		checked.ServeHTTP(w, r)
	}))
	t.Cleanup(e.http.Close)
	// Tests sign in more often than people do; TestSignInRateLimit checks the real limit.
	e.server.signIns = newIPLimiter(time.Millisecond, 1000, limiterSize, time.Now)
	e.admin = e.newKey("")
	if _, err := e.server.svc.EnsureOperationalApp(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	return e
}

// newKey stores a new API key for appID ("" for an admin key) and returns it.
func (e *env) newKey(appID string) string {
	e.t.Helper()
	key, prefix, hash := NewAPIKey()
	k := &domain.APIKey{ID: ids.New("key"), AppID: appID, Name: "test", Prefix: prefix, Hash: hash, CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if err := e.store.CreateAPIKey(context.Background(), k); err != nil {
		e.t.Fatal(err)
	}
	return key
}

// response is an HTTP answer, read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// code returns the error code of an error answer.
func (r response) code() string {
	var e errorBody
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Code
}

// obj decodes the answer as a JSON object.
func (r response) obj(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v: %s", r.status, err, r.body)
	}
	return m
}

// req is one request for env.do.
type req struct {
	method, path string
	key          string // "Bearer <key>" is sent when set
	auth         string // a raw Authorization header, overriding key
	body         any    // string or []byte as they are; anything else as JSON; nil for none
	header       map[string]string
}

func (e *env) do(r req) response {
	e.t.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		body = bytes.NewReader(data)
	}
	hr, err := http.NewRequest(r.method, e.http.URL+r.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if r.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	switch {
	case r.auth != "":
		hr.Header.Set("Authorization", r.auth)
	case r.key != "":
		hr.Header.Set("Authorization", "Bearer "+r.key)
	}
	for k, v := range r.header {
		if v == "" {
			hr.Header.Del(k)
		} else {
			hr.Header.Set(k, v)
		}
	}
	resp, err := e.http.Client().Do(hr)
	if err != nil {
		e.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// dial opens a WebSocket to path (GET /v1/listen?...) with the API key, as herald listen
// does. On a refused handshake it returns the answer's status and body with the error.
func (e *env) dial(path, key string) (*websocket.Conn, response, error) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts := &websocket.DialOptions{HTTPHeader: http.Header{}}
	if key != "" {
		opts.HTTPHeader.Set("Authorization", "Bearer "+key)
	}
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.http.URL, "http")+path, opts)
	var r response
	if resp != nil {
		r.status, r.header = resp.StatusCode, resp.Header
		if resp.Body != nil {
			r.body, _ = io.ReadAll(resp.Body)
		}
	}
	return conn, r, err
}

// listen attaches a listener at path with the API key, reads the hello message and
// leaves; it returns the hello as an object and the handshake's answer.
func (e *env) listen(path, key string) (map[string]any, response) {
	e.t.Helper()
	conn, resp, err := e.dial(path, key)
	if err != nil {
		return nil, resp
	}
	defer conn.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	typ, data, err := conn.Read(ctx)
	if err != nil {
		e.t.Fatalf("GET %s: reading the hello: %v", path, err)
	}
	if typ != websocket.MessageText {
		e.t.Errorf("GET %s: the hello is a %v message, want text", path, typ)
	}
	var hello map[string]any
	if err := json.Unmarshal(data, &hello); err != nil {
		e.t.Fatalf("GET %s: the hello is not a JSON object: %v: %s", path, err, data)
	}
	if err := e.contract.CheckSchema("ListenHello", hello); err != nil {
		e.t.Errorf("GET %s: the hello %v", path, err)
	}
	if err := conn.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		e.t.Errorf("GET %s: closing: %v", path, err)
	}
	resp.body = data
	return hello, resp
}

// must does r and fails the test unless the answer has the given status; it returns
// the answer decoded as an object (nil for an empty body).
func (e *env) must(status int, r req) map[string]any {
	e.t.Helper()
	resp := e.do(r)
	if resp.status != status {
		e.t.Fatalf("%s %s: status %d, want %d: %s", r.method, r.path, resp.status, status, resp.body)
	}
	if len(resp.body) == 0 {
		return nil
	}
	return resp.obj(e.t)
}

// fixture is a populated store: two apps, endpoints, messages, a finished delivery
// with an attempt and a delivery in flight.
type fixture struct {
	*env
	appA, appB       string // ids; app A has the uid "acme", app B "other"
	src, srcB        string // sources: of app A (openai), of app B (github)
	srcSecret        string // the secret of src
	keyA, keyB       string // app keys
	keyAID           string
	ep1, ep2         string // endpoints of app A
	epB              string // an endpoint of app B
	msg              string // a message of app A, delivered to ep1 and ep2
	dlvDone, dlvBusy string // its deliveries: to ep1 finished (failed, one attempt), to ep2 in flight
	attempt          string
	msgB             string
	dlvB             string
	rpl, rplB        string // a replay job of app A, of app B (running, with no runner)
}

func newFixture(t *testing.T, configure ...func(*Config)) *fixture {
	t.Helper()
	f := &fixture{env: newEnv(t, configure...)}
	f.appA = f.must(201, req{method: "POST", path: "/v1/apps", key: f.admin, body: map[string]any{"name": "Acme", "uid": "acme"}})["id"].(string)
	f.appB = f.must(201, req{method: "POST", path: "/v1/apps", key: f.admin, body: map[string]any{"name": "Other", "uid": "other"}})["id"].(string)
	f.keyB = f.newKey(f.appB)
	k := f.must(201, req{method: "POST", path: "/v1/apps/" + f.appA + "/api-keys", key: f.admin, body: map[string]any{"name": "a"}})
	f.keyA, f.keyAID = k["key"].(string), k["id"].(string)
	f.ep1 = f.must(201, req{method: "POST", path: "/v1/apps/acme/endpoints", key: f.keyA, body: map[string]any{"url": "https://one.example.com/hook"}})["id"].(string)
	f.ep2 = f.must(201, req{method: "POST", path: "/v1/apps/acme/endpoints", key: f.keyA, body: map[string]any{"url": "https://two.example.com/hook"}})["id"].(string)
	f.epB = f.must(201, req{method: "POST", path: "/v1/apps/other/endpoints", key: f.keyB, body: map[string]any{"url": "https://b.example.com/hook"}})["id"].(string)
	f.msg = f.must(202, req{method: "POST", path: "/v1/apps/acme/messages", key: f.keyA, body: map[string]any{"type": "response.completed", "payload": map[string]any{"id": "resp_1"}, "idempotency_key": "k1"}})["id"].(string)
	f.srcSecret = webhook.NewHMACSecret().Reveal()
	f.src = f.must(201, req{method: "POST", path: "/v1/apps/acme/sources", key: f.keyA, body: map[string]any{"name": "fixture", "provider": "openai", "secret": f.srcSecret}})["id"].(string)
	f.srcB = f.must(201, req{method: "POST", path: "/v1/apps/other/sources", key: f.keyB, body: map[string]any{"provider": "github", "secret": "gh-secret"}})["id"].(string)
	f.msgB = f.must(202, req{method: "POST", path: "/v1/apps/other/messages", key: f.keyB, body: map[string]any{"type": "response.completed", "payload": map[string]any{"id": "resp_b"}}})["id"].(string)

	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	claimed, err := f.store.Claim(ctx, store.ClaimRequest{Owner: "test", Now: now.Add(time.Second), LeaseUntil: now.Add(time.Hour), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range claimed {
		switch d := c.Delivery; d.EndpointID {
		case f.ep1:
			f.dlvDone = d.ID
			f.attempt = ids.New("att")
			if err := f.store.Complete(ctx, []*store.AttemptResult{{
				Attempt: &domain.Attempt{
					ID: f.attempt, DeliveryID: d.ID, AppID: d.AppID, EndpointID: d.EndpointID, MessageID: d.MessageID,
					Number: 1, StartedAt: now, Latency: 1234567 * time.Nanosecond, StatusCode: 500,
					ResponseHeaders: map[string]string{"Content-Type": "text/plain"}, ResponseBody: []byte("oops \xff"),
					Outcome: domain.OutcomeFailed,
				},
				Status:         domain.DeliveryFailed,
				EndpointFailed: true,
			}}); err != nil {
				t.Fatal(err)
			}
		case f.ep2:
			f.dlvBusy = d.ID
		case f.epB:
			f.dlvB = d.ID
		}
	}
	if f.dlvDone == "" || f.dlvBusy == "" || f.dlvB == "" {
		t.Fatalf("claimed %d deliveries, want 3", len(claimed))
	}
	for app, id := range map[string]*string{f.appA: &f.rpl, f.appB: &f.rplB} {
		*id = ids.New("rpl")
		if err := f.store.CreateReplayJob(ctx, &domain.ReplayJob{ID: *id, AppID: app, State: domain.ReplayRunning, Until: now, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// snapshot renders everything the store holds, read through its list and get methods:
// those of store.Store, and of store.SourceStore when s is one.
func snapshot(t *testing.T, s store.Store) string {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) // every secret is current then
	var b strings.Builder
	dump := func(label string, v any) {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s\n", label, data)
	}
	all := func(list func(p store.Page) (int, string, error)) {
		p := store.Page{Limit: 1000}
		for {
			_, next, err := list(p)
			if err != nil {
				t.Fatal(err)
			}
			if next == "" {
				return
			}
			p.Cursor = next
		}
	}
	keys := func(appID string) {
		all(func(p store.Page) (int, string, error) {
			ks, next, err := s.ListAPIKeys(ctx, appID, p)
			for _, k := range ks {
				dump("key", k)
				fmt.Fprintf(&b, "key hash %x\n", k.Hash)
			}
			return len(ks), next, err
		})
	}
	keys("")
	var apps []string
	all(func(p store.Page) (int, string, error) {
		as, next, err := s.ListApps(ctx, p)
		for _, a := range as {
			apps = append(apps, a.ID)
		}
		return len(as), next, err
	})
	sort.Strings(apps)
	for _, id := range apps {
		a, err := s.GetApp(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		dump("app", a)
		keys(id)
		all(func(p store.Page) (int, string, error) {
			eps, next, err := s.ListEndpoints(ctx, id, p)
			for _, e := range eps {
				dump("endpoint", e)
				secrets, err := s.EndpointSecrets(ctx, e.ID, at)
				if err != nil {
					t.Fatal(err)
				}
				for _, sec := range secrets {
					dump("secret", []any{sec.ID, sec.Secret.Reveal(), sec.CreatedAt, sec.ExpiresAt})
				}
			}
			return len(eps), next, err
		})
		all(func(p store.Page) (int, string, error) {
			ms, next, err := s.ListMessages(ctx, store.MessageFilter{AppID: id, Page: p})
			for _, m := range ms {
				dump("message", m)
			}
			return len(ms), next, err
		})
		all(func(p store.Page) (int, string, error) {
			ds, next, err := s.ListDeliveries(ctx, store.DeliveryFilter{AppID: id, Page: p})
			for _, d := range ds {
				dump("delivery", []any{d, d.Seq, d.RetryStep})
			}
			return len(ds), next, err
		})
		all(func(p store.Page) (int, string, error) {
			as, next, err := s.ListAttempts(ctx, store.AttemptFilter{AppID: id, Page: p})
			for _, a := range as {
				dump("attempt", []any{a, a.Latency, a.ResponseBody})
			}
			return len(as), next, err
		})
		ss, ok := s.(store.SourceStore)
		if !ok {
			continue
		}
		all(func(p store.Page) (int, string, error) {
			srcs, next, err := ss.ListSources(ctx, id, p)
			for _, src := range srcs {
				dump("source", []any{src, src.Secrets, src.DedupeWindow})
				all(func(p store.Page) (int, string, error) {
					rs, next, err := ss.ListRejections(ctx, id, src.ID, p)
					for _, r := range rs {
						dump("rejection", []any{r, r.Body})
					}
					return len(rs), next, err
				})
			}
			return len(srcs), next, err
		})
	}
	return b.String()
}

// loopback allows 127.0.0.0/8, for tests that need an endpoint at a local address.
func loopback(cfg *Config) {
	cfg.Guard = netguard.New([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
}
