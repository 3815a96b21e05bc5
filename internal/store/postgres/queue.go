package postgres

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlstore"
	"github.com/jackc/pgx/v5"
)

// ExtendLeases implements store.Store.
func (s *Store) ExtendLeases(ctx context.Context, owner string, ids []string, until time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	// One round trip: a single statement in an implicit transaction.
	return s.pipelined(ctx, true, func(p *pipe) error {
		// Rows are locked in id order, as Complete locks them, so the two never deadlock.
		// Their slots are renewed with them.
		b := &pgx.Batch{}
		b.Queue(`WITH x AS (
				UPDATE deliveries SET next_attempt_at = $3 WHERE id IN (
					SELECT id FROM deliveries WHERE id = ANY($2) AND lease_owner = $1 AND status = 'pending' ORDER BY id FOR UPDATE)
				RETURNING id, endpoint_id)
			UPDATE endpoint_slots s SET until = $3 FROM x WHERE s.endpoint_id = x.endpoint_id AND s.delivery_id = x.id`,
			owner, ids, until)
		return p.send(ctx, b, true).Close()
	})
}

// ReleaseLeases implements store.Store.
func (s *Store) ReleaseLeases(ctx context.Context, owner string, ids []string) error {
	if ids != nil && len(ids) == 0 {
		return nil
	}
	var released int64
	err := s.pipelined(ctx, true, func(p *pipe) error {
		// Released deliveries give up their slots.
		const free = `, x AS (UPDATE endpoint_slots s SET delivery_id = NULL, until = NULL FROM r
				WHERE s.endpoint_id = r.endpoint_id AND s.delivery_id = r.id)
			SELECT count(*) FROM r`
		b := &pgx.Batch{}
		if ids == nil {
			b.Queue(`WITH r AS (UPDATE deliveries SET lease_owner = NULL, next_attempt_at = $2 WHERE id IN (
				SELECT id FROM deliveries WHERE lease_owner = $1 AND status = 'pending' ORDER BY id FOR UPDATE)
				RETURNING id, endpoint_id)`+free, owner, time.Now())
		} else {
			b.Queue(`WITH r AS (UPDATE deliveries SET lease_owner = NULL, next_attempt_at = $3 WHERE id IN (
				SELECT id FROM deliveries WHERE id = ANY($2) AND lease_owner = $1 AND status = 'pending' ORDER BY id FOR UPDATE)
				RETURNING id, endpoint_id)`+free, owner, ids, time.Now())
		}
		br := p.send(ctx, b, true)
		err := br.QueryRow().Scan(&released)
		if cerr := br.Close(); err == nil {
			err = cerr
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
	c := newCompletion(results)
	// One round trip: the statements run in the implicit transaction of one pipeline.
	err := s.pipelined(ctx, true, func(p *pipe) error {
		b := c.batch()
		br := p.send(ctx, b, true)
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
		s.notifyEndpoints(c.disIDs...)
	}
	return err
}

// completion is a Complete's results as columns of its statements.
type completion struct {
	// Attempts, one per result.
	aID, aDlv, aApp, aEp, aMsg, aHeaders, aErr, aOutcome, aReqHeaders []string
	aNum, aCode                                                       []int32
	aStarted                                                          []time.Time
	aLatency                                                          []int64
	aBody                                                             [][]byte
	// Deliveries, one per delivery in id order: the last result sets its state, each
	// result counts an attempt.
	order         []string
	dStatus, dErr []string
	dN, dCode     []int32
	dNext         []*time.Time
	dAt           []time.Time
	slotEps       []string
	// Endpoints, in id order: the latest result decides its failure streak.
	failedIDs, okIDs, disIDs, disReasons []string
	failedAt, disAt                      []time.Time
}

func newCompletion(results []*store.AttemptResult) *completion {
	c := &completion{}
	type final struct {
		r *store.AttemptResult
		n int32
	}
	finals := map[string]*final{}
	streak := map[string]*store.AttemptResult{}
	disable := map[string]*store.AttemptResult{}
	for _, r := range results {
		a := r.Attempt
		c.aID, c.aDlv, c.aApp, c.aEp, c.aMsg = append(c.aID, a.ID), append(c.aDlv, a.DeliveryID), append(c.aApp, a.AppID), append(c.aEp, a.EndpointID), append(c.aMsg, a.MessageID)
		c.aNum, c.aStarted, c.aLatency, c.aCode = append(c.aNum, int32(a.Number)), append(c.aStarted, a.StartedAt), append(c.aLatency, a.Latency.Microseconds()), append(c.aCode, int32(a.StatusCode))
		c.aHeaders, c.aBody, c.aErr, c.aOutcome = append(c.aHeaders, sqlstore.JSON(a.ResponseHeaders)), append(c.aBody, a.ResponseBody), append(c.aErr, a.Error), append(c.aOutcome, a.Outcome)
		c.aReqHeaders = append(c.aReqHeaders, sqlstore.JSON(a.RequestHeaders))
		if f, ok := finals[a.DeliveryID]; ok {
			f.r, f.n = r, f.n+1
		} else {
			finals[a.DeliveryID] = &final{r: r, n: 1}
			c.order = append(c.order, a.DeliveryID)
		}
		if !r.Unsent {
			streak[a.EndpointID] = r
		}
		if r.DisableEndpoint != "" {
			disable[a.EndpointID] = r
		}
	}
	sort.Strings(c.order)
	for _, id := range c.order {
		f := finals[id]
		a := f.r.Attempt
		c.slotEps = append(c.slotEps, a.EndpointID)
		c.dStatus, c.dN, c.dNext = append(c.dStatus, f.r.Status), append(c.dN, f.n), append(c.dNext, f.r.NextAttemptAt)
		c.dCode, c.dErr, c.dAt = append(c.dCode, int32(a.StatusCode)), append(c.dErr, a.Error), append(c.dAt, a.StartedAt.Add(a.Latency))
	}
	endpoints := make([]string, 0, len(streak))
	for id := range streak {
		endpoints = append(endpoints, id)
	}
	sort.Strings(endpoints)
	for _, id := range endpoints {
		r := streak[id]
		if r.EndpointFailed {
			c.failedIDs, c.failedAt = append(c.failedIDs, id), append(c.failedAt, r.Attempt.StartedAt)
		} else {
			c.okIDs = append(c.okIDs, id)
		}
		if d := disable[id]; d != nil {
			c.disIDs, c.disReasons, c.disAt = append(c.disIDs, id), append(c.disReasons, d.DisableEndpoint), append(c.disAt, d.Attempt.StartedAt)
		}
	}
	return c
}

// batch returns the statements that record the completion.
func (c *completion) batch() *pgx.Batch {
	b := &pgx.Batch{}
	// The deliveries first, in id order (as ExtendLeases locks them); a deleted one is
	// skipped. Their attempts then find them locked by this transaction already.
	b.Queue(`UPDATE deliveries d SET status = u.status, attempts = d.attempts + u.n, retry_step = d.retry_step + u.n,
			next_attempt_at = u.next, lease_owner = NULL, last_status_code = u.code, last_error = u.err, updated_at = u.at
		FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::int[], $6::text[], $7::timestamptz[])
			AS u(id, status, n, next, code, err, at)
		WHERE d.id = u.id`,
		c.order, c.dStatus, c.dN, c.dNext, c.dCode, c.dErr, c.dAt)
	b.Queue(`INSERT INTO attempts (`+sqlstore.AttemptColumns+`)
		SELECT u.id, u.dlv, u.app, u.ep, u.msg, u.num, u.started, u.latency, u.code, u.headers::jsonb, u.body, u.err, u.outcome,
			u.req_headers::jsonb
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::timestamptz[], $8::bigint[],
			$9::int[], $10::text[], $11::bytea[], $12::text[], $13::text[], $14::text[])
			AS u(id, dlv, app, ep, msg, num, started, latency, code, headers, body, err, outcome, req_headers)
		WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.id = u.dlv)`,
		c.aID, c.aDlv, c.aApp, c.aEp, c.aMsg, c.aNum, c.aStarted, c.aLatency, c.aCode, c.aHeaders, c.aBody, c.aErr, c.aOutcome,
		c.aReqHeaders)
	if len(c.disIDs) > 0 {
		b.Queue(`UPDATE endpoints e SET state = 'disabled', disabled_reason = u.reason, updated_at = u.at
			FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS u(id, reason, at) WHERE e.id = u.id`,
			c.disIDs, c.disReasons, c.disAt)
	}
	if len(c.failedIDs) > 0 {
		b.Queue(`UPDATE endpoints e SET failing_since = u.at FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at)
			WHERE e.id = u.id AND e.failing_since IS NULL`, c.failedIDs, c.failedAt)
	}
	if len(c.okIDs) > 0 {
		b.Queue(`UPDATE endpoints SET failing_since = NULL WHERE id = ANY($1) AND failing_since IS NOT NULL`, c.okIDs)
	}
	// Slots last: a claim holding an endpoint lock may wait for them, so this
	// transaction must not wait for an endpoint lock after taking them.
	b.Queue(freeSlotsSQL, c.slotEps, c.order)
	return b
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
		// Messages and attempts older than before are a range of their primary keys
		// (ids are time-ordered); the times themselves are checked too.
		rows, err := tx.Query(ctx, `SELECT id FROM messages WHERE id < $3 AND created_at < $1 AND NOT EXISTS (
			SELECT 1 FROM deliveries d WHERE d.message_id = messages.id AND d.status = 'pending') ORDER BY id LIMIT $2`,
			before, limit, ids.Floor("msg", before))
		msgs, err := sqlstore.Collect(rows, err, sqlstore.ScanString)
		if err != nil {
			return err
		}
		if len(msgs) > 0 {
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
				tag, err := tx.Exec(ctx, st.sql, msgs)
				if err != nil {
					return err
				}
				*st.n += int(tag.RowsAffected())
			}
		}
		tag, err := tx.Exec(ctx, `DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE id < $3 AND started_at < $1 ORDER BY id LIMIT $2)`,
			before, limit, ids.Floor("att", before))
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
			SELECT id FROM source_rejections WHERE received_at < $1 ORDER BY received_at LIMIT $2)`, s.RejectionsBefore(before, time.Now()), limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}
