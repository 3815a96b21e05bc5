package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

var _ store.SourceStore = (*Store)(nil)

const sourceColumns = `id, app_id, name, provider, secrets, hmac_config, max_body_bytes, dedupe_seconds, created_at, updated_at`

func (s *Store) scanSource(row interface{ Scan(...any) error }) (*domain.Source, error) {
	var src domain.Source
	var enc []byte
	var hmacJSON string
	var dedupe, created, updated int64
	if err := row.Scan(&src.ID, &src.AppID, &src.Name, &src.Provider, &enc, &hmacJSON, &src.MaxBodyBytes, &dedupe, &created, &updated); err != nil {
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
	src.CreatedAt, src.UpdatedAt = fromMS(created), fromMS(updated)
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
	return s.do(ctx, func(w *writer) error {
		var n int
		if err := w.queryRow(`SELECT COUNT(*) FROM apps WHERE id = ?`, src.AppID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return store.NotFound("app", src.AppID)
		}
		_, err := w.exec(`INSERT INTO sources (`+sourceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			src.ID, src.AppID, src.Name, src.Provider, enc, hmacJSON, src.MaxBodyBytes, int64(src.DedupeWindow/time.Second),
			ms(src.CreatedAt), ms(src.UpdatedAt))
		return err
	})
}

// GetSource implements store.SourceStore.
func (s *Store) GetSource(ctx context.Context, appID, id string) (*domain.Source, error) {
	src, err := s.scanSource(s.read.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE id = ? AND (? = '' OR app_id = ?)`, id, appID, appID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.NotFound("source", id)
	}
	return src, err
}

// ListSources implements store.SourceStore.
func (s *Store) ListSources(ctx context.Context, appID string, p store.Page) ([]*domain.Source, string, error) {
	limit := store.PageLimit(p)
	rows, err := s.read.QueryContext(ctx, `SELECT `+sourceColumns+` FROM sources
		WHERE app_id = ? AND (? = '' OR id < ?) ORDER BY id DESC LIMIT ?`, appID, p.Cursor, p.Cursor, limit+1)
	if err != nil {
		return nil, "", err
	}
	srcs, err := collect(rows, s.scanSource)
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
	return s.do(ctx, func(w *writer) error {
		n, err := w.execN(`UPDATE sources SET name = ?, provider = ?, secrets = ?, hmac_config = ?, max_body_bytes = ?,
			dedupe_seconds = ?, updated_at = ? WHERE id = ? AND app_id = ?`,
			src.Name, src.Provider, enc, hmacJSON, src.MaxBodyBytes, int64(src.DedupeWindow/time.Second), ms(src.UpdatedAt), src.ID, src.AppID)
		if err == nil && n == 0 {
			return store.NotFound("source", src.ID)
		}
		return err
	})
}

// DeleteSource implements store.SourceStore. Messages that arrived through it stay.
func (s *Store) DeleteSource(ctx context.Context, appID, id string) error {
	return s.do(ctx, func(w *writer) error {
		if _, err := w.exec(`DELETE FROM source_rejections WHERE source_id = ? AND app_id = ?`, id, appID); err != nil {
			return err
		}
		n, err := w.execN(`DELETE FROM sources WHERE id = ? AND app_id = ?`, id, appID)
		if err == nil && n == 0 {
			return store.NotFound("source", id)
		}
		return err
	})
}

// RecordRejection implements store.SourceStore. Rejections are bookkeeping: a power
// cut may lose the last ones.
func (s *Store) RecordRejection(ctx context.Context, r *domain.Rejection) error {
	return s.doRelaxed(ctx, func(w *writer) error {
		_, err := w.exec(`INSERT INTO source_rejections (id, source_id, app_id, received_at, status, code, message, remote_addr, headers, body)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.SourceID, r.AppID, ms(r.ReceivedAt), r.Status, r.Code, r.Message, r.RemoteAddr, encodeJSON(nonNilMap(r.Headers)), r.Body)
		if isForeignKey(err) {
			return store.NotFound("source", r.SourceID)
		}
		return err
	})
}

// ListRejections implements store.SourceStore.
func (s *Store) ListRejections(ctx context.Context, appID, sourceID string, p store.Page) ([]*domain.Rejection, string, error) {
	limit := store.PageLimit(p)
	rows, err := s.read.QueryContext(ctx, `SELECT id, source_id, app_id, received_at, status, code, message, remote_addr, headers, body
		FROM source_rejections WHERE source_id = ? AND app_id = ? AND (? = '' OR id < ?) ORDER BY id DESC LIMIT ?`,
		sourceID, appID, p.Cursor, p.Cursor, limit+1)
	if err != nil {
		return nil, "", err
	}
	rs, err := collect(rows, func(row interface{ Scan(...any) error }) (*domain.Rejection, error) {
		var r domain.Rejection
		var at int64
		var headers string
		if err := row.Scan(&r.ID, &r.SourceID, &r.AppID, &at, &r.Status, &r.Code, &r.Message, &r.RemoteAddr, &headers, &r.Body); err != nil {
			return nil, err
		}
		r.ReceivedAt, r.Headers = fromMS(at), decodeMap(headers)
		return &r, nil
	})
	if err != nil {
		return nil, "", err
	}
	rs, next := store.TrimPage(rs, limit, func(r *domain.Rejection) string { return r.ID })
	return rs, next, nil
}
