package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

var _ store.SourceStore = (*Core)(nil)

// sealSource encrypts a source's secrets and encodes its HMAC configuration.
func (c *Core) sealSource(src *domain.Source) (secrets []byte, hmacJSON string, err error) {
	if secrets, err = store.SealSecrets(c.cipher, src.Secrets); err != nil {
		return nil, "", err
	}
	hmacJSON, err = store.EncodeHMACConfig(src.HMAC)
	return secrets, hmacJSON, err
}

// CreateSource implements store.SourceStore.
func (c *Core) CreateSource(ctx context.Context, src *domain.Source) error {
	enc, hmacJSON, err := c.sealSource(src)
	if err != nil {
		return err
	}
	return c.db.Write(ctx, false, func(q Querier) error {
		_, err := q.Exec(ctx, `INSERT INTO sources (id, app_id, uid, name, provider, secrets, hmac_config, max_body_bytes, dedupe_seconds, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			src.ID, src.AppID, NullString(src.UID), src.Name, src.Provider, enc, hmacJSON, src.MaxBodyBytes, int64(src.DedupeWindow/time.Second),
			c.d.Time(src.CreatedAt), c.d.Time(src.UpdatedAt))
		if c.d.IsForeignKey(err) {
			return store.NotFound("app", src.AppID)
		}
		return c.uidConflict(err, "sources", "source", src.ID, src.UID)
	})
}

// GetSource implements store.SourceStore: id is the source's id or its uid.
func (c *Core) GetSource(ctx context.Context, appID, id string) (*domain.Source, error) {
	row := c.db.QueryRow(ctx, `SELECT `+SourceColumns+` FROM sources WHERE (id = $1 OR uid = $1) AND ($2 = '' OR app_id = $2)`, id, appID)
	return get(row, c.scanSource, "source", id)
}

// ListSources implements store.SourceStore.
func (c *Core) ListSources(ctx context.Context, appID string, p store.Page) ([]*domain.Source, string, error) {
	return list(ctx, c.db, `SELECT `+SourceColumns+` FROM sources WHERE app_id = $1`, []any{appID}, p,
		c.scanSource, func(s *domain.Source) string { return s.ID })
}

// UpdateSource implements store.SourceStore.
func (c *Core) UpdateSource(ctx context.Context, src *domain.Source) error {
	enc, hmacJSON, err := c.sealSource(src)
	if err != nil {
		return err
	}
	return c.db.Write(ctx, false, func(q Querier) error {
		n, err := q.Exec(ctx, `UPDATE sources SET name = $1, provider = $2, secrets = $3, hmac_config = $4, max_body_bytes = $5,
			dedupe_seconds = $6, updated_at = $7, uid = $8 WHERE id = $9 AND app_id = $10`,
			src.Name, src.Provider, enc, hmacJSON, src.MaxBodyBytes, int64(src.DedupeWindow/time.Second), c.d.Time(src.UpdatedAt),
			NullString(src.UID), src.ID, src.AppID)
		if err == nil && n == 0 {
			return store.NotFound("source", src.ID)
		}
		return c.uidConflict(err, "sources", "source", src.ID, src.UID)
	})
}

// DeleteSource implements store.SourceStore. Messages that arrived through it stay.
func (c *Core) DeleteSource(ctx context.Context, appID, id string) error {
	return c.db.Write(ctx, false, func(q Querier) error {
		if _, err := q.Exec(ctx, `DELETE FROM source_rejections WHERE source_id = $1 AND app_id = $2`, id, appID); err != nil {
			return err
		}
		n, err := q.Exec(ctx, `DELETE FROM sources WHERE id = $1 AND app_id = $2`, id, appID)
		if err == nil && n == 0 {
			return store.NotFound("source", id)
		}
		return err
	})
}

// RecordRejection implements store.SourceStore. Rejections are bookkeeping: a crash may
// lose the last ones. In the same write it deletes rejections past their retention and,
// every CheckEvery-th time (the check reads every row's size), oldest first those over
// the store's budget of rows and bytes.
func (c *Core) RecordRejection(ctx context.Context, r *domain.Rejection) error {
	checkBudget := c.rejN.Add(1)%int64(c.rej.CheckEvery) == 0
	headers := JSON(r.Headers)
	diagnosis, err := json.Marshal(domain.RejectionDiagnosis(r.Diagnosis))
	if err != nil {
		return fmt.Errorf("record rejection: diagnosis: %w", err) // strings and bools always encode
	}
	size := int64(len(r.ID) + len(r.SourceID) + len(r.AppID) + len(r.Code) + len(r.Message) + len(r.RemoteAddr) + len(headers) + len(r.Body) + len(diagnosis))
	return c.db.Write(ctx, true, func(q Querier) error {
		_, err := q.Exec(ctx, `INSERT INTO source_rejections (`+RejectionColumns+`, size) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			r.ID, r.SourceID, r.AppID, c.d.Time(r.ReceivedAt), r.Status, r.Code, r.Message, r.RemoteAddr, headers, r.Body,
			r.HeaderCount, r.HeaderBytes, r.BodyBytes, string(diagnosis), size)
		if c.d.IsForeignKey(err) {
			return store.NotFound("source", r.SourceID)
		}
		if err != nil {
			return fmt.Errorf("record rejection: %w", err)
		}
		if c.rej.Retention > 0 {
			if _, err := q.Exec(ctx, `DELETE FROM source_rejections WHERE received_at < $1`, c.d.Time(r.ReceivedAt.Add(-c.rej.Retention))); err != nil {
				return fmt.Errorf("delete expired rejections: %w", err)
			}
		}
		if !checkBudget || c.rej.MaxRows == math.MaxInt32 && c.rej.MaxBytes == math.MaxInt64 {
			return nil
		}
		if _, err := q.Exec(ctx, `DELETE FROM source_rejections WHERE id IN (SELECT id FROM (
			SELECT id, SUM(size) OVER (ORDER BY received_at DESC, id DESC ROWS UNBOUNDED PRECEDING) AS total,
				ROW_NUMBER() OVER (ORDER BY received_at DESC, id DESC) AS n FROM source_rejections) newest
			WHERE total > $1 OR n > $2)`, c.rej.MaxBytes, c.rej.MaxRows); err != nil {
			return fmt.Errorf("delete rejections over the budget: %w", err)
		}
		return nil
	})
}

// RejectionsBefore returns the time before which Purge deletes rejections: the later of
// before (the messages' retention) and now less the rejections' own retention.
func (c *Core) RejectionsBefore(before, now time.Time) time.Time {
	if c.rej.Retention > 0 {
		if own := now.Add(-c.rej.Retention); own.After(before) {
			return own
		}
	}
	return before
}

// ListRejections implements store.SourceStore.
func (c *Core) ListRejections(ctx context.Context, appID, sourceID string, p store.Page) ([]*domain.Rejection, string, error) {
	return list(ctx, c.db, `SELECT `+RejectionColumns+` FROM source_rejections WHERE source_id = $1 AND app_id = $2`, []any{sourceID, appID}, p,
		bind(c.d, scanRejection), func(r *domain.Rejection) string { return r.ID })
}
