package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlstore"
)

// The queue is the deliveries table. A pending delivery is due when next_attempt_at has
// passed. Leasing a delivery moves next_attempt_at to the end of the lease, so a leased
// delivery is simply not due, and becomes due again by itself if its holder dies.

const deliveryReturning = ` RETURNING ` + sqlstore.DeliveryColumns

// scanDelivery scans sqlstore.DeliveryColumns.
func scanDelivery(row sqlstore.Row) (*domain.Delivery, error) {
	return sqlstore.ScanDelivery(dialect{}, row)
}

// Claim implements store.Store. A positive r.EndpointConcurrency fails (see store.Shared).
func (s *Store) Claim(ctx context.Context, r store.ClaimRequest) ([]*store.Claimed, error) {
	if r.Limit <= 0 {
		return nil, nil
	}
	if r.EndpointConcurrency > 0 {
		return nil, errCrossNode
	}
	exclude := encodeJSON(sqlstore.NonNil(r.Exclude))
	var out []*store.Claimed
	err := s.doRelaxed(ctx, func(w *writer) error {
		out = out[:0]
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
		ds, err := sqlstore.Collect(rows, err, scanDelivery)
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
			fifo, err := sqlstore.Collect(rows, err, scanDelivery)
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

// claimedMessages adds each claimed delivery's message type, payload and headers, read
// with one statement for all of them.
func (w *writer) claimedMessages(ds []*domain.Delivery, out *[]*store.Claimed) error {
	if len(ds) == 0 {
		return nil
	}
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.MessageID
	}
	rows, err := w.query(`SELECT m.id, m.type, m.payload, m.headers, COALESCE(m.trace_parent, ''), COALESCE(m.trace_state, '')
		FROM json_each(?) j JOIN messages m ON m.id = j.value`, encodeJSON(ids))
	msgs, err := sqlstore.Collect(rows, err, func(row sqlstore.Row) (*store.Claimed, error) {
		var c store.Claimed
		var id string
		err := row.Scan(&id, &c.Type, &c.Payload, jsonText{&c.Headers}, &c.Trace.Parent, &c.Trace.State)
		c.Delivery = &domain.Delivery{MessageID: id}
		return &c, err
	})
	if err != nil {
		return fmt.Errorf("claim: messages: %w", err)
	}
	byID := make(map[string]*store.Claimed, len(msgs))
	for _, m := range msgs {
		byID[m.Delivery.MessageID] = m
	}
	for _, d := range ds {
		m, ok := byID[d.MessageID]
		if !ok {
			return fmt.Errorf("claim: message %s: %w", d.MessageID, sql.ErrNoRows)
		}
		c := *m
		if m.Delivery == nil { // a second delivery of the message: its own copies
			c.Payload, c.Headers = bytes.Clone(m.Payload), maps.Clone(m.Headers)
		}
		m.Delivery, c.Delivery = nil, d
		if len(c.Headers) == 0 {
			c.Headers = nil
		}
		*out = append(*out, &c)
	}
	return nil
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

// Purge implements store.Store.
func (s *Store) Purge(ctx context.Context, before, idemBefore time.Time, limit int) (*store.PurgeResult, error) {
	if limit <= 0 {
		limit = 500
	}
	var res store.PurgeResult
	err := s.do(ctx, func(w *writer) error {
		res = store.PurgeResult{}
		// Messages and attempts older than before are a range of their primary keys
		// (ids are time-ordered); the times themselves are checked too.
		rows, err := w.query(`SELECT id FROM messages WHERE id < ? AND created_at < ? AND NOT EXISTS (
			SELECT 1 FROM deliveries d WHERE d.message_id = messages.id AND d.status = 'pending') ORDER BY id LIMIT ?`,
			ids.Floor("msg", before), ms(before), limit)
		if err != nil {
			return err
		}
		msgs, err := sqlstore.Collect(rows, err, sqlstore.ScanString)
		if err != nil {
			return err
		}
		if len(msgs) > 0 {
			list := encodeJSON(msgs)
			n, err := w.execN(`DELETE FROM attempts WHERE delivery_id IN (
				SELECT id FROM deliveries WHERE message_id IN (SELECT value FROM json_each(?)))`, list)
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
		n, err := w.execN(`DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE id < ? AND started_at < ? ORDER BY id LIMIT ?)`,
			ids.Floor("att", before), ms(before), limit)
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
			SELECT id FROM source_rejections WHERE received_at < ? ORDER BY received_at LIMIT ?)`, ms(s.RejectionsBefore(before, time.Now())), limit); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}
