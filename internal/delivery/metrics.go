package delivery

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the engine's Prometheus collectors; none is labelled by endpoint or app,
// so the number of series stays bounded however many endpoints come and go (per-endpoint
// figures are in the API's endpoint stats).
type Metrics struct {
	QueueDepth       prometheus.Gauge
	Held             prometheus.Gauge
	Published        prometheus.Counter
	Deliveries       *prometheus.CounterVec // by outcome: succeeded, retrying, failed, cancelled
	AttemptLatency   prometheus.Histogram
	EndpointFailures prometheus.Counter     // failed attempts, all endpoints together
	Disabled         *prometheus.CounterVec // by reason: gone, failing
}

// NewMetrics creates the collectors and registers them with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		QueueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "herald_queue_depth", Help: "Pending deliveries: queued, waiting for a retry, or in flight.",
		}),
		Held: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "herald_deliveries_held", Help: "Deliveries leased by this node, queued in memory or in flight.",
		}),
		Published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_messages_published_total", Help: "Messages accepted by the publish API.",
		}),
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_delivery_attempts_total", Help: "Delivery attempts by outcome (succeeded, retrying, failed, cancelled).",
		}, []string{"outcome"}),
		AttemptLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "herald_attempt_duration_seconds",
			Help:    "Time from sending a webhook to its response (or error).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		EndpointFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_endpoint_failures_total", Help: "Failed delivery attempts (retrying or failed), all endpoints together.",
		}),
		Disabled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_endpoints_disabled_total", Help: "Endpoints disabled automatically, by reason (gone, failing).",
		}, []string{"reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.QueueDepth, m.Held, m.Published, m.Deliveries, m.AttemptLatency, m.EndpointFailures, m.Disabled)
	}
	for _, o := range []string{"succeeded", "retrying", "failed", "cancelled"} {
		m.Deliveries.WithLabelValues(o)
	}
	return m
}
