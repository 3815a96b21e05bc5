// Package bench is herald's load harness: it publishes messages to a herald server,
// receives the webhooks on its own loopback receiver (verifying every signature), and
// reports throughput, latency, retries, duplicates, losses and the server's CPU and memory.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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

// setDefaults checks the options and fills in the defaults.
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

// Run executes the benchmark.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	r := newDeliveryRun(&o)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: receiver: %w", err)
	}
	hs := &http.Server{Handler: r.rcv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()

	app, err := r.c.CreateApp(ctx, client.AppInput{Name: fmt.Sprintf("bench %s", time.Now().Format(time.RFC3339))})
	if err != nil {
		return nil, fmt.Errorf("bench: create app: %w", err)
	}
	defer r.c.DeleteApp(context.WithoutCancel(ctx), app.ID)
	r.appID = app.ID
	if err := r.createEndpoints(ctx, ln.Addr()); err != nil {
		return nil, err
	}
	var hostileHanging int
	if o.HostileEndpoints > 0 {
		h, err := startHostile(ctx, r.c, &o)
		if err != nil {
			return nil, err
		}
		defer h.stop(context.WithoutCancel(ctx))
		hostileHanging = h.hanging()
	}
	cpu0 := serverCPU(o.ServerStats)

	rep := &Report{Messages: o.Messages, Endpoints: o.Endpoints, Fanout: o.Fanout, PayloadSize: o.PayloadSize,
		TargetRate: o.Rate, Batch: o.Batch, ExpectedDeliveries: o.Messages * o.Fanout,
		HostileEndpoints: o.HostileEndpoints, HostileInFlight: hostileHanging}
	stopProgress := r.startProgress(rep.ExpectedDeliveries)
	begin := time.Now()
	r.publish(ctx, begin)
	pubEnd := time.Now()
	r.waitForDeliveries(ctx)
	stopProgress()

	r.report(rep, begin, pubEnd)
	rep.ServerCPU, rep.CPUPerDelivery, rep.PeakRSSMB = serverUsage(o.ServerStats, cpu0, rep.Delivered)
	return rep, nil
}

// deliveryRun is the state of one Run: the clients it publishes with, its receiver,
// its app and what it has published.
type deliveryRun struct {
	o          *Options
	c          *client.Client   // the client of o.Server, which sets up the app
	publishers []*client.Client // o.Server's client and one per o.Servers, used in turn
	rcv        *receiver
	appID      string
	groups     int // endpoint groups: message seq goes to the endpoints i with i%groups == seq%groups

	published, pubErrors atomic.Int64 // messages published, and those whose publish failed
}

// newDeliveryRun makes the clients and the receiver for a run with options o.
func newDeliveryRun(o *Options) *deliveryRun {
	httpClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency * 2}}
	c := client.New(o.Server, o.APIKey, httpClient)
	publishers := []*client.Client{c}
	for _, s := range o.Servers {
		publishers = append(publishers, client.New(s, o.APIKey, httpClient))
	}
	rcv := &receiver{
		opts:      o,
		start:     make([]int64, o.Messages),
		firstSeen: make([]int64, o.Messages*o.Endpoints),
		success:   make([]uint16, o.Messages*o.Endpoints),
		attempted: make([]bool, o.Messages*o.Endpoints),
	}
	return &deliveryRun{o: o, c: c, publishers: publishers, rcv: rcv, groups: o.Endpoints / o.Fanout}
}

// createEndpoints gives the app its endpoints, each a path on the receiver at addr
// subscribed to its group's event type, and the receiver their signature verifiers.
func (r *deliveryRun) createEndpoints(ctx context.Context, addr net.Addr) error {
	o := r.o
	r.rcv.verifiers = make([]*webhook.Standard, o.Endpoints)
	for i := 0; i < o.Endpoints; i++ {
		ep, err := r.c.CreateEndpoint(ctx, r.appID, client.EndpointInput{
			URL:        fmt.Sprintf("http://%s/ep/%d", addr, i),
			EventTypes: []string{fmt.Sprintf("bench.g%d", i%r.groups)},
		})
		if err != nil {
			return fmt.Errorf("bench: create endpoint: %w", err)
		}
		secrets, err := r.c.EndpointSecrets(ctx, r.appID, ep.ID)
		if err != nil {
			return fmt.Errorf("bench: endpoint secret: %w", err)
		}
		if r.rcv.verifiers[i], err = webhook.NewStandard(secrets[0].Secret); err != nil {
			return err
		}
	}
	return nil
}

// startProgress prints a live progress line every second until the returned function
// is called, which ends the line and returns once it is done.
func (r *deliveryRun) startProgress(expected int) (stop func()) {
	o := r.o
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
				d := r.rcv.delivered.Load()
				fmt.Fprintf(o.Progress, "\rpublished %d/%d  delivered %d/%d  failing %d  %.0f deliveries/s   ",
					r.published.Load(), o.Messages, d, expected, r.rcv.failing.Load(), float64(d-last)/now.Sub(lastAt).Seconds())
				last, lastAt = d, now
			}
		}
	}()
	return func() {
		close(stopProgress)
		<-progressDone
	}
}

// publish publishes every message from o.Concurrency goroutines, at o.Rate from begin
// when set, and returns once all the publish requests are answered.
func (r *deliveryRun) publish(ctx context.Context, begin time.Time) {
	o := r.o
	// Each job is a run of consecutive message numbers: one message, or --batch of them
	// published in one request.
	jobs := make(chan [2]int, o.Concurrency)
	var wg sync.WaitGroup
	for w := 0; w < o.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range jobs {
				r.publishJob(ctx, job[0], job[1])
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
}

// publishJob publishes messages from to to-1 in one request, a batch when o.Batch > 1,
// and tells the receiver when they were published, or that they failed.
func (r *deliveryRun) publishJob(ctx context.Context, from, to int) {
	o := r.o
	in := make([]client.MessageInput, 0, to-from)
	for seq := from; seq < to; seq++ {
		in = append(in, client.MessageInput{Type: fmt.Sprintf("bench.g%d", seq%r.groups), Payload: payload(seq, o.PayloadSize)})
	}
	now := time.Now().UnixNano()
	for seq := from; seq < to; seq++ {
		atomic.StoreInt64(&r.rcv.start[seq], now)
	}
	pub := r.publishers[from%len(r.publishers)]
	var err error
	if o.Batch > 1 {
		_, err = pub.PublishBatch(ctx, r.appID, in)
	} else {
		_, _, _, err = pub.Publish(ctx, r.appID, in[0])
	}
	if err != nil {
		for seq := from; seq < to; seq++ {
			atomic.StoreInt64(&r.rcv.start[seq], -1)
		}
		if r.pubErrors.Add(int64(to-from)) == int64(to-from) {
			fmt.Fprintf(o.progressOrDiscard(), "\npublish failed: %v\n", err)
		}
		return
	}
	r.published.Add(int64(to - from))
}

// waitForDeliveries waits until every published message reached each of its endpoints,
// for at most o.Wait.
func (r *deliveryRun) waitForDeliveries(ctx context.Context) {
	expected := int(r.published.Load()) * r.o.Fanout
	deadline := time.Now().Add(r.o.Wait)
	for int(r.rcv.delivered.Load())-int(r.rcv.duplicates.Load()) < expected && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
}

// report fills in rep's publish and delivery results for a run that began publishing
// at begin and finished at pubEnd.
func (r *deliveryRun) report(rep *Report, begin, pubEnd time.Time) {
	rcv := r.rcv
	rep.PublishErrors = int(r.pubErrors.Load())
	rep.PublishSeconds = round(pubEnd.Sub(begin).Seconds())
	rep.PublishPerSecond = round(float64(r.published.Load()) / pubEnd.Sub(begin).Seconds())
	last := time.Unix(0, rcv.lastDelivery.Load())
	if rcv.lastDelivery.Load() == 0 { // nothing was delivered
		last = begin
	}
	rep.DeliverySeconds = round(last.Sub(begin).Seconds())
	rep.Duplicates = int(rcv.duplicates.Load())
	rep.Delivered, rep.Lost = r.countDeliveries()
	if rep.DeliverySeconds > 0 {
		rep.DeliveriesPerSec = round(float64(rep.Delivered) / last.Sub(begin).Seconds())
	}
	rep.Retries = int(rcv.retries.Load())
	rep.BadSignatures = int(rcv.badSigs.Load())
	rep.FirstAttempt = rcv.firstLat.summary()
	rep.Delivery = rcv.okLat.summary()
}

// countDeliveries counts, over the messages published, the (message, endpoint) pairs
// the receiver answered with success at least once, and those it never did.
func (r *deliveryRun) countDeliveries() (delivered, lost int) {
	o, rcv := r.o, r.rcv
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	for seq := 0; seq < o.Messages; seq++ {
		if atomic.LoadInt64(&rcv.start[seq]) <= 0 {
			continue // never published (or the publish failed)
		}
		for ep := seq % r.groups; ep < o.Endpoints; ep += r.groups {
			if rcv.success[seq*o.Endpoints+ep] > 0 {
				delivered++
			} else {
				lost++
			}
		}
	}
	return delivered, lost
}

// progressOrDiscard returns the progress writer, or io.Discard when there is none.
func (o *Options) progressOrDiscard() io.Writer {
	if o.Progress == nil {
		return io.Discard
	}
	return o.Progress
}
