package delivery

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/netguard"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/tracing"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// With tracing on (Config.Tracing), each attempt is a span, message_attempt, whose
// parent is the trace context stored with its message (the publish span, or the
// publisher's own span), however much later and on whichever node the attempt is made;
// its child, a client span, is the webhook request, and its context is what the
// request's traceparent carries. With tracing off, no span is made: the request carries
// the stored trace context as it is, so that a receiver still joins the publisher's
// trace. docs/observability.md lists the attributes.

// attemptSpans are the spans of one attempt.
type attemptSpans struct {
	attempt, request trace.Span
}

// startAttempt starts the spans of an attempt at j's delivery, begun at started, and
// makes req carry the request span's trace context.
func (e *Engine) startAttempt(j *job, req *request, started time.Time) *attemptSpans {
	d := j.c.Delivery
	number := tracing.AttemptNumber.Int(d.Attempts + 1)
	endpoint := tracing.EndpointID.String(d.EndpointID)
	ctx, attempt := e.tracer.Start(tracing.WithParent(context.Background(), j.c.Trace), tracing.SpanAttempt,
		trace.WithSpanKind(trace.SpanKindConsumer), trace.WithTimestamp(started),
		trace.WithAttributes(tracing.AppID.String(d.AppID), tracing.MessageID.String(d.MessageID), tracing.DeliveryID.String(d.ID),
			endpoint, tracing.EventType.String(j.c.Type), number))
	name, attrs := tracing.SpanHTTPPost, []attribute.KeyValue{tracing.HTTPMethod.String("POST"), endpoint, number}
	if req.relay {
		name = tracing.SpanRelay
	} else {
		attrs = append(attrs, serverAttributes(req.url)...)
	}
	ctx, request := e.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(started), trace.WithAttributes(attrs...))
	req.trace = tracing.FromContext(ctx)
	return &attemptSpans{attempt: attempt, request: request}
}

// serverAttributes are server.address, server.port and url.scheme of a webhook URL.
// The URL itself is not recorded: receivers' URLs often hold secrets (Slack's do).
func serverAttributes(rawURL string) []attribute.KeyValue {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil
	}
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	p, _ := strconv.Atoi(port)
	return []attribute.KeyValue{tracing.ServerAddress.String(u.Hostname()), tracing.ServerPort.Int(p), tracing.URLScheme.String(u.Scheme)}
}

// end ends the spans of an attempt that got resp, which means o; s may be nil.
func (s *attemptSpans) end(resp response, o outcome) {
	if s == nil {
		return
	}
	outcome := tracing.Outcome.String(o.attempt)
	s.request.SetAttributes(outcome)
	if resp.status != 0 {
		s.request.SetAttributes(tracing.HTTPStatusCode.Int(resp.status))
	}
	switch {
	case resp.err != nil:
		s.request.SetAttributes(tracing.ErrorType.String(errorType(resp)))
		s.request.SetStatus(codes.Error, resp.err.Error())
	case resp.status >= 400 || resp.status < 200:
		s.request.SetAttributes(tracing.ErrorType.String(strconv.Itoa(resp.status)))
		s.request.SetStatus(codes.Error, "")
	}
	s.request.End()
	s.attempt.SetAttributes(outcome)
	if o.nextAttemptAt != nil {
		s.attempt.SetAttributes(tracing.NextAttemptAt.String(o.nextAttemptAt.Format(time.RFC3339)))
	}
	if o.errText != "" {
		s.attempt.SetStatus(codes.Error, o.errText)
	}
	s.attempt.End()
}

// abandon ends the spans of an attempt that did not really happen (see Engine.abandon).
func (s *attemptSpans) abandon(resp response) {
	if s == nil {
		return
	}
	for _, span := range []trace.Span{s.request, s.attempt} {
		span.SetAttributes(tracing.Outcome.String("abandoned"))
		span.SetStatus(codes.Error, resp.err.Error())
		span.End()
	}
}

// errorType is the error.type of an attempt that got no answer: a short, fixed name.
func errorType(resp response) string {
	var ne net.Error
	switch {
	case resp.timedOut:
		return "timeout"
	case errors.Is(resp.err, netguard.ErrBlocked):
		return "blocked"
	case errors.Is(resp.err, ErrListenerGone):
		return "listener_gone"
	case errors.As(resp.err, &ne):
		return "network"
	}
	return "_OTHER"
}

// startPublish starts the span of a publish of m.
func (e *Engine) startPublish(ctx context.Context, m *domain.Message) (context.Context, trace.Span) {
	attrs := []attribute.KeyValue{tracing.AppID.String(m.AppID), tracing.MessageID.String(m.ID), tracing.EventType.String(m.Type)}
	if m.SourceID != "" {
		attrs = append(attrs, tracing.SourceID.String(m.SourceID))
	}
	return e.tracer.Start(ctx, tracing.SpanPublish, trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...))
}

// endPublish records a publish's result on its span (nil: tracing off); the caller ends it.
func endPublish(span trace.Span, res *store.PublishResult, err error) {
	switch {
	case span == nil:
	case err != nil:
		span.SetStatus(codes.Error, err.Error())
	case res.Duplicate:
		// The message id is the original's: the one its deliveries were made for.
		span.SetAttributes(tracing.Duplicate.Bool(true), tracing.MessageID.String(res.Message.ID), tracing.FanoutCount.Int(0))
	default:
		span.SetAttributes(tracing.FanoutCount.Int(len(res.Deliveries)))
	}
}
