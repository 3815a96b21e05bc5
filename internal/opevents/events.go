package opevents

import (
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/jsontime"
)

// The payloads of operational webhooks, as docs/operational-webhooks.md shows them:
// Svix's envelope and field names (camelCase) where Svix has the event, herald's
// additions beside them. They never carry a secret, a header value or a payload.

// Envelope is the body of every operational webhook.
type Envelope struct {
	Type      string `json:"type"`
	Timestamp Time   `json:"timestamp"`
	Data      any    `json:"data"`
}

// Time is a time as operational webhooks write it: RFC 3339, UTC, milliseconds, as the
// REST API does.
type Time = jsontime.Time

// EndpointEvent is the data of endpoint.created, endpoint.updated, endpoint.deleted
// and endpoint.enabled.
type EndpointEvent struct {
	AppID      string `json:"appId"`
	AppUID     string `json:"appUid,omitempty"`
	EndpointID string `json:"endpointId"`
	// Changes names the settings an update changed (endpoint.updated only).
	Changes []string `json:"changes,omitempty"`
	// Trigger is who enabled it (endpoint.enabled only): always manual.
	Trigger string `json:"trigger,omitempty"`
}

// EndpointDisabledEvent is the data of endpoint.disabled.
type EndpointDisabledEvent struct {
	AppID      string `json:"appId"`
	AppUID     string `json:"appUid,omitempty"`
	EndpointID string `json:"endpointId"`
	// FailSince is when the endpoint began failing continuously; null when it was not.
	FailSince *Time `json:"failSince"`
	// Trigger is domain.TriggerAutomatic or domain.TriggerManual, Reason one of
	// domain.DisabledFailing, DisabledGone, DisabledReceiver and DisabledManual, and
	// Detail the endpoint's disabled_reason.
	Trigger string `json:"trigger"`
	Reason  string `json:"reason"`
	Detail  string `json:"detail,omitempty"`
	// LastAttempt is the attempt that disabled it, or its latest one.
	LastAttempt *LastAttempt `json:"lastAttempt,omitempty"`
}

// AttemptEvent is the data of message.attempt.failing, message.attempt.exhausted and
// message.attempt.recovered.
type AttemptEvent struct {
	AppID       string      `json:"appId"`
	AppUID      string      `json:"appUid,omitempty"`
	MsgID       string      `json:"msgId"`
	EndpointID  string      `json:"endpointId"`
	LastAttempt LastAttempt `json:"lastAttempt"`
	// FailSince is when the endpoint's failure streak began (failing and recovered).
	FailSince *Time `json:"failSince,omitempty"`
	// Failures counts the endpoint's consecutive failures this node saw (failing).
	Failures int `json:"failures,omitempty"`
	// Attempts counts the attempts made of the message's delivery (exhausted).
	Attempts int `json:"attempts,omitempty"`
}

// LastAttempt describes an attempt in an operational webhook.
type LastAttempt struct {
	ID                 string `json:"id"`
	ResponseStatusCode int    `json:"responseStatusCode"` // 0 when no response arrived
	Timestamp          Time   `json:"timestamp"`
	Error              string `json:"error,omitempty"`
	DeliveryID         string `json:"deliveryId"`
	Number             int    `json:"number"`
}

func lastAttempt(a *domain.Attempt) LastAttempt {
	return LastAttempt{
		ID: a.ID, ResponseStatusCode: a.StatusCode, Timestamp: Time(a.StartedAt), Error: a.Error,
		DeliveryID: a.DeliveryID, Number: a.Number,
	}
}

// RejectionsSpikingEvent is the data of source.rejections.spiking.
type RejectionsSpikingEvent struct {
	AppID         string        `json:"appId"`
	AppUID        string        `json:"appUid,omitempty"`
	SourceID      string        `json:"sourceId"`
	WindowSeconds int64         `json:"windowSeconds"`
	Requests      int           `json:"requests"`
	Rejected      int           `json:"rejected"`
	RejectionRate float64       `json:"rejectionRate"`
	Threshold     float64       `json:"threshold"`
	LastRejection LastRejection `json:"lastRejection"`
}

// LastRejection describes the latest rejected request of a spike.
type LastRejection struct {
	Status    int    `json:"status"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	Timestamp Time   `json:"timestamp"`
}
