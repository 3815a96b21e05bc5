package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
	"github.com/jackc/pgx/v5"
)

// jsonText encodes a map or list for a jsonb column (pgx sends a string as JSON text).
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("postgres: encode %T: %v", v, err)) // maps of strings always encode
	}
	return string(b)
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// nullString maps "" to NULL.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type scanner interface{ Scan(...any) error }

// scanString scans a row of one text column, for collect.
func scanString(row scanner) (string, error) {
	var s string
	return s, row.Scan(&s)
}

// collect scans every row with scan.
func collect[T any](rows pgx.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// CreateApp implements store.Store.
func (s *Store) CreateApp(ctx context.Context, a *domain.App) error {
	return s.write(ctx, false, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO apps (id, name, uid, metadata, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			a.ID, a.Name, nullString(a.UID), jsonText(nonNilMap(a.Metadata)), a.CreatedAt, a.UpdatedAt)
		if isUnique(err, "apps_uid_key") {
			return fmt.Errorf("app uid %q is taken: %w", a.UID, store.ErrConflict)
		}
		if isUnique(err, "") {
			return fmt.Errorf("app %s exists: %w", a.ID, store.ErrConflict)
		}
		return err
	})
}

const appColumns = `id, name, COALESCE(uid, ''), metadata, created_at, updated_at`

func scanApp(row scanner) (*domain.App, error) {
	var a domain.App
	if err := row.Scan(&a.ID, &a.Name, &a.UID, &a.Metadata, &a.CreatedAt, &a.UpdatedAt); err != nil {
		return nil, err
	}
	a.Metadata = nonNilMap(a.Metadata)
	a.CreatedAt, a.UpdatedAt = utc(a.CreatedAt), utc(a.UpdatedAt)
	return &a, nil
}

// GetApp implements store.Store.
func (s *Store) GetApp(ctx context.Context, id string) (*domain.App, error) {
	a, err := scanApp(s.pool.QueryRow(ctx, `SELECT `+appColumns+` FROM apps WHERE id = $1 OR uid = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.NotFound("app", id)
	}
	return a, err
}

// ListApps implements store.Store.
func (s *Store) ListApps(ctx context.Context, p store.Page) ([]*domain.App, string, error) {
	limit := store.PageLimit(p)
	rows, err := s.pool.Query(ctx, `SELECT `+appColumns+` FROM apps WHERE ($1 = '' OR id < $1) ORDER BY id DESC LIMIT $2`, p.Cursor, limit+1)
	apps, err := collect(rows, err, scanApp)
	if err != nil {
		return nil, "", err
	}
	apps, next := store.TrimPage(apps, limit, func(a *domain.App) string { return a.ID })
	return apps, next, nil
}

// UpdateApp implements store.Store.
func (s *Store) UpdateApp(ctx context.Context, a *domain.App) error {
	return s.write(ctx, false, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE apps SET name = $1, uid = $2, metadata = $3, updated_at = $4 WHERE id = $5`,
			a.Name, nullString(a.UID), jsonText(nonNilMap(a.Metadata)), a.UpdatedAt, a.ID)
		if isUnique(err, "apps_uid_key") {
			return fmt.Errorf("app uid %q is taken: %w", a.UID, store.ErrConflict)
		}
		if err == nil && tag.RowsAffected() == 0 {
			return store.NotFound("app", a.ID)
		}
		return err
	})
}

// DeleteApp implements store.Store. It removes the app's endpoints, messages, deliveries,
// attempts, idempotency keys and API keys too.
func (s *Store) DeleteApp(ctx context.Context, id string) error {
	var endpoints []string
	err := s.write(ctx, false, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM endpoints WHERE app_id = $1`, id)
		if endpoints, err = collect(rows, err, scanString); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM attempts WHERE app_id = $1`,
			`DELETE FROM deliveries WHERE app_id = $1`,
			`DELETE FROM idempotency_keys WHERE app_id = $1`,
		} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `DELETE FROM apps WHERE id = $1`, id)
		if err == nil && tag.RowsAffected() == 0 {
			return store.NotFound("app", id)
		}
		return err
	})
	if err == nil {
		s.notifyEndpoints(endpoints...) // deleted with the app: no node sends to them any more
	}
	return err
}

// CreateAPIKey implements store.Store.
func (s *Store) CreateAPIKey(ctx context.Context, k *domain.APIKey) error {
	return s.write(ctx, false, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO api_keys (id, app_id, name, prefix, hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			k.ID, nullString(k.AppID), k.Name, k.Prefix, k.Hash, k.CreatedAt)
		if isUnique(err, "") {
			return fmt.Errorf("api key exists: %w", store.ErrConflict)
		}
		if isForeignKey(err) {
			return store.NotFound("app", k.AppID)
		}
		return err
	})
}

const apiKeyColumns = `id, COALESCE(app_id, ''), name, prefix, hash, created_at`

func scanAPIKey(row scanner) (*domain.APIKey, error) {
	var k domain.APIKey
	if err := row.Scan(&k.ID, &k.AppID, &k.Name, &k.Prefix, &k.Hash, &k.CreatedAt); err != nil {
		return nil, err
	}
	k.CreatedAt = utc(k.CreatedAt)
	return &k, nil
}

// APIKeyByHash implements store.Store.
func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (*domain.APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("api key: %w", store.ErrNotFound)
	}
	return k, err
}

// ListAPIKeys implements store.Store.
func (s *Store) ListAPIKeys(ctx context.Context, appID string, p store.Page) ([]*domain.APIKey, string, error) {
	limit := store.PageLimit(p)
	rows, err := s.pool.Query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE COALESCE(app_id, '') = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3`, appID, p.Cursor, limit+1)
	keys, err := collect(rows, err, scanAPIKey)
	if err != nil {
		return nil, "", err
	}
	keys, next := store.TrimPage(keys, limit, func(k *domain.APIKey) string { return k.ID })
	return keys, next, nil
}

// DeleteAPIKey implements store.Store.
func (s *Store) DeleteAPIKey(ctx context.Context, appID, id string) error {
	return s.write(ctx, false, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM api_keys WHERE id = $1 AND COALESCE(app_id, '') = $2`, id, appID)
		if err == nil && tag.RowsAffected() == 0 {
			return store.NotFound("api key", id)
		}
		return err
	})
}

// HasAdminKey implements store.Store.
func (s *Store) HasAdminKey(ctx context.Context) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys WHERE app_id IS NULL)`).Scan(&ok)
	return ok, err
}

// timeBounds turns a TimeRange into SQL arguments; open bounds become the first and
// the last day of the common era's first ten thousand years.
func timeBounds(r store.TimeRange) (time.Time, time.Time) {
	since, until := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	if !r.Since.IsZero() {
		since = r.Since
	}
	if !r.Until.IsZero() {
		until = r.Until
	}
	return since, until
}
