package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/webhook"
)

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
	RawHTTPPerSec  float64     `json:"raw_http_per_s,omitempty"`   // the raw HTTP baseline of the same run (RunRaw)
	AcceptedPerRaw float64     `json:"accepted_per_raw,omitempty"` // PerSecond as a share of it
	Latency        Percentiles `json:"latency_to_2xx_ms"`
	ServerCPU      float64     `json:"server_cpu_seconds,omitempty"`
	CPUPerRequest  float64     `json:"server_cpu_ms_per_request,omitempty"`
	PeakRSSMB      float64     `json:"server_peak_rss_mb,omitempty"`
	FirstErrorText string      `json:"first_error,omitempty"`
}

// setDefaults checks the required options and fills in the defaults.
func (o *IngestOptions) setDefaults() error {
	if o.Server == "" || o.APIKey == "" {
		return errors.New("bench: a server URL and an API key are required")
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
	return nil
}

// RunIngest executes the ingest benchmark.
func RunIngest(ctx context.Context, o IngestOptions) (*IngestReport, error) {
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	c := client.New(o.Server, o.APIKey, nil)
	app, err := c.CreateApp(ctx, client.AppInput{Name: fmt.Sprintf("ingest bench %s", time.Now().Format(time.RFC3339))})
	if err != nil {
		return nil, fmt.Errorf("bench: create app: %w", err)
	}
	defer c.DeleteApp(context.WithoutCancel(ctx), app.ID)
	if o.Destinations > 0 {
		dest, err := startDestinations(ctx, c, app.ID, o.Destinations)
		if err != nil {
			return nil, err
		}
		defer dest.Close()
	}
	url, reqs, err := prepareIngest(ctx, c, app.ID, &o)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency * 2}}
	cpu0 := serverCPU(o.ServerStats)
	rep := &IngestReport{Requests: o.Requests, Provider: o.Provider, Destinations: o.Destinations, PayloadSize: o.PayloadSize}
	load := &ingestLoad{hc: hc, url: url, reqs: reqs}
	begin := time.Now()
	load.send(ctx, o.Concurrency)
	elapsed := time.Since(begin)
	rep.Accepted, rep.Errors = int(load.accepted.Load()), int(load.failed.Load())
	if e, ok := load.firstErr.Load().(string); ok {
		rep.FirstErrorText = e
	}
	rep.Seconds = round(elapsed.Seconds())
	rep.PerSecond = round(float64(rep.Accepted) / elapsed.Seconds())
	rep.Latency = load.lat.summary()
	rep.ServerCPU, rep.CPUPerRequest, rep.PeakRSSMB = serverUsage(o.ServerStats, cpu0, rep.Accepted)
	return rep, nil
}

// startDestinations starts a loopback receiver that answers every request with 204 and
// gives the app n endpoints on it.
func startDestinations(ctx context.Context, c *client.Client, appID string, n int) (*http.Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rcv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(204)
	})}
	go rcv.Serve(ln)
	for i := 0; i < n; i++ {
		if _, err := c.CreateEndpoint(ctx, appID, client.EndpointInput{URL: fmt.Sprintf("http://%s/d%d", ln.Addr(), i)}); err != nil {
			rcv.Close()
			return nil, fmt.Errorf("bench: create endpoint: %w", err)
		}
	}
	return rcv, nil
}

// signedRequest is one webhook as the provider would send it.
type signedRequest struct {
	body []byte
	h    http.Header
}

// prepareIngest creates the app's source and signs every request up front, so that the
// client's signing does not compete with the server; it returns the source's URL and
// the requests.
func prepareIngest(ctx context.Context, c *client.Client, appID string, o *IngestOptions) (string, []signedRequest, error) {
	secret := webhook.NewHMACSecret().Reveal()
	if o.Provider != "openai" && o.Provider != "standard" && o.Provider != "svix" {
		secret = "bench-secret-0123456789"
	}
	src, err := c.CreateSource(ctx, appID, client.SourceInput{Provider: o.Provider, Secret: secret, MaxBodyBytes: int64(o.PayloadSize) * 2})
	if err != nil {
		return "", nil, fmt.Errorf("bench: create source: %w", err)
	}
	signer, err := webhook.NewProvider(o.Provider, secret)
	if err != nil {
		return "", nil, err
	}
	reqs := make([]signedRequest, o.Requests)
	for i := range reqs {
		body := payload(i, o.PayloadSize)
		h, err := signer.Sign(webhook.Delivery{ID: fmt.Sprintf("bench_%d_%d", time.Now().UnixNano(), i), Type: "bench.event"}, body)
		if err != nil {
			return "", nil, err
		}
		h.Set("Content-Type", "application/json")
		reqs[i] = signedRequest{body: body, h: h}
	}
	return strings.TrimRight(o.Server, "/") + src.IngestPath, reqs, nil
}

// ingestLoad POSTs signed requests to a source and counts the outcomes.
type ingestLoad struct {
	hc   *http.Client
	url  string
	reqs []signedRequest
	next atomic.Int64 // index of the next request to send

	lat              latencies // time to the 200 of the accepted requests
	accepted, failed atomic.Int64
	firstErr         atomic.Value // the first failure's text
}

// send POSTs every request from concurrency goroutines and returns when all are answered.
func (l *ingestLoad) send(ctx context.Context, concurrency int) {
	var wg sync.WaitGroup
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(l.next.Add(1) - 1)
				if i >= len(l.reqs) || ctx.Err() != nil {
					return
				}
				l.post(ctx, l.reqs[i])
			}
		}()
	}
	wg.Wait()
}

// post sends one request and records its latency, or its failure unless it got a 200.
func (l *ingestLoad) post(ctx context.Context, sr signedRequest) {
	r, _ := http.NewRequestWithContext(ctx, http.MethodPost, l.url, bytes.NewReader(sr.body))
	r.Header = sr.h
	start := time.Now()
	resp, err := l.hc.Do(r)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
	}
	if err != nil {
		l.failed.Add(1)
		l.firstErr.CompareAndSwap(nil, err.Error())
		return
	}
	l.lat.add(float64(time.Since(start).Microseconds()) / 1000)
	l.accepted.Add(1)
}

// SetRaw records the raw HTTP baseline and the accepted rate as a share of it.
func (r *IngestReport) SetRaw(raw *RawResult) {
	if raw == nil {
		return
	}
	r.RawHTTPPerSec = raw.PerSecond
	r.AcceptedPerRaw = ratio(r.PerSecond, raw)
}

// WriteTable prints the ingest report as an aligned table.
func (r *IngestReport) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "webhooks sent            %d (%s, %d bytes, %d destinations)\n", r.Requests, r.Provider, r.PayloadSize, r.Destinations)
	fmt.Fprintf(w, "accepted                 %d (%d errors)\n", r.Accepted, r.Errors)
	fmt.Fprintf(w, "verified and stored      %.0f webhooks/s over %.2f s%s\n", r.PerSecond, r.Seconds, ofRaw(r.AcceptedPerRaw))
	fmt.Fprintf(w, "time to the 2xx          p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n", r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max)
	if r.RawHTTPPerSec > 0 {
		fmt.Fprintf(w, "raw HTTP, same run       %s\n", rawRow(r.RawHTTPPerSec))
	}
	if r.ServerCPU > 0 {
		fmt.Fprintf(w, "server CPU               %.2f s (%.4f ms per webhook)\n", r.ServerCPU, r.CPUPerRequest)
		fmt.Fprintf(w, "server peak RSS          %.1f MB\n", r.PeakRSSMB)
	}
	if r.FirstErrorText != "" {
		fmt.Fprintf(w, "first error              %s\n", r.FirstErrorText)
	}
}
