package tracing

import (
	"context"
	"net/http"
	"strings"

	"github.com/heraldhq/herald/internal/domain"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// w3c reads and writes the traceparent and tracestate headers. Herald always uses W3C
// Trace Context, whatever OTEL_PROPAGATORS says: it is what a message stores and what
// a webhook carries.
var w3c = propagation.TraceContext{}

// carrier is a propagation.TextMapCarrier over a stored trace context.
type carrier struct{ tc *domain.TraceContext }

func (c carrier) Get(key string) string {
	switch key {
	case "traceparent":
		return c.tc.Parent
	case "tracestate":
		return c.tc.State
	}
	return ""
}

func (c carrier) Set(key, value string) {
	switch key {
	case "traceparent":
		c.tc.Parent = value
	case "tracestate":
		c.tc.State = value
	}
}

func (c carrier) Keys() []string { return []string{"traceparent", "tracestate"} }

// FromContext returns the trace context of ctx's span (or of the remote parent a
// request brought), to be stored with a message; empty when ctx is in no trace. The
// tracestate is cut to domain.MaxTraceState by dropping list members from the end.
func FromContext(ctx context.Context) domain.TraceContext {
	return FromSpanContext(trace.SpanContextFromContext(ctx))
}

// FromSpanContext returns sc as a stored trace context (see FromContext).
func FromSpanContext(sc trace.SpanContext) domain.TraceContext {
	var tc domain.TraceContext
	if !sc.IsValid() {
		return tc
	}
	w3c.Inject(trace.ContextWithSpanContext(context.Background(), sc), carrier{&tc})
	if len(tc.State) > domain.MaxTraceState {
		tc.State = cutTraceState(sc.TraceState())
	}
	return tc
}

// cutTraceState keeps the leading members of ts that fit in domain.MaxTraceState.
func cutTraceState(ts trace.TraceState) string {
	var b strings.Builder
	ts.Walk(func(k, v string) bool {
		n := len(k) + 1 + len(v)
		if b.Len() > 0 {
			n++
		}
		if b.Len()+n > domain.MaxTraceState {
			return false
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
		return true
	})
	return b.String()
}

// SpanContext returns the remote span context a stored trace context names; it is not
// valid when tc is empty or malformed.
func SpanContext(tc domain.TraceContext) trace.SpanContext {
	if tc.Parent == "" {
		return trace.SpanContext{}
	}
	return trace.SpanContextFromContext(w3c.Extract(context.Background(), carrier{&tc}))
}

// WithParent returns ctx with the stored trace context tc as the remote parent of the
// spans started from it; ctx itself when tc names no valid span.
func WithParent(ctx context.Context, tc domain.TraceContext) context.Context {
	sc := SpanContext(tc)
	if !sc.IsValid() {
		return ctx
	}
	return trace.ContextWithRemoteSpanContext(ctx, sc)
}

// Extract returns ctx with the caller's span, as the traceparent and tracestate of
// header name it, as its remote parent; ctx itself when header has no valid traceparent
// (a malformed one is ignored, as W3C Trace Context requires).
func Extract(ctx context.Context, header http.Header) context.Context {
	return w3c.Extract(ctx, propagation.HeaderCarrier(header))
}
