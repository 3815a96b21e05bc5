package bench

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Report is the outcome of a run.
type Report struct {
	Messages           int     `json:"messages"`
	Endpoints          int     `json:"endpoints"`
	Fanout             int     `json:"fanout"`
	PayloadSize        int     `json:"payload_size"`
	TargetRate         float64 `json:"target_rate,omitempty"`
	Batch              int     `json:"batch,omitempty"`
	ExpectedDeliveries int     `json:"expected_deliveries"`
	Delivered          int     `json:"delivered"`
	Lost               int     `json:"lost"`
	Duplicates         int     `json:"duplicates"`
	Retries            int     `json:"retries"`
	BadSignatures      int     `json:"bad_signatures"`
	PublishErrors      int     `json:"publish_errors"`
	PublishSeconds     float64 `json:"publish_seconds"`
	PublishPerSecond   float64 `json:"publish_per_second"`
	DeliverySeconds    float64 `json:"delivery_seconds"`
	DeliveriesPerSec   float64 `json:"deliveries_per_second"`
	// The raw HTTP baseline measured in the same run (RunRaw), and the publish and
	// delivery throughputs as shares of it; zero when it was skipped.
	RawHTTPPerSec    float64 `json:"raw_http_per_s,omitempty"`
	PublishPerRaw    float64 `json:"publish_per_raw,omitempty"`
	DeliveriesPerRaw float64 `json:"deliveries_per_raw,omitempty"`
	// Latency from the start of the publish request to the first attempt reaching the
	// receiver, and to the successful one.
	FirstAttempt   Percentiles `json:"first_attempt_latency_ms"`
	Delivery       Percentiles `json:"delivery_latency_ms"`
	ServerCPU      float64     `json:"server_cpu_seconds,omitempty"`
	CPUPerDelivery float64     `json:"server_cpu_ms_per_delivery,omitempty"`
	PeakRSSMB      float64     `json:"server_peak_rss_mb,omitempty"`
	// With hanging endpoints of another app: how many, how many of their requests were
	// hanging when the run began, and the same run's delivery latency without them.
	HostileEndpoints int          `json:"hostile_endpoints,omitempty"`
	HostileInFlight  int          `json:"hostile_requests_hanging,omitempty"`
	Baseline         *Percentiles `json:"baseline_delivery_latency_ms,omitempty"`
}

// SetRaw records the raw HTTP baseline and the run's throughputs as shares of it.
func (r *Report) SetRaw(raw *RawResult) {
	if raw == nil {
		return
	}
	r.RawHTTPPerSec = raw.PerSecond
	r.PublishPerRaw = ratio(r.PublishPerSecond, raw)
	r.DeliveriesPerRaw = ratio(r.DeliveriesPerSec, raw)
}

// Percentiles summarise a latency distribution in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// latencies collects latency samples in milliseconds from concurrent goroutines.
type latencies struct {
	mu sync.Mutex
	v  []float64
}

// add records one sample.
func (l *latencies) add(ms float64) {
	l.mu.Lock()
	l.v = append(l.v, ms)
	l.mu.Unlock()
}

// summary sorts the samples and returns their percentiles.
func (l *latencies) summary() Percentiles {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.v) == 0 {
		return Percentiles{}
	}
	sort.Float64s(l.v)
	at := func(p float64) float64 { return round(l.v[min(len(l.v)-1, int(p*float64(len(l.v))))]) }
	return Percentiles{P50: at(0.5), P90: at(0.9), P99: at(0.99), Max: round(l.v[len(l.v)-1])}
}

// round rounds v to two decimal places.
func round(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }

// serverUsage reads the server's stats after a run that started at cpu0 and did work
// units of work (deliveries, requests): the CPU seconds spent, CPU milliseconds per unit
// and peak RSS in MB, all zero when there are no stats or reading them fails.
func serverUsage(stats func() (time.Duration, int64, error), cpu0 time.Duration, work int) (cpuSeconds, cpuMSPerUnit, peakRSSMB float64) {
	if stats == nil {
		return 0, 0, 0
	}
	cpu1, rss, err := stats()
	if err != nil {
		return 0, 0, 0
	}
	cpuSeconds = round((cpu1 - cpu0).Seconds())
	if work > 0 {
		cpuMSPerUnit = float64(int64((cpu1-cpu0).Seconds()*1e3/float64(work)*1e4+0.5)) / 1e4
	}
	return cpuSeconds, cpuMSPerUnit, round(float64(rss) / (1 << 20))
}

// serverCPU reads the server's CPU time before a run; zero without stats.
func serverCPU(stats func() (time.Duration, int64, error)) time.Duration {
	if stats == nil {
		return 0
	}
	cpu0, _, _ := stats()
	return cpu0
}

// Failed reports why the run counts as a failure (lost messages, bad signatures), or "".
func (r *Report) Failed() string {
	var why []string
	if r.Lost > 0 {
		why = append(why, fmt.Sprintf("%d deliveries lost", r.Lost))
	}
	if r.BadSignatures > 0 {
		why = append(why, fmt.Sprintf("%d requests with a bad signature", r.BadSignatures))
	}
	return strings.Join(why, ", ")
}

// WriteTable prints the report as an aligned table.
func (r *Report) WriteTable(w io.Writer) {
	rows := [][2]string{
		{"messages published", fmt.Sprintf("%d (%d errors)", r.Messages-r.PublishErrors, r.PublishErrors)},
		{"endpoints / fan-out", fmt.Sprintf("%d / %d", r.Endpoints, r.Fanout)},
		{"payload", fmt.Sprintf("%d bytes", r.PayloadSize)},
		{"publish throughput", fmt.Sprintf("%.0f messages/s over %.2f s%s", r.PublishPerSecond, r.PublishSeconds, ofRaw(r.PublishPerRaw))},
		{"delivery throughput", fmt.Sprintf("%.0f deliveries/s (%d in %.2f s)%s", r.DeliveriesPerSec, r.Delivered, r.DeliverySeconds, ofRaw(r.DeliveriesPerRaw))},
		{"publish → first attempt", fmt.Sprintf("p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms", r.FirstAttempt.P50, r.FirstAttempt.P90, r.FirstAttempt.P99, r.FirstAttempt.Max)},
		{"publish → delivered", fmt.Sprintf("p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms", r.Delivery.P50, r.Delivery.P90, r.Delivery.P99, r.Delivery.Max)},
		{"retries", strconv.Itoa(r.Retries)},
		{"duplicates", strconv.Itoa(r.Duplicates)},
		{"lost", strconv.Itoa(r.Lost)},
		{"bad signatures", strconv.Itoa(r.BadSignatures)},
	}
	if r.TargetRate > 0 {
		rows = append(rows[:4], append([][2]string{{"target rate", fmt.Sprintf("%.0f messages/s", r.TargetRate)}}, rows[4:]...)...)
	}
	if r.HostileEndpoints > 0 {
		i := len(rows) - 4 // after the latencies
		extra := [][2]string{{"another app", fmt.Sprintf("%d endpoints that never answer, %d requests to them hanging", r.HostileEndpoints, r.HostileInFlight)}}
		if b := r.Baseline; b != nil {
			extra = append(extra, [2]string{"  without it: delivered", fmt.Sprintf("p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms", b.P50, b.P90, b.P99, b.Max)})
		}
		rows = append(rows[:i], append(extra, rows[i:]...)...)
	}
	if r.RawHTTPPerSec > 0 {
		rows = append(rows, [2]string{"raw HTTP, same run", rawRow(r.RawHTTPPerSec)})
	}
	if r.ServerCPU > 0 {
		rows = append(rows,
			[2]string{"server CPU", fmt.Sprintf("%.2f s (%.4f ms per delivery)", r.ServerCPU, r.CPUPerDelivery)},
			[2]string{"server peak RSS", fmt.Sprintf("%.1f MB", r.PeakRSSMB)})
	}
	width := 0
	for _, row := range rows {
		width = max(width, len([]rune(row[0])))
	}
	for _, row := range rows {
		fmt.Fprintf(w, "%s%s  %s\n", row[0], strings.Repeat(" ", width-len([]rune(row[0]))), row[1])
	}
}

// ofRaw describes a throughput's share of the raw HTTP rate, or is empty without one.
func ofRaw(share float64) string {
	if share <= 0 {
		return ""
	}
	return fmt.Sprintf(", %.1f%% of raw HTTP", share*100)
}

// rawRow describes the raw HTTP baseline's rate for a report's table.
func rawRow(perSec float64) string {
	return fmt.Sprintf("%.0f POST/s (net/http on loopback, %d-byte bodies, keep-alive, nothing stored)", perSec, RawBodySize)
}
