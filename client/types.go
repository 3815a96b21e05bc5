package client

import (
	"encoding/json"
	"errors"
	"time"
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

// AppInput is the body of CreateApp; Name is required.
type AppInput struct {
	Name     string            `json:"name"`
	UID      string            `json:"uid,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// AppUpdate is the body of UpdateApp; nil fields are left unchanged, and a non-nil
// empty Metadata clears the metadata.
type AppUpdate struct {
	Name     *string           `json:"name,omitempty"`
	UID      *string           `json:"uid,omitempty"`
	Metadata map[string]string `json:"metadata,omitzero"`
}

// APIKey grants API access: to everything (AppID empty) or to one app.
type APIKey struct {
	ID        string    `json:"id"`
	AppID     string    `json:"app_id,omitempty"`
	Name      string    `json:"name"`
	Prefix    string    `json:"prefix"` // the first characters of the key, to recognise it
	CreatedAt time.Time `json:"created_at"`
	Key       string    `json:"key,omitempty"` // the key itself, in CreateAPIKey's answer only
}

// APIKeyInput is the body of CreateAPIKey.
type APIKeyInput struct {
	Name string `json:"name,omitempty"`
}

// Endpoint states.
const (
	EndpointEnabled  = "enabled"
	EndpointPaused   = "paused"   // deliveries queue up and are sent when resumed
	EndpointDisabled = "disabled" // receives nothing new
)

// Endpoint is a URL that receives an app's messages.
type Endpoint struct {
	ID             string            `json:"id"`
	AppID          string            `json:"app_id"`
	URL            string            `json:"url"`
	Description    string            `json:"description"`
	EventTypes     []string          `json:"event_types"` // exact types or "prefix.*" wildcards; empty means all
	Headers        map[string]string `json:"headers"`     // extra request headers; values read as "••••" but in the answer that set them
	State          string            `json:"state"`
	DisabledReason string            `json:"disabled_reason,omitempty"`
	MaxConcurrency int               `json:"max_concurrency"`          // 0 means the server default
	RateLimit      float64           `json:"rate_limit"`               // requests per second; 0 means unlimited
	TimeoutMS      int               `json:"timeout_ms"`               // 0 means the server default
	FIFO           bool              `json:"fifo"`                     // one delivery in flight, in publish order
	SourceID       string            `json:"source_id,omitempty"`      // set on a herald listen endpoint attached to a source: it gets only that source's messages
	Filter         json.RawMessage   `json:"filter,omitempty"`         // a payload filter (see docs/delivery.md); absent when none
	RetrySchedule  []string          `json:"retry_schedule,omitempty"` // the endpoint's own retry delays; absent: the server's
	Transformation string            `json:"transformation,omitempty"` // JavaScript run before each attempt; absent when none
	Auth           *EndpointAuth     `json:"auth,omitempty"`           // credentials for the receiver, without secrets; nil when none
	Metadata       map[string]string `json:"metadata"`
	FailingSince   *time.Time        `json:"failing_since,omitempty"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
}

// EndpointInput is the body of CreateEndpoint; URL is required and zero fields take
// the server's defaults.
type EndpointInput struct {
	URL            string            `json:"url"`
	Description    string            `json:"description,omitempty"`
	EventTypes     []string          `json:"event_types,omitempty"`
	Headers        map[string]string `json:"headers,omitempty"`
	State          string            `json:"state,omitempty"`
	MaxConcurrency int               `json:"max_concurrency,omitempty"`
	RateLimit      float64           `json:"rate_limit,omitempty"`
	TimeoutMS      int               `json:"timeout_ms,omitempty"`
	FIFO           bool              `json:"fifo,omitempty"`
	Filter         json.RawMessage   `json:"filter,omitempty"`         // a payload filter; nil for none
	RetrySchedule  []string          `json:"retry_schedule,omitempty"` // durations such as "5s", "1m"; nil: the server's
	Transformation string            `json:"transformation,omitempty"` // JavaScript defining handler(webhook); "" for none
	Auth           *AuthInput        `json:"auth,omitempty"`           // credentials for the receiver; nil for none
	Metadata       map[string]string `json:"metadata,omitempty"`
	Secret         string            `json:"secret,omitempty"` // a whsec_ secret or whsk_ signing key to use instead of a generated whsec_
}

// EndpointUpdate is the body of UpdateEndpoint; nil fields are left unchanged, and a
// non-nil empty EventTypes, Headers or Metadata clears it.
type EndpointUpdate struct {
	URL            *string           `json:"url,omitempty"`
	Description    *string           `json:"description,omitempty"`
	EventTypes     []string          `json:"event_types,omitzero"`
	Headers        map[string]string `json:"headers,omitzero"`
	State          *string           `json:"state,omitempty"`
	MaxConcurrency *int              `json:"max_concurrency,omitempty"`
	RateLimit      *float64          `json:"rate_limit,omitempty"`
	TimeoutMS      *int              `json:"timeout_ms,omitempty"`
	FIFO           *bool             `json:"fifo,omitempty"`
	Filter         json.RawMessage   `json:"filter,omitempty"`         // {} removes the filter; nil leaves it
	RetrySchedule  []string          `json:"retry_schedule,omitzero"`  // a non-nil empty list goes back to the server's
	Transformation *string           `json:"transformation,omitempty"` // "" removes it
	// Auth replaces the receiver credentials; a secret left out of credentials of the
	// same type keeps the stored one. RemoveAuth removes them (sent as "auth": null).
	Auth       *AuthInput        `json:"auth,omitempty"`
	RemoveAuth bool              `json:"-"`
	Metadata   map[string]string `json:"metadata,omitzero"`
}

// MarshalJSON encodes u, with "auth": null when RemoveAuth is set.
func (u EndpointUpdate) MarshalJSON() ([]byte, error) {
	type plain EndpointUpdate
	b, err := json.Marshal(plain(u))
	if err != nil || !u.RemoveAuth {
		return b, err
	}
	if u.Auth != nil {
		return nil, errors.New("herald: EndpointUpdate sets both Auth and RemoveAuth")
	}
	if string(b) == "{}" {
		return []byte(`{"auth":null}`), nil
	}
	return append([]byte(`{"auth":null,`), b[1:]...), nil
}

// Receiver authentication types (EndpointAuth.Type, AuthInput.Type).
const (
	AuthBasic  = "basic"
	AuthBearer = "bearer"
	AuthOAuth2 = "oauth2"
	AuthMTLS   = "mtls"
)

// OAuth2 client authentication at the token URL (AuthInput.ClientAuth).
const (
	ClientAuthHeader = "header" // HTTP Basic (the default)
	ClientAuthBody   = "body"   // client_id and client_secret as form fields
)

// EndpointAuth is how herald authenticates to an endpoint's receiver, as answered:
// never a secret, only whether the one its type needs is stored.
type EndpointAuth struct {
	Type       string   `json:"type"`
	Username   string   `json:"username,omitempty"`
	TokenURL   string   `json:"token_url,omitempty"`
	ClientID   string   `json:"client_id,omitempty"`
	Scopes     []string `json:"scopes,omitempty"`
	Audience   string   `json:"audience,omitempty"`
	ClientAuth string   `json:"client_auth,omitempty"`
	CertPEM    string   `json:"cert_pem,omitempty"`
	CAPEM      string   `json:"ca_pem,omitempty"`
	SecretSet  bool     `json:"secret_set"`
}

// AuthInput sets how herald authenticates to an endpoint's receiver: Type and the
// fields it uses (basic: Username, Password; bearer: Token; oauth2: TokenURL,
// ClientID, ClientSecret, Scopes, Audience, ClientAuth; mtls: CertPEM, KeyPEM), and
// CAPEM with any type.
type AuthInput struct {
	Type         string   `json:"type"`
	Username     string   `json:"username,omitempty"`
	Password     string   `json:"password,omitempty"`
	Token        string   `json:"token,omitempty"`
	TokenURL     string   `json:"token_url,omitempty"`
	ClientID     string   `json:"client_id,omitempty"`
	ClientSecret string   `json:"client_secret,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
	Audience     string   `json:"audience,omitempty"`
	ClientAuth   string   `json:"client_auth,omitempty"`
	CertPEM      string   `json:"cert_pem,omitempty"`
	KeyPEM       string   `json:"key_pem,omitempty"`
	CAPEM        string   `json:"ca_pem,omitempty"`
	SecretSet    bool     `json:"secret_set,omitempty"` // ignored by the server, which answers it
}

// EndpointSecret is one key an endpoint's deliveries are signed with.
type EndpointSecret struct {
	ID        string     `json:"id"`
	Secret    string     `json:"secret"` // "whsec_..." or "whsk_..."
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"` // set on old keys during a rotation
}

// RotateSecretInput is the body of RotateEndpointSecret; zero fields take the server's defaults.
type RotateSecretInput struct {
	Secret             string `json:"secret,omitempty"`               // the new whsec_ secret or whsk_ key; a whsec_ is generated if empty
	GracePeriodSeconds *int   `json:"grace_period_seconds,omitempty"` // how long the old keys keep signing; nil means 24 hours
}

// ReplayInput is the body of Replay; every field is optional.
type ReplayInput struct {
	Status string    `json:"status,omitempty"` // "failed" or "succeeded"; empty replays both
	Since  time.Time `json:"since,omitzero"`   // deliveries created at or after Since
	Until  time.Time `json:"until,omitzero"`   // deliveries created before Until
	After  string    `json:"after,omitempty"`  // the Next of the previous batch
	Limit  int       `json:"limit,omitempty"`  // the batch size; 0 means the server default
}

// ReplayResult reports one batch of a replay.
type ReplayResult struct {
	Replayed int    `json:"replayed"`       // deliveries queued again by this batch
	Next     string `json:"next,omitempty"` // pass as ReplayInput.After for the next batch; empty when done
}

// Payload encodings of a Message whose payload is not JSON.
const (
	PayloadText   = "text"   // Payload is a JSON string holding the body (valid UTF-8, such as a form)
	PayloadBase64 = "base64" // Payload is a JSON string holding the body in standard base64
)

// Message is an event an app published.
type Message struct {
	ID      string          `json:"id"`
	AppID   string          `json:"app_id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"` // the webhook body
	// PayloadEncoding is PayloadText or PayloadBase64 when the body is not JSON (a
	// source's form or binary body), and Payload is then a JSON string holding it.
	PayloadEncoding string            `json:"payload_encoding,omitempty"`
	IdempotencyKey  string            `json:"idempotency_key,omitempty"`
	SourceID        string            `json:"source_id,omitempty"`
	Headers         map[string]string `json:"headers,omitempty"` // a source's forwarded headers
	CreatedAt       time.Time         `json:"created_at"`
	Deliveries      *int              `json:"deliveries,omitempty"` // in Publish answers only: how many endpoints it was queued for
}

// MessageInput is the body of Publish.
type MessageInput struct {
	Type           string          `json:"type"`
	Payload        json.RawMessage `json:"payload"` // a JSON object, sent byte for byte as the webhook body
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
	DeliveryCancelled = "cancelled" // the endpoint's transformation cancelled it; nothing was sent
)

// Delivery is one message to one endpoint.
type Delivery struct {
	ID             string     `json:"id"`
	AppID          string     `json:"app_id"`
	MessageID      string     `json:"message_id"`
	EndpointID     string     `json:"endpoint_id"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  *time.Time `json:"next_attempt_at,omitempty"`
	LastStatusCode int        `json:"last_status_code,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// Attempt outcomes.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeRetrying  = "retrying"
	OutcomeFailed    = "failed"
	OutcomeCancelled = "cancelled"
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
	LatencyMS       float64           `json:"latency_ms"`
	StatusCode      int               `json:"status_code,omitempty"` // 0 when no response arrived
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`
	ResponseBody    string            `json:"response_body"` // the first 4 KiB, as text
	Error           string            `json:"error,omitempty"`
	Outcome         string            `json:"outcome"`
	RequestHeaders  map[string]string `json:"request_headers"` // what the request went with, credentials "[redacted]"; empty when none was made
}

// ListParams selects one page of a list.
type ListParams struct {
	Limit  int    // 1..1000; 0 means the server default (50)
	Cursor string // the next cursor of the previous page; empty for the first
}

// ListMessagesParams selects one page of an app's messages; zero fields do not filter.
type ListMessagesParams struct {
	Type     string
	SourceID string
	Since    time.Time // inclusive
	Until    time.Time // exclusive
	Limit    int
	Cursor   string
}

// ListDeliveriesParams selects one page of an app's deliveries; zero fields do not filter.
type ListDeliveriesParams struct {
	EndpointID string
	MessageID  string
	Status     string // "pending", "succeeded" or "failed"
	Since      time.Time
	Until      time.Time
	Limit      int
	Cursor     string
}

// ListAttemptsParams selects one page of an app's attempts; zero fields do not filter.
type ListAttemptsParams struct {
	DeliveryID string
	EndpointID string
	MessageID  string
	Since      time.Time
	Until      time.Time
	Limit      int
	Cursor     string
}

// Providers a source verifies webhooks of.
const (
	ProviderOpenAI   = "openai"
	ProviderStandard = "standard" // Standard Webhooks
	ProviderSvix     = "svix"
	ProviderStripe   = "stripe"
	ProviderGitHub   = "github"
	ProviderShopify  = "shopify"
	ProviderSlack    = "slack"
	ProviderHMAC     = "hmac" // a generic HMAC scheme, configured by Source.HMAC
)

// Encodings and algorithms of HMACConfig; empty means the default (hex, SHA-256).
const (
	HMACHex    = "hex"
	HMACBase64 = "base64"
	HMACSHA256 = "sha256"
	HMACSHA1   = "sha1"
	HMACSHA512 = "sha512"
)

// HMACConfig configures a source with the generic "hmac" provider.
type HMACConfig struct {
	Header          string `json:"header"`
	Prefix          string `json:"prefix,omitempty"`
	Encoding        string `json:"encoding,omitempty"`
	Algorithm       string `json:"algorithm,omitempty"`
	Template        string `json:"template,omitempty"`
	TimestampHeader string `json:"timestamp_header,omitempty"`
	IDHeader        string `json:"id_header,omitempty"`
	TypeHeader      string `json:"type_header,omitempty"`
}

// Source is an inbound address of the receiving gateway: POST IngestPath.
type Source struct {
	ID                  string      `json:"id"`
	AppID               string      `json:"app_id"`
	UID                 string      `json:"uid,omitempty"` // your name for it, unique on the server: it is reachable at /in/{uid} too
	Name                string      `json:"name"`
	Provider            string      `json:"provider"`
	HMAC                *HMACConfig `json:"hmac,omitempty"`
	MaxBodyBytes        int64       `json:"max_body_bytes"`
	DedupeWindowSeconds int64       `json:"dedupe_window_seconds"`
	IngestPath          string      `json:"ingest_path"` // /in/{uid} when it has a uid, else /in/{id}
	IngestURL           string      `json:"ingest_url"`  // the URL to give the provider: the server's public URL and IngestPath
	CreatedAt           time.Time   `json:"created_at"`
	UpdatedAt           time.Time   `json:"updated_at"`
}

// SourceInput is the body of CreateSource; UpdateSource sends only non-zero fields.
type SourceInput struct {
	UID                 *string     `json:"uid,omitempty"` // nil: unchanged; "" removes it
	Name                string      `json:"name,omitempty"`
	Provider            string      `json:"provider,omitempty"`
	Secret              string      `json:"secret,omitempty"`
	Secrets             []string    `json:"secrets,omitempty"`
	HMAC                *HMACConfig `json:"hmac,omitempty"`
	MaxBodyBytes        int64       `json:"max_body_bytes,omitempty"`
	DedupeWindowSeconds int64       `json:"dedupe_window_seconds,omitempty"`
}

// Rejection is a request a source refused; it was not forwarded.
type Rejection struct {
	ID         string            `json:"id"`
	SourceID   string            `json:"source_id"`
	ReceivedAt time.Time         `json:"received_at"`
	Status     int               `json:"status"`
	Code       string            `json:"code"`
	Message    string            `json:"message"`
	RemoteAddr string            `json:"remote_addr"`
	Headers    map[string]string `json:"headers"` // an excerpt: at most 32 headers, 8 KiB
	Body       string            `json:"body"`    // the first 4 KiB
	// HeaderCount, HeaderBytes and BodyBytes are the request's own sizes, before the excerpt.
	HeaderCount int   `json:"header_count"`
	HeaderBytes int64 `json:"header_bytes"`
	BodyBytes   int64 `json:"body_bytes"`
	// Diagnosis says why the signature did not verify, confirmed causes first; empty for
	// refusals that are not about the signature.
	Diagnosis []Finding `json:"diagnosis"`
}

// Finding is one cause the verification debugger found for a signature that did not
// verify (see webhook/diagnose).
type Finding struct {
	Code    string `json:"code"`    // such as "body_changed" or "timestamp_skew"
	Message string `json:"message"` // what is wrong, in one sentence
	Hint    string `json:"hint"`    // what to do about it
	// Confirmed is true when the signature verifies once the mistake is undone.
	Confirmed bool `json:"confirmed"`
}
