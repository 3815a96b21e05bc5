package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

// How app-wide replays run: a node takes a step of each runnable job in turn, each step
// looking at ReplayStepMessages messages in one transaction, and keeps a job leased for
// ReplayLease while it works on it; a node that dies leaves its jobs to the others once
// the lease runs out (its own restart takes them back at once).
const (
	ReplayStepMessages = 500
	ReplayLease        = 30 * time.Second
	replayPoll         = 5 * time.Second // how often a node looks for jobs it was not told of
	replayMaxErrors    = 5               // consecutive failed steps that fail a job
	replayRunnable     = 20              // jobs taken per pass
)

// StartReplay stores a new app-wide replay (see domain.ReplayJob) and wakes the nodes'
// runners; store.ErrConflict when the app runs too many already.
func (s *Service) StartReplay(ctx context.Context, j *domain.ReplayJob) error {
	if err := s.store.CreateReplayJob(ctx, j); err != nil {
		return err
	}
	select {
	case s.replayKick <- struct{}{}:
	default:
	}
	return nil
}

// CancelReplay stops a running replay of appID; what it queued stays queued.
func (s *Service) CancelReplay(ctx context.Context, appID, id string, now time.Time) (*domain.ReplayJob, error) {
	return s.store.CancelReplayJob(ctx, appID, id, now)
}

// RunReplays runs the app-wide replays as node owner until ctx ends: it takes one step
// of each runnable job in turn (so a long job does not hold up the others), wakes the
// engine when a step queued deliveries, and looks for new jobs when StartReplay says so
// or every few seconds. A job whose steps fail replayMaxErrors times in a row fails.
func (s *Service) RunReplays(ctx context.Context, owner string) {
	failures := map[string]int{}
	for ctx.Err() == nil {
		ids, err := s.store.RunnableReplayJobs(ctx, owner, time.Now(), replayRunnable)
		if err != nil && ctx.Err() == nil {
			s.log.Error("replays: find runnable jobs", "err", err)
		}
		worked := false
		for _, id := range ids {
			if ctx.Err() != nil {
				return
			}
			if s.replayStep(ctx, owner, id, failures) {
				worked = true
			}
		}
		if worked {
			continue
		}
		select {
		case <-ctx.Done():
		case <-s.replayKick:
		case <-time.After(replayPoll):
		}
	}
}

// replayStep runs one step of job id and reports whether the job may have more.
func (s *Service) replayStep(ctx context.Context, owner, id string, failures map[string]int) bool {
	now := time.Now().UTC().Truncate(time.Millisecond)
	r, err := s.store.ReplayStep(ctx, id, owner, now, ReplayLease, ReplayStepMessages)
	switch {
	case err == nil:
		delete(failures, id)
		if r.Queued > 0 {
			s.engine.Wake()
		}
		return r.Job.State == domain.ReplayRunning
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound), ctx.Err() != nil:
		return false // another node runs it, or it was deleted with its app, or we stop
	}
	failures[id]++
	s.log.Error("replays: step failed", "replay", id, "failures", failures[id], "err", err)
	if failures[id] < replayMaxErrors {
		return false
	}
	delete(failures, id)
	if err := s.store.FailReplayJob(ctx, id, fmt.Sprintf("stopped after %d failed steps: %v", replayMaxErrors, err), now); err != nil {
		s.log.Error("replays: fail job", "replay", id, "err", err)
	}
	return false
}

// MarkListener records that a `herald listen` session of listener endpoint id connected
// at connectedAt to node, or that it left.
func (s *Service) MarkListener(ctx context.Context, id, node string, connectedAt time.Time, connected bool) error {
	return s.store.MarkListener(ctx, id, node, connectedAt, connected, time.Now().UTC().Truncate(time.Millisecond))
}
