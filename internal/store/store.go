// Package store defines herald's persistence: the records it keeps and the Store
// interface that every database backend (sqlite, postgres) implements.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/heraldhq/herald/webhook"
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

// App is a tenant: one of the sender's customers, owning endpoints and messages.
type App struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	UID       string            `json:"uid,omitempty"` // the sender's own id for the app, unique when set
	Metadata  map[string]string `json:"metadata"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// APIKey grants API access: to everything (AppID empty) or to one app.
type APIKey struct {
	ID        string    `json:"id"`
	AppID     string    `json:"app_id,omitempty"`
	Name      string    `json:"name"`
	Prefix    string    `json:"prefix"` // the first characters of the key, to recognise it
	Hash      []byte    `json:"-"`      // SHA-256 of the key; the key itself is never stored
	CreatedAt time.Time `json:"created_at"`
}

// Endpoint states.
const (
	EndpointEnabled  = "enabled"
	EndpointPaused   = "paused"   // deliveries queue up and are sent when resumed
	EndpointDisabled = "disabled" // receives nothing new; set by users, by 410 Gone or by continuous failure
)

// Endpoint is a URL that receives an app's messages.
type Endpoint struct {
	ID             string            `json:"id"`
	AppID          string            `json:"app_id"`
	URL            string            `json:"url"`
	Description    string            `json:"description"`
	EventTypes     []string          `json:"event_types"` // exact types or "prefix.*" wildcards; empty means all
	Headers        map[string]string `json:"headers"`     // extra request headers
	State          string            `json:"state"`
	DisabledReason string            `json:"disabled_reason,omitempty"`
	MaxConcurrency int               `json:"max_concurrency"`     // 0 means the server default
	RateLimit      float64           `json:"rate_limit"`          // requests per second; 0 means unlimited
	TimeoutMS      int               `json:"timeout_ms"`          // 0 means the server default
	FIFO           bool              `json:"fifo"`                // one delivery in flight, in publish order
	SourceID       string            `json:"source_id,omitempty"` // when set, only messages that arrived through this source
	Metadata       map[string]string `json:"metadata"`
	FailingSince   *time.Time        `json:"failing_since,omitempty"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
}

// Accepts reports whether the endpoint subscribes to a message of eventType from sourceID
// ("" for messages published through the API).
func (e *Endpoint) Accepts(eventType, sourceID string) bool {
	return (e.SourceID == "" || e.SourceID == sourceID) && MatchEventType(e.EventTypes, eventType)
}

// MatchEventType reports whether eventType matches a filter of exact names and
// "prefix.*" wildcards ("*" matches everything); an empty filter matches everything.
func MatchEventType(filter []string, eventType string) bool {
	if len(filter) == 0 {
		return true
	}
	for _, f := range filter {
		if f == eventType || f == "*" {
			return true
		}
		if n := len(f); n >= 2 && f[n-1] == '*' && f[n-2] == '.' && len(eventType) > n-1 && eventType[:n-1] == f[:n-1] {
			return true
		}
	}
	return false
}

// EndpointSecret is one signing key of an endpoint. During rotation an endpoint has
// several; the old ones carry an expiry.
type EndpointSecret struct {
	ID         string
	EndpointID string
	Secret     webhook.Secret
	CreatedAt  time.Time
	ExpiresAt  *time.Time
}

// Message is an event an app published.
type Message struct {
	ID             string          `json:"id"`
	AppID          string          `json:"app_id"`
	Type           string          `json:"type"`
	Payload        json.RawMessage `json:"payload"` // sent byte for byte as the webhook body; nil once purged
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	// SourceID names the source the message arrived through; empty for API publishes.
	SourceID string `json:"source_id,omitempty"`
	// Headers are sent with every delivery of the message: for a source's events, the
	// provider's headers under ForwardedHeaderPrefix and the original content type.
	Headers   map[string]string `json:"headers,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
}

// ForwardedHeaderPrefix is prepended to a provider's header names when a source's event
// is forwarded: Stripe-Signature arrives as X-Herald-Original-Stripe-Signature.
const ForwardedHeaderPrefix = "X-Herald-Original-"

// Delivery statuses.
const (
	DeliveryPending   = "pending" // queued, waiting for a retry, or in flight
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed" // retries exhausted, or the endpoint answered 410
)

// Delivery is one message to one endpoint; it is also the queue entry.
type Delivery struct {
	ID             string     `json:"id"`
	AppID          string     `json:"app_id"`
	MessageID      string     `json:"message_id"`
	EndpointID     string     `json:"endpoint_id"`
	Seq            int64      `json:"-"` // publish order, for FIFO endpoints
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"` // attempts made in all
	RetryStep      int        `json:"-"`        // attempts since the last manual retry or replay: the position in the schedule
	NextAttemptAt  *time.Time `json:"next_attempt_at,omitempty"`
	LastStatusCode int        `json:"last_status_code,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// Attempt outcomes.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeRetrying  = "retrying" // failed, another attempt is scheduled
	OutcomeFailed    = "failed"   // failed, no more attempts
)

// Attempt is the record of one HTTP request made for a delivery.
type Attempt struct {
	ID              string            `json:"id"`
	DeliveryID      string            `json:"delivery_id"`
	AppID           string            `json:"app_id"`
	EndpointID      string            `json:"endpoint_id"`
	MessageID       string            `json:"message_id"`
	Number          int               `json:"number"` // 1 for the first attempt of the delivery
	StartedAt       time.Time         `json:"started_at"`
	Latency         time.Duration     `json:"-"`
	StatusCode      int               `json:"status_code,omitempty"` // 0 when no response arrived
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`
	ResponseBody    []byte            `json:"-"` // at most 4 KiB
	Error           string            `json:"error,omitempty"`
	Outcome         string            `json:"outcome"`
}

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
	TimeRange
	Page
}

// DeliveryFilter selects deliveries; AppID is required, the rest optional.
type DeliveryFilter struct {
	AppID      string
	EndpointID string
	MessageID  string
	Status     string
	TimeRange
	Page
}

// AttemptFilter selects attempts; AppID is required, the rest optional.
type AttemptFilter struct {
	AppID      string
	DeliveryID string
	EndpointID string
	MessageID  string
	TimeRange
	Page
}

// PublishInput is one message to store and fan out.
type PublishInput struct {
	Message        *Message      // ID, AppID, Type, Payload, IdempotencyKey and CreatedAt set by the caller
	IdempotencyTTL time.Duration // how long IdempotencyKey returns the original message
	// LeaseOwner, when set, leases the new deliveries to enabled, non-FIFO endpoints to the
	// caller until LeaseUntil, so that the publishing node sends them without a claim round trip.
	LeaseOwner string
	LeaseUntil time.Time
	// EndpointConcurrency, when positive, makes the lease respect limits across every node
	// sharing the store: a delivery is leased only if its endpoint has no rate limit and
	// fewer leased deliveries (by anyone) than its max_concurrency, or than this when that
	// is 0. The rest are left for Claim.
	EndpointConcurrency int
}

// PublishResult is the outcome of one publish.
type PublishResult struct {
	Message    *Message    // the stored message: the original one for a repeated idempotency key
	Duplicate  bool        // the idempotency key was seen within its TTL; nothing new was stored
	Deliveries []*Delivery // the deliveries created by this publish
	Leased     []*Delivery // the subset of Deliveries leased to LeaseOwner
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
	// the caller enforces the rest itself.
	EndpointConcurrency int
}

// Claimed is a leased delivery with what is needed to send it.
type Claimed struct {
	Delivery *Delivery
	Type     string
	Payload  []byte
	Headers  map[string]string // the message's headers (see Message.Headers)
}

// AttemptResult records one finished attempt and what follows from it.
type AttemptResult struct {
	Attempt       *Attempt
	Status        string     // the delivery's new status
	NextAttemptAt *time.Time // when Status is pending
	// EndpointFailed marks the endpoint as failing since Attempt.StartedAt unless it already is;
	// otherwise the endpoint's failure streak is cleared.
	EndpointFailed bool
	// DisableEndpoint, when set, disables the endpoint with this reason (410 Gone).
	DisableEndpoint string
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

// PurgeResult counts what one retention pass removed.
type PurgeResult struct {
	Messages, Deliveries, Attempts, IdempotencyKeys int
}

// Store is herald's persistence. Every method is safe for concurrent use. Write methods
// commit before they return: a nil error means the change is durable.
type Store interface {
	CreateApp(ctx context.Context, a *App) error
	GetApp(ctx context.Context, id string) (*App, error) // id or uid
	ListApps(ctx context.Context, p Page) ([]*App, string, error)
	UpdateApp(ctx context.Context, a *App) error
	DeleteApp(ctx context.Context, id string) error

	CreateAPIKey(ctx context.Context, k *APIKey) error
	APIKeyByHash(ctx context.Context, hash []byte) (*APIKey, error)
	ListAPIKeys(ctx context.Context, appID string, p Page) ([]*APIKey, string, error) // appID "" lists admin keys
	DeleteAPIKey(ctx context.Context, appID, id string) error
	HasAdminKey(ctx context.Context) (bool, error)

	CreateEndpoint(ctx context.Context, e *Endpoint, s *EndpointSecret) error
	GetEndpoint(ctx context.Context, appID, id string) (*Endpoint, error) // appID "" matches any app
	ListEndpoints(ctx context.Context, appID string, p Page) ([]*Endpoint, string, error)
	UpdateEndpoint(ctx context.Context, e *Endpoint) error
	DeleteEndpoint(ctx context.Context, appID, id string) error
	SetEndpointState(ctx context.Context, id, state, reason string) error
	// EndpointSecrets returns the secrets that have not expired at now, newest first.
	EndpointSecrets(ctx context.Context, endpointID string, now time.Time) ([]*EndpointSecret, error)
	// RotateEndpointSecret adds s and makes every unexpired older secret expire at oldExpiresAt.
	RotateEndpointSecret(ctx context.Context, s *EndpointSecret, oldExpiresAt time.Time) error

	Publish(ctx context.Context, in *PublishInput) (*PublishResult, error)
	GetMessage(ctx context.Context, appID, id string) (*Message, error)
	ListMessages(ctx context.Context, f MessageFilter) ([]*Message, string, error)

	GetDelivery(ctx context.Context, appID, id string) (*Delivery, error)
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, string, error)
	ListAttempts(ctx context.Context, f AttemptFilter) ([]*Attempt, string, error)

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

	// RetryDelivery queues a delivery for an attempt at now, whatever its status;
	// ErrConflict if it is in flight.
	RetryDelivery(ctx context.Context, appID, id string, now time.Time) (*Delivery, error)
	// Replay queues finished deliveries matching f for an attempt at now, in batches.
	Replay(ctx context.Context, f ReplayFilter, now time.Time) (*ReplayResult, error)
	// Purge removes up to limit messages (with their deliveries and attempts) and attempts
	// created before `before`, never touching a message with pending deliveries, and
	// idempotency keys older than idemBefore.
	Purge(ctx context.Context, before, idemBefore time.Time, limit int) (*PurgeResult, error)
	// DisableFailingEndpoints disables enabled endpoints failing continuously since before
	// `since` and returns them.
	DisableFailingEndpoints(ctx context.Context, since time.Time, reason string) ([]*Endpoint, error)

	Close() error
}

// Source is an inbound address (POST /in/{id}) that verifies a provider's webhooks and
// turns each into a message of its app, forwarded to the app's endpoints.
type Source struct {
	ID       string   `json:"id"`
	AppID    string   `json:"app_id"`
	Name     string   `json:"name"`
	Provider string   `json:"provider"` // a webhook.NewProvider name, or "hmac"
	Secrets  []string `json:"-"`        // verifying secrets, newest first; encrypted at rest
	// HMAC configures the generic "hmac" provider (its Secret field is not used: Secrets is).
	HMAC         *webhook.HMACConfig `json:"hmac,omitempty"`
	MaxBodyBytes int64               `json:"max_body_bytes"` // 0: the server default
	DedupeWindow time.Duration       `json:"-"`              // 0: the server default
	CreatedAt    time.Time           `json:"created_at"`
	UpdatedAt    time.Time           `json:"updated_at"`
}

// Rejection records an inbound request a source refused, for inspection; it is never forwarded.
type Rejection struct {
	ID         string            `json:"id"`
	SourceID   string            `json:"source_id"`
	AppID      string            `json:"app_id"`
	ReceivedAt time.Time         `json:"received_at"`
	Status     int               `json:"status"`
	Code       string            `json:"code"`
	Message    string            `json:"message"`
	RemoteAddr string            `json:"remote_addr"`
	Headers    map[string]string `json:"headers"`
	Body       []byte            `json:"-"` // the first 64 KiB
}

// SourceStore keeps sources and their rejected requests; a backend that implements it
// can run the receiving gateway.
type SourceStore interface {
	CreateSource(ctx context.Context, s *Source) error
	GetSource(ctx context.Context, appID, id string) (*Source, error) // appID "" matches any app
	ListSources(ctx context.Context, appID string, p Page) ([]*Source, string, error)
	UpdateSource(ctx context.Context, s *Source) error
	DeleteSource(ctx context.Context, appID, id string) error
	RecordRejection(ctx context.Context, r *Rejection) error
	ListRejections(ctx context.Context, appID, sourceID string, p Page) ([]*Rejection, string, error)
}

// Notifier is implemented by stores that several herald nodes share (PostgreSQL). The
// delivery engine of each node subscribes, to claim at once what other nodes queue, and
// relies on the store to enforce per-endpoint limits across nodes (it sets
// ClaimRequest.EndpointConcurrency and PublishInput.EndpointConcurrency).
type Notifier interface {
	// Subscribe returns a channel that receives a value soon after any node commits work
	// that may be claimable now: deliveries published without a lease, released leases,
	// retries, replays and resumed endpoints. (Completions do not notify: the node that
	// records an outcome looks for the work it frees itself.) Values coalesce; a
	// notification may also be spurious. The channel is closed when ctx ends.
	Subscribe(ctx context.Context) (<-chan struct{}, error)
}

// EndpointWatcher is implemented by stores that several herald nodes share, so that each
// node's engine drops its cached copy of an endpoint that another node changed.
type EndpointWatcher interface {
	// WatchEndpoints returns a channel that receives the id of every endpoint whose
	// configuration, state or secrets change (updated, paused, disabled, deleted,
	// rotated), soon after the commit; "" means any endpoint may have changed. The
	// channel is closed when ctx ends or the store stops listening.
	WatchEndpoints(ctx context.Context) (<-chan string, error)
}

// Locker is implemented by stores that several herald nodes share, so that periodic work
// (retention, auto-disable) runs on one node at a time.
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
