package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/server"
	"github.com/heraldhq/herald/internal/server/servertest"
	"github.com/heraldhq/herald/internal/testproxy"
)

// TestPayloadFiltersEndToEnd gives two endpoints of one app different payload filters
// and checks that each receives exactly its subset of the published messages, and that
// an endpoint without a filter receives them all.
func TestPayloadFiltersEndToEnd(t *testing.T) {
	c, _ := testServer(t, nil)
	ctx := context.Background()
	app := servertest.NewApp(t, c, client.AppInput{Name: "Shop"})
	filters := map[string]string{
		"big":     `{"payload": {"amount": {"$gte": 1000}}}`,
		"eu-vip":  `{"payload": {"currency": {"$in": ["eur", "gbp"]}, "customer.tags": "vip"}}`,
		"no-test": `{"$not": {"payload.test": true}}`,
		"all":     ``,
	}
	hooks := map[string]*hook{}
	for name, f := range filters {
		hooks[name] = newHook(t, nil)
		in := client.EndpointInput{URL: hooks[name].srv.URL + "/" + name, EventTypes: []string{"order.*"}}
		if f != "" {
			in.Filter = json.RawMessage(f)
		}
		ep, err := c.CreateEndpoint(ctx, app.ID, in)
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		secrets, err := c.EndpointSecrets(ctx, app.ID, ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		hooks[name].useSecrets(t, secrets)
	}

	orders := []string{
		`{"id": "o1", "amount": 4200, "currency": "usd", "customer": {"tags": ["vip"]}}`,
		`{"id": "o2", "amount": 500, "currency": "eur", "customer": {"tags": ["vip", "new"]}}`,
		`{"id": "o3", "amount": 1500, "currency": "gbp", "customer": {"tags": []}}`,
		`{"id": "o4", "amount": 10, "currency": "eur", "customer": {"tags": ["new"]}, "test": true}`,
		`{"id": "o5", "amount": 99999, "currency": "eur", "customer": {"tags": ["vip"]}, "test": true}`,
	}
	want := map[string][]string{
		"big":     {"o1", "o3", "o5"},
		"eu-vip":  {"o2", "o5"},
		"no-test": {"o1", "o2", "o3"},
		"all":     {"o1", "o2", "o3", "o4", "o5"},
	}
	fanout := map[string]int{"o1": 3, "o2": 3, "o3": 3, "o4": 1, "o5": 3}
	for _, o := range orders {
		var id struct{ ID string }
		json.Unmarshal([]byte(o), &id)
		_, n, _, err := c.Publish(ctx, app.ID, client.MessageInput{Type: "order.created", Payload: json.RawMessage(o)})
		if err != nil {
			t.Fatal(err)
		}
		if n != fanout[id.ID] {
			t.Errorf("order %s fanned out to %d endpoints, want %d", id.ID, n, fanout[id.ID])
		}
	}
	for name, h := range hooks {
		waitFor(t, name+" to receive its orders", func() bool { got, _ := h.received(); return len(got) >= len(want[name]) })
	}
	for name, h := range hooks {
		_, bad := h.received()
		if len(bad) > 0 {
			t.Errorf("%s: bad signatures: %v", name, bad)
		}
		var ids []string
		for _, r := range h.requests() {
			var o struct{ ID string }
			if err := json.Unmarshal(r.body, &o); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, o.ID)
		}
		slices.Sort(ids)
		if fmt.Sprint(ids) != fmt.Sprint(want[name]) {
			t.Errorf("%s received %v, want %v", name, ids, want[name])
		}
	}
}

// TestRetryControlEndToEnd checks an endpoint's own retry schedule and the receiver's
// webhook-delivery answers: abort ends a delivery at once, disable also disables the
// endpoint.
func TestRetryControlEndToEnd(t *testing.T) {
	c, _ := testServer(t, nil) // the server's schedule: three retries
	ctx := context.Background()
	app := servertest.NewApp(t, c, client.AppInput{Name: "Retry"})
	failing := func(directive string) func(int, http.ResponseWriter) {
		return func(_ int, w http.ResponseWriter) {
			if directive != "" {
				w.Header().Set("Webhook-Delivery", directive)
			}
			w.WriteHeader(http.StatusInternalServerError)
		}
	}
	cases := []struct {
		name         string
		hook         *hook
		schedule     []string
		wantAttempts int
		wantState    string
		wantError    string
	}{
		{"own schedule", newHook(t, failing("")), []string{"1s"}, 2, client.EndpointEnabled, "HTTP 500"},
		{"abort", newHook(t, failing("abort")), nil, 1, client.EndpointEnabled, "webhook-delivery: abort"},
		{"disable", newHook(t, failing("disable")), nil, 1, client.EndpointDisabled, "webhook-delivery: disable"},
	}
	for i, tc := range cases {
		typ := fmt.Sprintf("case.c%d", i) // one endpoint per message
		ep, err := c.CreateEndpoint(ctx, app.ID, client.EndpointInput{URL: tc.hook.srv.URL, RetrySchedule: tc.schedule, EventTypes: []string{typ}})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if _, _, _, err := c.Publish(ctx, app.ID, client.MessageInput{Type: typ, Payload: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
		var d *client.Delivery
		waitFor(t, tc.name+": the delivery to fail", func() bool {
			ds, _, err := c.ListDeliveries(ctx, app.ID, client.ListDeliveriesParams{EndpointID: ep.ID})
			if err != nil || len(ds) == 0 {
				return false
			}
			d = ds[0]
			return d.Status == client.DeliveryFailed
		})
		if d.Attempts != tc.wantAttempts || !strings.Contains(d.LastError, tc.wantError) {
			t.Errorf("%s: %d attempts, last error %q; want %d and %q", tc.name, d.Attempts, d.LastError, tc.wantAttempts, tc.wantError)
		}
		got, err := c.GetEndpoint(ctx, app.ID, ep.ID)
		if err != nil || got.State != tc.wantState {
			t.Errorf("%s: endpoint %+v, %v; want state %s", tc.name, got, err, tc.wantState)
		}
		if n := len(tc.hook.requests()); n != tc.wantAttempts {
			t.Errorf("%s: the receiver saw %d requests, want %d", tc.name, n, tc.wantAttempts)
		}
	}
}

// TestEgressProxyEndToEnd sends webhooks through an HTTP CONNECT proxy given as
// server.Config.EgressProxy: they arrive, and the proxy is asked for the checked address.
func TestEgressProxyEndToEnd(t *testing.T) {
	proxy := testproxy.New(t)
	proxyURL, _ := url.Parse(proxy.URL)
	c, _ := testServer(t, func(cfg *server.Config) { cfg.EgressProxy = proxyURL })
	ctx := context.Background()
	app := servertest.NewApp(t, c, client.AppInput{Name: "Proxied"})
	h := newHook(t, nil)
	if _, err := c.CreateEndpoint(ctx, app.ID, client.EndpointInput{URL: h.srv.URL}); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := c.Publish(ctx, app.ID, client.MessageInput{Type: "x.y", Payload: json.RawMessage(`{"via":"proxy"}`)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the webhook through the proxy", func() bool { return len(h.requests()) == 1 })
	if targets, _ := proxy.Requests(); len(targets) != 1 || targets[0] != h.srv.Listener.Addr().String() {
		t.Errorf("the proxy was asked for %q, want [%s]", targets, h.srv.Listener.Addr())
	}
}

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
