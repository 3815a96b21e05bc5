package postgres

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/filter"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlstore"
	"github.com/jackc/pgx/v5"
)

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
	// originalsSQL finds, for each publish with a key ($1 apps, $2 keys, $3 message ids)
	// that it did not take, its ordinal, whether its app exists and the message the key
	// points at.
	originalsSQL = `SELECT u.ord, EXISTS (SELECT 1 FROM apps a WHERE a.id = u.app_id), m.id, m.app_id, m.type, m.payload,
			COALESCE(m.idempotency_key, ''), COALESCE(m.source_id, ''), m.headers, m.created_at,
			COALESCE(m.trace_parent, ''), COALESCE(m.trace_state, '')
		FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS u(app_id, key, message_id, ord)
		LEFT JOIN idempotency_keys k ON k.app_id = u.app_id AND k.key = u.key
		LEFT JOIN messages m ON m.id = k.message_id
		WHERE k.message_id IS DISTINCT FROM u.message_id`
	// insertMessagesSQL stores the messages whose apps exist and that have no idempotency
	// key or took theirs (claimKeysSQL, earlier in the transaction), and returns their
	// ids: a message missing from the answer has no app, or repeats a key.
	insertMessagesSQL = `INSERT INTO messages (id, app_id, type, payload, idempotency_key, source_id, headers, created_at, trace_parent, trace_state)
		SELECT u.id, u.app_id, u.type, u.payload, u.key, u.source, u.headers::jsonb, u.created, u.trace_parent, u.trace_state
		FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::text[], $6::timestamptz[], $7::text[], $8::text[], $9::text[], $10::text[])
			WITH ORDINALITY AS u(id, app_id, type, payload, key, created, source, headers, trace_parent, trace_state, ord)
		WHERE EXISTS (SELECT 1 FROM apps a WHERE a.id = u.app_id)
			AND (u.key IS NULL OR EXISTS (SELECT 1 FROM idempotency_keys k WHERE k.app_id = u.app_id AND k.key = u.key AND k.message_id = u.id))
		ORDER BY u.ord
		RETURNING id`
	// candidatesSQL reads the endpoints of apps that can receive messages, with what
	// they subscribe to; sent in the same round trip as insertMessagesSQL.
	candidatesSQL = `SELECT app_id, id, state, fifo, max_concurrency, rate_limit, event_types, source_id, filter
		FROM endpoints WHERE app_id = ANY($1) AND state <> 'disabled' ORDER BY id`
	// lockEndpointsSQL takes the row locks that guard endpoints' slots (see Claim), for
	// the endpoints of apps $1 that a publish may lease to (enabled, neither FIFO nor rate
	// limited) and that seem to have a free slot, and notes them (see lockedSQL): their
	// slots are read again once locked, by lockedSlotsSQL in the same round trip. Endpoints
	// another transaction holds are skipped, not waited for. The locks cover every such
	// endpoint of the apps, not only those the messages fan out to, which the subscription
	// rule decides once this round trip has answered.
	lockEndpointsSQL = `WITH locked AS MATERIALIZED (
			SELECT e.id FROM endpoints e WHERE e.app_id = ANY($1) AND e.state = 'enabled' AND NOT e.fifo AND e.rate_limit = 0
				AND ` + activeSlotsSQL + ` < CASE WHEN e.max_concurrency > 0 THEN e.max_concurrency ELSE $3 END
			ORDER BY e.id FOR NO KEY UPDATE SKIP LOCKED)
		SELECT l.id FROM locked l, (` + noteLockedSQL + `) noted`
	insertDeliveriesSQL = `INSERT INTO deliveries (id, app_id, message_id, endpoint_id, seq, status, next_attempt_at, lease_owner, created_at, updated_at)
		SELECT u.id, u.app_id, u.message_id, u.endpoint_id, nextval('delivery_seq'), 'pending', u.next, u.owner, u.created, u.created
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::timestamptz[])
			WITH ORDINALITY AS u(id, app_id, message_id, endpoint_id, next, owner, created, ord)
		ORDER BY u.ord
		RETURNING id, seq`
)

// tryPublishes writes ops in one transaction and reports whether other nodes should be
// told that claimable deliveries were queued. Per-publish outcomes (a missing app, a
// repeated idempotency key) go to the ops; an error means the transaction failed. It
// takes two round trips: the keys and the messages, with what the fan-out and leases
// need to know; the deliveries, with the COMMIT.
func (s *Store) tryPublishes(ctx context.Context, ops []*publishOp) (bool, error) {
	notify := false
	err := s.tryPipe(ctx, false, func(p *pipe) error {
		free, err := insertMessages(ctx, p, ops, s.Filter)
		if err != nil {
			return err
		}
		notify, err = insertDeliveries(ctx, p, ops, free)
		return err
	})
	return notify, err
}

// keyClaim is the statements queueKeys queued, for the keys of ops.
type keyClaim struct {
	keyed      []*publishOp // the ops with a key, in key order
	statements int
}

// queueKeys queues the statements that take the batch's idempotency keys, in key order so
// that concurrent batches lock them in one order: one statement per TTL (in practice one
// or two per batch). The ops without a key publish; readKeys tells which others do.
func queueKeys(b *pgx.Batch, ops []*publishOp) keyClaim {
	var c keyClaim
	for _, op := range ops {
		if op.in.Message.IdempotencyKey == "" {
			op.owned = true
		} else {
			c.keyed = append(c.keyed, op)
		}
	}
	sort.Slice(c.keyed, func(i, j int) bool {
		a, b := c.keyed[i].in.Message, c.keyed[j].in.Message
		return a.AppID < b.AppID || a.AppID == b.AppID && a.IdempotencyKey < b.IdempotencyKey
	})
	byTTL := map[time.Duration][]*publishOp{}
	var ttls []time.Duration
	for _, op := range c.keyed {
		if _, ok := byTTL[op.in.IdempotencyTTL]; !ok {
			ttls = append(ttls, op.in.IdempotencyTTL)
		}
		byTTL[op.in.IdempotencyTTL] = append(byTTL[op.in.IdempotencyTTL], op)
	}
	for _, ttl := range ttls {
		group := byTTL[ttl]
		apps, keys, msgs := make([]string, len(group)), make([]string, len(group)), make([]string, len(group))
		created := make([]time.Time, len(group))
		for i, op := range group {
			m := op.in.Message
			apps[i], keys[i], msgs[i], created[i] = m.AppID, m.IdempotencyKey, m.ID, m.CreatedAt
		}
		b.Queue(claimKeysSQL, apps, keys, msgs, created, ttl.Microseconds())
	}
	c.statements = len(ttls)
	return c
}

// readKeys reads the answers of the statements queueKeys queued, and marks the ops that
// took their key: they publish.
func (c keyClaim) readKeys(br pgx.BatchResults) error {
	type appKey struct{ app, key string }
	owned := map[appKey]bool{}
	for range c.statements {
		rows, err := br.Query()
		if _, err = sqlstore.Collect(rows, err, func(row sqlstore.Row) (struct{}, error) {
			var k appKey
			err := row.Scan(&k.app, &k.key)
			owned[k] = true
			return struct{}{}, err
		}); err != nil {
			return fmt.Errorf("idempotency keys: %w", err)
		}
	}
	for _, op := range c.keyed {
		op.owned = owned[appKey{op.in.Message.AppID, op.in.Message.IdempotencyKey}]
	}
	return nil
}

// messageColumns gathers the columns of the messages insertMessagesSQL stores.
type messageColumns struct {
	ids, apps, types, headers []string
	keys, sources             []*string
	traceParents, traceStates []*string
	payloads                  [][]byte
	created                   []time.Time
}

func (c *messageColumns) add(m *domain.Message) {
	c.ids, c.apps, c.types, c.payloads = append(c.ids, m.ID), append(c.apps, m.AppID), append(c.types, m.Type), append(c.payloads, []byte(m.Payload))
	c.keys, c.sources, c.headers = append(c.keys, nullString(m.IdempotencyKey)), append(c.sources, nullString(m.SourceID)), append(c.headers, sqlstore.JSON(m.Headers))
	c.created = append(c.created, m.CreatedAt)
	c.traceParents, c.traceStates = append(c.traceParents, nullString(m.Trace.Parent)), append(c.traceStates, nullString(m.Trace.State))
}

// insertMessages takes the idempotency keys, stores the messages of the ops that took
// theirs or have none, with the endpoints of their apps, reads the original message of
// each key already taken, and locks the endpoints that leases may take slots of, with
// their slots, in one round trip (step 1). Each publishing op gets the endpoints its
// message fans out to, chosen by domain.Subscription.AcceptsMessage, or a not-found
// error when its app is missing. It returns the locked endpoints, whose free slots
// insertDeliveries takes.
func insertMessages(ctx context.Context, p *pipe, ops []*publishOp, compile filterCompiler) (*freeSlots, error) {
	b := &pgx.Batch{}
	keys := queueKeys(b, ops)
	var cols messageColumns
	apps := map[string]bool{}
	var appIDs []string
	for _, op := range ops {
		m := op.in.Message
		cols.add(m)
		if !apps[m.AppID] {
			apps[m.AppID] = true
			appIDs = append(appIDs, m.AppID)
		}
	}
	b.Queue(insertMessagesSQL, cols.ids, cols.apps, cols.types, cols.payloads, cols.keys, cols.created, cols.sources, cols.headers,
		cols.traceParents, cols.traceStates)
	b.Queue(candidatesSQL, appIDs)
	if len(keys.keyed) > 0 {
		queueOriginals(b, keys.keyed)
	}
	free := &freeSlots{free: map[string][]int32{}, slots: map[string]*slotState{}}
	locking := queueLeaseLocks(b, ops)
	br := p.send(ctx, b, false)
	err := func() error {
		if err := keys.readKeys(br); err != nil {
			return err
		}
		if err := readFanOut(br, ops, compile); err != nil {
			return err
		}
		if len(keys.keyed) > 0 {
			if err := readOriginals(br, keys.keyed); err != nil {
				return err
			}
		}
		if locking {
			return free.read(br)
		}
		return nil
	}()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return free, err
}

// filterCompiler returns the compiled form of a stored payload filter (sqlstore.Core.Filter).
type filterCompiler func(text string) (*filter.Filter, error)

// readFanOut reads the answers of insertMessagesSQL and candidatesSQL and gives each
// publishing op its targets.
func readFanOut(br pgx.BatchResults, ops []*publishOp, compile filterCompiler) error {
	stored := map[string]bool{}
	rows, err := br.Query()
	if _, err = sqlstore.Collect(rows, err, func(row sqlstore.Row) (struct{}, error) {
		var id string
		err := row.Scan(&id)
		stored[id] = true
		return struct{}{}, err
	}); err != nil {
		return fmt.Errorf("insert messages: %w", err)
	}
	byApp := map[string][]target{}
	rows, err = br.Query()
	if _, err = sqlstore.Collect(rows, err, func(row sqlstore.Row) (struct{}, error) {
		var app, filterText string
		var t target
		if err := row.Scan(&app, &t.id, &t.state, &t.fifo, &t.maxConc, &t.rateLimit, &t.sub.EventTypes, &t.sub.SourceID, &filterText); err != nil {
			return struct{}{}, err
		}
		var err error
		t.sub.Filter, err = compile(filterText)
		byApp[app] = append(byApp[app], t)
		return struct{}{}, err
	}); err != nil {
		return fmt.Errorf("fan-out endpoints: %w", err)
	}
	for _, op := range ops {
		m := op.in.Message
		switch {
		case !op.owned:
		case !stored[m.ID]:
			op.err = store.NotFound("app", m.AppID)
		default:
			fan := domain.NewFanout(m)
			for _, t := range byApp[m.AppID] {
				if op.in.Targets(t.id, t.sub, fan) {
					op.targets = append(op.targets, t)
				}
			}
		}
	}
	return nil
}

// queueLeaseLocks queues the statements that lock the endpoints whose slots the
// publishing ops that lease within limits across nodes may take (lockEndpointsSQL), and
// read their slots (a later statement, so its snapshot has every slot taken before). It
// reports whether it queued them.
func queueLeaseLocks(b *pgx.Batch, ops []*publishOp) bool {
	var apps []string
	var asOf time.Time // leases unexpired at the earliest publish time count (the safe side)
	defaultLimit := 0  // the default concurrency of the publishes that lease (one engine's, in practice)
	seen := map[string]bool{}
	// Whether a publish repeats a key is not known yet: its app counts (the safe side).
	for _, op := range ops {
		if op.in.LeaseOwner == "" || op.in.EndpointConcurrency <= 0 {
			continue
		}
		if at := op.in.Message.CreatedAt; asOf.IsZero() || at.Before(asOf) {
			asOf = at
		}
		defaultLimit = max(defaultLimit, op.in.EndpointConcurrency)
		if app := op.in.Message.AppID; !seen[app] {
			seen[app] = true
			apps = append(apps, app)
		}
	}
	if len(apps) == 0 {
		return false
	}
	b.Queue(lockEndpointsSQL, apps, asOf, defaultLimit)
	b.Queue(lockedSlotsSQL, asOf)
	return true
}

// read reads the answers of the statements queueLeaseLocks queued.
func (f *freeSlots) read(br pgx.BatchResults) error {
	rows, err := br.Query()
	_, err = sqlstore.Collect(rows, err, func(row sqlstore.Row) (struct{}, error) {
		var id string
		err := row.Scan(&id)
		f.free[id] = nil // locked; its free slots are read when first needed
		return struct{}{}, err
	})
	if err == nil {
		rows, err = br.Query()
		f.slots, err = readSlots(rows, err)
	}
	if err != nil {
		return fmt.Errorf("lease limits: %w", err)
	}
	return nil
}

// freeSlots are the free slots of the endpoints queueLeaseLocks locked, taken in turn.
type freeSlots struct {
	free  map[string][]int32 // nil until first needed; only locked endpoints are present
	slots map[string]*slotState
}

// take returns a free slot of endpoint id, whose limit is limit, and false when it has
// none left or was not locked.
func (f *freeSlots) take(id string, limit int) (int32, bool) {
	slots, ok := f.free[id]
	if !ok {
		return 0, false
	}
	if slots == nil {
		if slots = f.slots[id].free(limit, limit); len(slots) == 0 {
			slots = []int32{} // none left: do not look again
		}
	}
	if len(slots) == 0 {
		f.free[id] = slots
		return 0, false
	}
	f.free[id] = slots[1:]
	return slots[0], true
}

// deliveryColumns gathers the deliveries insertDeliveriesSQL stores and the slots
// their leases take.
type deliveryColumns struct {
	ids, apps, msgs, eps []string
	owners               []*string
	next, created        []time.Time
	dels                 []*domain.Delivery
	slotEps, slotDels    []string
	slotNums             []int32
	slotUntil            []time.Time
}

// insertDeliveries stores the deliveries of the ops that publish, in one statement; seq
// follows the order of the batch (step 2). It reports whether any is claimable by other
// nodes now.
func insertDeliveries(ctx context.Context, p *pipe, ops []*publishOp, free *freeSlots) (bool, error) {
	var cols deliveryColumns
	notify := false
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
				lease = t.rateLimit == 0 && cols.takeSlot(free, t, in, d.ID)
			}
			due, owner := m.CreatedAt, ""
			if lease {
				due, owner = in.LeaseUntil, in.LeaseOwner
				op.res.Leased = append(op.res.Leased, d)
			} else if t.state == domain.EndpointEnabled {
				notify = true // claimable now, by any node
			}
			op.res.Deliveries = append(op.res.Deliveries, d)
			cols.dels = append(cols.dels, d)
			cols.ids, cols.apps, cols.msgs, cols.eps = append(cols.ids, d.ID), append(cols.apps, d.AppID), append(cols.msgs, d.MessageID), append(cols.eps, d.EndpointID)
			cols.next, cols.owners, cols.created = append(cols.next, due), append(cols.owners, nullString(owner)), append(cols.created, m.CreatedAt)
		}
	}
	if len(cols.dels) == 0 {
		return notify, nil
	}
	return notify, cols.insert(ctx, p)
}

// takeSlot takes a free slot of t for delivery id, under in's default limit.
func (c *deliveryColumns) takeSlot(free *freeSlots, t target, in *store.PublishInput, id string) bool {
	limit := t.maxConc
	if limit <= 0 {
		limit = in.EndpointConcurrency
	}
	slot, ok := free.take(t.id, limit)
	if ok {
		c.slotEps, c.slotNums, c.slotDels = append(c.slotEps, t.id), append(c.slotNums, slot), append(c.slotDels, id)
		c.slotUntil = append(c.slotUntil, in.LeaseUntil)
	}
	return ok
}

// insert runs insertDeliveriesSQL, and takeSlotsSQL for the leases that took slots, and
// sets each delivery's seq, in the round trip that commits.
func (c *deliveryColumns) insert(ctx context.Context, p *pipe) error {
	b := &pgx.Batch{}
	b.Queue(insertDeliveriesSQL, c.ids, c.apps, c.msgs, c.eps, c.next, c.owners, c.created)
	if len(c.slotEps) > 0 {
		b.Queue(takeSlotsSQL, c.slotEps, c.slotNums, c.slotDels, c.slotUntil)
	}
	br := p.send(ctx, b, true)
	seqs := make(map[string]int64, len(c.dels))
	rows, err := br.Query()
	_, err = sqlstore.Collect(rows, err, func(row sqlstore.Row) (struct{}, error) {
		var id string
		var seq int64
		err := row.Scan(&id, &seq)
		seqs[id] = seq
		return struct{}{}, err
	})
	if err == nil && len(c.slotEps) > 0 {
		_, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("insert deliveries: %w", err)
	}
	for _, d := range c.dels {
		d.Seq = seqs[d.ID]
	}
	return nil
}

// queueOriginals queues originalsSQL for the ops with a key.
func queueOriginals(b *pgx.Batch, keyed []*publishOp) {
	apps, keys, msgs := make([]string, len(keyed)), make([]string, len(keyed)), make([]string, len(keyed))
	for i, op := range keyed {
		apps[i], keys[i], msgs[i] = op.in.Message.AppID, op.in.Message.IdempotencyKey, op.in.Message.ID
	}
	b.Queue(originalsSQL, apps, keys, msgs)
}

// readOriginals reads originalsSQL's answer: the message each key that an op did not
// take already stands for.
func readOriginals(br pgx.BatchResults, keyed []*publishOp) error {
	rows, err := br.Query()
	answered := 0
	_, err = sqlstore.Collect(rows, err, func(row sqlstore.Row) (struct{}, error) {
		var ord int
		var appOK bool
		var id, appID, typ, key, source, traceParent, traceState *string
		var payload []byte
		var headers map[string]string
		var created *time.Time
		if err := row.Scan(&ord, &appOK, &id, &appID, &typ, &payload, &key, &source, &headers, &created, &traceParent, &traceState); err != nil {
			return struct{}{}, err
		}
		if ord < 1 || ord > len(keyed) || keyed[ord-1].owned {
			return struct{}{}, fmt.Errorf("an original message for publish %d, which took its key", ord)
		}
		op, m := keyed[ord-1], keyed[ord-1].in.Message
		answered++
		switch {
		case !appOK:
			op.err = store.NotFound("app", m.AppID)
		case id == nil:
			// Cannot happen: keys go with their messages (Purge and DeleteApp remove both).
			op.err = fmt.Errorf("idempotency key %q: its message is gone: %w", m.IdempotencyKey, store.ErrConflict)
		default:
			orig := &domain.Message{ID: *id, AppID: *appID, Type: *typ, IdempotencyKey: *key, SourceID: *source, CreatedAt: created.UTC(),
				Trace: domain.TraceContext{Parent: *traceParent, State: *traceState}}
			if len(headers) > 0 {
				orig.Headers = headers
			}
			if payload != nil {
				orig.Payload = payload
			}
			op.res = &store.PublishResult{Message: orig, Duplicate: true}
		}
		return struct{}{}, nil
	})
	if err != nil {
		return fmt.Errorf("idempotency keys: %w", err)
	}
	for _, op := range keyed {
		if !op.owned && op.res == nil && op.err == nil {
			return fmt.Errorf("idempotency key %q: neither taken nor found", op.in.Message.IdempotencyKey)
		}
	}
	return nil
}

// nullString maps "" to NULL, for arrays of nullable text.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
