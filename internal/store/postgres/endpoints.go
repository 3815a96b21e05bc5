package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
	"github.com/jackc/pgx/v5"
)

const endpointColumns = `id, app_id, url, description, event_types, headers, state, disabled_reason,
	max_concurrency, rate_limit, timeout_ms, fifo, metadata, failing_since, created_at, updated_at, source_id`

func scanEndpoint(row scanner) (*domain.Endpoint, error) {
	var e domain.Endpoint
	if err := row.Scan(&e.ID, &e.AppID, &e.URL, &e.Description, &e.EventTypes, &e.Headers, &e.State, &e.DisabledReason,
		&e.MaxConcurrency, &e.RateLimit, &e.TimeoutMS, &e.FIFO, &e.Metadata, &e.FailingSince, &e.CreatedAt, &e.UpdatedAt, &e.SourceID); err != nil {
		return nil, err
	}
	e.EventTypes, e.Headers, e.Metadata = nonNil(e.EventTypes), nonNilMap(e.Headers), nonNilMap(e.Metadata)
	e.FailingSince = utcPtr(e.FailingSince)
	e.CreatedAt, e.UpdatedAt = utc(e.CreatedAt), utc(e.UpdatedAt)
	return &e, nil
}

// CreateEndpoint implements store.Store.
func (s *Store) CreateEndpoint(ctx context.Context, e *domain.Endpoint, sec *domain.EndpointSecret) error {
	enc, err := store.SealSecret(s.opts.Cipher, sec.Secret)
	if err != nil {
		return err
	}
	return s.write(ctx, false, func(tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM apps WHERE id = $1)`, e.AppID).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return store.NotFound("app", e.AppID)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO endpoints (`+endpointColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
			e.ID, e.AppID, e.URL, e.Description, nonNil(e.EventTypes), jsonText(nonNilMap(e.Headers)), e.State, e.DisabledReason,
			e.MaxConcurrency, e.RateLimit, e.TimeoutMS, e.FIFO, jsonText(nonNilMap(e.Metadata)), e.FailingSince,
			e.CreatedAt, e.UpdatedAt, e.SourceID); err != nil {
			if isUnique(err, "") {
				return fmt.Errorf("endpoint %s exists: %w", e.ID, store.ErrConflict)
			}
			if isForeignKey(err) {
				return store.NotFound("app", e.AppID) // deleted meanwhile
			}
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO endpoint_secrets (id, endpoint_id, secret, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			sec.ID, e.ID, enc, sec.CreatedAt, sec.ExpiresAt)
		return err
	})
}

// GetEndpoint implements store.Store.
func (s *Store) GetEndpoint(ctx context.Context, appID, id string) (*domain.Endpoint, error) {
	e, err := scanEndpoint(s.pool.QueryRow(ctx, `SELECT `+endpointColumns+` FROM endpoints WHERE id = $1 AND ($2 = '' OR app_id = $2)`, id, appID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.NotFound("endpoint", id)
	}
	return e, err
}

// ListEndpoints implements store.Store.
func (s *Store) ListEndpoints(ctx context.Context, appID string, p store.Page) ([]*domain.Endpoint, string, error) {
	limit := store.PageLimit(p)
	rows, err := s.pool.Query(ctx, `SELECT `+endpointColumns+` FROM endpoints
		WHERE app_id = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3`, appID, p.Cursor, limit+1)
	eps, err := collect(rows, err, scanEndpoint)
	if err != nil {
		return nil, "", err
	}
	eps, next := store.TrimPage(eps, limit, func(e *domain.Endpoint) string { return e.ID })
	return eps, next, nil
}

// UpdateEndpoint implements store.Store. It writes every mutable field; the failure streak
// is cleared when the endpoint is (re-)enabled, and other nodes are told when it becomes
// enabled, since its queued deliveries are claimable again.
func (s *Store) UpdateEndpoint(ctx context.Context, e *domain.Endpoint) error {
	err := s.write(ctx, false, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE endpoints SET url = $1, description = $2, event_types = $3, headers = $4, state = $5,
			disabled_reason = $6, max_concurrency = $7, rate_limit = $8, timeout_ms = $9, fifo = $10, metadata = $11,
			failing_since = CASE WHEN $5 = 'enabled' AND state <> 'enabled' THEN NULL ELSE failing_since END, updated_at = $12,
			source_id = $15
			WHERE id = $13 AND app_id = $14`,
			e.URL, e.Description, nonNil(e.EventTypes), jsonText(nonNilMap(e.Headers)), e.State, e.DisabledReason,
			e.MaxConcurrency, e.RateLimit, e.TimeoutMS, e.FIFO, jsonText(nonNilMap(e.Metadata)), e.UpdatedAt, e.ID, e.AppID, e.SourceID)
		if err == nil && tag.RowsAffected() == 0 {
			return store.NotFound("endpoint", e.ID)
		}
		return err
	})
	if err == nil {
		s.notifyEndpoints(e.ID)
		if e.State == domain.EndpointEnabled {
			s.requestNotify() // resumed, or a limit raised: queued deliveries may be claimable
		}
	}
	return err
}

// DeleteEndpoint implements store.Store. Its deliveries and attempts go with it.
func (s *Store) DeleteEndpoint(ctx context.Context, appID, id string) error {
	err := s.write(ctx, false, func(tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM endpoints WHERE id = $1 AND app_id = $2)`, id, appID).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return store.NotFound("endpoint", id)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE endpoint_id = $1)`, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM deliveries WHERE endpoint_id = $1`, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM endpoints WHERE id = $1`, id)
		return err
	})
	if err == nil {
		s.notifyEndpoints(id)
	}
	return err
}

// SetEndpointState implements store.Store.
func (s *Store) SetEndpointState(ctx context.Context, id, state, reason string) error {
	err := s.write(ctx, false, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE endpoints SET state = $1, disabled_reason = $2, updated_at = $3 WHERE id = $4`, state, reason, time.Now(), id)
		if err == nil && tag.RowsAffected() == 0 {
			return store.NotFound("endpoint", id)
		}
		return err
	})
	if err == nil {
		s.notifyEndpoints(id)
		if state == domain.EndpointEnabled {
			s.requestNotify()
		}
	}
	return err
}

// EndpointSecrets implements store.Store.
func (s *Store) EndpointSecrets(ctx context.Context, endpointID string, now time.Time) ([]*domain.EndpointSecret, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, endpoint_id, secret, created_at, expires_at FROM endpoint_secrets
		WHERE endpoint_id = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY created_at DESC, id DESC`, endpointID, now)
	return collect(rows, err, s.scanSecret)
}

func (s *Store) scanSecret(row scanner) (*domain.EndpointSecret, error) {
	var sec domain.EndpointSecret
	var enc []byte
	if err := row.Scan(&sec.ID, &sec.EndpointID, &enc, &sec.CreatedAt, &sec.ExpiresAt); err != nil {
		return nil, err
	}
	var err error
	if sec.Secret, err = store.OpenSecret(s.opts.Cipher, sec.ID, enc); err != nil {
		return nil, err
	}
	sec.CreatedAt, sec.ExpiresAt = utc(sec.CreatedAt), utcPtr(sec.ExpiresAt)
	return &sec, nil
}

// RotateEndpointSecret implements store.Store.
func (s *Store) RotateEndpointSecret(ctx context.Context, sec *domain.EndpointSecret, oldExpiresAt time.Time) error {
	enc, err := store.SealSecret(s.opts.Cipher, sec.Secret)
	if err != nil {
		return err
	}
	err = s.write(ctx, false, func(tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM endpoints WHERE id = $1)`, sec.EndpointID).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return store.NotFound("endpoint", sec.EndpointID)
		}
		if _, err := tx.Exec(ctx, `UPDATE endpoint_secrets SET expires_at = $1 WHERE endpoint_id = $2 AND (expires_at IS NULL OR expires_at > $1)`,
			oldExpiresAt, sec.EndpointID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO endpoint_secrets (id, endpoint_id, secret, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			sec.ID, sec.EndpointID, enc, sec.CreatedAt, sec.ExpiresAt)
		return err
	})
	if err == nil {
		s.notifyEndpoints(sec.EndpointID)
	}
	return err
}
