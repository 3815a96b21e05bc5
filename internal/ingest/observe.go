package ingest

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/telemetry/buckets"
	"github.com/heraldhq/herald/internal/tracing"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Metrics are the gateway's Prometheus collectors. Their labels are the provider (a
// fixed list: "unknown" until a source is found), the result and the rejection reason
// (fixed codes), never a source or app id.
type Metrics struct {
	Requests   *prometheus.CounterVec // by provider and result: accepted, duplicate, rejected, failed, challenge
	Rejections *prometheus.CounterVec // by provider and reason (the error code answered)
	Latency    prometheus.Histogram   // accepted webhooks: read, verify and store
}

// NewMetrics creates the collectors and registers them with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_ingest_requests_total",
			Help: "Webhooks received at /in/{source}, by provider and result (accepted, duplicate, rejected, failed, challenge).",
		}, []string{"provider", "result"}),
		Rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_ingest_rejections_total",
			Help: "Webhooks refused at /in/{source}, by provider and reason (invalid_signature, timestamp_too_old, body_too_large, unknown_source...).",
		}, []string{"provider", "reason"}),
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "herald_ingest_duration_seconds",
			Help:    "Time to read, verify and durably store an accepted webhook at /in/{source}.",
			Buckets: buckets.Latency(),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Requests, m.Rejections, m.Latency)
	}
	return m
}

// Results of a request, for herald_ingest_requests_total.
const (
	resultAccepted  = "accepted"
	resultDuplicate = "duplicate"
	resultRejected  = "rejected"  // the sender's fault: a bad signature, an unknown source...
	resultFailed    = "failed"    // herald's: it could not store the webhook (the provider retries)
	resultChallenge = "challenge" // a verified URL check answered (Slack's url_verification)
)

// verdict is what became of one request, for its span and the metrics.
type verdict struct {
	provider, sourceID, appID string // "" until the source is known
	verified                  bool
	result, reason            string
	messageID                 string
}

func (v *verdict) source(s *domain.Source) {
	v.provider, v.sourceID, v.appID = s.Provider, s.ID, s.AppID
}
func (v *verdict) reject(reason string) { v.result, v.reason = resultRejected, reason }
func (v *verdict) fail(reason string)   { v.result, v.reason = resultFailed, reason }

func (v *verdict) stored(res *store.PublishResult) {
	v.result, v.messageID = resultAccepted, res.Message.ID
	if res.Duplicate {
		v.result = resultDuplicate
	}
}

// ServeHTTP implements http.Handler for the pattern "/in/{source}".
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("source")
	if id == "" {
		id = strings.TrimPrefix(r.URL.Path, "/in/")
	}
	started := time.Now()
	v := &verdict{}
	var span trace.Span
	if h.tracer != nil {
		var ctx context.Context
		ctx, span = h.tracer.Start(r.Context(), tracing.SpanIngest)
		r = r.WithContext(ctx)
	}
	h.serve(w, r, id, v)
	h.cfg.Metrics.observe(v, time.Since(started))
	if span != nil {
		v.annotate(span)
		span.End()
	}
}

// observe counts a request.
func (m *Metrics) observe(v *verdict, took time.Duration) {
	provider, result := v.provider, v.result
	if provider == "" {
		provider = "unknown"
	}
	if result == "" {
		result = resultChallenge
	}
	m.Requests.WithLabelValues(provider, result).Inc()
	switch result {
	case resultRejected:
		m.Rejections.WithLabelValues(provider, v.reason).Inc()
	case resultAccepted:
		m.Latency.Observe(took.Seconds())
	}
}

// annotate records v on the request's ingest span.
func (v *verdict) annotate(span trace.Span) {
	attrs := []attribute.KeyValue{tracing.Verified.Bool(v.verified)}
	if v.sourceID != "" {
		attrs = append(attrs, tracing.SourceID.String(v.sourceID), tracing.AppID.String(v.appID), tracing.Provider.String(v.provider))
	}
	if v.messageID != "" {
		attrs = append(attrs, tracing.MessageID.String(v.messageID), tracing.Duplicate.Bool(v.result == resultDuplicate))
	}
	if v.reason != "" {
		attrs = append(attrs, tracing.Rejection.String(v.reason))
	}
	span.SetAttributes(attrs...)
	if v.result == resultFailed || v.result == resultRejected {
		span.SetStatus(codes.Error, v.result+": "+v.reason)
	}
}
