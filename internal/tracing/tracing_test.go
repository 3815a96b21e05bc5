package tracing

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/domain"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

const (
	callerParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	callerTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerSpan   = "00f067aa0ba902b7"
)

func TestTraceContextRoundTrip(t *testing.T) {
	long := strings.Repeat("k", 200) + "=" + strings.Repeat("v", 200)
	long2 := strings.Repeat("m", 200) + "=" + strings.Repeat("w", 200)
	cases := []struct {
		name  string
		in    domain.TraceContext
		valid bool
		want  domain.TraceContext // what FromSpanContext stores again
	}{
		{"empty", domain.TraceContext{}, false, domain.TraceContext{}},
		{"plain", domain.TraceContext{Parent: callerParent}, true, domain.TraceContext{Parent: callerParent}},
		{"with state", domain.TraceContext{Parent: callerParent, State: "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"}, true,
			domain.TraceContext{Parent: callerParent, State: "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"}},
		{"not sampled", domain.TraceContext{Parent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}, true,
			domain.TraceContext{Parent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}},
		{"state over 512 bytes loses members from the end", domain.TraceContext{Parent: callerParent, State: "a=1," + long + "," + long2 + ",b=2"}, true,
			domain.TraceContext{Parent: callerParent, State: "a=1," + long}},
		{"malformed state is dropped", domain.TraceContext{Parent: callerParent, State: "not a list member"}, true,
			domain.TraceContext{Parent: callerParent}},
		{"zero trace id", domain.TraceContext{Parent: "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}, false, domain.TraceContext{}},
		{"upper-case hex", domain.TraceContext{Parent: "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"}, false, domain.TraceContext{}},
		{"short", domain.TraceContext{Parent: "00-4bf92f35-00f067aa0ba902b7-01"}, false, domain.TraceContext{}},
		{"version ff", domain.TraceContext{Parent: "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, false, domain.TraceContext{}},
		{"huge", domain.TraceContext{Parent: strings.Repeat("0", 1<<20)}, false, domain.TraceContext{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc := SpanContext(tc.in)
			if sc.IsValid() != tc.valid {
				t.Fatalf("SpanContext(%+v).IsValid() = %v", tc.in, sc.IsValid())
			}
			if tc.valid && !sc.IsRemote() {
				t.Error("a stored trace context is not remote")
			}
			if got := FromSpanContext(sc); got != tc.want {
				t.Errorf("stored again = %+v, want %+v", got, tc.want)
			}
			if got := FromContext(WithParent(context.Background(), tc.in)); got != tc.want {
				t.Errorf("FromContext(WithParent) = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// recorder returns a tracer provider that keeps every ended span.
func recorder(t *testing.T) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return tp, rec
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]string {
	out := map[attribute.Key]string{}
	for _, kv := range s.Attributes() {
		out[kv.Key] = kv.Value.String()
	}
	return out
}

// testMux is two muxes, as herald's server hands /v1/ to the API's own.
func testMux() http.Handler {
	api := http.NewServeMux()
	api.HandleFunc("POST /v1/apps/{app}/messages", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	})
	api.HandleFunc("GET /v1/boom", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusServiceUnavailable)
	})
	outer := http.NewServeMux()
	outer.Handle("/in/{source}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	outer.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	outer.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := api.Handler(r); pattern == "" {
			http.NotFound(w, r)
			return
		}
		api.ServeHTTP(w, r)
	}))
	return outer
}

func TestHandlerSpans(t *testing.T) {
	tp, rec := recorder(t)
	srv := httptest.NewServer(Handler(testMux(), tp, "/healthz"))
	t.Cleanup(srv.Close)
	do := func(method, path string, h http.Header) int {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	do("POST", "/v1/apps/app_123/messages", http.Header{"Traceparent": {callerParent}, "User-Agent": {"test/1"}})
	do("GET", "/v1/boom", nil)
	do("POST", "/in/src_42", nil)
	do("GET", "/v1/nothing/here", nil)
	do("BREW", "/in/src_42", nil)
	do("GET", "/healthz", nil)

	spans := rec.Ended()
	if len(spans) != 5 {
		t.Fatalf("%d spans, want 5 (none for /healthz)", len(spans))
	}
	want := []struct {
		name, route, status string
		failed              bool
	}{
		{"POST /v1/apps/{app}/messages", "/v1/apps/{app}/messages", "202", false},
		{"GET /v1/boom", "/v1/boom", "503", true},
		{"POST /in/{source}", "/in/{source}", "401", false},
		{"GET", "", "404", false},
		{"HTTP /in/{source}", "/in/{source}", "401", false},
	}
	for i, w := range want {
		s := spans[i]
		a := attrs(s)
		if s.Name() != w.name || a[HTTPRoute] != w.route || a[HTTPStatusCode] != w.status || s.SpanKind() != trace.SpanKindServer {
			t.Errorf("span %d: %q route %q status %s kind %v; want %q %q %s", i, s.Name(), a[HTTPRoute], a[HTTPStatusCode], s.SpanKind(), w.name, w.route, w.status)
		}
		if failed := s.Status().Code == codes.Error; failed != w.failed {
			t.Errorf("span %q: failed = %v, want %v", s.Name(), failed, w.failed)
		}
		if strings.Contains(s.Name(), "app_123") || strings.Contains(s.Name(), "src_42") {
			t.Errorf("span name %q has a raw path", s.Name())
		}
	}
	first := spans[0]
	if first.Parent().TraceID().String() != callerTrace || first.Parent().SpanID().String() != callerSpan || !first.Parent().IsRemote() {
		t.Errorf("the request's span has parent %v, want the caller's span", first.Parent())
	}
	a := attrs(first)
	if a[HTTPMethod] != "POST" || a[URLPath] != "/v1/apps/app_123/messages" || a[UserAgent] != "test/1" || a[ServerAddress] != "127.0.0.1" || a[ClientAddress] != "127.0.0.1" {
		t.Errorf("attributes = %v", a)
	}
	if spans[1].Parent().IsValid() {
		t.Error("a request without a traceparent has a parent")
	}
	if m := attrs(spans[4])[HTTPMethod]; m != "_OTHER" {
		t.Errorf("method BREW recorded as %q, want _OTHER", m)
	}

	// A client's long path and user agent are cut in the span.
	long := strings.Repeat("a", 5000)
	do("GET", "/v1/"+long, http.Header{"User-Agent": {long}})
	last := rec.Ended()[len(rec.Ended())-1]
	if a := attrs(last); len(a[URLPath]) != maxAttribute || len(a[UserAgent]) != maxAttribute {
		t.Errorf("a 5,000-byte path and user agent are recorded with %d and %d bytes, want %d", len(a[URLPath]), len(a[UserAgent]), maxAttribute)
	}
}

// TestHandlerOff checks that with tracing off a caller's traceparent still reaches
// the handler's context, and nothing else is added.
func TestHandlerOff(t *testing.T) {
	var got domain.TraceContext
	var hadSpan bool
	h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = FromContext(r.Context())
		hadSpan = trace.SpanFromContext(r.Context()).IsRecording()
	}), nil)
	req := httptest.NewRequest("POST", "/v1/apps/a/messages", nil)
	req.Header.Set("traceparent", callerParent)
	req.Header.Set("tracestate", "rojo=1")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got != (domain.TraceContext{Parent: callerParent, State: "rojo=1"}) || hadSpan {
		t.Fatalf("handler saw %+v (recording span: %v)", got, hadSpan)
	}
	req = httptest.NewRequest("POST", "/v1/apps/a/messages", nil)
	req.Header.Set("traceparent", "00-garbage")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if !got.IsZero() {
		t.Fatalf("a malformed traceparent was kept: %+v", got)
	}
}

// TestHandlerHijack checks that a hijacked connection (a WebSocket) ends its span at
// once, with status 101 and its route.
func TestHandlerHijack(t *testing.T) {
	tp, rec := recorder(t)
	mux := http.NewServeMux()
	ended := make(chan int, 1)
	mux.HandleFunc("GET /v1/listen", func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		ended <- len(rec.Ended()) // the span is over while the connection lives on
		conn.Close()
	})
	srv := httptest.NewServer(Handler(mux, tp))
	t.Cleanup(srv.Close)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /v1/listen HTTP/1.1\r\nHost: x\r\n\r\n")
	if n := <-ended; n != 1 {
		t.Fatalf("%d spans ended when the connection was hijacked, want 1", n)
	}
	s := rec.Ended()[0]
	if s.Name() != "GET /v1/listen" || attrs(s)[HTTPStatusCode] != "101" {
		t.Fatalf("span %q status %s", s.Name(), attrs(s)[HTTPStatusCode])
	}
}

func TestLogHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("component", "test")
	tp, _ := recorder(t)
	ctx, span := tp.Tracer("t").Start(context.Background(), "op")
	log.InfoContext(ctx, "in a span")
	span.End()
	log.InfoContext(context.Background(), "outside")
	log.Info("no context")
	remote := WithParent(context.Background(), domain.TraceContext{Parent: callerParent})
	log.WarnContext(remote, "in the caller's trace")

	var lines []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 4 {
		t.Fatalf("%d lines", len(lines))
	}
	sc := span.SpanContext()
	if lines[0]["trace_id"] != sc.TraceID().String() || lines[0]["span_id"] != sc.SpanID().String() || lines[0]["component"] != "test" {
		t.Errorf("line in a span = %v", lines[0])
	}
	for _, l := range lines[1:3] {
		if _, ok := l["trace_id"]; ok {
			t.Errorf("line outside a span has a trace id: %v", l)
		}
	}
	if lines[3]["trace_id"] != callerTrace || lines[3]["span_id"] != callerSpan {
		t.Errorf("line in the caller's trace = %v", lines[3])
	}
	if LogHandler(LogHandler(slog.DiscardHandler)) != LogHandler(slog.DiscardHandler) {
		t.Error("LogHandler wraps twice")
	}
}
