package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/server/servertest"
	"github.com/heraldhq/herald/webhook"
	"github.com/heraldhq/herald/webhook/webhooktest"
)

// ed25519Receiver is a receiver that knows only one key: it verifies through
// webhook.NewHandler (inside webhooktest.Server) with NewStandard(key).
func ed25519Receiver(t *testing.T, key string) *webhooktest.Server {
	t.Helper()
	v, err := webhook.NewStandard(key)
	if err != nil {
		t.Fatal(err)
	}
	srv := webhooktest.NewServer(v)
	t.Cleanup(srv.Close)
	return srv
}

func publish(t *testing.T, c *client.Client, app, typ string) string {
	t.Helper()
	body, err := webhooktest.SampleEvent(typ, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	m, _, _, err := c.Publish(context.Background(), app, client.MessageInput{Type: typ, Payload: body})
	if err != nil {
		t.Fatal(err)
	}
	return m.ID
}

// TestEndpointEd25519 delivers from an endpoint created with a whsk_ signing key to a
// receiver that holds only the matching whpk_ public key.
func TestEndpointEd25519(t *testing.T) {
	c, _ := testServer(t, nil)
	ctx := context.Background()
	app := servertest.NewApp(t, c, client.AppInput{Name: "Acme", UID: "acme"})
	key := webhook.NewEd25519Key()
	rcv := ed25519Receiver(t, key.Public().Reveal())
	ep, err := c.CreateEndpoint(ctx, app.ID, client.EndpointInput{URL: rcv.URL + "/hook", Secret: key.Reveal()})
	if err != nil {
		t.Fatalf("create an endpoint with a whsk_ key: %v", err)
	}
	if secrets, err := c.EndpointSecrets(ctx, app.ID, ep.ID); err != nil || len(secrets) != 1 || secrets[0].Secret != key.Reveal() {
		t.Fatalf("endpoint secrets = %+v, %v; want the whsk_ key", secrets, err)
	}
	id := publish(t, c, app.ID, "response.completed")
	events, err := rcv.Wait(1, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	e := events[0]
	if e.ID != id || e.Type != "response.completed" {
		t.Errorf("received %s %s, want %s response.completed", e.ID, e.Type, id)
	}
	if sig := e.Header.Get(webhook.HeaderSignature); !strings.HasPrefix(sig, "v1a,") || strings.Contains(sig, " ") {
		t.Errorf("webhook-signature = %q, want one v1a entry", sig)
	}
}

// TestEndpointRotationHMACToEd25519 rotates endpoints from a whsec_ secret to a whsk_
// key: during the grace period every delivery carries both signatures, so a receiver
// that still holds only the old whsec_ and one that already holds only the whpk_ both
// verify it.
func TestEndpointRotationHMACToEd25519(t *testing.T) {
	c, _ := testServer(t, nil)
	ctx := context.Background()
	app := servertest.NewApp(t, c, client.AppInput{Name: "Acme", UID: "acme"})
	oldSecret := webhook.NewHMACSecret().Reveal()
	key := webhook.NewEd25519Key()
	receivers := map[string]*webhooktest.Server{
		"old whsec_": ed25519Receiver(t, oldSecret),
		"new whpk_":  ed25519Receiver(t, key.Public().Reveal()),
	}
	grace := 3600
	for name, rcv := range receivers {
		ep, err := c.CreateEndpoint(ctx, app.ID, client.EndpointInput{URL: rcv.URL + "/hook", Secret: oldSecret})
		if err != nil {
			t.Fatal(err)
		}
		secrets, err := c.RotateEndpointSecret(ctx, app.ID, ep.ID, client.RotateSecretInput{Secret: key.Reveal(), GracePeriodSeconds: &grace})
		if err != nil {
			t.Fatalf("%s: rotate to a whsk_ key: %v", name, err)
		}
		if len(secrets) != 2 {
			t.Fatalf("%s: %d secrets after rotation, want the new key and the old secret", name, len(secrets))
		}
	}
	id := publish(t, c, app.ID, "batch.completed")
	for name, rcv := range receivers {
		events, err := rcv.Wait(1, 20*time.Second)
		if err != nil {
			t.Fatalf("receiver with the %s: %v", name, err)
		}
		sig := events[0].Header.Get(webhook.HeaderSignature)
		if events[0].ID != id || !strings.Contains(sig, "v1,") || !strings.Contains(sig, "v1a,") {
			t.Errorf("receiver with the %s got %s signed %q, want %s signed with v1 and v1a", name, events[0].ID, sig, id)
		}
	}
}
