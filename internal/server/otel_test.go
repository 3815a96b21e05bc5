package server_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/server"
	"github.com/heraldhq/herald/internal/server/servertest"
	"github.com/heraldhq/herald/internal/telemetry"
	"github.com/heraldhq/herald/internal/telemetry/otlptest"
	"github.com/heraldhq/herald/internal/tracing"
)

// A publisher's span, as its traceparent names it.
const (
	callerTrace  = "0af7651916cd43dd8448eb211c80319c"
	callerSpan   = "b7ad6b7169203331"
	callerParent = "00-" + callerTrace + "-" + callerSpan + "-01"
)

// traceHook answers 503 until ok is set, then 204, and keeps each request's traceparent.
type traceHook struct {
	mu      sync.Mutex
	ok      bool
	parents []string
	at      []time.Time
}

func (h *traceHook) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.parents = append(h.parents, r.Header.Get("traceparent"))
	h.at = append(h.at, time.Now())
	if !h.ok {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *traceHook) requests() ([]string, []time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.parents...), append([]time.Time(nil), h.at...)
}

// TestTraceAcrossRestart is the tracing acceptance test: one publish with a caller's
// traceparent, a failed attempt, a restart of the server on the same data directory,
// and the retry's success; the collector must get one trace (the caller's) with the
// whole tree, and the receiver must see that trace in every request.
func TestTraceAcrossRestart(t *testing.T) {
	col := otlptest.New(t)
	var cfg server.Config
	srv := servertest.Start(t, func(c *server.Config) {
		c.RetrySchedule = []time.Duration{4 * time.Second}
		c.Telemetry = telemetry.FromEnv(env{"OTEL_EXPORTER_OTLP_ENDPOINT": col.URL, "OTEL_SERVICE_NAME": "herald-e2e"}.get)
		cfg = *c
	})
	key := srv.APIKey
	hook := &traceHook{}
	receiver := newLoopbackServer(t, http.HandlerFunc(hook.serve))

	c := srv.Client(t)
	base := strings.TrimSuffix(c.BaseURL(), "/")
	ctx := context.Background()
	app := servertest.NewApp(t, c, client.AppInput{Name: "traced"})
	ep, err := c.CreateEndpoint(ctx, app.ID, client.EndpointInput{URL: receiver})
	if err != nil {
		t.Fatal(err)
	}
	msgID := publishWithHeader(t, base, key, app.ID, http.Header{"Traceparent": {callerParent}, "Tracestate": {"rojo=00f067aa0ba902b7"}})
	waitFor(t, "the first attempt to be recorded as failed", func() bool {
		ds, _, err := c.ListDeliveries(ctx, app.ID, client.ListDeliveriesParams{})
		return err == nil && len(ds) == 1 && ds[0].Attempts == 1
	})
	srv.Stop() // the retry is due in 4 s ± 20%: the restarted server makes it
	restarted := time.Now()
	hook.mu.Lock()
	hook.ok = true
	hook.mu.Unlock()

	srv = servertest.Start(t, func(c *server.Config) { *c = cfg }) // the same data directory
	c = srv.Client(t)
	waitFor(t, "the retry to succeed", func() bool {
		ds, _, err := c.ListDeliveries(ctx, app.ID, client.ListDeliveriesParams{})
		return err == nil && len(ds) == 1 && ds[0].Status == "succeeded"
	})
	srv.Stop()

	parents, at := hook.requests()
	if len(parents) != 2 || at[1].Before(restarted) {
		t.Fatalf("the receiver got %d requests (the second at %v, the restart at %v); want the failure before the restart and the retry after", len(parents), at, restarted)
	}
	if errs := col.Errors(); len(errs) > 0 {
		t.Fatalf("the collector could not decode: %v", errs)
	}
	checkTraceTree(t, col.Spans(), app.ID, ep.ID, msgID, parents)
}

// checkTraceTree checks the spans of TestTraceAcrossRestart.
func checkTraceTree(t *testing.T, all []otlptest.Span, appID, epID, msgID string, received []string) {
	t.Helper()
	byName := map[string][]otlptest.Span{}
	for _, s := range all {
		if s.TraceID != callerTrace {
			continue // the API calls that set things up are traces of their own
		}
		byName[s.Name] = append(byName[s.Name], s)
		if s.Resource["service.name"] != "herald-e2e" {
			t.Errorf("span %s has service.name %q", s.Name, s.Resource["service.name"])
		}
		for k, v := range s.Attributes {
			if strings.Contains(v, "card_4242") {
				t.Errorf("span %s carries payload data in %s", s.Name, k)
			}
		}
	}
	one := func(name string) otlptest.Span {
		if len(byName[name]) != 1 {
			t.Fatalf("%d %q spans in the caller's trace, want 1; the trace has %v", len(byName[name]), name, names(byName))
		}
		return byName[name][0]
	}
	req := one("POST /v1/apps/{app}/messages")
	if req.ParentSpanID != callerSpan || req.Kind != "SPAN_KIND_SERVER" || req.Attributes["http.route"] != "/v1/apps/{app}/messages" ||
		req.Attributes["http.response.status_code"] != "202" {
		t.Errorf("request span = %+v", req)
	}
	pub := one(tracing.SpanPublish)
	if pub.ParentSpanID != req.SpanID || pub.Kind != "SPAN_KIND_PRODUCER" || pub.Attributes["herald.message.id"] != msgID ||
		pub.Attributes["herald.app.id"] != appID || pub.Attributes["herald.fanout.count"] != "1" || pub.Attributes["herald.event_type"] != "payment.succeeded" {
		t.Errorf("publish span = %+v", pub)
	}
	attempts, posts := byName[tracing.SpanAttempt], byName[tracing.SpanHTTPPost]
	if len(attempts) != 2 || len(posts) != 2 {
		t.Fatalf("%d attempt and %d request spans in the caller's trace, want 2 and 2: %v", len(attempts), len(posts), names(byName))
	}
	if attempts[0].StartNano > attempts[1].StartNano {
		attempts[0], attempts[1] = attempts[1], attempts[0]
	}
	want := []struct{ number, outcome, status string }{{"1", "retrying", "503"}, {"2", "succeeded", "204"}}
	for i, a := range attempts {
		w := want[i]
		if a.ParentSpanID != pub.SpanID || a.Attributes["herald.attempt.number"] != w.number || a.Attributes["herald.outcome"] != w.outcome ||
			a.Attributes["herald.endpoint.id"] != epID || a.Attributes["herald.message.id"] != msgID {
			t.Errorf("attempt %d: %+v", i+1, a)
		}
		var post *otlptest.Span
		for j := range posts {
			if posts[j].ParentSpanID == a.SpanID {
				post = &posts[j]
			}
		}
		if post == nil {
			t.Fatalf("attempt %d has no request span", i+1)
		}
		if post.Kind != "SPAN_KIND_CLIENT" || post.Attributes["http.response.status_code"] != w.status || post.Attributes["http.request.method"] != "POST" ||
			post.Attributes["server.address"] != "127.0.0.1" || post.Attributes["herald.attempt.number"] != w.number ||
			post.Attributes["herald.outcome"] != w.outcome || post.Attributes["herald.endpoint.id"] != epID {
			t.Errorf("attempt %d's request span: %+v", i+1, post)
		}
		if wantParent := "00-" + callerTrace + "-" + post.SpanID + "-01"; received[i] != wantParent {
			t.Errorf("request %d carried traceparent %q, want %q (its request span)", i+1, received[i], wantParent)
		}
	}
	if !attempts[0].StatusError || attempts[1].StatusError {
		t.Errorf("attempt statuses: error %v, %v; want the failure marked, the success not", attempts[0].StatusError, attempts[1].StatusError)
	}
}

func names(m map[string][]otlptest.Span) []string {
	var out []string
	for n, ss := range m {
		for range ss {
			out = append(out, n)
		}
	}
	return out
}

// publishWithHeader publishes a message with extra request headers and returns its id.
func publishWithHeader(t *testing.T, base, key, appID string, h http.Header) string {
	t.Helper()
	body := `{"type":"payment.succeeded","payload":{"card":"card_4242","amount":100}}`
	status, raw := servertest.Call(t, base, key, http.MethodPost, "/v1/apps/"+appID+"/messages", h, body)
	var m struct{ ID string }
	if status != http.StatusAccepted || json.Unmarshal(raw, &m) != nil {
		t.Fatalf("publish = %d %s", status, raw)
	}
	return m.ID
}

// newLoopbackServer serves h on 127.0.0.1 and returns its URL.
func newLoopbackServer(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/hook"
}

type env map[string]string

func (e env) get(k string) string { return e[k] }
