package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/netguard"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/tracing"
	"github.com/heraldhq/herald/internal/transform"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
)

// Config configures an Engine. Zero values mean the documented defaults.
type Config struct {
	Store   store.Store
	Logger  *slog.Logger
	Metrics *Metrics
	// Tracing makes OpenTelemetry spans of publishes and attempts (see trace.go); nil
	// makes none, and costs nothing.
	Tracing trace.TracerProvider
	// Guard refuses private and metadata addresses at dial time; nil allows everything
	// (only for tests and trusted networks).
	Guard *netguard.Guard
	// EgressProxy, when set, is an HTTP CONNECT proxy every webhook request goes
	// through (http://[user:password@]host:port), so receivers see its fixed address;
	// the guard still checks the final destination (see outbound.Dialer).
	EgressProxy *url.URL
	// Relay carries deliveries of listener endpoints; nil: listener endpoints wait.
	Relay Relay
	// Transforms runs endpoint transformations (a time limit per run, a bound on runs at
	// once); nil: a sandbox with package transform's defaults.
	Transforms *transform.Sandbox
	// NodeID names this process in leases; default: host-pid-random. A node restarted
	// under its old id takes its leases back at once (herald serve keeps one id per data
	// directory: see DataDirNodeID).
	NodeID    string
	UserAgent string // default "herald/1"
	Policy    Policy // default DefaultPolicy()
	// Workers bounds concurrent requests across all endpoints (default 512).
	Workers int
	// AppWorkers bounds the concurrent requests of one app, so that an app whose
	// endpoints hang cannot take the workers other apps need (default: half of Workers;
	// Workers or more: no bound of its own).
	AppWorkers int
	// EndpointConcurrency is the in-flight limit of an endpoint without its own (default 64).
	EndpointConcurrency int
	// Timeout is the request timeout of an endpoint without its own (default 15 s).
	Timeout time.Duration
	// Lease is how long a claimed delivery stays with this node before others may take it;
	// held deliveries are renewed while queued or in flight (default 2 min).
	Lease time.Duration
	// ClaimBatch bounds one claim (default 256).
	ClaimBatch int
	// IdempotencyTTL is how long a publish idempotency key is remembered (default 24 h).
	IdempotencyTTL time.Duration
	// DisableAfter disables an endpoint that has failed continuously this long (default
	// 5 days; negative: never).
	DisableAfter time.Duration
	// Retention purges messages and attempts older than this (default 30 days; negative: never).
	Retention time.Duration
	// ListenerExpiry fails the pending deliveries of a listener endpoint that has had no
	// session for this long (default 24 h; negative: never).
	ListenerExpiry time.Duration
	// ListenerIdle removes a listener endpoint that has had no session for this long
	// (default 7 days; negative: never).
	ListenerIdle time.Duration
	// MaintenanceInterval is how often retention and auto-disable run (default 1 min).
	MaintenanceInterval time.Duration
	// NodeTimeout is how long a node of a shared store may go without a heartbeat before
	// the others take over its deliveries (default 10 s; nodes heartbeat 5 times as often).
	NodeTimeout time.Duration
	// BacklogInterval is how often the backlog gauges are sampled (default 5 s).
	BacklogInterval time.Duration
	// Observer, when set, hears of recorded attempts and disabled endpoints (see Observer).
	Observer Observer
}

func (c *Config) setDefaults() error {
	if c.Store == nil {
		return errors.New("delivery: Config.Store is required")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics(nil)
	}
	if c.NodeID == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = rand.Read(b[:])
		c.NodeID = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	if c.UserAgent == "" {
		c.UserAgent = "herald/1 (+https://github.com/heraldhq/herald)"
	}
	if len(c.Policy.Schedule) == 0 {
		c.Policy = DefaultPolicy()
	}
	if c.Workers <= 0 {
		c.Workers = 512
	}
	if c.AppWorkers <= 0 {
		c.AppWorkers = max(1, c.Workers/2)
	}
	c.AppWorkers = min(c.AppWorkers, c.Workers)
	if c.EndpointConcurrency <= 0 {
		c.EndpointConcurrency = 64
	}
	if c.Timeout <= 0 {
		c.Timeout = 15 * time.Second
	}
	if c.Lease <= 0 {
		c.Lease = 2 * time.Minute
	}
	if c.ClaimBatch <= 0 {
		c.ClaimBatch = 256
	}
	if c.IdempotencyTTL <= 0 {
		c.IdempotencyTTL = 24 * time.Hour
	}
	if c.DisableAfter == 0 {
		c.DisableAfter = 5 * 24 * time.Hour
	}
	if c.Retention == 0 {
		c.Retention = 30 * 24 * time.Hour
	}
	if c.ListenerExpiry == 0 {
		c.ListenerExpiry = 24 * time.Hour
	}
	if c.ListenerIdle == 0 {
		c.ListenerIdle = 7 * 24 * time.Hour
	}
	if c.NodeTimeout <= 0 {
		c.NodeTimeout = 10 * time.Second
	}
	if c.MaintenanceInterval <= 0 {
		c.MaintenanceInterval = time.Minute
	}
	if c.Transforms == nil {
		c.Transforms = transform.New(transform.Config{})
	}
	if c.BacklogInterval <= 0 {
		c.BacklogInterval = 5 * time.Second
	}
	return nil
}

// Engine sends webhooks. Publish stores messages and hands this node's share of the new
// deliveries straight to the senders; a claim loop takes everything else that falls due
// (retries, other nodes' expired leases, FIFO endpoints, resumed endpoints).
type Engine struct {
	cfg        Config
	log        *slog.Logger
	store      store.Store
	sender     *sender
	transforms *transform.Sandbox
	m          *Metrics
	tracer     trace.Tracer // nil: tracing off

	claimedByClaim, claimedAtPublish prometheus.Counter // this node's children of Metrics.Claimed

	wake    chan struct{}
	results chan result

	mu        sync.Mutex
	held      map[string]*job // every delivery leased by this node and not yet completed
	endpoints map[string]*endpoint
	starved   map[*endpoint]bool // endpoints with queued jobs waiting for a free worker
	apps      map[string]*app    // apps with deliveries held here, by id
	inflight  int
	stopping  bool
	aborted   []string // deliveries whose in-flight attempt was cut short by a hard stop

	claimWake    atomic.Int64 // when the sleeping claim loop will look again (unix ns); 0 while awake
	claimStarved atomic.Bool  // the claim loop left due work for lack of room: completions should wake it

	sends      sync.WaitGroup
	loops      sync.WaitGroup
	completer  sync.WaitGroup
	stopLoops  context.CancelFunc
	abortSends context.CancelFunc
	sendCtx    context.Context
	// recordCtx ends when Stop gives up recording outcomes (its context ended).
	recordCtx     context.Context
	stopRecording context.CancelFunc
	started       bool
}

// New returns an engine; call Start to begin delivering.
func New(cfg Config) (*Engine, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	return &Engine{
		cfg:        cfg,
		log:        cfg.Logger,
		store:      cfg.Store,
		sender:     newSender(cfg.Guard, cfg.EgressProxy, cfg.UserAgent, cfg.Workers),
		transforms: cfg.Transforms,
		m:          cfg.Metrics,
		tracer:     tracing.Tracer(cfg.Tracing),

		claimedByClaim:   cfg.Metrics.Claimed.WithLabelValues(cfg.NodeID, "claim"),
		claimedAtPublish: cfg.Metrics.Claimed.WithLabelValues(cfg.NodeID, "publish"),
		wake:             make(chan struct{}, 1),
		results:          make(chan result, 4096),
		held:             make(map[string]*job),
		endpoints:        make(map[string]*endpoint),
		starved:          make(map[*endpoint]bool),
		apps:             make(map[string]*app),
	}, nil
}

// NodeID returns the name this engine leases deliveries under.
func (e *Engine) NodeID() string { return e.cfg.NodeID }

// Start launches the claim, lease-renewal, completion and maintenance loops. Leases held
// under this engine's NodeID are released first: a node started with a fixed id after a
// crash resends what it had in flight at once instead of waiting for the leases to expire.
func (e *Engine) Start() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.started {
		return
	}
	rctx, cancel := context.WithTimeout(context.Background(), startReleaseTimeout)
	if err := e.store.ReleaseLeases(rctx, e.cfg.NodeID, nil); err != nil {
		e.log.Warn("release leases of a previous run", "node", e.cfg.NodeID, "err", err)
	}
	cancel()
	e.started = true
	ctx, cancel := context.WithCancel(context.Background())
	e.stopLoops = cancel
	e.sendCtx, e.abortSends = context.WithCancel(context.Background())
	e.recordCtx, e.stopRecording = context.WithCancel(context.Background())
	e.loops.Add(4)
	go e.claimLoop(ctx)
	go e.renewLoop(ctx)
	go e.maintenanceLoop(ctx)
	go e.backlogLoop(ctx)
	e.loops.Add(1)
	go e.followEndpointChanges(ctx)
	e.startShared(ctx)
	e.completer.Add(1)
	go e.completeLoop()
	e.signal()
}

// every calls f every interval until ctx ends.
func every(ctx context.Context, interval time.Duration, f func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f(ctx)
		}
	}
}

// startReleaseTimeout bounds Start's release of the leases of a previous run.
const startReleaseTimeout = 10 * time.Second

// Stop stops claiming, hands queued deliveries back to the store, and waits for requests
// in flight to finish and be recorded. Stop returns by the time ctx ends, even when the
// store does not answer. Requests still in flight shortly before ctx ends (see
// stopReserve) are cancelled and their deliveries released for an immediate retry (by
// this node after a restart, or by another node); outcomes and releases the store has
// not taken by the time ctx ends are dropped, and those deliveries go again once their
// leases are released by this node's next start, or run out.
func (e *Engine) Stop(ctx context.Context) error {
	e.mu.Lock()
	if !e.started || e.stopping {
		e.mu.Unlock()
		return nil
	}
	e.stopping = true
	var queued []string
	for _, ep := range e.endpoints {
		for _, j := range ep.queue {
			queued = append(queued, j.c.Delivery.ID)
			e.forgetLocked(j.c.Delivery.ID)
		}
		ep.queue = nil
	}
	e.mu.Unlock()
	// Recording retries a failing store until it succeeds; past ctx it gives up, which
	// also frees sends waiting to hand over their results.
	stopRecordingAtEnd := context.AfterFunc(ctx, e.stopRecording)
	defer stopRecordingAtEnd()
	e.stopLoops()
	e.loops.Wait()

	var errs []error
	if len(queued) > 0 {
		if err := e.store.ReleaseLeases(ctx, e.cfg.NodeID, queued); err != nil {
			errs = append(errs, fmt.Errorf("release queued deliveries: %w", err))
		}
	}
	sendsEnd, cancel := stopReserve(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() { e.sends.Wait(); close(done) }()
	select {
	case <-done:
	case <-sendsEnd.Done():
		e.abortSends()
		<-done
	}
	close(e.results)
	completed := make(chan struct{})
	go func() { e.completer.Wait(); close(completed) }()
	select {
	case <-completed:
	case <-ctx.Done():
		e.stopRecording()
		<-completed
	}
	e.mu.Lock()
	aborted := e.aborted
	e.mu.Unlock()
	if len(aborted) > 0 {
		if err := e.store.ReleaseLeases(ctx, e.cfg.NodeID, aborted); err != nil {
			errs = append(errs, fmt.Errorf("release aborted deliveries: %w", err))
		}
	}
	e.log.Info("delivery engine stopped", "released", len(queued)+len(aborted))
	return errors.Join(errs...)
}

// stopReserve returns a context that ends when requests in flight must be cut short for
// Stop to hand their deliveries back before ctx ends: a tenth of the time left, up to a
// second, before ctx's deadline; when ctx ends, if it has none.
func stopReserve(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	reserve := min(time.Second, time.Until(deadline)/10)
	return context.WithDeadline(ctx, deadline.Add(-reserve))
}

// Wake makes the claim loop look for due deliveries now.
func (e *Engine) Wake() { e.signal() }

func (e *Engine) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// EndpointChanged drops the cached copy of an endpoint so that its next delivery reloads
// its configuration, state and secrets.
func (e *Engine) EndpointChanged(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ep, ok := e.endpoints[id]; ok {
		e.endpointChangedLocked(ep)
	}
}

// allEndpointsChanged drops every cached endpoint, as EndpointChanged does for one.
func (e *Engine) allEndpointsChanged() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ep := range e.endpoints {
		e.endpointChangedLocked(ep)
	}
}

// Publish stores a message with its deliveries (durably: it returns after the commit)
// and starts sending the deliveries this node could lease.
func (e *Engine) Publish(ctx context.Context, m *domain.Message) (*store.PublishResult, error) {
	return e.PublishWithTTL(ctx, m, e.cfg.IdempotencyTTL)
}

// PublishWithTTL is Publish with the message's idempotency key remembered for ttl instead
// of the engine's default (the receiving gateway keeps provider delivery ids longer).
func (e *Engine) PublishWithTTL(ctx context.Context, m *domain.Message, ttl time.Duration) (*store.PublishResult, error) {
	return e.publish(ctx, &store.PublishInput{Message: m, IdempotencyTTL: ttl})
}

// PublishTo stores m with one delivery to each of endpointIDs (endpoints of m's app),
// whatever their event filters, and queues them: a test event.
func (e *Engine) PublishTo(ctx context.Context, m *domain.Message, endpointIDs []string) (*store.PublishResult, error) {
	return e.publish(ctx, &store.PublishInput{Message: m, IdempotencyTTL: e.cfg.IdempotencyTTL, Endpoints: endpointIDs})
}

// publish stores in's message and deliveries, leasing them to this node when it can
// take more, and queues them. The message keeps the trace context of ctx (the publish
// span's with tracing on, else the caller's traceparent, if any), in the same write.
func (e *Engine) publish(ctx context.Context, in *store.PublishInput) (*store.PublishResult, error) {
	m := in.Message
	var span trace.Span
	if e.tracer != nil {
		ctx, span = e.startPublish(ctx, m)
		defer span.End()
	}
	if m.Trace.IsZero() {
		m.Trace = tracing.FromContext(ctx)
	}
	in.EndpointConcurrency = e.storeLimits()
	e.mu.Lock()
	if e.leaseOnPublishLocked(m.AppID) {
		in.LeaseOwner, in.LeaseUntil = e.cfg.NodeID, time.Now().Add(e.cfg.Lease)
	}
	e.mu.Unlock()
	started := time.Now()
	res, err := e.store.Publish(ctx, in)
	e.m.PublishLatency.Observe(time.Since(started).Seconds())
	endPublish(span, res, err)
	if err != nil {
		return nil, err
	}
	if res.Duplicate {
		return res, nil
	}
	e.m.Published.Inc()
	if len(res.Leased) > 0 {
		jobs := make([]*store.Claimed, len(res.Leased))
		for i, d := range res.Leased {
			jobs[i] = &store.Claimed{Delivery: d, Type: m.Type, Payload: m.Payload, Headers: m.Headers, Trace: m.Trace}
		}
		e.claimedAtPublish.Add(float64(len(jobs)))
		e.enqueue(jobs)
	}
	if len(res.Deliveries) > len(res.Leased) {
		e.signal()
	}
	return res, nil
}

func (e *Engine) maxHeld() int { return e.cfg.Workers * 4 }
