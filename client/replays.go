package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// States of a ReplayJob.
const (
	ReplayRunning   = "running"
	ReplayDone      = "done"
	ReplayCancelled = "cancelled"
	ReplayFailed    = "failed"
)

// AppReplayInput is the body of ReplayApp; Since is required, the rest optional.
type AppReplayInput struct {
	Since      time.Time `json:"since,omitzero"`        // messages published at or after Since (an old time: the whole history)
	Until      time.Time `json:"until,omitzero"`        // messages published before Until (at most now)
	Status     []string  `json:"status,omitempty"`      // DeliveryFailed, DeliverySucceeded; empty replays both
	EventTypes []string  `json:"event_types,omitempty"` // exact names, prefix.* or *; empty replays every type
}

// ReplayJob is an app-wide replay running on the server.
type ReplayJob struct {
	ID              string     `json:"id"`
	AppID           string     `json:"app_id"`
	State           string     `json:"state"` // ReplayRunning, ReplayDone, ReplayCancelled or ReplayFailed
	Since           *time.Time `json:"since,omitempty"`
	Until           time.Time  `json:"until"`
	Status          []string   `json:"status"`
	EventTypes      []string   `json:"event_types"`
	Done            int64      `json:"done"`             // deliveries queued again so far
	MessagesScanned int64      `json:"messages_scanned"` // messages of the range looked at so far
	Progress        float64    `json:"progress"`         // the fraction of the time range looked at, 0 to 1
	Error           string     `json:"error,omitempty"`  // why a failed job stopped
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	FinishedAt      *time.Time `json:"finished_at,omitempty"`
}

// ReplayApp starts a background job that queues again the app's finished deliveries of
// messages matching in, across all of its endpoints; follow it with GetReplay.
func (c *Client) ReplayApp(ctx context.Context, app string, in AppReplayInput) (*ReplayJob, error) {
	if !in.Since.IsZero() {
		in.Since = in.Since.UTC()
	}
	if !in.Until.IsZero() {
		in.Until = in.Until.UTC()
	}
	return call[ReplayJob](ctx, c, request{method: http.MethodPost, path: appPath(app, "replay"), body: in})
}

// GetReplay returns an app-wide replay and its progress.
func (c *Client) GetReplay(ctx context.Context, app, id string) (*ReplayJob, error) {
	return call[ReplayJob](ctx, c, request{method: http.MethodGet, path: appPath(app, "replays", id)})
}

// ListReplays returns one page of app's replays, newest first, and the next page's cursor.
func (c *Client) ListReplays(ctx context.Context, app string, p ListParams) ([]*ReplayJob, string, error) {
	return getList[ReplayJob](ctx, c, appPath(app, "replays"), url.Values(pageQuery(p)))
}

// CancelReplay stops a running replay; what it queued stays queued.
func (c *Client) CancelReplay(ctx context.Context, app, id string) (*ReplayJob, error) {
	return call[ReplayJob](ctx, c, request{method: http.MethodPost, path: appPath(app, "replays", id, "cancel")})
}
