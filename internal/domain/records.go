// Package domain holds herald's records (apps, endpoints, messages, deliveries,
// attempts, sources) and the rules that govern them: which endpoints a message fans out
// to, which states an endpoint moves between. It does no I/O and imports nothing of
// herald but the public webhook package and the filter language (a leaf package, pure
// like this one); every other package shares these types.
package domain

import (
	"encoding/json"
	"time"

	"github.com/heraldhq/herald/webhook"
	"github.com/heraldhq/herald/webhook/diagnose"
)

// App is a tenant: one of the sender's customers, owning endpoints and messages.
type App struct {
	ID        string
	Name      string
	UID       string // the sender's own id for the app, unique when set
	Metadata  map[string]string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// APIKey grants API access: to everything (AppID empty) or to one app.
type APIKey struct {
	ID        string
	AppID     string
	Name      string
	Prefix    string // the first characters of the key, to recognise it
	Hash      []byte // SHA-256 of the key; the key itself is never stored
	CreatedAt time.Time
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
	ID             string
	AppID          string
	Type           string
	Payload        json.RawMessage // sent byte for byte as the webhook body; nil once purged
	IdempotencyKey string
	// SourceID names the source the message arrived through; empty for API publishes.
	SourceID string
	// Headers are sent with every delivery of the message: for a source's events, the
	// provider's headers under ForwardedHeaderPrefix and the original content type.
	Headers map[string]string
	// Trace is the trace context the message was published in; its attempts continue
	// that trace (see docs/observability.md).
	Trace     TraceContext
	CreatedAt time.Time
}

// ForwardedHeaderPrefix is prepended to a provider's header names when a source's event
// is forwarded: Stripe-Signature arrives as X-Herald-Original-Stripe-Signature.
const ForwardedHeaderPrefix = "X-Herald-Original-"

// Delivery statuses.
const (
	DeliveryPending   = "pending" // queued, waiting for a retry, or in flight
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed" // retries exhausted, or the endpoint answered 410
	// DeliveryCancelled: the endpoint's transformation set cancel; nothing was sent.
	DeliveryCancelled = "cancelled"
)

// Delivery is one message to one endpoint; it is also the queue entry.
type Delivery struct {
	ID             string
	AppID          string
	MessageID      string
	EndpointID     string
	Seq            int64 // publish order, for FIFO endpoints
	Status         string
	Attempts       int // attempts made in all
	RetryStep      int // attempts since the last manual retry or replay: the position in the schedule
	NextAttemptAt  *time.Time
	LastStatusCode int
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Attempt outcomes.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeRetrying  = "retrying" // failed, another attempt is scheduled
	OutcomeFailed    = "failed"   // failed, no more attempts
	// OutcomeCancelled: the endpoint's transformation cancelled the delivery; no request was made.
	OutcomeCancelled = "cancelled"
)

// Attempt is the record of one HTTP request made for a delivery.
type Attempt struct {
	ID         string
	DeliveryID string
	AppID      string
	EndpointID string
	MessageID  string
	Number     int // 1 for the first attempt of the delivery
	StartedAt  time.Time
	Latency    time.Duration
	// RequestHeaders are the headers the request was sent with, credentials and the
	// endpoint's custom header values redacted (see RedactedValue); empty when no
	// request was made.
	RequestHeaders  map[string]string
	StatusCode      int // 0 when no response arrived
	ResponseHeaders map[string]string
	ResponseBody    []byte // at most 4 KiB
	Error           string
	Outcome         string
}

// Source is an inbound address (POST /in/{id}, or /in/{uid} when it has a uid) that
// verifies a provider's webhooks and turns each into a message of its app, forwarded to
// the app's endpoints.
type Source struct {
	ID       string
	AppID    string
	UID      string // the sender's own name for the source (see CheckSourceUID), unique on the server when set
	Name     string
	Provider string   // a webhook.NewProvider name, or "hmac"
	Secrets  []string // verifying secrets, newest first; encrypted at rest
	// HMAC configures the generic "hmac" provider (its Secret field is not used: Secrets is).
	HMAC         *webhook.HMACConfig
	MaxBodyBytes int64         // 0: the server default
	DedupeWindow time.Duration // 0: the server default
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Rejection records an inbound request a source refused, for inspection; it is never forwarded.
type Rejection struct {
	ID         string
	SourceID   string
	AppID      string
	ReceivedAt time.Time
	Status     int
	Code       string
	Message    string
	RemoteAddr string
	Headers    map[string]string // an excerpt (see RejectionExcerpt)
	Body       []byte            // an excerpt (see RejectionExcerpt)
	// HeaderCount, HeaderBytes and BodyBytes are the request's own sizes, before the excerpt.
	HeaderCount int
	HeaderBytes int64
	BodyBytes   int64
	// Diagnosis says why the signature did not verify (see RejectionDiagnosis); empty
	// for refusals that are not about the signature, such as a body over the limit.
	Diagnosis []diagnose.Finding
}
