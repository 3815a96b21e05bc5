package api

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/relay"
	"github.com/heraldhq/herald/webhook"
	"github.com/heraldhq/herald/webhook/diagnose"
)

// sourceFields are the fields of every Source answer; "hmac" is added for provider hmac.
var sourceFields = []string{"id", "app_id", "name", "provider", "max_body_bytes", "dedupe_window_seconds", "ingest_path", "ingest_url", "created_at", "updated_at"}

// wantSource checks the shape of a Source answer and that no secret is in it.
func wantSource(t *testing.T, v map[string]string, got map[string]any, resp response, provider string) {
	t.Helper()
	fields := sourceFields
	if provider == "hmac" {
		fields = append([]string{"hmac"}, sourceFields...)
	}
	wantFields(t, got, fields...)
	wantPrefix(t, got, "id", "src_")
	wantValue(t, got, "provider", provider)
	wantValue(t, got, "ingest_path", "/in/"+got["id"].(string))
	if u, _ := got["ingest_url"].(string); !strings.HasPrefix(u, "http://127.0.0.1:") || !strings.HasSuffix(u, "/in/"+got["id"].(string)) {
		t.Errorf("ingest_url = %q, want this server's URL and the ingest path", u)
	}
	wantTime(t, got, "created_at", "updated_at")
	for _, name := range []string{"secret1", "secret2", "srcSecret"} {
		if strings.Contains(string(resp.body), v[name]) {
			t.Errorf("the answer shows a secret: %s", resp.body)
		}
	}
	if strings.Contains(string(resp.body), "secret") {
		t.Errorf("the answer has a secret field: %s", resp.body)
	}
}

// hmacConfig is the hmac configuration of the happy paths, every field set.
const hmacConfig = `{"header":"X-Signature","prefix":"sha256=","encoding":"hex","algorithm":"sha256",` +
	`"template":"{timestamp}.{body}","timestamp_header":"X-Timestamp","id_header":"X-Delivery","type_header":"X-Event"}`

// sourceSteps are the happy paths of the receiving gateway's routes and of the message
// fields sources add. They run after the steps of the other routes and before apps are deleted.
func sourceSteps(f *fixture) []step {
	ctx := context.Background()
	steps := []step{
		{name: "create openai source", method: "POST", path: "/v1/apps/acme/sources", key: "keyA", status: 201, save: "S1",
			body: `{"name":"OpenAI prod","provider":"openai","secret":"{secret1}"}`,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantSource(t, v, got, resp, "openai")
				wantValue(t, got, "app_id", v["A"])
				wantValue(t, got, "name", "OpenAI prod")
				wantValue(t, got, "max_body_bytes", 1048576.0)       // the default, 1 MiB
				wantValue(t, got, "dedupe_window_seconds", 259200.0) // the default, 72 hours
			}},
	}
	// Every provider name the webhook package has, in any case.
	for _, p := range []struct{ given, provider, save string }{
		{"standard", "standard", "Sstd"},
		{"svix", "svix", "Ssvix"},
		{"Stripe", "stripe", "Sstripe"},
		{"github", "github", "Sgh"},
		{"SHOPIFY", "shopify", "Sshop"},
		{"slack", "slack", "Sslack"},
	} {
		steps = append(steps, step{name: "create " + p.provider + " source", method: "POST", path: "/v1/apps/{A}/sources", key: "admin", status: 201, save: p.save,
			body: `{"provider":"` + p.given + `","secret":"{secret1}"}`,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantSource(t, v, got, resp, p.provider)
				wantValue(t, got, "name", "")
			}})
	}
	steps = append(steps, []step{
		{name: "create hmac source", method: "POST", path: "/v1/apps/acme/sources", key: "keyA", status: 201, save: "Sh",
			body: `{"name":"Acme CRM","provider":"hmac","secrets":["new-key","old-key"],"hmac":` + hmacConfig + `,"max_body_bytes":4096,"dedupe_window_seconds":3600}`,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantSource(t, v, got, resp, "hmac")
				wantValue(t, got, "hmac", map[string]any{
					"header": "X-Signature", "prefix": "sha256=", "encoding": "hex", "algorithm": "sha256", "template": "{timestamp}.{body}",
					"timestamp_header": "X-Timestamp", "id_header": "X-Delivery", "type_header": "X-Event",
				})
				wantValue(t, got, "max_body_bytes", 4096.0)
				wantValue(t, got, "dedupe_window_seconds", 3600.0)
				if strings.Contains(string(resp.body), "-key") {
					t.Errorf("the answer shows a secret: %s", resp.body)
				}
			}},
		{name: "create hmac source with the defaults", method: "POST", path: "/v1/apps/acme/sources", key: "keyA", status: 201, save: "Sh2",
			body: `{"provider":"hmac","secret":"k","hmac":{"header":"X-Hub-Signature"}}`,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantSource(t, v, got, resp, "hmac")
				wantValue(t, got, "hmac", map[string]any{
					"header": "X-Hub-Signature", "prefix": "", "encoding": "", "algorithm": "", "template": "",
					"timestamp_header": "", "id_header": "", "type_header": "",
				})
			}},
		{name: "list sources", method: "GET", path: "/v1/apps/acme/sources", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantIDs(t, got, v["Sh2"], v["Sh"], v["Sslack"], v["Sshop"], v["Sgh"], v["Sstripe"], v["Ssvix"], v["Sstd"], v["S1"], v["src"])
				if strings.Contains(string(resp.body), v["secret1"]) {
					t.Errorf("the list shows secrets: %s", resp.body)
				}
			}},
		{name: "list sources page", method: "GET", path: "/v1/apps/acme/sources?limit=2", key: "admin", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				data := got["data"].([]any)
				if len(data) != 2 || data[1].(map[string]any)["id"] != v["Sh"] || got["next_cursor"] != v["Sh"] {
					t.Errorf("got %v", got)
				}
			}},
		{name: "list sources next page", method: "GET", path: "/v1/apps/acme/sources?limit=9&cursor={Sh}", key: "admin", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantIDs(t, got, v["Sslack"], v["Sshop"], v["Sgh"], v["Sstripe"], v["Ssvix"], v["Sstd"], v["S1"], v["src"])
			}},
		{name: "list sources of another app", method: "GET", path: "/v1/apps/other/sources", key: "keyB", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) { wantIDs(t, got, v["srcB"]) }},
		{name: "get source", method: "GET", path: "/v1/apps/acme/sources/{S1}", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantSource(t, v, got, resp, "openai")
				wantValue(t, got, "id", v["S1"])
				wantValue(t, got, "name", "OpenAI prod")
			}},
		{name: "get source by id with an admin key", method: "GET", path: "/v1/sources/{S1}", key: "admin", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantSource(t, v, got, resp, "openai")
				wantValue(t, got, "app_id", v["A"])
			}},
		{name: "get source by id with its app's key", method: "GET", path: "/v1/sources/{Sh}", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantSource(t, v, got, resp, "hmac")
				wantValue(t, got, "id", v["Sh"])
			}},
		{name: "get source by id with another app's key", method: "GET", path: "/v1/sources/{S1}", key: "keyB", status: 404,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantValue(t, got, "error", map[string]any{"code": "not_found", "message": `source "` + v["S1"] + `" not found`})
			}},
		{name: "source secrets", method: "GET", path: "/v1/apps/acme/sources/{S1}/secrets", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantFields(t, got, "secrets")
				wantValue(t, got, "secrets", []string{v["secret1"]})
			}},
		{name: "hmac source secrets", method: "GET", path: "/v1/apps/acme/sources/{Sh}/secrets", key: "admin", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "secrets", []string{"new-key", "old-key"})
			}},
		{name: "rename source", method: "PATCH", path: "/v1/apps/acme/sources/{S1}", key: "keyA", body: `{"name":"OpenAI"}`, status: 200, srcChanged: 1,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantSource(t, v, got, resp, "openai")
				wantValue(t, got, "name", "OpenAI")
				wantValue(t, got, "max_body_bytes", 1048576.0)
			}},
		{name: "renaming keeps the secrets", method: "GET", path: "/v1/apps/acme/sources/{S1}/secrets", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "secrets", []string{v["secret1"]})
			}},
		{name: "rotate source secrets", method: "PATCH", path: "/v1/apps/acme/sources/{S1}", key: "keyA", body: `{"secrets":["{secret2}","{secret1}"]}`, status: 200, srcChanged: 1,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantSource(t, v, got, resp, "openai")
				wantValue(t, got, "name", "OpenAI")
			}},
		{name: "source secrets after rotation", method: "GET", path: "/v1/apps/acme/sources/{S1}/secrets", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "secrets", []string{v["secret2"], v["secret1"]})
			}},
		{name: "drop the old source secret", method: "PATCH", path: "/v1/apps/acme/sources/{S1}", key: "admin", body: `{"secret":"{secret2}"}`, status: 200, srcChanged: 1},
		{name: "source secrets after dropping", method: "GET", path: "/v1/apps/acme/sources/{S1}/secrets", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "secrets", []string{v["secret2"]})
			}},
		{name: "source limits back to the defaults", method: "PATCH", path: "/v1/apps/acme/sources/{Sh}", key: "keyA", body: `{"max_body_bytes":0,"dedupe_window_seconds":0}`, status: 200, srcChanged: 1,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantSource(t, v, got, resp, "hmac")
				wantValue(t, got, "max_body_bytes", 1048576.0)
				wantValue(t, got, "dedupe_window_seconds", 259200.0)
				wantValue(t, got, "name", "Acme CRM")
				wantValue(t, got, "hmac", map[string]any{
					"header": "X-Signature", "prefix": "sha256=", "encoding": "hex", "algorithm": "sha256", "template": "{timestamp}.{body}",
					"timestamp_header": "X-Timestamp", "id_header": "X-Delivery", "type_header": "X-Event",
				})
			}},
		{name: "change the hmac config", method: "PATCH", path: "/v1/apps/acme/sources/{Sh}", key: "keyA", body: `{"hmac":{"header":"X-Sig","encoding":"base64","algorithm":"sha512"}}`, status: 200, srcChanged: 1,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantValue(t, got, "hmac", map[string]any{
					"header": "X-Sig", "prefix": "", "encoding": "base64", "algorithm": "sha512", "template": "",
					"timestamp_header": "", "id_header": "", "type_header": "",
				})
			}},
		{name: "change a source's provider to hmac", method: "PATCH", path: "/v1/apps/acme/sources/{Sgh}", key: "keyA",
			body: `{"provider":"hmac","hmac":{"header":"X-Hub-Signature-256","prefix":"sha256="}}`, status: 200, srcChanged: 1,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantSource(t, v, got, resp, "hmac")
				wantValue(t, got, "hmac", map[string]any{
					"header": "X-Hub-Signature-256", "prefix": "sha256=", "encoding": "", "algorithm": "", "template": "",
					"timestamp_header": "", "id_header": "", "type_header": "",
				})
			}},
		{name: "change it back to github", method: "PATCH", path: "/v1/apps/acme/sources/{Sgh}", key: "keyA", body: `{"provider":"github"}`, status: 200, srcChanged: 1,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantSource(t, v, got, resp, "github") // and no hmac
			}},

		// Rejected requests, as internal/ingest records them.
		{name: "list rejections", method: "GET", path: "/v1/apps/acme/sources/{S1}/rejections", key: "keyA", status: 200,
			before: func(t *testing.T, v map[string]string) {
				for i, code := range []string{"invalid_signature", "timestamp_too_old"} {
					id := ids.New("rej")
					v["R"+code] = id
					var diagnosis []diagnose.Finding
					if i == 0 {
						diagnosis = []diagnose.Finding{{Code: "body_changed", Message: "The body was re-serialised.", Hint: "Verify the raw bytes.", Confirmed: true}}
					}
					if err := f.store.RecordRejection(ctx, &domain.Rejection{
						ID: id, SourceID: v["S1"], AppID: v["A"], ReceivedAt: time.Now().UTC().Truncate(time.Millisecond),
						Status: 401, Code: code, Message: "openai: no signature matches", RemoteAddr: "203.0.113.7:4242",
						Headers: map[string]string{"Webhook-Id": "evt_" + string(rune('1'+i))}, Body: []byte(`{"x":"` + "\xff" + `"}`),
						HeaderCount: 40, HeaderBytes: 900 << 10, BodyBytes: 1 << 20, Diagnosis: diagnosis,
					}); err != nil {
						t.Fatal(err)
					}
				}
			},
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantIDs(t, got, v["Rtimestamp_too_old"], v["Rinvalid_signature"])
				r := got["data"].([]any)[1].(map[string]any)
				wantFields(t, r, "id", "source_id", "received_at", "status", "code", "message", "remote_addr", "headers", "body",
					"header_count", "header_bytes", "body_bytes", "diagnosis")
				wantPrefix(t, r, "id", "rej_")
				wantValue(t, r, "source_id", v["S1"])
				wantValue(t, r, "status", 401.0)
				wantValue(t, r, "code", "invalid_signature")
				wantValue(t, r, "message", "openai: no signature matches")
				wantValue(t, r, "remote_addr", "203.0.113.7:4242")
				wantValue(t, r, "headers", map[string]any{"Webhook-Id": "evt_1"})
				wantValue(t, r, "body", "{\"x\":\"\uFFFD\"}")
				wantValue(t, r, "header_count", 40.0)
				wantValue(t, r, "header_bytes", float64(900<<10))
				wantValue(t, r, "body_bytes", float64(1<<20))
				wantValue(t, r, "diagnosis", []any{map[string]any{"code": "body_changed", "message": "The body was re-serialised.", "hint": "Verify the raw bytes.", "confirmed": true}})
				wantValue(t, got["data"].([]any)[0].(map[string]any), "diagnosis", []any{})
				wantTime(t, r, "received_at")
			}},
		{name: "list rejections page", method: "GET", path: "/v1/apps/{A}/sources/{S1}/rejections?limit=1&cursor={Rtimestamp_too_old}", key: "admin", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantIDs(t, got, v["Rinvalid_signature"])
			}},
		{name: "list rejections of a source without any", method: "GET", path: "/v1/apps/acme/sources/{Sstd}/rejections", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) { wantIDs(t, got) }},

		// Messages that arrived through a source: any body, the provider's headers.
		{name: "message with a form payload", method: "GET", path: "/v1/apps/acme/messages/{MT}", key: "keyA", status: 200,
			before: func(t *testing.T, v map[string]string) {
				for _, m := range []struct {
					save, source, typ string
					payload           []byte
					headers           map[string]string
				}{
					{"MT", v["Sslack"], "slack.webhook", []byte("a=1&b=%C3%A9"), map[string]string{
						"Content-Type": "application/x-www-form-urlencoded", domain.ForwardedHeaderPrefix + "X-Slack-Signature": "v0=abc",
					}},
					{"MB", v["Sstripe"], "charge.succeeded", []byte{0xff, 0x00, 0x01, 0xfe}, map[string]string{"Content-Type": "application/octet-stream"}},
					{"MJ", v["Sstripe"], "charge.failed", []byte(`{"id":"evt_1", "object":"event"}`), map[string]string{"Content-Type": "application/json"}},
				} {
					res, err := f.engine.Publish(ctx, &domain.Message{
						ID: ids.New("msg"), AppID: v["A"], Type: m.typ, Payload: m.payload, IdempotencyKey: "in:" + m.source + ":" + m.save,
						SourceID: m.source, Headers: m.headers, CreatedAt: time.Now().UTC().Truncate(time.Millisecond),
					})
					if err != nil {
						t.Fatal(err)
					}
					v[m.save] = res.Message.ID
				}
			},
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantFields(t, got, "id", "app_id", "type", "payload", "payload_encoding", "idempotency_key", "source_id", "headers", "created_at")
				wantValue(t, got, "payload", "a=1&b=%C3%A9")
				wantValue(t, got, "payload_encoding", "text")
				wantValue(t, got, "source_id", v["Sslack"])
				wantValue(t, got, "type", "slack.webhook")
				wantValue(t, got, "headers", map[string]any{
					"Content-Type": "application/x-www-form-urlencoded", "X-Herald-Original-X-Slack-Signature": "v0=abc",
				})
			}},
		{name: "message with a binary payload", method: "GET", path: "/v1/apps/acme/messages/{MB}", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "payload", "/wAB/g==")
				wantValue(t, got, "payload_encoding", "base64")
				wantValue(t, got, "source_id", v["Sstripe"])
			}},
		{name: "message with a JSON payload from a source", method: "GET", path: "/v1/apps/acme/messages/{MJ}", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, resp response) {
				wantFields(t, got, "id", "app_id", "type", "payload", "idempotency_key", "source_id", "headers", "created_at")
				wantValue(t, got, "payload", map[string]any{"id": "evt_1", "object": "event"})
			}},
		{name: "list messages of a source", method: "GET", path: "/v1/apps/acme/messages?source_id={Sstripe}", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantIDs(t, got, v["MJ"], v["MB"])
				m := got["data"].([]any)[1].(map[string]any)
				wantValue(t, m, "payload_encoding", "base64")
			}},
		{name: "list messages of a source and type", method: "GET", path: "/v1/apps/acme/messages?source_id={Sslack}&type=slack.webhook", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantIDs(t, got, v["MT"])
				wantValue(t, got["data"].([]any)[0].(map[string]any), "payload", "a=1&b=%C3%A9")
			}},
		{name: "list messages of a source without any", method: "GET", path: "/v1/apps/acme/messages?source_id={S1}", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) { wantIDs(t, got) }},

		// Deleting a source.
		{name: "delete source", method: "DELETE", path: "/v1/apps/acme/sources/{Sslack}", key: "keyA", status: 204, srcChanged: 1},
		{name: "deleted source is gone", method: "GET", path: "/v1/apps/acme/sources/{Sslack}", key: "keyA", status: 404},
		{name: "deleted source is gone by id", method: "GET", path: "/v1/sources/{Sslack}", key: "admin", status: 404},
		{name: "its messages stay", method: "GET", path: "/v1/apps/acme/messages/{MT}", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "source_id", v["Sslack"])
			}},
		{name: "delete source with rejections", method: "DELETE", path: "/v1/apps/{A}/sources/{S1}", key: "admin", status: 204, srcChanged: 1},
		{name: "its rejections are gone", method: "GET", path: "/v1/apps/acme/sources/{S1}/rejections", key: "admin", status: 404},
	}...)
	return steps
}

// listenSteps are the happy paths of GET /v1/listen: a WebSocket whose first message is
// the hello, with the listener endpoint's id and secret, the same for every session of
// the same listener name.
func listenSteps() []step {
	wantHello := func(t *testing.T, got map[string]any, name string) {
		t.Helper()
		wantValue(t, got, "type", "hello")
		wantPrefix(t, got, "endpoint_id", "ep_")
		wantValue(t, got, "name", name)
		if s, _ := got["secret"].(string); !strings.HasPrefix(s, "whsec_") {
			t.Errorf("secret %v, want a whsec_ secret", got["secret"])
		} else if _, err := webhook.ParseSecret(s); err != nil {
			t.Errorf("secret %q: %v", s, err)
		}
	}
	return []step{
		{name: "listen to an app", method: "GET", path: "/v1/listen?app=acme&name=dev", key: "keyA", ws: true, status: 101,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantFields(t, got, "type", "endpoint_id", "app_id", "name", "secret", "events")
				wantHello(t, got, "dev")
				wantValue(t, got, "app_id", v["A"])
				wantValue(t, got, "events", []string{})
				v["L"], v["LS"] = got["endpoint_id"].(string), got["secret"].(string)
			}},
		{name: "listen again with the same name", method: "GET", path: "/v1/listen?app={A}&name=dev", key: "admin", ws: true, status: 101,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantHello(t, got, "dev")
				wantValue(t, got, "endpoint_id", v["L"])
				wantValue(t, got, "secret", v["LS"])
			}},
		{name: "listen to a source with a filter", method: "GET", path: "/v1/listen?source={Sstripe}&name=dev&events=charge.*,invoice.paid", key: "keyA", ws: true, status: 101, changed: 1,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantFields(t, got, "type", "endpoint_id", "app_id", "source_id", "name", "secret", "events")
				wantHello(t, got, "dev")
				wantValue(t, got, "endpoint_id", v["L"])
				wantValue(t, got, "secret", v["LS"])
				wantValue(t, got, "app_id", v["A"])
				wantValue(t, got, "source_id", v["Sstripe"])
				wantValue(t, got, "events", []string{"charge.*", "invoice.paid"})
			}},
		{name: "listen to a source of the app named", method: "GET", path: "/v1/listen?app=acme&source={Sstripe}&name=dev&events=charge.*,invoice.paid", key: "keyA", ws: true, status: 101,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "endpoint_id", v["L"])
				wantValue(t, got, "source_id", v["Sstripe"])
			}},
		{name: "the listener endpoint", method: "GET", path: "/v1/apps/acme/endpoints/{L}", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantValue(t, got, "url", "listen:dev")
				wantValue(t, got, "source_id", v["Sstripe"])
				wantValue(t, got, "event_types", []string{"charge.*", "invoice.paid"})
				wantValue(t, got, "state", "enabled")
			}},
		{name: "the listener endpoint's secret", method: "GET", path: "/v1/apps/acme/endpoints/{L}/secret", key: "keyA", status: 200,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				s := secrets(t, got)
				if len(s) != 1 || s[0]["secret"] != v["LS"] {
					t.Errorf("secrets %v, want the hello's %s", s, v["LS"])
				}
			}},
		{name: "listen with the default name", method: "GET", path: "/v1/listen?app=acme", key: "keyA", ws: true, status: 101,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantHello(t, got, "default")
				if got["endpoint_id"] == v["L"] || got["secret"] == v["LS"] {
					t.Errorf("another listener shares the endpoint or secret of dev: %v", got)
				}
			}},
		{name: "the dev listener is back on the whole app", method: "GET", path: "/v1/listen?app=acme&name=dev", key: "keyA", ws: true, status: 101, changed: 1,
			check: func(t *testing.T, v map[string]string, got map[string]any, _ response) {
				wantFields(t, got, "type", "endpoint_id", "app_id", "name", "secret", "events")
				wantValue(t, got, "endpoint_id", v["L"])
				wantValue(t, got, "secret", v["LS"])
			}},
	}
}

// TestSourcesNotConfigured checks the answers of a server without Config.Sources and
// Config.Listener: 501 on their routes, and nothing else affected.
func TestSourcesNotConfigured(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Sources, c.OnSourceChanged, c.Listener = nil, nil, nil })
	app := e.must(201, req{method: "POST", path: "/v1/apps", key: e.admin, body: `{"name":"a"}`})["id"].(string)
	for _, r := range []req{
		{method: "POST", path: "/v1/apps/" + app + "/sources", key: e.admin, body: `{"provider":"openai","secret":"s"}`},
		{method: "GET", path: "/v1/apps/" + app + "/sources", key: e.admin},
		{method: "GET", path: "/v1/apps/" + app + "/sources/src_01JD3XK5M2Q8W0RZ7C4T6YB9HN", key: e.admin},
		{method: "DELETE", path: "/v1/apps/" + app + "/sources/src_01JD3XK5M2Q8W0RZ7C4T6YB9HN", key: e.admin},
		{method: "GET", path: "/v1/apps/" + app + "/sources/src_01JD3XK5M2Q8W0RZ7C4T6YB9HN/rejections", key: e.admin},
		{method: "GET", path: "/v1/sources/src_01JD3XK5M2Q8W0RZ7C4T6YB9HN", key: e.admin},
		{method: "GET", path: "/v1/listen?app=" + app, key: e.admin},
	} {
		if resp := e.do(r); resp.status != 501 || resp.code() != "not_implemented" {
			t.Errorf("%s %s: %d %s, want 501 not_implemented", r.method, r.path, resp.status, resp.body)
		}
	}
	// Listening to an app needs no source store.
	e2 := newEnv(t, func(c *Config) { c.Sources = nil })
	app2 := e2.must(201, req{method: "POST", path: "/v1/apps", key: e2.admin, body: `{"name":"a"}`})["id"].(string)
	if hello, resp := e2.listen("/v1/listen?app="+app2, e2.admin); resp.status != 101 || hello["app_id"] != app2 {
		t.Errorf("listen without sources: %d %s", resp.status, resp.body)
	}
	if resp := e2.do(req{method: "GET", path: "/v1/listen?source=src_01JD3XK5M2Q8W0RZ7C4T6YB9HN", key: e2.admin}); resp.status != 501 {
		t.Errorf("listen to a source without sources: %d %s", resp.status, resp.body)
	}
}

// TestListenSessions checks what GET /v1/listen does beyond the hello: a new session of
// the same listener replaces the old one, and the hub knows the listener while it is attached.
func TestListenSessions(t *testing.T) {
	f := newFixture(t)
	first, resp, err := f.dial("/v1/listen?app=acme&name=dev", f.keyA)
	if err != nil {
		t.Fatalf("dial: %v: %d %s", err, resp.status, resp.body)
	}
	defer first.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, data, err := first.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var hello struct {
		EndpointID string `json:"endpoint_id"`
	}
	if err := json.Unmarshal(data, &hello); err != nil {
		t.Fatal(err)
	}
	// The hub registers the session just after the hello.
	waitConnected(t, f, hello.EndpointID, true)
	// The first session reads on, as herald listen does, to see the server close it.
	closed := make(chan error, 1)
	go func() {
		_, _, err := first.Read(ctx)
		closed <- err
	}()
	// The same listener again: the first session is closed.
	second, _ := f.listen("/v1/listen?app=acme&name=dev", f.keyA)
	if second["endpoint_id"] != hello.EndpointID {
		t.Errorf("the second session is for %v, want %s", second["endpoint_id"], hello.EndpointID)
	}
	if err := <-closed; websocket.CloseStatus(err) != relay.CloseReplaced {
		t.Errorf("the replaced session ended with %v, want a close with status %v", err, relay.CloseReplaced)
	}
	// Gone once the last session left.
	waitConnected(t, f, hello.EndpointID, false)
}

// waitConnected waits until the hub has (or no longer has) a session for the endpoint.
func waitConnected(t *testing.T, f *fixture, endpointID string, connected bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); f.hub.Connected(endpointID) != connected; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the hub's session for %s: connected %v, want %v", endpointID, !connected, connected)
		}
	}
}
