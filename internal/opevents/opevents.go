// Package opevents sends herald's operational webhooks: events about herald itself (an
// endpoint created, disabled, failing or recovered; a source's rejections spiking) for
// the operator's operational endpoints. They are messages of the reserved operational
// app, whose endpoints are the operational endpoints, so they are signed, retried,
// logged and guarded like any webhook (docs/operational-webhooks.md).
//
// The Notifier hears of what happened through small hooks (delivery.Observer,
// ingest.Observer and the service's endpoint observer), each of which only queues the
// work and returns; one goroutine turns it into events, in order, and publishes them.
// Nothing it does can block or fail a delivery: when its queue is full or a publish
// fails, the event is logged and dropped.
package opevents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

// Defaults of Config.
const (
	// DefaultFailingAfter is how many consecutive failures of an endpoint send
	// message.attempt.failing: Svix sends it on a message's fourth failure.
	DefaultFailingAfter = 4
	// DefaultQueue is how many pieces of work may wait for the Notifier's goroutine.
	DefaultQueue = 1024
)

// Tuning of the Notifier's caches.
const (
	notifiedRefresh  = 30 * time.Second // re-read which failure streaks were notified (by any node)
	subscribersTTL   = 10 * time.Second // re-read which operational endpoints listen
	appTTL           = time.Minute      // re-read an app's uid
	publishTimeout   = 10 * time.Second
	disabledDedupe   = time.Minute // one endpoint.disabled per endpoint and minute for attempt-caused disables
	maxNotifiedRead  = 10000
	maxOperationalEp = 1000
)

// Publisher stores an operational event as a message of the operational app and queues
// its deliveries: *delivery.Engine is one.
type Publisher interface {
	Publish(ctx context.Context, m *domain.Message) (*store.PublishResult, error)
}

// Config configures a Notifier.
type Config struct {
	Store  store.Store // required
	Logger *slog.Logger
	// FailingAfter is how many consecutive failed attempts of an endpoint send
	// message.attempt.failing (0: DefaultFailingAfter; negative: never).
	FailingAfter int
	// Spike says when a source's rejections are spiking; zero fields take the defaults.
	Spike SpikeConfig
	// Queue bounds the work waiting for the Notifier's goroutine (0: DefaultQueue).
	Queue int
	Now   func() time.Time
}

// Notifier turns what herald does into operational webhooks. Its hooks are safe for
// concurrent use and never block.
type Notifier struct {
	cfg     Config
	log     *slog.Logger
	store   store.Store
	work    chan func(context.Context)
	dropped atomic.Int64
	spikes  *spikes

	stale atomic.Bool // the operational endpoints changed: re-read them before the next publish

	startOnce sync.Once
	stopOnce  sync.Once
	started   atomic.Bool
	quit      chan struct{}
	done      chan struct{}
	cancel    context.CancelFunc

	// Owned by the goroutine (run).
	pub        Publisher
	appID      string
	streaks    map[string]*streak
	notified   map[string]bool // endpoints whose failure streak was notified, as last read
	subs       []domain.Subscription
	subsAt     time.Time
	apps       map[string]appEntry
	disabledAt map[string]time.Time
}

type appEntry struct {
	uid string
	at  time.Time
}

// New returns a Notifier; it queues what it hears until Start.
func New(cfg Config) (*Notifier, error) {
	if cfg.Store == nil {
		return nil, errors.New("opevents: Config.Store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.FailingAfter == 0 {
		cfg.FailingAfter = DefaultFailingAfter
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	spike, err := cfg.Spike.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("opevents: %w", err)
	}
	cfg.Spike = spike
	return &Notifier{
		cfg: cfg, log: cfg.Logger, store: cfg.Store,
		work:   make(chan func(context.Context), cfg.Queue),
		spikes: newSpikes(spike),
		quit:   make(chan struct{}), done: make(chan struct{}),
		streaks: map[string]*streak{}, notified: map[string]bool{}, apps: map[string]appEntry{}, disabledAt: map[string]time.Time{},
	}, nil
}

// Start publishes events through pub as messages of the operational app appID, from
// now until Stop.
func (n *Notifier) Start(pub Publisher, appID string) {
	n.startOnce.Do(func() {
		n.pub, n.appID = pub, appID
		n.stale.Store(true)
		ctx, cancel := context.WithCancel(context.Background())
		n.cancel = cancel
		n.started.Store(true)
		go n.run(ctx)
	})
}

// Stop publishes what is queued, until ctx ends, and stops. Events heard after Stop are
// dropped.
func (n *Notifier) Stop(ctx context.Context) {
	n.stopOnce.Do(func() { close(n.quit) })
	if !n.started.Load() {
		return
	}
	select {
	case <-n.done:
	case <-ctx.Done():
		n.cancel()
		<-n.done
	}
	n.cancel()
}

// run does the queued work in order until Stop, then what is left.
func (n *Notifier) run(ctx context.Context) {
	defer close(n.done)
	n.refreshNotified(ctx)
	tick := time.NewTicker(notifiedRefresh)
	defer tick.Stop()
	for {
		select {
		case f := <-n.work:
			f(ctx)
		case <-tick.C:
			n.refreshNotified(ctx)
			n.prune()
		case <-n.quit:
			for {
				select {
				case f := <-n.work:
					f(ctx)
				default:
					return
				}
			}
		}
	}
}

// enqueue hands f to the goroutine, or drops it when the queue is full, logging the
// first drop and every thousandth.
func (n *Notifier) enqueue(what string, f func(context.Context)) {
	select {
	case n.work <- f:
	default:
		if d := n.dropped.Add(1); d == 1 || d%1000 == 0 {
			n.log.Warn("operational webhooks: queue full, events dropped", "dropped", d, "last", what)
		}
	}
}

// OperationalEndpointsChanged says an operational endpoint was created, changed or
// deleted: the next event re-reads which of them listen.
func (n *Notifier) OperationalEndpointsChanged() { n.stale.Store(true) }

// emit publishes an operational event of type typ with data, unless no operational
// endpoint listens to it. key, when set, is its idempotency key: the same event found
// by two nodes is sent once.
func (n *Notifier) emit(ctx context.Context, typ string, data any, key string) {
	if !n.subscribed(ctx, typ) {
		return
	}
	now := n.cfg.Now().UTC().Truncate(time.Millisecond)
	body, err := json.Marshal(Envelope{Type: typ, Timestamp: Time(now), Data: data})
	if err != nil {
		n.log.Error("operational webhooks: encode event", "type", typ, "err", err)
		return
	}
	m := &domain.Message{ID: ids.New("msg"), AppID: n.appID, Type: typ, Payload: body, IdempotencyKey: key, CreatedAt: now}
	pctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	if _, err := n.pub.Publish(pctx, m); err != nil {
		n.log.Error("operational webhooks: event not published", "type", typ, "err", err)
	}
}

// subscribed reports whether an enabled or paused operational endpoint takes typ,
// re-reading them when they changed here or subscribersTTL passed (another node may
// have changed them).
func (n *Notifier) subscribed(ctx context.Context, typ string) bool {
	now := n.cfg.Now()
	if n.stale.Swap(false) || now.Sub(n.subsAt) >= subscribersTTL {
		eps, _, err := n.store.ListEndpoints(ctx, n.appID, store.Page{Limit: maxOperationalEp})
		if err != nil {
			n.log.Error("operational webhooks: list operational endpoints", "err", err)
			n.stale.Store(true)
			return len(n.subs) > 0 // publish rather than lose the event
		}
		n.subs, n.subsAt = n.subs[:0], now
		for _, e := range eps {
			if e.State != domain.EndpointDisabled {
				n.subs = append(n.subs, e.Subscription())
			}
		}
	}
	for _, s := range n.subs {
		if s.Accepts(typ, "") {
			return true
		}
	}
	return false
}

// appUID returns the uid of app id ("" when it has none or cannot be read), cached.
func (n *Notifier) appUID(ctx context.Context, id string) string {
	now := n.cfg.Now()
	if e, ok := n.apps[id]; ok && now.Sub(e.at) < appTTL {
		return e.uid
	}
	a, err := n.store.GetApp(ctx, id)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			n.log.Warn("operational webhooks: read app", "app", id, "err", err)
		}
		return ""
	}
	n.apps[id] = appEntry{uid: a.UID, at: now}
	return a.UID
}

// refreshNotified re-reads the endpoints whose failure streak was notified, by this
// node or another, so that the first success after it sends recovered.
func (n *Notifier) refreshNotified(ctx context.Context) {
	ids, err := n.store.FailingNotified(ctx, maxNotifiedRead)
	if err != nil {
		if ctx.Err() == nil {
			n.log.Warn("operational webhooks: read notified failure streaks", "err", err)
		}
		return
	}
	clear(n.notified)
	for _, id := range ids {
		n.notified[id] = true
	}
	for id, st := range n.streaks {
		if st.notified && !n.notified[id] {
			delete(n.streaks, id) // another node saw it end: the next failure starts a new streak
		}
	}
}

// prune forgets what no longer matters: old disable marks and app uids.
func (n *Notifier) prune() {
	now := n.cfg.Now()
	for id, at := range n.disabledAt {
		if now.Sub(at) >= disabledDedupe {
			delete(n.disabledAt, id)
		}
	}
	for id, e := range n.apps {
		if now.Sub(e.at) >= appTTL {
			delete(n.apps, id)
		}
	}
}
