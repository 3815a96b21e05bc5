package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Operational endpoints receive herald's own events (docs/operational-webhooks.md).
// They are endpoints of a reserved app, managed with an admin key: their records are
// Endpoints, created and changed with EndpointInput and EndpointUpdate. Their
// event_types must name operational event types, and they are FIFO unless changed.

// Operational event types.
const (
	OpEndpointCreated   = "endpoint.created"
	OpEndpointUpdated   = "endpoint.updated"
	OpEndpointDeleted   = "endpoint.deleted"
	OpEndpointDisabled  = "endpoint.disabled"
	OpEndpointEnabled   = "endpoint.enabled"
	OpAttemptFailing    = "message.attempt.failing"
	OpAttemptExhausted  = "message.attempt.exhausted"
	OpAttemptRecovered  = "message.attempt.recovered"
	OpRejectionsSpiking = "source.rejections.spiking"
)

func opPath(segments ...string) string {
	return path(append([]string{"operational-endpoints"}, segments...)...)
}

// CreateOperationalEndpoint adds an operational endpoint.
func (c *Client) CreateOperationalEndpoint(ctx context.Context, in EndpointInput) (*Endpoint, error) {
	return call[Endpoint](ctx, c, request{method: http.MethodPost, path: opPath(), body: in})
}

// ListOperationalEndpoints returns one page of the operational endpoints, newest first,
// and the next page's cursor.
func (c *Client) ListOperationalEndpoints(ctx context.Context, p ListParams) ([]*Endpoint, string, error) {
	return getList[Endpoint](ctx, c, opPath(), url.Values(pageQuery(p)))
}

// GetOperationalEndpoint returns an operational endpoint.
func (c *Client) GetOperationalEndpoint(ctx context.Context, endpointID string) (*Endpoint, error) {
	return call[Endpoint](ctx, c, request{method: http.MethodGet, path: opPath(endpointID)})
}

// UpdateOperationalEndpoint changes the fields of an operational endpoint that in sets.
func (c *Client) UpdateOperationalEndpoint(ctx context.Context, endpointID string, in EndpointUpdate) (*Endpoint, error) {
	return call[Endpoint](ctx, c, request{method: http.MethodPatch, path: opPath(endpointID), body: in})
}

// DeleteOperationalEndpoint deletes an operational endpoint and its deliveries.
func (c *Client) DeleteOperationalEndpoint(ctx context.Context, endpointID string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: opPath(endpointID)}, nil)
	return err
}

// OperationalEndpointSecrets returns the keys signing an operational endpoint's events, newest first.
func (c *Client) OperationalEndpointSecrets(ctx context.Context, endpointID string) ([]*EndpointSecret, error) {
	var s secrets
	if _, err := c.do(ctx, request{method: http.MethodGet, path: opPath(endpointID, "secret")}, &s); err != nil {
		return nil, err
	}
	return s.Secrets, nil
}

// RotateOperationalEndpointSecret gives an operational endpoint a new signing key and
// returns its keys, newest first.
func (c *Client) RotateOperationalEndpointSecret(ctx context.Context, endpointID string, in RotateSecretInput) ([]*EndpointSecret, error) {
	var s secrets
	if _, err := c.do(ctx, request{method: http.MethodPost, path: opPath(endpointID, "secret", "rotate"), body: in}, &s); err != nil {
		return nil, err
	}
	return s.Secrets, nil
}

// ListOperationalMessages returns one page of the events sent to an operational
// endpoint, newest first (p.SourceID does not apply).
func (c *Client) ListOperationalMessages(ctx context.Context, endpointID string, p ListMessagesParams) ([]*Message, string, error) {
	q := pageQuery(ListParams{Limit: p.Limit, Cursor: p.Cursor}).add("type", p.Type).addTime("since", p.Since).addTime("until", p.Until)
	return getList[Message](ctx, c, opPath(endpointID, "messages"), url.Values(q))
}

// ListOperationalAttempts returns one page of the attempts to an operational endpoint,
// newest first (p.EndpointID does not apply).
func (c *Client) ListOperationalAttempts(ctx context.Context, endpointID string, p ListAttemptsParams) ([]*Attempt, string, error) {
	q := pageQuery(ListParams{Limit: p.Limit, Cursor: p.Cursor}).add("delivery_id", p.DeliveryID).add("message_id", p.MessageID).
		addTime("since", p.Since).addTime("until", p.Until)
	return getList[Attempt](ctx, c, opPath(endpointID, "attempts"), url.Values(q))
}

// Status is the operator's view of herald's health (GET /v1/status, `herald status`).
type Status struct {
	Now                  time.Time               `json:"now"`
	NodeID               string                  `json:"node_id"` // the node that answered
	Nodes                []Node                  `json:"nodes"`
	Backlog              StatusBacklog           `json:"backlog"`
	DeliveriesPerMinute  []StatsBucket           `json:"deliveries_per_minute"` // the last 10 minutes
	FailingEndpoints     []StatusFailingEndpoint `json:"failing_endpoints"`
	FailingEndpointsMore bool                    `json:"failing_endpoints_more"`
	RejectingSources     []StatusRejectingSource `json:"rejecting_sources"`
	RejectingSourcesMore bool                    `json:"rejecting_sources_more"`
	RejectionsSince      time.Time               `json:"rejections_since"`
	OperationalAppID     string                  `json:"operational_app_id,omitempty"`
}

// Node is one herald node sharing the database and its last heartbeat.
type Node struct {
	ID          string    `json:"id"`
	StartedAt   time.Time `json:"started_at"`
	HeartbeatAt time.Time `json:"heartbeat_at"`
	Alive       bool      `json:"alive"`   // its last heartbeat is younger than the node timeout
	Current     bool      `json:"current"` // it is the node that answered
}

// StatusBacklog is the queue of pending deliveries; counts stop at CountLimit.
type StatusBacklog struct {
	Pending     int64      `json:"pending"`
	Due         int64      `json:"due"`
	CountLimit  int64      `json:"count_limit"`
	OldestDueAt *time.Time `json:"oldest_due_at,omitempty"`
}

// StatsBucket counts the attempts that started in one period.
type StatsBucket struct {
	Start     time.Time `json:"start"`
	Succeeded int64     `json:"succeeded"`
	Failed    int64     `json:"failed"`
}

// StatusFailingEndpoint is an endpoint failing continuously.
type StatusFailingEndpoint struct {
	EndpointID   string         `json:"endpoint_id"`
	AppID        string         `json:"app_id"`
	URL          string         `json:"url"`
	Operational  bool           `json:"operational"` // one of the operational endpoints
	FailingSince time.Time      `json:"failing_since"`
	LastAttempt  *StatusAttempt `json:"last_attempt,omitempty"`
}

// StatusAttempt is a failing endpoint's latest attempt.
type StatusAttempt struct {
	ID         string    `json:"id"`
	StartedAt  time.Time `json:"started_at"`
	StatusCode int       `json:"status_code,omitempty"`
	Error      string    `json:"error,omitempty"`
}

// StatusRejectingSource is a source with recent rejections.
type StatusRejectingSource struct {
	SourceID      string           `json:"source_id"`
	AppID         string           `json:"app_id"`
	Rejections    int64            `json:"rejections"`
	LastRejection *StatusRejection `json:"last_rejection,omitempty"`
}

// StatusRejection is a source's latest rejection.
type StatusRejection struct {
	ReceivedAt time.Time `json:"received_at"`
	Status     int       `json:"status"`
	Code       string    `json:"code"`
	Message    string    `json:"message"`
}

// Status returns the operator's view of herald's health (admin keys only).
func (c *Client) Status(ctx context.Context) (*Status, error) {
	return call[Status](ctx, c, request{method: http.MethodGet, path: path("status")})
}
