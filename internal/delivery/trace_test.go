package delivery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store/sqlite"
	"github.com/heraldhq/herald/internal/tracing"
	"github.com/heraldhq/herald/webhook"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

const callerParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// headerReceiver answers with status(n) for its n-th request and keeps the trace
// headers of each.
type headerReceiver struct {
	srv    *httptest.Server
	secret webhook.Secret
	mu     sync.Mutex
	parent []string
	state  []string
}

func newHeaderReceiver(t *testing.T, status func(n int) int) *headerReceiver {
	r := &headerReceiver{secret: webhook.NewHMACSecret()}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.parent = append(r.parent, req.Header.Get("traceparent"))
		r.state = append(r.state, req.Header.Get("tracestate"))
		n := len(r.parent)
		r.mu.Unlock()
		w.WriteHeader(status(n))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *headerReceiver) requests() (parents, states []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.parent...), append([]string(nil), r.state...)
}

func spanAttrs(s sdktrace.ReadOnlySpan) map[attribute.Key]string {
	out := map[attribute.Key]string{}
	for _, kv := range s.Attributes() {
		out[kv.Key] = kv.Value.String()
	}
	return out
}

// TestAttemptSpans publishes in a caller's trace to an endpoint that fails once and
// checks the span tree: publish under the caller's span, each message_attempt under the
// publish span, each request span under its attempt, and the receiver given the request
// span's context.
func TestAttemptSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { tp.Shutdown(bg) })
	reg := prometheus.NewRegistry()
	h := newHarness(t, func(c *Config) { c.Tracing, c.Metrics = tp, NewMetrics(reg) })
	r := newHeaderReceiver(t, func(n int) int {
		if n == 1 {
			return http.StatusServiceUnavailable
		}
		return http.StatusNoContent
	})
	ep := createEndpoint(t, h.store, h.app.ID, r.srv.URL, r.secret, nil)
	ctx := tracing.WithParent(bg, domain.TraceContext{Parent: callerParent, State: "rojo=1"})
	m := newMessage(h.app.ID, "order.paid", `{"secret":"payload"}`)
	if _, err := h.eng.Publish(ctx, m); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the retry to succeed", func() bool { p, _ := r.requests(); return len(p) == 2 })
	eventually(t, "five spans", func() bool { return len(rec.Ended()) == 5 })

	byName := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		byName[s.Name()] = append(byName[s.Name()], s)
		if s.SpanContext().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
			t.Errorf("span %s is in trace %s, not the caller's", s.Name(), s.SpanContext().TraceID())
		}
		for _, kv := range s.Attributes() {
			if strings.Contains(kv.Value.String(), "payload") {
				t.Errorf("span %s has payload data in %s", s.Name(), kv.Key)
			}
		}
	}
	pub := byName[tracing.SpanPublish]
	if len(pub) != 1 || pub[0].Parent().SpanID().String() != "00f067aa0ba902b7" || pub[0].SpanKind() != trace.SpanKindProducer {
		t.Fatalf("publish spans = %v", pub)
	}
	if a := spanAttrs(pub[0]); a[tracing.MessageID] != m.ID || a[tracing.AppID] != h.app.ID || a[tracing.FanoutCount] != "1" || a[tracing.EventType] != "order.paid" {
		t.Errorf("publish attributes = %v", a)
	}
	attempts, posts := byName[tracing.SpanAttempt], byName[tracing.SpanHTTPPost]
	if len(attempts) != 2 || len(posts) != 2 {
		t.Fatalf("%d attempt spans and %d request spans, want 2 and 2", len(attempts), len(posts))
	}
	parents, states := r.requests()
	wantOutcome := []string{domain.OutcomeRetrying, domain.OutcomeSucceeded}
	wantStatus := []string{"503", "204"}
	for i := range 2 {
		a, p := attempts[i], posts[i]
		if a.Parent().SpanID() != pub[0].SpanContext().SpanID() {
			t.Errorf("attempt %d's parent is %s, not the publish span", i+1, a.Parent().SpanID())
		}
		if p.Parent().SpanID() != a.SpanContext().SpanID() || p.SpanKind() != trace.SpanKindClient {
			t.Errorf("request span %d is not a client child of its attempt", i+1)
		}
		aa, pa := spanAttrs(a), spanAttrs(p)
		if aa[tracing.Outcome] != wantOutcome[i] || aa[tracing.AttemptNumber] != []string{"1", "2"}[i] || aa[tracing.EndpointID] != ep.ID || aa[tracing.DeliveryID] == "" {
			t.Errorf("attempt %d attributes = %v", i+1, aa)
		}
		if pa[tracing.HTTPStatusCode] != wantStatus[i] || pa[tracing.HTTPMethod] != "POST" || pa[tracing.ServerAddress] != "127.0.0.1" ||
			pa[tracing.EndpointID] != ep.ID || pa[tracing.Outcome] != wantOutcome[i] || pa[tracing.AttemptNumber] != aa[tracing.AttemptNumber] {
			t.Errorf("request span %d attributes = %v", i+1, pa)
		}
		want := tracing.FromSpanContext(p.SpanContext())
		if parents[i] != want.Parent || states[i] != "rojo=1" {
			t.Errorf("request %d carried traceparent %q tracestate %q, want the request span's %q", i+1, parents[i], states[i], want.Parent)
		}
	}
	if attempts[0].Status().Code != codes.Error || attempts[1].Status().Code == codes.Error {
		t.Errorf("attempt statuses = %v, %v", attempts[0].Status(), attempts[1].Status())
	}
	if spanAttrs(attempts[0])[tracing.NextAttemptAt] == "" {
		t.Error("the failed attempt does not say when the retry is due")
	}
	// Metrics of the same run: attempts by outcome and status class, end-to-end latency.
	if v := testutil.ToFloat64(h.eng.m.Deliveries.WithLabelValues(domain.OutcomeRetrying, "5xx")); v != 1 {
		t.Errorf("retrying 5xx attempts = %v", v)
	}
	if v := testutil.ToFloat64(h.eng.m.Deliveries.WithLabelValues(domain.OutcomeSucceeded, "2xx")); v != 1 {
		t.Errorf("succeeded 2xx attempts = %v", v)
	}
	if n := testutil.CollectAndCount(h.eng.m.DeliveryLatency); n != 1 {
		t.Errorf("delivery latency series = %d", n)
	}
	if pub, claimed := testutil.ToFloat64(h.eng.claimedAtPublish), testutil.ToFloat64(h.eng.claimedByClaim); pub != 1 || claimed != 1 {
		t.Errorf("deliveries taken at publish %v and by claim %v, want 1 and 1 (the retry)", pub, claimed)
	}
}

// TestTraceOff checks that with tracing off the webhook carries the publisher's trace
// context as stored, and no trace headers when the publish had none.
func TestTraceOff(t *testing.T) {
	h := newHarness(t, nil)
	r := newHeaderReceiver(t, func(int) int { return http.StatusOK })
	createEndpoint(t, h.store, h.app.ID, r.srv.URL, r.secret, nil)
	ctx := tracing.WithParent(bg, domain.TraceContext{Parent: callerParent, State: "rojo=1"})
	if _, err := h.eng.Publish(ctx, newMessage(h.app.ID, "t", `{}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := h.eng.Publish(bg, newMessage(h.app.ID, "t", `{}`)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both deliveries", func() bool { p, _ := r.requests(); return len(p) == 2 })
	parents, states := r.requests()
	traced := 0
	for i := range parents {
		switch {
		case parents[i] == callerParent && states[i] == "rojo=1":
			traced++
		case parents[i] != "" || states[i] != "":
			t.Errorf("request %d carried traceparent %q tracestate %q", i, parents[i], states[i])
		}
	}
	if traced != 1 {
		t.Errorf("%d requests carried the publisher's trace context, want 1: %q", traced, parents)
	}
}

// TestBacklogGauges checks the sampled backlog: due deliveries no node holds, and how
// long the longest-waiting has been due.
func TestBacklogGauges(t *testing.T) {
	s, err := sqlite.Open(bg, filepath.Join(t.TempDir(), "h.db"), sqlite.Options{Cipher: testCipher(t), Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e, err := New(Config{Store: s, Logger: discardLogger()}) // not started: it leases and claims nothing
	if err != nil {
		t.Fatal(err)
	}
	e.sampleBacklog(bg)
	if v := testutil.ToFloat64(e.m.Backlog); v != 0 {
		t.Errorf("empty store: backlog = %v", v)
	}
	app := createApp(t, s)
	createEndpoint(t, s, app.ID, "https://example.com/hook", webhook.NewHMACSecret(), nil)
	for range 3 {
		if _, err := e.Publish(bg, newMessage(app.ID, "t", `{}`)); err != nil {
			t.Fatal(err)
		}
	}
	e.sampleBacklog(bg)
	if v := testutil.ToFloat64(e.m.Backlog); v != 3 {
		t.Errorf("backlog = %v, want 3", v)
	}
	if v := testutil.ToFloat64(e.m.BacklogAge); v <= 0 {
		t.Errorf("oldest due = %v s, want more than 0", v)
	}
	if v := testutil.ToFloat64(e.claimedAtPublish); v != 0 {
		t.Errorf("an engine that is not started leased %v deliveries at publish", v)
	}
}

// answeringRelay is a relay whose listeners all answer 200, keeping each delivery's
// traceparent.
type answeringRelay struct {
	mu      sync.Mutex
	parents []string
}

func (r *answeringRelay) Connected(string) bool { return true }
func (r *answeringRelay) Attached() []string    { return nil }
func (r *answeringRelay) Deliver(_ context.Context, _ string, d RelayDelivery) (int, http.Header, []byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.parents = append(r.parents, d.Header.Get("traceparent"))
	return http.StatusOK, http.Header{}, nil, nil
}

// TestRelaySpan checks that an attempt carried to a herald listen session is a
// listener_relay span whose context the relayed request carries.
func TestRelaySpan(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { tp.Shutdown(bg) })
	relay := &answeringRelay{}
	h := newHarness(t, func(c *Config) { c.Tracing, c.Relay = tp, relay })
	ep := createEndpoint(t, h.store, h.app.ID, domain.ListenerURL("laptop"), webhook.NewHMACSecret(), func(e *domain.Endpoint) { e.Kind = domain.KindListener })
	h.publish("t", 1)
	eventually(t, "the relayed attempt's spans", func() bool { return len(rec.Ended()) == 3 })
	var relaySpan sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == tracing.SpanRelay {
			relaySpan = s
		}
	}
	if relaySpan == nil || relaySpan.SpanKind() != trace.SpanKindClient || spanAttrs(relaySpan)[tracing.EndpointID] != ep.ID ||
		spanAttrs(relaySpan)[tracing.HTTPStatusCode] != "200" {
		t.Fatalf("relay span = %v", relaySpan)
	}
	relay.mu.Lock()
	defer relay.mu.Unlock()
	if len(relay.parents) != 1 || relay.parents[0] != tracing.FromSpanContext(relaySpan.SpanContext()).Parent {
		t.Fatalf("the listener got traceparent %q, want the relay span's", relay.parents)
	}
}
