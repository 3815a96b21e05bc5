package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

// operationalSteps are the happy paths of the operational endpoints and the status.
func operationalSteps() []step {
	return []step{
		{name: "create operational endpoint", method: "POST", path: "/v1/operational-endpoints", key: "admin", status: 201, save: "opEp",
			body: `{"url":"https://ops.example.com/herald","event_types":["endpoint.disabled","message.attempt.*"],"description":"pager"}`,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantPrefix(t, got, "id", "ep_")
				wantValue(t, got, "fifo", true) // operational events arrive in order by default
				wantValue(t, got, "event_types", []string{"endpoint.disabled", "message.attempt.*"})
				wantValue(t, got, "state", "enabled")
			}},
		{name: "list operational endpoints", method: "GET", path: "/v1/operational-endpoints", key: "admin", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantIDs(t, got, v["opEp"])
			}},
		{name: "get operational endpoint", method: "GET", path: "/v1/operational-endpoints/{opEp}", key: "admin", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "description", "pager")
			}},
		{name: "update operational endpoint", method: "PATCH", path: "/v1/operational-endpoints/{opEp}", key: "admin", status: 200,
			body: `{"event_types":["*"],"fifo":false}`, changed: 1, wakes: 1,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "event_types", []string{"*"})
				wantValue(t, got, "fifo", false)
			}},
		{name: "operational endpoint secret", method: "GET", path: "/v1/operational-endpoints/{opEp}/secret", key: "admin", status: 200},
		{name: "rotate operational endpoint secret", method: "POST", path: "/v1/operational-endpoints/{opEp}/secret/rotate", key: "admin", status: 200, changed: 1,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				if n := len(got["secrets"].([]any)); n != 2 {
					t.Errorf("%d secrets after a rotation, want 2", n)
				}
			}},
		{name: "operational endpoint messages", method: "GET", path: "/v1/operational-endpoints/{opEp}/messages?limit=10", key: "admin", status: 200},
		{name: "operational endpoint attempts", method: "GET", path: "/v1/operational-endpoints/{opEp}/attempts?limit=10", key: "admin", status: 200},
		{name: "status", method: "GET", path: "/v1/status", key: "admin", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "failing_endpoints_more", false)
				if n := len(got["deliveries_per_minute"].([]any)); n != 10 {
					t.Errorf("%d minutes of deliveries, want 10", n)
				}
			}},
		{name: "delete operational endpoint", method: "DELETE", path: "/v1/operational-endpoints/{opEp}", key: "admin", status: 204, changed: 1},
		{name: "deleted operational endpoint is gone", method: "GET", path: "/v1/operational-endpoints/{opEp}", key: "admin", status: 404},
	}
}

// TestOperationalIsAdminOnly checks that app keys and portal sessions reach neither
// the operational endpoints nor the reserved app behind them, and that nobody can
// publish into it, however they name it.
func TestOperationalIsAdminOnly(t *testing.T) {
	f := newFixture(t)
	op := f.server.svc.OperationalAppID()
	if op == "" {
		t.Fatal("no operational app")
	}
	opEp := f.must(201, req{method: "POST", path: "/v1/operational-endpoints", key: f.admin, body: map[string]any{"url": "https://ops.example.com/h"}})["id"].(string)
	portal := f.portal("acme", map[string]any{"capabilities": []string{"read", "manage"}})
	opRoutes := []req{
		{method: "POST", path: "/v1/operational-endpoints", body: map[string]any{"url": "https://ops.example.com/h"}},
		{method: "GET", path: "/v1/operational-endpoints"},
		{method: "GET", path: "/v1/operational-endpoints/" + opEp},
		{method: "PATCH", path: "/v1/operational-endpoints/" + opEp, body: map[string]any{"url": "https://evil.example.com/h"}},
		{method: "DELETE", path: "/v1/operational-endpoints/" + opEp},
		{method: "GET", path: "/v1/operational-endpoints/" + opEp + "/secret"},
		{method: "POST", path: "/v1/operational-endpoints/" + opEp + "/secret/rotate"},
		{method: "GET", path: "/v1/operational-endpoints/" + opEp + "/messages"},
		{method: "GET", path: "/v1/operational-endpoints/" + opEp + "/attempts"},
		{method: "GET", path: "/v1/status"},
	}
	for _, r := range opRoutes {
		r.key = f.keyA
		if resp := f.do(r); resp.status != http.StatusForbidden || resp.code() != "forbidden" {
			t.Errorf("app key: %s %s = %d %s, want 403", r.method, r.path, resp.status, resp.body)
		}
		r.key = ""
		if resp := f.do(portal.as(r, false)); resp.status != http.StatusForbidden {
			t.Errorf("portal session: %s %s = %d %s, want 403", r.method, r.path, resp.status, resp.body)
		}
	}

	// The reserved app through the app routes: 404 for admins (it does not exist there),
	// 403 for app keys (not their app), whatever the route.
	msg := map[string]any{"type": "endpoint.disabled", "payload": map[string]any{"forged": true}}
	appRoutes := []req{
		{method: "GET", path: "/v1/apps/" + op},
		{method: "PATCH", path: "/v1/apps/" + op, body: map[string]any{"name": "mine"}},
		{method: "DELETE", path: "/v1/apps/" + op},
		{method: "POST", path: "/v1/apps/" + op + "/messages", body: msg},
		{method: "POST", path: "/v1/apps/" + op + "/messages/batch", body: map[string]any{"messages": []any{msg}}},
		{method: "GET", path: "/v1/apps/" + op + "/messages"},
		{method: "GET", path: "/v1/apps/" + op + "/endpoints"},
		{method: "GET", path: "/v1/apps/" + op + "/endpoints/" + opEp},
		{method: "PATCH", path: "/v1/apps/" + op + "/endpoints/" + opEp, body: map[string]any{"url": "https://evil.example.com/h"}},
		{method: "DELETE", path: "/v1/apps/" + op + "/endpoints/" + opEp},
		{method: "GET", path: "/v1/apps/" + op + "/endpoints/" + opEp + "/secret"},
		{method: "POST", path: "/v1/apps/" + op + "/endpoints", body: map[string]any{"url": "https://evil.example.com/h"}},
		{method: "POST", path: "/v1/apps/" + op + "/api-keys", body: map[string]any{"name": "x"}},
		{method: "POST", path: "/v1/apps/" + op + "/portal-sessions", body: map[string]any{}},
		{method: "GET", path: "/v1/apps/" + op + "/attempts"},
	}
	for _, r := range appRoutes {
		r.key = f.admin
		if resp := f.do(r); resp.status != http.StatusNotFound {
			t.Errorf("admin key: %s %s = %d %s, want 404", r.method, r.path, resp.status, resp.body)
		}
		r.key = f.keyA
		if resp := f.do(r); resp.status != http.StatusForbidden {
			t.Errorf("app key: %s %s = %d %s, want 403", r.method, r.path, resp.status, resp.body)
		}
		r.key = ""
		if resp := f.do(portal.as(r, false)); resp.status != http.StatusNotFound && resp.status != http.StatusForbidden {
			t.Errorf("portal session: %s %s = %d %s, want 403 or 404", r.method, r.path, resp.status, resp.body)
		}
	}
	if resp := f.do(req{method: "GET", path: "/v1/apps", key: f.admin}); strings.Contains(string(resp.body), op) {
		t.Error("GET /v1/apps lists the operational app")
	}
	ms, _, err := f.store.ListMessages(context.Background(), store.MessageFilter{AppID: op})
	if err != nil || len(ms) != 0 {
		t.Fatalf("the operational app has %d messages (%v), want none", len(ms), err)
	}
	if e, err := f.store.GetEndpoint(context.Background(), op, opEp); err != nil || e.URL != "https://ops.example.com/h" {
		t.Fatalf("the operational endpoint changed: %+v, %v", e, err)
	}
}

func TestOperationalEndpointInput(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
		msg    string
	}{
		{"no url", map[string]any{}, 400, "invalid_field", "url"},
		{"customer event type", map[string]any{"url": "https://ops.example.com/h", "event_types": []string{"invoice.paid"}}, 400, "invalid_field", "operational event type"},
		{"typo", map[string]any{"url": "https://ops.example.com/h", "event_types": []string{"endpoint.disabld"}}, 400, "invalid_field", "event_types[0]"},
		{"private address", map[string]any{"url": "http://127.0.0.1/h"}, 400, "url_not_allowed", ""},
		{"metadata address", map[string]any{"url": "http://169.254.169.254/latest"}, 400, "url_not_allowed", ""},
		{"unknown field", map[string]any{"url": "https://ops.example.com/h", "app_id": "app_x"}, 400, "unknown_field", ""},
	} {
		resp := f.do(req{method: "POST", path: "/v1/operational-endpoints", key: f.admin, body: tc.body})
		if resp.status != tc.status || resp.code() != tc.code || !strings.Contains(string(resp.body), tc.msg) {
			t.Errorf("%s: %d %s, want %d %s mentioning %q", tc.name, resp.status, resp.body, tc.status, tc.code, tc.msg)
		}
	}
	ep := f.must(201, req{method: "POST", path: "/v1/operational-endpoints", key: f.admin, body: map[string]any{"url": "https://ops.example.com/h"}})["id"].(string)
	resp := f.do(req{method: "PATCH", path: "/v1/operational-endpoints/" + ep, key: f.admin, body: map[string]any{"event_types": []string{"a.b"}}})
	if resp.status != 400 || resp.code() != "invalid_field" {
		t.Errorf("PATCH with a customer event type: %d %s", resp.status, resp.body)
	}
	// A customer endpoint is no operational endpoint, by any route.
	for _, r := range []req{
		{method: "GET", path: "/v1/operational-endpoints/" + f.ep1},
		{method: "PATCH", path: "/v1/operational-endpoints/" + f.ep1, body: map[string]any{"description": "x"}},
		{method: "DELETE", path: "/v1/operational-endpoints/" + f.ep1},
		{method: "GET", path: "/v1/operational-endpoints/" + f.ep1 + "/secret"},
		{method: "GET", path: "/v1/operational-endpoints/" + f.ep1 + "/attempts"},
	} {
		r.key = f.admin
		if resp := f.do(r); resp.status != 404 {
			t.Errorf("%s %s = %d %s, want 404", r.method, r.path, resp.status, resp.body)
		}
	}
	if _, err := f.store.GetEndpoint(context.Background(), f.appA, f.ep1); err != nil {
		t.Fatalf("the customer endpoint is gone: %v", err)
	}
}

// TestStatus checks GET /v1/status on the fixture: its failing endpoint with the last
// error, and a source with a rejection.
func TestStatus(t *testing.T) {
	f := newFixture(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := f.store.RecordRejection(context.Background(), &domain.Rejection{ID: ids.New("rej"), SourceID: f.src, AppID: f.appA,
		ReceivedAt: now, Status: 401, Code: "invalid_signature", Message: "no signature matches", Headers: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	got := f.must(200, req{method: "GET", path: "/v1/status", key: f.admin})
	nodes := got["nodes"].([]any)
	if len(nodes) != 1 || nodes[0].(map[string]any)["id"] != got["node_id"] {
		t.Errorf("nodes = %v", nodes)
	}
	backlog := got["backlog"].(map[string]any)
	if backlog["pending"].(float64) != 2 || backlog["count_limit"].(float64) != 100000 {
		t.Errorf("backlog = %v", backlog)
	}
	failing := got["failing_endpoints"].([]any)
	if len(failing) != 1 {
		t.Fatalf("failing endpoints = %v", failing)
	}
	fe := failing[0].(map[string]any)
	la := fe["last_attempt"].(map[string]any)
	if fe["endpoint_id"] != f.ep1 || fe["app_id"] != f.appA || fe["operational"] != false || la["status_code"].(float64) != 500 {
		t.Errorf("failing endpoint = %v", fe)
	}
	srcs := got["rejecting_sources"].([]any)
	if len(srcs) != 1 || srcs[0].(map[string]any)["source_id"] != f.src || srcs[0].(map[string]any)["rejections"].(float64) != 1 {
		t.Errorf("rejecting sources = %v", srcs)
	}
	if got["operational_app_id"] != f.server.svc.OperationalAppID() {
		t.Errorf("operational_app_id = %v", got["operational_app_id"])
	}
	if resp := f.do(req{method: "GET", path: "/v1/status?verbose=1", key: f.admin}); resp.status != 400 || resp.code() != "invalid_query" {
		t.Errorf("GET /v1/status with a query: %d %s", resp.status, resp.body)
	}
}
