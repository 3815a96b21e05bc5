package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
	"github.com/jackc/pgx/v5"
)

const messageColumns = `id, app_id, type, payload, COALESCE(idempotency_key, ''), COALESCE(source_id, ''), headers, created_at`

func scanMessage(row scanner) (*domain.Message, error) {
	var m domain.Message
	var payload []byte
	if err := row.Scan(&m.ID, &m.AppID, &m.Type, &payload, &m.IdempotencyKey, &m.SourceID, &m.Headers, &m.CreatedAt); err != nil {
		return nil, err
	}
	if len(m.Headers) == 0 {
		m.Headers = nil
	}
	if payload != nil {
		m.Payload = payload
	}
	m.CreatedAt = utc(m.CreatedAt)
	return &m, nil
}

// GetMessage implements store.Store.
func (s *Store) GetMessage(ctx context.Context, appID, id string) (*domain.Message, error) {
	m, err := scanMessage(s.pool.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = $1 AND app_id = $2`, id, appID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.NotFound("message", id)
	}
	return m, err
}

// ListMessages implements store.Store.
func (s *Store) ListMessages(ctx context.Context, f store.MessageFilter) ([]*domain.Message, string, error) {
	limit := store.PageLimit(f.Page)
	since, until := timeBounds(f.TimeRange)
	rows, err := s.pool.Query(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE app_id = $1 AND ($2 = '' OR type = $2) AND ($7 = '' OR source_id = $7) AND created_at >= $3 AND created_at < $4
		AND ($5 = '' OR id < $5)
		ORDER BY id DESC LIMIT $6`, f.AppID, f.Type, since, until, f.Cursor, limit+1, f.SourceID)
	msgs, err := collect(rows, err, scanMessage)
	if err != nil {
		return nil, "", err
	}
	msgs, next := store.TrimPage(msgs, limit, func(m *domain.Message) string { return m.ID })
	return msgs, next, nil
}

const deliveryColumns = `id, app_id, message_id, endpoint_id, seq, status, attempts, retry_step, next_attempt_at,
	last_status_code, last_error, created_at, updated_at`

// deliveryColumnsOf is deliveryColumns qualified by a table alias.
func deliveryColumnsOf(alias string) string {
	return alias + `.id, ` + alias + `.app_id, ` + alias + `.message_id, ` + alias + `.endpoint_id, ` + alias + `.seq, ` +
		alias + `.status, ` + alias + `.attempts, ` + alias + `.retry_step, ` + alias + `.next_attempt_at, ` +
		alias + `.last_status_code, ` + alias + `.last_error, ` + alias + `.created_at, ` + alias + `.updated_at`
}

func scanDelivery(row scanner) (*domain.Delivery, error) {
	d, _, err := scanDeliveryWith(row)
	return d, err
}

// scanDeliveryWith scans a delivery followed by extra columns.
func scanDeliveryWith(row scanner, extra ...any) (*domain.Delivery, []any, error) {
	var d domain.Delivery
	var next *time.Time
	dest := append([]any{&d.ID, &d.AppID, &d.MessageID, &d.EndpointID, &d.Seq, &d.Status, &d.Attempts, &d.RetryStep, &next,
		&d.LastStatusCode, &d.LastError, &d.CreatedAt, &d.UpdatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, nil, err
	}
	if d.Status == domain.DeliveryPending {
		d.NextAttemptAt = utcPtr(next)
	}
	d.CreatedAt, d.UpdatedAt = utc(d.CreatedAt), utc(d.UpdatedAt)
	return &d, extra, nil
}

// GetDelivery implements store.Store.
func (s *Store) GetDelivery(ctx context.Context, appID, id string) (*domain.Delivery, error) {
	d, err := scanDelivery(s.pool.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = $1 AND app_id = $2`, id, appID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.NotFound("delivery", id)
	}
	return d, err
}

// ListDeliveries implements store.Store.
func (s *Store) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]*domain.Delivery, string, error) {
	limit := store.PageLimit(f.Page)
	since, until := timeBounds(f.TimeRange)
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE app_id = $1 AND ($2 = '' OR endpoint_id = $2) AND ($3 = '' OR message_id = $3) AND ($4 = '' OR status = $4)
		AND created_at >= $5 AND created_at < $6 AND ($7 = '' OR id < $7)
		ORDER BY id DESC LIMIT $8`,
		f.AppID, f.EndpointID, f.MessageID, f.Status, since, until, f.Cursor, limit+1)
	ds, err := collect(rows, err, scanDelivery)
	if err != nil {
		return nil, "", err
	}
	ds, next := store.TrimPage(ds, limit, func(d *domain.Delivery) string { return d.ID })
	return ds, next, nil
}

const attemptColumns = `id, delivery_id, app_id, endpoint_id, message_id, number, started_at, latency_us, status_code,
	response_headers, response_body, error, outcome`

func scanAttempt(row scanner) (*domain.Attempt, error) {
	var a domain.Attempt
	var latency int64
	if err := row.Scan(&a.ID, &a.DeliveryID, &a.AppID, &a.EndpointID, &a.MessageID, &a.Number, &a.StartedAt, &latency, &a.StatusCode,
		&a.ResponseHeaders, &a.ResponseBody, &a.Error, &a.Outcome); err != nil {
		return nil, err
	}
	a.StartedAt = utc(a.StartedAt)
	a.Latency = time.Duration(latency) * time.Microsecond
	a.ResponseHeaders = nonNilMap(a.ResponseHeaders)
	return &a, nil
}

// ListAttempts implements store.Store.
func (s *Store) ListAttempts(ctx context.Context, f store.AttemptFilter) ([]*domain.Attempt, string, error) {
	limit := store.PageLimit(f.Page)
	since, until := timeBounds(f.TimeRange)
	rows, err := s.pool.Query(ctx, `SELECT `+attemptColumns+` FROM attempts
		WHERE app_id = $1 AND ($2 = '' OR delivery_id = $2) AND ($3 = '' OR endpoint_id = $3) AND ($4 = '' OR message_id = $4)
		AND started_at >= $5 AND started_at < $6 AND ($7 = '' OR id < $7)
		ORDER BY id DESC LIMIT $8`,
		f.AppID, f.DeliveryID, f.EndpointID, f.MessageID, since, until, f.Cursor, limit+1)
	as, err := collect(rows, err, scanAttempt)
	if err != nil {
		return nil, "", err
	}
	as, next := store.TrimPage(as, limit, func(a *domain.Attempt) string { return a.ID })
	return as, next, nil
}
