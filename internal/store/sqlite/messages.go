package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

const messageColumns = `id, app_id, type, payload, COALESCE(idempotency_key, ''), COALESCE(source_id, ''), headers, created_at`

func scanMessage(row interface{ Scan(...any) error }) (*domain.Message, error) {
	var m domain.Message
	var payload []byte
	var headers string
	var created int64
	if err := row.Scan(&m.ID, &m.AppID, &m.Type, &payload, &m.IdempotencyKey, &m.SourceID, &headers, &created); err != nil {
		return nil, err
	}
	if headers != "{}" {
		m.Headers = decodeMap(headers)
	}
	if payload != nil {
		m.Payload = payload
	}
	m.CreatedAt = fromMS(created)
	return &m, nil
}

// Publish implements store.Store: the message, its idempotency key and one delivery per
// subscribed endpoint are written in one transaction, shared with concurrent publishes.
func (s *Store) Publish(ctx context.Context, in *store.PublishInput) (*store.PublishResult, error) {
	var res *store.PublishResult
	err := s.enqueue(&writeOp{ctx: ctx, done: make(chan error, 1), publish: true, fn: func(w *writer) error {
		res = &store.PublishResult{}
		m := in.Message
		now := ms(m.CreatedAt)
		if m.IdempotencyKey != "" {
			var origID string
			var created int64
			err := w.queryRow(`SELECT message_id, created_at FROM idempotency_keys WHERE app_id = ? AND key = ?`, m.AppID, m.IdempotencyKey).Scan(&origID, &created)
			switch {
			case err == nil && created > ms(m.CreatedAt.Add(-in.IdempotencyTTL)):
				orig, err := scanMessage(w.queryRow(`SELECT `+messageColumns+` FROM messages WHERE id = ?`, origID))
				if err == nil {
					res.Message, res.Duplicate = orig, true
					return nil
				}
				if !errors.Is(err, sql.ErrNoRows) {
					return err
				}
				// The original was purged or deleted: treat the key as new.
			case err != nil && !errors.Is(err, sql.ErrNoRows):
				return err
			}
		}
		app, err := w.appTargets(m.AppID)
		if err != nil {
			return err
		}
		if !app.exists {
			return store.NotFound("app", m.AppID)
		}
		if _, err := w.exec(`INSERT INTO messages (id, app_id, type, payload, idempotency_key, source_id, headers, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			m.ID, m.AppID, m.Type, []byte(m.Payload), nullString(m.IdempotencyKey), nullString(m.SourceID), encodeJSON(nonNilMap(m.Headers)), now); err != nil {
			return err
		}
		if m.IdempotencyKey != "" {
			if _, err := w.exec(`INSERT OR REPLACE INTO idempotency_keys (app_id, key, message_id, created_at) VALUES (?, ?, ?, ?)`,
				m.AppID, m.IdempotencyKey, m.ID, now); err != nil {
				return err
			}
		}
		var targets []fanoutTarget
		for _, t := range app.targets {
			if (t.sourceID == "" || t.sourceID == m.SourceID) && domain.MatchEventType(t.eventTypes, m.Type) {
				targets = append(targets, t)
			}
		}
		for _, t := range targets {
			s.seq++
			d := &domain.Delivery{
				ID: ids.New("dlv"), AppID: m.AppID, MessageID: m.ID, EndpointID: t.id, Seq: s.seq,
				Status: domain.DeliveryPending, CreatedAt: m.CreatedAt, UpdatedAt: m.CreatedAt,
			}
			next := m.CreatedAt
			d.NextAttemptAt = &next
			var owner any
			due := now
			lease := in.LeaseOwner != "" && t.state == domain.EndpointEnabled && !t.fifo
			if lease && in.EndpointConcurrency > 0 {
				// Limits across owners: rate-limited endpoints go through Claim's bucket, and the
				// others are leased only below their concurrency limit.
				limit := t.maxConcurrency
				if limit <= 0 {
					limit = in.EndpointConcurrency
				}
				var leased int
				if err := w.queryRow(`SELECT COUNT(*) FROM deliveries WHERE endpoint_id = ? AND status = 'pending'
					AND lease_owner IS NOT NULL AND next_attempt_at > ?`, t.id, now).Scan(&leased); err != nil {
					return err
				}
				lease = t.rateLimit == 0 && leased < limit
			}
			if lease {
				owner, due = in.LeaseOwner, ms(in.LeaseUntil) // leased: not due again unless the lease runs out
			}
			if _, err := w.exec(`INSERT INTO deliveries (id, app_id, message_id, endpoint_id, seq, status, next_attempt_at, lease_owner, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)`,
				d.ID, d.AppID, d.MessageID, d.EndpointID, d.Seq, due, owner, now, now); err != nil {
				return err
			}
			res.Deliveries = append(res.Deliveries, d)
			if owner != nil {
				res.Leased = append(res.Leased, d)
			}
		}
		res.Message = m
		return nil
	}})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// appTargets returns whether an app exists and its endpoints that can receive messages,
// from the transaction's cache when another publish in it already looked.
func (w *writer) appTargets(appID string) (*appTargets, error) {
	if a, ok := w.s.appCache[appID]; ok {
		return a, nil
	}
	a := &appTargets{}
	var n int
	if err := w.queryRow(`SELECT COUNT(*) FROM apps WHERE id = ?`, appID).Scan(&n); err != nil {
		return nil, err
	}
	a.exists = n > 0
	if a.exists {
		rows, err := w.query(`SELECT id, event_types, state, fifo, source_id, max_concurrency, rate_limit FROM endpoints WHERE app_id = ? AND state != 'disabled'`, appID)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var t fanoutTarget
			var types string
			var fifo int
			if err := rows.Scan(&t.id, &types, &t.state, &fifo, &t.sourceID, &t.maxConcurrency, &t.rateLimit); err != nil {
				return nil, err
			}
			t.eventTypes, t.fifo = decodeList(types), fifo != 0
			a.targets = append(a.targets, t)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	w.s.appCache[appID] = a
	return a, nil
}

// GetMessage implements store.Store.
func (s *Store) GetMessage(ctx context.Context, appID, id string) (*domain.Message, error) {
	m, err := scanMessage(s.read.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = ? AND app_id = ?`, id, appID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.NotFound("message", id)
	}
	return m, err
}

// timeBounds turns a TimeRange into SQL arguments; open bounds become the extremes.
func timeBounds(r store.TimeRange) (int64, int64) {
	since, until := int64(-1<<62), int64(1<<62)
	if !r.Since.IsZero() {
		since = ms(r.Since)
	}
	if !r.Until.IsZero() {
		until = ms(r.Until)
	}
	return since, until
}

// ListMessages implements store.Store.
func (s *Store) ListMessages(ctx context.Context, f store.MessageFilter) ([]*domain.Message, string, error) {
	limit := store.PageLimit(f.Page)
	since, until := timeBounds(f.TimeRange)
	rows, err := s.read.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE app_id = ? AND (? = '' OR type = ?) AND (? = '' OR source_id = ?) AND created_at >= ? AND created_at < ? AND (? = '' OR id < ?)
		ORDER BY id DESC LIMIT ?`, f.AppID, f.Type, f.Type, f.SourceID, f.SourceID, since, until, f.Cursor, f.Cursor, limit+1)
	if err != nil {
		return nil, "", err
	}
	msgs, err := collect(rows, scanMessage)
	if err != nil {
		return nil, "", err
	}
	msgs, next := store.TrimPage(msgs, limit, func(m *domain.Message) string { return m.ID })
	return msgs, next, nil
}

const deliveryColumns = `id, app_id, message_id, endpoint_id, seq, status, attempts, retry_step, next_attempt_at,
	last_status_code, last_error, created_at, updated_at`

func scanDelivery(row interface{ Scan(...any) error }) (*domain.Delivery, error) {
	var d domain.Delivery
	var next sql.NullInt64
	var created, updated int64
	if err := row.Scan(&d.ID, &d.AppID, &d.MessageID, &d.EndpointID, &d.Seq, &d.Status, &d.Attempts, &d.RetryStep, &next,
		&d.LastStatusCode, &d.LastError, &created, &updated); err != nil {
		return nil, err
	}
	if d.Status == domain.DeliveryPending {
		d.NextAttemptAt = fromNullMS(next)
	}
	d.CreatedAt, d.UpdatedAt = fromMS(created), fromMS(updated)
	return &d, nil
}

// GetDelivery implements store.Store.
func (s *Store) GetDelivery(ctx context.Context, appID, id string) (*domain.Delivery, error) {
	d, err := scanDelivery(s.read.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = ? AND app_id = ?`, id, appID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.NotFound("delivery", id)
	}
	return d, err
}

// ListDeliveries implements store.Store.
func (s *Store) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]*domain.Delivery, string, error) {
	limit := store.PageLimit(f.Page)
	since, until := timeBounds(f.TimeRange)
	rows, err := s.read.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE app_id = ? AND (? = '' OR endpoint_id = ?) AND (? = '' OR message_id = ?) AND (? = '' OR status = ?)
		AND created_at >= ? AND created_at < ? AND (? = '' OR id < ?)
		ORDER BY id DESC LIMIT ?`,
		f.AppID, f.EndpointID, f.EndpointID, f.MessageID, f.MessageID, f.Status, f.Status, since, until, f.Cursor, f.Cursor, limit+1)
	if err != nil {
		return nil, "", err
	}
	ds, err := collect(rows, scanDelivery)
	if err != nil {
		return nil, "", err
	}
	ds, next := store.TrimPage(ds, limit, func(d *domain.Delivery) string { return d.ID })
	return ds, next, nil
}

const attemptColumns = `id, delivery_id, app_id, endpoint_id, message_id, number, started_at, latency_us, status_code,
	response_headers, response_body, error, outcome`

func scanAttempt(row interface{ Scan(...any) error }) (*domain.Attempt, error) {
	var a domain.Attempt
	var started, latency int64
	var headers string
	if err := row.Scan(&a.ID, &a.DeliveryID, &a.AppID, &a.EndpointID, &a.MessageID, &a.Number, &started, &latency, &a.StatusCode,
		&headers, &a.ResponseBody, &a.Error, &a.Outcome); err != nil {
		return nil, err
	}
	a.StartedAt = fromMS(started)
	a.Latency = time.Duration(latency) * time.Microsecond
	a.ResponseHeaders = decodeMap(headers)
	return &a, nil
}

// ListAttempts implements store.Store.
func (s *Store) ListAttempts(ctx context.Context, f store.AttemptFilter) ([]*domain.Attempt, string, error) {
	limit := store.PageLimit(f.Page)
	since, until := timeBounds(f.TimeRange)
	rows, err := s.read.QueryContext(ctx, `SELECT `+attemptColumns+` FROM attempts
		WHERE app_id = ? AND (? = '' OR delivery_id = ?) AND (? = '' OR endpoint_id = ?) AND (? = '' OR message_id = ?)
		AND started_at >= ? AND started_at < ? AND (? = '' OR id < ?)
		ORDER BY id DESC LIMIT ?`,
		f.AppID, f.DeliveryID, f.DeliveryID, f.EndpointID, f.EndpointID, f.MessageID, f.MessageID, since, until, f.Cursor, f.Cursor, limit+1)
	if err != nil {
		return nil, "", err
	}
	as, err := collect(rows, scanAttempt)
	if err != nil {
		return nil, "", err
	}
	as, next := store.TrimPage(as, limit, func(a *domain.Attempt) string { return a.ID })
	return as, next, nil
}
