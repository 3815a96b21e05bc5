package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

// testFilteredFanOut gives endpoints of one app different payload filters and checks
// that each message becomes deliveries to exactly the endpoints whose filter it
// matches, among those subscribed to its type; filters also see the message's source
// and forwarded headers as metadata.
func testFilteredFanOut(t *testing.T, s store.Store) {
	a := newApp(t, s)
	filtered := func(f string, types ...string) *domain.Endpoint {
		t.Helper()
		flt, err := domain.ParseFilter([]byte(f))
		must(t, err)
		return newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.Filter, e.EventTypes = flt, types })
	}
	eps := map[string]*domain.Endpoint{
		"all":     newEndpoint(t, s, a.ID, nil),
		"big":     filtered(`{"payload": {"amount": {"$gte": 1000}}}`),
		"eu-vip":  filtered(`{"payload": {"currency": {"$in": ["eur", "gbp"]}, "customer.tags": "vip"}}`),
		"no-test": filtered(`{"$not": {"payload.test": true}}`, "order.*"),
		"stripe":  filtered(`{"metadata": {"X-Herald-Original-Stripe-Account": "acct_1"}}`),
	}
	// An endpoint of another app with a filter every message matches gets nothing.
	other := newApp(t, s)
	flt, err := domain.ParseFilter([]byte(`{"type": {"$exist": true}}`))
	must(t, err)
	newEndpoint(t, s, other.ID, func(e *domain.Endpoint) { e.Filter = flt })

	messages := []struct {
		typ, payload string
		headers      map[string]string
		want         []string
	}{
		{"order.paid", `{"amount": 4200, "currency": "usd", "customer": {"tags": ["vip"]}}`, nil, []string{"all", "big", "no-test"}},
		{"order.paid", `{"amount": 500, "currency": "eur", "customer": {"tags": ["vip", "new"]}}`, nil, []string{"all", "eu-vip", "no-test"}},
		{"order.paid", `{"amount": 99999, "currency": "gbp", "customer": {"tags": ["vip"]}, "test": true}`, nil, []string{"all", "big", "eu-vip"}},
		{"invoice.paid", `{"amount": 10}`, map[string]string{"X-Herald-Original-Stripe-Account": "acct_1"}, []string{"all", "stripe"}},
		{"invoice.paid", `"not an object"`, nil, []string{"all"}},
	}
	for i, m := range messages {
		res := publish(t, s, a.ID, m.typ, base.Add(time.Duration(i)*time.Second), func(in *store.PublishInput) {
			in.Message.Payload, in.Message.Headers = json.RawMessage(m.payload), m.headers
		})
		var got []string
		for _, d := range res.Deliveries {
			for name, e := range eps {
				if e.ID == d.EndpointID {
					got = append(got, name)
				}
			}
		}
		slices.Sort(got)
		if fmt.Sprint(got) != fmt.Sprint(m.want) || len(res.Deliveries) != len(m.want) {
			t.Errorf("message %d (%s) went to %v (%d deliveries), want %v", i, m.payload, got, len(res.Deliveries), m.want)
		}
	}
	// The filters read back as they were given.
	got, err := s.GetEndpoint(ctx, a.ID, eps["big"].ID)
	must(t, err)
	if got.Filter.String() != eps["big"].Filter.String() {
		t.Errorf("filter read back as %s, want %s", got.Filter, eps["big"].Filter)
	}
}

// testEndpointTransformationAndAuth checks that an endpoint's transformation and
// credentials are stored, read back (by get and list) and changed, and that nil
// credentials remove them.
func testEndpointTransformationAndAuth(t *testing.T, s store.Store) {
	a := newApp(t, s)
	const script = "function handler(webhook) { return webhook }\n"
	auth := &domain.Auth{Type: domain.AuthOAuth2, TokenURL: "https://auth.example/token", ClientID: "id",
		ClientSecret: "s3cret", Scopes: []string{"a", "b"}, CAPEM: "-----BEGIN CERTIFICATE-----"}
	e := newEndpoint(t, s, a.ID, func(e *domain.Endpoint) { e.Transformation, e.Auth = script, auth })
	plain := newEndpoint(t, s, a.ID, nil)
	check := func(when string, want *domain.Endpoint) {
		t.Helper()
		got, err := s.GetEndpoint(ctx, a.ID, want.ID)
		must(t, err)
		eps, _, err := s.ListEndpoints(ctx, a.ID, store.Page{})
		must(t, err)
		i := slices.IndexFunc(eps, func(x *domain.Endpoint) bool { return x.ID == want.ID })
		for _, g := range []*domain.Endpoint{got, eps[i]} {
			if g.Transformation != want.Transformation || !g.Auth.Equal(want.Auth) {
				t.Errorf("%s: transformation %q, auth %+v; want %q, %+v", when, g.Transformation, g.Auth, want.Transformation, want.Auth)
			}
		}
	}
	check("created", e)
	check("created without", plain)

	e.Transformation = "function handler(w) { w.cancel = true; return w }"
	e.Auth = &domain.Auth{Type: domain.AuthBasic, Username: "u", Password: "p"}
	must(t, s.UpdateEndpoint(ctx, e))
	check("updated", e)
	e.Transformation, e.Auth = "", nil
	must(t, s.UpdateEndpoint(ctx, e))
	check("removed", e)
}

// testAttemptRequestHeaders checks that an attempt's request headers are stored and
// listed, and that an attempt that sent nothing (a cancelled delivery) leaves the
// endpoint's failure streak as it was, where a delivered one clears it.
func testAttemptRequestHeaders(t *testing.T, s store.Store) {
	a := newApp(t, s)
	e := newEndpoint(t, s, a.ID, nil)
	publish(t, s, a.ID, "x.y", base, nil)
	publish(t, s, a.ID, "x.y", base, nil)
	publish(t, s, a.ID, "x.y", base, nil)
	c := claim(t, s, "node", base, 10)
	if len(c) != 3 {
		t.Fatalf("claimed %d, want 3", len(c))
	}
	failed := result(c[0], base, domain.DeliveryFailed, nil, 500)
	failed.Attempt.RequestHeaders = map[string]string{"Webhook-Id": c[0].Delivery.MessageID, "Authorization": domain.RedactedValue}
	must(t, s.Complete(ctx, []*store.AttemptResult{failed}))

	cancelled := result(c[1], base.Add(time.Second), domain.DeliveryCancelled, nil, 0)
	cancelled.Attempt.Outcome, cancelled.EndpointFailed, cancelled.Unsent = domain.OutcomeCancelled, false, true
	must(t, s.Complete(ctx, []*store.AttemptResult{cancelled}))
	got, err := s.GetEndpoint(ctx, a.ID, e.ID)
	must(t, err)
	if got.FailingSince == nil {
		t.Error("a cancelled delivery cleared the endpoint's failure streak")
	}
	d, err := s.GetDelivery(ctx, a.ID, c[1].Delivery.ID)
	must(t, err)
	if d.Status != domain.DeliveryCancelled || d.NextAttemptAt != nil {
		t.Errorf("cancelled delivery = %+v", d)
	}

	must(t, s.Complete(ctx, []*store.AttemptResult{result(c[2], base.Add(2*time.Second), domain.DeliverySucceeded, nil, 200)}))
	if got, _ = s.GetEndpoint(ctx, a.ID, e.ID); got.FailingSince != nil {
		t.Error("a delivered attempt left the failure streak")
	}

	// Endpoint statistics count the failed and the delivered attempt, not the cancelled one.
	st, err := s.AttemptStats(ctx, store.AttemptStatsFilter{EndpointID: e.ID, Since: base.Add(-time.Hour), Until: base.Add(time.Hour), Bucket: time.Hour})
	must(t, err)
	if st.Succeeded != 1 || st.Failed != 1 {
		t.Errorf("attempt stats: %d succeeded, %d failed; want 1 and 1 (the cancelled attempt is neither)", st.Succeeded, st.Failed)
	}

	atts, _, err := s.ListAttempts(ctx, store.AttemptFilter{AppID: a.ID, DeliveryID: c[0].Delivery.ID})
	must(t, err)
	if len(atts) != 1 || fmt.Sprint(atts[0].RequestHeaders) != fmt.Sprint(failed.Attempt.RequestHeaders) {
		t.Fatalf("attempts = %+v, want request headers %v", atts, failed.Attempt.RequestHeaders)
	}
	atts, _, err = s.ListAttempts(ctx, store.AttemptFilter{AppID: a.ID, DeliveryID: c[1].Delivery.ID})
	must(t, err)
	if len(atts) != 1 || atts[0].RequestHeaders == nil || len(atts[0].RequestHeaders) != 0 || atts[0].Outcome != domain.OutcomeCancelled {
		t.Fatalf("cancelled attempt = %+v, want no request headers and outcome cancelled", atts)
	}
}
