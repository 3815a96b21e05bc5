package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

// OperationalApp implements store.Store.
func (c *Core) OperationalApp(ctx context.Context, a *domain.App) (*domain.App, error) {
	read := func() (*domain.App, error) {
		row := c.db.QueryRow(ctx, `SELECT `+AppColumns+` FROM apps WHERE reserved = $1`, domain.ReservedOperational)
		return get(row, bind(c.d, scanApp), "app", domain.ReservedOperational)
	}
	app, err := read()
	if !errors.Is(err, store.ErrNotFound) {
		return app, err
	}
	err = c.db.Write(ctx, false, func(q Querier) error {
		// Another node may create it first: the unique index on reserved keeps theirs.
		_, err := q.Exec(ctx, `INSERT INTO apps (id, name, metadata, created_at, updated_at, reserved)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
			a.ID, a.Name, JSON(a.Metadata), c.d.Time(a.CreatedAt), c.d.Time(a.UpdatedAt), domain.ReservedOperational)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create the operational app: %w", err)
	}
	return read()
}

// MarkFailingNotified implements store.Store.
func (c *Core) MarkFailingNotified(ctx context.Context, id string, since time.Time) (bool, error) {
	var n int64
	err := c.db.Write(ctx, false, func(q Querier) error {
		var err error
		n, err = q.Exec(ctx, `UPDATE endpoints SET failing_notified_at = $1 WHERE id = $2 AND failing_notified_at IS NULL`,
			c.d.Time(since), id)
		return err
	})
	return n == 1, err
}

// ClearFailingNotified implements store.Store.
func (c *Core) ClearFailingNotified(ctx context.Context, id string) (*time.Time, error) {
	var since *time.Time
	err := c.db.Write(ctx, false, func(q Querier) error {
		since = nil
		var at *time.Time
		err := q.QueryRow(ctx, `SELECT failing_notified_at FROM endpoints WHERE id = $1`, id).Scan(c.d.ScanNullTime(&at))
		if IsNoRows(err) || (err == nil && at == nil) {
			return nil
		}
		if err != nil {
			return err
		}
		// Of nodes clearing at once, only one changes the row.
		n, err := q.Exec(ctx, `UPDATE endpoints SET failing_notified_at = NULL WHERE id = $1 AND failing_notified_at IS NOT NULL`, id)
		if n == 1 {
			since = utcPtr(at)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return since, nil
}

// FailingNotified implements store.Store.
func (c *Core) FailingNotified(ctx context.Context, limit int) ([]string, error) {
	rows, err := c.db.Query(ctx, `SELECT id FROM endpoints WHERE failing_notified_at IS NOT NULL ORDER BY failing_notified_at LIMIT $1`, limit)
	return Collect(rows, err, ScanString)
}

// Backlog implements store.Store.
func (c *Core) Backlog(ctx context.Context, now time.Time, limit int) (*store.Backlog, error) {
	var b store.Backlog
	// Each count reads at most limit entries of the pending deliveries' index.
	if err := c.db.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM deliveries WHERE status = 'pending' LIMIT $1) p`,
		limit).Scan(&b.Pending); err != nil {
		return nil, fmt.Errorf("backlog: %w", err)
	}
	t := c.d.Time(now)
	if err := c.db.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $1 LIMIT $2) d`,
		t, limit).Scan(&b.Due); err != nil {
		return nil, fmt.Errorf("backlog due: %w", err)
	}
	if err := c.db.QueryRow(ctx, `SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $1`,
		t).Scan(c.d.ScanNullTime(&b.OldestDueAt)); err != nil {
		return nil, fmt.Errorf("oldest due delivery: %w", err)
	}
	b.OldestDueAt = utcPtr(b.OldestDueAt)
	return &b, nil
}

// FailingEndpoints implements store.Store.
func (c *Core) FailingEndpoints(ctx context.Context, limit int) ([]*store.FailingEndpoint, error) {
	rows, err := c.db.Query(ctx, `SELECT `+EndpointColumns+` FROM endpoints
		WHERE failing_since IS NOT NULL AND state = 'enabled' ORDER BY failing_since, id LIMIT $1`, limit)
	eps, err := Collect(rows, err, c.scanEndpoint)
	if err != nil {
		return nil, fmt.Errorf("failing endpoints: %w", err)
	}
	out := make([]*store.FailingEndpoint, 0, len(eps))
	for _, e := range eps {
		f := &store.FailingEndpoint{Endpoint: e}
		row := c.db.QueryRow(ctx, `SELECT `+AttemptColumns+` FROM attempts WHERE endpoint_id = $1 ORDER BY started_at DESC LIMIT 1`, e.ID)
		a, err := scanAttempt(c.d, row)
		switch {
		case err == nil:
			f.LastAttempt = a
		case !IsNoRows(err):
			return nil, fmt.Errorf("last attempt of endpoint %s: %w", e.ID, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// RecentRejections implements store.Store.
func (c *Core) RecentRejections(ctx context.Context, since time.Time, limit int) ([]*store.SourceRejections, error) {
	rows, err := c.db.Query(ctx, `SELECT source_id, app_id, COUNT(*) FROM source_rejections WHERE received_at >= $1
		GROUP BY source_id, app_id ORDER BY COUNT(*) DESC, source_id LIMIT $2`, c.d.Time(since), limit)
	out, err := Collect(rows, err, func(row Row) (*store.SourceRejections, error) {
		var s store.SourceRejections
		return &s, row.Scan(&s.SourceID, &s.AppID, &s.Count)
	})
	if err != nil {
		return nil, fmt.Errorf("recent rejections: %w", err)
	}
	for _, s := range out {
		row := c.db.QueryRow(ctx, `SELECT `+RejectionColumns+` FROM source_rejections WHERE source_id = $1 ORDER BY id DESC LIMIT 1`, s.SourceID)
		if s.Last, err = scanRejection(c.d, row); err != nil && !IsNoRows(err) {
			return nil, fmt.Errorf("last rejection of source %s: %w", s.SourceID, err)
		}
	}
	return out, nil
}
