package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

// runReplays runs the app-wide replays of e's service until the test ends.
func (e *env) runReplays() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.server.svc.RunReplays(ctx, "test-node"); close(done) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

// finishAll records an attempt of every due delivery of e's store: failed for the
// messages in failed, else succeeded.
func (e *env) finishAll(failed map[string]bool) {
	e.t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	cs, err := e.store.Claim(ctx, store.ClaimRequest{Owner: "test", Now: now.Add(time.Second), LeaseUntil: now.Add(time.Hour), Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var rs []*store.AttemptResult
	for _, c := range cs {
		d := c.Delivery
		status, outcome := domain.DeliverySucceeded, domain.OutcomeSucceeded
		if failed[d.MessageID] {
			status, outcome = domain.DeliveryFailed, domain.OutcomeFailed
		}
		rs = append(rs, &store.AttemptResult{Status: status, Attempt: &domain.Attempt{ID: ids.New("att"), DeliveryID: d.ID, AppID: d.AppID,
			EndpointID: d.EndpointID, MessageID: d.MessageID, Number: 1, StartedAt: now, Outcome: outcome}})
	}
	if err := e.store.Complete(ctx, rs); err != nil {
		e.t.Fatal(err)
	}
}

// waitReplay polls a replay job until it is no longer running and returns it.
func (e *env) waitReplay(path, key string) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		j := e.must(200, req{method: "GET", path: path, key: key})
		if j["state"] != domain.ReplayRunning {
			return j
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("replay still running after 20 s: %v", j)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAppReplay(t *testing.T) {
	f := newFixture(t)
	f.runReplays()
	f.must(200, req{method: "PATCH", path: "/v1/apps/acme/endpoints/" + f.ep2, key: f.keyA, body: map[string]any{"state": "disabled"}})
	failed := map[string]bool{}
	for i := range 12 {
		typ := []string{"invoice.paid", "invoice.created", "customer.updated"}[i%3]
		id := f.must(202, req{method: "POST", path: "/v1/apps/acme/messages", key: f.keyA, body: map[string]any{"type": typ, "payload": map[string]any{"n": i}}})["id"].(string)
		failed[id] = i%2 == 0
	}
	f.must(200, req{method: "PATCH", path: "/v1/apps/acme/endpoints/" + f.ep2, key: f.keyA, body: map[string]any{"state": "enabled"}})
	f.finishAll(failed)
	// Failed invoice.* deliveries: messages 0, 4, 6, 10 (even, not customer.updated), to ep1 only
	// (ep2 was disabled when they were published).
	wakes, _ := f.engine.Counts()
	j := f.must(202, req{method: "POST", path: "/v1/apps/acme/replay", key: f.keyA, body: map[string]any{"since": "2000-01-01T00:00:00Z", "status": []string{"failed"}, "event_types": []string{"invoice.*"}}})
	path := "/v1/apps/acme/replays/" + j["id"].(string)
	j = f.waitReplay(path, f.keyA)
	if j["state"] != domain.ReplayDone || j["done"] != 4.0 || j["messages_scanned"] != 13.0 || j["progress"] != 1.0 || j["finished_at"] == nil {
		t.Errorf("finished replay: %v; want 4 deliveries of the 13 messages", j)
	}
	if w, _ := f.engine.Counts(); w == wakes {
		t.Error("the replay queued deliveries without waking the engine")
	}
	ds := f.must(200, req{method: "GET", path: "/v1/apps/acme/deliveries?status=pending&limit=100", key: f.keyA})["data"].([]any)
	if len(ds) != 4+1 { // and the fixture's delivery in flight
		t.Errorf("%d pending deliveries, want 5", len(ds))
	}
	// Everything since a time, every status: the other 8 of ep1 and the fixture's failed
	// one (ep2's delivery is in flight, pending).
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	all := f.waitReplay("/v1/apps/acme/replays/"+f.must(202, req{method: "POST", path: "/v1/apps/acme/replay", key: f.admin,
		body: map[string]any{"since": since}})["id"].(string), f.admin)
	if all["done"] != 9.0 || all["since"] == nil {
		t.Errorf("replay of everything: %v; want the 9 finished deliveries of ep1", all)
	}
	// Cancelling a finished replay answers it as it is.
	if c := f.must(200, req{method: "POST", path: path + "/cancel", key: f.keyA}); c["state"] != domain.ReplayDone {
		t.Errorf("cancel of a finished replay: %v", c)
	}
	// Another app's key, session or path: not found or forbidden, never the job.
	for _, r := range []req{
		{method: "GET", path: "/v1/apps/other/replays/" + j["id"].(string), key: f.keyB},
		{method: "GET", path: "/v1/apps/other/replays/" + j["id"].(string), key: f.admin},
		{method: "POST", path: "/v1/apps/other/replays/" + j["id"].(string) + "/cancel", key: f.admin},
		{method: "GET", path: "/v1/apps/acme/replays/" + f.rplB, key: f.admin},
	} {
		if resp := f.do(r); resp.status != 404 {
			t.Errorf("%s %s: %d %s, want 404", r.method, r.path, resp.status, resp.body)
		}
	}
	if resp := f.do(req{method: "GET", path: path, key: f.keyB}); resp.status != 403 {
		t.Errorf("app B's key reads app A's replay: %d %s", resp.status, resp.body)
	}
}

func TestAppReplayPortal(t *testing.T) {
	f := newFixture(t)
	manager := f.portal("acme", map[string]any{"capabilities": []string{"read", "manage"}})
	reader := f.portal("acme", map[string]any{"capabilities": []string{"read"}})
	limited := f.portal("acme", map[string]any{"capabilities": []string{"read", "manage"}, "endpoint_ids": []string{f.ep1}})
	j := f.must(202, manager.as(req{method: "POST", path: "/v1/apps/acme/replay", body: map[string]any{"since": "2026-01-01T00:00:00Z", "status": []string{"failed"}}}, false))
	f.must(200, reader.as(req{method: "GET", path: "/v1/apps/acme/replays/" + j["id"].(string)}, true))
	f.must(200, reader.as(req{method: "GET", path: "/v1/apps/acme/replays"}, true))
	for _, tc := range []struct {
		s session
		r req
	}{
		{reader, req{method: "POST", path: "/v1/apps/acme/replay", body: map[string]any{}}},
		{reader, req{method: "POST", path: "/v1/apps/acme/replays/" + j["id"].(string) + "/cancel"}},
		{limited, req{method: "POST", path: "/v1/apps/acme/replay", body: map[string]any{}}},
		{limited, req{method: "GET", path: "/v1/apps/acme/replays"}},
		{limited, req{method: "GET", path: "/v1/apps/acme/replays/" + j["id"].(string)}},
	} {
		if resp := f.do(tc.s.as(tc.r, false)); resp.status != 403 {
			t.Errorf("%s %s: %d %s, want 403", tc.r.method, tc.r.path, resp.status, resp.body)
		}
	}
	if resp := f.do(manager.as(req{method: "POST", path: "/v1/apps/acme/replay", body: map[string]any{}}, true)); resp.status != 403 || resp.code() != codeCSRFFailed {
		t.Errorf("a replay without the CSRF token: %d %s", resp.status, resp.body)
	}
}

func TestAppReplayBadInput(t *testing.T) {
	f := newFixture(t)
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	for _, tc := range []struct {
		body       string
		status     int
		code, want string
	}{
		{`{}`, 400, codeInvalidField, "since is required"},
		{`{"since":"2026-01-01T00:00:00Z","status":["pending"]}`, 400, codeInvalidField, "status[0] must be succeeded"},
		{`{"since":"2026-01-01T00:00:00Z","status":["failed","failed"]}`, 400, codeInvalidField, "status[1] repeats"},
		{`{"status":"failed"}`, 400, codeWrongType, "status"},
		{`{"since":"2026-01-01T00:00:00Z","event_types":["<img src=x>"]}`, 400, codeInvalidField, "event_types[0]"},
		{`{"since":"2026-01-01T00:00:00Z","event_types":[` + strings.Repeat(`"a",`, 100) + `"a"]}`, 400, codeInvalidField, "event_types has 101 entries"},
		{`{"since":"yesterday"}`, 400, codeInvalidField, "since must be an RFC 3339 time"},
		{`{"since":"2026-01-02T00:00:00Z","until":"2026-01-01T00:00:00Z"}`, 400, codeInvalidField, "until must be after since"},
		{`{"since":"` + future + `"}`, 400, codeInvalidField, "until must be after since"},
		{`{"after":"dlv_x"}`, 400, codeUnknownField, "after"},
		{`[`, 400, codeMalformedJSON, ""},
	} {
		resp := f.do(req{method: "POST", path: "/v1/apps/acme/replay", key: f.keyA, body: tc.body})
		if resp.status != tc.status || resp.code() != tc.code || !strings.Contains(string(resp.body), tc.want) {
			t.Errorf("%s: %d %s, want %d %s mentioning %q", tc.body, resp.status, resp.body, tc.status, tc.code, tc.want)
		}
	}
	// At most 5 replays of an app run at once (the fixture's is one; no runner here).
	since := map[string]any{"since": "2026-01-01T00:00:00Z"}
	for range domain.MaxRunningReplays - 1 {
		f.must(202, req{method: "POST", path: "/v1/apps/acme/replay", key: f.keyA, body: since})
	}
	if resp := f.do(req{method: "POST", path: "/v1/apps/acme/replay", key: f.keyA, body: since}); resp.status != 409 || !strings.Contains(string(resp.body), "cancel one") {
		t.Errorf("a sixth running replay: %d %s", resp.status, resp.body)
	}
	f.must(202, req{method: "POST", path: "/v1/apps/other/replay", key: f.keyB, body: since}) // another app is not held back
	for _, path := range []string{"/v1/apps/acme/replays/rpl_nope", "/v1/apps/acme/replays/" + ids.New("rpl"), "/v1/apps/missing/replays"} {
		if resp := f.do(req{method: "GET", path: path, key: f.admin}); resp.status != 404 {
			t.Errorf("GET %s: %d %s", path, resp.status, resp.body)
		}
	}
	if resp := f.do(req{method: "GET", path: "/v1/apps/acme/replays?cursor=nope", key: f.admin}); resp.status != 400 || resp.code() != codeInvalidQuery {
		t.Errorf("a bad cursor: %d %s", resp.status, resp.body)
	}
}

func TestListenersConnected(t *testing.T) {
	e := newEnv(t)
	app := e.must(201, req{method: "POST", path: "/v1/apps", key: e.admin, body: map[string]any{"name": "a", "uid": "acme"}})["id"].(string)
	key := e.newKey(app)
	conn, resp, err := e.dial("/v1/listen?app=acme&name=laptop", key)
	if err != nil {
		t.Fatalf("listen: %v %s", err, resp.body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := conn.Read(ctx); err != nil { // the hello
		t.Fatal(err)
	}
	listeners := func() []any {
		return e.must(200, req{method: "GET", path: "/v1/apps/acme/listeners", key: key})["data"].([]any)
	}
	ls := listeners()
	if len(ls) != 1 {
		t.Fatalf("listeners %v", ls)
	}
	l := ls[0].(map[string]any)
	if l["name"] != "laptop" || l["connected"] != true || l["connected_since"] == nil || !strings.HasPrefix(l["endpoint_id"].(string), "ep_") {
		t.Errorf("a connected listener: %v", l)
	}
	conn.Close(websocket.StatusNormalClosure, "bye")
	deadline := time.Now().Add(10 * time.Second)
	for l := listeners()[0].(map[string]any); l["connected"] != false || l["connected_since"] != nil; l = listeners()[0].(map[string]any) {
		if time.Now().After(deadline) {
			t.Fatalf("the listener left, and is still listed as %v", l)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The store still says a session of this node is connected (as after a crash): this
	// node knows better.
	since := time.Now().UTC().Truncate(time.Millisecond)
	if err := e.store.MarkListener(context.Background(), l["endpoint_id"].(string), "", since, true, since); err != nil {
		t.Fatal(err)
	}
	if l := listeners()[0].(map[string]any); l["connected"] != false {
		t.Errorf("a session recorded for this node but not attached here is listed as %v", l)
	}
	// Another node's fresh record is believed.
	if err := e.store.MarkListener(context.Background(), l["endpoint_id"].(string), "node-2", since, true, since); err != nil {
		t.Fatal(err)
	}
	if l := listeners()[0].(map[string]any); l["connected"] != true || l["connected_since"] == nil {
		t.Errorf("a session on another node is listed as %v", l)
	}
	if resp := e.do(req{method: "GET", path: "/v1/apps/acme/listeners", key: e.newKey("")}); resp.status != 200 {
		t.Errorf("an admin key: %d", resp.status)
	}
	portal := e.portal(app, map[string]any{"capabilities": []string{"read", "manage"}})
	if resp := e.do(portal.as(req{method: "GET", path: "/v1/apps/acme/listeners"}, true)); resp.status != 403 {
		t.Errorf("a portal session lists listeners: %d %s", resp.status, resp.body)
	}
}

func TestNodes(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.NodeID = "node-a" })
	got := e.must(200, req{method: "GET", path: "/v1/nodes", key: e.admin})
	nodes := got["data"].([]any)
	if len(nodes) != 1 || got["shared"] != false || got["timeout_seconds"] != 10.0 {
		t.Fatalf("nodes: %v", got)
	}
	if n := nodes[0].(map[string]any); n["id"] != "node-a" || n["alive"] != true || n["current"] != true || n["started_at"] == nil {
		t.Errorf("node: %v", n)
	}
	app := e.must(201, req{method: "POST", path: "/v1/apps", key: e.admin, body: map[string]any{"name": "a"}})["id"].(string)
	if resp := e.do(req{method: "GET", path: "/v1/nodes", key: e.newKey(app)}); resp.status != 403 {
		t.Errorf("an app key lists nodes: %d %s", resp.status, resp.body)
	}
	if resp := e.do(req{method: "GET", path: "/v1/nodes?x=1", key: e.admin}); resp.status != 400 {
		t.Errorf("a query: %d %s", resp.status, resp.body)
	}
}

// TestEmbeddedPortalCookie checks the portal session cookie's attributes: a portal that
// may be framed by another site and is reached over TLS gets SameSite=None; Secure;
// Partitioned (so that the frame keeps its session); otherwise, and for console
// sessions always, SameSite=Strict.
func TestEmbeddedPortalCookie(t *testing.T) {
	for _, tc := range []struct {
		name      string
		ancestors []string
		tls       bool
		console   bool
		wantSite  http.SameSite
		wantPart  bool
	}{
		{"embedded over TLS", []string{"https://app.example.com"}, true, false, http.SameSiteNoneMode, true},
		{"embedded without TLS", []string{"https://app.example.com"}, false, false, http.SameSiteStrictMode, false},
		{"not embedded, TLS", nil, true, false, http.SameSiteStrictMode, false},
		{"console, embedded portal, TLS", []string{"https://app.example.com"}, true, true, http.SameSiteStrictMode, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.PortalFrameAncestors = tc.ancestors })
			app := e.must(201, req{method: "POST", path: "/v1/apps", key: e.admin, body: map[string]any{"name": "a"}})["id"].(string)
			h := map[string]string{}
			if tc.tls {
				h["X-Forwarded-Proto"] = "https" // behind a TLS proxy
			}
			r := req{method: "POST", path: "/v1/portal/sessions", body: map[string]any{"token": e.portalLink(e.admin, app, nil)}, header: h}
			if tc.console {
				r = req{method: "POST", path: "/v1/console/sessions", body: map[string]any{"api_key": e.admin}, header: h}
			}
			resp := e.do(r)
			if resp.status != 201 {
				t.Fatalf("%d %s", resp.status, resp.body)
			}
			raw := resp.header.Get("Set-Cookie")
			var ck *http.Cookie
			for _, c := range (&http.Response{Header: resp.header}).Cookies() {
				ck = c
			}
			if ck == nil || ck.Name != sessionCookie || !ck.HttpOnly || ck.Secure != tc.tls || ck.SameSite != tc.wantSite ||
				ck.Partitioned != tc.wantPart || strings.Contains(raw, "Partitioned") != tc.wantPart {
				t.Errorf("Set-Cookie: %s; want SameSite %v, Secure %v, Partitioned %v", raw, tc.wantSite, tc.tls, tc.wantPart)
			}
			// Signing out clears the same cookie (a partitioned one needs Partitioned).
			s := session{cookie: ck.Value, csrf: resp.obj(t)["csrf_token"].(string)}
			out := e.do(s.as(req{method: "DELETE", path: "/v1/console/sessions/current", header: h}, false))
			if out.status != 204 || strings.Contains(out.header.Get("Set-Cookie"), "Partitioned") != tc.wantPart ||
				!strings.Contains(out.header.Get("Set-Cookie"), "Max-Age=0") {
				t.Errorf("sign out: %d, Set-Cookie %s", out.status, out.header.Get("Set-Cookie"))
			}
		})
	}
}
