package tracing

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/httpstatus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Handler traces the requests mux serves: each gets a server span named by its method
// and the route pattern mux (or a mux it hands the request to) matched, such as
// "POST /v1/apps/{app}/messages" (never the raw path, whose ids would make every name
// unique), with the stable HTTP semantic conventions' attributes, as a child of the
// caller's span when the request carries a traceparent. Handler must be the last
// wrapper before mux: the mux records the pattern in the request it is given. The paths
// in untraced (such as /healthz) get no span. With tp nil, no span is made, but a
// caller's traceparent is still put in the request's context, so that a message
// published with one keeps it.
func Handler(mux http.Handler, tp trace.TracerProvider, untraced ...string) http.Handler {
	skip := make(map[string]bool, len(untraced))
	for _, p := range untraced {
		skip[p] = true
	}
	if tp == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Traceparent") != "" {
				r = r.WithContext(Extract(r.Context(), r.Header))
			}
			mux.ServeHTTP(w, r)
		})
	}
	tracer := Tracer(tp)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if skip[r.URL.Path] {
			mux.ServeHTTP(w, r)
			return
		}
		ctx, span := tracer.Start(Extract(r.Context(), r.Header), spanMethod(r.Method),
			trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(requestAttributes(r)...))
		r = r.WithContext(ctx)
		rec := &statusRecorder{Recorder: httpstatus.Recorder{ResponseWriter: w}, span: span, req: r}
		defer rec.finish()
		mux.ServeHTTP(rec, r)
	})
}

// maxAttribute bounds what a client's request puts in one attribute (its path, its
// user agent): a request's headers may be a megabyte long.
const maxAttribute = 1024

// requestAttributes are a server span's attributes known before the request is served.
func requestAttributes(r *http.Request) []attribute.KeyValue {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	attrs := []attribute.KeyValue{
		HTTPMethod.String(knownMethod(r.Method)), URLPath.String(domain.CutUTF8(r.URL.Path, maxAttribute)), URLScheme.String(scheme),
	}
	if host, port, err := net.SplitHostPort(r.Host); err == nil {
		attrs = append(attrs, ServerAddress.String(host))
		if p, err := strconv.Atoi(port); err == nil {
			attrs = append(attrs, ServerPort.Int(p))
		}
	} else if r.Host != "" {
		attrs = append(attrs, ServerAddress.String(r.Host))
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		attrs = append(attrs, ClientAddress.String(host))
	}
	if ua := r.UserAgent(); ua != "" {
		attrs = append(attrs, UserAgent.String(domain.CutUTF8(ua, maxAttribute)))
	}
	return attrs
}

// knownMethod returns m if it is a standard HTTP method, else "_OTHER", as the
// semantic conventions ask (a client must not be able to mint attribute values).
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

// spanMethod is how a server span's name starts: the method, or "HTTP" for a
// nonstandard one.
func spanMethod(m string) string {
	if m = knownMethod(m); m == "_OTHER" {
		return "HTTP"
	}
	return m
}

// routeOf returns the path of a ServeMux pattern ("POST /v1/apps/{app}" gives
// "/v1/apps/{app}"); "" for no pattern or the catch-all "/", which matched no route.
func routeOf(pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = pattern[i+1:]
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:] // a host-specific pattern
	}
	if pattern == "/" {
		return ""
	}
	return pattern
}

// statusRecorder notes the status a handler answers with, for its span. A connection
// the handler hijacks (a herald listen session's WebSocket) ends the span at once,
// with status 101, instead of when the session ends hours later.
type statusRecorder struct {
	httpstatus.Recorder
	span trace.Span
	req  *http.Request // as given to the mux, which records the pattern in it
	done bool
}

// Flush implements http.Flusher when the underlying writer does.
func (s *statusRecorder) Flush() {
	if s.Status == 0 {
		s.Status = http.StatusOK
	}
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}

// Hijack implements http.Hijacker when the underlying writer does.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(s.ResponseWriter).Hijack()
	if err == nil {
		s.Status = http.StatusSwitchingProtocols
		s.finish()
	}
	return conn, rw, err
}

// finish names the span by its route, records the status (5xx marks it failed, as the
// semantic conventions ask of server spans: a 4xx is the client's error, not the
// server's) and ends it; only the first call counts.
func (s *statusRecorder) finish() {
	if s.done {
		return
	}
	s.done = true
	defer s.span.End()
	if route := routeOf(s.req.Pattern); route != "" {
		s.span.SetName(spanMethod(s.req.Method) + " " + route)
		s.span.SetAttributes(HTTPRoute.String(route))
	}
	status := s.Status
	if status == 0 {
		status = http.StatusOK // the handler wrote nothing: net/http answers 200
	}
	s.span.SetAttributes(HTTPStatusCode.Int(status))
	if status >= 500 {
		s.span.SetAttributes(ErrorType.String(strconv.Itoa(status)))
		s.span.SetStatus(codes.Error, "")
	}
}
