package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// RawBodySize is the size of the raw HTTP baseline's request bodies.
const RawBodySize = 1024

// RawResult is the raw HTTP baseline: what a plain net/http client and server on
// loopback do on this machine, at the moment of the run, with nothing stored.
type RawResult struct {
	Requests    int     `json:"requests"`
	Concurrency int     `json:"concurrency"`
	BodySize    int     `json:"body_size"`
	Seconds     float64 `json:"seconds"`
	PerSecond   float64 `json:"raw_http_per_s"`
}

// RunRaw measures the raw HTTP baseline for about d: concurrency goroutines POST
// RawBodySize-byte bodies over keep-alive connections to a net/http server on loopback
// that reads each body and answers 204. Herald's throughputs are reported as ratios to
// its rate, which says how fast this machine is when the run is made.
func RunRaw(ctx context.Context, d time.Duration, concurrency int) (*RawResult, error) {
	if d <= 0 {
		return nil, fmt.Errorf("bench: raw HTTP baseline: duration %v: want more than 0", d)
	}
	concurrency = max(concurrency, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: raw HTTP baseline: %w", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	tr := &http.Transport{MaxIdleConns: concurrency, MaxIdleConnsPerHost: concurrency}
	defer tr.CloseIdleConnections()
	load := &rawLoad{hc: &http.Client{Transport: tr}, url: "http://" + ln.Addr().String() + "/raw", body: bytes.Repeat([]byte("x"), RawBodySize)}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	begin := time.Now()
	stop := begin.Add(d)
	var wg sync.WaitGroup
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) && ctx.Err() == nil {
				if err := load.post(ctx); err != nil {
					load.fail(err)
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	if err := load.failure(); err != nil {
		return nil, fmt.Errorf("bench: raw HTTP baseline: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bench: raw HTTP baseline: %w", err)
	}
	n := load.done.Load()
	return &RawResult{Requests: int(n), Concurrency: concurrency, BodySize: RawBodySize,
		Seconds: round(elapsed.Seconds()), PerSecond: round(float64(n) / elapsed.Seconds())}, nil
}

// rawLoad is the raw baseline's client side.
type rawLoad struct {
	hc   *http.Client
	url  string
	body []byte
	done atomic.Int64 // requests answered with 204

	mu  sync.Mutex
	err error // the first failure
}

// post sends one request and checks that it was answered with 204.
func (l *rawLoad) post(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.url, bytes.NewReader(l.body))
	if err != nil {
		return err
	}
	resp, err := l.hc.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	l.done.Add(1)
	return nil
}

// fail records err unless a failure is already recorded or err is the cancellation
// another failure caused.
func (l *rawLoad) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil && !errors.Is(err, context.Canceled) {
		l.err = err
	}
}

// failure returns the first failure, or nil.
func (l *rawLoad) failure() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// ratio returns rate as a share of the raw rate, to three decimals; 0 without one.
func ratio(rate float64, raw *RawResult) float64 {
	if raw == nil || raw.PerSecond <= 0 {
		return 0
	}
	return float64(int64(rate/raw.PerSecond*1000+0.5)) / 1000
}

// WriteTable prints the raw HTTP baseline as an aligned table.
func (r *RawResult) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "raw HTTP     %s\n", rawRow(r.PerSecond))
	fmt.Fprintf(w, "requests     %d in %.2f s, %d concurrent\n", r.Requests, r.Seconds, r.Concurrency)
}
