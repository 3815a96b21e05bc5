package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

func encodeJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sqlite: encode %T: %v", v, err)) // maps of strings and string slices always encode
	}
	return string(b)
}

func decodeMap(s string) map[string]string {
	m := map[string]string{}
	_ = json.Unmarshal([]byte(s), &m)
	return m
}

func decodeList(s string) []string {
	l := []string{}
	_ = json.Unmarshal([]byte(s), &l)
	return l
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// isUnique reports whether err is a UNIQUE constraint violation.
func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// CreateApp implements store.Store.
func (s *Store) CreateApp(ctx context.Context, a *domain.App) error {
	return s.do(ctx, func(w *writer) error {
		_, err := w.exec(`INSERT INTO apps (id, name, uid, metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			a.ID, a.Name, nullString(a.UID), encodeJSON(a.Metadata), ms(a.CreatedAt), ms(a.UpdatedAt))
		if isUnique(err) {
			return fmt.Errorf("app uid %q is taken: %w", a.UID, store.ErrConflict)
		}
		return err
	})
}

const appColumns = `id, name, COALESCE(uid, ''), metadata, created_at, updated_at`

func scanApp(row interface{ Scan(...any) error }) (*domain.App, error) {
	var a domain.App
	var meta string
	var created, updated int64
	if err := row.Scan(&a.ID, &a.Name, &a.UID, &meta, &created, &updated); err != nil {
		return nil, err
	}
	a.Metadata = decodeMap(meta)
	a.CreatedAt, a.UpdatedAt = fromMS(created), fromMS(updated)
	return &a, nil
}

// GetApp implements store.Store.
func (s *Store) GetApp(ctx context.Context, id string) (*domain.App, error) {
	a, err := scanApp(s.read.QueryRowContext(ctx, `SELECT `+appColumns+` FROM apps WHERE id = ? OR uid = ?`, id, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.NotFound("app", id)
	}
	return a, err
}

// ListApps implements store.Store.
func (s *Store) ListApps(ctx context.Context, p store.Page) ([]*domain.App, string, error) {
	limit := store.PageLimit(p)
	rows, err := s.read.QueryContext(ctx, `SELECT `+appColumns+` FROM apps WHERE (? = '' OR id < ?) ORDER BY id DESC LIMIT ?`, p.Cursor, p.Cursor, limit+1)
	if err != nil {
		return nil, "", err
	}
	apps, err := collect(rows, scanApp)
	if err != nil {
		return nil, "", err
	}
	apps, next := store.TrimPage(apps, limit, func(a *domain.App) string { return a.ID })
	return apps, next, nil
}

// UpdateApp implements store.Store.
func (s *Store) UpdateApp(ctx context.Context, a *domain.App) error {
	return s.do(ctx, func(w *writer) error {
		n, err := w.execN(`UPDATE apps SET name = ?, uid = ?, metadata = ?, updated_at = ? WHERE id = ?`,
			a.Name, nullString(a.UID), encodeJSON(a.Metadata), ms(a.UpdatedAt), a.ID)
		if isUnique(err) {
			return fmt.Errorf("app uid %q is taken: %w", a.UID, store.ErrConflict)
		}
		if err == nil && n == 0 {
			return store.NotFound("app", a.ID)
		}
		return err
	})
}

// DeleteApp implements store.Store. It removes the app's endpoints, messages, deliveries,
// attempts and API keys too.
func (s *Store) DeleteApp(ctx context.Context, id string) error {
	return s.do(ctx, func(w *writer) error {
		for _, q := range []string{
			`DELETE FROM attempts WHERE app_id = ?`,
			`DELETE FROM deliveries WHERE app_id = ?`,
			`DELETE FROM idempotency_keys WHERE app_id = ?`,
		} {
			if _, err := w.exec(q, id); err != nil {
				return err
			}
		}
		n, err := w.execN(`DELETE FROM apps WHERE id = ?`, id)
		if err == nil && n == 0 {
			return store.NotFound("app", id)
		}
		return err
	})
}

func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
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

// CreateAPIKey implements store.Store.
func (s *Store) CreateAPIKey(ctx context.Context, k *domain.APIKey) error {
	return s.do(ctx, func(w *writer) error {
		_, err := w.exec(`INSERT INTO api_keys (id, app_id, name, prefix, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			k.ID, nullString(k.AppID), k.Name, k.Prefix, k.Hash, ms(k.CreatedAt))
		if isUnique(err) {
			return fmt.Errorf("api key exists: %w", store.ErrConflict)
		}
		return err
	})
}

const apiKeyColumns = `id, COALESCE(app_id, ''), name, prefix, hash, created_at`

func scanAPIKey(row interface{ Scan(...any) error }) (*domain.APIKey, error) {
	var k domain.APIKey
	var created int64
	if err := row.Scan(&k.ID, &k.AppID, &k.Name, &k.Prefix, &k.Hash, &created); err != nil {
		return nil, err
	}
	k.CreatedAt = fromMS(created)
	return &k, nil
}

// APIKeyByHash implements store.Store.
func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (*domain.APIKey, error) {
	k, err := scanAPIKey(s.read.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("api key: %w", store.ErrNotFound)
	}
	return k, err
}

// ListAPIKeys implements store.Store.
func (s *Store) ListAPIKeys(ctx context.Context, appID string, p store.Page) ([]*domain.APIKey, string, error) {
	limit := store.PageLimit(p)
	rows, err := s.read.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE COALESCE(app_id, '') = ? AND (? = '' OR id < ?) ORDER BY id DESC LIMIT ?`, appID, p.Cursor, p.Cursor, limit+1)
	if err != nil {
		return nil, "", err
	}
	keys, err := collect(rows, scanAPIKey)
	if err != nil {
		return nil, "", err
	}
	keys, next := store.TrimPage(keys, limit, func(k *domain.APIKey) string { return k.ID })
	return keys, next, nil
}

// DeleteAPIKey implements store.Store.
func (s *Store) DeleteAPIKey(ctx context.Context, appID, id string) error {
	return s.do(ctx, func(w *writer) error {
		n, err := w.execN(`DELETE FROM api_keys WHERE id = ? AND COALESCE(app_id, '') = ?`, id, appID)
		if err == nil && n == 0 {
			return store.NotFound("api key", id)
		}
		return err
	})
}

// HasAdminKey implements store.Store.
func (s *Store) HasAdminKey(ctx context.Context) (bool, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_keys WHERE app_id IS NULL`).Scan(&n)
	return n > 0, err
}
