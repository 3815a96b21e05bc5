package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/netguard"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/webhook"
	"golang.org/x/time/rate"
)

// Config configures an Engine. Zero values mean the documented defaults.
type Config struct {
	Store   store.Store
	Logger  *slog.Logger
	Metrics *Metrics
	// Guard refuses private and metadata addresses at dial time; nil allows everything
	// (only for tests and trusted networks).
	Guard *netguard.Guard
	// Relay carries deliveries of listener endpoints; nil: listener endpoints wait.
	Relay Relay
	// NodeID names this process in leases; default: host-pid-random.
	NodeID    string
	UserAgent string // default "herald/1"
	Policy    Policy // default DefaultPolicy()
	// Workers bounds concurrent requests across all endpoints (default 512).
	Workers int
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
	// MaintenanceInterval is how often retention and auto-disable run (default 1 min).
	MaintenanceInterval time.Duration
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
	if c.MaintenanceInterval <= 0 {
		c.MaintenanceInterval = time.Minute
	}
	return nil
}

// Engine sends webhooks. Publish stores messages and hands this node's share of the new
// deliveries straight to the senders; a claim loop takes everything else that falls due
// (retries, other nodes' expired leases, FIFO endpoints, resumed endpoints).
type Engine struct {
	cfg    Config
	log    *slog.Logger
	store  store.Store
	sender *sender
	m      *Metrics

	wake    chan struct{}
	results chan result

	mu        sync.Mutex
	held      map[string]*job // every delivery leased by this node and not yet completed
	endpoints map[string]*endpoint
	starved   map[*endpoint]bool // endpoints with queued jobs waiting for a free worker
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
	started    bool
}

type job struct {
	c       *store.Claimed
	started bool
	// done: the attempt is over and its outcome is on its way to the store. Once that
	// commits, the delivery may be claimed again (a retry falls due) before record has
	// forgotten the old job; such a claim replaces a done job instead of being dropped.
	done bool
}

// result is a finished attempt on its way to the store.
type result struct {
	r    *store.AttemptResult
	fifo bool // the endpoint's next delivery waits for this one to be recorded
}

// completeLinger is how long the completer waits to gather more results into one commit;
// results of FIFO endpoints are committed at once.
const completeLinger = 20 * time.Millisecond

// endpoint is the engine's cached view of one endpoint plus its live sending state.
type endpoint struct {
	id       string
	cfg      *domain.Endpoint // nil until loaded
	signer   *webhook.Standard
	limiter  *rate.Limiter // nil: unlimited
	validTo  time.Time     // reload after this (cache TTL, or a secret expiring)
	changes  uint64        // how many times EndpointChanged was called for it
	loadedAt uint64        // the value of changes when the load that gave cfg started
	loading  bool
	queue    []*job
	inflight int
	limit    int // current in-flight limit: lowered when the endpoint pushes back, raised on success
	backoff  time.Time
	throttle int // consecutive push-back answers (429, 502, 504)
	timer    bool
}

// endpointCacheTTL bounds how stale the engine's copy of an endpoint may be when
// another node (or the database directly) changed it.
const endpointCacheTTL = 10 * time.Second

// New returns an engine; call Start to begin delivering.
func New(cfg Config) (*Engine, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	return &Engine{
		cfg:       cfg,
		log:       cfg.Logger,
		store:     cfg.Store,
		sender:    newSender(cfg.Guard, cfg.UserAgent, cfg.Workers),
		m:         cfg.Metrics,
		wake:      make(chan struct{}, 1),
		results:   make(chan result, 4096),
		held:      make(map[string]*job),
		endpoints: make(map[string]*endpoint),
		starved:   make(map[*endpoint]bool),
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
	if err := e.store.ReleaseLeases(context.Background(), e.cfg.NodeID, nil); err != nil {
		e.log.Warn("release leases of a previous run", "node", e.cfg.NodeID, "err", err)
	}
	e.started = true
	ctx, cancel := context.WithCancel(context.Background())
	e.stopLoops = cancel
	e.sendCtx, e.abortSends = context.WithCancel(context.Background())
	e.loops.Add(3)
	go e.claimLoop(ctx)
	go e.renewLoop(ctx)
	go e.maintenanceLoop(ctx)
	e.startShared(ctx)
	e.completer.Add(1)
	go e.completeLoop()
	e.signal()
}

// Stop stops claiming, hands queued deliveries back to the store, and waits for requests
// in flight to finish and be recorded. If ctx ends first, the requests still in flight
// are cancelled and their deliveries released for an immediate retry (by this node after
// a restart, or by another node).
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
			delete(e.held, j.c.Delivery.ID)
		}
		ep.queue = nil
	}
	e.mu.Unlock()
	e.stopLoops()
	e.loops.Wait()

	var errs []error
	if len(queued) > 0 {
		if err := e.store.ReleaseLeases(context.WithoutCancel(ctx), e.cfg.NodeID, queued); err != nil {
			errs = append(errs, fmt.Errorf("release queued deliveries: %w", err))
		}
	}
	done := make(chan struct{})
	go func() { e.sends.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		e.abortSends()
		<-done
	}
	close(e.results)
	e.completer.Wait()
	e.mu.Lock()
	aborted := e.aborted
	e.mu.Unlock()
	if len(aborted) > 0 {
		if err := e.store.ReleaseLeases(context.WithoutCancel(ctx), e.cfg.NodeID, aborted); err != nil {
			errs = append(errs, fmt.Errorf("release aborted deliveries: %w", err))
		}
	}
	e.log.Info("delivery engine stopped", "released", len(queued)+len(aborted))
	return errors.Join(errs...)
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

// endpointChangedLocked marks ep's cached copy as changed: nothing more is sent with it,
// and a queue waiting on it reloads it. e.mu must be held.
func (e *Engine) endpointChangedLocked(ep *endpoint) {
	ep.validTo = time.Time{}
	ep.changes++
	if len(ep.queue) > 0 && !ep.loading {
		ep.loading = true
		go e.load(ep)
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
	in := &store.PublishInput{Message: m, IdempotencyTTL: ttl, EndpointConcurrency: e.storeLimits()}
	e.mu.Lock()
	if e.started && !e.stopping && len(e.held) < e.maxHeld() {
		in.LeaseOwner, in.LeaseUntil = e.cfg.NodeID, time.Now().Add(e.cfg.Lease)
	}
	e.mu.Unlock()
	res, err := e.store.Publish(ctx, in)
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
			jobs[i] = &store.Claimed{Delivery: d, Type: m.Type, Payload: m.Payload, Headers: m.Headers}
		}
		e.enqueue(jobs)
	}
	if len(res.Deliveries) > len(res.Leased) {
		e.signal()
	}
	return res, nil
}

func (e *Engine) maxHeld() int { return e.cfg.Workers * 4 }

// enqueue adds leased deliveries to their endpoints' queues.
func (e *Engine) enqueue(claimed []*store.Claimed) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var release []string
	for _, c := range claimed {
		id := c.Delivery.ID
		if e.stopping {
			release = append(release, id)
			continue
		}
		if old, dup := e.held[id]; dup && !old.done {
			continue // already queued or in flight here (a lease renewed late and re-claimed)
		}
		j := &job{c: c}
		e.held[id] = j
		ep := e.endpoints[c.Delivery.EndpointID]
		if ep == nil {
			ep = &endpoint{id: c.Delivery.EndpointID}
			e.endpoints[ep.id] = ep
		}
		ep.queue = append(ep.queue, j)
	}
	e.m.Held.Set(float64(len(e.held)))
	for _, c := range claimed {
		if ep := e.endpoints[c.Delivery.EndpointID]; ep != nil {
			e.pumpLocked(ep)
		}
	}
	if len(release) > 0 {
		go func() {
			if err := e.store.ReleaseLeases(context.Background(), e.cfg.NodeID, release); err != nil {
				e.log.Warn("release leases", "err", err)
			}
		}()
	}
}

// load fetches an endpoint's configuration and secrets, then resumes its queue.
func (e *Engine) load(ep *endpoint) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.mu.Lock()
	changes := ep.changes
	e.mu.Unlock()
	now := time.Now()
	cfg, err := e.store.GetEndpoint(ctx, "", ep.id)
	var signer *webhook.Standard
	validTo := now.Add(endpointCacheTTL)
	if err == nil {
		var secrets []*domain.EndpointSecret
		secrets, err = e.store.EndpointSecrets(ctx, ep.id, now)
		if err == nil {
			keys := make([]webhook.Secret, 0, len(secrets))
			for _, s := range secrets {
				keys = append(keys, s.Secret)
				if s.ExpiresAt != nil && s.ExpiresAt.Before(validTo) {
					validTo = *s.ExpiresAt
				}
			}
			if len(keys) == 0 {
				err = fmt.Errorf("endpoint %s has no active secret", ep.id)
			} else {
				signer, err = webhook.NewStandardKeys(keys)
			}
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ep.loading = false
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Deleted: its deliveries went with it.
		for _, j := range ep.queue {
			delete(e.held, j.c.Delivery.ID)
		}
		ep.queue = nil
		delete(e.endpoints, ep.id)
		return
	case err != nil:
		e.log.Warn("load endpoint", "endpoint", ep.id, "err", err)
		ep.validTo = time.Time{}
		if !ep.timer {
			ep.timer = true
			time.AfterFunc(time.Second, func() {
				e.mu.Lock()
				defer e.mu.Unlock()
				ep.timer = false
				e.pumpLocked(ep)
			})
		}
		return
	}
	limit := cfg.MaxConcurrency
	if limit <= 0 {
		limit = e.cfg.EndpointConcurrency
	}
	if cfg.FIFO {
		limit = 1
	}
	if ep.cfg == nil || ep.limit > limit || ep.cfg.MaxConcurrency != cfg.MaxConcurrency {
		ep.limit = limit
	}
	if cfg.RateLimit > 0 && e.storeLimits() == 0 { // a shared store meters rates itself, across nodes
		if ep.limiter == nil || float64(ep.limiter.Limit()) != cfg.RateLimit {
			ep.limiter = rate.NewLimiter(rate.Limit(cfg.RateLimit), max(1, int(cfg.RateLimit)))
		}
	} else {
		ep.limiter = nil
	}
	ep.cfg, ep.signer, ep.validTo, ep.loadedAt = cfg, signer, validTo, changes
	e.pumpLocked(ep)
}

// pumpLocked starts as many of the endpoint's queued deliveries as its limits allow.
// e.mu must be held.
func (e *Engine) pumpLocked(ep *endpoint) {
	if len(ep.queue) == 0 {
		delete(e.starved, ep)
		return
	}
	now := time.Now()
	changed := ep.loadedAt != ep.changes
	if ep.cfg == nil || changed || now.After(ep.validTo) {
		if !ep.loading {
			ep.loading = true
			go e.load(ep)
		}
		// An expired copy serves until the reload ends; a changed one does not: the change
		// may be a new URL, a pause or a disable.
		if ep.cfg == nil || changed {
			return
		}
	}
	if ep.cfg.State != domain.EndpointEnabled || (e.isListener(ep) && !e.listenerConnected(ep)) {
		e.releaseQueueLocked(ep) // they wait in the store: for the resume, or for the listener
		return
	}
	for len(ep.queue) > 0 && ep.inflight < ep.limit {
		if now.Before(ep.backoff) {
			e.retryPumpLocked(ep, ep.backoff.Sub(now))
			return
		}
		if e.inflight >= e.cfg.Workers || e.stopping {
			e.starved[ep] = true
			return
		}
		if ep.limiter != nil {
			r := ep.limiter.ReserveN(now, 1)
			if d := r.DelayFrom(now); d > 0 {
				r.CancelAt(now)
				e.retryPumpLocked(ep, d)
				return
			}
		}
		j := ep.queue[0]
		ep.queue[0] = nil
		ep.queue = ep.queue[1:]
		j.started = true
		ep.inflight++
		e.inflight++
		e.sends.Add(1)
		go e.send(ep, j, e.requestLocked(ep, j))
	}
	if len(ep.queue) == 0 {
		delete(e.starved, ep)
	}
}

func (e *Engine) retryPumpLocked(ep *endpoint, d time.Duration) {
	if ep.timer {
		return
	}
	ep.timer = true
	time.AfterFunc(d, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		ep.timer = false
		e.pumpLocked(ep)
	})
}

// releaseQueueLocked hands an endpoint's queued deliveries back to the store (the endpoint
// was paused or disabled after they were claimed); they stay pending there.
func (e *Engine) releaseQueueLocked(ep *endpoint) {
	if len(ep.queue) == 0 {
		return
	}
	ids := make([]string, len(ep.queue))
	for i, j := range ep.queue {
		ids[i] = j.c.Delivery.ID
		delete(e.held, ids[i])
	}
	ep.queue = nil
	delete(e.starved, ep)
	e.m.Held.Set(float64(len(e.held)))
	go func() {
		if err := e.store.ReleaseLeases(context.Background(), e.cfg.NodeID, ids); err != nil {
			e.log.Warn("release leases of a paused endpoint", "endpoint", ep.id, "err", err)
		}
	}()
}

// requestLocked snapshots what a send needs, so it runs without the lock.
func (e *Engine) requestLocked(ep *endpoint, j *job) *request {
	timeout := e.cfg.Timeout
	if ep.cfg.TimeoutMS > 0 {
		timeout = time.Duration(ep.cfg.TimeoutMS) * time.Millisecond
	}
	return &request{
		url:        ep.cfg.URL,
		endpointID: ep.id,
		messageID:  j.c.Delivery.MessageID,
		eventType:  j.c.Type,
		body:       j.c.Payload,
		headers:    ep.cfg.Headers,
		msgHeaders: j.c.Headers,
		signer:     ep.signer,
		timeout:    timeout,
		relay:      IsListenerURL(ep.cfg.URL),
	}
}

// send makes one attempt and turns its response into a result for the completer.
func (e *Engine) send(ep *endpoint, j *job, req *request) {
	defer e.sends.Done()
	started := time.Now()
	resp := req.do(e)
	d := j.c.Delivery
	if resp.err != nil && (e.sendCtx.Err() != nil || errors.Is(resp.err, ErrListenerGone)) {
		// A hard stop, or a listener that went away: the attempt did not really happen.
		// Hand the delivery back to the store to go again at once (after a restart, or
		// when the listener reconnects), without spending a retry.
		e.mu.Lock()
		ep.inflight--
		e.inflight--
		if e.sendCtx.Err() != nil {
			e.aborted = append(e.aborted, d.ID)
			e.mu.Unlock()
			return
		}
		delete(e.held, d.ID)
		e.m.Held.Set(float64(len(e.held)))
		e.pumpLocked(ep)
		e.mu.Unlock()
		if err := e.store.ReleaseLeases(context.Background(), e.cfg.NodeID, []string{d.ID}); err != nil {
			e.log.Warn("release a listener's delivery", "delivery", d.ID, "err", err)
		}
		return
	}
	a := &domain.Attempt{
		ID: ids.New("att"), DeliveryID: d.ID, AppID: d.AppID, EndpointID: d.EndpointID, MessageID: d.MessageID,
		Number: d.Attempts + 1, StartedAt: started.UTC(), Latency: resp.latency, StatusCode: resp.status,
	}
	r := &store.AttemptResult{Attempt: a}
	push := false
	switch {
	case resp.err != nil:
		a.Error = resp.err.Error()
	case resp.status >= 200 && resp.status <= 299:
	default:
		a.Error = fmt.Sprintf("HTTP %d", resp.status)
		push = resp.status == 429 || resp.status == 502 || resp.status == 504
	}
	if resp.header != nil {
		a.ResponseHeaders = headerSummary(resp.header)
		a.ResponseBody = resp.body
	}
	now := time.Now()
	switch {
	case a.Error == "":
		r.Status, a.Outcome = domain.DeliverySucceeded, domain.OutcomeSucceeded
	case resp.status == 410:
		r.Status, a.Outcome = domain.DeliveryFailed, domain.OutcomeFailed
		r.DisableEndpoint = "the endpoint answered 410 Gone"
		r.EndpointFailed = true
	default:
		r.EndpointFailed = true
		if next, ok := e.cfg.Policy.Next(d.RetryStep+1, now, resp.retryAfter); ok {
			next = next.UTC()
			r.Status, a.Outcome, r.NextAttemptAt = domain.DeliveryPending, domain.OutcomeRetrying, &next
		} else {
			r.Status, a.Outcome = domain.DeliveryFailed, domain.OutcomeFailed
		}
	}
	e.m.Deliveries.WithLabelValues(a.Outcome).Inc()
	e.m.AttemptLatency.Observe(resp.latency.Seconds())
	if r.EndpointFailed {
		e.m.EndpointFailures.WithLabelValues(d.EndpointID).Inc()
	}

	e.mu.Lock()
	ep.inflight--
	e.inflight--
	j.done = true
	switch {
	case r.DisableEndpoint != "":
		e.m.Disabled.WithLabelValues("gone").Inc()
		e.log.Warn("endpoint disabled", "endpoint", ep.id, "reason", r.DisableEndpoint)
		if ep.cfg != nil {
			c := *ep.cfg
			c.State, c.DisabledReason = domain.EndpointDisabled, r.DisableEndpoint
			ep.cfg = &c
		}
	case push:
		ep.throttle++
		wait := resp.retryAfter
		if wait <= 0 {
			wait = min(time.Second<<min(ep.throttle-1, 6), time.Minute)
		}
		ep.backoff = now.Add(min(max(wait, time.Second), time.Hour))
		ep.limit = max(1, ep.limit/2)
	case r.Status == domain.DeliverySucceeded:
		ep.throttle = 0
		if ep.cfg != nil {
			limit := ep.cfg.MaxConcurrency
			if limit <= 0 {
				limit = e.cfg.EndpointConcurrency
			}
			if ep.cfg.FIFO {
				limit = 1
			}
			if ep.limit < limit {
				ep.limit++
			}
		}
	}
	fifo := ep.cfg != nil && ep.cfg.FIFO || e.waitsForSlotLocked(ep)
	e.pumpLocked(ep)
	for other := range e.starved {
		if e.inflight >= e.cfg.Workers {
			break
		}
		e.pumpLocked(other)
	}
	e.mu.Unlock()
	e.results <- result{r: r, fifo: fifo}
}

func (r *request) do(e *Engine) response {
	if r.relay {
		return e.sendRelay(r, time.Now())
	}
	return e.sender.send(e.sendCtx, r, time.Now())
}

// completeLoop records finished attempts in batches.
func (e *Engine) completeLoop() {
	defer e.completer.Done()
	batch := make([]*store.AttemptResult, 0, 512)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for first := range e.results {
		batch = append(batch[:0], first.r)
		urgent := first.fifo
		linger.Reset(e.completeLinger())
	fill:
		for len(batch) < cap(batch) {
			if urgent {
				select { // take what is already here, but do not wait
				case res, ok := <-e.results:
					if !ok {
						break fill
					}
					batch = append(batch, res.r)
					continue
				default:
					break fill
				}
			}
			select {
			case res, ok := <-e.results:
				if !ok {
					break fill
				}
				batch = append(batch, res.r)
				urgent = urgent || res.fifo
			case <-linger.C:
				break fill
			}
		}
		linger.Stop()
		e.record(batch)
	}
}

// record commits a batch of results, retrying on storage errors: an attempt that was made
// must not be forgotten while this process lives (if it dies, the lease runs out and the
// delivery is attempted again).
func (e *Engine) record(batch []*store.AttemptResult) {
	for wait := 100 * time.Millisecond; ; wait = min(wait*2, 10*time.Second) {
		err := e.store.Complete(context.Background(), batch)
		if err == nil {
			break
		}
		if errors.Is(err, store.ErrClosed) {
			e.log.Error("record attempts: store closed", "attempts", len(batch))
			return
		}
		e.log.Error("record attempts", "attempts", len(batch), "err", err, "retry_in", wait)
		time.Sleep(wait)
	}
	wakeAt := e.claimWake.Load()
	e.mu.Lock()
	wake := false
	for _, r := range batch {
		if j := e.held[r.Attempt.DeliveryID]; j != nil && j.done {
			delete(e.held, r.Attempt.DeliveryID) // not a fresh claim of the same delivery (see job.done)
		}
		if r.NextAttemptAt != nil && (wakeAt == 0 || r.NextAttemptAt.UnixNano() < wakeAt) {
			wake = true // a retry falls due before the claim loop would look again
		}
		if ep := e.endpoints[r.Attempt.EndpointID]; ep != nil && ep.cfg != nil && ep.cfg.FIFO {
			wake = true // the next delivery in line may go now
		}
	}
	e.m.Held.Set(float64(len(e.held)))
	held := len(e.held)
	e.mu.Unlock()
	if wake || (e.claimStarved.Load() && held < e.maxHeld()/2) {
		e.signal()
	}
}

// claimLoop leases due deliveries whenever there is room, sleeping until the next one is
// due or something wakes it.
func (e *Engine) claimLoop(ctx context.Context) {
	defer e.loops.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait := 30 * time.Second
		starved := false // due work was left unclaimed for lack of room in this node or its endpoints
		e.mu.Lock()
		room := min(e.cfg.ClaimBatch, e.maxHeld()-len(e.held))
		exclude := e.saturatedLocked()
		e.mu.Unlock()
		if room > 0 {
			// Look before claiming: a claim is a write transaction, a look is a read.
			next, ok, err := e.store.NextWake(ctx)
			now := time.Now()
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				e.log.Error("next wake", "err", err)
				wait = time.Second
			case !ok:
			case next.After(now):
				wait = min(next.Sub(now), wait)
			default:
				claimed, err := e.store.Claim(ctx, store.ClaimRequest{
					Owner: e.cfg.NodeID, Now: now, LeaseUntil: now.Add(e.cfg.Lease), Limit: room, Exclude: exclude,
					EndpointConcurrency: e.storeLimits(),
				})
				switch {
				case ctx.Err() != nil:
					return
				case err != nil:
					e.log.Error("claim deliveries", "err", err)
					wait = time.Second
				case len(claimed) == room:
					e.enqueue(claimed)
					continue // there may be more due right now
				default:
					e.enqueue(claimed)
					// Due but not claimed means excluded (a saturated endpoint): its completions wake us.
					// A shared store also stops short at endpoints' limits (see fullClaimsOnly).
					if len(claimed) == 0 || e.fullClaimsOnly() {
						wait, starved = time.Second, true
					} else {
						continue
					}
				}
			}
		}
		e.claimStarved.Store(room <= 0 || starved)
		e.claimWake.Store(time.Now().Add(wait).UnixNano())
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-e.wake:
		case <-timer.C:
		}
		e.claimWake.Store(0)
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// saturatedLocked lists endpoints that should not get more deliveries claimed for now.
func (e *Engine) saturatedLocked() []string {
	var out []string
	now := time.Now()
	for id, ep := range e.endpoints {
		if len(ep.queue) >= 2*max(ep.limit, 1) || now.Before(ep.backoff) || (ep.cfg != nil && ep.cfg.State != domain.EndpointEnabled) ||
			(e.isListener(ep) && !e.listenerConnected(ep)) {
			out = append(out, id)
		}
	}
	return out
}

// renewLoop extends the leases of held deliveries so that slow queues and slow
// endpoints do not lose them to other nodes.
func (e *Engine) renewLoop(ctx context.Context) {
	defer e.loops.Done()
	t := time.NewTicker(e.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		e.mu.Lock()
		ids := make([]string, 0, len(e.held))
		for id := range e.held {
			ids = append(ids, id)
		}
		e.mu.Unlock()
		for len(ids) > 0 {
			n := min(len(ids), 5000)
			if err := e.store.ExtendLeases(ctx, e.cfg.NodeID, ids[:n], time.Now().Add(e.cfg.Lease)); err != nil && ctx.Err() == nil {
				e.log.Error("extend leases", "err", err)
			}
			ids = ids[n:]
		}
	}
}

// maintenanceLoop disables endpoints that keep failing, purges old data in small batches,
// and refreshes the queue-depth gauge.
func (e *Engine) maintenanceLoop(ctx context.Context) {
	defer e.loops.Done()
	e.maintainOnce(ctx)
	t := time.NewTicker(e.cfg.MaintenanceInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			e.maintainOnce(ctx)
		}
	}
}

func (e *Engine) maintain(ctx context.Context) {
	if n, err := e.store.QueueDepth(ctx); err == nil {
		e.m.QueueDepth.Set(float64(n))
	}
	now := time.Now()
	if e.cfg.DisableAfter > 0 {
		reason := fmt.Sprintf("failing continuously for %s", e.cfg.DisableAfter)
		eps, err := e.store.DisableFailingEndpoints(ctx, now.Add(-e.cfg.DisableAfter), reason)
		if err != nil && ctx.Err() == nil {
			e.log.Error("disable failing endpoints", "err", err)
		}
		for _, ep := range eps {
			e.m.Disabled.WithLabelValues("failing").Inc()
			e.log.Warn("endpoint disabled", "endpoint", ep.ID, "app", ep.AppID, "reason", reason)
			e.EndpointChanged(ep.ID)
		}
	}
	if e.cfg.Retention > 0 {
		total := store.PurgeResult{}
		for ctx.Err() == nil {
			r, err := e.store.Purge(ctx, now.Add(-e.cfg.Retention), now.Add(-e.cfg.IdempotencyTTL), 500)
			if err != nil {
				if ctx.Err() == nil {
					e.log.Error("purge", "err", err)
				}
				break
			}
			total.Messages += r.Messages
			total.Attempts += r.Attempts
			total.IdempotencyKeys += r.IdempotencyKeys
			if r.Messages < 500 && r.Attempts < 500 && r.IdempotencyKeys < 500 {
				break
			}
			// Small batches with a pause between them keep the writer free for deliveries.
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
		if total.Messages+total.Attempts+total.IdempotencyKeys > 0 {
			e.log.Info("retention purge", "messages", total.Messages, "attempts", total.Attempts, "idempotency_keys", total.IdempotencyKeys)
		}
	}
}
