package domain

import (
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/filter"
)

// Endpoint states. An endpoint moves between them freely (see Endpoint.SetState); the
// engine also disables an endpoint that answers 410 Gone or keeps failing.
const (
	EndpointEnabled  = "enabled"
	EndpointPaused   = "paused"   // deliveries queue up and are sent when resumed
	EndpointDisabled = "disabled" // receives nothing new; set by users, by 410 Gone or by continuous failure
)

// Endpoint kinds.
const (
	// KindHTTP is an endpoint herald POSTs to over HTTP(S).
	KindHTTP = "http"
	// KindListener is a `herald listen` session: its deliveries travel over the session's
	// WebSocket. Its URL is ListenerURL(name), unique within its app.
	KindListener = "listener"
)

// Endpoint is a destination that receives an app's messages.
type Endpoint struct {
	ID             string
	AppID          string
	Kind           string // KindHTTP or KindListener; "" reads as KindHTTP
	URL            string // for KindListener, ListenerURL(name)
	Description    string
	EventTypes     []string          // exact types or "prefix.*" wildcards; empty means all
	Headers        map[string]string // extra request headers
	State          string
	DisabledReason string
	MaxConcurrency int     // 0 means the server default
	RateLimit      float64 // requests per second; 0 means unlimited
	TimeoutMS      int     // 0 means the server default
	FIFO           bool    // one delivery in flight, in publish order
	SourceID       string  // when set, only messages that arrived through this source
	// Filter, when set, is a payload filter a message must match as well (see package
	// filter); nil means every message of the subscribed types.
	Filter        *filter.Filter
	RetrySchedule []time.Duration // the delays before each retry; empty: the server's
	// Transformation, when set, is JavaScript defining handler(webhook), run before each
	// attempt (see package transform); "" sends the payload as published.
	Transformation string
	// Auth, when set, is how herald authenticates to the receiver (see package outbound);
	// its secrets are encrypted at rest and never answered.
	Auth         *Auth
	Metadata     map[string]string
	FailingSince *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Subscription is what an endpoint asks to receive: the rule that fans a message out to
// the endpoints of its app. Every store applies it through Accepts.
type Subscription struct {
	EventTypes []string       // exact types or "prefix.*" wildcards; empty means all
	SourceID   string         // when set, only messages that arrived through this source
	Filter     *filter.Filter // when set, the message must match it too
}

// Accepts reports whether a message of eventType that arrived through sourceID ("" for
// messages published through the API) reaches the subscriber, leaving out its payload
// filter: what a subscriber without one needs.
func (s Subscription) Accepts(eventType, sourceID string) bool {
	return (s.SourceID == "" || s.SourceID == sourceID) && MatchEventType(s.EventTypes, eventType)
}

// AcceptsMessage reports whether the message f is fanning out reaches the subscriber:
// its type and source, then its payload filter. Every store fans out with it.
func (s Subscription) AcceptsMessage(f *Fanout) bool {
	return s.Accepts(f.m.Type, f.m.SourceID) && (s.Filter.IsEmpty() || s.Filter.Match(f.doc()))
}

// Fanout is a message being fanned out to the endpoints of its app: what their filters
// see of it, with its payload decoded once, when the first filter looks. It is not
// safe for concurrent use.
type Fanout struct {
	m *Message
	d *filter.Doc
}

// NewFanout prepares m for fan-out; it costs nothing until a filter looks at it.
func NewFanout(m *Message) *Fanout { return &Fanout{m: m} }

// doc returns the filter document of the message: type, payload, and as metadata the
// message's headers (a source's forwarded provider headers) and its source_id.
func (f *Fanout) doc() *filter.Doc {
	if f.d == nil {
		f.d = filter.NewDoc(FilterMessage(f.m))
	}
	return f.d
}

// FilterMessage is what a payload filter sees of m.
func FilterMessage(m *Message) filter.Message {
	meta := make(map[string]string, len(m.Headers)+1)
	for k, v := range m.Headers {
		meta[k] = v
	}
	if m.SourceID != "" {
		meta["source_id"] = m.SourceID
	}
	return filter.Message{Type: m.Type, Payload: m.Payload, Metadata: meta}
}

// Subscription returns what the endpoint subscribes to.
func (e *Endpoint) Subscription() Subscription {
	return Subscription{EventTypes: e.EventTypes, SourceID: e.SourceID, Filter: e.Filter}
}

// Accepts reports whether the endpoint subscribes to a message of eventType from sourceID
// ("" for messages published through the API).
func (e *Endpoint) Accepts(eventType, sourceID string) bool {
	return e.Subscription().Accepts(eventType, sourceID)
}

// EffectiveKind returns the endpoint's Kind, KindHTTP when it is unset.
func (e *Endpoint) EffectiveKind() string {
	if e.Kind == "" {
		return KindHTTP
	}
	return e.Kind
}

// IsListener reports whether the endpoint is a `herald listen` session.
func (e *Endpoint) IsListener() bool { return e.Kind == KindListener }

// ListenerScheme prefixes the URL of a listener endpoint ("listen:laptop").
const ListenerScheme = "listen:"

// ListenerURL returns the URL of the listener endpoint named name.
func ListenerURL(name string) string { return ListenerScheme + name }

// ValidState reports whether state is one of the endpoint states.
func ValidState(state string) bool {
	switch state {
	case EndpointEnabled, EndpointPaused, EndpointDisabled:
		return true
	}
	return false
}

// SetState moves the endpoint to state for reason ("" when a user asked): re-enabling
// clears its failure streak, and only a disabled endpoint keeps a reason.
func (e *Endpoint) SetState(state, reason string) {
	if state == EndpointEnabled && e.State != EndpointEnabled {
		e.FailingSince = nil
	}
	if state != EndpointDisabled {
		reason = ""
	}
	e.State, e.DisabledReason = state, reason
}

// StateError reports a change the current state of a record forbids; the API answers
// it as 409 conflict with its message.
type StateError struct {
	Message string
}

func (e *StateError) Error() string { return e.Message }

// CheckRetry reports whether a delivery to the endpoint may be retried: not while the
// endpoint is disabled, since the engine would never send it.
func (e *Endpoint) CheckRetry() error {
	if e.State != EndpointDisabled {
		return nil
	}
	msg := fmt.Sprintf("endpoint %s is %s", e.ID, e.State)
	if e.DisabledReason != "" {
		msg += " (" + e.DisabledReason + ")"
	}
	return &StateError{Message: msg + "; enable it before retrying its deliveries"}
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
