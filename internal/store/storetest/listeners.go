package storetest

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

// testListenerExpiry covers TouchListeners, ExpireListenerDeliveries and IdleListeners:
// a listener counts as seen when touched, else when created; only its pending,
// unleased deliveries expire, and never those of a kept listener or of an HTTP endpoint.
func testListenerExpiry(t *testing.T, s store.Store) {
	app := newApp(t, s)
	listener := func(name string) *domain.Endpoint {
		return newEndpoint(t, s, app.ID, func(e *domain.Endpoint) {
			e.Kind, e.URL = domain.KindListener, domain.ListenerURL(name)
		})
	}
	gone := listener("gone")     // created at base, never seen
	seen := listener("seen")     // touched after the cut-off
	kept := listener("kept")     // attached to the node that expires
	leased := listener("leased") // its delivery is held by a node
	http := newEndpoint(t, s, app.ID, nil)
	cutoff := base.Add(24 * time.Hour)
	must(t, s.TouchListeners(ctx, []string{seen.ID, http.ID}, cutoff.Add(time.Minute)))
	must(t, s.TouchListeners(ctx, nil, cutoff))
	publish(t, s, app.ID, "a.b", base, nil)
	// Lease the leased listener's delivery, and only it.
	if c := claim(t, s, "node-1", base.Add(time.Second), 10, gone.ID, seen.ID, kept.ID, http.ID); len(c) != 1 || c[0].Delivery.EndpointID != leased.ID {
		t.Fatalf("claimed %d deliveries, want the leased listener's", len(c))
	}

	n, err := s.ExpireListenerDeliveries(ctx, cutoff, []string{kept.ID}, "expired: gone", cutoff.Add(time.Hour))
	must(t, err)
	if n != 1 {
		t.Errorf("expired %d deliveries, want 1", n)
	}
	for _, tt := range []struct {
		ep         *domain.Endpoint
		wantStatus string
	}{
		{gone, domain.DeliveryFailed},
		{seen, domain.DeliveryPending},
		{kept, domain.DeliveryPending},
		{leased, domain.DeliveryPending},
		{http, domain.DeliveryPending},
	} {
		ds, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{AppID: app.ID, EndpointID: tt.ep.ID, Page: store.Page{Limit: 10}})
		must(t, err)
		if len(ds) != 1 || ds[0].Status != tt.wantStatus {
			t.Errorf("endpoint %s: deliveries %+v, want one %s", tt.ep.URL, ds, tt.wantStatus)
			continue
		}
		if tt.wantStatus == domain.DeliveryFailed && (ds[0].LastError != "expired: gone" || ds[0].NextAttemptAt != nil) {
			t.Errorf("expired delivery: last error %q, next attempt %v", ds[0].LastError, ds[0].NextAttemptAt)
		}
	}

	idle, err := s.IdleListeners(ctx, cutoff, 10)
	must(t, err)
	got := map[string]bool{}
	for _, e := range idle {
		got[e.ID] = true
	}
	if len(idle) != 3 || !got[gone.ID] || !got[kept.ID] || !got[leased.ID] {
		t.Errorf("idle listeners %v, want gone, kept and leased", got)
	}
	if idle, err := s.IdleListeners(ctx, cutoff, 1); err != nil || len(idle) != 1 {
		t.Errorf("IdleListeners with limit 1 = %d, %v", len(idle), err)
	}
}

// testParkBacklogs covers ParkBacklogs: a disabled endpoint's pending deliveries fail
// with its reason, a paused one's are parked (not claimable) until it is enabled, and
// fail once older than the retention cut-off.
func testParkBacklogs(t *testing.T, s store.Store) {
	app := newApp(t, s)
	enabled := newEndpoint(t, s, app.ID, nil)
	paused := newEndpoint(t, s, app.ID, func(e *domain.Endpoint) { e.State = domain.EndpointPaused })
	disabled := newEndpoint(t, s, app.ID, nil)
	bare := newEndpoint(t, s, app.ID, nil)
	publish(t, s, app.ID, "a.b", base, nil)
	// Disabled after the publish: disabled endpoints get no new deliveries.
	must(t, s.SetEndpointState(ctx, disabled.ID, domain.EndpointDisabled, "410 Gone"))
	must(t, s.SetEndpointState(ctx, bare.ID, domain.EndpointDisabled, ""))
	delivery := func(ep *domain.Endpoint) *domain.Delivery {
		t.Helper()
		ds, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{AppID: app.ID, EndpointID: ep.ID, Page: store.Page{Limit: 10}})
		must(t, err)
		if len(ds) != 1 {
			t.Fatalf("endpoint %s has %d deliveries, want 1", ep.ID, len(ds))
		}
		return ds[0]
	}

	r, err := s.ParkBacklogs(ctx, base.Add(time.Minute), time.Time{})
	must(t, err)
	if r.Failed != 2 || r.Parked != 1 || r.Unparked != 0 {
		t.Errorf("ParkBacklogs = %+v, want 2 failed, 1 parked", *r)
	}
	for _, tt := range []struct {
		ep        *domain.Endpoint
		status    string
		lastError string
		parked    bool
	}{
		{enabled, domain.DeliveryPending, "", false},
		{paused, domain.DeliveryPending, "", true},
		{disabled, domain.DeliveryFailed, "endpoint disabled: 410 Gone", true},
		{bare, domain.DeliveryFailed, "endpoint disabled", true},
	} {
		d := delivery(tt.ep)
		if d.Status != tt.status || d.LastError != tt.lastError || (d.NextAttemptAt == nil) != tt.parked {
			t.Errorf("endpoint %s: delivery %s %q next %v; want %s %q parked %v", tt.ep.State, d.Status, d.LastError, d.NextAttemptAt, tt.status, tt.lastError, tt.parked)
		}
	}
	if c := claim(t, s, "node-1", base.Add(time.Hour), 10, enabled.ID); len(c) != 0 {
		t.Errorf("claimed %d deliveries of paused and disabled endpoints", len(c))
	}

	// Resumed, the parked delivery is due again; paused again, it is parked again.
	must(t, s.SetEndpointState(ctx, paused.ID, domain.EndpointEnabled, ""))
	if d := delivery(paused); d.NextAttemptAt == nil || d.Status != domain.DeliveryPending {
		t.Errorf("resumed: delivery %s next %v, want pending and due", d.Status, d.NextAttemptAt)
	}
	must(t, s.SetEndpointState(ctx, paused.ID, domain.EndpointPaused, ""))
	_, err = s.ParkBacklogs(ctx, base.Add(2*time.Minute), time.Time{})
	must(t, err)
	paused.State = domain.EndpointEnabled
	must(t, s.UpdateEndpoint(ctx, paused))
	if d := delivery(paused); d.NextAttemptAt == nil {
		t.Error("enabled with UpdateEndpoint: the delivery is still parked")
	}

	// Paused past the retention cut-off, the backlog fails so that retention can purge it.
	paused.State = domain.EndpointPaused
	must(t, s.UpdateEndpoint(ctx, paused))
	_, err = s.ParkBacklogs(ctx, base.Add(3*time.Minute), base.Add(time.Hour))
	must(t, err)
	if d := delivery(paused); d.Status != domain.DeliveryFailed || d.LastError == "" {
		t.Errorf("paused past retention: delivery %s %q, want failed with a reason", d.Status, d.LastError)
	}
}
