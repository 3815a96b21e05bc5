package delivery

import (
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

// Observer hears what the engine did that an operator may want to know of, after it is
// committed: herald's operational webhooks (internal/opevents) are one. The engine calls
// it from its own goroutines, in the order things were recorded; its methods must return
// at once (queue the work, never wait for I/O) and must not call back into the engine
// before returning, so that an observer can never hold up or fail a delivery.
type Observer interface {
	// AttemptsRecorded is told of attempts the store has just recorded, in the order
	// they were recorded. The slice and what it points to are the observer's to keep
	// but not to change.
	AttemptsRecorded(attempts []RecordedAttempt)
	// EndpointsDisabled is told of endpoints that failed continuously since their
	// FailingSince and were just disabled for it, with reason (their disabled_reason).
	EndpointsDisabled(endpoints []*domain.Endpoint, reason string)
}

// RecordedAttempt is one attempt the store recorded, with what follows from it.
type RecordedAttempt struct {
	*store.AttemptResult
	// Listener marks an attempt of a `herald listen` session's endpoint.
	Listener bool
}

// recordedLocked returns the observer's view of a committed batch. e.mu must be held.
func (e *Engine) recordedLocked(batch []*store.AttemptResult) []RecordedAttempt {
	out := make([]RecordedAttempt, len(batch))
	for i, r := range batch {
		ep := e.endpoints[r.Attempt.EndpointID]
		out[i] = RecordedAttempt{AttemptResult: r, Listener: ep != nil && ep.cfg != nil && ep.cfg.IsListener()}
	}
	return out
}
