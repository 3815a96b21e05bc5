package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/netguard"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/webhook"
)

var timeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// step is one request of a happy-path scenario. Path, key and body may name variables
// as {name}; save stores the answer's id under a name.
type step struct {
	name        string
	method      string
	path        string
	key         string // a variable holding the API key; "" sends none
	body        string // "" sends none
	header      map[string]string
	status      int
	save        string
	wakes       int // Engine.Wake calls the request must make
	changed     int // Engine.EndpointChanged calls the request must make
	check       func(t *testing.T, v map[string]string, got map[string]any, resp response)
	saveKeyAlso string                                  // save the answer's "key" under this name
	srcChanged  int                                     // Config.OnSourceChanged calls the request must make
	before      func(t *testing.T, v map[string]string) // runs before the request
	// ws dials path as a WebSocket (GET /v1/listen): got is the hello message, status
	// the handshake's (101 when accepted).
	ws bool
}

func TestHappyPaths(t *testing.T) {
	f := newFixture(t)
	secret1 := webhook.NewHMACSecret().Reveal()
	secret2 := webhook.NewHMACSecret().Reveal()
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	v := map[string]string{
		"admin": f.admin, "keyA": f.keyA, "keyB": f.keyB, "A": f.appA, "B": f.appB, "keyAID": f.keyAID,
		"ep1": f.ep1, "ep2": f.ep2, "epB": f.epB, "msg": f.msg, "dlvDone": f.dlvDone, "dlvBusy": f.dlvBusy,
		"attempt": f.attempt, "secret1": secret1, "secret2": secret2, "future": future,
		"src": f.src, "srcB": f.srcB, "srcSecret": f.srcSecret,
	}
	rawPayload := `{ "b": 1,  "a": [1, 2], "html": "<b>&</b>" }`

	steps := []step{
		// Apps.
		{name: "create app", method: "POST", path: "/v1/apps", key: "admin", body: `{"name":"Zeta","uid":"zeta","metadata":{"tier":"gold"}}`, status: 201, save: "Z",
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantFields(t, got, "id", "name", "uid", "metadata", "created_at", "updated_at")
				wantValue(t, got, "name", "Zeta")
				wantValue(t, got, "uid", "zeta")
				wantValue(t, got, "metadata", map[string]any{"tier": "gold"})
				wantPrefix(t, got, "id", "app_")
				wantTime(t, got, "created_at", "updated_at")
			}},
		{name: "create app without uid", method: "POST", path: "/v1/apps", key: "admin", body: `{"name":"Yotta"}`, status: 201, save: "Y",
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantFields(t, got, "id", "name", "metadata", "created_at", "updated_at")
				wantValue(t, got, "metadata", map[string]any{})
			}},
		{name: "list apps", method: "GET", path: "/v1/apps", key: "admin", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantIDs(t, got, v["Y"], v["Z"], v["B"], v["A"])
			}},
		{name: "get app by uid", method: "GET", path: "/v1/apps/zeta", key: "admin", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "id", v["Z"])
			}},
		{name: "get app by id", method: "GET", path: "/v1/apps/{Z}", key: "admin", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "uid", "zeta")
			}},
		{name: "get own app with app key", method: "GET", path: "/v1/apps/{A}", key: "keyA", status: 200},
		{name: "get own app by uid with app key", method: "GET", path: "/v1/apps/acme", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "id", v["A"])
			}},
		{name: "patch app", method: "PATCH", path: "/v1/apps/zeta", key: "admin", body: `{"name":"Zeta 2","metadata":{}}`, status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "name", "Zeta 2")
				wantValue(t, got, "uid", "zeta")
				wantValue(t, got, "metadata", map[string]any{})
			}},
		{name: "patch app removes uid", method: "PATCH", path: "/v1/apps/{Z}", key: "admin", body: `{"uid":""}`, status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantAbsent(t, got, "uid")
				wantValue(t, got, "name", "Zeta 2")
			}},
		{name: "patch own app with app key", method: "PATCH", path: "/v1/apps/acme", key: "keyA", body: `{"name":"Acme Inc"}`, status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "name", "Acme Inc")
			}},

		// API keys.
		{name: "create app key", method: "POST", path: "/v1/apps/acme/api-keys", key: "keyA", body: `{"name":"ci"}`, status: 201, save: "K2ID", saveKeyAlso: "K2",
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantFields(t, got, "id", "app_id", "name", "prefix", "created_at", "key")
				wantValue(t, got, "app_id", v["A"])
				wantPrefix(t, got, "id", "key_")
				key := got["key"].(string)
				if !regexp.MustCompile(`^hk_[A-Za-z0-9_-]{43}$`).MatchString(key) || got["prefix"] != key[:12] {
					t.Errorf("key %q, prefix %q", key, got["prefix"])
				}
			}},
		{name: "list app keys", method: "GET", path: "/v1/apps/acme/api-keys", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantIDs(t, got, v["K2ID"], v["keyAID"])
				if strings.Contains(string(resp.body), `"key"`) || strings.Contains(string(resp.body), "hash") {
					t.Errorf("the list shows keys: %s", resp.body)
				}
			}},
		{name: "new key works", method: "GET", path: "/v1/apps/acme", key: "K2", status: 200},
		{name: "delete app key", method: "DELETE", path: "/v1/apps/acme/api-keys/{K2ID}", key: "keyA", status: 204},
		{name: "deleted key is refused at once", method: "GET", path: "/v1/apps/acme", key: "K2", status: 401},
		{name: "create admin key", method: "POST", path: "/v1/api-keys", key: "admin", body: `{"name":"ops"}`, status: 201, save: "AKID", saveKeyAlso: "AK",
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantFields(t, got, "id", "name", "prefix", "created_at", "key")
			}},
		{name: "create admin key without body", method: "POST", path: "/v1/api-keys", key: "admin", status: 201},
		{name: "list admin keys", method: "GET", path: "/v1/api-keys?limit=2", key: "admin", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				data := got["data"].([]any)
				if len(data) != 2 || data[1].(map[string]any)["id"] != v["AKID"] || got["next_cursor"] == nil {
					t.Errorf("got %v", got)
				}
			}},
		{name: "admin key works", method: "GET", path: "/v1/apps?limit=1", key: "AK", status: 200},
		{name: "delete admin key", method: "DELETE", path: "/v1/api-keys/{AKID}", key: "admin", status: 204},
		{name: "deleted admin key is refused", method: "GET", path: "/v1/apps", key: "AK", status: 401},

		// Routing: a payload filter and a retry schedule on an endpoint, and the filter test.
		{name: "create a filtered endpoint", method: "POST", path: "/v1/apps/acme/endpoints", key: "keyA", status: 201, save: "EF",
			body: `{"url":"https://hooks.example.com/big","filter":{"payload":{"amount":{"$gte":1000}}},"retry_schedule":["5s","1m","1h0m0s"]}`,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "filter", map[string]any{"payload": map[string]any{"amount": map[string]any{"$gte": 1000.0}}})
				wantValue(t, got, "retry_schedule", []any{"5s", "1m", "1h"})
			}},
		{name: "a filter with an unknown operator", method: "POST", path: "/v1/apps/acme/endpoints", key: "keyA", status: 400,
			body: `{"url":"https://hooks.example.com/big","filter":{"payload":{"amount":{"$gtt":1000}}}}`,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				e, _ := got["error"].(map[string]any)
				if msg, _ := e["message"].(string); !strings.Contains(msg, "filter.payload.amount.$gtt") || !strings.Contains(msg, "unknown operator") {
					t.Errorf("message %q does not name the bad part", msg)
				}
			}},
		{name: "a retry schedule step too short", method: "POST", path: "/v1/apps/acme/endpoints", key: "keyA", status: 400,
			body: `{"url":"https://hooks.example.com/big","retry_schedule":["5s","10ms"]}`},
		{name: "test a filter", method: "POST", path: "/v1/filters/test", key: "keyA", status: 200,
			body: `{"filter":{"type":{"$startsWith":"invoice."},"payload":{"amount":{"$gte":1000}}},
				"message":{"type":"invoice.paid","payload":{"amount":4200},"metadata":{"region":"eu"}}}`,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "match", true)
				wantValue(t, got, "reasons", []any{"payload.amount $gte 1000: true (payload.amount is 4200)",
					`type $startsWith "invoice.": true (type is "invoice.paid")`})
			}},
		{name: "test an invalid filter", method: "POST", path: "/v1/filters/test", key: "admin", status: 400,
			body: `{"filter":{"payload":{"a":{"$in":5}}},"message":{"type":"x"}}`},
		{name: "test a transformation", method: "POST", path: "/v1/transformations/test", key: "keyA", status: 200,
			body: `{"script":"function handler(w) { w.method = 'PUT'; w.headers['X-Amount'] = String(w.payload.amount); w.payload = {text: w.eventType + ' ' + w.payload.amount}; return w }",
				"webhook":{"event_type":"invoice.paid","url":"https://hooks.example.com/x","payload":{"amount":4200}}}`,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "cancel", false)
				wantValue(t, got, "method", "PUT")
				wantValue(t, got, "url", "https://hooks.example.com/x")
				wantValue(t, got, "headers", map[string]any{"X-Amount": "4200"})
				wantValue(t, got, "payload", map[string]any{"text": "invoice.paid 4200"})
			}},
		{name: "a transformation that cancels", method: "POST", path: "/v1/transformations/test", key: "keyA", status: 200,
			body: `{"script":"function handler(w) { w.cancel = true; return w }","webhook":{"event_type":"x","url":"https://hooks.example.com/x","payload":{}}}`,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantFields(t, got, "cancel")
				wantValue(t, got, "cancel", true)
			}},
		{name: "a transformation that throws", method: "POST", path: "/v1/transformations/test", key: "keyA", status: 400,
			body: `{"script":"function handler(w) {\n  throw new Error('no ' + w.eventType)\n}","webhook":{"event_type":"x","url":"https://hooks.example.com/x","payload":{}}}`,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				e, _ := got["error"].(map[string]any)
				if msg, _ := e["message"].(string); !strings.Contains(msg, "line 2") || !strings.Contains(msg, "Error: no x") {
					t.Errorf("message %q does not give the line and the JavaScript error", msg)
				}
			}},
		{name: "a transformation to a private address", method: "POST", path: "/v1/transformations/test", key: "keyA", status: 400,
			body: `{"script":"function handler(w) { w.url = 'http://169.254.169.254/latest'; return w }","webhook":{"event_type":"x","url":"https://hooks.example.com/x","payload":{}}}`},
		{name: "remove the filter", method: "PATCH", path: "/v1/apps/acme/endpoints/{EF}", key: "keyA", status: 200, changed: 1, wakes: 1,
			body: `{"filter":{},"retry_schedule":[]}`,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				if _, ok := got["filter"]; ok {
					t.Errorf("filter %v after removing it", got["filter"])
				}
				if _, ok := got["retry_schedule"]; ok {
					t.Errorf("retry_schedule %v after clearing it", got["retry_schedule"])
				}
			}},
		{name: "delete the filtered endpoint", method: "DELETE", path: "/v1/apps/acme/endpoints/{EF}", key: "keyA", status: 204, changed: 1},

		// Endpoints.
		{name: "create endpoint", method: "POST", path: "/v1/apps/acme/endpoints", key: "keyA", status: 201, save: "E3",
			body: `{"url":"https://hooks.example.com/x","description":"d","metadata":{"k":"v"},"event_types":["response.*","batch.completed"],
				"headers":{"X-Team":"a"},"state":"paused","max_concurrency":5,"rate_limit":2.5,"timeout_ms":30000,"fifo":true,"secret":"{secret1}"}`,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantFields(t, got, "id", "app_id", "url", "description", "event_types", "headers", "state", "max_concurrency",
					"rate_limit", "timeout_ms", "fifo", "metadata", "created_at", "updated_at")
				wantValue(t, got, "url", "https://hooks.example.com/x")
				wantValue(t, got, "event_types", []any{"response.*", "batch.completed"})
				wantValue(t, got, "headers", map[string]any{"X-Team": "a"})
				wantValue(t, got, "state", "paused")
				wantValue(t, got, "max_concurrency", 5.0)
				wantValue(t, got, "rate_limit", 2.5)
				wantValue(t, got, "timeout_ms", 30000.0)
				wantValue(t, got, "fifo", true)
				wantValue(t, got, "app_id", v["A"])
				wantPrefix(t, got, "id", "ep_")
			}},
		{name: "create minimal endpoint", method: "POST", path: "/v1/apps/{A}/endpoints", key: "admin", body: `{"url":"http://93.184.215.14:8080/hook"}`, status: 201, save: "E4",
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "state", "enabled")
				wantValue(t, got, "event_types", []any{})
				wantValue(t, got, "headers", map[string]any{})
				wantValue(t, got, "metadata", map[string]any{})
				wantValue(t, got, "timeout_ms", 0.0)
			}},
		{name: "list endpoints", method: "GET", path: "/v1/apps/acme/endpoints", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantIDs(t, got, v["E4"], v["E3"], v["ep2"], v["ep1"])
			}},
		{name: "get endpoint", method: "GET", path: "/v1/apps/acme/endpoints/{E3}", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "description", "d")
			}},
		{name: "get failing endpoint", method: "GET", path: "/v1/apps/acme/endpoints/{ep1}", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantTime(t, got, "failing_since")
			}},
		{name: "get secret", method: "GET", path: "/v1/apps/acme/endpoints/{E3}/secret", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				s := secrets(t, got)
				if len(s) != 1 || s[0]["secret"] != v["secret1"] || s[0]["expires_at"] != nil {
					t.Errorf("secrets %v", s)
				}
				wantPrefix(t, s[0], "id", "sec_")
			}},
		{name: "get generated secret", method: "GET", path: "/v1/apps/acme/endpoints/{E4}/secret", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				s := secrets(t, got)
				if len(s) != 1 {
					t.Fatalf("secrets %v", s)
				}
				if sec, err := webhook.ParseSecret(s[0]["secret"].(string)); err != nil || sec.Kind() != webhook.HMACKey {
					t.Errorf("generated secret %v: %v", s[0]["secret"], err)
				}
			}},
		{name: "patch endpoint", method: "PATCH", path: "/v1/apps/acme/endpoints/{E3}", key: "keyA", status: 200, wakes: 1, changed: 1,
			header: map[string]string{"Content-Type": "application/json; charset=utf-8"},
			body:   `{"state":"enabled","description":"","event_types":[],"headers":{"Authorization":"Bearer x"}}`,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "state", "enabled")
				wantValue(t, got, "description", "")
				wantValue(t, got, "event_types", []any{})
				wantValue(t, got, "headers", map[string]any{"Authorization": "Bearer x"})
				wantValue(t, got, "fifo", true) // kept
				wantValue(t, got, "metadata", map[string]any{"k": "v"})
			}},
		{name: "pause endpoint", method: "PATCH", path: "/v1/apps/acme/endpoints/{E4}", key: "keyA", body: `{"state":"paused","url":"https://new.example.com/"}`, status: 200, changed: 1,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "state", "paused")
				wantValue(t, got, "url", "https://new.example.com/")
			}},
		{name: "rotate secret", method: "POST", path: "/v1/apps/acme/endpoints/{E3}/secret/rotate", key: "keyA", body: `{"grace_period_seconds":3600}`, status: 200, changed: 1,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				s := secrets(t, got)
				if len(s) != 2 || s[0]["secret"] == v["secret1"] || s[0]["expires_at"] != nil || s[1]["secret"] != v["secret1"] {
					t.Fatalf("secrets %v", s)
				}
				wantTime(t, s[1], "expires_at")
				created, _ := time.Parse(time.RFC3339, s[0]["created_at"].(string))
				expires, _ := time.Parse(time.RFC3339, s[1]["expires_at"].(string))
				if d := expires.Sub(created); d != time.Hour {
					t.Errorf("old secret expires %v after the rotation, want 1h", d)
				}
			}},
		{name: "rotate secret without body", method: "POST", path: "/v1/apps/acme/endpoints/{E3}/secret/rotate", key: "keyA", status: 200, changed: 1,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				s := secrets(t, got)
				if len(s) != 3 {
					t.Fatalf("secrets %v", s)
				}
				created, _ := time.Parse(time.RFC3339, s[0]["created_at"].(string))
				expires, _ := time.Parse(time.RFC3339, s[1]["expires_at"].(string))
				if d := expires.Sub(created); d != 24*time.Hour {
					t.Errorf("old secret expires %v after the rotation, want the default 24h", d)
				}
			}},
		{name: "rotate to a given secret at once", method: "POST", path: "/v1/apps/acme/endpoints/{E3}/secret/rotate", key: "admin",
			body: `{"secret":"{secret2}","grace_period_seconds":0}`, status: 200, changed: 1,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				s := secrets(t, got)
				if len(s) != 1 || s[0]["secret"] != v["secret2"] {
					t.Errorf("secrets %v", s)
				}
			}},
		{name: "replay failed", method: "POST", path: "/v1/apps/acme/endpoints/{ep1}/replay", key: "keyA", body: `{"status":"failed","since":"2000-01-01T00:00:00Z","limit":10}`, status: 200, wakes: 1,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				if len(got) != 1 || got["replayed"] != 1.0 {
					t.Errorf("got %v, want {replayed: 1}", got)
				}
			}},
		{name: "replay without body", method: "POST", path: "/v1/apps/acme/endpoints/{ep1}/replay", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				if len(got) != 1 || got["replayed"] != 0.0 {
					t.Errorf("got %v, want {replayed: 0}", got)
				}
			}},
		{name: "delete endpoint", method: "DELETE", path: "/v1/apps/acme/endpoints/{E3}", key: "keyA", status: 204, changed: 1},
		{name: "deleted endpoint is gone", method: "GET", path: "/v1/apps/acme/endpoints/{E3}", key: "keyA", status: 404},
		{name: "delete paused endpoint", method: "DELETE", path: "/v1/apps/{A}/endpoints/{E4}", key: "admin", status: 204, changed: 1},

		// Messages.
		{name: "publish", method: "POST", path: "/v1/apps/acme/messages", key: "keyA", body: `{"type":"invoice.paid","payload":` + rawPayload + `}`, status: 202, save: "M2",
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantFields(t, got, "id", "app_id", "type", "payload", "created_at", "deliveries")
				wantValue(t, got, "deliveries", 2.0)
				wantValue(t, got, "type", "invoice.paid")
				wantValue(t, got, "payload", map[string]any{"a": []any{1.0, 2.0}, "b": 1.0, "html": "<b>&</b>"})
				wantPrefix(t, got, "id", "msg_")
				m, err := f.store.GetMessage(context.Background(), v["A"], got["id"].(string))
				if err != nil {
					t.Fatal(err)
				}
				if string(m.Payload) != rawPayload {
					t.Errorf("stored payload %q, want %q byte for byte", m.Payload, rawPayload)
				}
			}},
		{name: "publish with Idempotency-Key", method: "POST", path: "/v1/apps/{A}/messages", key: "admin", header: map[string]string{"Idempotency-Key": "idem-1"},
			body: `{"type":"invoice.paid","payload":{"n":1}}`, status: 202, save: "M3",
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantValue(t, got, "idempotency_key", "idem-1")
				if resp.header.Get("Idempotent-Replayed") != "" {
					t.Error("a new message has Idempotent-Replayed")
				}
			}},
		{name: "publish the key again", method: "POST", path: "/v1/apps/acme/messages", key: "keyA", header: map[string]string{"Idempotency-Key": "idem-1"},
			body: `{"type":"other.type","payload":{"n":2}}`, status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantReplayed(t, v, got, resp)
			}},
		{name: "publish the key again in the body", method: "POST", path: "/v1/apps/acme/messages", key: "keyA",
			body: `{"type":"invoice.paid","payload":{"n":3},"idempotency_key":"idem-1"}`, status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantReplayed(t, v, got, resp)
			}},
		{name: "publish the key in body and header", method: "POST", path: "/v1/apps/acme/messages", key: "keyA", header: map[string]string{"Idempotency-Key": "idem-1"},
			body: `{"type":"invoice.paid","payload":{"n":4},"idempotency_key":"idem-1"}`, status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantReplayed(t, v, got, resp)
			}},
		{name: "the same key in another app is new", method: "POST", path: "/v1/apps/{Z}/messages", key: "admin", header: map[string]string{"Idempotency-Key": "idem-1"},
			body: `{"type":"invoice.paid","payload":{}}`, status: 202,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantValue(t, got, "deliveries", 0.0)
			}},
		{name: "list messages", method: "GET", path: "/v1/apps/acme/messages", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantIDs(t, got, v["M3"], v["M2"], v["msg"])
				for _, m := range got["data"].([]any) {
					if _, ok := m.(map[string]any)["deliveries"]; ok {
						t.Errorf("a listed message has deliveries: %v", m)
					}
				}
			}},
		{name: "list messages by type and time", method: "GET", path: "/v1/apps/acme/messages?type=response.completed&since=2000-01-01T00:00:00Z&until={future}", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) { wantIDs(t, got, v["msg"]) }},
		{name: "list messages empty", method: "GET", path: "/v1/apps/acme/messages?since={future}", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				if string(resp.body) != `{"data":[]}`+"\n" {
					t.Errorf("empty list: %s", resp.body)
				}
			}},
		{name: "get message", method: "GET", path: "/v1/apps/acme/messages/{M2}", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantFields(t, got, "id", "app_id", "type", "payload", "created_at")
				wantValue(t, got["payload"].(map[string]any), "html", "<b>&</b>")
			}},

		// Deliveries and attempts.
		{name: "list deliveries", method: "GET", path: "/v1/apps/acme/deliveries", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				if n := len(got["data"].([]any)); n != 6 {
					t.Errorf("%d deliveries, want 6", n)
				}
			}},
		{name: "list deliveries by endpoint and status", method: "GET", path: "/v1/apps/acme/deliveries?endpoint_id={ep2}&status=pending&message_id={msg}", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) { wantIDs(t, got, v["dlvBusy"]) }},
		{name: "list deliveries by time", method: "GET", path: "/v1/apps/acme/deliveries?since={future}", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) { wantIDs(t, got) }},
		{name: "get delivery", method: "GET", path: "/v1/apps/acme/deliveries/{dlvDone}", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				// Replayed above: pending again, with the last attempt's outcome kept.
				wantFields(t, got, "id", "app_id", "message_id", "endpoint_id", "status", "attempts", "next_attempt_at",
					"last_status_code", "created_at", "updated_at")
				wantValue(t, got, "status", "pending")
				wantValue(t, got, "attempts", 1.0)
				wantValue(t, got, "last_status_code", 500.0)
				wantTime(t, got, "next_attempt_at", "created_at", "updated_at")
			}},
		{name: "list delivery attempts", method: "GET", path: "/v1/apps/acme/deliveries/{dlvDone}/attempts", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantIDs(t, got, v["attempt"])
				a := got["data"].([]any)[0].(map[string]any)
				wantFields(t, a, "id", "delivery_id", "app_id", "endpoint_id", "message_id", "number", "started_at",
					"latency_ms", "status_code", "response_headers", "response_body", "outcome", "request_headers")
				wantValue(t, a, "latency_ms", 1.234)
				wantValue(t, a, "response_body", "oops \uFFFD")
				wantValue(t, a, "status_code", 500.0)
				wantValue(t, a, "outcome", "failed")
				wantValue(t, a, "number", 1.0)
				wantValue(t, a, "response_headers", map[string]any{"Content-Type": "text/plain"})
			}},
		{name: "list attempts", method: "GET", path: "/v1/apps/acme/attempts?endpoint_id={ep1}&message_id={msg}&delivery_id={dlvDone}&since=2000-01-01T00:00:00Z", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) { wantIDs(t, got, v["attempt"]) }},
		{name: "list attempts of another endpoint", method: "GET", path: "/v1/apps/acme/attempts?endpoint_id={ep2}", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) { wantIDs(t, got) }},
		{name: "retry delivery", method: "POST", path: "/v1/apps/acme/deliveries/{dlvDone}/retry", key: "keyA", status: 202, wakes: 1,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "id", v["dlvDone"])
				wantValue(t, got, "status", "pending")
				wantTime(t, got, "next_attempt_at")
			}},
	}
	steps = append(steps, batchSteps(f)...)
	steps = append(steps, sourceSteps(f)...)
	steps = append(steps, listenSteps()...)
	steps = append(steps, operationalSteps()...)
	steps = append(steps, []step{
		// Deleting apps.
		// The console and the portal.
		{name: "sign in", method: "POST", path: "/v1/console/sessions", body: `{"api_key":"{admin}"}`, status: 201,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				s := startedSession(t, resp)
				v["cookie"], v["csrf"] = s.cookie, s.csrf
				wantFields(t, got, "csrf_token", "expires_at")
			}},
		{name: "who am I", method: "GET", path: "/v1/session", header: map[string]string{"Cookie": sessionCookie + "={cookie}"}, status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "kind", "console")
				wantValue(t, got, "csrf_token", v["csrf"])
			}},
		{name: "create event type", method: "POST", path: "/v1/event-types", header: map[string]string{"Cookie": sessionCookie + "={cookie}", csrfHeader: "{csrf}"},
			body: `{"name":"invoice.paid","description":"paid","schema":{"type":"object"},"example":{"id":"inv_1"}}`, status: 201,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantFields(t, got, "name", "description", "schema", "example", "deprecated", "created_at", "updated_at")
			}},
		{name: "list event types", method: "GET", path: "/v1/event-types", key: "keyA", status: 200},
		{name: "get event type", method: "GET", path: "/v1/event-types/invoice.paid", key: "keyA", status: 200},
		{name: "deprecate event type", method: "PATCH", path: "/v1/event-types/invoice.paid", key: "admin", body: `{"deprecated":true}`, status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "deprecated", true)
			}},
		{name: "endpoint stats", method: "GET", path: "/v1/apps/acme/endpoints/{ep1}/stats", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "attempts", float64(1))
				wantValue(t, got, "last_error", "HTTP 500")
			}},
		{name: "test event", method: "POST", path: "/v1/apps/acme/endpoints/{ep1}/test", key: "keyA", body: `{"event_type":"invoice.paid"}`, status: 202,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "deliveries", float64(1))
				wantValue(t, got, "payload", map[string]any{"id": "inv_1"})
			}},
		{name: "server stats", method: "GET", path: "/v1/stats", key: "admin", status: 200},
		{name: "transformation templates", method: "GET", path: "/v1/transformations/templates", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				var names []string
				for _, tpl := range got["data"].([]any) {
					tpl := tpl.(map[string]any)
					names = append(names, tpl["name"].(string))
					if !strings.Contains(tpl["script"].(string), "function handler(webhook)") {
						t.Errorf("template %v has no handler", tpl["name"])
					}
				}
				if strings.Join(names, ",") != "slack,discord,teams" {
					t.Errorf("templates %v", names)
				}
			}},
		{name: "nodes", method: "GET", path: "/v1/nodes", key: "admin", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				nodes := got["data"].([]any)
				if len(nodes) != 1 || got["shared"] != false || nodes[0].(map[string]any)["alive"] != true || nodes[0].(map[string]any)["current"] != true {
					t.Errorf("nodes of a SQLite server: %v", got)
				}
			}},
		{name: "listeners", method: "GET", path: "/v1/apps/acme/listeners", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				for _, l := range got["data"].([]any) {
					if l := l.(map[string]any); l["connected"] != false || l["connected_since"] != nil || l["last_seen_at"] == nil {
						t.Errorf("a listener whose session ended: %v", l)
					}
				}
			}},
		{name: "replay the app", method: "POST", path: "/v1/apps/acme/replay", key: "keyA", body: `{"since":"2000-01-01T00:00:00Z","status":["failed"],"event_types":["response.*"]}`, status: 202, save: "R",
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantValue(t, got, "state", "running")
				wantValue(t, got, "status", []string{"failed"})
				if loc := resp.header.Get("Location"); loc != "/v1/apps/"+v["A"]+"/replays/"+got["id"].(string) {
					t.Errorf("Location %q", loc)
				}
			}},
		{name: "list replays", method: "GET", path: "/v1/apps/acme/replays?limit=1", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				if data := got["data"].([]any); len(data) != 1 || data[0].(map[string]any)["id"] != v["R"] || got["next_cursor"] == nil {
					t.Errorf("replays %v, want the newest and a cursor", got)
				}
			}},
		{name: "replay progress", method: "GET", path: "/v1/apps/acme/replays/{R}", key: "keyA", status: 200},
		{name: "cancel replay", method: "POST", path: "/v1/apps/acme/replays/{R}/cancel", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "state", "cancelled")
			}},
		{name: "mint portal link", method: "POST", path: "/v1/apps/acme/portal-sessions", key: "keyA", body: `{"capabilities":["read","manage"]}`, status: 201,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				_, v["portalToken"], _ = strings.Cut(got["url"].(string), "#token=")
			}},
		{name: "open portal link", method: "POST", path: "/v1/portal/sessions", body: `{"token":"{portalToken}"}`, status: 201},
		{name: "revoke portal sessions", method: "DELETE", path: "/v1/apps/acme/portal-sessions", key: "keyA", status: 204},
		{name: "sign out", method: "DELETE", path: "/v1/console/sessions/current", header: map[string]string{"Cookie": sessionCookie + "={cookie}", csrfHeader: "{csrf}"}, status: 204},
		{name: "delete event type", method: "DELETE", path: "/v1/event-types/invoice.paid", key: "admin", status: 204},

		{name: "delete app", method: "DELETE", path: "/v1/apps/{Z}", key: "admin", status: 204},
		{name: "delete app with endpoints by uid", method: "DELETE", path: "/v1/apps/other", key: "admin", status: 204, changed: 1},
		{name: "deleted app is gone", method: "GET", path: "/v1/apps/other", key: "admin", status: 404},
		{name: "keys of a deleted app are refused", method: "GET", path: "/v1/apps/{B}", key: "keyB", status: 401},

		// The OpenAPI document.
		{name: "openapi", method: "GET", path: "/openapi.yaml", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				if ct := resp.header.Get("Content-Type"); ct != "application/yaml" {
					t.Errorf("Content-Type %q", ct)
				}
			}},
	}...)

	for _, st := range steps {
		ok := t.Run(st.name, func(t *testing.T) {
			expand := func(s string) string {
				for k, val := range v {
					s = strings.ReplaceAll(s, "{"+k+"}", val)
				}
				return s
			}
			if st.before != nil {
				st.before(t, v)
			}
			r := req{method: st.method, path: expand(st.path), key: v[st.key]}
			if st.header != nil {
				r.header = map[string]string{}
				for k, val := range st.header {
					r.header[k] = expand(val)
				}
			}
			if st.body != "" {
				r.body = expand(st.body)
			}
			wakes, changed := f.engine.Counts()
			srcChanged := f.engine.sourceChanges()
			var resp response
			var got map[string]any
			if st.ws {
				got, resp = f.listen(r.path, r.key)
			} else {
				resp = f.do(r)
			}
			if resp.status != st.status {
				t.Fatalf("%s %s: status %d, want %d: %s", r.method, r.path, resp.status, st.status, resp.body)
			}
			if w, c := f.engine.Counts(); w-wakes != st.wakes || c-changed != st.changed {
				t.Errorf("engine: %d wakes and %d endpoint changes, want %d and %d", w-wakes, c-changed, st.wakes, st.changed)
			}
			if n := f.engine.sourceChanges() - srcChanged; n != st.srcChanged {
				t.Errorf("%d source changes, want %d", n, st.srcChanged)
			}
			switch {
			case st.ws:
			case resp.status == http.StatusNoContent:
				if len(resp.body) != 0 {
					t.Errorf("204 with a body: %s", resp.body)
				}
			case r.path == "/openapi.yaml":
			default:
				if ct := resp.header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
				got = resp.obj(t)
			}
			if st.save != "" {
				v[st.save] = got["id"].(string)
			}
			if st.saveKeyAlso != "" {
				v[st.saveKeyAlso] = got["key"].(string)
			}
			if st.check != nil {
				st.check(t, v, got, resp)
			}
		})
		if !ok {
			break
		}
	}

	// Every route was exercised (by the fixture or the steps).
	for _, rt := range f.server.routes() {
		if _, ok := f.patterns.Load(rt.pattern); !ok {
			t.Errorf("no happy-path request reached %s", rt.pattern)
		}
	}
}

func wantFields(t *testing.T, got map[string]any, fields ...string) {
	t.Helper()
	var have []string
	for k := range got {
		have = append(have, k)
	}
	sort.Strings(have)
	sort.Strings(fields)
	if strings.Join(have, ",") != strings.Join(fields, ",") {
		t.Errorf("fields %v, want %v", have, fields)
	}
}

func wantValue(t *testing.T, got map[string]any, field string, want any) {
	t.Helper()
	g, _ := json.Marshal(got[field])
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s = %s, want %s", field, g, w)
	}
}

func wantAbsent(t *testing.T, got map[string]any, field string) {
	t.Helper()
	if v, ok := got[field]; ok {
		t.Errorf("%s = %v, want it absent", field, v)
	}
}

func wantPrefix(t *testing.T, got map[string]any, field, prefix string) {
	t.Helper()
	if s, _ := got[field].(string); !strings.HasPrefix(s, prefix) || len(s) != len(prefix)+26 {
		t.Errorf("%s = %v, want %s and a ULID", field, got[field], prefix)
	}
}

func wantTime(t *testing.T, got map[string]any, fields ...string) {
	t.Helper()
	for _, field := range fields {
		if s, _ := got[field].(string); !timeRE.MatchString(s) {
			t.Errorf("%s = %v, want RFC 3339 UTC with milliseconds", field, got[field])
		}
	}
}

// wantIDs checks the ids of a list answer, in order, and that it is the last page.
func wantIDs(t *testing.T, got map[string]any, ids ...string) {
	t.Helper()
	data, ok := got["data"].([]any)
	if !ok {
		t.Fatalf("no data array in %v", got)
	}
	var have []string
	for _, d := range data {
		have = append(have, d.(map[string]any)["id"].(string))
	}
	if fmt.Sprint(have) != fmt.Sprint(ids) {
		t.Errorf("ids %v, want %v", have, ids)
	}
	if _, ok := got["next_cursor"]; ok {
		t.Errorf("next_cursor on the last page: %v", got["next_cursor"])
	}
}

func secrets(t *testing.T, got map[string]any) []map[string]any {
	t.Helper()
	if len(got) != 1 {
		t.Errorf("fields %v, want only secrets", got)
	}
	var out []map[string]any
	for _, s := range got["secrets"].([]any) {
		out = append(out, s.(map[string]any))
	}
	return out
}

// wantReplayed checks an answer to a repeated idempotency key: the original message M3.
func wantReplayed(t *testing.T, v map[string]string, got map[string]any, resp response) {
	t.Helper()
	if resp.header.Get("Idempotent-Replayed") != "true" {
		t.Error("no Idempotent-Replayed: true")
	}
	wantValue(t, got, "id", v["M3"])
	wantValue(t, got, "payload", map[string]any{"n": 1.0})
	wantAbsent(t, got, "deliveries")
}

func TestIdempotentPublishCreatesNothing(t *testing.T) {
	f := newFixture(t)
	body := `{"type":"a.b","payload":{"x":1},"idempotency_key":"once"}`
	first := f.must(202, req{method: "POST", path: "/v1/apps/acme/messages", key: f.keyA, body: body})
	before := snapshot(t, f.store)
	for i := 0; i < 3; i++ {
		resp := f.do(req{method: "POST", path: "/v1/apps/acme/messages", key: f.keyA, body: body})
		if resp.status != 200 || resp.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("repeat %d: %d %s", i, resp.status, resp.body)
		}
		got := resp.obj(t)
		wantValue(t, got, "id", first["id"])
		wantValue(t, got, "created_at", first["created_at"])
	}
	if after := snapshot(t, f.store); after != before {
		t.Errorf("a repeated publish changed the store:\n%s\n%s", before, after)
	}
	ds, _, err := f.store.ListDeliveries(context.Background(), store.DeliveryFilter{AppID: f.appA, MessageID: first["id"].(string)})
	if err != nil || len(ds) != 2 {
		t.Errorf("%d deliveries of the message (%v), want 2", len(ds), err)
	}
}

func TestAppKeyScoping(t *testing.T) {
	f := newFixture(t)
	// Every app route answers 403 to app B's key for app A, by id and by uid, and
	// works for app A's own key.
	for _, rt := range f.server.routes() {
		method, path, _ := strings.Cut(rt.pattern, " ")
		if !strings.Contains(path, "{app}") {
			continue
		}
		expand := func(app string) string {
			return strings.NewReplacer("{app}", app, "{ep}", f.ep1, "{msg}", f.msg, "{dlv}", f.dlvDone, "{key_id}", f.keyAID, "{src}", f.src, "{rpl}", f.rpl).Replace(path)
		}
		for _, app := range []string{f.appA, "acme"} {
			resp := f.do(req{method: method, path: expand(app), key: f.keyB, body: "{}"})
			if resp.status != 403 || resp.code() != "forbidden" {
				t.Errorf("%s %s with another app's key: %d %s", method, expand(app), resp.status, resp.body)
			}
		}
		if method == "GET" {
			resp := f.do(req{method: method, path: expand("acme"), key: f.keyA})
			want := 200
			if rt.access == adminOnly {
				want = 403
			}
			if resp.status != want {
				t.Errorf("%s %s with the app's key: %d, want %d: %s", method, expand("acme"), resp.status, want, resp.body)
			}
		}
	}
	// The routes without {app} check the app of what they name: GET /v1/sources/{src}
	// does not tell another app's key that the source exists; GET /v1/listen refuses it.
	if resp := f.do(req{method: "GET", path: "/v1/sources/" + f.src, key: f.keyB}); resp.status != 404 || resp.code() != "not_found" {
		t.Errorf("GET /v1/sources/{src} with another app's key: %d %s", resp.status, resp.body)
	}
	if resp := f.do(req{method: "GET", path: "/v1/sources/" + f.src, key: f.keyA}); resp.status != 200 {
		t.Errorf("GET /v1/sources/{src} with the app's key: %d %s", resp.status, resp.body)
	}
	for _, q := range []string{"app=" + f.appA, "app=acme", "source=" + f.src, "app=nope"} {
		if resp := f.do(req{method: "GET", path: "/v1/listen?" + q, key: f.keyB}); resp.status != 403 || resp.code() != "forbidden" {
			t.Errorf("GET /v1/listen?%s with another app's key: %d %s", q, resp.status, resp.body)
		}
	}
	if hello, resp := f.listen("/v1/listen?source="+f.src, f.keyA); resp.status != 101 || hello["app_id"] != f.appA {
		t.Errorf("GET /v1/listen?source={src} with the app's key: %d %s", resp.status, resp.body)
	}
}

func TestPagination(t *testing.T) {
	e := newEnv(t)
	app := e.must(201, req{method: "POST", path: "/v1/apps", key: e.admin, body: `{"name":"p"}`})["id"].(string)
	var want []string
	for i := 0; i < 7; i++ {
		m := e.must(202, req{method: "POST", path: "/v1/apps/" + app + "/messages", key: e.admin, body: fmt.Sprintf(`{"type":"t","payload":{"i":%d}}`, i)})
		want = append([]string{m["id"].(string)}, want...) // newest first
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 4 {
			t.Fatal("too many pages")
		}
		path := "/v1/apps/" + app + "/messages?limit=3"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		page := e.must(200, req{method: "GET", path: path, key: e.admin})
		for _, m := range page["data"].([]any) {
			got = append(got, m.(map[string]any)["id"].(string))
		}
		next, ok := page["next_cursor"].(string)
		if !ok {
			if pages != 2 {
				t.Errorf("%d pages, want 3", pages+1)
			}
			break
		}
		cursor = next
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("paged through %v, want %v", got, want)
	}

	// Apps page the same way.
	for i := 0; i < 3; i++ {
		e.must(201, req{method: "POST", path: "/v1/apps", key: e.admin, body: `{"name":"more"}`})
	}
	first := e.must(200, req{method: "GET", path: "/v1/apps?limit=2", key: e.admin})
	second := e.must(200, req{method: "GET", path: "/v1/apps?limit=2&cursor=" + first["next_cursor"].(string), key: e.admin})
	if _, ok := second["next_cursor"]; ok || len(second["data"].([]any)) != 2 {
		t.Errorf("second page of 4 apps: %v", second)
	}
}

func TestRoutingErrors(t *testing.T) {
	e := newEnv(t)
	resp := e.do(req{method: "DELETE", path: "/v1/apps", key: e.admin})
	if resp.status != 405 || resp.code() != "method_not_allowed" {
		t.Fatalf("DELETE /v1/apps: %d %s", resp.status, resp.body)
	}
	if allow := resp.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Errorf("Allow %q", allow)
	}
	resp = e.do(req{method: "GET", path: "/nothing/here"})
	if resp.status != 404 || resp.code() != "not_found" || resp.header.Get("Content-Type") != "application/json" {
		t.Errorf("GET /nothing/here: %d %s", resp.status, resp.body)
	}
	// A 401 names the scheme.
	resp = e.do(req{method: "GET", path: "/v1/apps"})
	if !strings.HasPrefix(resp.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 without WWW-Authenticate: %v", resp.header)
	}
}

func TestEndpointAtAllowedAddress(t *testing.T) {
	e := newEnv(t, loopback)
	app := e.must(201, req{method: "POST", path: "/v1/apps", key: e.admin, body: `{"name":"local"}`})["id"].(string)
	e.must(201, req{method: "POST", path: "/v1/apps/" + app + "/endpoints", key: e.admin, body: `{"url":"http://127.0.0.1:9000/hook"}`})
	e.must(201, req{method: "POST", path: "/v1/apps/" + app + "/endpoints", key: e.admin, body: `{"url":"http://localhost:9000/hook"}`})
	resp := e.do(req{method: "POST", path: "/v1/apps/" + app + "/endpoints", key: e.admin, body: `{"url":"http://10.0.0.1/"}`})
	if resp.code() != "url_not_allowed" {
		t.Errorf("10.0.0.1 with only loopback allowed: %d %s", resp.status, resp.body)
	}
}

func TestPayloadLimit(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxPayloadBytes = 100 })
	app := e.must(201, req{method: "POST", path: "/v1/apps", key: e.admin, body: `{"name":"small"}`})["id"].(string)
	ok := `{"x":"` + strings.Repeat("a", 100-8) + `"}`
	e.must(202, req{method: "POST", path: "/v1/apps/" + app + "/messages", key: e.admin, body: `{"type":"t","payload":` + ok + `}`})
	tooBig := `{"x":"` + strings.Repeat("a", 100-7) + `"}`
	resp := e.do(req{method: "POST", path: "/v1/apps/" + app + "/messages", key: e.admin, body: `{"type":"t","payload":` + tooBig + `}`})
	if resp.status != 413 || resp.code() != "payload_too_large" {
		t.Errorf("101-byte payload with a 100-byte limit: %d %s", resp.status, resp.body)
	}
}

func TestKeyCacheExpires(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	e := newEnv(t, func(c *Config) { c.Now = clock })
	app := e.must(201, req{method: "POST", path: "/v1/apps", key: e.admin, body: `{"name":"c"}`})["id"].(string)
	key := e.newKey(app)
	e.must(200, req{method: "GET", path: "/v1/apps/" + app, key: key})
	// Deleted behind the API's back (by another server): refused once the cache entry expires.
	ks, _, _ := e.store.ListAPIKeys(context.Background(), app, store.Page{})
	if err := e.store.DeleteAPIKey(context.Background(), app, ks[0].ID); err != nil {
		t.Fatal(err)
	}
	e.must(200, req{method: "GET", path: "/v1/apps/" + app, key: key})
	now = now.Add(keyCacheTTL)
	e.must(401, req{method: "GET", path: "/v1/apps/" + app, key: key})
}

func TestAPIKeyShapes(t *testing.T) {
	generated, _, _ := NewAPIKey()
	for _, c := range []struct {
		key  string
		want bool
	}{
		{generated, true},
		{"hk_" + strings.Repeat("a", 21), true},
		{"hk_chosen-by_the-operator-2026", true},
		{"hk_" + strings.Repeat("Z9", 62) + "x", true}, // 128 characters
		{"hk_" + strings.Repeat("a", 20), false},
		{"hk_" + strings.Repeat("a", 126), false},
		{"hk_chosen by the operator 2026", false},
		{"hk_chosen+by/the=operator.2026", false},
		{"xx_" + strings.Repeat("a", 43), false},
		{"", false},
	} {
		if got := WellFormedAPIKey(c.key); got != c.want {
			t.Errorf("WellFormedAPIKey(%q) = %v, want %v", c.key, got, c.want)
		}
	}

	// An operator's own key (HERALD_API_KEY) works like a generated one.
	e := newEnv(t)
	own := "hk_chosen-by_the-operator-2026"
	k := &domain.APIKey{ID: ids.New("key"), Name: "own", Prefix: own[:12], Hash: HashAPIKey(own), CreatedAt: time.Now().UTC()}
	if err := e.store.CreateAPIKey(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	e.must(200, req{method: "GET", path: "/v1/apps", key: own})
	resp := e.do(req{method: "GET", path: "/v1/apps", key: "hk_short"})
	if resp.status != 401 || !strings.Contains(string(resp.body), APIKeyFormat) {
		t.Errorf("a malformed key: %d %s", resp.status, resp.body)
	}
}

func TestNewAPIKey(t *testing.T) {
	key, prefix, hash := NewAPIKey()
	if !strings.HasPrefix(key, "hk_") || len(key) != 46 || prefix != key[:12] || !WellFormedAPIKey(key) {
		t.Errorf("key %q prefix %q", key, prefix)
	}
	if _, err := base64.RawURLEncoding.DecodeString(key[3:]); err != nil {
		t.Errorf("key body is not unpadded base64url: %v", err)
	}
	if string(hash) != string(HashAPIKey(key)) || len(hash) != 32 {
		t.Errorf("hash %x", hash)
	}
	other, _, _ := NewAPIKey()
	if other == key {
		t.Error("two keys are equal")
	}
}

func TestNewValidatesConfig(t *testing.T) {
	e := newEnv(t)
	for name, cfg := range map[string]Config{
		"no store":  {Engine: e.engine, Guard: netguard.New(nil)},
		"no engine": {Store: e.store, Guard: netguard.New(nil)},
		"no guard":  {Store: e.store, Engine: e.engine},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	h, err := New(Config{Store: e.store, Engine: e.engine, Guard: netguard.New(nil)})
	if err != nil || h == nil {
		t.Fatalf("New: %v", err)
	}
	s := h.(*server)
	if s.maxPayload != defaultMaxPayloadBytes || s.secretGrace != defaultSecretGrace || s.now == nil || s.log == nil {
		t.Errorf("defaults not applied: %+v", s)
	}
}
