package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

// sessionColumns are the columns of a session, in the order scanSession reads them.
const sessionColumns = `id, kind, hash, COALESCE(key_id, ''), COALESCE(app_id, ''), capabilities, endpoint_ids, created_at, expires_at`

// sessionLink is the kind of a portal link's row in the sessions table.
const sessionLink = "link"

// scanSession scans sessionColumns.
func scanSession(d Dialect, row Row) (*domain.Session, error) {
	var s domain.Session
	if err := row.Scan(&s.ID, &s.Kind, &s.Hash, &s.KeyID, &s.AppID, d.ScanList(&s.Capabilities), d.ScanList(&s.EndpointIDs),
		d.ScanTime(&s.CreatedAt), d.ScanTime(&s.ExpiresAt)); err != nil {
		return nil, err
	}
	if len(s.EndpointIDs) == 0 {
		s.EndpointIDs = nil
	}
	s.CreatedAt, s.ExpiresAt = s.CreatedAt.UTC(), s.ExpiresAt.UTC()
	return &s, nil
}

// insertSession writes a session or link row, and removes expired ones on the way, so
// that the table holds only live rows and never needs a sweep of its own.
func (c *Core) insertSession(ctx context.Context, q Querier, s *domain.Session) error {
	if _, err := q.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, c.d.Time(s.CreatedAt)); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `INSERT INTO sessions (id, kind, hash, key_id, app_id, capabilities, endpoint_ids, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		s.ID, s.Kind, s.Hash, NullString(s.KeyID), NullString(s.AppID), c.d.List(NonNil(s.Capabilities)), c.d.List(NonNil(s.EndpointIDs)),
		c.d.Time(s.CreatedAt), c.d.Time(s.ExpiresAt))
	switch {
	case c.d.IsUnique(err, ""):
		return fmt.Errorf("session %s exists: %w", s.ID, store.ErrConflict)
	case c.d.IsForeignKey(err) && s.KeyID != "":
		return store.NotFound("api key", s.KeyID)
	case c.d.IsForeignKey(err):
		return store.NotFound("app", s.AppID)
	}
	return err
}

// CreateSession implements store.Store.
func (c *Core) CreateSession(ctx context.Context, s *domain.Session) error {
	return c.db.Write(ctx, false, func(q Querier) error { return c.insertSession(ctx, q, s) })
}

// SessionByHash implements store.Store.
func (c *Core) SessionByHash(ctx context.Context, hash []byte, now time.Time) (*domain.Session, error) {
	row := c.db.QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE hash = $1 AND kind != $2 AND expires_at > $3`,
		hash, sessionLink, c.d.Time(now))
	return get(row, bind(c.d, scanSession), "session", "")
}

// DeleteSession implements store.Store.
func (c *Core) DeleteSession(ctx context.Context, id string) error {
	return c.db.Write(ctx, false, func(q Querier) error {
		n, err := q.Exec(ctx, `DELETE FROM sessions WHERE id = $1 AND kind != $2`, id, sessionLink)
		if err == nil && n == 0 {
			return store.NotFound("session", id)
		}
		return err
	})
}

// CreatePortalLink implements store.Store.
func (c *Core) CreatePortalLink(ctx context.Context, l *domain.PortalLink) error {
	return c.db.Write(ctx, false, func(q Querier) error {
		return c.insertSession(ctx, q, &domain.Session{
			ID: l.ID, Kind: sessionLink, Hash: l.Hash, AppID: l.AppID, Capabilities: l.Capabilities, EndpointIDs: l.EndpointIDs,
			CreatedAt: l.CreatedAt, ExpiresAt: l.ExpiresAt,
		})
	})
}

// OpenPortalLink implements store.Store: the link's row is deleted and the session's
// inserted in one transaction, so a link opens one session at most.
func (c *Core) OpenPortalLink(ctx context.Context, linkHash []byte, s *domain.Session, now time.Time) error {
	return c.db.Write(ctx, false, func(q Querier) error {
		link, err := scanSession(c.d, q.QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE hash = $1 AND kind = $2 AND expires_at > $3`+c.d.ForUpdate(),
			linkHash, sessionLink, c.d.Time(now)))
		if IsNoRows(err) {
			return fmt.Errorf("portal link: %w", store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		n, err := q.Exec(ctx, `DELETE FROM sessions WHERE id = $1`, link.ID)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("portal link: %w", store.ErrNotFound) // used by a concurrent request
		}
		s.AppID, s.Capabilities, s.EndpointIDs, s.ExpiresAt = link.AppID, link.Capabilities, link.EndpointIDs, link.ExpiresAt
		return c.insertSession(ctx, q, s)
	})
}

// RevokePortalSessions implements store.Store.
func (c *Core) RevokePortalSessions(ctx context.Context, appID string) error {
	return c.db.Write(ctx, false, func(q Querier) error {
		_, err := q.Exec(ctx, `DELETE FROM sessions WHERE app_id = $1`, appID)
		return err
	})
}

// eventTypeColumns are the columns of an event type, in the order scanEventType reads them.
const eventTypeColumns = `name, description, schema, example, deprecated, created_at, updated_at`

// scanEventType scans eventTypeColumns.
func scanEventType(d Dialect, row Row) (*domain.EventType, error) {
	var t domain.EventType
	var schema, example []byte
	if err := row.Scan(&t.Name, &t.Description, &schema, &example, &t.Deprecated, d.ScanTime(&t.CreatedAt), d.ScanTime(&t.UpdatedAt)); err != nil {
		return nil, err
	}
	t.Schema, t.Example = schema, example
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return &t, nil
}

// nullBytes maps nil to NULL.
func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// CreateEventType implements store.Store.
func (c *Core) CreateEventType(ctx context.Context, t *domain.EventType) error {
	return c.db.Write(ctx, false, func(q Querier) error {
		_, err := q.Exec(ctx, `INSERT INTO event_types (`+eventTypeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			t.Name, t.Description, nullBytes(t.Schema), nullBytes(t.Example), t.Deprecated, c.d.Time(t.CreatedAt), c.d.Time(t.UpdatedAt))
		if c.d.IsUnique(err, "") {
			return fmt.Errorf("event type %s exists: %w", t.Name, store.ErrConflict)
		}
		return err
	})
}

// GetEventType implements store.Store.
func (c *Core) GetEventType(ctx context.Context, name string) (*domain.EventType, error) {
	row := c.db.QueryRow(ctx, `SELECT `+eventTypeColumns+` FROM event_types WHERE name = $1`, name)
	return get(row, bind(c.d, scanEventType), "event type", name)
}

// ListEventTypes implements store.Store: in name order, the cursor is the last name.
func (c *Core) ListEventTypes(ctx context.Context, p store.Page) ([]*domain.EventType, string, error) {
	limit := store.PageLimit(p)
	rows, err := c.db.Query(ctx, `SELECT `+eventTypeColumns+` FROM event_types WHERE ($1 = '' OR name > $1) ORDER BY name LIMIT $2`, p.Cursor, limit+1)
	types, err := Collect(rows, err, bind(c.d, scanEventType))
	if err != nil {
		return nil, "", err
	}
	types, next := store.TrimPage(types, limit, func(t *domain.EventType) string { return t.Name })
	return types, next, nil
}

// UpdateEventType implements store.Store.
func (c *Core) UpdateEventType(ctx context.Context, t *domain.EventType) error {
	return c.db.Write(ctx, false, func(q Querier) error {
		n, err := q.Exec(ctx, `UPDATE event_types SET description = $1, schema = $2, example = $3, deprecated = $4, updated_at = $5 WHERE name = $6`,
			t.Description, nullBytes(t.Schema), nullBytes(t.Example), t.Deprecated, c.d.Time(t.UpdatedAt), t.Name)
		if err == nil && n == 0 {
			return store.NotFound("event type", t.Name)
		}
		return err
	})
}

// DeleteEventType implements store.Store.
func (c *Core) DeleteEventType(ctx context.Context, name string) error {
	return c.db.Write(ctx, false, func(q Querier) error {
		n, err := q.Exec(ctx, `DELETE FROM event_types WHERE name = $1`, name)
		if err == nil && n == 0 {
			return store.NotFound("event type", name)
		}
		return err
	})
}

// OldestPending implements store.Store.
func (c *Core) OldestPending(ctx context.Context) (*time.Time, error) {
	var t *time.Time
	err := c.db.QueryRow(ctx, `SELECT MIN(created_at) FROM deliveries WHERE status = 'pending'`).Scan(c.d.ScanNullTime(&t))
	if err != nil {
		return nil, fmt.Errorf("oldest pending delivery: %w", err)
	}
	return utcPtr(t), nil
}
