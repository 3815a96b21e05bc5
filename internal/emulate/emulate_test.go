package emulate_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/webhooks"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/emulate"
	"github.com/heraldhq/herald/internal/emulate/openai"
	"github.com/heraldhq/herald/internal/server/servertest"
)

type request struct {
	header http.Header
	body   []byte
}

// receiver is a webhook endpoint that records what it gets.
func receiver(t *testing.T) (*httptest.Server, chan request) {
	ch := make(chan request, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ch <- request{r.Header.Clone(), body}
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

func next(t *testing.T, ch chan request) request {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("no webhook arrived")
		return request{}
	}
}

// respondInBackground creates a background response with the official SDK through the
// stack's OpenAI API, and returns the client, the response, the webhook that arrives at
// got, and what the SDK's Unwrap makes of it.
func respondInBackground(t *testing.T, st *emulate.Stack, got chan request) (sdk.Client, *responses.Response, request, *webhooks.UnwrapWebhookEventUnion, error) {
	t.Helper()
	c := sdk.NewClient(option.WithBaseURL(st.OpenAIURL), option.WithAPIKey("anything"), option.WithWebhookSecret(st.WebhookSecret))
	r, err := c.Responses.New(context.Background(), responses.ResponseNewParams{
		Model: "gpt-5-mini", Background: sdk.Bool(true), Input: responses.ResponseNewParamsInputUnion{OfString: sdk.String("hi")},
	})
	if err != nil {
		t.Fatal(err)
	}
	req := next(t, got)
	ev, err := c.Webhooks.Unwrap(req.body, req.header)
	return c, r, req, ev, err
}

// TestStack runs the emulator with its herald server and checks that a background
// response's webhook arrives as OpenAI sends it, verified by the official SDK.
func TestStack(t *testing.T) {
	hook, got := receiver(t)
	ctx := context.Background()
	st, err := emulate.Start(ctx, emulate.Config{
		Addr: "127.0.0.1:0", HeraldAddr: "127.0.0.1:0", WebhookURLs: []string{hook.URL + "/webhooks"},
		OpenAI: openai.Config{Delay: 10 * time.Millisecond, BatchDelay: 30 * time.Millisecond}, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	}()
	if len(st.Endpoints) != 1 || st.App.UID != emulate.AppUID || st.WebhookSecret == "" {
		t.Fatalf("stack: %+v", st)
	}
	c, r, req, ev, err := respondInBackground(t, st, got)
	if err != nil {
		t.Fatalf("the SDK refused the webhook: %v\n%s", err, req.body)
	}
	if ev.Type != "response.completed" || ev.Data.ID != r.ID || ev.Object != "event" {
		t.Fatalf("event %s", req.body)
	}
	if ua := req.header.Get("User-Agent"); ua != openai.UserAgent {
		t.Errorf("user-agent %q", ua)
	}
	if ct := req.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content-type %q", ct)
	}

	// The delivery is in herald's logs, and another endpoint added through herald's
	// API gets the next events too.
	waitFor(t, func() bool {
		ds, _, err := st.Herald.ListDeliveries(ctx, st.App.ID, client.ListDeliveriesParams{Status: client.DeliverySucceeded})
		return err == nil && len(ds) == 1
	})
	hook2, got2 := receiver(t)
	if _, err := st.Herald.CreateEndpoint(ctx, st.App.ID, client.EndpointInput{URL: hook2.URL, EventTypes: []string{"batch.*"}}); err != nil {
		t.Fatal(err)
	}
	b, err := c.Batches.New(ctx, sdk.BatchNewParams{InputFileID: "file-1", Endpoint: sdk.BatchNewParamsEndpointV1Responses, CompletionWindow: sdk.BatchNewParamsCompletionWindow24h})
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range []chan request{got, got2} {
		req := next(t, ch)
		if _, err := c.Webhooks.Unwrap(req.body, req.header); ch == got && err != nil {
			t.Fatal(err)
		}
		if string(req.body) == "" || !contains(req.body, b.ID) || !contains(req.body, `"type":"batch.completed"`) {
			t.Errorf("batch event %s", req.body)
		}
	}
}

// TestStackReuse restarts on the same data directory: the app and endpoint are kept,
// and a new secret given on the command line replaces the old one.
func TestStackReuse(t *testing.T) {
	hook, _ := receiver(t)
	dir := t.TempDir()
	cfg := emulate.Config{Addr: "127.0.0.1:0", HeraldAddr: "127.0.0.1:0", DataDir: dir, WebhookURLs: []string{hook.URL},
		Logger: slog.New(slog.DiscardHandler)}
	st, err := emulate.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	first, secret := st.Endpoints[0].ID, st.WebhookSecret
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = emulate.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st.Endpoints[0].ID != first || st.WebhookSecret != secret {
		t.Errorf("restart: endpoint %s secret %s, want %s %s", st.Endpoints[0].ID, st.WebhookSecret, first, secret)
	}
	st.Close()
	cfg.WebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	st, err = emulate.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	secrets, err := st.Herald.EndpointSecrets(context.Background(), st.App.ID, first)
	if err != nil {
		t.Fatal(err)
	}
	valid := 0
	for _, s := range secrets {
		if s.ExpiresAt == nil || s.ExpiresAt.After(time.Now()) {
			valid++
			if s.Secret != cfg.WebhookSecret {
				t.Errorf("secret %s still signs", s.Secret)
			}
		}
	}
	if valid != 1 {
		t.Errorf("%d signing secrets, want 1: %+v", valid, secrets)
	}
}

func TestStackErrors(t *testing.T) {
	_, err := emulate.Start(context.Background(), emulate.Config{Addr: "127.0.0.1:0", HeraldAddr: "127.0.0.1:0",
		WebhookURLs: []string{"http://127.0.0.1:1/hook"}, WebhookSecret: "whsec_!!", Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		t.Fatal("a bad secret was accepted")
	}
	_, err = emulate.Start(context.Background(), emulate.Config{Addr: "127.0.0.1:0", HeraldAddr: "127.0.0.1:0",
		WebhookURLs: []string{"ftp://example.com"}, Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		t.Fatal("an ftp URL was accepted")
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStackOnRunningServer publishes through a herald server that runs already: the
// events reach its endpoints, signed by it, and closing the stack leaves it running.
func TestStackOnRunningServer(t *testing.T) {
	ctx := context.Background()
	srv := servertest.Start(t, nil)
	heraldURL, key := srv.URL, srv.APIKey

	if _, err := emulate.Start(ctx, emulate.Config{Addr: "127.0.0.1:0", Server: heraldURL}); err == nil {
		t.Fatal("a herald server without an API key was accepted")
	}
	hook, got := receiver(t)
	st, err := emulate.Start(ctx, emulate.Config{
		Addr: "127.0.0.1:0", Server: heraldURL + "/", APIKey: key, WebhookURLs: []string{hook.URL + "/webhooks"},
		OpenAI: openai.Config{Delay: 10 * time.Millisecond}, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.HeraldURL != heraldURL || st.App.UID != emulate.AppUID || len(st.Endpoints) != 1 {
		t.Fatalf("stack: %+v", st)
	}
	_, r, req, ev, err := respondInBackground(t, st, got)
	if err != nil || ev.Type != "response.completed" || ev.Data.ID != r.ID {
		t.Fatalf("webhook %s: %v", req.body, err)
	}
	if ua := req.header.Get("User-Agent"); !strings.HasPrefix(ua, "herald/") {
		t.Errorf("user-agent %q, want the running server's own", ua)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	apps, _, err := client.New(heraldURL, key, nil).ListApps(ctx, client.ListParams{})
	if err != nil || len(apps) != 1 || apps[0].UID != emulate.AppUID {
		t.Fatalf("the running server after the stack closed: %v, %v", apps, err)
	}
}
