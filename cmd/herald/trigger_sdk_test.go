package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v89/github"
	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stripe/stripe-go/v84"
	stripewebhook "github.com/stripe/stripe-go/v84/webhook"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/heraldhq/herald/internal/fixtures"
	"github.com/heraldhq/herald/webhook"
)

// sdkReceiver verifies one provider's delivery with that provider's own code and
// returns the delivery id the receiver would dedupe on.
type sdkReceiver func(t *testing.T, f *fixtures.Fixture, r *http.Request, body []byte) (id string, err error)

// TestTriggerVerifiedBySDKs sends every sample of every provider with
// 'herald trigger <type> --to <receiver>' and verifies it in the receiver with the
// provider's official Go SDK (Stripe, GitHub, Slack, Svix, Standard Webhooks,
// OpenAI), or for Shopify, which has none, with its documented algorithm. The
// receivers also decode each body into the SDK's types and report any member the
// SDK does not know (see unknownMembers), so a sample cannot drift from the real shape.
func TestTriggerVerifiedBySDKs(t *testing.T) {
	cat, err := fixtures.Load()
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{
		"stripe": "whsec_" + strings.Repeat("s3cr3t", 6), "github": "It's a Secret to Everybody",
		"shopify": "shpss_0123456789abcdef0123456789abcdef", "slack": "8f742231b10e8888abcd99yyyzzz85a5",
		"svix": webhook.NewHMACSecret().Reveal(), "standard": webhook.NewHMACSecret().Reveal(), "openai": webhook.NewHMACSecret().Reveal(),
	}
	receivers := map[string]sdkReceiver{
		"stripe": receiveStripe(secrets["stripe"]), "github": receiveGitHub(secrets["github"]),
		"shopify": receiveShopify(secrets["shopify"]), "slack": receiveSlack(secrets["slack"]),
		"svix": receiveSvix(secrets["svix"]), "standard": receiveStandard(secrets["standard"]),
		"openai": receiveOpenAI(secrets["openai"]),
	}
	for _, provider := range cat.Providers() {
		t.Run(provider, func(t *testing.T) {
			receive := receivers[provider]
			if receive == nil {
				t.Fatalf("no receiver for %s", provider)
			}
			var mu sync.Mutex
			var current *fixtures.Fixture
			var gotID string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				r.Body = io.NopCloser(bytes.NewReader(body))
				mu.Lock()
				defer mu.Unlock()
				id, err := receive(t, current, r, body)
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				gotID = id
			}))
			defer srv.Close()
			for _, f := range cat.List(provider) {
				t.Run(f.Name, func(t *testing.T) {
					mu.Lock()
					current, gotID = f, ""
					mu.Unlock()
					code, out, stderr := runCLI(t, "", "trigger", f.Name, "--provider", provider, "--to", srv.URL, "--secret", secrets[provider])
					if code != 0 || !strings.Contains(out, "<-- 200 OK") {
						t.Fatalf("exit %d:\n%s%s", code, out, stderr)
					}
					mu.Lock()
					defer mu.Unlock()
					line := strings.Fields(strings.SplitN(out, "\n", 2)[0]) // --> name id (provider) POST url
					if len(line) < 3 || line[2] != gotID || gotID == "" {
						t.Errorf("printed id %q, but the receiver's SDK read %q: %s", line[2], gotID, out)
					}
				})
			}
		})
	}
}

// TestTriggerProviderFromEventType checks that without --provider the sample's own
// provider signs: a Stripe event verifies with stripe-go.
func TestTriggerProviderFromEventType(t *testing.T) {
	secret := "whsec_" + strings.Repeat("k", 32)
	cat, _ := fixtures.Load()
	f, _ := cat.Find("", "payment_intent.succeeded")
	receive := receiveStripe(secret)
	var got error = fmt.Errorf("no request")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, got = receive(t, f, r, body)
	}))
	defer srv.Close()
	code, out, stderr := runCLI(t, "", "trigger", "payment_intent.succeeded", "--to", srv.URL, "--secret", secret)
	if code != 0 || got != nil || !strings.Contains(out, "(stripe)") {
		t.Fatalf("exit %d, receiver: %v\n%s%s", code, got, out, stderr)
	}
}

func receiveStripe(secret string) sdkReceiver {
	return func(t *testing.T, f *fixtures.Fixture, r *http.Request, body []byte) (string, error) {
		ev, err := stripewebhook.ConstructEvent(body, r.Header.Get("Stripe-Signature"), secret)
		if err != nil {
			return "", fmt.Errorf("stripe-go: %w", err)
		}
		if string(ev.Type) != f.Type || !strings.HasPrefix(ev.ID, "evt_") || ev.Data == nil {
			return "", fmt.Errorf("event %s %s", ev.Type, ev.ID)
		}
		var obj any
		switch ev.Data.Object["object"] {
		case "payment_intent":
			obj = &stripe.PaymentIntent{}
		case "checkout.session":
			obj = &stripe.CheckoutSession{}
		case "invoice":
			obj = &stripe.Invoice{}
		case "subscription":
			obj = &stripe.Subscription{}
		default:
			return "", fmt.Errorf("no stripe-go type for %v", ev.Data.Object["object"])
		}
		if err := json.Unmarshal(ev.Data.Raw, obj); err != nil {
			return "", fmt.Errorf("decode data.object: %w", err)
		}
		reportUnknown(t, body, &stripe.Event{}, nil)
		reportUnknown(t, ev.Data.Raw, obj, map[string]bool{"items.object": true, "lines.object": true}) // stripe-go's lists do not keep "object": "list"
		return ev.ID, nil
	}
}

func receiveGitHub(secret string) sdkReceiver {
	// Members GitHub sends that go-github does not model.
	extra := map[string]bool{
		"repository.forks": true, "repo.forks": true, "hook.deliveries_url": true, "issue.timeline_url": true,
		"head_repository.forks": true, "license.node_id": true, "comment.performed_via_github_app": true,
		"repository.stargazers": true, // a push's repository only
	}
	return func(t *testing.T, f *fixtures.Fixture, r *http.Request, body []byte) (string, error) {
		payload, err := github.ValidatePayload(r, []byte(secret))
		if err != nil {
			return "", fmt.Errorf("go-github: %w", err)
		}
		if github.WebHookType(r) != f.Type || r.Header.Get("X-GitHub-Hook-ID") == "" {
			return "", fmt.Errorf("X-GitHub-Event %q, X-GitHub-Hook-ID %q", github.WebHookType(r), r.Header.Get("X-GitHub-Hook-ID"))
		}
		ev, err := github.ParseWebHook(github.WebHookType(r), payload)
		if err != nil {
			return "", fmt.Errorf("go-github: %w", err)
		}
		if _, ok := ev.(*github.PushEvent); ok {
			// go-github's PushEventRepository models a fraction of the repository
			// GitHub sends with a push; check it against the full Repository.
			ev = &struct {
				github.PushEvent
				Repository *github.Repository `json:"repository"`
			}{}
		}
		reportUnknown(t, payload, ev, extra)
		return github.DeliveryID(r), nil
	}
}

// receiveShopify verifies as Shopify documents it (there is no official Go SDK): the
// base64 HMAC-SHA256 of the raw body, keyed with the app's client secret.
func receiveShopify(secret string) sdkReceiver {
	return func(t *testing.T, f *fixtures.Fixture, r *http.Request, body []byte) (string, error) {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if !hmac.Equal([]byte(want), []byte(r.Header.Get("X-Shopify-Hmac-Sha256"))) {
			return "", fmt.Errorf("X-Shopify-Hmac-Sha256 %q, want %q", r.Header.Get("X-Shopify-Hmac-Sha256"), want)
		}
		for _, h := range []string{"X-Shopify-Webhook-Id", "X-Shopify-Shop-Domain", "X-Shopify-API-Version", "X-Shopify-Event-Id", "X-Shopify-Triggered-At"} {
			if r.Header.Get(h) == "" {
				return "", fmt.Errorf("no %s header", h)
			}
		}
		if r.Header.Get("X-Shopify-Topic") != f.Name || !json.Valid(body) {
			return "", fmt.Errorf("topic %q, body valid JSON: %v", r.Header.Get("X-Shopify-Topic"), json.Valid(body))
		}
		return r.Header.Get("X-Shopify-Webhook-Id"), nil
	}
}

func receiveSlack(secret string) sdkReceiver {
	extra := map[string]bool{"context_team_id": true, "context_enterprise_id": true}
	return func(t *testing.T, f *fixtures.Fixture, r *http.Request, body []byte) (string, error) {
		sv, err := slack.NewSecretsVerifier(r.Header, secret)
		if err != nil {
			return "", fmt.Errorf("slack-go: %w", err)
		}
		sv.Write(body)
		if err := sv.Ensure(); err != nil {
			return "", fmt.Errorf("slack-go: %w", err)
		}
		if f.Form {
			return slackForm(t, f, r, body)
		}
		ev, err := slackevents.ParseEvent(body, slackevents.OptionNoVerifyToken())
		if err != nil {
			return "", fmt.Errorf("slackevents: %w", err)
		}
		if ev.Type == slackevents.URLVerification {
			var v slackevents.EventsAPIURLVerificationEvent
			reportUnknown(t, body, &v, nil)
			_ = json.Unmarshal(body, &v)
			return v.Challenge, nil
		}
		cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent)
		if !ok || ev.InnerEvent.Type != f.Type {
			return "", fmt.Errorf("event %s / %s, want %s", ev.Type, ev.InnerEvent.Type, f.Type)
		}
		reportUnknown(t, body, cb, extra)
		reportUnknown(t, *cb.InnerEvent, ev.InnerEvent.Data, map[string]bool{"client_msg_id": true, "team": true})
		return cb.EventID, nil
	}
}

func slackForm(t *testing.T, f *fixtures.Fixture, r *http.Request, body []byte) (string, error) {
	if f.Type == "slash_command" {
		cmd, err := slack.SlashCommandParse(r)
		if err != nil || cmd.Command != "/deploy" || !strings.HasPrefix(cmd.ResponseURL, "https://hooks.slack.com/") {
			return "", fmt.Errorf("slash command %+v: %v", cmd, err)
		}
		return cmd.TriggerID, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return "", err
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
		return "", fmt.Errorf("slack-go: interaction payload: %w", err)
	}
	if string(cb.Type) != f.Type || len(cb.ActionCallback.BlockActions) != 1 || cb.ActionCallback.BlockActions[0].ActionID != "approve_deploy" {
		return "", fmt.Errorf("interaction %s %+v", cb.Type, cb.ActionCallback)
	}
	return cb.TriggerID, nil
}

func receiveSvix(secret string) sdkReceiver {
	wh, err := svix.NewWebhook(secret)
	return receiveEnvelope("svix", "svix-id", err, func(b []byte, h http.Header) error { return wh.Verify(b, h) })
}

func receiveStandard(secret string) sdkReceiver {
	wh, err := standardwebhooks.NewWebhook(secret)
	return receiveEnvelope("standard-webhooks", "webhook-id", err, func(b []byte, h http.Header) error { return wh.Verify(b, h) })
}

// receiveEnvelope verifies a generic {"type", ...} envelope with a library's Verify.
func receiveEnvelope(lib, idHeader string, newErr error, verify func([]byte, http.Header) error) sdkReceiver {
	return func(t *testing.T, f *fixtures.Fixture, r *http.Request, body []byte) (string, error) {
		if newErr != nil {
			return "", newErr
		}
		if err := verify(body, r.Header); err != nil {
			return "", fmt.Errorf("%s: %w", lib, err)
		}
		return r.Header.Get(idHeader), checkType(body, f.Type)
	}
}

func receiveOpenAI(secret string) sdkReceiver {
	c := sdk.NewClient(option.WithAPIKey("sk-test"), option.WithWebhookSecret(secret))
	return func(t *testing.T, f *fixtures.Fixture, r *http.Request, body []byte) (string, error) {
		ev, err := c.Webhooks.Unwrap(body, r.Header)
		if err != nil {
			return "", fmt.Errorf("openai-go: %w", err)
		}
		if ev.Type != f.Type {
			return "", fmt.Errorf("openai-go read type %q", ev.Type)
		}
		return r.Header.Get("webhook-id"), nil
	}
}

// checkType checks a generic envelope's top-level type.
func checkType(body []byte, want string) error {
	var top struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(body, &top); err != nil || top.Type != want {
		return fmt.Errorf("body type %q, want %q (%v)", top.Type, want, err)
	}
	return nil
}

// reportUnknown fails the test for each member of raw that v's type has no field for.
func reportUnknown(t *testing.T, raw []byte, v any, extra map[string]bool) {
	t.Helper()
	for _, path := range unknownMembers(raw, v, extra) {
		t.Errorf("%T has no field for %s", v, path)
	}
}
