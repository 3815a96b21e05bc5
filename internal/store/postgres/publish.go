package postgres

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
	"github.com/jackc/pgx/v5"
)

// Publishing is group-committed: Publish queues the message for one of Options.Writers
// writer goroutines, which takes every publish waiting (up to MaxBatch) and writes them
// all in one transaction, in a few round trips however many there are: first the
// idempotency keys, then the messages in one INSERT (which also returns the endpoints
// each message fans out to), then, for leases that must respect limits across nodes,
// the endpoints' locks and slots, and last the deliveries in one INSERT. Each commit
// waits for its WAL flush, so a publish returns only once it is durable.

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
	fill:
		for len(batch) < s.opts.MaxBatch {
			select {
			case op := <-s.ops:
				batch = append(batch, op)
			default:
				break fill
			}
		}
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

// The statements of a publish batch.
const (
	// claimKeysSQL takes the idempotency keys that are new or older than a TTL ($5, in
	// microseconds), for apps that exist, and returns those it took.
	claimKeysSQL = `INSERT INTO idempotency_keys (app_id, key, message_id, created_at)
		SELECT u.app_id, u.key, u.message_id, u.created_at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) WITH ORDINALITY AS u(app_id, key, message_id, created_at, ord)
		WHERE EXISTS (SELECT 1 FROM apps a WHERE a.id = u.app_id)
		ORDER BY u.ord
		ON CONFLICT (app_id, key) DO UPDATE SET message_id = EXCLUDED.message_id, created_at = EXCLUDED.created_at
		WHERE idempotency_keys.created_at <= EXCLUDED.created_at - make_interval(secs => $5::bigint / 1e6)
		RETURNING app_id, key`
	// originalSQL finds the message a live idempotency key points at, and whether the app exists.
	originalSQL = `SELECT a.ok, m.id, m.app_id, m.type, m.payload, COALESCE(m.idempotency_key, ''), COALESCE(m.source_id, ''), m.headers, m.created_at
		FROM (SELECT EXISTS (SELECT 1 FROM apps WHERE id = $1) AS ok) a
		LEFT JOIN idempotency_keys k ON k.app_id = $1 AND k.key = $2
		LEFT JOIN messages m ON m.id = k.message_id`
	// insertMessagesSQL stores the messages whose apps exist and returns, for each, the
	// endpoints it goes to (one row of NULLs when none): those that take every source's
	// messages or this one's, and whose event-type filter matches as
	// domain.MatchEventType does: exact, "*", or "prefix.*" matching any longer type that
	// starts with "prefix.". A message missing from the answer has no app.
	insertMessagesSQL = `WITH m AS (
			INSERT INTO messages (id, app_id, type, payload, idempotency_key, source_id, headers, created_at)
			SELECT u.id, u.app_id, u.type, u.payload, u.key, u.source, u.headers::jsonb, u.created
			FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::text[], $6::timestamptz[], $7::text[], $8::text[])
				WITH ORDINALITY AS u(id, app_id, type, payload, key, created, source, headers, ord)
			WHERE EXISTS (SELECT 1 FROM apps a WHERE a.id = u.app_id)
			ORDER BY u.ord
			RETURNING id, app_id, type, COALESCE(source_id, '') AS source_id)
		SELECT m.id, e.id, e.state, e.fifo, e.max_concurrency, e.rate_limit
		FROM m LEFT JOIN endpoints e ON e.app_id = m.app_id AND e.state <> 'disabled'
			AND (e.source_id = '' OR e.source_id = m.source_id) AND (
			cardinality(e.event_types) = 0 OR EXISTS (SELECT 1 FROM unnest(e.event_types) f
				WHERE f = m.type OR f = '*' OR (f LIKE '%.*' AND starts_with(m.type, left(f, -1)) AND m.type <> left(f, -1))))
		ORDER BY m.id, e.id`
	// lockEndpointsSQL takes the row locks that guard an endpoint's slots (see Claim), for
	// endpoints that seem to have a free slot: the slots are read again once locked.
	// Endpoints another transaction holds are skipped, not waited for.
	lockEndpointsSQL = `SELECT e.id FROM endpoints e WHERE e.id = ANY($1)
		AND ` + activeSlotsSQL + ` < CASE WHEN e.max_concurrency > 0 THEN e.max_concurrency ELSE $3 END
		ORDER BY e.id FOR NO KEY UPDATE SKIP LOCKED`
	insertDeliveriesSQL = `INSERT INTO deliveries (id, app_id, message_id, endpoint_id, seq, status, next_attempt_at, lease_owner, created_at, updated_at)
		SELECT u.id, u.app_id, u.message_id, u.endpoint_id, nextval('delivery_seq'), 'pending', u.next, u.owner, u.created, u.created
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::timestamptz[])
			WITH ORDINALITY AS u(id, app_id, message_id, endpoint_id, next, owner, created, ord)
		ORDER BY u.ord
		RETURNING id, seq`
)

// tryPublishes writes ops in one transaction and reports whether other nodes should be
// told that claimable deliveries were queued. Per-publish outcomes (a missing app, a
// repeated idempotency key) go to the ops; an error means the transaction failed.
func (s *Store) tryPublishes(ctx context.Context, ops []*publishOp) (bool, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	// 1. Idempotency keys, in key order so that concurrent batches lock them in one
	// order: one statement per TTL (in practice one or two per batch).
	var keyed []*publishOp
	for _, op := range ops {
		if op.in.Message.IdempotencyKey == "" {
			op.owned = true
		} else {
			keyed = append(keyed, op)
		}
	}
	if len(keyed) > 0 {
		sort.Slice(keyed, func(i, j int) bool {
			a, b := keyed[i].in.Message, keyed[j].in.Message
			return a.AppID < b.AppID || a.AppID == b.AppID && a.IdempotencyKey < b.IdempotencyKey
		})
		type appKey struct{ app, key string }
		byTTL := map[time.Duration][]*publishOp{}
		var ttls []time.Duration
		for _, op := range keyed {
			if _, ok := byTTL[op.in.IdempotencyTTL]; !ok {
				ttls = append(ttls, op.in.IdempotencyTTL)
			}
			byTTL[op.in.IdempotencyTTL] = append(byTTL[op.in.IdempotencyTTL], op)
		}
		owned := map[appKey]bool{}
		for _, ttl := range ttls {
			group := byTTL[ttl]
			apps, keys, msgs := make([]string, len(group)), make([]string, len(group)), make([]string, len(group))
			created := make([]time.Time, len(group))
			for i, op := range group {
				m := op.in.Message
				apps[i], keys[i], msgs[i], created[i] = m.AppID, m.IdempotencyKey, m.ID, m.CreatedAt
			}
			rows, err := tx.Query(ctx, claimKeysSQL, apps, keys, msgs, created, ttl.Microseconds())
			_, err = collect(rows, err, func(row scanner) (struct{}, error) {
				var k appKey
				err := row.Scan(&k.app, &k.key)
				owned[k] = true
				return struct{}{}, err
			})
			if err != nil {
				return false, fmt.Errorf("idempotency keys: %w", err)
			}
		}
		for _, op := range keyed {
			op.owned = owned[appKey{op.in.Message.AppID, op.in.Message.IdempotencyKey}]
		}
	}

	// 2. The messages in one statement, which also returns the endpoints each fans out
	// to; and the original message of each repeated key.
	b := &pgx.Batch{}
	var (
		mIDs, mApps, mTypes, mHeaders []string
		mKeys, mSources               []*string
		mPayloads                     [][]byte
		mCreated                      []time.Time
		repeated                      []*publishOp
	)
	for _, op := range ops {
		m := op.in.Message
		if !op.owned {
			repeated = append(repeated, op)
			continue
		}
		mIDs, mApps, mTypes, mPayloads = append(mIDs, m.ID), append(mApps, m.AppID), append(mTypes, m.Type), append(mPayloads, []byte(m.Payload))
		mKeys, mSources, mHeaders = append(mKeys, nullString(m.IdempotencyKey)), append(mSources, nullString(m.SourceID)), append(mHeaders, jsonText(nonNilMap(m.Headers)))
		mCreated = append(mCreated, m.CreatedAt)
	}
	if len(mIDs) > 0 {
		b.Queue(insertMessagesSQL, mIDs, mApps, mTypes, mPayloads, mKeys, mCreated, mSources, mHeaders)
	}
	for _, op := range repeated {
		b.Queue(originalSQL, op.in.Message.AppID, op.in.Message.IdempotencyKey)
	}
	br := tx.SendBatch(ctx, b)
	err = func() error {
		if len(mIDs) > 0 {
			stored := map[string][]target{} // message id: its targets
			rows, err := br.Query()
			_, err = collect(rows, err, func(row scanner) (struct{}, error) {
				var msg string
				var id, state *string
				var fifo *bool
				var maxConc *int
				var rate *float64
				if err := row.Scan(&msg, &id, &state, &fifo, &maxConc, &rate); err != nil {
					return struct{}{}, err
				}
				ts := stored[msg]
				if id != nil {
					ts = append(ts, target{id: *id, state: *state, fifo: *fifo, maxConc: *maxConc, rateLimit: *rate})
				}
				stored[msg] = ts
				return struct{}{}, nil
			})
			if err != nil {
				return fmt.Errorf("insert messages: %w", err)
			}
			for _, op := range ops {
				if !op.owned {
					continue
				}
				if ts, ok := stored[op.in.Message.ID]; ok {
					op.targets = ts
				} else {
					op.err = store.NotFound("app", op.in.Message.AppID)
				}
			}
		}
		for _, op := range repeated {
			if err := readOriginal(br, op); err != nil {
				return err
			}
		}
		return nil
	}()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, err
	}

	// 3. Leases that must respect limits across nodes: lock the endpoints, then read
	// their slots (a later statement, so its snapshot has every slot taken before).
	var candidates []string
	var asOf time.Time // leases unexpired at the earliest publish time count (the safe side)
	defaultLimit := 0  // the default concurrency of the publishes that lease (one engine's, in practice)
	seen := map[string]bool{}
	for _, op := range ops {
		if op.res != nil || op.err != nil || op.in.LeaseOwner == "" || op.in.EndpointConcurrency <= 0 {
			continue
		}
		if at := op.in.Message.CreatedAt; asOf.IsZero() || at.Before(asOf) {
			asOf = at
		}
		defaultLimit = max(defaultLimit, op.in.EndpointConcurrency)
		for _, t := range op.targets {
			if t.state == domain.EndpointEnabled && !t.fifo && t.rateLimit == 0 && !seen[t.id] {
				seen[t.id] = true
				candidates = append(candidates, t.id)
			}
		}
	}
	locked := map[string]bool{}
	slots := map[string]*slotState{}
	if len(candidates) > 0 {
		b := &pgx.Batch{}
		b.Queue(lockEndpointsSQL, candidates, asOf, defaultLimit)
		b.Queue(slotsSQL, candidates, asOf)
		br := tx.SendBatch(ctx, b)
		rows, err := br.Query()
		_, err = collect(rows, err, func(row scanner) (struct{}, error) {
			var id string
			err := row.Scan(&id)
			locked[id] = true
			return struct{}{}, err
		})
		if err == nil {
			rows, err = br.Query()
			slots, err = readSlots(rows, err)
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return false, fmt.Errorf("lease limits: %w", err)
		}
	}
	free := map[string][]int32{} // the free slots of each locked endpoint, taken in turn
	for id := range locked {
		free[id] = nil
	}

	// 4. The deliveries, in one statement; seq follows the order of the batch.
	var (
		dIDs, dApps, dMsgs, dEps, dOwners []string
		dNext, dCreated                   []time.Time
		dels                              []*domain.Delivery
		notify                            bool
		slotEps, slotDels                 []string
		slotNums                          []int32
		slotUntil                         []time.Time
	)
	for _, op := range ops {
		if op.res != nil || op.err != nil {
			continue
		}
		m, in := op.in.Message, op.in
		op.res = &store.PublishResult{Message: m}
		for _, t := range op.targets {
			next := m.CreatedAt
			d := &domain.Delivery{
				ID: ids.New("dlv"), AppID: m.AppID, MessageID: m.ID, EndpointID: t.id, Status: domain.DeliveryPending,
				NextAttemptAt: &next, CreatedAt: m.CreatedAt, UpdatedAt: m.CreatedAt,
			}
			lease := in.LeaseOwner != "" && t.state == domain.EndpointEnabled && !t.fifo
			if lease && in.EndpointConcurrency > 0 {
				limit := t.maxConc
				if limit <= 0 {
					limit = in.EndpointConcurrency
				}
				f, ok := free[t.id]
				if ok && f == nil {
					f = slots[t.id].free(limit, limit)
					if len(f) == 0 {
						f = []int32{} // none left: do not look again
					}
				}
				lease = t.rateLimit == 0 && ok && len(f) > 0
				if lease {
					slotEps, slotNums, slotDels = append(slotEps, t.id), append(slotNums, f[0]), append(slotDels, d.ID)
					slotUntil = append(slotUntil, in.LeaseUntil)
					f = f[1:]
				}
				if ok {
					free[t.id] = f
				}
			}
			due, owner := m.CreatedAt, ""
			if lease {
				due, owner = in.LeaseUntil, in.LeaseOwner
				op.res.Leased = append(op.res.Leased, d)
			} else if t.state == domain.EndpointEnabled {
				notify = true // claimable now, by any node
			}
			op.res.Deliveries = append(op.res.Deliveries, d)
			dels = append(dels, d)
			dIDs, dApps, dMsgs, dEps = append(dIDs, d.ID), append(dApps, d.AppID), append(dMsgs, d.MessageID), append(dEps, d.EndpointID)
			dNext, dOwners, dCreated = append(dNext, due), append(dOwners, owner), append(dCreated, m.CreatedAt)
		}
	}
	if len(dels) > 0 {
		owners := make([]*string, len(dOwners))
		for i := range dOwners {
			owners[i] = nullString(dOwners[i])
		}
		b := &pgx.Batch{}
		b.Queue(insertDeliveriesSQL, dIDs, dApps, dMsgs, dEps, dNext, owners, dCreated)
		if len(slotEps) > 0 {
			b.Queue(takeSlotsSQL, slotEps, slotNums, slotDels, slotUntil)
		}
		br := tx.SendBatch(ctx, b)
		seqs := make(map[string]int64, len(dels))
		rows, err := br.Query()
		_, err = collect(rows, err, func(row scanner) (struct{}, error) {
			var id string
			var seq int64
			err := row.Scan(&id, &seq)
			seqs[id] = seq
			return struct{}{}, err
		})
		if err == nil && len(slotEps) > 0 {
			_, err = br.Exec()
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return false, fmt.Errorf("insert deliveries: %w", err)
		}
		for _, d := range dels {
			d.Seq = seqs[d.ID]
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return false, err
	}
	return notify, nil
}

// readOriginal reads originalSQL's answer for op: the message its key already stands for.
func readOriginal(br pgx.BatchResults, op *publishOp) error {
	var appOK bool
	var id, appID, typ, key, source *string
	var payload []byte
	var headers map[string]string
	var created *time.Time
	if err := br.QueryRow().Scan(&appOK, &id, &appID, &typ, &payload, &key, &source, &headers, &created); err != nil {
		return fmt.Errorf("idempotency key: %w", err)
	}
	m := op.in.Message
	switch {
	case !appOK:
		op.err = store.NotFound("app", m.AppID)
	case id == nil:
		// Cannot happen: keys go with their messages (Purge and DeleteApp remove both).
		op.err = fmt.Errorf("idempotency key %q: its message is gone: %w", m.IdempotencyKey, store.ErrConflict)
	default:
		orig := &domain.Message{ID: *id, AppID: *appID, Type: *typ, IdempotencyKey: *key, SourceID: *source, CreatedAt: created.UTC()}
		if len(headers) > 0 {
			orig.Headers = headers
		}
		if payload != nil {
			orig.Payload = payload
		}
		op.res = &store.PublishResult{Message: orig, Duplicate: true}
	}
	return nil
}
