package domain

import "time"

// Endpoint states.
const (
	EndpointEnabled  = "enabled"
	EndpointPaused   = "paused"   // deliveries queue up and are sent when resumed
	EndpointDisabled = "disabled" // receives nothing new; set by users, by 410 Gone or by continuous failure
)

// Endpoint is a URL that receives an app's messages.
type Endpoint struct {
	ID             string
	AppID          string
	URL            string
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
	Metadata       map[string]string
	FailingSince   *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
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
