package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/webhooks"
)

// webhookEvents are the events the bot acts on: how a background response ended.
var webhookEvents = []string{"response.completed", "response.failed", "response.cancelled", "response.incomplete"}

// Register makes sure the project's webhooks reach url and returns the secret that
// signs them. It reuses the project's endpoint with that URL, adding the bot's event
// types if it lacks some, or creates one. The API shows an endpoint's secret only
// when it is created or rotated, so a reused endpoint gets a new secret; the old
// one keeps signing for 24 hours, so a replica that still verifies with it, and
// deliveries already on their way, keep working.
func Register(ctx context.Context, ai openai.Client, url string, log *slog.Logger) (id, secret string, err error) {
	existing, err := findEndpoint(ctx, ai, url)
	if err != nil {
		return "", "", err
	}
	if existing == nil {
		ep, err := ai.Webhooks.New(ctx, webhooks.WebhookNewParams{Name: "supportbot", URL: url, EventTypes: webhookEvents})
		if err != nil {
			return "", "", fmt.Errorf("register webhook endpoint %s: %w", url, err)
		}
		log.Info("webhook endpoint registered", "id", ep.ID, "url", url)
		return ep.ID, ep.SigningSecret, nil
	}
	if missing := slices.DeleteFunc(slices.Clone(webhookEvents), func(t string) bool { return slices.Contains(existing.EventTypes, t) }); len(missing) > 0 {
		types := append(slices.Clone(existing.EventTypes), missing...)
		if _, err := ai.Webhooks.Update(ctx, existing.ID, webhooks.WebhookUpdateParams{EventTypes: types}); err != nil {
			return "", "", fmt.Errorf("add %v to webhook endpoint %s: %w", missing, existing.ID, err)
		}
	}
	ep, err := ai.Webhooks.RotateSecret(ctx, existing.ID, webhooks.WebhookRotateSecretParams{KeepOldSecretActiveFor24Hours: openai.Bool(true)})
	if err != nil {
		return "", "", fmt.Errorf("rotate the secret of webhook endpoint %s: %w", existing.ID, err)
	}
	log.Info("webhook endpoint reused, with a new secret", "id", ep.ID, "url", url)
	return ep.ID, ep.SigningSecret, nil
}

// findEndpoint returns the project's webhook endpoint with url, or nil.
func findEndpoint(ctx context.Context, ai openai.Client, url string) (*webhooks.WebhookEndpoint, error) {
	iter := ai.Webhooks.ListAutoPaging(ctx, webhooks.WebhookListParams{Limit: openai.Int(100)})
	for iter.Next() {
		if ep := iter.Current(); ep.URL == url {
			return &ep, nil
		}
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	return nil, nil
}
