// Package bench is herald's load harness: it publishes messages to a herald server,
// receives the webhooks on its own loopback receiver (verifying every signature), and
// reports throughput, latency, retries, duplicates, losses and the server's CPU and memory.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/webhook"
)

// Options describe one benchmark run.
type Options struct {
	Server          string        // herald base URL
	Servers         []string      // more nodes of the same cluster: publishes go to Server and these in turn
	APIKey          string        // an admin key
	Endpoints       int           // endpoints to create (default 1)
	Fanout          int           // endpoints each message goes to (default: all of them)
	Messages        int           // messages to publish (default 10,000)
	PayloadSize     int           // bytes per payload (default 1024)
	Rate            float64       // messages per second; 0 publishes as fast as possible
	Concurrency     int           // concurrent publish requests (default 64)
	Batch           int           // messages per publish request (batch publish); 0 or 1: one each
	FailRate        float64       // share of first attempts the receiver answers with 500
	ReceiverLatency time.Duration // how long the receiver takes to answer
	Wait            time.Duration // how long to wait for stragglers after publishing (default 2 min)
	// HostileEndpoints, when positive, first gives another app this many endpoints that
	// accept connections and never answer (timeout HostileTimeout), and publishes
	// HostileMessages to them, so that the run measures how the benchmark's own app fares
	// next to an app whose endpoints hang.
	HostileEndpoints int
	HostileMessages  int           // default 200
	HostileTimeout   time.Duration // default 120 s, the longest an endpoint may have
	// ServerStats, when set, reads the server process's CPU seconds and peak RSS.
	ServerStats func() (cpu time.Duration, peakRSS int64, err error)
	Progress    io.Writer // a live progress line; nil for none
}

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

// Percentiles summarise a latency distribution in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func (o *Options) setDefaults() error {
	if o.Server == "" || o.APIKey == "" {
		return errors.New("bench: a server URL and an API key are required")
	}
	if o.Endpoints <= 0 {
		o.Endpoints = 1
	}
	if o.Fanout <= 0 || o.Fanout > o.Endpoints {
		o.Fanout = o.Endpoints
	}
	if o.Endpoints%o.Fanout != 0 {
		return fmt.Errorf("bench: --endpoints (%d) must be a multiple of --fanout (%d)", o.Endpoints, o.Fanout)
	}
	if o.Messages <= 0 {
		o.Messages = 10000
	}
	if o.PayloadSize < 64 {
		o.PayloadSize = 1024
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	if o.FailRate < 0 || o.FailRate > 1 {
		return fmt.Errorf("bench: --fail-rate %v: want 0..1", o.FailRate)
	}
	if o.Wait <= 0 {
		o.Wait = 2 * time.Minute
	}
	if o.HostileMessages <= 0 {
		o.HostileMessages = 200
	}
	if o.HostileTimeout <= 0 {
		o.HostileTimeout = 2 * time.Minute
	}
	return nil
}

// receiver is the benchmark's webhook endpoint: one HTTP server, a path per endpoint.
type receiver struct {
	opts      *Options
	verifiers []*webhook.Standard
	start     []int64 // publish start per message seq, unix ns; 0 until published
	// per (seq, endpoint): first attempt time, success count; guarded by mu.
	mu        sync.Mutex
	firstSeen []int64
	success   []uint16
	attempted []bool

	delivered, duplicates, retries, badSigs, failing atomic.Int64
	lastDelivery                                     atomic.Int64
	firstLat, okLat                                  latencies
}

type latencies struct {
	mu sync.Mutex
	v  []float64
}

func (l *latencies) add(ms float64) {
	l.mu.Lock()
	l.v = append(l.v, ms)
	l.mu.Unlock()
}

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

func round(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	now := time.Now().UnixNano()
	body, err := io.ReadAll(req.Body)
	if err != nil {
		w.WriteHeader(400)
		return
	}
	ep, err := strconv.Atoi(strings.TrimPrefix(req.URL.Path, "/ep/"))
	if err != nil || ep < 0 || ep >= len(r.verifiers) {
		w.WriteHeader(404)
		return
	}
	if _, err := r.verifiers[ep].Verify(body, req.Header); err != nil {
		r.badSigs.Add(1)
		w.WriteHeader(401)
		return
	}
	seq := seqOf(body)
	if seq < 0 || seq >= len(r.start) {
		r.badSigs.Add(1)
		w.WriteHeader(400)
		return
	}
	if r.opts.ReceiverLatency > 0 {
		time.Sleep(r.opts.ReceiverLatency)
	}
	slot := seq*len(r.verifiers) + ep
	started := atomic.LoadInt64(&r.start[seq])
	r.mu.Lock()
	first := !r.attempted[slot]
	if first {
		r.attempted[slot] = true
		r.firstSeen[slot] = now
	} else {
		r.retries.Add(1)
	}
	fail := first && r.opts.FailRate > 0 && rand.Float64() < r.opts.FailRate
	if !fail {
		r.success[slot]++
		if r.success[slot] > 1 {
			r.duplicates.Add(1)
		}
	}
	r.mu.Unlock()
	if first && started > 0 {
		r.firstLat.add(float64(now-started) / 1e6)
	}
	if fail {
		r.failing.Add(1)
		w.WriteHeader(500)
		return
	}
	if started > 0 {
		r.okLat.add(float64(now-started) / 1e6)
	}
	r.delivered.Add(1)
	r.lastDelivery.Store(now)
	w.WriteHeader(204)
}

// seqOf reads the "seq" number the benchmark puts first in every payload.
func seqOf(body []byte) int {
	const prefix = `{"seq":`
	if !bytes.HasPrefix(body, []byte(prefix)) {
		return -1
	}
	n, i := 0, len(prefix)
	for ; i < len(body) && body[i] >= '0' && body[i] <= '9'; i++ {
		n = n*10 + int(body[i]-'0')
	}
	if i == len(prefix) {
		return -1
	}
	return n
}

func payload(seq, size int) json.RawMessage {
	head := fmt.Sprintf(`{"seq":%d,"type":"bench.event","pad":"`, seq)
	pad := size - len(head) - 2
	if pad < 0 {
		pad = 0
	}
	return json.RawMessage(head + strings.Repeat("x", pad) + `"}`)
}

// Run executes the benchmark.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	httpClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency * 2}}
	c := client.New(o.Server, o.APIKey, httpClient)
	publishers := []*client.Client{c}
	for _, s := range o.Servers {
		publishers = append(publishers, client.New(s, o.APIKey, httpClient))
	}
	rcv := &receiver{
		opts:      &o,
		start:     make([]int64, o.Messages),
		firstSeen: make([]int64, o.Messages*o.Endpoints),
		success:   make([]uint16, o.Messages*o.Endpoints),
		attempted: make([]bool, o.Messages*o.Endpoints),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: receiver: %w", err)
	}
	hs := &http.Server{Handler: rcv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()

	app, err := c.CreateApp(ctx, client.AppInput{Name: fmt.Sprintf("bench %s", time.Now().Format(time.RFC3339))})
	if err != nil {
		return nil, fmt.Errorf("bench: create app: %w", err)
	}
	defer c.DeleteApp(context.WithoutCancel(ctx), app.ID)
	groups := o.Endpoints / o.Fanout
	rcv.verifiers = make([]*webhook.Standard, o.Endpoints)
	for i := 0; i < o.Endpoints; i++ {
		ep, err := c.CreateEndpoint(ctx, app.ID, client.EndpointInput{
			URL:        fmt.Sprintf("http://%s/ep/%d", ln.Addr(), i),
			EventTypes: []string{fmt.Sprintf("bench.g%d", i%groups)},
		})
		if err != nil {
			return nil, fmt.Errorf("bench: create endpoint: %w", err)
		}
		secrets, err := c.EndpointSecrets(ctx, app.ID, ep.ID)
		if err != nil {
			return nil, fmt.Errorf("bench: endpoint secret: %w", err)
		}
		if rcv.verifiers[i], err = webhook.NewStandard(secrets[0].Secret); err != nil {
			return nil, err
		}
	}
	var hostileHanging int
	if o.HostileEndpoints > 0 {
		h, err := startHostile(ctx, c, &o)
		if err != nil {
			return nil, err
		}
		defer h.stop(context.WithoutCancel(ctx))
		hostileHanging = h.hanging()
	}
	var cpu0 time.Duration
	if o.ServerStats != nil {
		cpu0, _, _ = o.ServerStats()
	}

	rep := &Report{Messages: o.Messages, Endpoints: o.Endpoints, Fanout: o.Fanout, PayloadSize: o.PayloadSize,
		TargetRate: o.Rate, Batch: o.Batch, ExpectedDeliveries: o.Messages * o.Fanout,
		HostileEndpoints: o.HostileEndpoints, HostileInFlight: hostileHanging}
	var published, pubErrors atomic.Int64
	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		if o.Progress == nil {
			<-stopProgress
			return
		}
		t := time.NewTicker(time.Second)
		defer t.Stop()
		last, lastAt := int64(0), time.Now()
		for {
			select {
			case <-stopProgress:
				fmt.Fprintln(o.Progress)
				return
			case now := <-t.C:
				d := rcv.delivered.Load()
				fmt.Fprintf(o.Progress, "\rpublished %d/%d  delivered %d/%d  failing %d  %.0f deliveries/s   ",
					published.Load(), o.Messages, d, rep.ExpectedDeliveries, rcv.failing.Load(), float64(d-last)/now.Sub(lastAt).Seconds())
				last, lastAt = d, now
			}
		}
	}()

	begin := time.Now()
	// Each job is a run of consecutive message numbers: one message, or --batch of them
	// published in one request.
	jobs := make(chan [2]int, o.Concurrency)
	var wg sync.WaitGroup
	for w := 0; w < o.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range jobs {
				from, to := job[0], job[1]
				in := make([]client.MessageInput, 0, to-from)
				for seq := from; seq < to; seq++ {
					in = append(in, client.MessageInput{Type: fmt.Sprintf("bench.g%d", seq%groups), Payload: payload(seq, o.PayloadSize)})
				}
				now := time.Now().UnixNano()
				for seq := from; seq < to; seq++ {
					atomic.StoreInt64(&rcv.start[seq], now)
				}
				pub := publishers[from%len(publishers)]
				var err error
				if o.Batch > 1 {
					_, err = pub.PublishBatch(ctx, app.ID, in)
				} else {
					_, _, _, err = pub.Publish(ctx, app.ID, in[0])
				}
				if err != nil {
					for seq := from; seq < to; seq++ {
						atomic.StoreInt64(&rcv.start[seq], -1)
					}
					if pubErrors.Add(int64(to-from)) == int64(to-from) {
						fmt.Fprintf(o.progressOrDiscard(), "\npublish failed: %v\n", err)
					}
					continue
				}
				published.Add(int64(to - from))
			}
		}()
	}
	var interval time.Duration
	if o.Rate > 0 {
		interval = time.Duration(float64(time.Second) / o.Rate)
	}
	step := max(o.Batch, 1)
	for seq := 0; seq < o.Messages && ctx.Err() == nil; seq += step {
		if interval > 0 {
			if d := time.Until(begin.Add(time.Duration(seq) * interval)); d > 0 {
				time.Sleep(d)
			}
		}
		jobs <- [2]int{seq, min(seq+step, o.Messages)}
	}
	close(jobs)
	wg.Wait()
	pubEnd := time.Now()
	rep.PublishErrors = int(pubErrors.Load())
	expected := int(published.Load()) * o.Fanout
	deadline := time.Now().Add(o.Wait)
	for int(rcv.delivered.Load())-int(rcv.duplicates.Load()) < expected && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	close(stopProgress)
	<-progressDone

	rep.PublishSeconds = round(pubEnd.Sub(begin).Seconds())
	rep.PublishPerSecond = round(float64(published.Load()) / pubEnd.Sub(begin).Seconds())
	last := time.Unix(0, rcv.lastDelivery.Load())
	if rcv.lastDelivery.Load() == 0 { // nothing was delivered
		last = begin
	}
	rep.DeliverySeconds = round(last.Sub(begin).Seconds())
	rep.Duplicates = int(rcv.duplicates.Load())
	rcv.mu.Lock()
	for seq := 0; seq < o.Messages; seq++ {
		if atomic.LoadInt64(&rcv.start[seq]) <= 0 {
			continue // never published (or the publish failed)
		}
		for ep := seq % groups; ep < o.Endpoints; ep += groups {
			if rcv.success[seq*o.Endpoints+ep] > 0 {
				rep.Delivered++
			} else {
				rep.Lost++
			}
		}
	}
	rcv.mu.Unlock()
	if rep.DeliverySeconds > 0 {
		rep.DeliveriesPerSec = round(float64(rep.Delivered) / last.Sub(begin).Seconds())
	}
	rep.Retries = int(rcv.retries.Load())
	rep.BadSignatures = int(rcv.badSigs.Load())
	rep.FirstAttempt = rcv.firstLat.summary()
	rep.Delivery = rcv.okLat.summary()
	if o.ServerStats != nil {
		if cpu1, rss, err := o.ServerStats(); err == nil {
			rep.ServerCPU = round((cpu1 - cpu0).Seconds())
			if rep.Delivered > 0 {
				rep.CPUPerDelivery = float64(int64((cpu1-cpu0).Seconds()*1e3/float64(rep.Delivered)*1e4+0.5)) / 1e4
			}
			rep.PeakRSSMB = round(float64(rss) / (1 << 20))
		}
	}
	return rep, nil
}

func (o *Options) progressOrDiscard() io.Writer {
	if o.Progress == nil {
		return io.Discard
	}
	return o.Progress
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
		{"publish throughput", fmt.Sprintf("%.0f messages/s over %.2f s", r.PublishPerSecond, r.PublishSeconds)},
		{"delivery throughput", fmt.Sprintf("%.0f deliveries/s (%d in %.2f s)", r.DeliveriesPerSec, r.Delivered, r.DeliverySeconds)},
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

// IngestOptions describe a run of the receiving gateway benchmark: a provider's signed
// webhooks POSTed to a source, measured to the 2xx (verified and durably stored).
type IngestOptions struct {
	Server       string
	APIKey       string
	Requests     int    // webhooks to send (default 20,000)
	Concurrency  int    // concurrent requests (default 64)
	PayloadSize  int    // bytes per body (default 1024)
	Provider     string // the signing scheme (default openai)
	Destinations int    // endpoints the source's app forwards to; 0 only stores
	ServerStats  func() (cpu time.Duration, peakRSS int64, err error)
	Progress     io.Writer
}

// IngestReport is the outcome of an ingest run.
type IngestReport struct {
	Requests       int         `json:"requests"`
	Accepted       int         `json:"accepted"`
	Errors         int         `json:"errors"`
	Provider       string      `json:"provider"`
	Destinations   int         `json:"destinations"`
	PayloadSize    int         `json:"payload_size"`
	Seconds        float64     `json:"seconds"`
	PerSecond      float64     `json:"accepted_per_second"`
	Latency        Percentiles `json:"latency_to_2xx_ms"`
	ServerCPU      float64     `json:"server_cpu_seconds,omitempty"`
	CPUPerRequest  float64     `json:"server_cpu_ms_per_request,omitempty"`
	PeakRSSMB      float64     `json:"server_peak_rss_mb,omitempty"`
	FirstErrorText string      `json:"first_error,omitempty"`
}

// RunIngest executes the ingest benchmark.
func RunIngest(ctx context.Context, o IngestOptions) (*IngestReport, error) {
	if o.Server == "" || o.APIKey == "" {
		return nil, errors.New("bench: a server URL and an API key are required")
	}
	if o.Requests <= 0 {
		o.Requests = 20000
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	if o.PayloadSize < 64 {
		o.PayloadSize = 1024
	}
	if o.Provider == "" {
		o.Provider = "openai"
	}
	c := client.New(o.Server, o.APIKey, nil)
	app, err := c.CreateApp(ctx, client.AppInput{Name: fmt.Sprintf("ingest bench %s", time.Now().Format(time.RFC3339))})
	if err != nil {
		return nil, fmt.Errorf("bench: create app: %w", err)
	}
	defer c.DeleteApp(context.WithoutCancel(ctx), app.ID)
	var rcv *http.Server
	if o.Destinations > 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		rcv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(204)
		})}
		go rcv.Serve(ln)
		defer rcv.Close()
		for i := 0; i < o.Destinations; i++ {
			if _, err := c.CreateEndpoint(ctx, app.ID, client.EndpointInput{URL: fmt.Sprintf("http://%s/d%d", ln.Addr(), i)}); err != nil {
				return nil, fmt.Errorf("bench: create endpoint: %w", err)
			}
		}
	}
	secret := webhook.NewHMACSecret().Reveal()
	if o.Provider != "openai" && o.Provider != "standard" && o.Provider != "svix" {
		secret = "bench-secret-0123456789"
	}
	src, err := c.CreateSource(ctx, app.ID, client.SourceInput{Provider: o.Provider, Secret: secret, MaxBodyBytes: int64(o.PayloadSize) * 2})
	if err != nil {
		return nil, fmt.Errorf("bench: create source: %w", err)
	}
	signer, err := webhook.NewProvider(o.Provider, secret)
	if err != nil {
		return nil, err
	}
	// Sign everything first, so the client's signing does not compete with the server.
	type req struct {
		body []byte
		h    http.Header
	}
	reqs := make([]req, o.Requests)
	for i := range reqs {
		body := payload(i, o.PayloadSize)
		h, err := signer.Sign(webhook.Delivery{ID: fmt.Sprintf("bench_%d_%d", time.Now().UnixNano(), i), Type: "bench.event"}, body)
		if err != nil {
			return nil, err
		}
		h.Set("Content-Type", "application/json")
		reqs[i] = req{body: body, h: h}
	}
	url := strings.TrimRight(o.Server, "/") + src.IngestPath
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency * 2}}
	var cpu0 time.Duration
	if o.ServerStats != nil {
		cpu0, _, _ = o.ServerStats()
	}
	rep := &IngestReport{Requests: o.Requests, Provider: o.Provider, Destinations: o.Destinations, PayloadSize: o.PayloadSize}
	var lat latencies
	var accepted, failed atomic.Int64
	var firstErr atomic.Value
	next := atomic.Int64{}
	begin := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < o.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(reqs) || ctx.Err() != nil {
					return
				}
				r, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(reqs[i].body))
				r.Header = reqs[i].h
				start := time.Now()
				resp, err := hc.Do(r)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("HTTP %d", resp.StatusCode)
					}
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lat.add(float64(time.Since(start).Microseconds()) / 1000)
				accepted.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	rep.Accepted, rep.Errors = int(accepted.Load()), int(failed.Load())
	if e, ok := firstErr.Load().(string); ok {
		rep.FirstErrorText = e
	}
	rep.Seconds = round(elapsed.Seconds())
	rep.PerSecond = round(float64(rep.Accepted) / elapsed.Seconds())
	rep.Latency = lat.summary()
	if o.ServerStats != nil {
		if cpu1, rss, err := o.ServerStats(); err == nil {
			rep.ServerCPU = round((cpu1 - cpu0).Seconds())
			if rep.Accepted > 0 {
				rep.CPUPerRequest = float64(int64((cpu1-cpu0).Seconds()*1e3/float64(rep.Accepted)*1e4+0.5)) / 1e4
			}
			rep.PeakRSSMB = round(float64(rss) / (1 << 20))
		}
	}
	return rep, nil
}

// WriteTable prints the ingest report as an aligned table.
func (r *IngestReport) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "webhooks sent            %d (%s, %d bytes, %d destinations)\n", r.Requests, r.Provider, r.PayloadSize, r.Destinations)
	fmt.Fprintf(w, "accepted                 %d (%d errors)\n", r.Accepted, r.Errors)
	fmt.Fprintf(w, "verified and stored      %.0f webhooks/s over %.2f s\n", r.PerSecond, r.Seconds)
	fmt.Fprintf(w, "time to the 2xx          p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n", r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max)
	if r.ServerCPU > 0 {
		fmt.Fprintf(w, "server CPU               %.2f s (%.4f ms per webhook)\n", r.ServerCPU, r.CPUPerRequest)
		fmt.Fprintf(w, "server peak RSS          %.1f MB\n", r.PeakRSSMB)
	}
	if r.FirstErrorText != "" {
		fmt.Fprintf(w, "first error              %s\n", r.FirstErrorText)
	}
}

// hostile is another app whose endpoints accept connections and never answer.
type hostile struct {
	c     *client.Client
	appID string
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	open  int // connections accepted and not closed by herald
}

// startHostile creates the hanging app, publishes its messages, and returns once herald
// has opened as many connections to it as it will (none new for half a second).
func startHostile(ctx context.Context, c *client.Client, o *Options) (*hostile, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: hanging receiver: %w", err)
	}
	h := &hostile{c: c, ln: ln}
	go h.accept()
	app, err := c.CreateApp(ctx, client.AppInput{Name: fmt.Sprintf("bench hostile %s", time.Now().Format(time.RFC3339))})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("bench: create the hostile app: %w", err)
	}
	h.appID = app.ID
	for i := 0; i < o.HostileEndpoints; i++ {
		_, err := c.CreateEndpoint(ctx, app.ID, client.EndpointInput{
			URL: fmt.Sprintf("http://%s/hang/%d", ln.Addr(), i), TimeoutMS: int(o.HostileTimeout / time.Millisecond),
		})
		if err != nil {
			h.stop(ctx)
			return nil, fmt.Errorf("bench: create a hanging endpoint: %w", err)
		}
	}
	for i := 0; i < o.HostileMessages; i++ {
		if _, _, _, err := c.Publish(ctx, app.ID, client.MessageInput{Type: "bench.hostile", Payload: payload(i, 256)}); err != nil {
			h.stop(ctx)
			return nil, fmt.Errorf("bench: publish to the hostile app: %w", err)
		}
	}
	last, lastChange := -1, time.Now()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(50 * time.Millisecond) {
		if n := h.hanging(); n != last {
			last, lastChange = n, time.Now()
		} else if n > 0 && time.Since(lastChange) > 500*time.Millisecond {
			break
		}
	}
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "another app: %d endpoints that never answer, %d requests to them hanging\n", o.HostileEndpoints, h.hanging())
	}
	return h, nil
}

// accept takes connections, reads and drops what they send, and never answers.
func (h *hostile) accept() {
	for {
		conn, err := h.ln.Accept()
		if err != nil {
			return
		}
		h.mu.Lock()
		h.conns = append(h.conns, conn)
		h.open++
		h.mu.Unlock()
		go func() {
			io.Copy(io.Discard, conn)
			h.mu.Lock()
			h.open--
			h.mu.Unlock()
		}()
	}
}

// hanging returns how many of herald's requests to the hostile app are open.
func (h *hostile) hanging() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.open
}

// stop closes the hanging connections and deletes the hostile app.
func (h *hostile) stop(ctx context.Context) {
	h.ln.Close()
	h.mu.Lock()
	for _, conn := range h.conns {
		conn.Close()
	}
	h.mu.Unlock()
	if h.appID != "" {
		h.c.DeleteApp(ctx, h.appID)
	}
}
