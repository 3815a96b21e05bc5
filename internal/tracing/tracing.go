// Package tracing is how herald traces its work with OpenTelemetry: the names of its
// spans and attributes, the W3C trace context a message keeps (so that its attempts
// continue the publisher's trace), the server spans of HTTP requests, and a log handler
// that names the active trace. It uses only the OpenTelemetry API: a nil
// trace.TracerProvider means tracing is off, and then nothing here records or
// allocates a span. Setting up the SDK and its exporters is package telemetry's job.
package tracing

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Scope is the instrumentation scope of herald's spans.
const Scope = "github.com/heraldhq/herald"

// Span names (docs/observability.md lists them with their attributes).
const (
	SpanPublish  = "publish"         // a message stored with its deliveries
	SpanAttempt  = "message_attempt" // one attempt at a delivery
	SpanIngest   = "ingest"          // a provider's webhook at /in/{source}
	SpanRelay    = "listener_relay"  // an attempt carried to a herald listen session
	SpanHTTPPost = "POST"            // an attempt's webhook request (HTTP client spans are named by method)
)

// Attribute keys herald adds to the OpenTelemetry semantic conventions' own.
const (
	AppID         = attribute.Key("herald.app.id")
	MessageID     = attribute.Key("herald.message.id")
	EventType     = attribute.Key("herald.event_type")
	DeliveryID    = attribute.Key("herald.delivery.id")
	EndpointID    = attribute.Key("herald.endpoint.id")
	SourceID      = attribute.Key("herald.source.id")
	FanoutCount   = attribute.Key("herald.fanout.count")
	Duplicate     = attribute.Key("herald.duplicate")
	AttemptNumber = attribute.Key("herald.attempt.number")
	Outcome       = attribute.Key("herald.outcome")
	NextAttemptAt = attribute.Key("herald.next_attempt_at")
	Provider      = attribute.Key("herald.provider")
	Verified      = attribute.Key("herald.verified")
	Rejection     = attribute.Key("herald.rejection.reason")
)

// Semantic-convention keys herald sets (stable HTTP conventions).
const (
	HTTPMethod     = attribute.Key("http.request.method")
	HTTPStatusCode = attribute.Key("http.response.status_code")
	HTTPRoute      = attribute.Key("http.route")
	URLPath        = attribute.Key("url.path")
	URLScheme      = attribute.Key("url.scheme")
	ServerAddress  = attribute.Key("server.address")
	ServerPort     = attribute.Key("server.port")
	ClientAddress  = attribute.Key("client.address")
	UserAgent      = attribute.Key("user_agent.original")
	ErrorType      = attribute.Key("error.type")
)

// Tracer returns herald's tracer of tp, or nil when tp is nil (tracing off).
func Tracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		return nil
	}
	return tp.Tracer(Scope)
}
