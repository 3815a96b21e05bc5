package domain

import (
	"fmt"
	"slices"
	"time"
)

// Replay job states.
const (
	ReplayRunning   = "running"   // steps remain; some node works on it
	ReplayDone      = "done"      // every message of the range was looked at
	ReplayCancelled = "cancelled" // stopped on request; what was queued stays queued
	ReplayFailed    = "failed"    // stopped by an error, which the job records
)

// Limits of app-wide replays.
const (
	// MaxRunningReplays is how many replays of one app may run at once.
	MaxRunningReplays = 5
	// ReplayKeep is how long a finished replay stays listed, and MaxKeptReplays how
	// many of an app's at most; the others are removed when the app starts another.
	ReplayKeep     = 30 * 24 * time.Hour
	MaxKeptReplays = 100
)

// ReplayJob sends the finished deliveries of an app's messages again, across all of the
// app's endpoints, in the background: the messages published in [Since, Until) are
// walked in (created_at, id) order a step at a time, and the deliveries of those that
// match (see Matches) are queued for an attempt now. The cursor and the counts are
// stored with each step, in the step's transaction, so a job continues where it was
// after a restart and never queues a delivery twice.
type ReplayJob struct {
	ID    string
	AppID string
	State string
	// Since and Until bound the messages' creation times; a zero Since means from the
	// app's first message. Until is at most the job's creation time.
	Since, Until time.Time
	Statuses     []string // delivery statuses to send again (succeeded, failed); empty: both
	EventTypes   []string // exact names, prefix.* wildcards or *; empty: every type
	// CursorAt and CursorID are the creation time and id of the last message looked at;
	// FirstAt is the creation time of the first (for progress when Since is zero).
	CursorAt time.Time
	CursorID string
	FirstAt  *time.Time
	Scanned  int64 // messages looked at
	Replayed int64 // deliveries queued again
	Error    string
	// LeaseOwner is the node running the job until LeaseUntil.
	LeaseOwner string
	LeaseUntil *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt *time.Time
}

// CheckReplayStatus validates the status of deliveries to send again: succeeded or
// failed; pending deliveries are never replayed (they will be sent anyway).
func CheckReplayStatus(field, status string) error {
	switch status {
	case DeliverySucceeded, DeliveryFailed, DeliveryCancelled:
		return nil
	}
	return fieldErrorf(field, "must be succeeded, failed or cancelled (pending deliveries are never replayed), not %q", status)
}

// CheckReplayStatuses validates a replay's statuses: each once.
func CheckReplayStatuses(statuses []string) error {
	for i, s := range statuses {
		field := fmt.Sprintf("status[%d]", i)
		if err := CheckReplayStatus(field, s); err != nil {
			return err
		}
		if slices.Contains(statuses[:i], s) {
			return fieldErrorf(field, "repeats %q", s)
		}
	}
	return nil
}

// Check validates a new job's filter: its statuses, its event types (as an endpoint's
// event_types) and its range, which must have a start: a replay of every endpoint over
// an app's whole history is rarely what anyone meant (an old since asks for it).
func (j *ReplayJob) Check() error {
	if j.Since.IsZero() {
		return fieldErrorf("since", "is required: the time from which to replay messages, such as 2026-11-26T00:00:00Z (an old time replays the whole history)")
	}
	if err := CheckReplayStatuses(j.Statuses); err != nil {
		return err
	}
	if err := CheckEventFilter(j.EventTypes); err != nil {
		return err
	}
	if !j.Since.IsZero() && !j.Since.Before(j.Until) {
		return fieldErrorf("until", "must be after since (and since before now)")
	}
	return nil
}

// MatchesType reports whether the job replays messages of eventType.
func (j *ReplayJob) MatchesType(eventType string) bool {
	return MatchEventType(j.EventTypes, eventType)
}

// MatchesDelivery reports whether the job sends a delivery of this status again, to an
// endpoint in endpointState: a finished delivery of one of its statuses, to an endpoint
// that is not disabled (a disabled endpoint's deliveries are refused a retry, see
// Endpoint.CheckRetry).
func (j *ReplayJob) MatchesDelivery(status, endpointState string) bool {
	if status == DeliveryPending || endpointState == EndpointDisabled {
		return false
	}
	return len(j.Statuses) == 0 || slices.Contains(j.Statuses, status)
}

// Progress returns the fraction of the job's time range looked at so far, from 0 to 1.
func (j *ReplayJob) Progress() float64 {
	if j.State == ReplayDone {
		return 1
	}
	from := j.Since
	if from.IsZero() {
		if j.FirstAt == nil {
			return 0
		}
		from = *j.FirstAt
	}
	if j.CursorID == "" || !from.Before(j.Until) {
		return 0
	}
	f := float64(j.CursorAt.Sub(from)) / float64(j.Until.Sub(from))
	return min(max(f, 0), 1)
}

// ListenerPresence is what the store knows of a listener endpoint's `herald listen`
// session: when the current one connected and to which node, and when a node last saw
// it (nodes refresh that every minute or so while it stays).
type ListenerPresence struct {
	ConnectedAt *time.Time
	Node        string
	SeenAt      *time.Time
}

// ListenerFresh is how long a listener's presence recorded by another node counts
// without being refreshed: a few of the engine's maintenance intervals (1 minute).
const ListenerFresh = 3 * time.Minute

// Connected reports whether a listener is connected now: the node that holds the session
// (node) knows for sure (attachedHere); any other node trusts the record while it is
// fresh.
func (p ListenerPresence) Connected(now time.Time, node string, attachedHere bool) bool {
	if p.ConnectedAt == nil {
		return attachedHere
	}
	if p.Node == node {
		return attachedHere
	}
	return attachedHere || (p.SeenAt != nil && now.Sub(*p.SeenAt) < ListenerFresh)
}
