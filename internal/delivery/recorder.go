package delivery

import (
	"errors"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

// result is a finished attempt on its way to the store.
type result struct {
	r    *store.AttemptResult
	fifo bool // the endpoint's next delivery waits for this one to be recorded
}

// completeLinger is how long the completer waits to gather more results into one commit;
// results of FIFO endpoints are committed at once.
const completeLinger = 20 * time.Millisecond

// completeLoop records finished attempts in batches.
func (e *Engine) completeLoop() {
	defer e.completer.Done()
	batch := make([]*store.AttemptResult, 0, 512)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for first := range e.results {
		batch = append(batch[:0], first.r)
		urgent := first.fifo
		linger.Reset(e.completeLinger())
	fill:
		for len(batch) < cap(batch) {
			if urgent {
				select { // take what is already here, but do not wait
				case res, ok := <-e.results:
					if !ok {
						break fill
					}
					batch = append(batch, res.r)
					continue
				default:
					break fill
				}
			}
			select {
			case res, ok := <-e.results:
				if !ok {
					break fill
				}
				batch = append(batch, res.r)
				urgent = urgent || res.fifo
			case <-linger.C:
				break fill
			}
		}
		linger.Stop()
		e.record(batch)
	}
}

// record commits a batch of results, retrying on storage errors: an attempt that was made
// must not be forgotten while this process lives (if it dies, the lease runs out and the
// delivery is attempted again), unless Stop gives up waiting for the store.
func (e *Engine) record(batch []*store.AttemptResult) {
	ctx := e.recordCtx
	for wait := 100 * time.Millisecond; ; wait = min(wait*2, 10*time.Second) {
		err := e.store.Complete(ctx, batch)
		if err == nil {
			break
		}
		if errors.Is(err, store.ErrClosed) {
			e.log.Error("record attempts: store closed", "attempts", len(batch))
			return
		}
		if ctx.Err() != nil {
			e.log.Error("record attempts: stopped before the store answered; they go again after their leases are released",
				"attempts", len(batch), "err", err)
			return
		}
		e.log.Error("record attempts", "attempts", len(batch), "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	wakeAt := e.claimWake.Load()
	e.mu.Lock()
	wake := false
	for _, r := range batch {
		if j := e.held[r.Attempt.DeliveryID]; j != nil && j.done {
			e.forgetLocked(r.Attempt.DeliveryID) // not a fresh claim of the same delivery (see job.done)
		}
		if r.NextAttemptAt != nil && (wakeAt == 0 || r.NextAttemptAt.UnixNano() < wakeAt) {
			wake = true // a retry falls due before the claim loop would look again
		}
		if ep := e.endpoints[r.Attempt.EndpointID]; ep != nil && ep.cfg != nil && ep.cfg.FIFO {
			wake = true // the next delivery in line may go now
		}
	}
	e.m.Held.Set(float64(len(e.held)))
	held := len(e.held)
	var recorded []RecordedAttempt
	if e.cfg.Observer != nil {
		recorded = e.recordedLocked(batch)
	}
	e.mu.Unlock()
	if recorded != nil {
		e.cfg.Observer.AttemptsRecorded(recorded)
	}
	if wake || (e.claimStarved.Load() && held < e.maxHeld()/2) {
		e.signal()
	}
}
