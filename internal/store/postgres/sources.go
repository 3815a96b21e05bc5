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

var _ store.SourceStore = (*Store)(nil)

const sourceColumns = `id, app_id, name, provider, secrets, hmac_config, max_body_bytes, dedupe_seconds, created_at, updated_at`

func (s *Store) scanSource(row scanner) (*domain.Source, error) {
	var src domain.Source
	var enc []byte
	var hmacJSON string
	var dedupe int64
	if err := row.Scan(&src.ID, &src.AppID, &src.Name, &src.Provider, &enc, &hmacJSON, &src.MaxBodyBytes, &dedupe, &src.CreatedAt, &src.UpdatedAt); err != nil {
		return nil, err
	}
	var err error
	if src.Secrets, err = store.OpenSecrets(s.opts.Cipher, src.ID, enc); err != nil {
		return nil, err
	}
	if src.HMAC, err = store.DecodeHMACConfig(src.ID, hmacJSON); err != nil {
		return nil, err
	}
	src.DedupeWindow = time.Duration(dedupe) * time.Second
	src.CreatedAt, src.UpdatedAt = utc(src.CreatedAt), utc(src.UpdatedAt)
	return &src, nil
}

// CreateSource implements store.SourceStore.
func (s *Store) CreateSource(ctx context.Context, src *domain.Source) error {
	enc, err := store.SealSecrets(s.opts.Cipher, src.Secrets)
	if err != nil {
		return err
	}
	hmacJSON, err := store.EncodeHMACConfig(src.HMAC)
	if err != nil {
		return err
	}
	return s.write(ctx, false, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sources (`+sourceColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			src.ID, src.AppID, src.Name, src.Provider, enc, hmacJSON, src.MaxBodyBytes, int64(src.DedupeWindow/time.Second),
			src.CreatedAt, src.UpdatedAt)
		if isForeignKey(err) {
			return store.NotFound("app", src.AppID)
		}
		if isUnique(err, "") {
			return fmt.Errorf("source %s exists: %w", src.ID, store.ErrConflict)
		}
		return err
	})
}

// GetSource implements store.SourceStore.
func (s *Store) GetSource(ctx context.Context, appID, id string) (*domain.Source, error) {
	src, err := s.scanSource(s.pool.QueryRow(ctx, `SELECT `+sourceColumns+` FROM sources WHERE id = $1 AND ($2 = '' OR app_id = $2)`, id, appID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.NotFound("source", id)
	}
	return src, err
}

// ListSources implements store.SourceStore.
func (s *Store) ListSources(ctx context.Context, appID string, p store.Page) ([]*domain.Source, string, error) {
	limit := store.PageLimit(p)
	rows, err := s.pool.Query(ctx, `SELECT `+sourceColumns+` FROM sources
		WHERE app_id = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3`, appID, p.Cursor, limit+1)
	srcs, err := collect(rows, err, s.scanSource)
	if err != nil {
		return nil, "", err
	}
	srcs, next := store.TrimPage(srcs, limit, func(s *domain.Source) string { return s.ID })
	return srcs, next, nil
}

// UpdateSource implements store.SourceStore.
func (s *Store) UpdateSource(ctx context.Context, src *domain.Source) error {
	enc, err := store.SealSecrets(s.opts.Cipher, src.Secrets)
	if err != nil {
		return err
	}
	hmacJSON, err := store.EncodeHMACConfig(src.HMAC)
	if err != nil {
		return err
	}
	return s.write(ctx, false, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE sources SET name = $1, provider = $2, secrets = $3, hmac_config = $4, max_body_bytes = $5,
			dedupe_seconds = $6, updated_at = $7 WHERE id = $8 AND app_id = $9`,
			src.Name, src.Provider, enc, hmacJSON, src.MaxBodyBytes, int64(src.DedupeWindow/time.Second), src.UpdatedAt, src.ID, src.AppID)
		if err == nil && tag.RowsAffected() == 0 {
			return store.NotFound("source", src.ID)
		}
		return err
	})
}

// DeleteSource implements store.SourceStore. Messages that arrived through it stay.
func (s *Store) DeleteSource(ctx context.Context, appID, id string) error {
	return s.write(ctx, false, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM source_rejections WHERE source_id = $1 AND app_id = $2`, id, appID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM sources WHERE id = $1 AND app_id = $2`, id, appID)
		if err == nil && tag.RowsAffected() == 0 {
			return store.NotFound("source", id)
		}
		return err
	})
}

// RecordRejection implements store.SourceStore. Rejections are bookkeeping: a database
// crash may lose the last ones.
func (s *Store) RecordRejection(ctx context.Context, r *domain.Rejection) error {
	return s.write(ctx, true, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO source_rejections (id, source_id, app_id, received_at, status, code, message, remote_addr, headers, body)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			r.ID, r.SourceID, r.AppID, r.ReceivedAt, r.Status, r.Code, r.Message, r.RemoteAddr, jsonText(nonNilMap(r.Headers)), r.Body)
		if isForeignKey(err) {
			return store.NotFound("source", r.SourceID)
		}
		return err
	})
}

// ListRejections implements store.SourceStore.
func (s *Store) ListRejections(ctx context.Context, appID, sourceID string, p store.Page) ([]*domain.Rejection, string, error) {
	limit := store.PageLimit(p)
	rows, err := s.pool.Query(ctx, `SELECT id, source_id, app_id, received_at, status, code, message, remote_addr, headers, body
		FROM source_rejections WHERE source_id = $1 AND app_id = $2 AND ($3 = '' OR id < $3) ORDER BY id DESC LIMIT $4`,
		sourceID, appID, p.Cursor, limit+1)
	rs, err := collect(rows, err, func(row scanner) (*domain.Rejection, error) {
		var r domain.Rejection
		if err := row.Scan(&r.ID, &r.SourceID, &r.AppID, &r.ReceivedAt, &r.Status, &r.Code, &r.Message, &r.RemoteAddr, &r.Headers, &r.Body); err != nil {
			return nil, err
		}
		r.ReceivedAt, r.Headers = utc(r.ReceivedAt), nonNilMap(r.Headers)
		return &r, nil
	})
	if err != nil {
		return nil, "", err
	}
	rs, next := store.TrimPage(rs, limit, func(r *domain.Rejection) string { return r.ID })
	return rs, next, nil
}
