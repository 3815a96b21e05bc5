package sqlstore

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

// uidConflict maps a unique violation of a write to a record of a table with uids (apps,
// sources) to store.ErrConflict: its uid taken (the index <table>_uid_key), or its id.
func (c *Core) uidConflict(err error, table, what, id, uid string) error {
	switch {
	case c.d.IsUnique(err, table+"_uid_key"):
		return fmt.Errorf("%s uid %q is taken: %w", what, uid, store.ErrConflict)
	case c.d.IsUnique(err, ""):
		return fmt.Errorf("%s %s exists: %w", what, id, store.ErrConflict)
	}
	return err
}

// CreateApp implements store.Store.
func (c *Core) CreateApp(ctx context.Context, a *domain.App) error {
	return c.db.Write(ctx, false, func(q Querier) error {
		_, err := q.Exec(ctx, `INSERT INTO apps (id, name, uid, metadata, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			a.ID, a.Name, NullString(a.UID), JSON(a.Metadata), c.d.Time(a.CreatedAt), c.d.Time(a.UpdatedAt))
		return c.uidConflict(err, "apps", "app", a.ID, a.UID)
	})
}

// GetApp implements store.Store.
func (c *Core) GetApp(ctx context.Context, id string) (*domain.App, error) {
	row := c.db.QueryRow(ctx, `SELECT `+AppColumns+` FROM apps WHERE (id = $1 OR uid = $1) AND reserved IS NULL`, id)
	return get(row, bind(c.d, scanApp), "app", id)
}

// ListApps implements store.Store.
func (c *Core) ListApps(ctx context.Context, p store.Page) ([]*domain.App, string, error) {
	return list(ctx, c.db, `SELECT `+AppColumns+` FROM apps WHERE reserved IS NULL`, nil, p, bind(c.d, scanApp), func(a *domain.App) string { return a.ID })
}

// UpdateApp implements store.Store.
func (c *Core) UpdateApp(ctx context.Context, a *domain.App) error {
	return c.db.Write(ctx, false, func(q Querier) error {
		n, err := q.Exec(ctx, `UPDATE apps SET name = $1, uid = $2, metadata = $3, updated_at = $4 WHERE id = $5 AND reserved IS NULL`,
			a.Name, NullString(a.UID), JSON(a.Metadata), c.d.Time(a.UpdatedAt), a.ID)
		if err == nil && n == 0 {
			return store.NotFound("app", a.ID)
		}
		return c.uidConflict(err, "apps", "app", a.ID, a.UID)
	})
}

// DeleteApp implements store.Store. It removes the app's endpoints, messages, deliveries,
// attempts, idempotency keys and API keys too, and reports its endpoints changed.
func (c *Core) DeleteApp(ctx context.Context, id string) error {
	var endpoints []string
	err := c.db.Write(ctx, false, func(q Querier) error {
		rows, err := q.Query(ctx, `SELECT id FROM endpoints WHERE app_id = $1`, id)
		if endpoints, err = Collect(rows, err, ScanString); err != nil {
			return err
		}
		for _, stmt := range []string{
			`DELETE FROM attempts WHERE app_id = $1`,
			`DELETE FROM deliveries WHERE app_id = $1`,
			`DELETE FROM idempotency_keys WHERE app_id = $1`,
		} {
			if _, err := q.Exec(ctx, stmt, id); err != nil {
				return err
			}
		}
		n, err := q.Exec(ctx, `DELETE FROM apps WHERE id = $1 AND reserved IS NULL`, id)
		if err == nil && n == 0 {
			return store.NotFound("app", id)
		}
		return err
	})
	if err == nil && len(endpoints) > 0 {
		c.events.EndpointsChanged(endpoints...) // deleted with the app: no one sends to them any more
	}
	return err
}

// CreateAPIKey implements store.Store.
func (c *Core) CreateAPIKey(ctx context.Context, k *domain.APIKey) error {
	return c.db.Write(ctx, false, func(q Querier) error {
		_, err := q.Exec(ctx, `INSERT INTO api_keys (id, app_id, name, prefix, hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			k.ID, NullString(k.AppID), k.Name, k.Prefix, k.Hash, c.d.Time(k.CreatedAt))
		switch {
		case c.d.IsUnique(err, ""):
			return fmt.Errorf("api key exists: %w", store.ErrConflict)
		case c.d.IsForeignKey(err):
			return store.NotFound("app", k.AppID)
		}
		return err
	})
}

// APIKeyByHash implements store.Store.
func (c *Core) APIKeyByHash(ctx context.Context, hash []byte) (*domain.APIKey, error) {
	k, err := scanAPIKey(c.d, c.db.QueryRow(ctx, `SELECT `+APIKeyColumns+` FROM api_keys WHERE hash = $1`, hash))
	if IsNoRows(err) {
		return nil, fmt.Errorf("api key: %w", store.ErrNotFound)
	}
	return k, err
}

// ListAPIKeys implements store.Store.
func (c *Core) ListAPIKeys(ctx context.Context, appID string, p store.Page) ([]*domain.APIKey, string, error) {
	return list(ctx, c.db, `SELECT `+APIKeyColumns+` FROM api_keys WHERE COALESCE(app_id, '') = $1`, []any{appID}, p,
		bind(c.d, scanAPIKey), func(k *domain.APIKey) string { return k.ID })
}

// DeleteAPIKey implements store.Store.
func (c *Core) DeleteAPIKey(ctx context.Context, appID, id string) error {
	return c.db.Write(ctx, false, func(q Querier) error {
		n, err := q.Exec(ctx, `DELETE FROM api_keys WHERE id = $1 AND COALESCE(app_id, '') = $2`, id, appID)
		if err == nil && n == 0 {
			return store.NotFound("api key", id)
		}
		return err
	})
}

// HasAdminKey implements store.Store.
func (c *Core) HasAdminKey(ctx context.Context) (bool, error) {
	return exists(ctx, c.db, `SELECT EXISTS (SELECT 1 FROM api_keys WHERE app_id IS NULL)`)
}
