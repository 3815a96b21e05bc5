package delivery

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlite"
	"github.com/heraldhq/herald/internal/store/sqlite/sqlitetest"
	"github.com/heraldhq/herald/webhook"
)

// attachedRelay is a relay with a fixed set of attached listeners that never answer.
type attachedRelay map[string]bool

func (r attachedRelay) Connected(id string) bool { return r[id] }
func (r attachedRelay) Attached() []string {
	var ids []string
	for id := range r {
		ids = append(ids, id)
	}
	return ids
}
func (r attachedRelay) Deliver(context.Context, string, RelayDelivery) (int, http.Header, []byte, error) {
	return 0, nil, nil, ErrListenerGone
}

// TestMaintenanceExpiresGoneListeners runs the maintenance over listener endpoints that
// are attached, recently seen, gone a day and gone a week: the pending deliveries of
// those gone longer than ListenerExpiry fail with the reason, and those gone longer than
// ListenerIdle are removed.
func TestMaintenanceExpiresGoneListeners(t *testing.T) {
	now := time.Now().UTC()
	tests := []struct {
		name        string
		kind        string
		created     time.Duration // ago
		seen        time.Duration // ago; 0: never
		attached    bool
		wantStatus  string // of its deliveries
		wantRemoved bool
	}{
		{name: "new listener", kind: domain.KindListener, created: time.Hour, wantStatus: domain.DeliveryPending},
		{name: "seen an hour ago", kind: domain.KindListener, created: 3 * 24 * time.Hour, seen: time.Hour, wantStatus: domain.DeliveryPending},
		{name: "attached here", kind: domain.KindListener, created: 3 * 24 * time.Hour, seen: 2 * 24 * time.Hour, attached: true, wantStatus: domain.DeliveryPending},
		{name: "gone two days", kind: domain.KindListener, created: 3 * 24 * time.Hour, seen: 2 * 24 * time.Hour, wantStatus: domain.DeliveryFailed},
		{name: "never seen, two days old", kind: domain.KindListener, created: 2 * 24 * time.Hour, wantStatus: domain.DeliveryFailed},
		{name: "gone eight days", kind: domain.KindListener, created: 9 * 24 * time.Hour, seen: 8 * 24 * time.Hour, wantRemoved: true},
		{name: "attached here, seen eight days ago", kind: domain.KindListener, created: 9 * 24 * time.Hour, seen: 8 * 24 * time.Hour, attached: true, wantStatus: domain.DeliveryPending},
		{name: "http endpoint", kind: domain.KindHTTP, created: 9 * 24 * time.Hour, wantStatus: domain.DeliveryPending},
	}
	s := sqlitetest.Open(t, sqlite.Options{})
	app := createApp(t, s)
	relay := attachedRelay{}
	eps := make([]*domain.Endpoint, len(tests))
	for i, tt := range tests {
		eps[i] = createEndpoint(t, s, app.ID, "https://example.com/"+tt.kind, webhook.NewHMACSecret(), func(e *domain.Endpoint) {
			e.Kind = tt.kind
			e.CreatedAt, e.UpdatedAt = now.Add(-tt.created), now.Add(-tt.created)
			if tt.kind == domain.KindListener {
				e.URL = domain.ListenerURL(strings.ReplaceAll(tt.name, " ", "-"))
			}
		})
		if tt.seen > 0 {
			if err := s.TouchListeners(bg, []string{eps[i].ID}, now.Add(-tt.seen)); err != nil {
				t.Fatal(err)
			}
		}
		if tt.attached {
			relay[eps[i].ID] = true
		}
	}
	if _, err := s.Publish(bg, &store.PublishInput{Message: newMessage(app.ID, "a.b", `{}`)}); err != nil {
		t.Fatal(err)
	}
	eng, err := New(Config{Store: s, Logger: discardLogger(), Relay: relay, DisableAfter: -1, Retention: -1})
	if err != nil {
		t.Fatal(err)
	}
	eng.touchListeners(bg)
	eng.maintain(bg)

	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.GetEndpoint(bg, app.ID, eps[i].ID)
			if removed := errors.Is(err, store.ErrNotFound); removed != tt.wantRemoved {
				t.Fatalf("removed %v (err %v), want %v", removed, err, tt.wantRemoved)
			}
			if tt.wantRemoved {
				return
			}
			ds, _, err := s.ListDeliveries(bg, store.DeliveryFilter{AppID: app.ID, EndpointID: eps[i].ID, Page: store.Page{Limit: 10}})
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) != 1 {
				t.Fatalf("%d deliveries, want 1", len(ds))
			}
			d := ds[0]
			if d.Status != tt.wantStatus {
				t.Errorf("status %q (%q), want %q", d.Status, d.LastError, tt.wantStatus)
			}
			if tt.wantStatus == domain.DeliveryFailed && (!strings.Contains(d.LastError, "expired") || !strings.Contains(d.LastError, "24h")) {
				t.Errorf("last error %q does not say why", d.LastError)
			}
		})
	}
}

// TestMaintenanceParksPausedBacklog pauses an endpoint with a backlog: after the
// maintenance nothing is due (the claim loop sleeps), and resuming sends it all.
func TestMaintenanceParksPausedBacklog(t *testing.T) {
	h := newHarness(t, nil)
	r := newReceiver(t, nil)
	e := h.endpoint(r, func(e *domain.Endpoint) { e.State = domain.EndpointPaused })
	h.publish("t", 3)
	h.eng.maintain(bg)
	if next, ok, err := h.store.NextWake(bg); err != nil || ok {
		t.Fatalf("NextWake = %v, %v, %v with only a paused backlog, want nothing due", next, ok, err)
	}
	if n := len(h.deliveries(e.ID, domain.DeliveryPending)); n != 3 {
		t.Fatalf("%d pending deliveries, want 3 parked", n)
	}
	h.resume(e)
	eventually(t, "the parked deliveries after resume", func() bool { n, _ := r.count(); return n == 3 })
}
