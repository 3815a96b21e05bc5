package delivery

import (
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/telemetry/buckets"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the engine's Prometheus collectors; none is labelled by endpoint or app,
// so the number of series stays bounded however many endpoints come and go (per-endpoint
// figures are in the API's endpoint stats). The one label with an id, node on
// herald_deliveries_claimed_total, only ever names this process.
type Metrics struct {
	QueueDepth       prometheus.Gauge
	Held             prometheus.Gauge
	Published        prometheus.Counter
	Deliveries       *prometheus.CounterVec // attempts by outcome (succeeded, retrying, failed, cancelled) and status class
	AttemptLatency   prometheus.Histogram
	EndpointFailures prometheus.Counter     // failed attempts, all endpoints together
	Disabled         *prometheus.CounterVec // by reason: gone, failing
	PublishLatency   prometheus.Histogram   // storing a message with its deliveries
	DeliveryLatency  prometheus.Histogram   // from publish to the successful attempt's answer
	Backlog          prometheus.Gauge       // pending deliveries due now that no node holds
	BacklogAge       prometheus.Gauge       // how long the longest-waiting of them has been due
	Claimed          *prometheus.CounterVec // deliveries this node took, by node and by how (claim, publish)

	attempts [4][5]prometheus.Counter // Deliveries' children by outcome and class, resolved once
}

// Status classes of herald_delivery_attempts_total: the answer's, or "none" when no HTTP
// answer came (a connection error, a timeout, the SSRF guard).
const (
	class2xx  = "2xx"
	class3xx  = "3xx"
	class4xx  = "4xx"
	class5xx  = "5xx"
	classNone = "none"
)

// statusClasses are the status classes in the order of Metrics.attempts.
var statusClasses = [5]string{class2xx, class3xx, class4xx, class5xx, classNone}

// attemptOutcomes are the attempt outcomes in the order of Metrics.attempts.
var attemptOutcomes = [4]string{domain.OutcomeSucceeded, domain.OutcomeRetrying, domain.OutcomeFailed, domain.OutcomeCancelled}

// statusClass returns the index in statusClasses of an attempt's HTTP status (0: no answer).
func statusClass(status int) int {
	if status >= 200 && status <= 599 {
		return status/100 - 2
	}
	return 4
}

// countAttempt counts an attempt with outcome (one of attemptOutcomes) and HTTP status.
func (m *Metrics) countAttempt(outcome string, status int) {
	for i, o := range attemptOutcomes {
		if o == outcome {
			m.attempts[i][statusClass(status)].Inc()
			return
		}
	}
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
			Name: "herald_messages_published_total", Help: "Messages stored by publishes, through the API or the receiving gateway (repeated idempotency keys not counted).",
		}),
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_delivery_attempts_total",
			Help: "Delivery attempts by outcome (succeeded, retrying, failed, cancelled) and status class (2xx, 3xx, 4xx, 5xx; none: no HTTP answer).",
		}, []string{"outcome", "status_class"}),
		AttemptLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "herald_attempt_duration_seconds",
			Help:    "Time from sending a webhook to its response (or error).",
			Buckets: append(buckets.Latency(), 10, 30), // an endpoint may take its time
		}),
		EndpointFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_endpoint_failures_total", Help: "Failed delivery attempts (retrying or failed), all endpoints together.",
		}),
		Disabled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_endpoints_disabled_total", Help: "Endpoints disabled automatically, by reason (gone, failing).",
		}, []string{"reason"}),
		PublishLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "herald_publish_duration_seconds",
			Help:    "Time to store a published message with its deliveries: the durable write a publish waits for.",
			Buckets: buckets.Latency(),
		}),
		DeliveryLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "herald_delivery_latency_seconds",
			Help: "Time from a message's publish to the answer of its delivery's successful attempt, retries included.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600,
				12 * 3600, 24 * 3600, 3 * 24 * 3600},
		}),
		Backlog: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "herald_backlog_due",
			Help: "Pending deliveries due now that no node holds, sampled every few seconds (counted up to 100000).",
		}),
		BacklogAge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "herald_backlog_oldest_due_seconds",
			Help: "How long the longest-waiting due delivery has been due (0: none is waiting), sampled every few seconds.",
		}),
		Claimed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_deliveries_claimed_total",
			Help: "Deliveries this node took to send, by how: claim (from the queue) or publish (leased as it published them).",
		}, []string{"node", "via"}),
	}
	if reg != nil {
		reg.MustRegister(m.QueueDepth, m.Held, m.Published, m.Deliveries, m.AttemptLatency, m.EndpointFailures, m.Disabled,
			m.PublishLatency, m.DeliveryLatency, m.Backlog, m.BacklogAge, m.Claimed)
	}
	for i, o := range attemptOutcomes {
		for j, c := range statusClasses {
			m.attempts[i][j] = m.Deliveries.WithLabelValues(o, c)
		}
	}
	return m
}
