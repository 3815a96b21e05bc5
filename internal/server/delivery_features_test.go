package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/server/servertest"
)

// TestTransformationAndAuthEndToEnd sets a transformation and bearer credentials on an
// endpoint of one app through the API, next to a plain endpoint of another app on the
// same receiver: the first app's webhooks arrive reshaped, signed over the new body and
// authenticated (or cancelled, as the script says), the other app's as published and
// without credentials; the API shows each attempt's request headers with the
// credentials redacted and the cancelled delivery as such.
func TestTransformationAndAuthEndToEnd(t *testing.T) {
	c, _ := testServer(t, nil)
	ctx := context.Background()
	a := servertest.NewApp(t, c, client.AppInput{Name: "With features"})
	b := servertest.NewApp(t, c, client.AppInput{Name: "Plain"})
	h := newHook(t, nil)
	script := `function handler(webhook) {
  if (webhook.payload.skip) { webhook.cancel = true; return webhook; }
  webhook.payload = {text: webhook.eventType + " " + webhook.payload.id};
  return webhook;
}`
	epA, err := c.CreateEndpoint(ctx, a.ID, client.EndpointInput{URL: h.srv.URL + "/a", Transformation: script,
		Headers: map[string]string{"X-Api-Key": "key-0123456789"}, Auth: &client.AuthInput{Type: client.AuthBearer, Token: "tok-0123456789"}})
	if err != nil {
		t.Fatal(err)
	}
	if epA.Auth == nil || epA.Auth.Type != client.AuthBearer || !epA.Auth.SecretSet || epA.Transformation != script {
		t.Fatalf("created %+v", epA)
	}
	epB, err := c.CreateEndpoint(ctx, b.ID, client.EndpointInput{URL: h.srv.URL + "/b"})
	if err != nil {
		t.Fatal(err)
	}
	// Both endpoints on one receiver: verify each request against its own endpoint's secret.
	secrets, _ := c.EndpointSecrets(ctx, a.ID, epA.ID)
	more, _ := c.EndpointSecrets(ctx, b.ID, epB.ID)
	h.useSecrets(t, append(secrets, more...))

	for _, p := range []struct{ app, payload string }{{a.ID, `{"id": "o1"}`}, {a.ID, `{"id": "o2", "skip": true}`}, {b.ID, `{"id": "o3"}`}} {
		if _, _, _, err := c.Publish(ctx, p.app, client.MessageInput{Type: "order.paid", Payload: json.RawMessage(p.payload)}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "two webhooks", func() bool { return len(h.requests()) == 2 })
	waitFor(t, "the cancelled delivery", func() bool {
		ds, _, err := c.ListDeliveries(ctx, a.ID, client.ListDeliveriesParams{Status: client.DeliveryCancelled})
		return err == nil && len(ds) == 1
	})
	if _, bad := h.received(); len(bad) > 0 {
		t.Errorf("bad signatures: %v", bad)
	}
	for _, r := range h.requests() {
		switch string(r.body) {
		case `{"text":"order.paid o1"}`:
			if r.header.Get("Authorization") != "Bearer tok-0123456789" || r.header.Get("X-Api-Key") != "key-0123456789" {
				t.Errorf("app A's webhook came with %v", r.header)
			}
		case `{"id": "o3"}`:
			if r.header.Get("Authorization") != "" || r.header.Get("X-Api-Key") != "" {
				t.Errorf("app B's webhook came with app A's credentials: %v", r.header)
			}
		default:
			t.Errorf("unexpected webhook %s", r.body)
		}
	}

	atts, _, err := c.ListAttempts(ctx, a.ID, client.ListAttemptsParams{EndpointID: epA.ID})
	if err != nil || len(atts) != 2 {
		t.Fatalf("attempts of app A: %+v, %v", atts, err)
	}
	for _, at := range atts {
		switch at.Outcome {
		case client.OutcomeCancelled:
			if len(at.RequestHeaders) != 0 || !strings.Contains(at.Error, "cancelled") {
				t.Errorf("cancelled attempt %+v", at)
			}
		case client.OutcomeSucceeded:
			rh := at.RequestHeaders
			if rh["Authorization"] != "[redacted]" || rh["X-Api-Key"] != "[redacted]" || !strings.HasPrefix(rh["Webhook-Signature"], "v1,") {
				t.Errorf("request headers %v", rh)
			}
		default:
			t.Errorf("attempt %+v", at)
		}
		raw, _ := json.Marshal(at)
		if strings.Contains(string(raw), "tok-0123456789") || strings.Contains(string(raw), "key-0123456789") {
			t.Errorf("an attempt shows a credential: %s", raw)
		}
	}
	// The other app's key cannot read or change app A's endpoint.
	keyB, err := c.CreateAPIKey(ctx, b.ID, client.APIKeyInput{Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	cb := client.New(c.BaseURL(), keyB.Key, nil)
	if _, err := cb.UpdateEndpoint(ctx, a.ID, epA.ID, client.EndpointUpdate{RemoveAuth: true}); err == nil {
		t.Error("app B's key changed app A's endpoint")
	}
	if got, _ := c.GetEndpoint(ctx, a.ID, epA.ID); got.Auth == nil {
		t.Error("app A's endpoint lost its credentials")
	}
}
