package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

// The queue is the deliveries table. A pending delivery is due when next_attempt_at has
// passed. Leasing a delivery moves next_attempt_at to the end of the lease, so a leased
// delivery is simply not due, and becomes due again by itself if its holder dies.

const deliveryReturning = ` RETURNING ` + deliveryColumns

// Claim implements store.Store.
func (s *Store) Claim(ctx context.Context, r store.ClaimRequest) ([]*store.Claimed, error) {
	if r.Limit <= 0 {
		return nil, nil
	}
	exclude := encodeJSON(nonNil(r.Exclude))
	var out []*store.Claimed
	err := s.doRelaxed(ctx, func(w *writer) error {
		out = out[:0]
		if r.EndpointConcurrency > 0 {
			ds, err := w.claimLimited(r, exclude)
			if err != nil {
				return err
			}
			return w.claimedMessages(ds, &out)
		}
		now, until := ms(r.Now), ms(r.LeaseUntil)
		// Ordinary endpoints: the due deliveries, oldest due first.
		rows, err := w.query(`UPDATE deliveries SET lease_owner = ?, next_attempt_at = ? WHERE id IN (
				SELECT d.id FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
				WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND e.state = 'enabled' AND e.fifo = 0
				AND d.endpoint_id NOT IN (SELECT value FROM json_each(?))
				ORDER BY d.next_attempt_at LIMIT ?)`+deliveryReturning,
			r.Owner, until, now, exclude, r.Limit)
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		ds, err := collect(rows, scanDelivery)
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		// FIFO endpoints: only the oldest pending delivery, and only if it is due (a leased
		// head is not, which keeps one in flight).
		if room := r.Limit - len(ds); room > 0 {
			rows, err := w.query(`UPDATE deliveries SET lease_owner = ?, next_attempt_at = ? WHERE id IN (
					SELECT h.head FROM (
						SELECT (SELECT d.id FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending' ORDER BY d.seq LIMIT 1) AS head
						FROM endpoints e WHERE e.fifo = 1 AND e.state = 'enabled' AND e.id NOT IN (SELECT value FROM json_each(?))
					) h JOIN deliveries x ON x.id = h.head WHERE x.next_attempt_at <= ? LIMIT ?)`+deliveryReturning,
				r.Owner, until, exclude, now, room)
			if err != nil {
				return fmt.Errorf("claim fifo: %w", err)
			}
			fifo, err := collect(rows, scanDelivery)
			if err != nil {
				return fmt.Errorf("claim fifo: %w", err)
			}
			ds = append(ds, fifo...)
		}
		return w.claimedMessages(ds, &out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// claimedMessages adds each claimed delivery's message type, payload and headers.
func (w *writer) claimedMessages(ds []*domain.Delivery, out *[]*store.Claimed) error {
	for _, d := range ds {
		c := &store.Claimed{Delivery: d}
		var headers string
		if err := w.queryRow(`SELECT type, payload, headers FROM messages WHERE id = ?`, d.MessageID).Scan(&c.Type, &c.Payload, &headers); err != nil {
			return fmt.Errorf("claim: message %s: %w", d.MessageID, err)
		}
		if headers != "{}" {
			c.Headers = decodeMap(headers)
		}
		*out = append(*out, c)
	}
	return nil
}

// claimLimited is Claim with per-endpoint limits across owners (r.EndpointConcurrency > 0):
// endpoint by endpoint, oldest due work first, it leases no more than the endpoint's
// concurrency limit minus its unexpired leases, and no more than its rate bucket holds.
// The single writer makes the count and the claim atomic. Buckets live in a temporary
// table of the write connection: transactional, and refilled after a restart.
func (w *writer) claimLimited(r store.ClaimRequest, exclude string) ([]*domain.Delivery, error) {
	now, until := ms(r.Now), ms(r.LeaseUntil)
	rows, err := w.query(`SELECT e.id, e.fifo, e.max_concurrency, e.rate_limit,
			(SELECT COUNT(*) FROM deliveries l WHERE l.endpoint_id = e.id AND l.status = 'pending'
				AND l.lease_owner IS NOT NULL AND l.next_attempt_at > ?) AS leased,
			(SELECT MIN(d.next_attempt_at) FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending') AS first
		FROM endpoints e WHERE e.state = 'enabled' AND e.id NOT IN (SELECT value FROM json_each(?))
		AND EXISTS (SELECT 1 FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.next_attempt_at <= ?)
		ORDER BY first, e.id`, now, exclude, now)
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	type candidate struct {
		id      string
		fifo    bool
		maxConc int
		rate    float64
		leased  int
		first   int64
	}
	var eps []candidate
	for rows.Next() {
		var c candidate
		var fifo int
		if err := rows.Scan(&c.id, &fifo, &c.maxConc, &c.rate, &c.leased, &c.first); err != nil {
			rows.Close()
			return nil, fmt.Errorf("claim: %w", err)
		}
		c.fifo = fifo != 0
		eps = append(eps, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	if len(eps) > 0 {
		if _, err := w.exec(`CREATE TEMP TABLE IF NOT EXISTS endpoint_buckets (
			endpoint_id TEXT PRIMARY KEY, tokens REAL NOT NULL, updated_at INTEGER NOT NULL)`); err != nil {
			return nil, fmt.Errorf("claim: %w", err)
		}
	}
	var out []*domain.Delivery
	for _, c := range eps {
		remaining := r.Limit - len(out)
		if remaining <= 0 {
			break
		}
		limit := r.EndpointConcurrency
		switch {
		case c.fifo:
			limit = 1
		case c.maxConc > 0:
			limit = c.maxConc
		}
		room := min(remaining, limit-c.leased)
		var tokens float64
		if c.rate > 0 {
			burst := max(1, math.Floor(c.rate))
			tokens = burst
			var have float64
			var at int64
			err := w.queryRow(`SELECT tokens, updated_at FROM temp.endpoint_buckets WHERE endpoint_id = ?`, c.id).Scan(&have, &at)
			switch {
			case err == nil:
				tokens = min(burst, have+c.rate*float64(max(0, now-at))/1000)
			case !errors.Is(err, sql.ErrNoRows):
				return nil, fmt.Errorf("claim: rate bucket: %w", err)
			}
			room = min(room, int(math.Floor(tokens)))
		}
		var ds []*domain.Delivery
		if room > 0 {
			var rows *sql.Rows
			if c.fifo {
				rows, err = w.query(`UPDATE deliveries SET lease_owner = ?, next_attempt_at = ? WHERE id = (
					SELECT d.id FROM deliveries d WHERE d.endpoint_id = ? AND d.status = 'pending' ORDER BY d.seq LIMIT 1)
					AND next_attempt_at <= ?`+deliveryReturning, r.Owner, until, c.id, now)
			} else {
				rows, err = w.query(`UPDATE deliveries SET lease_owner = ?, next_attempt_at = ? WHERE id IN (
					SELECT d.id FROM deliveries d WHERE d.endpoint_id = ? AND d.status = 'pending' AND d.next_attempt_at <= ?
					ORDER BY d.next_attempt_at LIMIT ?)`+deliveryReturning, r.Owner, until, c.id, now, room)
			}
			if err != nil {
				return nil, fmt.Errorf("claim: %w", err)
			}
			if ds, err = collect(rows, scanDelivery); err != nil {
				return nil, fmt.Errorf("claim: %w", err)
			}
			out = append(out, ds...)
		}
		if c.rate > 0 {
			if _, err := w.exec(`INSERT INTO temp.endpoint_buckets (endpoint_id, tokens, updated_at) VALUES (?, ?, ?)
				ON CONFLICT (endpoint_id) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at`,
				c.id, tokens-float64(len(ds)), now); err != nil {
				return nil, fmt.Errorf("claim: rate bucket: %w", err)
			}
		}
	}
	return out, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ExtendLeases implements store.Store.
func (s *Store) ExtendLeases(ctx context.Context, owner string, ids []string, until time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	return s.doRelaxed(ctx, func(w *writer) error {
		_, err := w.exec(`UPDATE deliveries SET next_attempt_at = ? WHERE lease_owner = ? AND status = 'pending'
			AND id IN (SELECT value FROM json_each(?))`, ms(until), owner, encodeJSON(ids))
		return err
	})
}

// ReleaseLeases implements store.Store.
func (s *Store) ReleaseLeases(ctx context.Context, owner string, ids []string) error {
	now := ms(time.Now())
	return s.doRelaxed(ctx, func(w *writer) error {
		if ids == nil {
			_, err := w.exec(`UPDATE deliveries SET lease_owner = NULL, next_attempt_at = ? WHERE lease_owner = ? AND status = 'pending'`, now, owner)
			return err
		}
		_, err := w.exec(`UPDATE deliveries SET lease_owner = NULL, next_attempt_at = ? WHERE lease_owner = ? AND status = 'pending'
			AND id IN (SELECT value FROM json_each(?))`, now, owner, encodeJSON(ids))
		return err
	})
}

// Complete implements store.Store.
func (s *Store) Complete(ctx context.Context, results []*store.AttemptResult) error {
	if len(results) == 0 {
		return nil
	}
	return s.doRelaxed(ctx, func(w *writer) error {
		// The latest result per endpoint decides its failure streak.
		streak := map[string]*store.AttemptResult{}
		for _, r := range results {
			a := r.Attempt
			if _, err := w.exec(`INSERT INTO attempts (`+attemptColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				a.ID, a.DeliveryID, a.AppID, a.EndpointID, a.MessageID, a.Number, ms(a.StartedAt), a.Latency.Microseconds(),
				a.StatusCode, encodeJSON(nonNilMap(a.ResponseHeaders)), a.ResponseBody, a.Error, a.Outcome); err != nil {
				if isForeignKey(err) {
					continue // the delivery was deleted with its endpoint or app meanwhile
				}
				return fmt.Errorf("complete %s: %w", a.DeliveryID, err)
			}
			if _, err := w.exec(`UPDATE deliveries SET status = ?, attempts = attempts + 1, retry_step = retry_step + 1,
				next_attempt_at = ?, lease_owner = NULL, last_status_code = ?, last_error = ?, updated_at = ? WHERE id = ?`,
				r.Status, nullMS(r.NextAttemptAt), a.StatusCode, a.Error, ms(a.StartedAt.Add(a.Latency)), a.DeliveryID); err != nil {
				return fmt.Errorf("complete %s: %w", a.DeliveryID, err)
			}
			streak[a.EndpointID] = r
			if r.DisableEndpoint != "" {
				if _, err := w.exec(`UPDATE endpoints SET state = 'disabled', disabled_reason = ?, updated_at = ? WHERE id = ?`,
					r.DisableEndpoint, ms(a.StartedAt), a.EndpointID); err != nil {
					return err
				}
			}
		}
		for id, r := range streak {
			var err error
			if r.EndpointFailed {
				_, err = w.exec(`UPDATE endpoints SET failing_since = ? WHERE id = ? AND failing_since IS NULL`, ms(r.Attempt.StartedAt), id)
			} else {
				_, err = w.exec(`UPDATE endpoints SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL`, id)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func isForeignKey(err error) bool {
	return err != nil && strings.Contains(err.Error(), "FOREIGN KEY constraint failed")
}

// NextWake implements store.Store.
func (s *Store) NextWake(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullInt64
	if err := s.read.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending'`).Scan(&next); err != nil {
		return time.Time{}, false, err
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	return fromMS(next.Int64), true, nil
}

// QueueDepth implements store.Store.
func (s *Store) QueueDepth(ctx context.Context) (int64, error) {
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries WHERE status = 'pending'`).Scan(&n)
	return n, err
}

// RetryDelivery implements store.Store.
func (s *Store) RetryDelivery(ctx context.Context, appID, id string, now time.Time) (*domain.Delivery, error) {
	var d *domain.Delivery
	err := s.do(ctx, func(w *writer) error {
		var status string
		var owner sql.NullString
		var next sql.NullInt64
		err := w.queryRow(`SELECT status, lease_owner, next_attempt_at FROM deliveries WHERE id = ? AND app_id = ?`, id, appID).Scan(&status, &owner, &next)
		if errors.Is(err, sql.ErrNoRows) {
			return store.NotFound("delivery", id)
		}
		if err != nil {
			return err
		}
		if status == domain.DeliveryPending && owner.Valid && next.Int64 > ms(now) {
			return fmt.Errorf("delivery %s is being attempted right now: %w", id, store.ErrConflict)
		}
		d, err = scanDelivery(w.queryRow(`UPDATE deliveries SET status = 'pending', next_attempt_at = ?, retry_step = 0,
			lease_owner = NULL, updated_at = ? WHERE id = ?`+deliveryReturning, ms(now), ms(now), id))
		return err
	})
	return d, err
}

// Replay implements store.Store.
func (s *Store) Replay(ctx context.Context, f store.ReplayFilter, now time.Time) (*store.ReplayResult, error) {
	limit := f.Limit
	if limit <= 0 || limit > 5000 {
		limit = 1000
	}
	since, until := timeBounds(f.TimeRange)
	var res store.ReplayResult
	err := s.do(ctx, func(w *writer) error {
		res = store.ReplayResult{}
		var n int
		if err := w.queryRow(`SELECT COUNT(*) FROM endpoints WHERE id = ? AND app_id = ?`, f.EndpointID, f.AppID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return store.NotFound("endpoint", f.EndpointID)
		}
		rows, err := w.query(`SELECT id FROM deliveries WHERE endpoint_id = ? AND id > ? AND status != 'pending'
			AND (? = '' OR status = ?) AND created_at >= ? AND created_at < ? ORDER BY id LIMIT ?`,
			f.EndpointID, f.After, f.Status, f.Status, since, until, limit)
		if err != nil {
			return err
		}
		ids, err := collect(rows, scanID)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		if _, err := w.exec(`UPDATE deliveries SET status = 'pending', next_attempt_at = ?, retry_step = 0, lease_owner = NULL, updated_at = ?
			WHERE id IN (SELECT value FROM json_each(?))`, ms(now), ms(now), encodeJSON(ids)); err != nil {
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
	return &res, nil
}

// Purge implements store.Store.
func (s *Store) Purge(ctx context.Context, before, idemBefore time.Time, limit int) (*store.PurgeResult, error) {
	if limit <= 0 {
		limit = 500
	}
	var res store.PurgeResult
	err := s.do(ctx, func(w *writer) error {
		res = store.PurgeResult{}
		rows, err := w.query(`SELECT id FROM messages WHERE created_at < ? AND NOT EXISTS (
			SELECT 1 FROM deliveries d WHERE d.message_id = messages.id AND d.status = 'pending') ORDER BY created_at LIMIT ?`, ms(before), limit)
		if err != nil {
			return err
		}
		ids, err := collect(rows, scanID)
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			list := encodeJSON(ids)
			n, err := w.execN(`DELETE FROM attempts WHERE message_id IN (SELECT value FROM json_each(?))`, list)
			if err != nil {
				return err
			}
			res.Attempts += int(n)
			if n, err = w.execN(`DELETE FROM deliveries WHERE message_id IN (SELECT value FROM json_each(?))`, list); err != nil {
				return err
			}
			res.Deliveries = int(n)
			if n, err = w.execN(`DELETE FROM messages WHERE id IN (SELECT value FROM json_each(?))`, list); err != nil {
				return err
			}
			res.Messages = int(n)
		}
		n, err := w.execN(`DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE started_at < ? ORDER BY started_at LIMIT ?)`, ms(before), limit)
		if err != nil {
			return err
		}
		res.Attempts += int(n)
		if n, err = w.execN(`DELETE FROM idempotency_keys WHERE (app_id, key) IN (
			SELECT app_id, key FROM idempotency_keys WHERE created_at < ? ORDER BY created_at LIMIT ?)`, ms(idemBefore), limit); err != nil {
			return err
		}
		res.IdempotencyKeys = int(n)
		if _, err := w.exec(`DELETE FROM source_rejections WHERE id IN (
			SELECT id FROM source_rejections WHERE received_at < ? LIMIT ?)`, ms(before), limit); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// DisableFailingEndpoints implements store.Store.
func (s *Store) DisableFailingEndpoints(ctx context.Context, since time.Time, reason string) ([]*domain.Endpoint, error) {
	var out []*domain.Endpoint
	err := s.do(ctx, func(w *writer) error {
		rows, err := w.query(`UPDATE endpoints SET state = 'disabled', disabled_reason = ?, updated_at = ?
			WHERE state = 'enabled' AND failing_since IS NOT NULL AND failing_since < ? RETURNING `+endpointColumns,
			reason, ms(time.Now()), ms(since))
		if err != nil {
			return err
		}
		out, err = collect(rows, scanEndpoint)
		return err
	})
	return out, err
}

func scanID(row interface{ Scan(...any) error }) (string, error) {
	var id string
	err := row.Scan(&id)
	return id, err
}
