package client_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/heraldhq/herald/client"
)

func TestTestEndpoint(t *testing.T) {
	c, st, _ := newServer(t)
	ctx := context.Background()
	a, err := c.CreateApp(ctx, client.AppInput{Name: "Acme", UID: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := c.CreateEndpoint(ctx, "acme", client.EndpointInput{URL: "https://example.com/hook", EventTypes: []string{"invoice.*"}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := c.CreateEndpoint(ctx, "acme", client.EndpointInput{URL: "https://example.com/other"})
	if err != nil {
		t.Fatal(err)
	}

	// To this endpoint alone, whatever its filter, with the payload byte for byte.
	payload := "{\n  \"sip\": \"<sip:+1@example.com>\"\n}"
	m, err := c.TestEndpoint(ctx, "acme", e.ID, client.TestEventInput{EventType: "customer.created", Payload: json.RawMessage(payload)})
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != "customer.created" || m.Deliveries == nil || *m.Deliveries != 1 {
		t.Errorf("TestEndpoint = %+v", m)
	}
	if stored, err := st.GetMessage(ctx, a.ID, m.ID); err != nil || string(stored.Payload) != payload {
		t.Errorf("stored payload %q, %v; want %q", stored.Payload, err, payload)
	}
	ds, _, err := c.ListDeliveries(ctx, "acme", client.ListDeliveriesParams{MessageID: m.ID})
	if err != nil || len(ds) != 1 || ds[0].EndpointID != e.ID {
		t.Errorf("deliveries of the test message: %+v, %v; want one, to %s and not %s", ds, err, e.ID, other.ID)
	}

	// Without a payload, the server's default.
	m, err = c.TestEndpoint(ctx, "acme", e.ID, client.TestEventInput{EventType: "invoice.paid"})
	if err != nil || !strings.Contains(string(m.Payload), `"test":true`) {
		t.Errorf("TestEndpoint without a payload = %+v, %v", m, err)
	}
	if _, err := c.TestEndpoint(ctx, "acme", e.ID, client.TestEventInput{EventType: "invoice.paid", Payload: json.RawMessage(`{nope`)}); err == nil ||
		!strings.Contains(err.Error(), "encode request") {
		t.Errorf("invalid payload: %v", err)
	}
	if _, err := c.TestEndpoint(ctx, "acme", e.ID, client.TestEventInput{EventType: "bad type!"}); apiError(t, err).Code != client.CodeInvalidField {
		t.Errorf("bad type: %v", err)
	}
	if _, err := c.TestEndpoint(ctx, "acme", "ep_nope", client.TestEventInput{EventType: "invoice.paid"}); apiError(t, err).Code != client.CodeNotFound {
		t.Errorf("unknown endpoint: %v", err)
	}
}
