package postgres

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlstore"
	"github.com/jackc/pgx/v5"
)

// The queue is the deliveries table, as in the SQLite store: a pending delivery is due
// when next_attempt_at has passed, and leasing it moves next_attempt_at to the end of the
// lease, so a leased delivery is simply not due, and becomes due again by itself if its
// holder dies.
//
// Per-endpoint limits across nodes. A claim first locks the rows of the endpoints it
// claims for (FOR NO KEY UPDATE SKIP LOCKED: a node never waits for another, it claims
// for other endpoints meanwhile). Then, in later statements of the same transaction, and
// so with snapshots that include every lease committed by the endpoint's earlier lock
// holders, it reads the endpoint's concurrency slots (see endpoint_slots), and leases at
// most one delivery per free slot, writing the delivery into the slot. Publish's
// lease-on-insert takes slots the same way. A FIFO endpoint has one slot, which is what
// keeps exactly one of its deliveries in flight across nodes, even when two nodes'
// publishes commit out of sequence order.
//
// Rate limits across nodes are a token bucket per endpoint in endpoint_buckets, updated
// under the same lock: a claim refills it by rate × the time since its last update (up to
// a burst of the rate, at least 1) and takes one token per delivery. The alternative,
// dividing each endpoint's rate among the live nodes, needs a heartbeat table, and over-
// or under-sends whenever the node count changes or one node holds all of an endpoint's
// work; the bucket is exact whatever the number of nodes, at the price of one small row
// update per claim of a rate-limited endpoint. Such endpoints are never leased on
// publish, so every send of theirs passes through the bucket.

// unlimited stands for "no limit" in claim quotas.
const unlimited = 1 << 30

// activeSlotsSQL counts the slots of endpoint e taken at $2.
const activeSlotsSQL = `(SELECT count(*) FROM endpoint_slots s WHERE s.endpoint_id = e.id AND s.delivery_id IS NOT NULL AND s.until > $2)`

// claimEndpointsSQL finds and locks the endpoints to claim for: enabled, not excluded,
// with due work (for FIFO: a due oldest delivery), not already at their concurrency limit
// (always 1 for FIFO; others only when limits apply, $4 > 0) or, when limits apply, out of
// rate tokens. A loose index scan visits only endpoints with pending deliveries. Oldest
// due work first, with how much is due (up to the claim's limit).
const claimEndpointsSQL = `WITH RECURSIVE pend(id) AS (
		(SELECT endpoint_id FROM deliveries WHERE status = 'pending' ORDER BY endpoint_id LIMIT 1)
		UNION ALL
		SELECT (SELECT d.endpoint_id FROM deliveries d WHERE d.status = 'pending' AND d.endpoint_id > p.id ORDER BY d.endpoint_id LIMIT 1)
		FROM pend p WHERE p.id IS NOT NULL
	)
	SELECT e.id, e.fifo, e.max_concurrency, e.rate_limit,
		(SELECT count(*) FROM (SELECT 1 FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending'
			AND d.next_attempt_at <= $2 LIMIT $3) due)
	FROM pend JOIN endpoints e ON e.id = pend.id
	WHERE e.state = 'enabled' AND e.id <> ALL($1::text[])
		AND CASE WHEN e.fifo
			THEN (SELECT h.next_attempt_at FROM deliveries h WHERE h.endpoint_id = e.id AND h.status = 'pending' ORDER BY h.seq LIMIT 1) <= $2
			ELSE EXISTS (SELECT 1 FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.next_attempt_at <= $2)
		END
		AND CASE WHEN e.fifo THEN ` + activeSlotsSQL + ` < 1
			WHEN $4 = 0 THEN true
			ELSE ` + activeSlotsSQL + ` < CASE WHEN e.max_concurrency > 0 THEN e.max_concurrency ELSE $4 END
		END
		AND ($4 = 0 OR e.rate_limit = 0 OR NOT EXISTS (SELECT 1 FROM endpoint_buckets b WHERE b.endpoint_id = e.id
			AND b.tokens + e.rate_limit * greatest(0, extract(epoch FROM $2::timestamptz - b.updated_at)) < 1))
	ORDER BY (SELECT min(d.next_attempt_at) FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending'), e.id
	LIMIT $3
	FOR NO KEY UPDATE OF e SKIP LOCKED`

// slotsSQL reads the slots of endpoints and whether each is taken at $2. Run once the
// endpoints' row locks are held, its snapshot includes every slot taken before.
const slotsSQL = `SELECT endpoint_id, slot, COALESCE(delivery_id, ''), delivery_id IS NOT NULL AND until > $2
	FROM endpoint_slots WHERE endpoint_id = ANY($1)`

// bucketsSQL reads the rate buckets of endpoints, under the same locks.
const bucketsSQL = `SELECT endpoint_id, tokens, updated_at FROM endpoint_buckets WHERE endpoint_id = ANY($1)`

// takeSlotsSQL writes deliveries into slots until their leases end, creating the slots
// as needed.
const takeSlotsSQL = `INSERT INTO endpoint_slots (endpoint_id, slot, delivery_id, until)
	SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::timestamptz[])
	ON CONFLICT (endpoint_id, slot) DO UPDATE SET delivery_id = EXCLUDED.delivery_id, until = EXCLUDED.until`

// freeSlotsSQL frees the slots deliveries hold, given as (endpoint, delivery) pairs.
const freeSlotsSQL = `UPDATE endpoint_slots s SET delivery_id = NULL, until = NULL
	FROM unnest($1::text[], $2::text[]) AS u(endpoint_id, delivery_id)
	WHERE s.endpoint_id = u.endpoint_id AND s.delivery_id = u.delivery_id`

// claimSQL leases up to n due deliveries of each endpoint (for FIFO: its oldest pending
// one, if due), writes the i-th claimed delivery of an endpoint into the i-th slot given
// for it, stores the rate buckets' new levels, and returns the claimed deliveries with
// their messages' type, payload and headers.
var claimSQL = `WITH want AS (
		SELECT * FROM unnest($1::text[], $2::int[], $3::bool[]) AS w(endpoint_id, n, fifo)
	),
	plain AS (
		SELECT x.id FROM want w CROSS JOIN LATERAL (
			SELECT d.id FROM deliveries d
			WHERE d.endpoint_id = w.endpoint_id AND d.status = 'pending' AND d.next_attempt_at <= $4
			ORDER BY d.next_attempt_at LIMIT w.n
			FOR UPDATE SKIP LOCKED) x
		WHERE NOT w.fifo AND w.n > 0
	),
	heads AS (
		SELECT x.id FROM want w CROSS JOIN LATERAL (
			SELECT d.id FROM deliveries d
			WHERE d.id = (SELECT h.id FROM deliveries h WHERE h.endpoint_id = w.endpoint_id AND h.status = 'pending' ORDER BY h.seq LIMIT 1)
				AND d.next_attempt_at <= $4
			FOR UPDATE SKIP LOCKED) x
		WHERE w.fifo AND w.n > 0
	),
	claimed AS (
		UPDATE deliveries d SET lease_owner = $5, next_attempt_at = $6
		WHERE d.id IN (SELECT id FROM plain UNION ALL SELECT id FROM heads)
		RETURNING ` + deliveryColumnsOf("d") + `
	),
	numbered AS (
		SELECT c.id, c.endpoint_id, row_number() OVER (PARTITION BY c.endpoint_id ORDER BY c.next_attempt_at, c.id) AS rn FROM claimed c
	),
	slots AS (
		INSERT INTO endpoint_slots (endpoint_id, slot, delivery_id, until)
		SELECT n.endpoint_id, f.slot, n.id, $6
		FROM numbered n JOIN unnest($7::text[], $8::int[], $9::int[]) AS f(endpoint_id, slot, rn) ON f.endpoint_id = n.endpoint_id AND f.rn = n.rn
		ON CONFLICT (endpoint_id, slot) DO UPDATE SET delivery_id = EXCLUDED.delivery_id, until = EXCLUDED.until
	),
	bucket AS (
		INSERT INTO endpoint_buckets (endpoint_id, tokens, updated_at)
		SELECT b.endpoint_id, b.tokens - (SELECT count(*) FROM claimed c WHERE c.endpoint_id = b.endpoint_id), $4
		FROM unnest($10::text[], $11::float8[]) AS b(endpoint_id, tokens)
		ON CONFLICT (endpoint_id) DO UPDATE SET tokens = EXCLUDED.tokens, updated_at = EXCLUDED.updated_at
	)
	SELECT ` + deliveryColumnsOf("c") + `, m.type, m.payload, m.headers FROM claimed c JOIN messages m ON m.id = c.message_id
	ORDER BY c.next_attempt_at, c.seq`

// deliveryColumnsOf is sqlstore.DeliveryColumns qualified by a table alias.
func deliveryColumnsOf(alias string) string {
	return alias + `.` + strings.ReplaceAll(strings.Join(strings.Fields(sqlstore.DeliveryColumns), " "), ", ", ", "+alias+`.`)
}

// slotState is what an endpoint's slots say: which are taken, and by which deliveries.
type slotState struct {
	taken   map[int]bool
	holders map[string]bool
}

// free returns up to n free slots below limit, lowest first, leaving room for no more
// deliveries than limit minus those holding slots (a delivery counts once, should two
// slots name it; taken slots above a lowered limit count too).
func (st *slotState) free(limit, n int) []int32 {
	if st != nil {
		n = min(n, limit-len(st.holders))
	}
	var out []int32
	for slot := 0; slot < limit && len(out) < n; slot++ {
		if st == nil || !st.taken[slot] {
			out = append(out, int32(slot))
		}
	}
	return out
}

// readSlots reads slotsSQL's answer.
func readSlots(rows pgx.Rows, err error) (map[string]*slotState, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*slotState{}
	for rows.Next() {
		var ep, dlv string
		var slot int
		var taken bool
		if err := rows.Scan(&ep, &slot, &dlv, &taken); err != nil {
			return nil, err
		}
		if !taken {
			continue
		}
		st := out[ep]
		if st == nil {
			st = &slotState{taken: map[int]bool{}, holders: map[string]bool{}}
			out[ep] = st
		}
		st.taken[slot], st.holders[dlv] = true, true
	}
	return out, rows.Err()
}

// bucket is a rate bucket read under its endpoint's lock.
type bucket struct {
	tokens float64
	at     time.Time
}

// level returns how many tokens a bucket of rate per second holds at now: a missing one
// is full, and a bucket holds at most the burst (the rate, at least 1).
func (b *bucket) level(rate float64, now time.Time) float64 {
	burst := max(1, math.Floor(rate))
	if b == nil {
		return burst
	}
	return min(burst, b.tokens+rate*max(0, now.Sub(b.at).Seconds()))
}

// Claim implements store.Store.
func (s *Store) Claim(ctx context.Context, r store.ClaimRequest) ([]*store.Claimed, error) {
	if r.Limit <= 0 {
		return nil, nil
	}
	var out []*store.Claimed
	err := s.write(ctx, true, func(tx pgx.Tx) error {
		out = out[:0]
		type ep struct {
			id      string
			fifo    bool
			maxConc int
			rate    float64
			due     int
		}
		rows, err := tx.Query(ctx, claimEndpointsSQL, sqlstore.NonNil(r.Exclude), r.Now, r.Limit, r.EndpointConcurrency)
		eps, err := sqlstore.Collect(rows, err, func(row sqlstore.Row) (ep, error) {
			var e ep
			err := row.Scan(&e.id, &e.fifo, &e.maxConc, &e.rate, &e.due)
			return e, err
		})
		if err != nil {
			return fmt.Errorf("claim: endpoints: %w", err)
		}
		if len(eps) == 0 {
			return nil
		}
		// Slots and buckets of the locked endpoints that use them.
		var slotted, rated []string
		limited := r.EndpointConcurrency > 0
		for _, e := range eps {
			if e.fifo || limited {
				slotted = append(slotted, e.id)
			}
			if limited && e.rate > 0 {
				rated = append(rated, e.id)
			}
		}
		slots := map[string]*slotState{}
		buckets := map[string]*bucket{}
		if len(slotted) > 0 {
			b := &pgx.Batch{}
			b.Queue(slotsSQL, slotted, r.Now)
			b.Queue(bucketsSQL, rated)
			br := tx.SendBatch(ctx, b)
			rows, err := br.Query()
			if slots, err = readSlots(rows, err); err == nil {
				var rows pgx.Rows
				rows, err = br.Query()
				_, err = sqlstore.Collect(rows, err, func(row sqlstore.Row) (struct{}, error) {
					var id string
					var b bucket
					err := row.Scan(&id, &b.tokens, &b.at)
					buckets[id] = &b
					return struct{}{}, err
				})
			}
			if cerr := br.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("claim: slots: %w", err)
			}
		}
		var (
			wantIDs             []string
			wantN               []int32
			wantFIFO            []bool
			slotEps             []string
			slotNums, slotRanks []int32
			bucketEps           []string
			bucketLevels        []float64
		)
		remaining := r.Limit
		for _, e := range eps {
			if remaining == 0 {
				break
			}
			n := min(e.due, remaining)
			if e.fifo {
				n = 1
			}
			if limited && e.rate > 0 {
				level := buckets[e.id].level(e.rate, r.Now)
				n = min(n, int(level))
				bucketEps, bucketLevels = append(bucketEps, e.id), append(bucketLevels, level)
			}
			if e.fifo || limited {
				limit := 1
				switch {
				case e.fifo:
				case e.maxConc > 0:
					limit = e.maxConc
				default:
					limit = r.EndpointConcurrency
				}
				free := slots[e.id].free(limit, n)
				n = len(free)
				for i, slot := range free {
					slotEps, slotNums, slotRanks = append(slotEps, e.id), append(slotNums, slot), append(slotRanks, int32(i+1))
				}
			}
			if n <= 0 {
				continue
			}
			remaining -= n
			wantIDs, wantN, wantFIFO = append(wantIDs, e.id), append(wantN, int32(n)), append(wantFIFO, e.fifo)
		}
		if len(wantIDs) == 0 && len(bucketEps) == 0 {
			return nil
		}
		rows, err = tx.Query(ctx, claimSQL, wantIDs, wantN, wantFIFO, r.Now, r.Owner, r.LeaseUntil,
			slotEps, slotNums, slotRanks, bucketEps, bucketLevels)
		out, err = sqlstore.Collect(rows, err, func(row sqlstore.Row) (*store.Claimed, error) {
			c := &store.Claimed{}
			d, err := s.ScanDeliveryWith(row, &c.Type, &c.Payload, &c.Headers)
			c.Delivery = d
			if len(c.Headers) == 0 {
				c.Headers = nil
			}
			return c, err
		})
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ExtendLeases implements store.Store.
func (s *Store) ExtendLeases(ctx context.Context, owner string, ids []string, until time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	return s.write(ctx, true, func(tx pgx.Tx) error {
		// Rows are locked in id order, as Complete locks them, so the two never deadlock.
		// Their slots are renewed with them.
		_, err := tx.Exec(ctx, `WITH x AS (
				UPDATE deliveries SET next_attempt_at = $3 WHERE id IN (
					SELECT id FROM deliveries WHERE id = ANY($2) AND lease_owner = $1 AND status = 'pending' ORDER BY id FOR UPDATE)
				RETURNING id, endpoint_id)
			UPDATE endpoint_slots s SET until = $3 FROM x WHERE s.endpoint_id = x.endpoint_id AND s.delivery_id = x.id`,
			owner, ids, until)
		return err
	})
}

// ReleaseLeases implements store.Store.
func (s *Store) ReleaseLeases(ctx context.Context, owner string, ids []string) error {
	if ids != nil && len(ids) == 0 {
		return nil
	}
	var released int64
	err := s.write(ctx, true, func(tx pgx.Tx) error {
		var err error
		// Released deliveries give up their slots.
		const free = `, x AS (UPDATE endpoint_slots s SET delivery_id = NULL, until = NULL FROM r
				WHERE s.endpoint_id = r.endpoint_id AND s.delivery_id = r.id)
			SELECT count(*) FROM r`
		if ids == nil {
			err = tx.QueryRow(ctx, `WITH r AS (UPDATE deliveries SET lease_owner = NULL, next_attempt_at = $2 WHERE id IN (
				SELECT id FROM deliveries WHERE lease_owner = $1 AND status = 'pending' ORDER BY id FOR UPDATE)
				RETURNING id, endpoint_id)`+free, owner, time.Now()).Scan(&released)
		} else {
			err = tx.QueryRow(ctx, `WITH r AS (UPDATE deliveries SET lease_owner = NULL, next_attempt_at = $3 WHERE id IN (
				SELECT id FROM deliveries WHERE id = ANY($2) AND lease_owner = $1 AND status = 'pending' ORDER BY id FOR UPDATE)
				RETURNING id, endpoint_id)`+free, owner, ids, time.Now()).Scan(&released)
		}
		return err
	})
	if err == nil && released > 0 {
		s.requestNotify()
	}
	return err
}

// Complete implements store.Store.
func (s *Store) Complete(ctx context.Context, results []*store.AttemptResult) error {
	if len(results) == 0 {
		return nil
	}
	// One row per delivery: the last result sets its state, each result counts an attempt.
	type final struct {
		r *store.AttemptResult
		n int32
	}
	finals := map[string]*final{}
	var order []string
	var (
		aID, aDlv, aApp, aEp, aMsg, aHeaders, aErr, aOutcome []string
		aNum, aCode                                          []int32
		aStarted                                             []time.Time
		aLatency                                             []int64
		aBody                                                [][]byte
	)
	streak := map[string]*store.AttemptResult{} // the latest result per endpoint decides its failure streak
	disable := map[string]*store.AttemptResult{}
	for _, r := range results {
		a := r.Attempt
		aID, aDlv, aApp, aEp, aMsg = append(aID, a.ID), append(aDlv, a.DeliveryID), append(aApp, a.AppID), append(aEp, a.EndpointID), append(aMsg, a.MessageID)
		aNum, aStarted, aLatency, aCode = append(aNum, int32(a.Number)), append(aStarted, a.StartedAt), append(aLatency, a.Latency.Microseconds()), append(aCode, int32(a.StatusCode))
		aHeaders, aBody, aErr, aOutcome = append(aHeaders, sqlstore.JSON(a.ResponseHeaders)), append(aBody, a.ResponseBody), append(aErr, a.Error), append(aOutcome, a.Outcome)
		if f, ok := finals[a.DeliveryID]; ok {
			f.r, f.n = r, f.n+1
		} else {
			finals[a.DeliveryID] = &final{r: r, n: 1}
			order = append(order, a.DeliveryID)
		}
		streak[a.EndpointID] = r
		if r.DisableEndpoint != "" {
			disable[a.EndpointID] = r
		}
	}
	sort.Strings(order)
	var (
		dStatus, dErr []string
		dN, dCode     []int32
		dNext         []*time.Time
		dAt           []time.Time
		slotEps       []string
	)
	for _, id := range order {
		f := finals[id]
		a := f.r.Attempt
		slotEps = append(slotEps, a.EndpointID)
		dStatus, dN, dNext = append(dStatus, f.r.Status), append(dN, f.n), append(dNext, f.r.NextAttemptAt)
		dCode, dErr, dAt = append(dCode, int32(a.StatusCode)), append(dErr, a.Error), append(dAt, a.StartedAt.Add(a.Latency))
	}
	var failedIDs, okIDs, disIDs, disReasons []string
	var failedAt, disAt []time.Time
	endpoints := make([]string, 0, len(streak))
	for id := range streak {
		endpoints = append(endpoints, id)
	}
	sort.Strings(endpoints)
	for _, id := range endpoints {
		r := streak[id]
		if r.EndpointFailed {
			failedIDs, failedAt = append(failedIDs, id), append(failedAt, r.Attempt.StartedAt)
		} else {
			okIDs = append(okIDs, id)
		}
		if d := disable[id]; d != nil {
			disIDs, disReasons, disAt = append(disIDs, id), append(disReasons, d.DisableEndpoint), append(disAt, d.Attempt.StartedAt)
		}
	}

	err := s.write(ctx, true, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		// The deliveries first, in id order (as ExtendLeases locks them); a deleted one is
		// skipped. Their attempts then find them locked by this transaction already.
		b.Queue(`UPDATE deliveries d SET status = u.status, attempts = d.attempts + u.n, retry_step = d.retry_step + u.n,
				next_attempt_at = u.next, lease_owner = NULL, last_status_code = u.code, last_error = u.err, updated_at = u.at
			FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::int[], $6::text[], $7::timestamptz[])
				AS u(id, status, n, next, code, err, at)
			WHERE d.id = u.id`,
			order, dStatus, dN, dNext, dCode, dErr, dAt)
		b.Queue(`INSERT INTO attempts (`+sqlstore.AttemptColumns+`)
			SELECT u.id, u.dlv, u.app, u.ep, u.msg, u.num, u.started, u.latency, u.code, u.headers::jsonb, u.body, u.err, u.outcome
			FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::timestamptz[], $8::bigint[],
				$9::int[], $10::text[], $11::bytea[], $12::text[], $13::text[])
				AS u(id, dlv, app, ep, msg, num, started, latency, code, headers, body, err, outcome)
			WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.id = u.dlv)`,
			aID, aDlv, aApp, aEp, aMsg, aNum, aStarted, aLatency, aCode, aHeaders, aBody, aErr, aOutcome)
		if len(disIDs) > 0 {
			b.Queue(`UPDATE endpoints e SET state = 'disabled', disabled_reason = u.reason, updated_at = u.at
				FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS u(id, reason, at) WHERE e.id = u.id`,
				disIDs, disReasons, disAt)
		}
		if len(failedIDs) > 0 {
			b.Queue(`UPDATE endpoints e SET failing_since = u.at FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at)
				WHERE e.id = u.id AND e.failing_since IS NULL`, failedIDs, failedAt)
		}
		if len(okIDs) > 0 {
			b.Queue(`UPDATE endpoints SET failing_since = NULL WHERE id = ANY($1) AND failing_since IS NOT NULL`, okIDs)
		}
		// Slots last: a claim holding an endpoint lock may wait for them, so this
		// transaction must not wait for an endpoint lock after taking them.
		b.Queue(freeSlotsSQL, slotEps, order)
		br := tx.SendBatch(ctx, b)
		for i := 0; i < b.Len(); i++ {
			if _, err := br.Exec(); err != nil {
				br.Close()
				return fmt.Errorf("complete: %w", err)
			}
		}
		return br.Close()
	})
	// No notification: the slots and FIFO turns freed here are taken by this node's own
	// engine, which looks for work after recording outcomes; waking every node for each
	// outcome would multiply claims that find nothing. Endpoints disabled here (410 Gone)
	// are another matter: other nodes must stop sending to them.
	if err == nil {
		s.notifyEndpoints(disIDs...)
	}
	return err
}

// Purge implements store.Store. A delivery that a retry or replay makes pending while the
// purge runs keeps its message.
func (s *Store) Purge(ctx context.Context, before, idemBefore time.Time, limit int) (*store.PurgeResult, error) {
	if limit <= 0 {
		limit = 500
	}
	var res store.PurgeResult
	err := s.write(ctx, false, func(tx pgx.Tx) error {
		res = store.PurgeResult{}
		rows, err := tx.Query(ctx, `SELECT id FROM messages WHERE created_at < $1 AND NOT EXISTS (
			SELECT 1 FROM deliveries d WHERE d.message_id = messages.id AND d.status = 'pending') ORDER BY created_at LIMIT $2`, before, limit)
		ids, err := sqlstore.Collect(rows, err, sqlstore.ScanString)
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			steps := []struct {
				n   *int
				sql string
			}{
				{&res.Attempts, `DELETE FROM attempts WHERE delivery_id IN (
					SELECT id FROM deliveries WHERE message_id = ANY($1) AND status <> 'pending')`},
				{&res.Deliveries, `DELETE FROM deliveries WHERE message_id = ANY($1) AND status <> 'pending'`},
				{&res.IdempotencyKeys, `DELETE FROM idempotency_keys k USING messages m
					WHERE m.id = ANY($1) AND k.app_id = m.app_id AND k.key = m.idempotency_key AND k.message_id = m.id
					AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id)`},
				{&res.Messages, `DELETE FROM messages m WHERE m.id = ANY($1) AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id)`},
			}
			for _, st := range steps {
				tag, err := tx.Exec(ctx, st.sql, ids)
				if err != nil {
					return err
				}
				*st.n += int(tag.RowsAffected())
			}
		}
		tag, err := tx.Exec(ctx, `DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE started_at < $1 ORDER BY started_at LIMIT $2)`, before, limit)
		if err != nil {
			return err
		}
		res.Attempts += int(tag.RowsAffected())
		if tag, err = tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE (app_id, key) IN (
			SELECT app_id, key FROM idempotency_keys WHERE created_at < $1 ORDER BY created_at LIMIT $2)`, idemBefore, limit); err != nil {
			return err
		}
		res.IdempotencyKeys += int(tag.RowsAffected())
		_, err = tx.Exec(ctx, `DELETE FROM source_rejections WHERE id IN (
			SELECT id FROM source_rejections WHERE received_at < $1 ORDER BY received_at LIMIT $2)`, before, limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}
