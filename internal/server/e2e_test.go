package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/api"
	"github.com/heraldhq/herald/internal/server"
	"github.com/heraldhq/herald/internal/server/servertest"
	"github.com/heraldhq/herald/webhook"
	"github.com/heraldhq/herald/webhook/webhooktest"
)

// testServer runs a whole herald server on a loopback port (servertest's, with a short
// retry schedule) and returns an admin client.
func testServer(t *testing.T, mutate func(c *server.Config)) (*client.Client, *servertest.Server) {
	t.Helper()
	srv := servertest.Start(t, func(cfg *server.Config) {
		cfg.RetrySchedule = []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond}
		if mutate != nil {
			mutate(cfg)
		}
	})
	return srv.Client(t), srv
}

// hook is a receiving endpoint that verifies each request with the webhook library.
type hook struct {
	srv     *httptest.Server
	mu      sync.Mutex
	verify  webhook.Verifier
	got     []webhook.Delivery // in arrival order
	raw     []rawRequest
	bad     []error
	respond func(n int, w http.ResponseWriter)
}

func newHook(t *testing.T, respond func(n int, w http.ResponseWriter)) *hook {
	h := &hook{respond: respond}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		v := h.verify
		h.mu.Unlock()
		var d webhook.Delivery
		var err error
		if v == nil {
			err = fmt.Errorf("no secret yet")
		} else {
			d, err = v.Verify(body, r.Header)
		}
		h.mu.Lock()
		if err != nil {
			h.bad = append(h.bad, err)
		}
		h.got = append(h.got, d)
		h.raw = append(h.raw, rawRequest{header: r.Header.Clone(), body: body})
		n := len(h.got)
		h.mu.Unlock()
		if h.respond != nil {
			h.respond(n, w)
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// rawRequest is a request as the hook received it.
type rawRequest struct {
	header http.Header
	body   []byte
}

func (h *hook) requests() []rawRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]rawRequest(nil), h.raw...)
}

func (h *hook) useSecrets(t *testing.T, secrets []*client.EndpointSecret) {
	t.Helper()
	var keys []webhook.Secret
	for _, s := range secrets {
		keys = append(keys, webhook.MustParseSecret(s.Secret))
	}
	v, err := webhook.NewStandardKeys(keys)
	if err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	h.verify = v
	h.mu.Unlock()
}

func (h *hook) received() ([]webhook.Delivery, []error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]webhook.Delivery(nil), h.got...), append([]error(nil), h.bad...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestEndToEnd publishes to an app with several kinds of endpoints and checks every
// delivery outcome, every attempt record, and every signature.
func TestEndToEnd(t *testing.T) {
	c, _ := testServer(t, nil)
	ctx := context.Background()
	app := servertest.NewApp(t, c, client.AppInput{Name: "Acme", UID: "acme"})
	hooks := map[string]*hook{
		"all":       newHook(t, nil),
		"responses": newHook(t, nil),
		"paused":    newHook(t, nil),
		"recovering": newHook(t, func(n int, w http.ResponseWriter) {
			if n <= 2 {
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, "warming up")
			}
		}),
		"gone": newHook(t, func(n int, w http.ResponseWriter) { w.WriteHeader(http.StatusGone) }),
		"slow": newHook(t, func(n int, w http.ResponseWriter) { time.Sleep(300 * time.Millisecond) }),
	}
	inputs := map[string]client.EndpointInput{
		"all":        {},
		"responses":  {EventTypes: []string{"response.*"}},
		"paused":     {State: "paused"},
		"recovering": {EventTypes: []string{"response.completed"}},
		"gone":       {EventTypes: []string{"batch.completed"}},
		"slow":       {EventTypes: []string{"response.completed"}, TimeoutMS: 1000},
	}
	eps := map[string]*client.Endpoint{}
	for name, in := range inputs {
		in.URL = hooks[name].srv.URL + "/" + name
		in.Description = name
		ep, err := c.CreateEndpoint(ctx, app.ID, in)
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		eps[name] = ep
		secrets, err := c.EndpointSecrets(ctx, app.ID, ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		hooks[name].useSecrets(t, secrets)
	}

	types := []string{"response.completed", "response.failed", "batch.completed"}
	msgs := map[string]string{} // message id -> type
	for _, typ := range types {
		body, _ := webhooktest.SampleEvent(typ, time.Now())
		m, n, _, err := c.Publish(ctx, app.ID, client.MessageInput{Type: typ, Payload: body})
		if err != nil {
			t.Fatal(err)
		}
		msgs[m.ID] = typ
		want := map[string]int{"response.completed": 5, "response.failed": 3, "batch.completed": 3}[typ]
		if n != want {
			t.Errorf("%s queued for %d endpoints, want %d", typ, n, want)
		}
	}
	wantTypes := map[string][]string{
		"all":        types,
		"responses":  {"response.completed", "response.failed"},
		"paused":     nil,
		"recovering": {"response.completed"},
		"gone":       {"batch.completed"},
		"slow":       {"response.completed"},
	}
	status := func(name string) map[string]int {
		ds, _, err := c.ListDeliveries(ctx, app.ID, client.ListDeliveriesParams{EndpointID: eps[name].ID})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, d := range ds {
			out[d.Status]++
		}
		return out
	}
	waitFor(t, "deliveries to settle", func() bool {
		return status("all")["succeeded"] == 3 && status("responses")["succeeded"] == 2 &&
			status("recovering")["succeeded"] == 1 && status("gone")["failed"] == 1 && status("slow")["succeeded"] == 1
	})
	if got := status("paused"); got["pending"] != 3 {
		t.Errorf("paused endpoint deliveries = %v, want 3 pending", got)
	}

	// Every request carried a valid signature, and each endpoint got exactly its types.
	for name, h := range hooks {
		got, bad := h.received()
		if len(bad) > 0 {
			t.Errorf("%s: %d requests failed verification: %v", name, len(bad), bad[0])
		}
		var gotTypes []string
		seen := map[string]bool{}
		for _, d := range got {
			if !seen[d.ID] {
				seen[d.ID] = true
				gotTypes = append(gotTypes, msgs[d.ID])
			}
		}
		sort.Strings(gotTypes)
		want := append([]string(nil), wantTypes[name]...)
		sort.Strings(want)
		if fmt.Sprint(gotTypes) != fmt.Sprint(want) {
			t.Errorf("%s received %v, want %v", name, gotTypes, want)
		}
	}

	// Attempt records.
	attempts := func(name string) []*client.Attempt {
		as, _, err := c.ListAttempts(ctx, app.ID, client.ListAttemptsParams{EndpointID: eps[name].ID})
		if err != nil {
			t.Fatal(err)
		}
		sort.Slice(as, func(i, j int) bool { return as[i].ID < as[j].ID })
		return as
	}
	rec := attempts("recovering")
	if len(rec) != 3 || rec[0].StatusCode != 503 || rec[0].Outcome != "retrying" || rec[0].ResponseBody != "warming up" ||
		rec[1].StatusCode != 503 || rec[2].StatusCode != 200 || rec[2].Outcome != "succeeded" || rec[2].Number != 3 {
		t.Errorf("recovering attempts = %s", describe(rec))
	}
	gone := attempts("gone")
	if len(gone) != 1 || gone[0].StatusCode != 410 || gone[0].Outcome != "failed" {
		t.Errorf("gone attempts = %s", describe(gone))
	}
	if ep, _ := c.GetEndpoint(ctx, app.ID, eps["gone"].ID); ep.State != "disabled" || ep.DisabledReason == "" {
		t.Errorf("410 endpoint state = %s (%q), want disabled", ep.State, ep.DisabledReason)
	}
	slow := attempts("slow")
	if len(slow) != 1 || slow[0].StatusCode != 200 || slow[0].LatencyMS < 300 {
		t.Errorf("slow attempts = %s", describe(slow))
	}
	for _, name := range []string{"all", "responses"} {
		for _, a := range attempts(name) {
			if a.StatusCode != 200 || a.Outcome != "succeeded" || a.Number != 1 {
				t.Errorf("%s attempt %+v", name, a)
			}
		}
	}

	// Resuming the paused endpoint sends what queued up.
	enabled := "enabled"
	if _, err := c.UpdateEndpoint(ctx, app.ID, eps["paused"].ID, client.EndpointUpdate{State: &enabled}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the resumed endpoint", func() bool { return status("paused")["succeeded"] == 3 })

	// Retry one delivery now, and replay everything the "all" endpoint got.
	ds, _, _ := c.ListDeliveries(ctx, app.ID, client.ListDeliveriesParams{EndpointID: eps["responses"].ID})
	if _, err := c.RetryDelivery(ctx, app.ID, ds[0].ID); err != nil {
		t.Fatal(err)
	}
	r, err := c.Replay(ctx, app.ID, eps["all"].ID, client.ReplayInput{Status: "succeeded"})
	if err != nil || r.Replayed != 3 {
		t.Fatalf("replay = %+v, %v", r, err)
	}
	waitFor(t, "the retry and the replay", func() bool {
		a, _ := hooks["all"].received()
		b, _ := hooks["responses"].received()
		return len(a) == 6 && len(b) == 3
	})
	// The webhook-id is stable across retries and replays: receivers can dedupe on it.
	got, _ := hooks["all"].received()
	seen := map[string]int{}
	for _, d := range got {
		seen[d.ID]++
	}
	for id, n := range seen {
		if n != 2 {
			t.Errorf("message %s arrived %d times at the replayed endpoint, want 2 with the same webhook-id", id, n)
		}
	}
}

func describe(as []*client.Attempt) string {
	s := ""
	for _, a := range as {
		s += fmt.Sprintf("[#%d %d %s %q %.0fms] ", a.Number, a.StatusCode, a.Outcome, a.Error, a.LatencyMS)
	}
	return s
}

func TestServerOperationalEndpoints(t *testing.T) {
	_, srv := testServer(t, nil)
	h := srv.Handler()
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/openapi.yaml": 200} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("GET %s = %d, want %d", path, rec.Code, want)
		}
		if path == "/metrics" {
			for _, name := range []string{"herald_queue_depth", "herald_delivery_attempts_total", "herald_attempt_duration_seconds"} {
				if !strings.Contains(rec.Body.String(), name) {
					t.Errorf("/metrics lacks %s", name)
				}
			}
		}
	}
}

func TestFirstStartCreatesAdminKey(t *testing.T) {
	dir := t.TempDir()
	var out1, out2 strings.Builder
	log := slog.New(slog.DiscardHandler)
	s1, err := server.New(context.Background(), server.Config{DataDir: dir}, log, &out1)
	if err != nil {
		t.Fatal(err)
	}
	s1.Store().Close()
	if !strings.Contains(out1.String(), "hk_") {
		t.Fatalf("first start printed %q, want an admin key", out1.String())
	}
	s2, err := server.New(context.Background(), server.Config{DataDir: dir}, log, &out2)
	if err != nil {
		t.Fatal(err)
	}
	s2.Store().Close()
	if out2.String() != "" {
		t.Fatalf("second start printed %q, want nothing", out2.String())
	}
	for _, bad := range []string{"short", "hk_short", "hk_has spaces in it, so no", "hk_" + strings.Repeat("x", 126)} {
		if _, err := server.New(context.Background(), server.Config{DataDir: t.TempDir(), APIKey: bad}, log, io.Discard); err == nil {
			t.Fatalf("a malformed HERALD_API_KEY %q was accepted", bad)
		}
	}
	// The API accepts every key serve accepts.
	own, err := server.New(context.Background(), server.Config{DataDir: t.TempDir(), APIKey: "hk_chosen-by_the-operator-2026"}, log, io.Discard)
	if err != nil {
		t.Fatalf("an operator's own HERALD_API_KEY: %v", err)
	}
	defer own.Store().Close()
	k, err := own.Store().APIKeyByHash(context.Background(), api.HashAPIKey("hk_chosen-by_the-operator-2026"))
	if err != nil || k.AppID != "" {
		t.Fatalf("HERALD_API_KEY stored as %+v (%v), want an admin key", k, err)
	}
	if !api.WellFormedAPIKey("hk_chosen-by_the-operator-2026") {
		t.Fatal("serve accepts a HERALD_API_KEY that the API refuses")
	}
}
