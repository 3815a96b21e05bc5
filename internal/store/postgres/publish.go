package postgres

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlstore"
)

// Publishing is group-committed: Publish queues the message for one of Options.Writers
// writer goroutines, which takes every publish waiting (up to MaxBatch) and writes them
// all in one pipelined transaction (see pipe), in two round trips however many there
// are: first the idempotency keys and the messages in one INSERT each, pipelined with
// BEGIN, the read of their apps' endpoints (among which
// domain.Subscription.AcceptsMessage picks each message's), the originals of repeated
// keys and, for leases that must respect limits across nodes, the endpoints' locks and
// slots; then the deliveries in one INSERT, pipelined with the slots they take and
// COMMIT. Each commit waits for its WAL flush, so a publish returns only once it is
// durable.

// publishOp is one Publish waiting for its batch.
type publishOp struct {
	in   *store.PublishInput
	ctx  context.Context
	done chan struct{}
	res  *store.PublishResult
	err  error

	// Set while the batch runs.
	owned   bool // the idempotency key was new or expired: this op publishes
	targets []target
}

// target is an endpoint a message fans out to.
type target struct {
	id, state string
	fifo      bool
	maxConc   int
	rateLimit float64
	sub       domain.Subscription
}

// reset clears what a previous run of the op's batch left.
func (op *publishOp) reset() {
	op.res, op.err, op.owned, op.targets = nil, nil, false, nil
}

// Publish implements store.Store: the message, its idempotency key and one delivery per
// subscribed endpoint are written in one transaction, shared with concurrent publishes.
func (s *Store) Publish(ctx context.Context, in *store.PublishInput) (*store.PublishResult, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	op := &publishOp{in: in, ctx: ctx, done: make(chan struct{})}
	select {
	case s.ops <- op:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// Once queued, the op runs promptly; wait for the commit even if ctx ends, so that a
	// caller never mistakes a committed publish for a failed one.
	<-op.done
	return op.res, op.err
}

func (s *Store) writeLoop() {
	defer s.writers.Done()
	var carry []*publishOp
	for {
		batch := carry
		carry = nil
		if len(batch) == 0 {
			select {
			case op := <-s.ops:
				batch = append(batch, op)
			case <-s.quit:
				return // Close waits for every Publish to return before it closes quit
			}
		}
		batch = sqlstore.FillBatch(batch, s.ops, s.opts.MaxBatch)
		batch, carry = splitRepeatedKeys(batch)
		s.commitPublishes(batch)
	}
}

// splitRepeatedKeys keeps the first publish of each idempotency key in the batch and
// defers the others to the next one, where they find the first one's key committed.
func splitRepeatedKeys(batch []*publishOp) (now, later []*publishOp) {
	type key struct{ app, key string }
	seen := map[key]bool{}
	now = batch[:0:0]
	for _, op := range batch {
		m := op.in.Message
		if m.IdempotencyKey != "" {
			k := key{m.AppID, m.IdempotencyKey}
			if seen[k] {
				later = append(later, op)
				continue
			}
			seen[k] = true
		}
		now = append(now, op)
	}
	return now, later
}

// commitPublishes writes a batch in one transaction. If that fails, it writes each
// publish in a transaction of its own, so that one bad publish does not fail the others.
func (s *Store) commitPublishes(batch []*publishOp) {
	live := batch[:0:0]
	for _, op := range batch {
		if err := op.ctx.Err(); err != nil {
			op.err = err
			close(op.done)
			continue
		}
		live = append(live, op)
	}
	if len(live) == 0 {
		return
	}
	ctx := context.Background() // one caller giving up must not abort the others' transaction
	err := s.runPublishes(ctx, live)
	if err != nil && len(live) > 1 {
		s.log.Debug("postgres: a shared publish transaction failed; retrying each publish alone", "publishes", len(live), "err", err)
		for _, op := range live {
			if err := s.runPublishes(ctx, []*publishOp{op}); err != nil {
				op.res, op.err = nil, publishError(op, err)
			}
		}
	} else if err != nil {
		live[0].res, live[0].err = nil, publishError(live[0], err)
	}
	for _, op := range live {
		if op.err != nil {
			op.res = nil
		}
		close(op.done)
	}
}

func publishError(op *publishOp, err error) error {
	if isForeignKey(err) {
		return store.NotFound("app", op.in.Message.AppID) // deleted while publishing
	}
	return fmt.Errorf("postgres: publish: %w", err)
}

// runPublishes runs one transaction for ops, again if PostgreSQL aborted it for a deadlock.
func (s *Store) runPublishes(ctx context.Context, ops []*publishOp) error {
	for attempt := 1; ; attempt++ {
		for _, op := range ops {
			op.reset()
		}
		notify, err := s.tryPublishes(ctx, ops)
		if err == nil {
			if notify {
				s.requestNotify()
			}
			return nil
		}
		if attempt == 4 || !retryable(err) {
			return err
		}
	}
}
