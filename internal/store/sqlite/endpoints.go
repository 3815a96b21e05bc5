package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

const endpointColumns = `id, app_id, url, description, event_types, headers, state, disabled_reason,
	max_concurrency, rate_limit, timeout_ms, fifo, metadata, failing_since, created_at, updated_at, source_id`

func scanEndpoint(row interface{ Scan(...any) error }) (*domain.Endpoint, error) {
	var e domain.Endpoint
	var types, headers, meta string
	var fifo int
	var failing sql.NullInt64
	var created, updated int64
	if err := row.Scan(&e.ID, &e.AppID, &e.URL, &e.Description, &types, &headers, &e.State, &e.DisabledReason,
		&e.MaxConcurrency, &e.RateLimit, &e.TimeoutMS, &fifo, &meta, &failing, &created, &updated, &e.SourceID); err != nil {
		return nil, err
	}
	e.EventTypes, e.Headers, e.Metadata = decodeList(types), decodeMap(headers), decodeMap(meta)
	e.FIFO = fifo != 0
	e.FailingSince = fromNullMS(failing)
	e.CreatedAt, e.UpdatedAt = fromMS(created), fromMS(updated)
	return &e, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CreateEndpoint implements store.Store.
func (s *Store) CreateEndpoint(ctx context.Context, e *domain.Endpoint, sec *domain.EndpointSecret) error {
	enc, err := store.SealSecret(s.opts.Cipher, sec.Secret)
	if err != nil {
		return err
	}
	return s.do(ctx, func(w *writer) error {
		var n int
		if err := w.queryRow(`SELECT COUNT(*) FROM apps WHERE id = ?`, e.AppID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return store.NotFound("app", e.AppID)
		}
		if _, err := w.exec(`INSERT INTO endpoints (`+endpointColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, e.AppID, e.URL, e.Description, encodeJSON(e.EventTypes), encodeJSON(e.Headers), e.State, e.DisabledReason,
			e.MaxConcurrency, e.RateLimit, e.TimeoutMS, boolInt(e.FIFO), encodeJSON(e.Metadata), nullMS(e.FailingSince),
			ms(e.CreatedAt), ms(e.UpdatedAt), e.SourceID); err != nil {
			return err
		}
		_, err := w.exec(`INSERT INTO endpoint_secrets (id, endpoint_id, secret, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			sec.ID, e.ID, enc, ms(sec.CreatedAt), nullMS(sec.ExpiresAt))
		return err
	})
}

// GetEndpoint implements store.Store.
func (s *Store) GetEndpoint(ctx context.Context, appID, id string) (*domain.Endpoint, error) {
	e, err := scanEndpoint(s.read.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM endpoints WHERE id = ? AND (? = '' OR app_id = ?)`, id, appID, appID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.NotFound("endpoint", id)
	}
	return e, err
}

// ListEndpoints implements store.Store.
func (s *Store) ListEndpoints(ctx context.Context, appID string, p store.Page) ([]*domain.Endpoint, string, error) {
	limit := store.PageLimit(p)
	rows, err := s.read.QueryContext(ctx, `SELECT `+endpointColumns+` FROM endpoints
		WHERE app_id = ? AND (? = '' OR id < ?) ORDER BY id DESC LIMIT ?`, appID, p.Cursor, p.Cursor, limit+1)
	if err != nil {
		return nil, "", err
	}
	eps, err := collect(rows, scanEndpoint)
	if err != nil {
		return nil, "", err
	}
	eps, next := store.TrimPage(eps, limit, func(e *domain.Endpoint) string { return e.ID })
	return eps, next, nil
}

// UpdateEndpoint implements store.Store. It writes every mutable field; the failure streak
// is cleared when the endpoint is (re-)enabled.
func (s *Store) UpdateEndpoint(ctx context.Context, e *domain.Endpoint) error {
	return s.do(ctx, func(w *writer) error {
		n, err := w.execN(`UPDATE endpoints SET url = ?, description = ?, event_types = ?, headers = ?, state = ?,
			disabled_reason = ?, max_concurrency = ?, rate_limit = ?, timeout_ms = ?, fifo = ?, metadata = ?, source_id = ?,
			failing_since = CASE WHEN ? = 'enabled' AND state != 'enabled' THEN NULL ELSE failing_since END, updated_at = ?
			WHERE id = ? AND app_id = ?`,
			e.URL, e.Description, encodeJSON(e.EventTypes), encodeJSON(e.Headers), e.State, e.DisabledReason,
			e.MaxConcurrency, e.RateLimit, e.TimeoutMS, boolInt(e.FIFO), encodeJSON(e.Metadata), e.SourceID, e.State, ms(e.UpdatedAt), e.ID, e.AppID)
		if err == nil && n == 0 {
			return store.NotFound("endpoint", e.ID)
		}
		return err
	})
}

// DeleteEndpoint implements store.Store. Its deliveries and attempts go with it.
func (s *Store) DeleteEndpoint(ctx context.Context, appID, id string) error {
	return s.do(ctx, func(w *writer) error {
		var n int
		if err := w.queryRow(`SELECT COUNT(*) FROM endpoints WHERE id = ? AND app_id = ?`, id, appID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return store.NotFound("endpoint", id)
		}
		if _, err := w.exec(`DELETE FROM attempts WHERE endpoint_id = ?`, id); err != nil {
			return err
		}
		if _, err := w.exec(`DELETE FROM deliveries WHERE endpoint_id = ?`, id); err != nil {
			return err
		}
		_, err := w.exec(`DELETE FROM endpoints WHERE id = ?`, id)
		return err
	})
}

// SetEndpointState implements store.Store.
func (s *Store) SetEndpointState(ctx context.Context, id, state, reason string) error {
	return s.do(ctx, func(w *writer) error {
		n, err := w.execN(`UPDATE endpoints SET state = ?, disabled_reason = ?, updated_at = ? WHERE id = ?`, state, reason, ms(time.Now()), id)
		if err == nil && n == 0 {
			return store.NotFound("endpoint", id)
		}
		return err
	})
}

// EndpointSecrets implements store.Store.
func (s *Store) EndpointSecrets(ctx context.Context, endpointID string, now time.Time) ([]*domain.EndpointSecret, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, endpoint_id, secret, created_at, expires_at FROM endpoint_secrets
		WHERE endpoint_id = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at DESC, id DESC`, endpointID, ms(now))
	if err != nil {
		return nil, err
	}
	return collect(rows, s.scanSecret)
}

func (s *Store) scanSecret(row interface{ Scan(...any) error }) (*domain.EndpointSecret, error) {
	var sec domain.EndpointSecret
	var enc []byte
	var created int64
	var expires sql.NullInt64
	if err := row.Scan(&sec.ID, &sec.EndpointID, &enc, &created, &expires); err != nil {
		return nil, err
	}
	var err error
	if sec.Secret, err = store.OpenSecret(s.opts.Cipher, sec.ID, enc); err != nil {
		return nil, err
	}
	sec.CreatedAt, sec.ExpiresAt = fromMS(created), fromNullMS(expires)
	return &sec, nil
}

// RotateEndpointSecret implements store.Store.
func (s *Store) RotateEndpointSecret(ctx context.Context, sec *domain.EndpointSecret, oldExpiresAt time.Time) error {
	enc, err := store.SealSecret(s.opts.Cipher, sec.Secret)
	if err != nil {
		return err
	}
	return s.do(ctx, func(w *writer) error {
		var n int
		if err := w.queryRow(`SELECT COUNT(*) FROM endpoints WHERE id = ?`, sec.EndpointID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return store.NotFound("endpoint", sec.EndpointID)
		}
		if _, err := w.exec(`UPDATE endpoint_secrets SET expires_at = ? WHERE endpoint_id = ? AND (expires_at IS NULL OR expires_at > ?)`,
			ms(oldExpiresAt), sec.EndpointID, ms(oldExpiresAt)); err != nil {
			return err
		}
		_, err := w.exec(`INSERT INTO endpoint_secrets (id, endpoint_id, secret, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			sec.ID, sec.EndpointID, enc, ms(sec.CreatedAt), nullMS(sec.ExpiresAt))
		return err
	})
}
