package delivery

import (
	"context"
	"time"
)

// backlogLimit bounds how many due deliveries one sample counts, so that a sample reads
// a bounded part of the due index however far behind the queue is; the age of the
// longest-waiting delivery still says how far.
const backlogLimit = 100000

// backlogLoop samples the backlog gauges every BacklogInterval, on every node: the
// figures are the whole store's, so every node reports the same.
func (e *Engine) backlogLoop(ctx context.Context) {
	defer e.loops.Done()
	e.sampleBacklog(ctx)
	every(ctx, e.cfg.BacklogInterval, e.sampleBacklog)
}

// sampleBacklog sets the backlog gauges from one look at the store.
func (e *Engine) sampleBacklog(ctx context.Context) {
	now := time.Now()
	b, err := e.store.Backlog(ctx, now, backlogLimit)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("sample the backlog", "err", err)
		}
		return
	}
	e.m.Backlog.Set(float64(b.Due))
	age := 0.0
	if b.OldestDueAt != nil {
		age = max(0, now.Sub(*b.OldestDueAt).Seconds())
	}
	e.m.BacklogAge.Set(age)
}
