package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/heraldhq/herald/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The queue is the deliveries table, as in the SQLite store: a pending delivery is due
// when next_attempt_at has passed, and leasing it moves next_attempt_at to the end of the
// lease, so a leased delivery is simply not due, and becomes due again by itself if its
// holder dies.
//
// Per-endpoint limits across nodes. A claim first locks the rows of the endpoints it
// claims for (FOR NO KEY UPDATE SKIP LOCKED: a node never waits for another, it claims
// for other endpoints meanwhile), then, in a later statement of the same transaction and
// so with a snapshot that includes every lease committed by the endpoint's earlier lock
// holders, counts the endpoint's unexpired leases and claims only what its limit leaves.
// Publish's lease-on-insert takes the same locks. FIFO endpoints get their oldest pending
// delivery only while none of theirs is leased.
//
// Rate limits across nodes are a token bucket per endpoint in endpoint_buckets, updated in
// the claiming transaction under the same lock: a claim refills it by rate × the time
// since its last update (up to a burst of the rate, at least 1) and takes one token per
// delivery. The alternative, dividing each endpoint's rate among the live nodes, needs a
// heartbeat table and over- or under-sends whenever the node count changes or one node
// holds all of an endpoint's work; the bucket is exact whatever the number of nodes, at
// the price of one small row update per claim of a rate-limited endpoint. Such endpoints
// are never leased on publish, so every send of theirs passes through the bucket.

// unlimited stands for "no limit" in claim quotas.
const unlimited = 1 << 30

// claimEndpointsSQL finds and locks the endpoints to claim for: enabled, not excluded,
// with due work (for FIFO: a due oldest delivery), and, when limits apply ($4 > 0), not
// already at their concurrency limit or out of rate tokens. A loose index scan visits only
// endpoints with pending deliveries. Oldest due work first, with how much is due (up to
// the claim's limit).
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
		AND ($4 = 0 OR (SELECT count(*) FROM deliveries l WHERE l.endpoint_id = e.id AND l.lease_owner IS NOT NULL AND l.next_attempt_at > $2)
			< CASE WHEN e.fifo THEN 1 WHEN e.max_concurrency > 0 THEN e.max_concurrency ELSE $4 END)
		AND ($4 = 0 OR e.rate_limit = 0 OR NOT EXISTS (SELECT 1 FROM endpoint_buckets b WHERE b.endpoint_id = e.id
			AND b.tokens + e.rate_limit * greatest(0, extract(epoch FROM $2::timestamptz - b.updated_at)) < 1))
	ORDER BY (SELECT min(d.next_attempt_at) FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending'), e.id
	LIMIT $3
	FOR NO KEY UPDATE OF e SKIP LOCKED`

// claimSQL leases, for each locked endpoint, up to the least of its quota (from the
// caller's Limit), its concurrency limit minus its unexpired leases, and its rate tokens;
// for a FIFO endpoint only its oldest pending delivery. It updates the rate buckets and
// returns the claimed deliveries with their messages' type and payload.
var claimSQL = `WITH eps AS (
		SELECT * FROM unnest($1::text[], $2::bool[], $3::int[], $4::float8[], $5::int[]) AS u(id, fifo, lim, rate, quota)
	),
	room AS (
		SELECT eps.id, eps.fifo, eps.rate, t.tokens,
			greatest(0, least(eps.quota::bigint,
				eps.lim - (SELECT count(*) FROM deliveries l WHERE l.endpoint_id = eps.id AND l.lease_owner IS NOT NULL AND l.next_attempt_at > $6),
				CASE WHEN eps.rate > 0 THEN floor(t.tokens)::bigint ELSE eps.quota END))::int AS n
		FROM eps
		LEFT JOIN endpoint_buckets b ON b.endpoint_id = eps.id
		CROSS JOIN LATERAL (SELECT CASE WHEN eps.rate > 0 THEN least(greatest(1, floor(eps.rate)),
			COALESCE(b.tokens + eps.rate * greatest(0, extract(epoch FROM $6::timestamptz - b.updated_at)), greatest(1, floor(eps.rate))))
			END AS tokens) t
	),
	plain AS (
		SELECT x.id, r.id AS endpoint_id FROM room r CROSS JOIN LATERAL (
			SELECT d.id FROM deliveries d
			WHERE d.endpoint_id = r.id AND d.status = 'pending' AND d.next_attempt_at <= $6
			ORDER BY d.next_attempt_at LIMIT r.n
			FOR UPDATE SKIP LOCKED) x
		WHERE NOT r.fifo AND r.n > 0
	),
	heads AS (
		SELECT x.id, r.id AS endpoint_id FROM room r CROSS JOIN LATERAL (
			SELECT d.id FROM deliveries d
			WHERE d.id = (SELECT h.id FROM deliveries h WHERE h.endpoint_id = r.id AND h.status = 'pending' ORDER BY h.seq LIMIT 1)
				AND d.next_attempt_at <= $6
			FOR UPDATE SKIP LOCKED) x
		WHERE r.fifo AND r.n > 0
	),
	claimed AS (
		UPDATE deliveries d SET lease_owner = $7, next_attempt_at = $8
		WHERE d.id IN (SELECT id FROM plain UNION ALL SELECT id FROM heads)
		RETURNING ` + deliveryColumnsOf("d") + `
	),
	bucket AS (
		INSERT INTO endpoint_buckets (endpoint_id, tokens, updated_at)
		SELECT r.id, r.tokens - (SELECT count(*) FROM claimed c WHERE c.endpoint_id = r.id), $6 FROM room r WHERE r.rate > 0
		ON CONFLICT (endpoint_id) DO UPDATE SET tokens = EXCLUDED.tokens, updated_at = EXCLUDED.updated_at
	)
	SELECT ` + deliveryColumnsOf("c") + `, m.type, m.payload, m.headers FROM claimed c JOIN messages m ON m.id = c.message_id
	ORDER BY c.next_attempt_at, c.seq`

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
		rows, err := tx.Query(ctx, claimEndpointsSQL, nonNil(r.Exclude), r.Now, r.Limit, r.EndpointConcurrency)
		eps, err := collect(rows, err, func(row scanner) (ep, error) {
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
		var (
			idList, fifoList = make([]string, 0, len(eps)), make([]bool, 0, len(eps))
			limList, quota   = make([]int32, 0, len(eps)), make([]int32, 0, len(eps))
			rateList         = make([]float64, 0, len(eps))
		)
		remaining := r.Limit
		for _, e := range eps {
			if remaining == 0 {
				break
			}
			lim, rate := unlimited, 0.0
			switch {
			case e.fifo:
				lim = 1
			case r.EndpointConcurrency > 0 && e.maxConc > 0:
				lim = e.maxConc
			case r.EndpointConcurrency > 0:
				lim = r.EndpointConcurrency
			}
			if r.EndpointConcurrency > 0 {
				rate = e.rate
			}
			q := min(lim, e.due, remaining)
			remaining -= q
			idList, fifoList, rateList = append(idList, e.id), append(fifoList, e.fifo), append(rateList, rate)
			limList, quota = append(limList, int32(lim)), append(quota, int32(q))
		}
		rows, err = tx.Query(ctx, claimSQL, idList, fifoList, limList, rateList, quota, r.Now, r.Owner, r.LeaseUntil)
		out, err = collect(rows, err, func(row scanner) (*store.Claimed, error) {
			c := &store.Claimed{}
			d, _, err := scanDeliveryWith(row, &c.Type, &c.Payload, &c.Headers)
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
		_, err := tx.Exec(ctx, `UPDATE deliveries SET next_attempt_at = $3 WHERE id IN (
			SELECT id FROM deliveries WHERE id = ANY($2) AND lease_owner = $1 AND status = 'pending' ORDER BY id FOR UPDATE)`,
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
		var tag pgconn.CommandTag
		var err error
		if ids == nil {
			tag, err = tx.Exec(ctx, `UPDATE deliveries SET lease_owner = NULL, next_attempt_at = $2 WHERE id IN (
				SELECT id FROM deliveries WHERE lease_owner = $1 AND status = 'pending' ORDER BY id FOR UPDATE)`, owner, time.Now())
		} else {
			tag, err = tx.Exec(ctx, `UPDATE deliveries SET lease_owner = NULL, next_attempt_at = $3 WHERE id IN (
				SELECT id FROM deliveries WHERE id = ANY($2) AND lease_owner = $1 AND status = 'pending' ORDER BY id FOR UPDATE)`,
				owner, ids, time.Now())
		}
		released = tag.RowsAffected()
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
		aHeaders, aBody, aErr, aOutcome = append(aHeaders, jsonText(nonNilMap(a.ResponseHeaders))), append(aBody, a.ResponseBody), append(aErr, a.Error), append(aOutcome, a.Outcome)
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
	)
	for _, id := range order {
		f := finals[id]
		a := f.r.Attempt
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

	var notify bool
	err := s.write(ctx, true, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		// Lock the deliveries in id order (as ExtendLeases does); a deleted one is skipped.
		b.Queue(`SELECT id FROM deliveries WHERE id = ANY($1) ORDER BY id FOR UPDATE`, order)
		b.Queue(`INSERT INTO attempts (`+attemptColumns+`)
			SELECT u.id, u.dlv, u.app, u.ep, u.msg, u.num, u.started, u.latency, u.code, u.headers::jsonb, u.body, u.err, u.outcome
			FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::timestamptz[], $8::bigint[],
				$9::int[], $10::text[], $11::bytea[], $12::text[], $13::text[])
				AS u(id, dlv, app, ep, msg, num, started, latency, code, headers, body, err, outcome)
			WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.id = u.dlv)`,
			aID, aDlv, aApp, aEp, aMsg, aNum, aStarted, aLatency, aCode, aHeaders, aBody, aErr, aOutcome)
		b.Queue(`UPDATE deliveries d SET status = u.status, attempts = d.attempts + u.n, retry_step = d.retry_step + u.n,
				next_attempt_at = u.next, lease_owner = NULL, last_status_code = u.code, last_error = u.err, updated_at = u.at
			FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::int[], $6::text[], $7::timestamptz[])
				AS u(id, status, n, next, code, err, at)
			WHERE d.id = u.id`,
			order, dStatus, dN, dNext, dCode, dErr, dAt)
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
		// Freed slots and FIFO successors: do these endpoints have work due now?
		b.Queue(`SELECT EXISTS (SELECT 1 FROM deliveries WHERE endpoint_id = ANY($1) AND status = 'pending' AND next_attempt_at <= $2)`,
			endpoints, time.Now())
		br := tx.SendBatch(ctx, b)
		for i := 0; i < b.Len()-1; i++ {
			if _, err := br.Exec(); err != nil {
				br.Close()
				return fmt.Errorf("complete: %w", err)
			}
		}
		if err := br.QueryRow().Scan(&notify); err != nil {
			br.Close()
			return fmt.Errorf("complete: %w", err)
		}
		return br.Close()
	})
	if err == nil && notify {
		s.requestNotify()
	}
	return err
}

// NextWake implements store.Store.
func (s *Store) NextWake(ctx context.Context) (time.Time, bool, error) {
	var next *time.Time
	if err := s.pool.QueryRow(ctx, `SELECT min(next_attempt_at) FROM deliveries WHERE status = 'pending'`).Scan(&next); err != nil {
		return time.Time{}, false, err
	}
	if next == nil {
		return time.Time{}, false, nil
	}
	return next.UTC(), true, nil
}

// QueueDepth implements store.Store.
func (s *Store) QueueDepth(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE status = 'pending'`).Scan(&n)
	return n, err
}

// RetryDelivery implements store.Store.
func (s *Store) RetryDelivery(ctx context.Context, appID, id string, now time.Time) (*store.Delivery, error) {
	var d *store.Delivery
	err := s.write(ctx, false, func(tx pgx.Tx) error {
		var status string
		var owner *string
		var next *time.Time
		err := tx.QueryRow(ctx, `SELECT status, lease_owner, next_attempt_at FROM deliveries WHERE id = $1 AND app_id = $2 FOR UPDATE`,
			id, appID).Scan(&status, &owner, &next)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("delivery", id)
		}
		if err != nil {
			return err
		}
		if status == store.DeliveryPending && owner != nil && next != nil && next.After(now) {
			return fmt.Errorf("delivery %s is being attempted right now: %w", id, store.ErrConflict)
		}
		d, err = scanDelivery(tx.QueryRow(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = $1, retry_step = 0,
			lease_owner = NULL, updated_at = $1 WHERE id = $2 RETURNING `+deliveryColumns, now, id))
		return err
	})
	if err != nil {
		return nil, err
	}
	s.requestNotify()
	return d, nil
}

// Replay implements store.Store.
func (s *Store) Replay(ctx context.Context, f store.ReplayFilter, now time.Time) (*store.ReplayResult, error) {
	limit := f.Limit
	if limit <= 0 || limit > 5000 {
		limit = 1000
	}
	since, until := timeBounds(f.TimeRange)
	var res store.ReplayResult
	err := s.write(ctx, false, func(tx pgx.Tx) error {
		res = store.ReplayResult{}
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM endpoints WHERE id = $1 AND app_id = $2)`, f.EndpointID, f.AppID).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return notFound("endpoint", f.EndpointID)
		}
		rows, err := tx.Query(ctx, `SELECT id FROM deliveries WHERE endpoint_id = $1 AND id > $2 AND status <> 'pending'
			AND ($3 = '' OR status = $3) AND created_at >= $4 AND created_at < $5 ORDER BY id LIMIT $6 FOR UPDATE`,
			f.EndpointID, f.After, f.Status, since, until, limit)
		ids, err := collect(rows, err, func(row scanner) (string, error) {
			var id string
			return id, row.Scan(&id)
		})
		if err != nil || len(ids) == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = $1, retry_step = 0, lease_owner = NULL,
			updated_at = $1 WHERE id = ANY($2)`, now, ids); err != nil {
			return err
		}
		res.Replayed = len(ids)
		if len(ids) == limit {
			res.Next = ids[len(ids)-1]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if res.Replayed > 0 {
		s.requestNotify()
	}
	return &res, nil
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
		ids, err := collect(rows, err, func(row scanner) (string, error) {
			var id string
			return id, row.Scan(&id)
		})
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

// DisableFailingEndpoints implements store.Store.
func (s *Store) DisableFailingEndpoints(ctx context.Context, since time.Time, reason string) ([]*store.Endpoint, error) {
	var out []*store.Endpoint
	err := s.write(ctx, false, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE endpoints SET state = 'disabled', disabled_reason = $1, updated_at = $2
			WHERE state = 'enabled' AND failing_since IS NOT NULL AND failing_since < $3 RETURNING `+endpointColumns,
			reason, time.Now(), since)
		out, err = collect(rows, err, scanEndpoint)
		return err
	})
	return out, err
}
