package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/emulate"
	emulator "github.com/heraldhq/herald/internal/emulate/openai"
	"github.com/heraldhq/herald/webhook"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/webhooks"
)

// TestRegister: the bot's endpoint is created at the first start and reused at
// the next, with the bot's event types added back when they are missing and a new
// secret; the previous secret keeps verifying (for 24 hours), as a replica that has
// not restarted needs. The emulator's test event, sent through the SDK, checks
// which secrets verify at the bot.
func TestRegister(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	emu, err := emulate.Start(ctx, emulate.Config{Addr: "127.0.0.1:0", HeraldAddr: "127.0.0.1:0",
		OpenAI: emulator.Config{Delay: 10 * time.Millisecond}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	ai := openai.NewClient(option.WithBaseURL(emu.OpenAIURL), option.WithAPIKey("sk-emulated"), option.WithMaxRetries(0))

	// The bot's webhook receiver, verifying with the secret of the moment.
	var current atomic.Pointer[webhook.Handler]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { current.Load().ServeHTTP(w, r) }))
	defer srv.Close()
	url := srv.URL + "/webhooks"
	receiveWith := func(secret string) {
		v, err := webhook.NewOpenAI(secret)
		if err != nil {
			t.Fatal(err)
		}
		current.Store(NewBot(ai, "gpt-5-mini", NewMemoryStore(), quiet).Webhooks(v))
	}
	testStatus := func(id string) int64 {
		res, err := ai.Webhooks.Test(ctx, id, webhooks.WebhookTestParams{EventType: "response.completed"})
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode
	}

	id, first, err := Register(ctx, ai, url, quiet)
	if err != nil {
		t.Fatal(err)
	}
	eps := listEndpoints(t, ai)
	if len(eps) != 1 || eps[0].ID != id || eps[0].URL != url || !slices.Equal(eps[0].EventTypes, webhookEvents) || eps[0].Name != "supportbot" {
		t.Fatalf("after the first start: %+v", eps)
	}
	receiveWith(first)
	if code := testStatus(id); code != http.StatusOK {
		t.Fatalf("test at the first start: %d", code)
	}

	// Someone narrowed the endpoint to other events; the next start adds the bot's back.
	if _, err := ai.Webhooks.Update(ctx, id, webhooks.WebhookUpdateParams{EventTypes: []string{"batch.completed"}}); err != nil {
		t.Fatal(err)
	}
	again, second, err := Register(ctx, ai, url, quiet)
	if err != nil {
		t.Fatal(err)
	}
	eps = listEndpoints(t, ai)
	if again != id || second == first || len(eps) != 1 || !slices.Equal(eps[0].EventTypes, append([]string{"batch.completed"}, webhookEvents...)) {
		t.Fatalf("after a restart: id %s (want %s), endpoints %+v", again, id, eps)
	}
	for _, secret := range []string{second, first} {
		receiveWith(secret)
		if code := testStatus(id); code != http.StatusOK {
			t.Errorf("after a restart, a bot with secret %s answers the test %d", secret, code)
		}
	}
	// Once the old secret is dropped, a bot that still has it refuses the webhooks.
	if _, err := ai.Webhooks.RotateSecret(ctx, id, webhooks.WebhookRotateSecretParams{}); err != nil {
		t.Fatal(err)
	}
	receiveWith(first)
	if code := testStatus(id); code < 400 {
		t.Errorf("a bot with a dropped secret answers the test %d", code)
	}
}

// listEndpoints returns every webhook endpoint of the project.
func listEndpoints(t *testing.T, ai openai.Client) []webhooks.WebhookEndpoint {
	t.Helper()
	var out []webhooks.WebhookEndpoint
	iter := ai.Webhooks.ListAutoPaging(context.Background(), webhooks.WebhookListParams{})
	for iter.Next() {
		out = append(out, iter.Current())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
