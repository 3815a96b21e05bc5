package server

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/heraldhq/herald/client"
)

// TestPayloadFiltersEndToEnd gives two endpoints of one app different payload filters
// and checks that each receives exactly its subset of the published messages, and that
// an endpoint without a filter receives them all.
func TestPayloadFiltersEndToEnd(t *testing.T) {
	c, _ := testServer(t, nil)
	ctx := context.Background()
	app, err := c.CreateApp(ctx, client.AppInput{Name: "Shop"})
	if err != nil {
		t.Fatal(err)
	}
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
