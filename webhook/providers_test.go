package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/webhook"
)

// Bodies from the providers' own documentation (trimmed where marked), the vectors of
// ../shared/reference/webhook-facts.md where a provider publishes one.
const (
	// Shopify's orders/create example (trimmed): a numeric id and a string created_at,
	// the body that Handler used to refuse as an invalid OpenAI event.
	shopifyOrder = `{"id":820982911946154508,"admin_graphql_api_id":"gid:\/\/shopify\/Order\/820982911946154508","app_id":null,"browser_ip":null,"buyer_accepts_marketing":true,"cancel_reason":"customer","cancelled_at":"2021-12-31T19:00:00-05:00","created_at":"2021-12-31T19:00:00-05:00","currency":"USD","email":"jon@example.com","total_price":"403.00","line_items":[{"id":866550311766439020,"quantity":1,"title":"IPod Nano - 8GB"}]}`
	// Stripe's setup_intent.created example event (trimmed).
	stripeEvent = `{
  "id": "evt_1NG8Du2eZvKYlo2CUI79vXWy",
  "object": "event",
  "api_version": "2019-02-19",
  "created": 1686089970,
  "data": {"object": {"id": "seti_1NG8Du2eZvKYlo2C9XMqbR0x", "object": "setup_intent", "status": "requires_confirmation"}},
  "livemode": false,
  "pending_webhooks": 0,
  "request": {"id": null, "idempotency_key": null},
  "type": "setup_intent.created"
}`
	slackSecret  = "8f742231b10e8888abcd99yyyzzz85a5"
	slackCommand = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	// Slack's Events API url_verification example.
	slackChallenge = `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`
	openaiBody     = `{"id": "evt_685c059ae3a481909bdc86819b066fb6", "object": "event", "created_at": 1750861210, "type": "response.completed", "data": {"id": "resp_123"}}`
)

func mac(key, content string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(content))
	return m.Sum(nil)
}

func at(unix int64) webhook.Option {
	return webhook.WithClock(func() time.Time { return time.Unix(unix, 0).Add(10 * time.Second) })
}

// TestHandlerProviderExamples posts each provider's documented example, signed as the
// provider signs it, through Handler and checks that it reaches the function registered
// for its type with the provider's delivery id.
func TestHandlerProviderExamples(t *testing.T) {
	must := func(p webhook.Provider, err error) webhook.Verifier {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	const stripeSecret, stripeTS = "whsec_test_secret", "1686089970"
	cases := []struct {
		name     string
		verifier webhook.Verifier
		body     string
		header   map[string]string
		typ, id  string
	}{
		{"shopify orders/create", must(webhook.NewShopify("hush")), shopifyOrder, map[string]string{
			"X-Shopify-Hmac-Sha256": base64.StdEncoding.EncodeToString(mac("hush", shopifyOrder)),
			"X-Shopify-Topic":       "orders/create",
			"X-Shopify-Webhook-Id":  "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
		}, "orders/create", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"},
		{"stripe setup_intent.created", must(webhook.NewStripe(stripeSecret, at(1686089970))), stripeEvent, map[string]string{
			"Stripe-Signature": "t=" + stripeTS + ",v1=" + hex.EncodeToString(mac(stripeSecret, stripeTS+"."+stripeEvent)) + ",v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39",
		}, "setup_intent.created", "evt_1NG8Du2eZvKYlo2CUI79vXWy"},
		{"github vector", must(webhook.NewGitHub("It's a Secret to Everybody")), "Hello, World!", map[string]string{
			"X-Hub-Signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
			"X-GitHub-Event":      "ping",
			"X-GitHub-Delivery":   "72d3162e-cc78-11e3-81ab-4c9367dc0958",
		}, "ping", "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
		{"slack slash command (form body)", must(webhook.NewSlack(slackSecret, at(1531420618))), slackCommand, map[string]string{
			"X-Slack-Signature":         "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
			"X-Slack-Request-Timestamp": "1531420618",
			"Content-Type":              "application/x-www-form-urlencoded",
		}, "slash_command", "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"},
		{"slack url_verification", must(webhook.NewSlack(slackSecret, at(1531420618))), slackChallenge, map[string]string{
			"X-Slack-Signature":         "v0=" + hex.EncodeToString(mac(slackSecret, "v0:1531420618:"+slackChallenge)),
			"X-Slack-Request-Timestamp": "1531420618",
		}, "url_verification", ""},
		{"svix vector", must(webhook.NewSvix("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", at(1614265330))), `{"test": 2432232314}`, map[string]string{
			"svix-id":        "msg_p5jXN8AQM9LWM0D4loKWxJek",
			"svix-timestamp": "1614265330",
			"svix-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
		}, "", "msg_p5jXN8AQM9LWM0D4loKWxJek"},
		{"standard webhooks vector", must(webhook.NewStandard("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", at(1614265330))), `{"test": 2432232314}`, map[string]string{
			"webhook-id":        "msg_p5jXN8AQM9LWM0D4loKWxJek",
			"webhook-timestamp": "1614265330",
			"webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
		}, "", "msg_p5jXN8AQM9LWM0D4loKWxJek"},
		{"openai vector", must(webhook.NewOpenAI("whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c=", at(1750861210))), openaiBody, map[string]string{
			"webhook-id":        "wh_685c059ae39c8190af8c71ed1022a24d",
			"webhook-timestamp": "1750861210",
			"webhook-signature": "v1,gUAg4R2hWouRZqRQG4uJypNS8YK885G838+EHb4nKBY=",
		}, "response.completed", "wh_685c059ae39c8190af8c71ed1022a24d"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got *webhook.Event
			route := c.typ
			if route == "" {
				route = "*" // a body without a type reaches the catch-all
			}
			h := webhook.NewHandler(c.verifier).
				On(route, func(_ context.Context, e *webhook.Event) error { got = e; return nil }).
				On("not.this", func(context.Context, *webhook.Event) error { t.Error("wrong route"); return nil })
			req := httptest.NewRequest(http.MethodPost, "/webhooks", strings.NewReader(c.body))
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if got == nil {
				t.Fatal("the function registered for the type was not called")
			}
			if got.Type != c.typ || got.ID != c.id || string(got.Body) != c.body {
				t.Errorf("event type %q id %q, want %q %q", got.Type, got.ID, c.typ, c.id)
			}
		})
	}
}
