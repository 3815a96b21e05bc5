package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/opevents"
	"github.com/heraldhq/herald/internal/server"
	"github.com/heraldhq/herald/internal/server/servertest"
	"github.com/heraldhq/herald/webhook"
)

// opReceiver is an operator's operational endpoint on loopback: it verifies every
// request's Standard Webhooks signature with the webhook library and keeps the events.
type opReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	verify *webhook.Standard
	events []opEvent
	bad    []error
}

// opEvent is an operational webhook as received.
type opEvent struct {
	ID        string // webhook-id: the event's message id
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Data      map[string]any
}

func newOpReceiver(t *testing.T) *opReceiver {
	r := &opReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.verify == nil {
			r.bad = append(r.bad, errors.New("a request before the secret was known"))
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		d, err := r.verify.Verify(body, req.Header)
		if err != nil {
			r.bad = append(r.bad, err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var e struct {
			Type      string         `json:"type"`
			Timestamp string         `json:"timestamp"`
			Data      map[string]any `json:"data"`
		}
		if err := json.Unmarshal(body, &e); err != nil {
			r.bad = append(r.bad, err)
		}
		r.events = append(r.events, opEvent{ID: d.ID, Type: e.Type, Timestamp: e.Timestamp, Data: e.Data})
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// register creates the operational endpoint with types and learns its secret.
func (r *opReceiver) register(t *testing.T, c *client.Client, types ...string) *client.Endpoint {
	t.Helper()
	ctx := context.Background()
	ep, err := c.CreateOperationalEndpoint(ctx, client.EndpointInput{URL: r.srv.URL, EventTypes: types, Description: "on-call"})
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := c.OperationalEndpointSecrets(ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	v, err := webhook.NewStandard(secrets[0].Secret)
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.verify = v
	r.mu.Unlock()
	return ep
}

func (r *opReceiver) received() ([]opEvent, []error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]opEvent(nil), r.events...), append([]error(nil), r.bad...)
}

// waitTypes waits until the receiver has n events and returns them.
func (r *opReceiver) wait(t *testing.T, n int) []opEvent {
	t.Helper()
	waitFor(t, "operational webhooks", func() bool { es, _ := r.received(); return len(es) >= n })
	es, bad := r.received()
	if len(bad) > 0 {
		t.Fatalf("operational webhooks that failed verification: %v", bad)
	}
	return es
}

func typesOf(es []opEvent) string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Type
	}
	return strings.Join(out, " ")
}

// lastAttempt returns an event's lastAttempt object.
func lastAttempt(t *testing.T, e opEvent) map[string]any {
	t.Helper()
	la, ok := e.Data["lastAttempt"].(map[string]any)
	if !ok {
		t.Fatalf("%s has no lastAttempt: %v", e.Type, e.Data)
	}
	return la
}

// TestOperationalWebhooks is the acceptance test of operational webhooks: an endpoint
// fails until herald disables it, and the operator's endpoint gets, signed and in order,
// message.attempt.failing, message.attempt.exhausted and endpoint.disabled; once the
// endpoint is enabled again and succeeds, endpoint.enabled and message.attempt.recovered.
func TestOperationalWebhooks(t *testing.T) {
	c, _ := testServer(t, func(cfg *server.Config) {
		cfg.RetrySchedule = []time.Duration{10 * time.Millisecond, 10 * time.Millisecond} // three attempts
		cfg.OpFailingAfter = 3
		// Long past the three attempts, so that the disable follows them.
		cfg.DisableAfter = 3 * time.Second
		cfg.MaintenanceInterval = 100 * time.Millisecond
	})
	ctx := context.Background()
	ops := newOpReceiver(t)
	opEp := ops.register(t, c)
	if !opEp.FIFO {
		t.Error("an operational endpoint is not FIFO by default")
	}

	var healthy atomic.Bool
	customer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if healthy.Load() {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(customer.Close)
	app := servertest.NewApp(t, c, client.AppInput{Name: "Acme", UID: "acme"})
	ep, err := c.CreateEndpoint(ctx, app.ID, client.EndpointInput{URL: customer.URL})
	if err != nil {
		t.Fatal(err)
	}
	msg, _, _, err := c.Publish(ctx, app.ID, client.MessageInput{Type: "invoice.paid", Payload: json.RawMessage(`{"id":"in_1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	es := ops.wait(t, 4)
	if got := typesOf(es); got != "endpoint.created message.attempt.failing message.attempt.exhausted endpoint.disabled" {
		t.Fatalf("operational webhooks: %s", got)
	}
	for _, e := range es {
		if e.Data["appId"] != app.ID || e.Data["appUid"] != "acme" || e.Data["endpointId"] != ep.ID || !strings.HasPrefix(e.ID, "msg_") {
			t.Errorf("%s names app %v (%v), endpoint %v, id %s", e.Type, e.Data["appId"], e.Data["appUid"], e.Data["endpointId"], e.ID)
		}
		if _, err := time.Parse(time.RFC3339, e.Timestamp); err != nil {
			t.Errorf("%s timestamp %q: %v", e.Type, e.Timestamp, err)
		}
	}
	failing, exhausted, disabled := es[1], es[2], es[3]
	if la := lastAttempt(t, failing); failing.Data["msgId"] != msg.ID || failing.Data["failures"] != float64(3) || failing.Data["failSince"] == nil ||
		la["responseStatusCode"] != float64(500) || la["error"] != "HTTP 500" || la["number"] != float64(3) ||
		!strings.HasPrefix(la["id"].(string), "att_") || !strings.HasPrefix(la["deliveryId"].(string), "dlv_") {
		t.Errorf("failing = %v", failing.Data)
	}
	if la := lastAttempt(t, exhausted); exhausted.Data["msgId"] != msg.ID || exhausted.Data["attempts"] != float64(3) || la["responseStatusCode"] != float64(500) {
		t.Errorf("exhausted = %v", exhausted.Data)
	}
	if disabled.Data["trigger"] != "automatic" || disabled.Data["reason"] != "failing" || disabled.Data["failSince"] != failing.Data["failSince"] ||
		!strings.Contains(disabled.Data["detail"].(string), "failing continuously") || lastAttempt(t, disabled)["responseStatusCode"] != float64(500) {
		t.Errorf("disabled = %v (failing since %v)", disabled.Data, failing.Data["failSince"])
	}
	got, err := c.GetEndpoint(ctx, app.ID, ep.ID)
	if err != nil || got.State != client.EndpointDisabled {
		t.Fatalf("endpoint after the disable event: %+v, %v", got, err)
	}

	// Enabled again, it succeeds: enabled, then recovered.
	healthy.Store(true)
	enabled := client.EndpointEnabled
	if _, err := c.UpdateEndpoint(ctx, app.ID, ep.ID, client.EndpointUpdate{State: &enabled}); err != nil {
		t.Fatal(err)
	}
	msg2, _, _, err := c.Publish(ctx, app.ID, client.MessageInput{Type: "invoice.paid", Payload: json.RawMessage(`{"id":"in_2"}`)})
	if err != nil {
		t.Fatal(err)
	}
	es = ops.wait(t, 6)
	if got := typesOf(es[4:]); got != "endpoint.enabled message.attempt.recovered" {
		t.Fatalf("after enabling: %s", got)
	}
	if en := es[4]; en.Data["trigger"] != "manual" || en.Data["endpointId"] != ep.ID {
		t.Errorf("enabled = %v", en.Data)
	}
	rec := es[5]
	if la := lastAttempt(t, rec); rec.Data["msgId"] != msg2.ID || rec.Data["failSince"] != failing.Data["failSince"] || la["responseStatusCode"] != float64(200) {
		t.Errorf("recovered = %v", rec.Data)
	}

	// The log of the operational endpoint: each event a message, each with its attempt.
	msgs, _, err := c.ListOperationalMessages(ctx, opEp.ID, client.ListMessagesParams{})
	if err != nil || len(msgs) != 6 || msgs[0].ID != rec.ID || msgs[0].Type != "message.attempt.recovered" {
		t.Fatalf("operational messages = %d (%v)", len(msgs), err)
	}
	atts, _, err := c.ListOperationalAttempts(ctx, opEp.ID, client.ListAttemptsParams{})
	if err != nil || len(atts) != 6 || atts[0].StatusCode != http.StatusNoContent || atts[0].EndpointID != opEp.ID {
		t.Fatalf("operational attempts = %d (%v)", len(atts), err)
	}
	// No recursion: the operational endpoint's own deliveries made no events.
	time.Sleep(50 * time.Millisecond)
	if es, _ := ops.received(); len(es) != 6 {
		t.Fatalf("%d operational webhooks, want 6: %s", len(es), typesOf(es))
	}
	// And nobody publishes into the reserved app.
	_, _, _, err = c.Publish(ctx, opEp.AppID, client.MessageInput{Type: "endpoint.disabled", Payload: json.RawMessage(`{"forged":true}`)})
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Fatalf("publishing into the operational app: %v, want 404", err)
	}
}

// TestRejectionSpike checks that a source whose requests are refused sends one
// source.rejections.spiking, and no second one within the cooldown.
func TestRejectionSpike(t *testing.T) {
	c, _ := testServer(t, func(cfg *server.Config) {
		cfg.OpRejectionSpike = opevents.SpikeConfig{Window: time.Minute, MinRejections: 5, Rate: 0.5, Cooldown: time.Hour}
	})
	ctx := context.Background()
	ops := newOpReceiver(t)
	ops.register(t, c, "source.rejections.spiking", "endpoint.created")
	app := servertest.NewApp(t, c, client.AppInput{Name: "Acme"})
	src, err := c.CreateSource(ctx, app.ID, client.SourceInput{Provider: "standard", Secret: webhook.NewHMACSecret().Reveal()})
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := webhook.NewStandard(webhook.NewHMACSecret().Reveal()) // signed with the wrong secret: a rotation gone wrong
	post := func() {
		body := []byte(`{"type":"invoice.paid"}`)
		h, _ := forged.Sign(webhook.Delivery{ID: "msg_x", Timestamp: time.Now()}, body)
		req, _ := http.NewRequest(http.MethodPost, c.BaseURL()+"/in/"+src.ID, strings.NewReader(string(body)))
		req.Header = h
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a forged webhook answered %d", resp.StatusCode)
		}
	}
	for range 12 {
		post()
	}
	// A marker after the rejections: FIFO puts it after any spike they caused.
	if _, err := c.CreateEndpoint(ctx, app.ID, client.EndpointInput{URL: "https://hooks.example.com/x"}); err != nil {
		t.Fatal(err)
	}
	es := ops.wait(t, 2)
	if got := typesOf(es); got != "source.rejections.spiking endpoint.created" {
		t.Fatalf("operational webhooks: %s", got)
	}
	d := es[0].Data
	last, _ := d["lastRejection"].(map[string]any)
	if d["sourceId"] != src.ID || d["appId"] != app.ID || d["rejected"] != float64(5) || d["requests"] != float64(5) ||
		d["rejectionRate"] != float64(1) || d["threshold"] != 0.5 || d["windowSeconds"] != float64(60) ||
		last["status"] != float64(401) || last["code"] == "" || last["message"] == "" {
		t.Errorf("spiking = %v", d)
	}
}
