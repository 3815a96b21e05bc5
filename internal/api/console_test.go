package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

// session is a signed-in browser of the tests: its cookie and CSRF token.
type session struct {
	cookie, csrf string
}

// as returns r sent with the session: its cookie, and its CSRF token unless noCSRF.
func (s session) as(r req, noCSRF bool) req {
	h := map[string]string{"Cookie": sessionCookie + "=" + s.cookie}
	for k, v := range r.header {
		h[k] = v
	}
	if !noCSRF {
		h[csrfHeader] = s.csrf
	}
	r.header = h
	return r
}

// startedSession reads the cookie and CSRF token of a 201 sign-in or link exchange.
func startedSession(t testing.TB, resp response) session {
	t.Helper()
	if resp.status != 201 {
		t.Fatalf("starting a session: %d %s", resp.status, resp.body)
	}
	var s session
	for _, c := range (&http.Response{Header: resp.header}).Cookies() {
		if c.Name == sessionCookie {
			s.cookie = c.Value
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
				t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/", c)
			}
		}
	}
	s.csrf, _ = resp.obj(t)["csrf_token"].(string)
	if s.cookie == "" || s.csrf == "" {
		t.Fatalf("no cookie or csrf_token in %v %s", resp.header, resp.body)
	}
	return s
}

// signIn opens a console session with the key.
func (e *env) signIn(key string) session {
	e.t.Helper()
	return startedSession(e.t, e.do(req{method: "POST", path: "/v1/console/sessions", body: map[string]any{"api_key": key}}))
}

// portalLink mints a portal link of app with the key and returns its token.
func (e *env) portalLink(key, app string, body any) string {
	e.t.Helper()
	out := e.must(201, req{method: "POST", path: "/v1/apps/" + app + "/portal-sessions", key: key, body: body})
	_, token, ok := strings.Cut(out["url"].(string), "/portal/#token=")
	if !ok {
		e.t.Fatalf("portal link %v has no /portal/#token=", out["url"])
	}
	return token
}

// openPortal exchanges a portal link's token for a session.
func (e *env) openPortal(token string) session {
	e.t.Helper()
	return startedSession(e.t, e.do(req{method: "POST", path: "/v1/portal/sessions", body: map[string]any{"token": token}}))
}

// portal mints a link of app with the admin key and opens it.
func (e *env) portal(app string, body any) session {
	e.t.Helper()
	return e.openPortal(e.portalLink(e.admin, app, body))
}

func TestConsoleSignIn(t *testing.T) {
	f := newFixture(t)
	s := f.signIn(f.admin)
	who := f.must(200, s.as(req{method: "GET", path: "/v1/session"}, true))
	if who["kind"] != "console" || who["csrf_token"] != s.csrf || who["expires_at"] == nil || who["app_id"] != nil {
		t.Errorf("GET /v1/session of a console session: %v", who)
	}
	// A console session acts as an admin key.
	f.must(200, s.as(req{method: "GET", path: "/v1/apps"}, true))
	f.must(201, s.as(req{method: "POST", path: "/v1/apps", body: map[string]any{"name": "by cookie"}}, false))

	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"unknown key", map[string]any{"api_key": "hk_" + strings.Repeat("x", 43)}, 401, "unauthorized"},
		{"malformed key", map[string]any{"api_key": "secret"}, 401, "unauthorized"},
		{"app key", map[string]any{"api_key": f.keyA}, 403, "forbidden"},
		{"no key", map[string]any{}, 400, "invalid_field"},
	}
	for _, tt := range tests {
		resp := f.do(req{method: "POST", path: "/v1/console/sessions", body: tt.body})
		if resp.status != tt.status || resp.code() != tt.code || resp.header.Get("Set-Cookie") != "" {
			t.Errorf("%s: %d %s, want %d %s and no cookie", tt.name, resp.status, resp.body, tt.status, tt.code)
		}
	}
	// Deleting the admin key ends its console sessions.
	ks, _, err := f.store.ListAPIKeys(context.Background(), "", store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	second := f.newKey("")
	s2 := f.signIn(second)
	for _, k := range ks {
		f.must(204, s.as(req{method: "DELETE", path: "/v1/api-keys/" + k.ID}, false))
	}
	f.must(200, s2.as(req{method: "GET", path: "/v1/session"}, true))
	if resp := f.do(s.as(req{method: "GET", path: "/v1/session"}, true)); resp.status != 401 {
		t.Errorf("session of a deleted key: %d %s", resp.status, resp.body)
	}
	// Signing out ends the session and clears the cookie.
	resp := f.do(s2.as(req{method: "DELETE", path: "/v1/console/sessions/current"}, false))
	if resp.status != 204 || !strings.Contains(resp.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("sign out: %d %v", resp.status, resp.header)
	}
	if resp := f.do(s2.as(req{method: "GET", path: "/v1/session"}, true)); resp.status != 401 {
		t.Errorf("after sign out: %d %s", resp.status, resp.body)
	}
}

func TestSignInRateLimit(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	e := newEnv(t, func(c *Config) { c.Now = func() time.Time { return now } })
	e.server.signIns = newIPLimiter(signInEvery, signInBurst, limiterSize, e.server.now)
	wrong := map[string]any{"api_key": "hk_" + strings.Repeat("y", 43)}
	for i := range signInBurst {
		if resp := e.do(req{method: "POST", path: "/v1/console/sessions", body: wrong}); resp.status != 401 {
			t.Fatalf("attempt %d: %d %s", i+1, resp.status, resp.body)
		}
	}
	// The right key is refused too, until the address has waited.
	for _, path := range []string{"/v1/console/sessions", "/v1/portal/sessions"} {
		resp := e.do(req{method: "POST", path: path, body: map[string]any{"api_key": e.admin}})
		if resp.status != 429 || resp.code() != "rate_limited" || resp.header.Get("Retry-After") != "6" {
			t.Fatalf("POST %s over the limit: %d %v %s", path, resp.status, resp.header, resp.body)
		}
	}
	now = now.Add(signInEvery)
	e.signIn(e.admin)
}

func TestIPLimiterIsBounded(t *testing.T) {
	now := time.Now()
	l := newIPLimiter(time.Minute, 1, 3, func() time.Time { return now })
	for i := range 10 {
		r := &http.Request{RemoteAddr: "192.0.2." + string(rune('0'+i)) + ":1234"}
		if err := l.allow(httptest.NewRecorder(), r); err != nil {
			t.Fatalf("first attempt of address %d: %v", i, err)
		}
		if n := len(l.clients); n > 3 {
			t.Fatalf("%d addresses remembered, want at most 3", n)
		}
	}
	r := &http.Request{RemoteAddr: "192.0.2.9:1"}
	if err := l.allow(httptest.NewRecorder(), r); err == nil {
		t.Fatal("second attempt within the minute allowed")
	}
}

func TestCSRF(t *testing.T) {
	f := newFixture(t)
	s := f.signIn(f.admin)
	create := req{method: "POST", path: "/v1/apps", body: map[string]any{"name": "x"}}
	for _, tt := range []struct {
		name  string
		token string
	}{{"no token", ""}, {"wrong token", "nope"}, {"another session's token", f.signIn(f.admin).csrf}} {
		r := s.as(create, true)
		if tt.token != "" {
			r.header[csrfHeader] = tt.token
		}
		if resp := f.do(r); resp.status != 403 || resp.code() != "csrf_failed" {
			t.Errorf("%s: %d %s", tt.name, resp.status, resp.body)
		}
	}
	for _, m := range []string{"PATCH", "DELETE"} {
		if resp := f.do(s.as(req{method: m, path: "/v1/apps/" + f.appB, body: "{}"}, true)); resp.status != 403 || resp.code() != "csrf_failed" {
			t.Errorf("%s without a token: %d %s", m, resp.status, resp.body)
		}
	}
	f.must(201, s.as(create, false))
	// A bearer request needs no token, even with a cookie beside it.
	f.must(201, s.as(req{method: "POST", path: "/v1/apps", key: f.admin, body: map[string]any{"name": "y"}}, true))
	// A forged or stale cookie is refused.
	for _, c := range []string{"garbage", sessionTokenPrefix + strings.Repeat("A", 43)} {
		bad := session{cookie: c, csrf: csrfToken(c)}
		if resp := f.do(bad.as(req{method: "GET", path: "/v1/apps"}, true)); resp.status != 401 {
			t.Errorf("cookie %q: %d %s", c, resp.status, resp.body)
		}
	}
}

func TestPortalLinks(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	f := newFixture(t, func(c *Config) {
		c.Now = func() time.Time { return now }
		c.PublicURL = "https://hooks.example.com/"
	})
	out := f.must(201, req{method: "POST", path: "/v1/apps/acme/portal-sessions", key: f.keyA, body: map[string]any{"expires_in": 120}})
	if u := out["url"].(string); !strings.HasPrefix(u, "https://hooks.example.com/portal/#token="+linkTokenPrefix) {
		t.Errorf("url %s", u)
	}
	if out["expires_at"] != now.Add(2*time.Minute).Format("2006-01-02T15:04:05.000Z07:00") {
		t.Errorf("expires_at %v, want now + 120 s", out["expires_at"])
	}
	_, token, _ := strings.Cut(out["url"].(string), "#token=")
	s := f.openPortal(token)
	who := f.must(200, s.as(req{method: "GET", path: "/v1/session"}, true))
	if who["kind"] != "portal" || who["app_id"] != f.appA || who["app_name"] != "Acme" || who["capabilities"].([]any)[0] != "read" {
		t.Errorf("GET /v1/session of a portal session: %v", who)
	}
	// Single use.
	if resp := f.do(req{method: "POST", path: "/v1/portal/sessions", body: map[string]any{"token": token}}); resp.status != 401 || resp.code() != "invalid_token" {
		t.Errorf("second use of a link: %d %s", resp.status, resp.body)
	}
	for _, bad := range []string{"", "garbage", linkTokenPrefix + strings.Repeat("A", 43), s.cookie} {
		if resp := f.do(req{method: "POST", path: "/v1/portal/sessions", body: map[string]any{"token": bad}}); resp.status != 401 || resp.code() != "invalid_token" {
			t.Errorf("token %q: %d %s", bad, resp.status, resp.body)
		}
	}
	// Expired: the link, and the session, at expires_at.
	late := f.portalLink(f.admin, "acme", map[string]any{"expires_in": 60})
	now = now.Add(time.Minute)
	if resp := f.do(req{method: "POST", path: "/v1/portal/sessions", body: map[string]any{"token": late}}); resp.status != 401 || resp.code() != "invalid_token" {
		t.Errorf("expired link: %d %s", resp.status, resp.body)
	}
	f.must(200, s.as(req{method: "GET", path: "/v1/session"}, true))
	now = now.Add(time.Minute)
	if resp := f.do(s.as(req{method: "GET", path: "/v1/session"}, true)); resp.status != 401 {
		t.Errorf("expired session: %d %s", resp.status, resp.body)
	}
	// Revoked: every session and unused link of the app, none of another app's.
	s1, unused := f.portal("acme", nil), f.portalLink(f.admin, "acme", nil)
	sB := f.portal("other", nil)
	f.must(204, req{method: "DELETE", path: "/v1/apps/acme/portal-sessions", key: f.keyA})
	if resp := f.do(s1.as(req{method: "GET", path: "/v1/session"}, true)); resp.status != 401 {
		t.Errorf("revoked session: %d %s", resp.status, resp.body)
	}
	if resp := f.do(req{method: "POST", path: "/v1/portal/sessions", body: map[string]any{"token": unused}}); resp.status != 401 {
		t.Errorf("revoked link: %d %s", resp.status, resp.body)
	}
	f.must(200, sB.as(req{method: "GET", path: "/v1/session"}, true))

	for _, tt := range []struct {
		name  string
		body  any
		field string
	}{
		{"too short", map[string]any{"expires_in": 59}, "expires_in"},
		{"too long", map[string]any{"expires_in": 604801}, "expires_in"},
		{"huge", map[string]any{"expires_in": int64(1) << 62}, "expires_in"},
		{"unknown capability", map[string]any{"capabilities": []string{"admin"}}, "capabilities[0]"},
		{"no capability", map[string]any{"capabilities": []string{}}, "capabilities"},
		{"not an id", map[string]any{"endpoint_ids": []string{"x"}}, "endpoint_ids[0]"},
		{"another app's endpoint", map[string]any{"endpoint_ids": []string{f.ep1, f.epB}}, "endpoint_ids[1]"},
		{"twice", map[string]any{"endpoint_ids": []string{f.ep1, f.ep1}}, "endpoint_ids[1]"},
		{"unknown endpoint", map[string]any{"endpoint_ids": []string{ids.New("ep")}}, "endpoint_ids[0]"},
	} {
		resp := f.do(req{method: "POST", path: "/v1/apps/acme/portal-sessions", key: f.admin, body: tt.body})
		if resp.status != 400 || !strings.HasPrefix(resp.obj(t)["error"].(map[string]any)["message"].(string), tt.field+" ") {
			t.Errorf("%s: %d %s, want 400 about %s", tt.name, resp.status, resp.body, tt.field)
		}
	}
	if resp := f.do(req{method: "POST", path: "/v1/apps/acme/portal-sessions", key: f.keyB}); resp.status != 403 {
		t.Errorf("another app's key mints a link: %d %s", resp.status, resp.body)
	}
}

// expandRoute fills a route's path with the fixture's ids of app (an id or uid).
func (f *fixture) expandRoute(path, app string) string {
	r := strings.NewReplacer("{app}", app, "{ep}", f.ep1, "{msg}", f.msg, "{dlv}", f.dlvDone, "{key_id}", f.keyAID, "{src}", f.src, "{name}", "invoice.paid", "{rpl}", f.rpl)
	if app == f.appB || app == "other" {
		r = strings.NewReplacer("{app}", app, "{ep}", f.epB, "{msg}", f.msgB, "{dlv}", f.dlvB, "{key_id}", f.keyAID, "{src}", f.srcB, "{name}", "invoice.paid", "{rpl}", f.rplB)
	}
	return r.Replace(path)
}

func TestPortalScope(t *testing.T) {
	f := newFixture(t)
	manager := f.portal("acme", map[string]any{"capabilities": []string{"read", "manage"}})
	reader := f.portal("acme", map[string]any{"capabilities": []string{"read"}})
	for _, rt := range f.server.routes() {
		method, path, _ := strings.Cut(rt.pattern, " ")
		// Another app, by id and uid, and by the guessed ids of its records: 404, as if
		// it did not exist, whatever the route.
		if strings.Contains(path, "{app}") {
			for _, app := range []string{f.appB, "other"} {
				resp := f.do(manager.as(req{method: method, path: f.expandRoute(path, app), body: "{}"}, false))
				if resp.status != 404 || resp.code() != "not_found" {
					t.Errorf("%s %s by a portal session of another app: %d %s", method, f.expandRoute(path, app), resp.status, resp.body)
				}
			}
			// App A's path with app B's record ids: not found either.
			guess := strings.NewReplacer("{app}", "acme", "{ep}", f.epB, "{msg}", f.msgB, "{dlv}", f.dlvB, "{key_id}", f.keyAID, "{src}", f.srcB, "{rpl}", f.rplB).Replace(path)
			if strings.ContainsAny(path, "{") && (strings.Contains(path, "{ep}") || strings.Contains(path, "{msg}") || strings.Contains(path, "{dlv}") || strings.Contains(path, "{rpl}")) && rt.portal != "" {
				if resp := f.do(manager.as(req{method: method, path: guess, body: "{}"}, false)); resp.status != 404 {
					t.Errorf("%s %s (guessed ids of another app): %d %s", method, guess, resp.status, resp.body)
				}
			}
		}
		own := f.expandRoute(path, "acme")
		switch {
		case rt.access == public:
		case rt.portal == "":
			if resp := f.do(manager.as(req{method: method, path: own, body: "{}"}, false)); resp.status != 403 || resp.code() != "forbidden" {
				t.Errorf("%s %s by a manage portal session: %d %s, want 403", method, own, resp.status, resp.body)
			}
		case rt.portal == domain.CapManage:
			if resp := f.do(reader.as(req{method: method, path: own, body: "{}"}, false)); resp.status != 403 || resp.code() != "forbidden" {
				t.Errorf("%s %s by a read-only portal session: %d %s, want 403", method, own, resp.status, resp.body)
			}
		case method == "GET" && rt.pattern != "GET /v1/event-types/{name}":
			if resp := f.do(reader.as(req{method: method, path: own}, true)); resp.status != 200 {
				t.Errorf("%s %s by a read-only portal session: %d %s, want 200", method, own, resp.status, resp.body)
			}
		}
	}
	// What the manage session may do, it does.
	f.must(200, manager.as(req{method: "PATCH", path: "/v1/apps/acme/endpoints/" + f.ep1, body: map[string]any{"description": "mine"}}, false))
	f.must(200, manager.as(req{method: "GET", path: "/v1/apps/acme/endpoints/" + f.ep1 + "/secret"}, true))
	f.must(202, manager.as(req{method: "POST", path: "/v1/apps/acme/deliveries/" + f.dlvDone + "/retry"}, false))
	f.must(201, manager.as(req{method: "POST", path: "/v1/apps/acme/endpoints", body: map[string]any{"url": "https://three.example.com/"}}, false))
}

func TestPortalEndpointRestriction(t *testing.T) {
	f := newFixture(t)
	s := f.portal("acme", map[string]any{"capabilities": []string{"read", "manage"}, "endpoint_ids": []string{f.ep1}})
	who := f.must(200, s.as(req{method: "GET", path: "/v1/session"}, true))
	if ids := who["endpoint_ids"].([]any); len(ids) != 1 || ids[0] != f.ep1 {
		t.Errorf("endpoint_ids %v", who["endpoint_ids"])
	}
	only := func(path, field, want string) {
		t.Helper()
		data := f.must(200, s.as(req{method: "GET", path: path}, true))["data"].([]any)
		if len(data) == 0 {
			t.Errorf("GET %s: nothing", path)
		}
		for _, d := range data {
			if got := d.(map[string]any)[field]; got != want {
				t.Errorf("GET %s lists %s %v, want only %s", path, field, got, want)
			}
		}
	}
	only("/v1/apps/acme/endpoints", "id", f.ep1)
	only("/v1/apps/acme/deliveries", "endpoint_id", f.ep1)
	only("/v1/apps/acme/attempts", "endpoint_id", f.ep1)
	only("/v1/apps/acme/deliveries?message_id="+f.msg, "endpoint_id", f.ep1)
	only("/v1/apps/acme/messages", "id", f.msg)
	f.must(200, s.as(req{method: "GET", path: "/v1/apps/acme/messages/" + f.msg}, true))
	f.must(200, s.as(req{method: "GET", path: "/v1/apps/acme/deliveries/" + f.dlvDone + "/attempts"}, true))
	// A message of the app delivered only to another endpoint does not exist for it.
	other := f.must(201, req{method: "POST", path: "/v1/apps/acme/endpoints", key: f.keyA, body: map[string]any{"url": "https://four.example.com/", "event_types": []string{"only.four"}}})["id"].(string)
	f.must(200, req{method: "PATCH", path: "/v1/apps/acme/endpoints/" + f.ep1, key: f.keyA, body: map[string]any{"event_types": []string{"not.this"}}})
	f.must(200, req{method: "PATCH", path: "/v1/apps/acme/endpoints/" + f.ep2, key: f.keyA, body: map[string]any{"event_types": []string{"not.this"}}})
	hidden := f.must(202, req{method: "POST", path: "/v1/apps/acme/messages", key: f.keyA, body: map[string]any{"type": "only.four", "payload": map[string]any{}}})["id"].(string)
	only("/v1/apps/acme/messages", "id", f.msg)
	for _, path := range []string{
		"/v1/apps/acme/endpoints/" + f.ep2,
		"/v1/apps/acme/endpoints/" + other + "/stats",
		"/v1/apps/acme/deliveries/" + f.dlvBusy,
		"/v1/apps/acme/deliveries/" + f.dlvBusy + "/attempts",
		"/v1/apps/acme/deliveries?endpoint_id=" + f.ep2,
		"/v1/apps/acme/attempts?endpoint_id=" + f.ep2,
		"/v1/apps/acme/messages/" + hidden,
	} {
		if resp := f.do(s.as(req{method: "GET", path: path}, true)); resp.status != 404 || resp.code() != "not_found" {
			t.Errorf("GET %s: %d %s, want 404", path, resp.status, resp.body)
		}
	}
	for _, r := range []req{
		{method: "PATCH", path: "/v1/apps/acme/endpoints/" + f.ep2, body: map[string]any{}},
		{method: "DELETE", path: "/v1/apps/acme/endpoints/" + f.ep2},
		{method: "POST", path: "/v1/apps/acme/endpoints/" + f.ep2 + "/test", body: map[string]any{"event_type": "a"}},
		{method: "POST", path: "/v1/apps/acme/endpoints/" + f.ep2 + "/replay"},
		{method: "POST", path: "/v1/apps/acme/deliveries/" + f.dlvBusy + "/retry"},
	} {
		if resp := f.do(s.as(r, false)); resp.status != 404 {
			t.Errorf("%s %s: %d %s, want 404", r.method, r.path, resp.status, resp.body)
		}
	}
	if resp := f.do(s.as(req{method: "POST", path: "/v1/apps/acme/endpoints", body: map[string]any{"url": "https://x.example.com/"}}, false)); resp.status != 403 {
		t.Errorf("a limited session creates an endpoint: %d %s", resp.status, resp.body)
	}
}

func TestEventTypes(t *testing.T) {
	f := newFixture(t)
	et := f.must(201, req{method: "POST", path: "/v1/event-types", key: f.admin, body: map[string]any{
		"name": "invoice.paid", "description": "An invoice was paid.",
		"schema": map[string]any{"type": "object"}, "example": map[string]any{"id": "inv_1", "note": "<script>alert(1)</script>"},
	}})
	if et["name"] != "invoice.paid" || et["deprecated"] != false || et["schema"].(map[string]any)["type"] != "object" {
		t.Errorf("created %v", et)
	}
	f.must(201, req{method: "POST", path: "/v1/event-types", key: f.admin, body: map[string]any{"name": "invoice.created"}})
	if resp := f.do(req{method: "POST", path: "/v1/event-types", key: f.admin, body: map[string]any{"name": "invoice.paid"}}); resp.status != 409 {
		t.Errorf("duplicate: %d %s", resp.status, resp.body)
	}
	// Any caller reads the catalogue, in name order, a page at a time.
	portal := f.portal("acme", nil)
	for _, r := range []req{{key: f.keyA}, portal.as(req{}, true)} {
		r.method, r.path = "GET", "/v1/event-types?limit=1"
		page := f.must(200, r)
		if d := page["data"].([]any); len(d) != 1 || d[0].(map[string]any)["name"] != "invoice.created" || page["next_cursor"] != "invoice.created" {
			t.Errorf("first page %v", page)
		}
		r.path = "/v1/event-types?limit=1&cursor=invoice.created"
		if d := f.must(200, r)["data"].([]any); len(d) != 1 || d[0].(map[string]any)["name"] != "invoice.paid" {
			t.Errorf("second page %v", d)
		}
	}
	got := f.must(200, req{method: "GET", path: "/v1/event-types/invoice.created", key: f.keyA})
	if got["schema"] != nil || got["example"] != nil || got["description"] != "" {
		t.Errorf("bare event type %v", got)
	}
	upd := f.must(200, req{method: "PATCH", path: "/v1/event-types/invoice.created", key: f.admin, body: map[string]any{"deprecated": true, "example": []int{1, 2}}})
	if upd["deprecated"] != true || upd["example"].([]any)[1] != float64(2) {
		t.Errorf("updated %v", upd)
	}
	for _, tt := range []struct {
		name   string
		r      req
		status int
	}{
		{"app key creates", req{method: "POST", path: "/v1/event-types", key: f.keyA, body: map[string]any{"name": "x"}}, 403},
		{"portal deletes", portal.as(req{method: "DELETE", path: "/v1/event-types/invoice.paid"}, false), 403},
		{"no name", req{method: "POST", path: "/v1/event-types", key: f.admin, body: map[string]any{}}, 400},
		{"bad name", req{method: "POST", path: "/v1/event-types", key: f.admin, body: map[string]any{"name": "a b"}}, 400},
		{"schema not an object", req{method: "POST", path: "/v1/event-types", key: f.admin, body: map[string]any{"name": "a", "schema": []int{}}}, 400},
		{"schema too big", req{method: "POST", path: "/v1/event-types", key: f.admin, body: map[string]any{"name": "a", "schema": map[string]any{"d": strings.Repeat("x", domain.MaxSchemaBytes)}}}, 400},
		{"description too long", req{method: "PATCH", path: "/v1/event-types/invoice.paid", key: f.admin, body: map[string]any{"description": strings.Repeat("d", 1025)}}, 400},
		{"rename", req{method: "PATCH", path: "/v1/event-types/invoice.paid", key: f.admin, body: map[string]any{"name": "b"}}, 400},
		{"null schema", req{method: "PATCH", path: "/v1/event-types/invoice.paid", key: f.admin, body: `{"schema":null}`}, 400},
		{"bad cursor", req{method: "GET", path: "/v1/event-types?cursor=a%20b", key: f.admin}, 400},
		{"missing", req{method: "GET", path: "/v1/event-types/nope", key: f.admin}, 404},
		{"body too big", req{method: "POST", path: "/v1/event-types", key: f.admin, body: `{"name":"a","description":"` + strings.Repeat("x", maxEventTypeBody) + `"}`}, 413},
	} {
		if resp := f.do(tt.r); resp.status != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, resp.status, resp.body, tt.status)
		}
	}
	f.must(204, req{method: "DELETE", path: "/v1/event-types/invoice.created", key: f.admin})
	if resp := f.do(req{method: "DELETE", path: "/v1/event-types/invoice.created", key: f.admin}); resp.status != 404 {
		t.Errorf("second delete: %d", resp.status)
	}
}

func TestTestEvent(t *testing.T) {
	f := newFixture(t)
	// An endpoint whose filter would not take the type gets the test; no other does.
	picky := f.must(201, req{method: "POST", path: "/v1/apps/acme/endpoints", key: f.keyA, body: map[string]any{"url": "https://picky.example.com/", "event_types": []string{"other.*"}}})["id"].(string)
	f.must(201, req{method: "POST", path: "/v1/event-types", key: f.admin, body: map[string]any{"name": "invoice.paid", "example": map[string]any{"id": "inv_example"}}})
	tests := []struct {
		name        string
		body        map[string]any
		wantPayload string
	}{
		{"catalogue example", map[string]any{"event_type": "invoice.paid"}, `{"id":"inv_example"}`},
		{"given payload", map[string]any{"event_type": "invoice.paid", "payload": map[string]any{"id": "inv_2"}}, `{"id":"inv_2"}`},
		{"no example", map[string]any{"event_type": "not.in.catalogue"}, `{"test":true,"type":"not.in.catalogue"}`},
	}
	for _, tt := range tests {
		m := f.must(202, req{method: "POST", path: "/v1/apps/acme/endpoints/" + picky + "/test", key: f.keyA, body: tt.body})
		if m["deliveries"] != float64(1) || m["type"] != tt.body["event_type"] {
			t.Errorf("%s: %v", tt.name, m)
		}
		stored, err := f.store.GetMessage(context.Background(), f.appA, m["id"].(string))
		if err != nil || string(stored.Payload) != tt.wantPayload {
			t.Errorf("%s: payload %s, %v; want %s", tt.name, stored.Payload, err, tt.wantPayload)
		}
		ds := f.must(200, req{method: "GET", path: "/v1/apps/acme/deliveries?message_id=" + m["id"].(string), key: f.keyA})["data"].([]any)
		if len(ds) != 1 || ds[0].(map[string]any)["endpoint_id"] != picky {
			t.Errorf("%s: deliveries %v, want one to %s", tt.name, ds, picky)
		}
	}
	for _, tt := range []struct {
		name string
		r    req
		want int
	}{
		{"no type", req{method: "POST", path: "/v1/apps/acme/endpoints/" + picky + "/test", key: f.keyA, body: map[string]any{}}, 400},
		{"payload not an object", req{method: "POST", path: "/v1/apps/acme/endpoints/" + picky + "/test", key: f.keyA, body: map[string]any{"event_type": "a", "payload": []int{1}}}, 400},
		{"another app's endpoint", req{method: "POST", path: "/v1/apps/acme/endpoints/" + f.epB + "/test", key: f.keyA, body: map[string]any{"event_type": "a"}}, 404},
	} {
		if resp := f.do(tt.r); resp.status != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, resp.status, resp.body, tt.want)
		}
	}
}

func TestEndpointStats(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 30, 0, 0, time.UTC)
	f := newFixture(t, func(c *Config) { c.Now = func() time.Time { return now } })
	ctx := context.Background()
	// Attempts of ep2: at 10:10 succeeded, 11:05 failed (timeout), 11:20 succeeded, and
	// one of 2 days ago, outside the default range.
	ds, _, err := f.store.ListDeliveries(ctx, store.DeliveryFilter{AppID: f.appA, EndpointID: f.ep2, Page: store.Page{Limit: 10}})
	if err != nil || len(ds) != 1 {
		t.Fatal(ds, err)
	}
	d := ds[0]
	for i, a := range []struct {
		at      time.Time
		outcome string
		status  int
		err     string
	}{
		{now.Add(-48 * time.Hour), domain.OutcomeFailed, 500, ""},
		{time.Date(2026, 11, 26, 10, 10, 0, 0, time.UTC), domain.OutcomeSucceeded, 200, ""},
		{time.Date(2026, 11, 26, 11, 5, 0, 0, time.UTC), domain.OutcomeRetrying, 0, "timeout after 15s"},
		{time.Date(2026, 11, 26, 11, 20, 0, 0, time.UTC), domain.OutcomeSucceeded, 204, ""},
	} {
		if err := f.store.Complete(ctx, []*store.AttemptResult{{
			Attempt: &domain.Attempt{ID: ids.New("att"), DeliveryID: d.ID, AppID: d.AppID, EndpointID: d.EndpointID, MessageID: d.MessageID,
				Number: i + 1, StartedAt: a.at, StatusCode: a.status, Error: a.err, Outcome: a.outcome},
			Status: domain.DeliveryPending, NextAttemptAt: &now,
		}}); err != nil {
			t.Fatal(err)
		}
	}
	st := f.must(200, req{method: "GET", path: "/v1/apps/acme/endpoints/" + f.ep2 + "/stats", key: f.keyA})
	if st["attempts"] != float64(3) || st["succeeded"] != float64(2) || st["failed"] != float64(1) ||
		st["last_error"] != "timeout after 15s" || st["last_attempt_at"] != "2026-11-26T11:20:00.000Z" ||
		st["since"] != "2026-11-25T13:00:00.000Z" || st["until"] != "2026-11-26T13:00:00.000Z" || st["bucket_seconds"] != float64(3600) {
		t.Errorf("stats %v", st)
	}
	buckets := st["buckets"].([]any)
	if len(buckets) != 24 {
		t.Fatalf("%d buckets, want 24", len(buckets))
	}
	want := map[string][2]float64{"2026-11-26T10:00:00.000Z": {1, 0}, "2026-11-26T11:00:00.000Z": {1, 1}}
	for _, b := range buckets {
		b := b.(map[string]any)
		w := want[b["start"].(string)]
		if b["succeeded"] != w[0] || b["failed"] != w[1] {
			t.Errorf("bucket %v, want %v", b, w)
		}
	}
	// A chosen range and bucket.
	st = f.must(200, req{method: "GET", path: "/v1/apps/acme/endpoints/" + f.ep2 + "/stats?since=2026-11-24T00:00:00Z&until=2026-11-27T00:00:00Z&bucket=86400", key: f.keyA})
	if st["attempts"] != float64(4) || len(st["buckets"].([]any)) != 3 || st["last_error"] != "timeout after 15s" {
		t.Errorf("3 days: %v", st)
	}
	// ep1's one failed attempt (the fixture's, a 500 without an error).
	now = time.Now().UTC()
	st = f.must(200, req{method: "GET", path: "/v1/apps/acme/endpoints/" + f.ep1 + "/stats", key: f.keyA})
	if st["attempts"] != float64(1) || st["failed"] != float64(1) || st["last_error"] != "HTTP 500" {
		t.Errorf("ep1: %v", st)
	}
	for _, q := range []string{"bucket=59", "bucket=x", "since=2026-01-01T00:00:00Z&bucket=60", "since=2026-11-27T00:00:00Z&until=2026-11-26T00:00:00Z"} {
		if resp := f.do(req{method: "GET", path: "/v1/apps/acme/endpoints/" + f.ep2 + "/stats?" + q, key: f.keyA}); resp.status != 400 {
			t.Errorf("?%s: %d %s", q, resp.status, resp.body)
		}
	}
	// The console's overview.
	ov := f.must(200, req{method: "GET", path: "/v1/stats", key: f.admin})
	if ov["queue_depth"] != float64(2) || ov["oldest_pending_at"] == nil || len(ov["deliveries_per_minute"].([]any)) != 60 || ov["listeners"] != float64(0) {
		t.Errorf("/v1/stats %v", ov)
	}
	if resp := f.do(req{method: "GET", path: "/v1/stats", key: f.keyA}); resp.status != 403 {
		t.Errorf("/v1/stats with an app key: %d", resp.status)
	}
}

func TestSessionBranding(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Branding = Branding{Name: "Hooks", Accent: "#112233"} })
	f.must(200, req{method: "PATCH", path: "/v1/apps/acme", key: f.admin, body: map[string]any{"metadata": map[string]string{
		"brand.name": "Acme Hooks", "brand.theme": "dark", "brand.accent": "red;}", "brand.logo_url": "javascript:alert(1)",
	}}})
	who := f.must(200, req{method: "GET", path: "/v1/session", key: f.admin})
	if b := who["branding"].(map[string]any); who["kind"] != "api_key" || b["name"] != "Hooks" || b["accent"] != "#112233" || b["theme"] != "auto" {
		t.Errorf("admin key: %v", who)
	}
	s := f.portal("acme", nil)
	who = f.must(200, s.as(req{method: "GET", path: "/v1/session"}, true))
	if b := who["branding"].(map[string]any); b["name"] != "Acme Hooks" || b["theme"] != "dark" || b["accent"] != "#112233" || b["logo_url"] != "" {
		t.Errorf("portal of acme (invalid overrides ignored): %v", b)
	}
}
