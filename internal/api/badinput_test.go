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
	secretEdPublic := "whpk_" + strings.Repeat("A", 43) + "=" // whsk_ keys sign (v1a); public keys cannot
	big := strings.Repeat("x", 1<<20)
	bigPayload := `{"type":"a.b","payload":{"x":"` + strings.Repeat("x", 256<<10) + `"}}`
	hugeMessage := `{"type":"a.b","payload":{"x":"` + strings.Repeat("x", 400<<10) + `"}}`
	batch := msgs + "/batch"
	one := msg(``)
	items := func(ms ...string) string { return `{"messages":[` + strings.Join(ms, ",") + `]}` }
	tooMany := make([]string, maxBatch+1)
	for i := range tooMany {
		tooMany[i] = one
	}
	hugeBatch := items(`{"type":"a.b","payload":{"x":"` + strings.Repeat("x", 16<<20) + `"}}`)

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
	cases := []badCase{
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
		{"malformed/batch", post(batch, admin, `{"messages":[`+one), c400, "malformed_json"},
		{"malformed/batch empty", post(batch, admin, ``), c400, "malformed_json"},
		{"malformed/batch message", post(batch, admin, `{"messages":[{"type":"a.b","payload":{}]}`), c400, "malformed_json"},
		{"malformed/batch trailing data", post(batch, admin, items(one)+items(one)), c400, "malformed_json"},

		// Unknown fields.
		{"unknown/app typo", post(apps, admin, `{"name":"x","nmae":"y"}`), c400, "unknown_field"},
		{"unknown/app id", patch(appA, admin, `{"id":"app_x"}`), c400, "unknown_field"},
		{"unknown/endpoint read-only field", post(eps, admin, ep(`,"disabled_reason":"x"`)), c400, "unknown_field"},
		{"unknown/endpoint patch", patch(ep1, admin, `{"secrets":[]}`), c400, "unknown_field"},
		{"unknown/message", post(msgs, admin, msg(`,"extra":1`)), c400, "unknown_field"},
		{"unknown/message data", post(msgs, admin, `{"type":"a","data":{}}`), c400, "unknown_field"},
		{"unknown/api key", post(appA+"/api-keys", admin, `{"name":"x","app_id":"app_x"}`), c400, "unknown_field"},
		{"unknown/admin key", post("/v1/api-keys", admin, `{"admin":true}`), c400, "unknown_field"},
		{"unknown/batch", post(batch, admin, `{"messages":[`+one+`],"extra":1}`), c400, "unknown_field"},
		{"unknown/batch message", post(batch, admin, items(one, msg(`,"extra":1`))), c400, "unknown_field"},
		{"unknown/batch single message body", post(batch, admin, one), c400, "unknown_field"},
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
		{"type/batch messages object", post(batch, admin, `{"messages":`+one+`}`), c400, "wrong_type"},
		{"type/batch messages string", post(batch, admin, `{"messages":"[]"}`), c400, "wrong_type"},
		{"type/batch body array", post(batch, admin, `[`+one+`]`), c400, "wrong_type"},
		{"type/batch message number", post(batch, admin, items(one, `1`)), c400, "wrong_type"},
		{"type/batch message type", post(batch, admin, items(one, `{"type":1,"payload":{}}`)), c400, "wrong_type"},
		{"type/batch idempotency_key", post(batch, admin, items(msg(`,"idempotency_key":7`))), c400, "wrong_type"},
		{"type/batch idempotency_key null", post(batch, admin, items(one, msg(`,"idempotency_key":null`))), c400, "wrong_type"},
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
		{"value/secret ed25519 public key", post(eps, admin, ep(`,"secret":"`+secretEdPublic+`"`)), c400, "invalid_field"},
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
		{"value/batch payload string", post(batch, admin, items(one, `{"type":"a.b","payload":"{}"}`)), c400, "invalid_field"},
		{"value/batch payload array", post(batch, admin, items(`{"type":"a.b","payload":[1]}`)), c400, "invalid_field"},
		{"value/batch payload null", post(batch, admin, items(one, `{"type":"a.b","payload":null}`)), c400, "invalid_field"},
		{"value/batch payload missing", post(batch, admin, items(one, `{"type":"a.b"}`)), c400, "invalid_field"},
		{"value/batch type missing", post(batch, admin, items(`{"payload":{}}`, one)), c400, "invalid_field"},
		{"value/batch empty", post(batch, admin, `{"messages":[]}`), c400, "invalid_field"},
		{"value/batch without messages", post(batch, admin, `{}`), c400, "invalid_field"},
		{"value/batch 1001 messages", post(batch, admin, items(tooMany...)), c400, "invalid_field"},
		{"value/batch invalid message in the middle", post(batch, keyA, items(one, msg(`,"idempotency_key":"new-1"`), `{"type":"a b","payload":{}}`, one, one)), c400, "invalid_field"},
		{"value/batch invalid message last", post(batch, keyA, items(one, one, msg(`,"idempotency_key":""`))), c400, "invalid_field"},
		{"value/batch idempotency key long", post(batch, admin, items(one, msg(`,"idempotency_key":"`+strings.Repeat("i", 256)+`"`))), c400, "invalid_field"},
		{"value/batch with an Idempotency-Key header", req{method: "POST", path: batch, key: admin, body: items(one), header: map[string]string{"Idempotency-Key": "k"}}, c400, "invalid_field"},
		{"value/batch idempotency key empty", post(batch, admin, items(msg(`,"idempotency_key":""`))), c400, "invalid_field"},
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
		{"size/batch payload over 256 KiB", post(batch, keyA, items(one, msg(`,"idempotency_key":"new-2"`), bigPayload, one)), c413, "payload_too_large"},
		{"size/batch body over 16 MiB", post(batch, admin, hugeBatch), c413, "payload_too_large"},

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
		{"id/app batch publish", post("/v1/apps/"+unknownApp+"/messages/batch", admin, items(one, one)), c404, "not_found"},
		{"id/app batch publish by uid", post("/v1/apps/nope/messages/batch", admin, items(one)), c404, "not_found"},
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
		{"auth/missing on batch publish", post(batch, "", items(one)), c401, "unauthorized"},
		{"auth/unknown key batch publishing", post(batch, "hk_"+strings.Repeat("D", 43), items(one)), c401, "unauthorized"},
		{"auth/other app batch publish", post(batch, keyB, items(one)), c403, "forbidden"},
		{"auth/other app batch publish by uid", post("/v1/apps/acme/messages/batch", keyB, items(one)), c403, "forbidden"},
		{"auth/unknown app batch publish with app key", post("/v1/apps/"+unknownApp+"/messages/batch", keyB, items(one)), c403, "forbidden"},
		{"auth/own key for another app's batch", post("/v1/apps/other/messages/batch", keyA, items(one)), c403, "forbidden"},
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
		{"media/batch text", withType(post(batch, admin, items(one)), "text/plain"), c415, "unsupported_media_type"},

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
		{"route/delete batch", del(batch, admin), c405, "method_not_allowed"},
		{"route/put batch", req{method: "PUT", path: batch, key: admin, body: items(one)}, c405, "method_not_allowed"},
	}
	return append(cases, sourceBadCases(f)...)
}

// sourceBadCases is the bad-input table of the receiving gateway's routes: sources,
// their rejections, messages by source, and GET /v1/listen (as plain requests, which
// must fail before any handshake).
func sourceBadCases(f *fixture) []badCase {
	admin, keyA, keyB := f.admin, f.keyA, f.keyB
	appA := "/v1/apps/" + f.appA
	srcs := appA + "/sources"
	src1 := srcs + "/" + f.src
	unknownApp := "app_01JD3XK5M2Q8W0RZ7C4T6YB9HN"
	unknownSrc := "src_01JD3XK5M2Q8W0RZ7C4T6YB9HN"
	src := func(extra string) string { return `{"provider":"openai","secret":"s3cret"` + extra + `}` }
	hmacSrc := func(hmac string) string { return `{"provider":"hmac","secret":"s3cret","hmac":` + hmac + `}` }
	nine := `["1","2","3","4","5","6","7","8","9"]`
	listen := "/v1/listen?"

	post := func(path, key string, body any) req { return req{method: "POST", path: path, key: key, body: body} }
	patch := func(path, key string, body any) req { return req{method: "PATCH", path: path, key: key, body: body} }
	get := func(path, key string) req { return req{method: "GET", path: path, key: key} }
	del := func(path, key string) req { return req{method: "DELETE", path: path, key: key} }
	withType := func(r req, ct string) req { r.header = map[string]string{"Content-Type": ct}; return r }
	// A plain GET that says it is a WebSocket handshake, without the rest of one.
	upgrade := func(r req, extra map[string]string) req {
		r.header = map[string]string{"Connection": "Upgrade", "Upgrade": "websocket"}
		for k, v := range extra {
			r.header[k] = v
		}
		return r
	}

	return []badCase{
		// Malformed JSON.
		{"source/malformed", post(srcs, admin, `{"provider":`), 400, "malformed_json"},
		{"source/malformed empty", post(srcs, admin, ``), 400, "malformed_json"},
		{"source/malformed patch", patch(src1, admin, `{"name":"x",}`), 400, "malformed_json"},
		{"source/malformed patch empty", patch(src1, admin, ``), 400, "malformed_json"},

		// Unknown fields.
		{"source/unknown field", post(srcs, admin, src(`,"secretz":"x"`)), 400, "unknown_field"},
		{"source/unknown read-only id", post(srcs, admin, src(`,"id":"src_x"`)), 400, "unknown_field"},
		{"source/unknown read-only ingest_path", post(srcs, admin, src(`,"ingest_path":"/in/x"`)), 400, "unknown_field"},
		{"source/unknown dedupe_window", post(srcs, admin, src(`,"dedupe_window":60`)), 400, "unknown_field"},
		{"source/unknown app_id on patch", patch(src1, admin, `{"app_id":"`+f.appB+`"}`), 400, "unknown_field"},
		{"source/unknown hmac field", post(srcs, admin, hmacSrc(`{"header":"X-Sig","timestamp_heder":"X-Ts"}`)), 400, "unknown_field"},
		{"source/unknown hmac secret", post(srcs, admin, hmacSrc(`{"header":"X-Sig","secret":"x"}`)), 400, "unknown_field"},
		{"source/unknown hmac name", patch(src1, admin, `{"provider":"hmac","hmac":{"header":"X-Sig","name":"x"}}`), 400, "unknown_field"},

		// Wrong types.
		{"source/type provider", post(srcs, admin, `{"provider":7,"secret":"s"}`), 400, "wrong_type"},
		{"source/type provider null", post(srcs, admin, `{"provider":null,"secret":"s"}`), 400, "wrong_type"},
		{"source/type name", post(srcs, admin, src(`,"name":["x"]`)), 400, "wrong_type"},
		{"source/type secret", post(srcs, admin, `{"provider":"openai","secret":123}`), 400, "wrong_type"},
		{"source/type secret null", post(srcs, admin, `{"provider":"openai","secret":null}`), 400, "wrong_type"},
		{"source/type secrets string", post(srcs, admin, `{"provider":"openai","secrets":"s"}`), 400, "wrong_type"},
		{"source/type secrets numbers", post(srcs, admin, `{"provider":"openai","secrets":[1,2]}`), 400, "wrong_type"},
		{"source/type secrets null", patch(src1, admin, `{"secrets":null}`), 400, "wrong_type"},
		{"source/type hmac string", post(srcs, admin, hmacSrc(`"X-Sig"`)), 400, "wrong_type"},
		{"source/type hmac null", post(srcs, admin, hmacSrc(`null`)), 400, "wrong_type"},
		{"source/type hmac header", post(srcs, admin, hmacSrc(`{"header":5}`)), 400, "wrong_type"},
		{"source/type max_body_bytes string", post(srcs, admin, src(`,"max_body_bytes":"1024"`)), 400, "wrong_type"},
		{"source/type max_body_bytes fraction", post(srcs, admin, src(`,"max_body_bytes":1.5`)), 400, "wrong_type"},
		{"source/type dedupe_window_seconds bool", patch(src1, admin, `{"dedupe_window_seconds":true}`), 400, "wrong_type"},
		{"source/type body array", post(srcs, admin, `[]`), 400, "wrong_type"},

		// Unacceptable values.
		{"source/provider missing", post(srcs, admin, `{"secret":"s"}`), 400, "invalid_field"},
		{"source/provider empty", post(srcs, admin, `{"provider":"","secret":"s"}`), 400, "invalid_field"},
		{"source/provider unknown", post(srcs, admin, `{"provider":"paypal","secret":"s"}`), 400, "invalid_field"},
		{"source/provider unknown on patch", patch(src1, admin, `{"provider":"openai2"}`), 400, "invalid_field"},
		{"source/secret missing", post(srcs, admin, `{"provider":"openai"}`), 400, "invalid_field"},
		{"source/secret missing with a name", post(srcs, admin, `{"provider":"stripe","name":"x"}`), 400, "invalid_field"},
		{"source/secret empty", post(srcs, admin, `{"provider":"openai","secret":""}`), 400, "invalid_field"},
		{"source/secret long", post(srcs, admin, `{"provider":"openai","secret":"`+strings.Repeat("s", 1025)+`"}`), 400, "invalid_field"},
		{"source/secret and secrets", post(srcs, admin, `{"provider":"openai","secret":"a","secrets":["b"]}`), 400, "invalid_field"},
		{"source/secret and secrets on patch", patch(src1, admin, `{"secret":"a","secrets":["a"]}`), 400, "invalid_field"},
		{"source/secrets empty", post(srcs, admin, `{"provider":"openai","secrets":[]}`), 400, "invalid_field"},
		{"source/secrets empty on patch", patch(src1, admin, `{"secrets":[]}`), 400, "invalid_field"},
		{"source/secret empty on patch", patch(src1, admin, `{"secret":""}`), 400, "invalid_field"},
		{"source/secrets too many", post(srcs, admin, `{"provider":"github","secrets":`+nine+`}`), 400, "invalid_field"},
		{"source/secrets too many on patch", patch(src1, admin, `{"secrets":`+nine+`}`), 400, "invalid_field"},
		{"source/secrets with an empty one", post(srcs, admin, `{"provider":"github","secrets":["a",""]}`), 400, "invalid_field"},
		{"source/secret not for standard", post(srcs, admin, `{"provider":"standard","secret":"not base64!"}`), 400, "invalid_field"},
		{"source/secret short for svix", post(srcs, admin, `{"provider":"svix","secret":"whsec_c2hvcnQ="}`), 400, "invalid_field"},
		{"source/secret not for standard on patch", patch(src1, admin, `{"provider":"standard","secret":"whsec_***"}`), 400, "invalid_field"},
		{"source/hmac on openai", post(srcs, admin, src(`,"hmac":{"header":"X-Sig"}`)), 400, "invalid_field"},
		{"source/hmac on openai on patch", patch(src1, admin, `{"hmac":{"header":"X-Sig"}}`), 400, "invalid_field"},
		{"source/hmac without config", post(srcs, admin, `{"provider":"hmac","secret":"s"}`), 400, "invalid_field"},
		{"source/hmac without config on patch", patch(src1, admin, `{"provider":"hmac"}`), 400, "invalid_field"},
		{"source/hmac empty config", post(srcs, admin, hmacSrc(`{}`)), 400, "invalid_field"},
		{"source/hmac empty header", post(srcs, admin, hmacSrc(`{"header":""}`)), 400, "invalid_field"},
		{"source/hmac bad header name", post(srcs, admin, hmacSrc(`{"header":"X Sig"}`)), 400, "invalid_field"},
		{"source/hmac bad encoding", post(srcs, admin, hmacSrc(`{"header":"X-Sig","encoding":"base32"}`)), 400, "invalid_field"},
		{"source/hmac bad algorithm", post(srcs, admin, hmacSrc(`{"header":"X-Sig","algorithm":"md5"}`)), 400, "invalid_field"},
		{"source/hmac template without body", post(srcs, admin, hmacSrc(`{"header":"X-Sig","template":"{timestamp}"}`)), 400, "invalid_field"},
		{"source/hmac template placeholder", post(srcs, admin, hmacSrc(`{"header":"X-Sig","template":"{nonce}.{body}"}`)), 400, "invalid_field"},
		{"source/hmac timestamp without header", post(srcs, admin, hmacSrc(`{"header":"X-Sig","template":"{timestamp}.{body}"}`)), 400, "invalid_field"},
		{"source/hmac unsigned timestamp", post(srcs, admin, hmacSrc(`{"header":"X-Sig","timestamp_header":"X-Ts"}`)), 400, "invalid_field"},
		{"source/hmac id without header", post(srcs, admin, hmacSrc(`{"header":"X-Sig","template":"{id}.{body}"}`)), 400, "invalid_field"},
		{"source/hmac same headers", post(srcs, admin, hmacSrc(`{"header":"X-Sig","template":"{id}{body}","id_header":"x-sig"}`)), 400, "invalid_field"},
		{"source/max_body_bytes negative", post(srcs, admin, src(`,"max_body_bytes":-1`)), 400, "invalid_field"},
		{"source/max_body_bytes over 16 MiB", post(srcs, admin, src(`,"max_body_bytes":16777217`)), 400, "invalid_field"},
		{"source/max_body_bytes over 16 MiB on patch", patch(src1, admin, `{"max_body_bytes":1099511627776}`), 400, "invalid_field"},
		{"source/dedupe_window_seconds negative", post(srcs, admin, src(`,"dedupe_window_seconds":-60`)), 400, "invalid_field"},
		{"source/dedupe_window_seconds over 30 days", patch(src1, admin, `{"dedupe_window_seconds":2592001}`), 400, "invalid_field"},
		{"source/dedupe_window_seconds overflowing", post(srcs, admin, src(`,"dedupe_window_seconds":9223372036854775807`)), 400, "invalid_field"},
		{"source/dedupe_window_seconds wrapping around", post(srcs, admin, src(`,"dedupe_window_seconds":18446744074`)), 400, "invalid_field"},
		{"source/name long", post(srcs, admin, src(`,"name":"`+strings.Repeat("n", 257)+`"`)), 400, "invalid_field"},
		{"source/body over 1 MiB", post(srcs, admin, src(`,"name":"`+strings.Repeat("x", 1<<20)+`"`)), 413, "payload_too_large"},
		{"source/media text", withType(post(srcs, admin, src(``)), "text/plain"), 415, "unsupported_media_type"},
		{"source/media form on patch", withType(patch(src1, admin, `{"name":"x"}`), "application/x-www-form-urlencoded"), 415, "unsupported_media_type"},

		// Unknown ids.
		{"source/id", get(srcs+"/"+unknownSrc, admin), 404, "not_found"},
		{"source/id garbage", get(srcs+"/xyz", admin), 404, "not_found"},
		{"source/id patch", patch(srcs+"/"+unknownSrc, admin, `{"name":"x"}`), 404, "not_found"},
		{"source/id delete", del(srcs+"/"+unknownSrc, admin), 404, "not_found"},
		{"source/id secrets", get(srcs+"/"+unknownSrc+"/secrets", admin), 404, "not_found"},
		{"source/id rejections", get(srcs+"/"+unknownSrc+"/rejections", admin), 404, "not_found"},
		{"source/id by id", get("/v1/sources/"+unknownSrc, admin), 404, "not_found"},
		{"source/id by id with an app key", get("/v1/sources/"+unknownSrc, keyA), 404, "not_found"},
		{"source/id of another app", get("/v1/apps/other/sources/"+f.src, admin), 404, "not_found"},
		{"source/id of another app patch", patch("/v1/apps/other/sources/"+f.src, admin, `{"name":"x"}`), 404, "not_found"},
		{"source/id of another app delete", del("/v1/apps/other/sources/"+f.src, admin), 404, "not_found"},
		{"source/id of another app secrets", get("/v1/apps/other/sources/"+f.src+"/secrets", admin), 404, "not_found"},
		{"source/id of another app rejections", get("/v1/apps/other/sources/"+f.src+"/rejections", admin), 404, "not_found"},
		{"source/app unknown", post("/v1/apps/"+unknownApp+"/sources", admin, src(``)), 404, "not_found"},
		{"source/app unknown uid", post("/v1/apps/nope/sources", admin, src(``)), 404, "not_found"},
		{"source/app unknown list", get("/v1/apps/nope/sources", admin), 404, "not_found"},

		// API keys.
		{"source/auth missing", get(srcs, ""), 401, "unauthorized"},
		{"source/auth missing by id", get("/v1/sources/"+f.src, ""), 401, "unauthorized"},
		{"source/auth unknown key", post(srcs, "hk_"+strings.Repeat("C", 43), src(``)), 401, "unauthorized"},
		{"source/auth other app create", post(srcs, keyB, src(``)), 403, "forbidden"},
		{"source/auth other app create by uid", post("/v1/apps/acme/sources", keyB, src(``)), 403, "forbidden"},
		{"source/auth other app list", get(srcs, keyB), 403, "forbidden"},
		{"source/auth other app get", get(src1, keyB), 403, "forbidden"},
		{"source/auth other app patch", patch(src1, keyB, `{"name":"pwned"}`), 403, "forbidden"},
		{"source/auth other app delete", del(src1, keyB), 403, "forbidden"},
		{"source/auth other app secrets", get(src1+"/secrets", keyB), 403, "forbidden"},
		{"source/auth other app rejections", get(src1+"/rejections", keyB), 403, "forbidden"},
		{"source/auth other app by id", get("/v1/sources/"+f.src, keyB), 404, "not_found"},
		{"source/auth own source through another app", get("/v1/apps/other/sources/"+f.srcB, keyA), 403, "forbidden"},

		// Query parameters.
		{"source/query limit 0", get(srcs+"?limit=0", admin), 400, "invalid_query"},
		{"source/query cursor", get(srcs+"?cursor=garbage", admin), 400, "invalid_query"},
		{"source/query cursor of another list", get(srcs+"?cursor="+f.ep1, admin), 400, "invalid_query"},
		{"source/query rejections cursor", get(src1+"/rejections?cursor="+f.src, admin), 400, "invalid_query"},
		{"source/query rejections limit", get(src1+"/rejections?limit=1001", admin), 400, "invalid_query"},
		{"source/query messages source_id", get(appA+"/messages?source_id=openai", admin), 400, "invalid_query"},
		{"source/query messages source_id of another kind", get(appA+"/messages?source_id="+f.ep1, admin), 400, "invalid_query"},
		{"source/query messages source_id twice", get(appA+"/messages?source_id="+f.src+"&source_id="+f.src, admin), 400, "invalid_query"},

		// Routes and methods.
		{"source/route put", req{method: "PUT", path: src1, key: admin, body: src(``)}, 405, "method_not_allowed"},
		{"source/route post to a source", post(src1, admin, src(``)), 405, "method_not_allowed"},
		{"source/route delete list", del(srcs, admin), 405, "method_not_allowed"},
		{"source/route patch secrets", patch(src1+"/secrets", admin, `{"secrets":["x"]}`), 405, "method_not_allowed"},
		{"source/route delete by id", del("/v1/sources/"+f.src, admin), 405, "method_not_allowed"},
		{"source/route list by id", get("/v1/sources", admin), 404, "not_found"},
		{"source/route unknown below source", get(src1+"/nope", admin), 404, "not_found"},

		// GET /v1/listen, refused before the WebSocket handshake.
		{"listen/no app or source", get(listen+"name=dev", admin), 400, "invalid_query"},
		{"listen/no query", get("/v1/listen", keyA), 400, "invalid_query"},
		{"listen/empty app", get(listen+"app=", admin), 400, "invalid_query"},
		{"listen/name with a space", get(listen+"app=acme&name=my%20laptop", admin), 400, "invalid_query"},
		{"listen/name with a slash", get(listen+"app=acme&name=a/b", admin), 400, "invalid_query"},
		{"listen/name long", get(listen+"app=acme&name="+strings.Repeat("n", 65), admin), 400, "invalid_query"},
		{"listen/name twice", get(listen+"app=acme&name=a&name=b", admin), 400, "invalid_query"},
		{"listen/app twice", get(listen+"app=acme&app=other", admin), 400, "invalid_query"},
		{"listen/events bad type", get(listen+"app=acme&events=bad%20type", admin), 400, "invalid_query"},
		{"listen/events empty entry", get(listen+"app=acme&events=a.b,,c.d", admin), 400, "invalid_query"},
		{"listen/events bad wildcard", get(listen+"app=acme&events=response*", admin), 400, "invalid_query"},
		{"listen/unknown app", get(listen+"app=nope", admin), 404, "not_found"},
		{"listen/unknown app id", get(listen+"app="+unknownApp, admin), 404, "not_found"},
		{"listen/unknown source", get(listen+"source="+unknownSrc, admin), 404, "not_found"},
		{"listen/unknown source garbage", get(listen+"source=stripe", keyA), 404, "not_found"},
		{"listen/source of another app", get(listen+"app=other&source="+f.src, admin), 400, "invalid_query"},
		{"listen/source of another app by id", get(listen+"app="+f.appB+"&source="+f.src, admin), 400, "invalid_query"},
		{"listen/other app's source with its key", get(listen+"app=other&source="+f.src, keyB), 400, "invalid_query"},
		{"listen/auth missing", get(listen+"app=acme", ""), 401, "unauthorized"},
		{"listen/auth other app", get(listen+"app=acme", keyB), 403, "forbidden"},
		{"listen/auth other app by id", get(listen+"app="+f.appA, keyB), 403, "forbidden"},
		{"listen/auth other app's source", get(listen+"source="+f.src, keyB), 403, "forbidden"},
		{"listen/auth unknown app with an app key", get(listen+"app=nope", keyB), 403, "forbidden"},
		{"listen/not a websocket", get(listen+"app=acme&name=dev", admin), 426, "upgrade_required"},
		{"listen/not a websocket for a source", get(listen+"source="+f.src, keyA), 426, "upgrade_required"},
		{"listen/websocket without a key", upgrade(get(listen+"app=acme", admin), map[string]string{"Sec-WebSocket-Version": "13"}), 426, "upgrade_required"},
		{"listen/websocket of another version", upgrade(get(listen+"app=acme", admin), map[string]string{"Sec-WebSocket-Version": "8", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}), 426, "upgrade_required"},
		{"listen/route post", post("/v1/listen?app=acme", admin, nil), 405, "method_not_allowed"},
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
			wakes, changed := f.engine.Counts()
			srcChanged := f.engine.sourceChanges()
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
			if w, c := f.engine.Counts(); w != wakes || c != changed {
				t.Errorf("engine notified: %d wakes, %d endpoint changes", w-wakes, c-changed)
			}
			if n := f.engine.sourceChanges() - srcChanged; n != 0 {
				t.Errorf("%d source changes", n)
			}
		})
	}
	t.Logf("%d bad-input cases", len(cases))
}

// TestBadInputMessages checks that error messages name what is wrong.
func TestBadInputMessages(t *testing.T) {
	f := newFixture(t)
	eps := "/v1/apps/acme/endpoints"
	batch := "/v1/apps/acme/messages/batch"
	one := `{"type":"a.b","payload":{}}`
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
		{req{method: "POST", path: "/v1/apps/acme/sources", key: f.admin, body: `{"provider":"paypal","secret":"s"}`}, `provider must be one of openai, standard, svix, stripe, github, shopify, slack or hmac, not "paypal"`},
		{req{method: "POST", path: "/v1/apps/acme/sources", key: f.admin, body: `{"provider":"hmac","secret":"s","hmac":{"header":"X-Sig","encoding":"base32"}}`}, `hmac hmac: invalid configuration: encoding "base32"`},
		{req{method: "POST", path: "/v1/apps/acme/sources", key: f.admin, body: `{"provider":"hmac","secret":"s","hmac":{"header":"X-Sig","secret":"x"}}`}, `unknown field "secret"`},
		{req{method: "POST", path: "/v1/apps/acme/sources", key: f.admin, body: `{"provider":"openai","secret":"a","secrets":["b"]}`}, "give secret or secrets, not both"},
		{req{method: "POST", path: "/v1/apps/acme/sources", key: f.admin, body: `{"provider":"openai","secrets":[]}`}, "secrets must hold 1 to 8 secrets"},
		{req{method: "PATCH", path: "/v1/apps/acme/sources/" + f.src, key: f.admin, body: `{"dedupe_window_seconds":2592001}`}, "dedupe_window_seconds must be 0 (the default, 72 hours) to 2592000"},
		{req{method: "GET", path: "/v1/listen?app=acme&name=a%20b", key: f.admin}, "query parameter name must be 1 to 64"},
		{req{method: "GET", path: "/v1/listen?app=acme&events=a,,b", key: f.admin}, "query parameter events event_types[1]"},
		{req{method: "GET", path: "/v1/listen?app=other&source=" + f.src, key: f.admin}, "belongs to another app"},
		{req{method: "GET", path: "/v1/listen?app=acme", key: f.admin}, "is a WebSocket"},
		{req{method: "POST", path: batch, key: f.admin, body: `{"messages":[` + one + `,{"type":"a.b","payload":"{}"}]}`}, "messages[1].payload must be a JSON object"},
		{req{method: "POST", path: batch, key: f.admin, body: `{"messages":[` + one + `,` + one + `,{"type":"a b","payload":{}}]}`}, "messages[2].type"},
		{req{method: "POST", path: batch, key: f.admin, body: `{"messages":[` + one + `,{"type":"a.b"}]}`}, "messages[1].payload is required"},
		{req{method: "POST", path: batch, key: f.admin, body: `{"messages":[{"payload":{}}]}`}, "messages[0].type is required"},
		{req{method: "POST", path: batch, key: f.admin, body: `{"messages":[` + one + `,{"type":"a.b","payload":{"x":"` + strings.Repeat("x", 256<<10) + `"}}]}`}, "the messages[1].payload is 262152 bytes, more than the limit of 262144"},
		{req{method: "POST", path: batch, key: f.admin, body: `{"messages":[{"type":"a.b","payload":{},"idempotency_key":""}]}`}, "messages[0].idempotency_key must be 1 to 255 characters"},
		{req{method: "POST", path: batch, key: f.admin, body: `{"messages":[]}`}, "messages must hold 1 to 1000 messages, not 0"},
		{req{method: "POST", path: batch, key: f.admin, body: `{"messages":[` + strings.Repeat(one+`,`, 1000) + one + `]}`}, "messages must hold 1 to 1000 messages, not 1001"},
		{req{method: "POST", path: batch, key: f.admin, body: `{"messages":[` + one + `,{"type":"a.b","payload":{},"x":1}]}`}, `unknown field "x"`},
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

	f.engine.PublishErr = fmt.Errorf("publish: %w", store.ErrClosed)
	if resp := f.do(publish); resp.status != 503 || resp.code() != "unavailable" {
		t.Errorf("publish while shutting down: %d %s, want 503 unavailable", resp.status, resp.body)
	}
	f.engine.PublishErr = errors.New("disk on fire at /var/lib/herald")
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
	f.engine.PublishErr = nil

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
