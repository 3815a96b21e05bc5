package store

import (
	"context"
	"time"

	"github.com/heraldhq/herald/internal/domain"
)

// Operational is what herald's operational webhooks (internal/opevents) and the status
// report (GET /v1/status) need of a store. Every Store has it; its reads use indexes and
// bounded lists only, never a count over a whole table.
type Operational interface {
	// OperationalApp returns the reserved app that holds the operational endpoints,
	// creating it from a (ID, Name, CreatedAt, UpdatedAt) when there is none; nodes that
	// start at once end up with the same one. GetApp and ListApps never return it.
	OperationalApp(ctx context.Context, a *domain.App) (*domain.App, error)
	// MarkFailingNotified records that message.attempt.failing was sent for the current
	// failure streak of endpoint id, which began at since; false when it already was (by
	// any node) or the endpoint is gone.
	MarkFailingNotified(ctx context.Context, id string, since time.Time) (bool, error)
	// ClearFailingNotified forgets the notified streak of endpoint id, which ended, and
	// returns when it began; nil when there was none (or another node cleared it first).
	ClearFailingNotified(ctx context.Context, id string) (*time.Time, error)
	// FailingNotified returns up to limit endpoints whose notified streak has not ended.
	FailingNotified(ctx context.Context, limit int) ([]string, error)

	// Backlog counts pending deliveries, and those due at now (not leased, not parked),
	// each up to limit, and returns when the earliest due one fell due.
	Backlog(ctx context.Context, now time.Time, limit int) (*Backlog, error)
	// FailingEndpoints returns up to limit enabled endpoints that are failing, the one
	// failing longest first, each with its latest attempt.
	FailingEndpoints(ctx context.Context, limit int) ([]*FailingEndpoint, error)
	// RecentRejections counts the rejections recorded since `since` by source, up to
	// limit sources, the most rejected first, each with its latest rejection.
	RecentRejections(ctx context.Context, since time.Time, limit int) ([]*SourceRejections, error)
}

// Backlog is the queue of pending deliveries, as Operational.Backlog counts it.
type Backlog struct {
	Pending int64 // pending deliveries, up to the limit asked
	Due     int64 // those due now, up to the limit asked
	// OldestDueAt is when the earliest due delivery fell due; nil when none is due.
	OldestDueAt *time.Time
}

// FailingEndpoint is an endpoint that is failing, with its latest attempt (nil when
// retention purged it).
type FailingEndpoint struct {
	Endpoint    *domain.Endpoint
	LastAttempt *domain.Attempt
}

// SourceRejections counts a source's recent rejections.
type SourceRejections struct {
	SourceID string
	AppID    string
	Count    int64
	Last     *domain.Rejection
}
