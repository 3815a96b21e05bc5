// Package store defines herald's persistence: the records it keeps and the Store
// interface that every database backend (sqlite, postgres) implements.
package store

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/heraldhq/herald/internal/domain"
)

// Errors returned (wrapped) by every backend.
var (
	// ErrNotFound means the record does not exist (or belongs to another app).
	ErrNotFound = errors.New("not found")
	// ErrConflict means the change conflicts with the record's current state.
	ErrConflict = errors.New("conflict")
	// ErrClosed means the store was closed.
	ErrClosed = errors.New("store closed")
)

// Page selects one page of a list, newest first.
type Page struct {
	Limit  int    // at most this many; backends cap it
	Cursor string // the NextCursor of the previous page; empty for the first
}

// TimeRange restricts a list to records created in [Since, Until); zero bounds are open.
type TimeRange struct {
	Since time.Time
	Until time.Time
}

// MessageFilter selects messages of one app.
type MessageFilter struct {
	AppID    string
	Type     string
	SourceID string
	// EndpointIDs, when set, keeps the messages with a delivery to one of these endpoints.
	EndpointIDs []string
	TimeRange
	Page
}

// DeliveryFilter selects deliveries; AppID is required, the rest optional.
type DeliveryFilter struct {
	AppID      string
	EndpointID string
	MessageID  string
	Status     string
	// EndpointIDs, when set, keeps the deliveries to one of these endpoints.
	EndpointIDs []string
	TimeRange
	Page
}

// AttemptFilter selects attempts; AppID is required, the rest optional.
type AttemptFilter struct {
	AppID      string
	DeliveryID string
	EndpointID string
	MessageID  string
	// EndpointIDs, when set, keeps the attempts of one of these endpoints.
	EndpointIDs []string
	TimeRange
	Page
}

// ParkResult counts what ParkBacklogs changed.
type ParkResult struct {
	Failed, Parked, Unparked int64
}

// PublishInput is one message to store and fan out.
type PublishInput struct {
	Message        *domain.Message // ID, AppID, Type, Payload, IdempotencyKey and CreatedAt set by the caller
	IdempotencyTTL time.Duration   // how long IdempotencyKey returns the original message
	// LeaseOwner, when set, leases the new deliveries to enabled, non-FIFO endpoints to the
	// caller until LeaseUntil, so that the publishing node sends them without a claim round trip.
	LeaseOwner string
	LeaseUntil time.Time
	// EndpointConcurrency, when positive, makes the lease respect limits across every node
	// sharing the store: a delivery is leased only if its endpoint has no rate limit and
	// fewer leased deliveries (by anyone) than its max_concurrency, or than this when that
	// is 0. The rest are left for Claim. Only a Shared store accepts it; others fail.
	EndpointConcurrency int
	// Endpoints, when set, sends the message to these endpoints of its app only, whatever
	// their event filters (a test event); others' ids are ignored.
	Endpoints []string
}

// Targets reports whether the message of in, being fanned out as fan, goes to the
// endpoint id with subscription sub: one of in.Endpoints when they are given, else one
// whose subscription accepts it (its types, source and payload filter).
func (in *PublishInput) Targets(id string, sub domain.Subscription, fan *domain.Fanout) bool {
	if in.Endpoints != nil {
		return slices.Contains(in.Endpoints, id)
	}
	return sub.AcceptsMessage(fan)
}

// PublishResult is the outcome of one publish.
type PublishResult struct {
	Message    *domain.Message    // the stored message: the original one for a repeated idempotency key
	Duplicate  bool               // the idempotency key was seen within its TTL; nothing new was stored
	Deliveries []*domain.Delivery // the deliveries created by this publish
	Leased     []*domain.Delivery // the subset of Deliveries leased to LeaseOwner
}

// ClaimRequest asks for due deliveries.
type ClaimRequest struct {
	Owner      string
	Now        time.Time
	LeaseUntil time.Time
	Limit      int
	Exclude    []string // endpoint ids not to claim for (saturated or backing off)
	// EndpointConcurrency, when positive, makes Claim enforce per-endpoint limits across
	// every owner, for stores that several nodes share: an endpoint never has more leased
	// deliveries (counting every owner's unexpired leases) than its max_concurrency, or
	// than this when that is 0; and a rate-limited endpoint gets deliveries only as fast
	// as a token bucket of its rate_limit per second allows (burst: the rate, at least 1),
	// shared by every owner. When 0, only FIFO's one-in-flight rule is enforced here and
	// the caller enforces the rest itself. Only a Shared store accepts a positive value;
	// others fail.
	EndpointConcurrency int
}

// Claimed is a leased delivery with what is needed to send it.
type Claimed struct {
	Delivery *domain.Delivery
	Type     string
	Payload  []byte
	Headers  map[string]string   // the message's headers (see Message.Headers)
	Trace    domain.TraceContext // the message's trace context (see Message.Trace)
}

// AttemptResult records one finished attempt and what follows from it.
type AttemptResult struct {
	Attempt       *domain.Attempt
	Status        string     // the delivery's new status
	NextAttemptAt *time.Time // when Status is pending
	// EndpointFailed marks the endpoint as failing since Attempt.StartedAt unless it already is;
	// otherwise the endpoint's failure streak is cleared.
	EndpointFailed bool
	// DisableEndpoint, when set, disables the endpoint with this reason (410 Gone).
	DisableEndpoint string
	// Unsent: no request reached the endpoint (its transformation failed or cancelled
	// the delivery), so its failure streak is left as it is, whatever EndpointFailed says.
	Unsent bool
}

// ReplayFilter selects deliveries of one endpoint to send again.
type ReplayFilter struct {
	AppID      string
	EndpointID string
	Status     string // empty: succeeded and failed alike; pending deliveries are never touched
	TimeRange
	Limit int    // at most this many per call
	After string // continue after this delivery id (the previous call's Next)
}

// ReplayResult reports one batch of a replay.
type ReplayResult struct {
	Replayed int    // deliveries re-queued by this call
	Next     string // pass as After to continue; empty when done
}

// AttemptStatsFilter selects the attempts an AttemptStats counts.
type AttemptStatsFilter struct {
	AppID      string // the endpoint's app (informational: endpoint ids are unique)
	EndpointID string // "" counts the attempts of every endpoint
	Since      time.Time
	Until      time.Time
	Bucket     time.Duration // a whole number of seconds
}

// StatsBucket counts the attempts that started in [Start, Start+bucket).
type StatsBucket struct {
	Start     time.Time
	Succeeded int64
	Failed    int64 // retrying or failed
}

// AttemptStats counts attempts of a time range, in buckets; attempts a transformation
// cancelled made no request and count as neither success nor failure.
type AttemptStats struct {
	Succeeded, Failed int64
	Buckets           []StatsBucket   // every bucket of the range, in time order
	Last              *domain.Attempt // the range's latest attempt (endpoint stats only)
	LastFailure       *domain.Attempt // the range's latest attempt that did not succeed (endpoint stats only)
}

// ReplayStepResult reports one step of a replay.
type ReplayStepResult struct {
	Job    *domain.ReplayJob // after the step
	Queued int               // deliveries this step queued again
}

// Listener is a listener endpoint with what the store knows of its session.
type Listener struct {
	Endpoint *domain.Endpoint
	Presence domain.ListenerPresence
}

// PurgeResult counts what one retention pass removed.
type PurgeResult struct {
	Messages, Deliveries, Attempts, IdempotencyKeys int
}

// Store is herald's persistence. Every method is safe for concurrent use. Write methods
// commit before they return: a nil error means the change is durable.
type Store interface {
	CreateApp(ctx context.Context, a *domain.App) error
	GetApp(ctx context.Context, id string) (*domain.App, error) // id or uid
	ListApps(ctx context.Context, p Page) ([]*domain.App, string, error)
	UpdateApp(ctx context.Context, a *domain.App) error
	DeleteApp(ctx context.Context, id string) error

	CreateAPIKey(ctx context.Context, k *domain.APIKey) error
	APIKeyByHash(ctx context.Context, hash []byte) (*domain.APIKey, error)
	ListAPIKeys(ctx context.Context, appID string, p Page) ([]*domain.APIKey, string, error) // appID "" lists admin keys
	DeleteAPIKey(ctx context.Context, appID, id string) error
	HasAdminKey(ctx context.Context) (bool, error)

	CreateEndpoint(ctx context.Context, e *domain.Endpoint, s *domain.EndpointSecret) error
	GetEndpoint(ctx context.Context, appID, id string) (*domain.Endpoint, error) // appID "" matches any app
	// GetListenerEndpoint returns the app's listener endpoint named name (its URL is
	// domain.ListenerURL(name)), or ErrNotFound. CreateEndpoint refuses a second one with
	// ErrConflict.
	GetListenerEndpoint(ctx context.Context, appID, name string) (*domain.Endpoint, error)
	ListEndpoints(ctx context.Context, appID string, p Page) ([]*domain.Endpoint, string, error)
	UpdateEndpoint(ctx context.Context, e *domain.Endpoint) error
	DeleteEndpoint(ctx context.Context, appID, id string) error
	SetEndpointState(ctx context.Context, id, state, reason string) error
	// EndpointSecrets returns the secrets that have not expired at now, newest first.
	EndpointSecrets(ctx context.Context, endpointID string, now time.Time) ([]*domain.EndpointSecret, error)
	// RotateEndpointSecret adds s and makes every unexpired older secret expire at oldExpiresAt.
	RotateEndpointSecret(ctx context.Context, s *domain.EndpointSecret, oldExpiresAt time.Time) error

	Publish(ctx context.Context, in *PublishInput) (*PublishResult, error)
	GetMessage(ctx context.Context, appID, id string) (*domain.Message, error)
	ListMessages(ctx context.Context, f MessageFilter) ([]*domain.Message, string, error)

	GetDelivery(ctx context.Context, appID, id string) (*domain.Delivery, error)
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]*domain.Delivery, string, error)
	ListAttempts(ctx context.Context, f AttemptFilter) ([]*domain.Attempt, string, error)

	// Claim leases up to Limit due deliveries of enabled endpoints to Owner: pending, due
	// by Now, and not leased (or with an expired lease). A FIFO endpoint yields only its
	// oldest pending delivery, and only while no other delivery of it is leased.
	Claim(ctx context.Context, r ClaimRequest) ([]*Claimed, error)
	// ExtendLeases moves the lease of the owner's deliveries ids to until.
	ExtendLeases(ctx context.Context, owner string, ids []string, until time.Time) error
	// ReleaseLeases drops the owner's leases on ids (all of the owner's leases when ids is nil),
	// making those deliveries claimable at once.
	ReleaseLeases(ctx context.Context, owner string, ids []string) error
	// Complete records finished attempts, updates their deliveries and endpoints, and drops their leases.
	Complete(ctx context.Context, results []*AttemptResult) error
	// NextWake returns the earliest time a pending delivery becomes due or a lease expires,
	// and false when nothing is pending.
	NextWake(ctx context.Context) (time.Time, bool, error)
	// QueueDepth counts pending deliveries.
	QueueDepth(ctx context.Context) (int64, error)
	// OldestPending returns when the oldest pending delivery was created, nil when none is.
	OldestPending(ctx context.Context) (*time.Time, error)
	// AttemptStats counts the attempts of a time range, of one endpoint or of all, in
	// buckets, from an index: only the range's rows are read. Every endpoint's are found
	// by id, so an attempt's id must be made when it ends (within minutes of its start).
	AttemptStats(ctx context.Context, f AttemptStatsFilter) (*AttemptStats, error)

	// RetryDelivery queues a delivery for an attempt at now, whatever its status;
	// ErrConflict if it is in flight.
	RetryDelivery(ctx context.Context, appID, id string, now time.Time) (*domain.Delivery, error)
	// Replay queues finished deliveries matching f for an attempt at now, in batches.
	Replay(ctx context.Context, f ReplayFilter, now time.Time) (*ReplayResult, error)
	// Purge removes up to limit messages (with their deliveries and attempts) and attempts
	// created before `before`, never touching a message with pending deliveries, and
	// idempotency keys older than idemBefore. Messages and attempts are found by id
	// (ids.Floor), so their ids must be made when they are created (or ended).
	Purge(ctx context.Context, before, idemBefore time.Time, limit int) (*PurgeResult, error)
	// DisableFailingEndpoints disables enabled endpoints failing continuously since before
	// `since` and returns them.
	DisableFailingEndpoints(ctx context.Context, since time.Time, reason string) ([]*domain.Endpoint, error)
	// ParkBacklogs parks the backlogs of endpoints that are not enabled, so that they
	// are neither claimed nor due and do not hold retention back: it fails the pending,
	// unleased deliveries of disabled endpoints (the endpoint's disabled reason as their
	// last error) and of paused endpoints created before expireBefore, and parks the
	// rest of paused endpoints' (no next attempt time, until the endpoint is enabled:
	// UpdateEndpoint and SetEndpointState make them due again, as does this for any
	// enabled endpoint's left parked).
	ParkBacklogs(ctx context.Context, now, expireBefore time.Time) (*ParkResult, error)
	// TouchListeners records that the listener endpoints ids had a session at `at`.
	TouchListeners(ctx context.Context, ids []string, at time.Time) error
	// ExpireListenerDeliveries fails the pending deliveries, not leased to a node, of the
	// listener endpoints last seen (or, never seen, created) before seenBefore, except
	// those in keep, with reason as their last error; it returns how many it failed.
	ExpireListenerDeliveries(ctx context.Context, seenBefore time.Time, keep []string, reason string, now time.Time) (int64, error)
	// IdleListeners returns up to limit listener endpoints last seen (or, never seen,
	// created) before seenBefore.
	IdleListeners(ctx context.Context, seenBefore time.Time, limit int) ([]*domain.Endpoint, error)

	// CreateReplayJob stores a new app-wide replay (state running); ErrConflict when the
	// app has domain.MaxRunningReplays running already, ErrNotFound when the app is gone.
	// It removes the app's finished replays older than domain.ReplayKeep, and all but the
	// newest of them past domain.MaxKeptReplays.
	CreateReplayJob(ctx context.Context, j *domain.ReplayJob) error
	GetReplayJob(ctx context.Context, appID, id string) (*domain.ReplayJob, error)
	// ListReplayJobs returns a page of an app's replays, newest first.
	ListReplayJobs(ctx context.Context, appID string, p Page) ([]*domain.ReplayJob, string, error)
	// CancelReplayJob stops a running replay (what it queued stays queued) and returns it;
	// a finished one is returned as it is.
	CancelReplayJob(ctx context.Context, appID, id string, now time.Time) (*domain.ReplayJob, error)
	// FailReplayJob stops a running replay with reason as its error.
	FailReplayJob(ctx context.Context, id, reason string, now time.Time) error
	// RunnableReplayJobs returns up to limit running replays, oldest first, that owner
	// may run: not leased, leased to owner, or with an expired lease.
	RunnableReplayJobs(ctx context.Context, owner string, now time.Time, limit int) ([]string, error)
	// ReplayStep runs one step of replay id for owner, in one transaction: it looks at
	// up to limit more messages of the job's range, queues for an attempt at now the
	// deliveries of theirs that the job matches, and stores the new cursor and counts
	// (done when the range is exhausted), leasing the job to owner for lease. A job that
	// is not running is returned unchanged; ErrConflict when another owner's lease holds.
	ReplayStep(ctx context.Context, id, owner string, now time.Time, lease time.Duration, limit int) (*ReplayStepResult, error)

	// MarkListener records that a `herald listen` session of the listener endpoint id
	// connected at connectedAt to node (connected), or that it left (only if it is
	// still the recorded one), and that the endpoint was seen at now.
	MarkListener(ctx context.Context, id, node string, connectedAt time.Time, connected bool, now time.Time) error
	// ListListeners returns a page of an app's listener endpoints, newest first, with
	// what is known of their sessions.
	ListListeners(ctx context.Context, appID string, p Page) ([]*Listener, string, error)

	// CreateSession stores a console or portal session; ErrNotFound when its key or app is gone.
	CreateSession(ctx context.Context, s *domain.Session) error
	// SessionByHash returns the session whose token has this hash and that has not
	// expired at now, or ErrNotFound.
	SessionByHash(ctx context.Context, hash []byte, now time.Time) (*domain.Session, error)
	DeleteSession(ctx context.Context, id string) error
	CreatePortalLink(ctx context.Context, l *domain.PortalLink) error
	// OpenPortalLink uses up the link whose token has linkHash, unexpired at now, and
	// stores s as a session with the link's app, capabilities, endpoints and expiry
	// (which it sets in s); ErrNotFound when there is no such link. A link opens one
	// session at most, however many try at once.
	OpenPortalLink(ctx context.Context, linkHash []byte, s *domain.Session, now time.Time) error
	// RevokePortalSessions deletes every portal session and link of an app.
	RevokePortalSessions(ctx context.Context, appID string) error

	// CreateEventType adds a type to the event catalogue; ErrConflict if it exists.
	CreateEventType(ctx context.Context, t *domain.EventType) error
	GetEventType(ctx context.Context, name string) (*domain.EventType, error)
	// ListEventTypes returns a page of the catalogue in name order; cursors are names.
	ListEventTypes(ctx context.Context, p Page) ([]*domain.EventType, string, error)
	UpdateEventType(ctx context.Context, t *domain.EventType) error
	DeleteEventType(ctx context.Context, name string) error

	// WatchEndpoints reports endpoint changes, committed by this process or (for a Shared
	// store) by any node; see EndpointWatcher.
	EndpointWatcher

	// Operational serves operational webhooks and the status report.
	Operational

	Close() error
}

// RejectionLimits bound the rejections a store keeps: past MaxRows rows or MaxBytes stored
// bytes the oldest are deleted as new ones are recorded (checked every CheckEvery-th
// record, so a node overshoots by fewer rows than that), and those older than Retention
// are deleted then and by Purge. Zero fields take the defaults; negative ones are off.
type RejectionLimits struct {
	MaxRows    int
	MaxBytes   int64
	Retention  time.Duration
	CheckEvery int
}

// Defaults of RejectionLimits.
const (
	DefaultRejectionRows      = 10000
	DefaultRejectionBytes     = 64 << 20
	DefaultRejectionRetention = 7 * 24 * time.Hour
	DefaultRejectionCheck     = 32
)

// WithDefaults returns l with its zero fields set to the defaults and negative ones to no limit.
func (l RejectionLimits) WithDefaults() RejectionLimits {
	switch {
	case l.MaxRows == 0:
		l.MaxRows = DefaultRejectionRows
	case l.MaxRows < 0:
		l.MaxRows = math.MaxInt32
	}
	switch {
	case l.MaxBytes == 0:
		l.MaxBytes = DefaultRejectionBytes
	case l.MaxBytes < 0:
		l.MaxBytes = math.MaxInt64
	}
	if l.Retention == 0 {
		l.Retention = DefaultRejectionRetention
	}
	if l.CheckEvery <= 0 {
		l.CheckEvery = DefaultRejectionCheck
	}
	return l
}

// SourceStore keeps sources and their rejected requests; a backend that implements it
// can run the receiving gateway.
type SourceStore interface {
	CreateSource(ctx context.Context, s *domain.Source) error
	GetSource(ctx context.Context, appID, id string) (*domain.Source, error) // id: the id or the uid; appID "" matches any app
	ListSources(ctx context.Context, appID string, p Page) ([]*domain.Source, string, error)
	UpdateSource(ctx context.Context, s *domain.Source) error
	DeleteSource(ctx context.Context, appID, id string) error
	RecordRejection(ctx context.Context, r *domain.Rejection) error
	ListRejections(ctx context.Context, appID, sourceID string, p Page) ([]*domain.Rejection, string, error)
}

// Shared is implemented by stores that several herald nodes share (PostgreSQL), and only
// by them. Such a store wakes the other nodes when it queues work (Notifier), lets one
// node at a time run periodic work (Locker), and enforces per-endpoint limits across
// nodes when asked to (ClaimRequest.EndpointConcurrency, PublishInput.EndpointConcurrency):
// the delivery engine asks exactly when its store is Shared. A store that one node owns
// (SQLite) leaves those limits to that node's engine and fails a request that sets them.
type Shared interface {
	Store
	Notifier
	Locker
	Liveness
}

// Node is one herald process sharing a store, as its heartbeats describe it.
type Node struct {
	ID          string
	StartedAt   time.Time
	HeartbeatAt time.Time
}

// Liveness is implemented by Shared stores, so that the deliveries leased by a node that
// died are taken over by the others within seconds instead of when their leases expire.
type Liveness interface {
	// Heartbeat records that node nodeID is alive now, then releases every lease of the
	// nodes whose last heartbeat is older than timeout (making those deliveries
	// claimable at once) and forgets them; it returns the ids of the nodes it released.
	Heartbeat(ctx context.Context, nodeID string, timeout time.Duration) (released []string, err error)
	// Leave forgets node nodeID, which is stopping and has released its leases.
	Leave(ctx context.Context, nodeID string) error
	// Nodes lists the nodes that have heartbeated, most recent first.
	Nodes(ctx context.Context) ([]Node, error)
}

// Notifier is implemented by Shared stores: the delivery engine of each node subscribes,
// to claim at once what other nodes queue.
type Notifier interface {
	// Subscribe returns a channel that receives a value soon after any node commits work
	// that may be claimable now: deliveries published without a lease, released leases,
	// retries, replays and resumed endpoints. (Completions do not notify: the node that
	// records an outcome looks for the work it frees itself.) Values coalesce; a
	// notification may also be spurious. The channel is closed when ctx ends.
	Subscribe(ctx context.Context) (<-chan struct{}, error)
}

// EndpointWatcher lets the delivery engine drop its cached copy of an endpoint that
// changed. Every Store implements it: a Shared store reports the changes of every node,
// another store those of its own process.
type EndpointWatcher interface {
	// WatchEndpoints returns a channel that receives the id of every endpoint whose
	// configuration, state or secrets change (updated, paused, disabled, deleted,
	// rotated), soon after the commit; "" means any endpoint may have changed, and is
	// what the channel receives first, since what the caller cached before watching may
	// be stale, and in place of ids that no longer fit when the receiver falls behind
	// (changes coalesce; no write waits for a watcher). The channel is closed when ctx
	// ends or the store stops.
	WatchEndpoints(ctx context.Context) (<-chan string, error)
}

// Locker is implemented by Shared stores, so that periodic work (retention, auto-disable)
// runs on one node at a time.
type Locker interface {
	// TryLock takes the lock name if no one holds it and reports whether it did; release
	// gives it back. A lock whose holder dies is released by itself.
	TryLock(ctx context.Context, name string) (release func(), ok bool, err error)
}

// Cipher encrypts secrets at rest; backends store only ciphertext.
type Cipher interface {
	Encrypt(plaintext []byte) ([]byte, error)
	Decrypt(ciphertext []byte) ([]byte, error)
}
