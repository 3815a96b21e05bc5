package emulate_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/webhooks"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/emulate"
	"github.com/heraldhq/herald/internal/emulate/openai"
	"github.com/heraldhq/herald/webhook"
	whopenai "github.com/heraldhq/herald/webhook/openai"
)

// startBare starts the emulator with its herald and no endpoint, and returns it with
// an SDK client pointed at it that does not retry.
func startBare(t *testing.T, ocfg openai.Config) (*emulate.Stack, sdk.Client) {
	t.Helper()
	ocfg.Delay, ocfg.BatchDelay = 10*time.Millisecond, 30*time.Millisecond
	st, err := emulate.Start(context.Background(), emulate.Config{
		Addr: "127.0.0.1:0", HeraldAddr: "127.0.0.1:0", OpenAI: ocfg, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return st, sdk.NewClient(option.WithBaseURL(st.OpenAIURL), option.WithAPIKey("sk-emulated"), option.WithMaxRetries(0))
}

// verified checks a received webhook with the SDK's own verification and with
// herald's webhook/openai package, both with secret, and returns the SDK's event.
func verified(t *testing.T, req request, secret string) *webhooks.UnwrapWebhookEventUnion {
	t.Helper()
	c := sdk.NewClient(option.WithAPIKey("unused"), option.WithWebhookSecret(secret))
	ev, err := c.Webhooks.Unwrap(req.body, req.header)
	if err != nil {
		t.Fatalf("the SDK refused the webhook with %s: %v\n%s", secret, err, req.body)
	}
	v, err := webhook.NewOpenAI(secret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(req.body, req.header); err != nil {
		t.Fatalf("webhook.NewOpenAI refused the webhook: %v", err)
	}
	parsed, err := whopenai.ParseEvent(req.body)
	if err != nil || parsed.Type != ev.Type || parsed.ID != ev.ID || parsed.DataID() == "" {
		t.Fatalf("whopenai.ParseEvent: %+v, %v", parsed, err)
	}
	return ev
}

// refused checks that a webhook does not verify with secret.
func refused(t *testing.T, req request, secret string) {
	t.Helper()
	c := sdk.NewClient(option.WithAPIKey("unused"), option.WithWebhookSecret(secret))
	if _, err := c.Webhooks.Unwrap(req.body, req.header); err == nil {
		t.Fatalf("a webhook verified with the secret %s", secret)
	}
}

// TestWebhookEndpointsSDK drives /v1/webhook_endpoints with openai-go's
// client.Webhooks: an app registers its own endpoint, lists, reads and changes it,
// tests it with every event type of herald's catalogue, rotates its secret, gets
// the emulator's own events there, and deletes it.
func TestWebhookEndpointsSDK(t *testing.T) {
	ctx := context.Background()
	st, c := startBare(t, openai.Config{})
	hook, got := receiver(t)
	url := hook.URL + "/hooks/openai"

	before := time.Now().Add(-time.Second).Unix()
	ep, err := c.Webhooks.New(ctx, webhooks.WebhookNewParams{Name: "dev", URL: url, EventTypes: []string{"response.completed", "response.failed"}})
	if err != nil {
		t.Fatal(err)
	}
	secret := ep.SigningSecret
	if !strings.HasPrefix(ep.ID, "whe_") || ep.Object != "webhook_endpoint" || ep.Name != "dev" || ep.URL != url ||
		!slices.Equal(ep.EventTypes, []string{"response.completed", "response.failed"}) || !strings.HasPrefix(secret, "whsec_") ||
		ep.SigningSecretHint != "whsec_..."+secret[len(secret)-4:] || ep.CreatedAt < before || ep.UpdatedAt < ep.CreatedAt {
		t.Fatalf("created: %s", ep.RawJSON())
	}

	// The test event arrives signed with the secret the SDK got back.
	res, err := c.Webhooks.Test(ctx, ep.ID, webhooks.WebhookTestParams{EventType: webhooks.WebhookTestParamsEventTypeResponseCompleted})
	if err != nil {
		t.Fatal(err)
	}
	req := next(t, got)
	if ev := verified(t, req, secret); ev.Type != "response.completed" || !strings.HasPrefix(ev.Data.ID, "resp_") {
		t.Errorf("test event %s", req.body)
	}
	if res.Object != "webhook_endpoint.test" || res.WebhookEndpointID != ep.ID || res.EventType != "response.completed" ||
		res.StatusCode != http.StatusOK || !res.Success {
		t.Errorf("test result %s", res.RawJSON())
	}
	if req.header.Get("User-Agent") != openai.UserAgent || req.header.Get("Content-Type") != "application/json" {
		t.Errorf("test event headers %v", req.header)
	}

	// Get shows no secret; update changes what it is given, and a change of nothing
	// changes nothing.
	got1, err := c.Webhooks.Get(ctx, ep.ID)
	if err != nil || got1.ID != ep.ID || got1.URL != url || strings.Contains(got1.RawJSON(), "signing_secret\"") || got1.SigningSecretHint != ep.SigningSecretHint {
		t.Fatalf("get: %v %v", got1, err)
	}
	upd, err := c.Webhooks.Update(ctx, ep.ID, webhooks.WebhookUpdateParams{Name: sdk.String("renamed"),
		EventTypes: []string{"response.completed", "batch.completed"}})
	if err != nil || upd.Name != "renamed" || upd.URL != url || !slices.Equal(upd.EventTypes, []string{"response.completed", "batch.completed"}) {
		t.Fatalf("update: %v %v", upd, err)
	}
	same, err := c.Webhooks.Update(ctx, ep.ID, webhooks.WebhookUpdateParams{Name: sdk.String("renamed")})
	if err != nil || same.UpdatedAt != upd.UpdatedAt || same.Name != "renamed" {
		t.Fatalf("an update that changes nothing: %v %v", same, err)
	}
	herald, err := st.Herald.GetEndpoint(ctx, st.App.ID, "ep_"+strings.TrimPrefix(ep.ID, "whe_"))
	if err != nil || herald.Description != "renamed" || !slices.Equal(herald.EventTypes, upd.EventTypes) {
		t.Fatalf("the herald endpoint behind it: %+v %v", herald, err)
	}

	// Every type of the catalogue can be produced; each verifies and parses.
	for _, typ := range whopenai.EventTypes() {
		res, err := c.Webhooks.Test(ctx, ep.ID, webhooks.WebhookTestParams{EventType: webhooks.WebhookTestParamsEventType(typ)})
		if err != nil || res.EventType != typ || res.StatusCode != http.StatusOK {
			t.Fatalf("test %s: %v %v", typ, res, err)
		}
		if ev := verified(t, next(t, got), secret); ev.Type != typ {
			t.Errorf("test %s: got a %s", typ, ev.Type)
		}
	}

	secret = checkRotation(t, c, ep.ID, secret, got)

	// The emulator's own events reach the endpoint through its filter: a background
	// response's response.completed arrives, signed with the current secret.
	r, err := c.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-5-mini", Background: sdk.Bool(true),
		Input: responses.ResponseNewParamsInputUnion{OfString: sdk.String("hello")}})
	if err != nil {
		t.Fatal(err)
	}
	if ev := verified(t, next(t, got), secret); ev.Type != "response.completed" || ev.Data.ID != r.ID {
		t.Errorf("response event %s for %s", ev.RawJSON(), r.ID)
	}

	checkPages(t, c, hook.URL, ep.ID)

	// Delete, then it is gone for every method.
	del, err := c.Webhooks.Delete(ctx, ep.ID)
	if err != nil || del.ID != ep.ID || !del.Deleted || del.Object != "webhook_endpoint.deleted" {
		t.Fatalf("delete: %v %v", del, err)
	}
	if _, err := c.Webhooks.Get(ctx, ep.ID); wantAPIError(t, err, http.StatusNotFound, "") {
		if _, err := st.Herald.GetEndpoint(ctx, st.App.ID, "ep_"+strings.TrimPrefix(ep.ID, "whe_")); client.ErrorCode(err) != client.CodeNotFound {
			t.Errorf("the herald endpoint is still there: %v", err)
		}
	}
}

// checkPages adds three endpoints to the one with id lastID and pages through them
// all with the SDK, newest first, in OpenAI's cursor page.
func checkPages(t *testing.T, c sdk.Client, hookURL, lastID string) {
	t.Helper()
	ctx := context.Background()
	var ids []string
	for i := range 3 {
		e, err := c.Webhooks.New(ctx, webhooks.WebhookNewParams{Name: "more", URL: hookURL + "/more", EventTypes: []string{"batch.completed"}})
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
		ids = append([]string{e.ID}, ids...)
	}
	ids = append(ids, lastID)
	page, err := c.Webhooks.List(ctx, webhooks.WebhookListParams{Limit: sdk.Int(2)})
	if err != nil || len(page.Data) != 2 || !page.HasMore || page.Data[0].ID != ids[0] ||
		page.JSON.ExtraFields["first_id"].Raw() != `"`+ids[0]+`"` || page.JSON.ExtraFields["last_id"].Raw() != `"`+ids[1]+`"` {
		t.Fatalf("first page: %v %v", page, err)
	}
	var all []string
	iter := c.Webhooks.ListAutoPaging(ctx, webhooks.WebhookListParams{Limit: sdk.Int(1)})
	for iter.Next() {
		all = append(all, iter.Current().ID)
	}
	if iter.Err() != nil || !slices.Equal(all, ids) {
		t.Fatalf("all pages: %v %v, want %v", all, iter.Err(), ids)
	}
	last, err := c.Webhooks.List(ctx, webhooks.WebhookListParams{After: sdk.String(lastID)})
	if err != nil || len(last.Data) != 0 || last.HasMore || last.JSON.ExtraFields["first_id"].Raw() != "null" {
		t.Fatalf("after the last: %s %v", last.RawJSON(), err)
	}
	// A page after an endpoint deleted since still starts at the right place.
	if _, err := c.Webhooks.Delete(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	page, err = c.Webhooks.List(ctx, webhooks.WebhookListParams{After: sdk.String(ids[1])})
	if err != nil || len(page.Data) != 2 || page.Data[0].ID != ids[2] {
		t.Fatalf("after a deleted endpoint: %v %v", page, err)
	}
	types, err := c.Webhooks.EventTypes.List(ctx)
	if err != nil || !slices.Equal(types.Data, whopenai.EventTypes()) {
		t.Fatalf("event types: %v %v", types, err)
	}

}

// checkRotation rotates the secret of endpoint id, whose webhooks arrive on got and
// verify with secret, twice: after the first rotation only the new secret verifies,
// after the second, which keeps the old one, both do. It returns the newest secret.
func checkRotation(t *testing.T, c sdk.Client, id, secret string, got chan request) string {
	t.Helper()
	ctx := context.Background()
	rot, err := c.Webhooks.RotateSecret(ctx, id, webhooks.WebhookRotateSecretParams{})
	if err != nil || rot.SigningSecret == secret || !strings.HasPrefix(rot.SigningSecret, "whsec_") || rot.ID != id || rot.Name == "" {
		t.Fatalf("rotate: %v %v", rot, err)
	}
	old, secret := secret, rot.SigningSecret
	if _, err := c.Webhooks.Test(ctx, id, webhooks.WebhookTestParams{EventType: "batch.failed"}); err != nil {
		t.Fatal(err)
	}
	req := next(t, got)
	verified(t, req, secret)
	refused(t, req, old)
	rot, err = c.Webhooks.RotateSecret(ctx, id, webhooks.WebhookRotateSecretParams{KeepOldSecretActiveFor24Hours: sdk.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	old, secret = secret, rot.SigningSecret
	if _, err := c.Webhooks.Test(ctx, id, webhooks.WebhookTestParams{EventType: "eval.run.succeeded"}); err != nil {
		t.Fatal(err)
	}
	req = next(t, got)
	verified(t, req, secret)
	verified(t, req, old)
	return secret
}

// wantAPIError checks that err is the SDK's error for an answer of status in
// OpenAI's shape, about param when param is not empty; it reports whether it is.
func wantAPIError(t *testing.T, err error, status int, param string) bool {
	t.Helper()
	var apiErr *sdk.Error
	if !errors.As(err, &apiErr) {
		t.Errorf("want an API error %d, got %v", status, err)
		return false
	}
	raw := apiErr.RawJSON()
	ok := apiErr.StatusCode == status && apiErr.Message != "" && apiErr.Type == "invalid_request_error" &&
		apiErr.JSON.Param.Valid() == (param != "") && apiErr.Param == param &&
		strings.Contains(raw, `"code"`) && strings.Contains(raw, `"param"`)
	if !ok {
		t.Errorf("want %d about %q in OpenAI's shape, got %d %s", status, param, apiErr.StatusCode, raw)
	}
	return ok
}

// countingReceiver answers every request with status and counts them.
func countingReceiver(t *testing.T, status int) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestWebhookEndpointsErrors tries what a careless user or an attacker would: bad
// and private URLs, unknown ids and event types, huge bodies, another app's
// endpoint, a receiver that is down. Each is refused in OpenAI's error shape, with
// the status OpenAI uses, and changes nothing.
func TestWebhookEndpointsErrors(t *testing.T) {
	ctx := context.Background()
	st, c := startBare(t, openai.Config{MaxWebhookEndpoints: 3})
	hook, hits := countingReceiver(t, http.StatusAccepted)
	ep, err := c.Webhooks.New(ctx, webhooks.WebhookNewParams{Name: "ok", URL: hook.URL, EventTypes: []string{"batch.completed"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Webhooks.Test(ctx, ep.ID, webhooks.WebhookTestParams{EventType: "batch.completed"})
	if err != nil || res.StatusCode != http.StatusAccepted || hits.Load() != 1 {
		t.Fatalf("test against a 202 receiver: %v %v, %d requests", res, err, hits.Load())
	}

	for _, tc := range []struct {
		name, url, param string
		types            []string
	}{
		{"not a URL", "not a url", "url", nil},
		{"ftp", "ftp://127.0.0.1/hook", "url", nil},
		{"no host", "https:///hook", "url", nil},
		{"too long", "https://example.com/" + strings.Repeat("a", 2048), "url", nil},
		{"private address", "http://10.1.2.3/hook", "url", nil},
		{"metadata address", "http://169.254.169.254/latest", "url", nil},
		{"unspecified address", "http://0.0.0.0:8000/", "url", nil},
		{"unknown event type", hook.URL, "event_types[1]", []string{"batch.completed", "video.completed"}},
		{"wildcard", hook.URL, "event_types[0]", []string{"response.*"}},
		{"empty event type", hook.URL, "event_types[0]", []string{""}},
		{"no event types", hook.URL, "event_types", []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			types := tc.types
			if types == nil {
				types = []string{"batch.completed"}
			}
			_, err := c.Webhooks.New(ctx, webhooks.WebhookNewParams{Name: "x", URL: tc.url, EventTypes: types})
			wantAPIError(t, err, http.StatusBadRequest, tc.param)
			_, err = c.Webhooks.Update(ctx, ep.ID, webhooks.WebhookUpdateParams{URL: sdk.String(tc.url), EventTypes: tc.types})
			wantAPIError(t, err, http.StatusBadRequest, tc.param)
		})
	}
	if got, err := c.Webhooks.Get(ctx, ep.ID); err != nil || got.URL != hook.URL || !slices.Equal(got.EventTypes, []string{"batch.completed"}) {
		t.Fatalf("a refused update changed the endpoint: %v %v", got, err)
	}

	checkBadRequests(t, st.OpenAIURL, ep.ID, hook.URL)

	// rotate_secret takes no body at all too, as every member is optional.
	status, body := rawCall(t, "POST", st.OpenAIURL+"/webhook_endpoints/"+ep.ID+"/rotate_secret", "")
	if secret, _ := body["signing_secret"].(string); status != http.StatusOK || !strings.HasPrefix(secret, "whsec_") {
		t.Errorf("rotate without a body: %d %v", status, body)
	}

	// Another herald app's endpoint is not reachable through the emulator.
	other, err := st.Herald.CreateApp(ctx, client.AppInput{Name: "other", UID: "other"})
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := st.Herald.CreateEndpoint(ctx, other.ID, client.EndpointInput{URL: hook.URL})
	if err != nil {
		t.Fatal(err)
	}
	foreignID := "whe_" + strings.TrimPrefix(foreign.ID, "ep_")
	_, err = c.Webhooks.Get(ctx, foreignID)
	wantAPIError(t, err, http.StatusNotFound, "")
	_, err = c.Webhooks.Delete(ctx, foreignID)
	wantAPIError(t, err, http.StatusNotFound, "")
	_, err = c.Webhooks.RotateSecret(ctx, foreignID, webhooks.WebhookRotateSecretParams{})
	wantAPIError(t, err, http.StatusNotFound, "")
	if _, err := st.Herald.GetEndpoint(ctx, other.ID, foreign.ID); err != nil {
		t.Fatalf("the other app's endpoint: %v", err)
	}

	// A receiver that is down: the test says so, in OpenAI's shape.
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	gone, err := c.Webhooks.New(ctx, webhooks.WebhookNewParams{Name: "down", URL: downURL, EventTypes: []string{"batch.completed"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Webhooks.Test(ctx, gone.ID, webhooks.WebhookTestParams{EventType: "batch.completed"})
	wantAPIError(t, err, http.StatusBadRequest, "")
	// A paused endpoint is not tested.
	paused := "paused"
	if _, err := st.Herald.UpdateEndpoint(ctx, st.App.ID, "ep_"+strings.TrimPrefix(ep.ID, "whe_"), client.EndpointUpdate{State: &paused}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Webhooks.Test(ctx, ep.ID, webhooks.WebhookTestParams{EventType: "batch.completed"})
	wantAPIError(t, err, http.StatusBadRequest, "")

	// The limit on endpoints (3 here) holds, and deleting one makes room.
	_, err = c.Webhooks.New(ctx, webhooks.WebhookNewParams{Name: "third", URL: hook.URL, EventTypes: []string{"batch.completed"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Webhooks.New(ctx, webhooks.WebhookNewParams{Name: "fourth", URL: hook.URL, EventTypes: []string{"batch.completed"}})
	wantAPIError(t, err, http.StatusBadRequest, "")
	if _, err := c.Webhooks.Delete(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Webhooks.New(ctx, webhooks.WebhookNewParams{Name: "fourth", URL: hook.URL, EventTypes: []string{"batch.completed"}}); err != nil {
		t.Fatalf("after a delete: %v", err)
	}
	eps, _, err := st.Herald.ListEndpoints(ctx, st.App.ID, client.ListParams{})
	if err != nil || len(eps) != 3 {
		t.Fatalf("herald has %d endpoints (%v), want 3: nothing refused was created", len(eps), err)
	}
}

// checkBadRequests sends the emulator at base requests with bad members, types,
// sizes and ids, about the endpoint id (whose URL is hookURL), and checks each
// answer: the status, and OpenAI's error shape about the right param.
func checkBadRequests(t *testing.T, base, id, hookURL string) {
	t.Helper()
	for _, tc := range []struct {
		method, path, body string
		status             int
		param, code        string
	}{
		{"POST", "/webhook_endpoints", `{"url":"` + hookURL + `","event_types":["batch.completed"]}`, 400, "name", "missing_required_parameter"},
		{"POST", "/webhook_endpoints", `{"name":"x","event_types":["batch.completed"]}`, 400, "url", "missing_required_parameter"},
		{"POST", "/webhook_endpoints", `{"name":"x","url":"` + hookURL + `"}`, 400, "event_types", "missing_required_parameter"},
		{"POST", "/webhook_endpoints", `{"name":"","url":"` + hookURL + `","event_types":["batch.completed"]}`, 400, "name", "string_below_min_length"},
		{"POST", "/webhook_endpoints", `{"name":"` + strings.Repeat("n", 257) + `","url":"` + hookURL + `","event_types":["batch.completed"]}`, 400, "name", "string_above_max_length"},
		{"POST", "/webhook_endpoints", `{"name":"x","url":"` + hookURL + `","event_types":"batch.completed"}`, 400, "event_types", "invalid_type"},
		{"POST", "/webhook_endpoints", `{"name":"x","url":"` + hookURL + `","event_types":["batch.completed"],"secret":"whsec_x"}`, 400, "secret", "unknown_parameter"},
		{"POST", "/webhook_endpoints", `[]`, 400, "", ""},
		{"POST", "/webhook_endpoints", `{"name":"` + strings.Repeat("n", 70<<10) + `"}`, 413, "", ""},
		{"POST", "/webhook_endpoints/" + id + "/test", `{"event_type":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "", ""},
		{"POST", "/webhook_endpoints/" + id + "/test", `{}`, 400, "event_type", "missing_required_parameter"},
		{"POST", "/webhook_endpoints/" + id + "/test", `{"event_type":"video.completed"}`, 400, "event_type", "invalid_value"},
		{"POST", "/webhook_endpoints/" + id + "/rotate_secret", `{"keep_old_secret_active_for_24_hours":"yes"}`, 400, "keep_old_secret_active_for_24_hours", "invalid_type"},
		{"POST", "/webhook_endpoints/" + id + "/rotate_secret", `{"secret":"whsec_x"}`, 400, "secret", "unknown_parameter"},
		{"GET", "/webhook_endpoints?limit=0", ``, 400, "limit", "integer_below_min_value"},
		{"GET", "/webhook_endpoints?limit=101", ``, 400, "limit", "integer_above_max_value"},
		{"GET", "/webhook_endpoints?limit=ten", ``, 400, "limit", "invalid_type"},
		{"GET", "/webhook_endpoints?after=ep_1", ``, 400, "after", "invalid_value"},
		{"GET", "/webhook_endpoints?order=asc", ``, 400, "order", "unknown_parameter"},
		{"GET", "/webhook_endpoints/whe_01NOTTHERE00000000000000000", ``, 404, "", ""},
		{"GET", "/webhook_endpoints/" + "ep_" + strings.TrimPrefix(id, "whe_"), ``, 404, "", ""},
		{"GET", "/webhook_endpoints/whe_..%2F..%2Fapps", ``, 404, "", ""},
		{"POST", "/webhook_endpoints/whe_01NOTTHERE00000000000000000", `{"name":"y"}`, 404, "", ""},
		{"DELETE", "/webhook_endpoints/whe_01NOTTHERE00000000000000000", ``, 404, "", ""},
		{"POST", "/webhook_endpoints/whe_01NOTTHERE00000000000000000/rotate_secret", `{}`, 404, "", ""},
		{"POST", "/webhook_endpoints/whe_01NOTTHERE00000000000000000/test", `{"event_type":"batch.completed"}`, 404, "", ""},
	} {
		status, body := rawCall(t, tc.method, base+tc.path, tc.body)
		e, _ := body["error"].(map[string]any)
		param, _ := e["param"].(string)
		code, _ := e["code"].(string)
		_, hasParam := e["param"]
		_, hasCode := e["code"]
		if status != tc.status || e == nil || e["message"] == "" || e["type"] != "invalid_request_error" || !hasParam || !hasCode ||
			param != tc.param || (tc.code != "" && code != tc.code) {
			t.Errorf("%s %s %.60s: %d %v, want %d param %q code %q", tc.method, tc.path, tc.body, status, body, tc.status, tc.param, tc.code)
		}
	}
}

// TestWebhookEndpointsAllowNetwork: a private address is accepted when the emulator's
// herald is told to deliver there (--allow-network), as for --webhook-url.
func TestWebhookEndpointsAllowNetwork(t *testing.T) {
	st, err := emulate.Start(context.Background(), emulate.Config{
		Addr: "127.0.0.1:0", HeraldAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler),
		AllowNetworks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := sdk.NewClient(option.WithBaseURL(st.OpenAIURL), option.WithAPIKey("sk-emulated"), option.WithMaxRetries(0))
	if _, err := c.Webhooks.New(context.Background(), webhooks.WebhookNewParams{Name: "lan", URL: "http://10.1.2.3/hook", EventTypes: []string{"batch.completed"}}); err != nil {
		t.Fatalf("an allowed network was refused: %v", err)
	}
	_, err = c.Webhooks.New(context.Background(), webhooks.WebhookNewParams{Name: "lan", URL: "http://192.168.1.2/hook", EventTypes: []string{"batch.completed"}})
	wantAPIError(t, err, http.StatusBadRequest, "url")
}

// rawCall sends a request and decodes the JSON answer.
func rawCall(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %d, not JSON: %v", method, url, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}
