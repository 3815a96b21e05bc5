package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/store"
)

// badCase is a request that must fail with a documented status and code and change
// nothing stored.
type badCase struct {
	name   string
	req    req
	status int
	code   string
}

// badCases is the bad-input table: malformed JSON, unknown fields, wrong types,
// unacceptable values, oversized bodies, invalid and SSRF URLs, unknown ids, bad keys,
// wrong content types, bad query parameters and unknown routes.
func badCases(f *fixture) []badCase {
	admin, keyA, keyB := f.admin, f.keyA, f.keyB
	apps := "/v1/apps"
	appA := "/v1/apps/" + f.appA
	eps := appA + "/endpoints"
	ep1 := eps + "/" + f.ep1
	msgs := appA + "/messages"
	dlvs := appA + "/deliveries"
	url := "https://example.com/hook"
	ep := func(extra string) string { return `{"url":"` + url + `"` + extra + `}` }
	msg := func(extra string) string { return `{"type":"a.b","payload":{}` + extra + `}` }
	unknownApp := "app_01JD3XK5M2Q8W0RZ7C4T6YB9HN"
	unknownEp := "ep_01JD3XK5M2Q8W0RZ7C4T6YB9HN"
	unknownMsg := "msg_01JD3XK5M2Q8W0RZ7C4T6YB9HN"
	unknownDlv := "dlv_01JD3XK5M2Q8W0RZ7C4T6YB9HN"
	unknownKey := "key_01JD3XK5M2Q8W0RZ7C4T6YB9HN"
	secretHMAC := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	secretEd := "whsk_" + strings.Repeat("A", 43) + "="
	big := strings.Repeat("x", 1<<20)
	bigPayload := `{"type":"a.b","payload":{"x":"` + strings.Repeat("x", 256<<10) + `"}}`
	hugeMessage := `{"type":"a.b","payload":{"x":"` + strings.Repeat("x", 400<<10) + `"}}`

	post := func(path, key string, body any) req { return req{method: "POST", path: path, key: key, body: body} }
	patch := func(path, key string, body any) req { return req{method: "PATCH", path: path, key: key, body: body} }
	get := func(path, key string) req { return req{method: "GET", path: path, key: key} }
	del := func(path, key string) req { return req{method: "DELETE", path: path, key: key} }
	withType := func(r req, ct string) req { r.header = map[string]string{"Content-Type": ct}; return r }
	withHeader := func(r req, k, v string) req { r.header = map[string]string{k: v}; return r }
	auth := func(r req, h string) req { r.auth = h; return r }

	const (
		c400 = 400
		c401 = 401
		c403 = 403
		c404 = 404
		c405 = 405
		c409 = 409
		c413 = 413
		c415 = 415
	)
	return []badCase{
		// Malformed JSON.
		{"malformed/truncated", post(apps, admin, `{"name":`), c400, "malformed_json"},
		{"malformed/empty body", post(apps, admin, ``), c400, "malformed_json"},
		{"malformed/whitespace body", post(apps, admin, " \n"), c400, "malformed_json"},
		{"malformed/trailing comma", post(apps, admin, `{"name":"x",}`), c400, "malformed_json"},
		{"malformed/trailing data", post(apps, admin, `{"name":"x"} {"name":"y"}`), c400, "malformed_json"},
		{"malformed/not json", patch(appA, admin, `name=x`), c400, "malformed_json"},
		{"malformed/single quotes", post(eps, admin, `{'url': 'https://example.com'}`), c400, "malformed_json"},
		{"malformed/message", post(msgs, admin, `{"type":"a","payload":{}`), c400, "malformed_json"},
		{"malformed/message empty", post(msgs, admin, ``), c400, "malformed_json"},
		{"malformed/endpoint patch empty", patch(ep1, admin, ``), c400, "malformed_json"},
		{"malformed/rotate", post(ep1+"/secret/rotate", admin, `{`), c400, "malformed_json"},
		{"malformed/replay", post(ep1+"/replay", admin, `[`), c400, "malformed_json"},
		{"malformed/api key", post(appA+"/api-keys", admin, `{"name":"x"`), c400, "malformed_json"},

		// Unknown fields.
		{"unknown/app typo", post(apps, admin, `{"name":"x","nmae":"y"}`), c400, "unknown_field"},
		{"unknown/app id", patch(appA, admin, `{"id":"app_x"}`), c400, "unknown_field"},
		{"unknown/endpoint read-only field", post(eps, admin, ep(`,"disabled_reason":"x"`)), c400, "unknown_field"},
		{"unknown/endpoint patch", patch(ep1, admin, `{"secrets":[]}`), c400, "unknown_field"},
		{"unknown/message", post(msgs, admin, msg(`,"extra":1`)), c400, "unknown_field"},
		{"unknown/message data", post(msgs, admin, `{"type":"a","data":{}}`), c400, "unknown_field"},
		{"unknown/api key", post(appA+"/api-keys", admin, `{"name":"x","app_id":"app_x"}`), c400, "unknown_field"},
		{"unknown/admin key", post("/v1/api-keys", admin, `{"admin":true}`), c400, "unknown_field"},
		{"unknown/rotate", post(ep1+"/secret/rotate", admin, `{"grace":1}`), c400, "unknown_field"},
		{"unknown/replay", post(ep1+"/replay", admin, `{"state":"failed"}`), c400, "unknown_field"},

		// Wrong types.
		{"type/name number", post(apps, admin, `{"name":5}`), c400, "wrong_type"},
		{"type/name null", post(apps, admin, `{"name":null}`), c400, "wrong_type"},
		{"type/metadata value", post(apps, admin, `{"name":"x","metadata":{"k":1}}`), c400, "wrong_type"},
		{"type/metadata array", patch(appA, admin, `{"metadata":["k"]}`), c400, "wrong_type"},
		{"type/body array", post(apps, admin, `[]`), c400, "wrong_type"},
		{"type/body string", post(apps, admin, `"x"`), c400, "wrong_type"},
		{"type/body null", post(apps, admin, `null`), c400, "wrong_type"},
		{"type/event_types string", post(eps, admin, ep(`,"event_types":"a.b"`)), c400, "wrong_type"},
		{"type/max_concurrency string", post(eps, admin, ep(`,"max_concurrency":"5"`)), c400, "wrong_type"},
		{"type/max_concurrency fraction", post(eps, admin, ep(`,"max_concurrency":1.5`)), c400, "wrong_type"},
		{"type/fifo string", post(eps, admin, ep(`,"fifo":"true"`)), c400, "wrong_type"},
		{"type/headers array", post(eps, admin, ep(`,"headers":["X-A"]`)), c400, "wrong_type"},
		{"type/url number", post(eps, admin, `{"url":1}`), c400, "wrong_type"},
		{"type/rate_limit string", patch(ep1, admin, `{"rate_limit":"fast"}`), c400, "wrong_type"},
		{"type/state null", patch(ep1, admin, `{"state":null}`), c400, "wrong_type"},
		{"type/message type", post(msgs, admin, `{"type":1,"payload":{}}`), c400, "wrong_type"},
		{"type/idempotency_key", post(msgs, admin, msg(`,"idempotency_key":7`)), c400, "wrong_type"},
		{"type/grace string", post(ep1+"/secret/rotate", admin, `{"grace_period_seconds":"60"}`), c400, "wrong_type"},
		{"type/replay limit", post(ep1+"/replay", admin, `{"limit":true}`), c400, "wrong_type"},
		{"type/key name", post(appA+"/api-keys", admin, `{"name":["x"]}`), c400, "wrong_type"},

		// Unacceptable values.
		{"value/app name missing", post(apps, admin, `{}`), c400, "invalid_field"},
		{"value/app name empty", post(apps, admin, `{"name":""}`), c400, "invalid_field"},
		{"value/app name long", post(apps, admin, `{"name":"`+strings.Repeat("é", 257)+`"}`), c400, "invalid_field"},
		{"value/uid space", post(apps, admin, `{"name":"x","uid":"a b"}`), c400, "invalid_field"},
		{"value/uid app_", post(apps, admin, `{"name":"x","uid":"app_1"}`), c400, "invalid_field"},
		{"value/uid long", post(apps, admin, `{"name":"x","uid":"`+strings.Repeat("u", 129)+`"}`), c400, "invalid_field"},
		{"value/patch name empty", patch(appA, admin, `{"name":""}`), c400, "invalid_field"},
		{"value/uid taken", post(apps, admin, `{"name":"x","uid":"acme"}`), c409, "conflict"},
		{"value/uid taken on patch", patch("/v1/apps/other", admin, `{"uid":"acme"}`), c409, "conflict"},
		{"value/key name long", post("/v1/api-keys", admin, `{"name":"`+strings.Repeat("k", 257)+`"}`), c400, "invalid_field"},
		{"value/url missing", post(eps, admin, `{"description":"x"}`), c400, "invalid_field"},
		{"value/event type", post(eps, admin, ep(`,"event_types":["bad type!"]`)), c400, "invalid_field"},
		{"value/event wildcard", post(eps, admin, ep(`,"event_types":["response*"]`)), c400, "invalid_field"},
		{"value/event empty", post(eps, admin, ep(`,"event_types":[""]`)), c400, "invalid_field"},
		{"value/header name", post(eps, admin, ep(`,"headers":{"Bad Name":"x"}`)), c400, "invalid_field"},
		{"value/header content-type", post(eps, admin, ep(`,"headers":{"Content-Type":"text/plain"}`)), c400, "invalid_field"},
		{"value/header webhook-", post(eps, admin, ep(`,"headers":{"Webhook-Signature":"x"}`)), c400, "invalid_field"},
		{"value/header hop-by-hop", post(eps, admin, ep(`,"headers":{"Connection":"close"}`)), c400, "invalid_field"},
		{"value/header host", patch(ep1, admin, `{"headers":{"host":"evil"}}`), c400, "invalid_field"},
		{"value/header value newline", post(eps, admin, ep(`,"headers":{"X-A":"a\r\nX-B: b"}`)), c400, "invalid_field"},
		{"value/header twice", post(eps, admin, ep(`,"headers":{"X-A":"1","x-a":"2"}`)), c400, "invalid_field"},
		{"value/state", post(eps, admin, ep(`,"state":"on"`)), c400, "invalid_field"},
		{"value/max_concurrency high", post(eps, admin, ep(`,"max_concurrency":1001`)), c400, "invalid_field"},
		{"value/max_concurrency negative", patch(ep1, admin, `{"max_concurrency":-1}`), c400, "invalid_field"},
		{"value/rate_limit negative", post(eps, admin, ep(`,"rate_limit":-0.5`)), c400, "invalid_field"},
		{"value/timeout low", post(eps, admin, ep(`,"timeout_ms":999`)), c400, "invalid_field"},
		{"value/timeout high", patch(ep1, admin, `{"timeout_ms":120001}`), c400, "invalid_field"},
		{"value/description long", post(eps, admin, ep(`,"description":"`+strings.Repeat("d", 1025)+`"`)), c400, "invalid_field"},
		{"value/secret garbage", post(eps, admin, ep(`,"secret":"hunter2"`)), c400, "invalid_field"},
		{"value/secret short", post(eps, admin, ep(`,"secret":"whsec_c2hvcnQ="`)), c400, "invalid_field"},
		{"value/secret ed25519", post(eps, admin, ep(`,"secret":"`+secretEd+`"`)), c400, "invalid_field"},
		{"value/secret on patch", patch(ep1, admin, `{"secret":"`+secretHMAC+`"}`), c400, "invalid_field"},
		{"value/message type missing", post(msgs, admin, `{"payload":{}}`), c400, "invalid_field"},
		{"value/message type chars", post(msgs, admin, `{"type":"a b","payload":{}}`), c400, "invalid_field"},
		{"value/message type long", post(msgs, admin, `{"type":"`+strings.Repeat("t", 256)+`","payload":{}}`), c400, "invalid_field"},
		{"value/payload missing", post(msgs, admin, `{"type":"a.b"}`), c400, "invalid_field"},
		{"value/payload array", post(msgs, admin, `{"type":"a.b","payload":[1]}`), c400, "invalid_field"},
		{"value/payload string", post(msgs, admin, `{"type":"a.b","payload":"{}"}`), c400, "invalid_field"},
		{"value/payload null", post(msgs, admin, `{"type":"a.b","payload":null}`), c400, "invalid_field"},
		{"value/idempotency key empty", post(msgs, admin, msg(`,"idempotency_key":""`)), c400, "invalid_field"},
		{"value/idempotency key long", post(msgs, admin, msg(`,"idempotency_key":"`+strings.Repeat("i", 256)+`"`)), c400, "invalid_field"},
		{"value/idempotency header long", withHeader(post(msgs, admin, msg(``)), "Idempotency-Key", strings.Repeat("i", 256)), c400, "invalid_field"},
		{"value/idempotency body and header differ", withHeader(post(msgs, admin, msg(`,"idempotency_key":"a"`)), "Idempotency-Key", "b"), c400, "invalid_field"},
		{"value/grace negative", post(ep1+"/secret/rotate", admin, `{"grace_period_seconds":-1}`), c400, "invalid_field"},
		{"value/grace too long", post(ep1+"/secret/rotate", admin, `{"grace_period_seconds":604801}`), c400, "invalid_field"},
		{"value/rotate secret", post(ep1+"/secret/rotate", admin, `{"secret":"whsec_!!"}`), c400, "invalid_field"},
		{"value/replay status", post(ep1+"/replay", admin, `{"status":"pending"}`), c400, "invalid_field"},
		{"value/replay since", post(ep1+"/replay", admin, `{"since":"yesterday"}`), c400, "invalid_field"},
		{"value/replay until before since", post(ep1+"/replay", admin, `{"since":"2026-01-02T00:00:00Z","until":"2026-01-01T00:00:00Z"}`), c400, "invalid_field"},
		{"value/replay after", post(ep1+"/replay", admin, `{"after":"x"}`), c400, "invalid_field"},
		{"value/replay limit", post(ep1+"/replay", admin, `{"limit":0}`), c400, "invalid_field"},
		{"value/replay limit high", post(ep1+"/replay", admin, `{"limit":5001}`), c400, "invalid_field"},
		{"value/retry in flight", post(dlvs+"/"+f.dlvBusy+"/retry", admin, nil), c409, "conflict"},

		// Oversized bodies.
		{"size/body over 1 MiB", post(apps, admin, `{"name":"`+big+`"}`), c413, "payload_too_large"},
		{"size/endpoint body over 1 MiB", post(eps, admin, ep(`,"description":"`+big+`"`)), c413, "payload_too_large"},
		{"size/payload over 256 KiB", post(msgs, admin, bigPayload), c413, "payload_too_large"},
		{"size/message body over limit", post(msgs, admin, hugeMessage), c413, "payload_too_large"},

		// Invalid URLs.
		{"url/ftp", post(eps, admin, `{"url":"ftp://example.com/hook"}`), c400, "invalid_field"},
		{"url/no scheme", post(eps, admin, `{"url":"example.com/hook"}`), c400, "invalid_field"},
		{"url/user info", post(eps, admin, `{"url":"https://user:pw@example.com/hook"}`), c400, "invalid_field"},
		{"url/no host", post(eps, admin, `{"url":"https:///hook"}`), c400, "invalid_field"},
		{"url/bad port", post(eps, admin, `{"url":"https://example.com:99999/"}`), c400, "invalid_field"},
		{"url/garbage", post(eps, admin, `{"url":"::not a url"}`), c400, "invalid_field"},
		{"url/empty", post(eps, admin, `{"url":""}`), c400, "invalid_field"},
		{"url/empty on patch", patch(ep1, admin, `{"url":""}`), c400, "invalid_field"},

		// SSRF targets.
		{"ssrf/loopback", post(eps, admin, `{"url":"http://127.0.0.1/"}`), c400, "url_not_allowed"},
		{"ssrf/private", post(eps, admin, `{"url":"http://10.0.0.1/"}`), c400, "url_not_allowed"},
		{"ssrf/metadata", post(eps, admin, `{"url":"http://169.254.169.254/latest/meta-data"}`), c400, "url_not_allowed"},
		{"ssrf/ipv6 loopback", post(eps, admin, `{"url":"http://[::1]/"}`), c400, "url_not_allowed"},
		{"ssrf/localhost", post(eps, admin, `{"url":"http://localhost:8080/"}`), c400, "url_not_allowed"},
		{"ssrf/private 192.168", post(eps, keyA, `{"url":"https://192.168.1.1/hook"}`), c400, "url_not_allowed"},
		{"ssrf/mapped ipv6", post(eps, admin, `{"url":"http://[::ffff:127.0.0.1]/"}`), c400, "url_not_allowed"},
		{"ssrf/patch to loopback", patch(ep1, admin, `{"url":"http://127.0.0.1:9000/"}`), c400, "url_not_allowed"},

		// Unknown ids.
		{"id/app", get("/v1/apps/"+unknownApp, admin), c404, "not_found"},
		{"id/app uid", get("/v1/apps/nope", admin), c404, "not_found"},
		{"id/app patch", patch("/v1/apps/nope", admin, `{"name":"x"}`), c404, "not_found"},
		{"id/app delete", del("/v1/apps/"+unknownApp, admin), c404, "not_found"},
		{"id/app endpoints", get("/v1/apps/"+unknownApp+"/endpoints", admin), c404, "not_found"},
		{"id/app create endpoint", post("/v1/apps/nope/endpoints", admin, ep(``)), c404, "not_found"},
		{"id/app publish", post("/v1/apps/"+unknownApp+"/messages", admin, msg(``)), c404, "not_found"},
		{"id/app publish by uid", post("/v1/apps/nope/messages", admin, msg(``)), c404, "not_found"},
		{"id/app keys", post("/v1/apps/nope/api-keys", admin, `{}`), c404, "not_found"},
		{"id/endpoint", get(eps+"/"+unknownEp, admin), c404, "not_found"},
		{"id/endpoint garbage", get(eps+"/xyz", admin), c404, "not_found"},
		{"id/endpoint patch", patch(eps+"/"+unknownEp, admin, `{"description":"x"}`), c404, "not_found"},
		{"id/endpoint delete", del(eps+"/"+unknownEp, admin), c404, "not_found"},
		{"id/endpoint secret", get(eps+"/"+unknownEp+"/secret", admin), c404, "not_found"},
		{"id/endpoint rotate", post(eps+"/"+unknownEp+"/secret/rotate", admin, `{}`), c404, "not_found"},
		{"id/endpoint replay", post(eps+"/"+unknownEp+"/replay", admin, `{}`), c404, "not_found"},
		{"id/endpoint of another app", get("/v1/apps/other/endpoints/"+f.ep1, admin), c404, "not_found"},
		{"id/endpoint of another app delete", del("/v1/apps/other/endpoints/"+f.ep1, admin), c404, "not_found"},
		{"id/message", get(msgs+"/"+unknownMsg, admin), c404, "not_found"},
		{"id/message of another app", get(msgs+"/"+f.msgB, admin), c404, "not_found"},
		{"id/delivery", get(dlvs+"/"+unknownDlv, admin), c404, "not_found"},
		{"id/delivery retry", post(dlvs+"/"+unknownDlv+"/retry", admin, nil), c404, "not_found"},
		{"id/delivery attempts", get(dlvs+"/"+unknownDlv+"/attempts", admin), c404, "not_found"},
		{"id/delivery of another app", post(dlvs+"/"+f.dlvB+"/retry", admin, nil), c404, "not_found"},
		{"id/api key", del(appA+"/api-keys/"+unknownKey, admin), c404, "not_found"},
		{"id/api key of another app", del("/v1/apps/other/api-keys/"+f.keyAID, admin), c404, "not_found"},
		{"id/admin key", del("/v1/api-keys/"+unknownKey, admin), c404, "not_found"},
		{"id/app key as admin key", del("/v1/api-keys/"+f.keyAID, admin), c404, "not_found"},

		// API keys.
		{"auth/missing", get(apps, ""), c401, "unauthorized"},
		{"auth/missing on publish", post(msgs, "", msg(``)), c401, "unauthorized"},
		{"auth/basic", auth(get(apps, ""), "Basic YWRtaW46YWRtaW4="), c401, "unauthorized"},
		{"auth/no scheme", auth(get(apps, ""), admin), c401, "unauthorized"},
		{"auth/malformed key", get(apps, "hk_short"), c401, "unauthorized"},
		{"auth/bad characters", get(apps, "hk_"+strings.Repeat("*", 43)), c401, "unauthorized"},
		{"auth/unknown key", get(apps, "hk_"+strings.Repeat("A", 43)), c401, "unauthorized"},
		{"auth/unknown key publishing", post(msgs, "hk_"+strings.Repeat("B", 43), msg(``)), c401, "unauthorized"},
		{"auth/other app get", get(appA, keyB), c403, "forbidden"},
		{"auth/other app by uid", get("/v1/apps/acme", keyB), c403, "forbidden"},
		{"auth/other app patch", patch(appA, keyB, `{"name":"pwned"}`), c403, "forbidden"},
		{"auth/other app publish", post(msgs, keyB, msg(``)), c403, "forbidden"},
		{"auth/other app endpoint", post(eps, keyB, ep(``)), c403, "forbidden"},
		{"auth/other app endpoint delete", del(ep1, keyB), c403, "forbidden"},
		{"auth/other app secret", get(ep1+"/secret", keyB), c403, "forbidden"},
		{"auth/other app deliveries", get(dlvs, keyB), c403, "forbidden"},
		{"auth/other app retry", post(dlvs+"/"+f.dlvDone+"/retry", keyB, nil), c403, "forbidden"},
		{"auth/other app keys", post(appA+"/api-keys", keyB, `{}`), c403, "forbidden"},
		{"auth/other app key delete", del(appA+"/api-keys/"+f.keyAID, keyB), c403, "forbidden"},
		{"auth/unknown app with app key", get("/v1/apps/"+unknownApp, keyB), c403, "forbidden"},
		{"auth/app key creates app", post(apps, keyA, `{"name":"x"}`), c403, "forbidden"},
		{"auth/app key lists apps", get(apps, keyA), c403, "forbidden"},
		{"auth/app key deletes own app", del(appA, keyA), c403, "forbidden"},
		{"auth/app key creates admin key", post("/v1/api-keys", keyA, `{}`), c403, "forbidden"},
		{"auth/app key lists admin keys", get("/v1/api-keys", keyA), c403, "forbidden"},
		{"auth/app key deletes admin key", del("/v1/api-keys/"+unknownKey, keyA), c403, "forbidden"},

		// Content types.
		{"media/text", withType(post(apps, admin, `{"name":"x"}`), "text/plain"), c415, "unsupported_media_type"},
		{"media/form", withType(post(msgs, admin, msg(``)), "application/x-www-form-urlencoded"), c415, "unsupported_media_type"},
		{"media/jsonx", withType(patch(ep1, admin, `{"description":"x"}`), "application/jsonx"), c415, "unsupported_media_type"},
		{"media/garbage", withType(post(eps, admin, ep(``)), "//"), c415, "unsupported_media_type"},

		// Query parameters.
		{"query/limit 0", get(apps+"?limit=0", admin), c400, "invalid_query"},
		{"query/limit 1001", get(eps+"?limit=1001", admin), c400, "invalid_query"},
		{"query/limit word", get(msgs+"?limit=ten", admin), c400, "invalid_query"},
		{"query/limit twice", get(msgs+"?limit=1&limit=2", admin), c400, "invalid_query"},
		{"query/cursor", get(apps+"?cursor=garbage", admin), c400, "invalid_query"},
		{"query/cursor of another list", get(msgs+"?cursor="+f.ep1, admin), c400, "invalid_query"},
		{"query/since", get(msgs+"?since=yesterday", admin), c400, "invalid_query"},
		{"query/until", get(dlvs+"?until=2026-13-01T00:00:00Z", admin), c400, "invalid_query"},
		{"query/until before since", get(msgs+"?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", admin), c400, "invalid_query"},
		{"query/status", get(dlvs+"?status=done", admin), c400, "invalid_query"},
		{"query/endpoint_id", get(dlvs+"?endpoint_id=xyz", admin), c400, "invalid_query"},
		{"query/message_id", get(dlvs+"?message_id="+f.ep1, admin), c400, "invalid_query"},
		{"query/delivery_id", get(appA+"/attempts?delivery_id=bad", admin), c400, "invalid_query"},
		{"query/type", get(msgs+"?type=bad%20type", admin), c400, "invalid_query"},
		{"query/attempts limit", get(dlvs+"/"+f.dlvDone+"/attempts?limit=-1", admin), c400, "invalid_query"},
		{"query/keys cursor", get("/v1/api-keys?cursor=app_01JD3XK5M2Q8W0RZ7C4T6YB9HN", admin), c400, "invalid_query"},

		// Routes and methods.
		{"route/unknown", get("/v1/nope", admin), c404, "not_found"},
		{"route/unknown below endpoint", get(ep1+"/nope", admin), c404, "not_found"},
		{"route/trailing slash", get(apps+"/", admin), c404, "not_found"},
		{"route/outside v1", get("/v2/apps", admin), c404, "not_found"},
		{"route/method on list", del(apps, admin), c405, "method_not_allowed"},
		{"route/put app", req{method: "PUT", path: appA, key: admin, body: `{"name":"x"}`}, c405, "method_not_allowed"},
		{"route/get retry", get(dlvs+"/"+f.dlvDone+"/retry", admin), c405, "method_not_allowed"},
		{"route/post openapi", post("/openapi.yaml", "", nil), c405, "method_not_allowed"},
	}
}

func TestBadInput(t *testing.T) {
	f := newFixture(t)
	cases := badCases(f)
	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, f.store)
			wakes, changed := f.engine.counts()
			resp := f.do(tc.req)
			if resp.status != tc.status || resp.code() != tc.code {
				t.Fatalf("%s %s: got %d %q, want %d %q: %.300s", tc.req.method, tc.req.path, resp.status, resp.code(), tc.status, tc.code, resp.body)
			}
			if ct := resp.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			body := resp.obj(t)
			if e, ok := body["error"].(map[string]any); !ok || e["message"] == "" || len(body) != 1 {
				t.Errorf("error answer %s is not {\"error\": {\"code\", \"message\"}}", resp.body)
			}
			if after := snapshot(t, f.store); after != before {
				t.Errorf("the store changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			if w, c := f.engine.counts(); w != wakes || c != changed {
				t.Errorf("engine notified: %d wakes, %d endpoint changes", w-wakes, c-changed)
			}
		})
	}
	t.Logf("%d bad-input cases", len(cases))
}

// TestBadInputMessages checks that error messages name what is wrong.
func TestBadInputMessages(t *testing.T) {
	f := newFixture(t)
	eps := "/v1/apps/acme/endpoints"
	tests := []struct {
		r    req
		want string
	}{
		{req{method: "POST", path: "/v1/apps", key: f.admin, body: `{"name":"x","nmae":"y"}`}, `"nmae"`},
		{req{method: "POST", path: "/v1/apps", key: f.admin, body: `{"name":5}`}, `field "name" must be a string; found a number`},
		{req{method: "POST", path: "/v1/apps", key: f.admin, body: `{"name":"x","metadata":{"k":true}}`}, `field "metadata" must be an object of strings; found a boolean`},
		{req{method: "POST", path: eps, key: f.admin, body: `{"url":"https://example.com","max_concurrency":1.5}`}, `field "max_concurrency" must be an integer; found a number (1.5)`},
		{req{method: "POST", path: eps, key: f.admin, body: `{"url":"https://example.com","event_types":"x"}`}, `field "event_types" must be an array of strings; found a string`},
		{req{method: "POST", path: eps, key: f.admin, body: `{"url":"https://example.com","timeout_ms":5}`}, "timeout_ms must be 0"},
		{req{method: "POST", path: eps, key: f.admin, body: `{"url":"http://10.0.0.1/"}`}, "10.0.0.1"},
		{req{method: "POST", path: eps, key: f.admin, body: `{"url":"ftp://example.com/"}`}, "url is not acceptable"},
		{req{method: "POST", path: eps, key: f.admin, body: `{"url":"https://example.com","headers":{"Host":"x"}}`}, "headers.Host is reserved"},
		{req{method: "POST", path: "/v1/apps/acme/messages", key: f.admin, body: `{"type":"a","payload":[]}`}, "payload must be a JSON object"},
		{req{method: "GET", path: "/v1/apps?limit=0", key: f.admin}, "limit"},
		{req{method: "POST", path: "/v1/apps", key: f.admin, body: `{"name":`}, "invalid JSON"},
		{req{method: "POST", path: eps, key: f.admin, body: `{"url":"https://example.com","event_types":["a",2]}`}, `field "event_types" must be an array of strings; found a number`},
		{req{method: "POST", path: eps, key: f.admin, body: `{"url":"https://example.com","fifo":null}`}, `field "fifo" must be a boolean; found null`},
		{req{method: "POST", path: "/v1/apps", key: f.admin, body: `[1]`}, "the request body must be a JSON object, not an array"},
	}
	for _, tc := range tests {
		resp := f.do(tc.r)
		var e errorBody
		if err := json.Unmarshal(resp.body, &e); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(e.Error.Message, tc.want) {
			t.Errorf("%s %s %v: message %q does not contain %q", tc.r.method, tc.r.path, tc.r.body, e.Error.Message, tc.want)
		}
	}
}

// TestInternalErrors checks that a failure of the engine or the store is answered as
// 500 internal, logged and with nothing of it in the answer, and a closed store as 503.
func TestInternalErrors(t *testing.T) {
	var logs bytes.Buffer
	f := newFixture(t, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	publish := req{method: "POST", path: "/v1/apps/acme/messages", key: f.keyA, body: `{"type":"a","payload":{}}`}

	f.engine.publishErr = fmt.Errorf("publish: %w", store.ErrClosed)
	if resp := f.do(publish); resp.status != 503 || resp.code() != "unavailable" {
		t.Errorf("publish while shutting down: %d %s, want 503 unavailable", resp.status, resp.body)
	}
	f.engine.publishErr = errors.New("disk on fire at /var/lib/herald")
	resp := f.do(publish)
	if resp.status != 500 || resp.code() != "internal" {
		t.Errorf("publish failing: %d %s, want 500 internal", resp.status, resp.body)
	}
	if strings.Contains(string(resp.body), "disk") {
		t.Errorf("the answer leaks the error: %s", resp.body)
	}
	if !strings.Contains(logs.String(), "disk on fire") {
		t.Errorf("the error was not logged: %s", logs.String())
	}
	f.engine.publishErr = nil

	f.store.Close()
	resp = f.do(req{method: "GET", path: "/v1/apps", key: f.admin})
	if resp.status != 500 || resp.code() != "internal" {
		t.Errorf("list apps on a closed store: %d %s, want 500 internal", resp.status, resp.body)
	}
	if strings.Contains(string(resp.body), "sql") {
		t.Errorf("the answer leaks the error: %s", resp.body)
	}
	if strings.Contains(logs.String(), f.admin) || strings.Contains(logs.String(), f.keyA) {
		t.Error("an API key was logged")
	}
}
