package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlstore"
)

// errCrossNode refuses limits across nodes: no other node shares a SQLite database, so
// its one engine enforces every limit itself (see store.Shared).
var errCrossNode = fmt.Errorf("sqlite: EndpointConcurrency asks for limits across nodes, which only a store.Shared enforces: %w", errors.ErrUnsupported)

// Publish implements store.Store: the message, its idempotency key and one delivery per
// subscribed endpoint are written in one transaction, shared with concurrent publishes.
// A positive in.EndpointConcurrency fails (see store.Shared).
func (s *Store) Publish(ctx context.Context, in *store.PublishInput) (*store.PublishResult, error) {
	if in.EndpointConcurrency > 0 {
		return nil, errCrossNode
	}
	var res *store.PublishResult
	err := s.enqueue(&writeOp{ctx: ctx, done: make(chan error, 1), publish: true, fn: func(w *writer) error {
		var err error
		res, err = w.publish(in)
		return err
	}})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// publish writes one message and its deliveries.
func (w *writer) publish(in *store.PublishInput) (*store.PublishResult, error) {
	m := in.Message
	if orig, err := w.original(in); orig != nil || err != nil {
		return &store.PublishResult{Message: orig, Duplicate: true}, err
	}
	app, err := w.appTargets(m.AppID)
	if err != nil {
		return nil, err
	}
	if !app.exists {
		return nil, store.NotFound("app", m.AppID)
	}
	now := ms(m.CreatedAt)
	if _, err := w.exec(`INSERT INTO messages (id, app_id, type, payload, idempotency_key, source_id, headers, created_at, trace_parent, trace_state)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.AppID, m.Type, []byte(m.Payload), sqlstore.NullString(m.IdempotencyKey), sqlstore.NullString(m.SourceID), sqlstore.JSON(m.Headers), now,
		sqlstore.NullString(m.Trace.Parent), sqlstore.NullString(m.Trace.State)); err != nil {
		return nil, err
	}
	if m.IdempotencyKey != "" {
		if _, err := w.exec(`INSERT OR REPLACE INTO idempotency_keys (app_id, key, message_id, created_at) VALUES (?, ?, ?, ?)`,
			m.AppID, m.IdempotencyKey, m.ID, now); err != nil {
			return nil, err
		}
	}
	res := &store.PublishResult{Message: m}
	fan := domain.NewFanout(m)
	for _, t := range app.targets {
		if !in.Targets(t.id, t.sub, fan) {
			continue
		}
		s := w.s
		s.seq++
		next := m.CreatedAt
		d := &domain.Delivery{
			ID: ids.New("dlv"), AppID: m.AppID, MessageID: m.ID, EndpointID: t.id, Seq: s.seq,
			Status: domain.DeliveryPending, NextAttemptAt: &next, CreatedAt: m.CreatedAt, UpdatedAt: m.CreatedAt,
		}
		var owner any
		due := now
		if in.LeaseOwner != "" && t.state == domain.EndpointEnabled && !t.fifo {
			owner, due = in.LeaseOwner, ms(in.LeaseUntil) // leased: not due again unless the lease runs out
		}
		if _, err := w.exec(`INSERT INTO deliveries (id, app_id, message_id, endpoint_id, seq, status, next_attempt_at, lease_owner, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)`,
			d.ID, d.AppID, d.MessageID, d.EndpointID, d.Seq, due, owner, now, now); err != nil {
			return nil, err
		}
		res.Deliveries = append(res.Deliveries, d)
		if owner != nil {
			res.Leased = append(res.Leased, d)
		}
	}
	return res, nil
}

// original returns the message that in's idempotency key stands for within its TTL, or
// nil when the key is new, expired, or its message is gone.
func (w *writer) original(in *store.PublishInput) (*domain.Message, error) {
	m := in.Message
	if m.IdempotencyKey == "" {
		return nil, nil
	}
	var origID string
	var created int64
	err := w.queryRow(`SELECT message_id, created_at FROM idempotency_keys WHERE app_id = ? AND key = ?`, m.AppID, m.IdempotencyKey).Scan(&origID, &created)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, err
	case created <= ms(m.CreatedAt.Add(-in.IdempotencyTTL)):
		return nil, nil // expired
	}
	orig, err := sqlstore.ScanMessage(dialect{}, w.queryRow(`SELECT `+sqlstore.MessageColumns+` FROM messages WHERE id = ?`, origID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil // the original was purged or deleted: treat the key as new
	}
	return orig, err
}

// appTargets returns whether an app exists and its endpoints that can receive messages,
// from the transaction's cache when another publish in it already looked.
func (w *writer) appTargets(appID string) (*appTargets, error) {
	if a, ok := w.s.appCache[appID]; ok {
		return a, nil
	}
	a := &appTargets{}
	if err := w.queryRow(`SELECT EXISTS (SELECT 1 FROM apps WHERE id = ?)`, appID).Scan(&a.exists); err != nil {
		return nil, err
	}
	if a.exists {
		rows, err := w.query(`SELECT id, event_types, state, fifo, source_id, filter FROM endpoints WHERE app_id = ? AND state != 'disabled'`, appID)
		a.targets, err = sqlstore.Collect(rows, err, func(row sqlstore.Row) (fanoutTarget, error) {
			var t fanoutTarget
			var filterText string
			if err := row.Scan(&t.id, jsonText{&t.sub.EventTypes}, &t.state, &t.fifo, &t.sub.SourceID, &filterText); err != nil {
				return t, err
			}
			var err error
			t.sub.Filter, err = w.s.Filter(filterText)
			return t, err
		})
		if err != nil {
			return nil, err
		}
	}
	w.s.appCache[appID] = a
	return a, nil
}
