package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/webhook"
)

var _ store.SourceStore = (*Store)(nil)

const sourceColumns = `id, app_id, name, provider, secrets, hmac_config, max_body_bytes, dedupe_seconds, created_at, updated_at`

func (s *Store) sealSecrets(secrets []string) ([]byte, error) {
	b, err := json.Marshal(secrets)
	if err != nil {
		return nil, err
	}
	enc, err := s.opts.Cipher.Encrypt(b)
	if err != nil {
		return nil, fmt.Errorf("encrypt source secrets: %w", err)
	}
	return enc, nil
}

func encodeHMAC(c *webhook.HMACConfig) (string, error) {
	if c == nil {
		return "", nil
	}
	cfg := *c
	cfg.Secret = "" // kept, encrypted, in secrets
	b, err := json.Marshal(cfg)
	return string(b), err
}

func (s *Store) scanSource(row interface{ Scan(...any) error }) (*store.Source, error) {
	var src store.Source
	var enc []byte
	var hmacJSON string
	var dedupe, created, updated int64
	if err := row.Scan(&src.ID, &src.AppID, &src.Name, &src.Provider, &enc, &hmacJSON, &src.MaxBodyBytes, &dedupe, &created, &updated); err != nil {
		return nil, err
	}
	plain, err := s.opts.Cipher.Decrypt(enc)
	if err != nil {
		return nil, fmt.Errorf("decrypt secrets of source %s: %w", src.ID, err)
	}
	if err := json.Unmarshal(plain, &src.Secrets); err != nil {
		return nil, fmt.Errorf("secrets of source %s: %w", src.ID, err)
	}
	if hmacJSON != "" {
		src.HMAC = &webhook.HMACConfig{}
		if err := json.Unmarshal([]byte(hmacJSON), src.HMAC); err != nil {
			return nil, fmt.Errorf("hmac config of source %s: %w", src.ID, err)
		}
	}
	src.DedupeWindow = time.Duration(dedupe) * time.Second
	src.CreatedAt, src.UpdatedAt = fromMS(created), fromMS(updated)
	return &src, nil
}

// CreateSource implements store.SourceStore.
func (s *Store) CreateSource(ctx context.Context, src *store.Source) error {
	enc, err := s.sealSecrets(src.Secrets)
	if err != nil {
		return err
	}
	hmacJSON, err := encodeHMAC(src.HMAC)
	if err != nil {
		return err
	}
	return s.do(ctx, func(w *writer) error {
		var n int
		if err := w.queryRow(`SELECT COUNT(*) FROM apps WHERE id = ?`, src.AppID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return notFound("app", src.AppID)
		}
		_, err := w.exec(`INSERT INTO sources (`+sourceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			src.ID, src.AppID, src.Name, src.Provider, enc, hmacJSON, src.MaxBodyBytes, int64(src.DedupeWindow/time.Second),
			ms(src.CreatedAt), ms(src.UpdatedAt))
		return err
	})
}

// GetSource implements store.SourceStore.
func (s *Store) GetSource(ctx context.Context, appID, id string) (*store.Source, error) {
	src, err := s.scanSource(s.read.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE id = ? AND (? = '' OR app_id = ?)`, id, appID, appID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("source", id)
	}
	return src, err
}

// ListSources implements store.SourceStore.
func (s *Store) ListSources(ctx context.Context, appID string, p store.Page) ([]*store.Source, string, error) {
	limit := limitOf(p)
	rows, err := s.read.QueryContext(ctx, `SELECT `+sourceColumns+` FROM sources
		WHERE app_id = ? AND (? = '' OR id < ?) ORDER BY id DESC LIMIT ?`, appID, p.Cursor, p.Cursor, limit+1)
	if err != nil {
		return nil, "", err
	}
	srcs, err := collect(rows, s.scanSource)
	if err != nil {
		return nil, "", err
	}
	srcs, next := page(srcs, limit, func(s *store.Source) string { return s.ID })
	return srcs, next, nil
}

// UpdateSource implements store.SourceStore.
func (s *Store) UpdateSource(ctx context.Context, src *store.Source) error {
	enc, err := s.sealSecrets(src.Secrets)
	if err != nil {
		return err
	}
	hmacJSON, err := encodeHMAC(src.HMAC)
	if err != nil {
		return err
	}
	return s.do(ctx, func(w *writer) error {
		n, err := w.execN(`UPDATE sources SET name = ?, provider = ?, secrets = ?, hmac_config = ?, max_body_bytes = ?,
			dedupe_seconds = ?, updated_at = ? WHERE id = ? AND app_id = ?`,
			src.Name, src.Provider, enc, hmacJSON, src.MaxBodyBytes, int64(src.DedupeWindow/time.Second), ms(src.UpdatedAt), src.ID, src.AppID)
		if err == nil && n == 0 {
			return notFound("source", src.ID)
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
			return notFound("source", id)
		}
		return err
	})
}

// RecordRejection implements store.SourceStore. Rejections are bookkeeping: a power
// cut may lose the last ones.
func (s *Store) RecordRejection(ctx context.Context, r *store.Rejection) error {
	return s.doRelaxed(ctx, func(w *writer) error {
		_, err := w.exec(`INSERT INTO source_rejections (id, source_id, app_id, received_at, status, code, message, remote_addr, headers, body)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.SourceID, r.AppID, ms(r.ReceivedAt), r.Status, r.Code, r.Message, r.RemoteAddr, encodeJSON(nonNilMap(r.Headers)), r.Body)
		if isForeignKey(err) {
			return notFound("source", r.SourceID)
		}
		return err
	})
}

// ListRejections implements store.SourceStore.
func (s *Store) ListRejections(ctx context.Context, appID, sourceID string, p store.Page) ([]*store.Rejection, string, error) {
	limit := limitOf(p)
	rows, err := s.read.QueryContext(ctx, `SELECT id, source_id, app_id, received_at, status, code, message, remote_addr, headers, body
		FROM source_rejections WHERE source_id = ? AND app_id = ? AND (? = '' OR id < ?) ORDER BY id DESC LIMIT ?`,
		sourceID, appID, p.Cursor, p.Cursor, limit+1)
	if err != nil {
		return nil, "", err
	}
	rs, err := collect(rows, func(row interface{ Scan(...any) error }) (*store.Rejection, error) {
		var r store.Rejection
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
	rs, next := page(rs, limit, func(r *store.Rejection) string { return r.ID })
	return rs, next, nil
}
