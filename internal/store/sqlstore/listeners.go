package sqlstore

import (
	"context"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

// MarkListener implements store.Store. A session that left clears the record only if
// it is still its own: a newer session (here or on another node) keeps its record.
func (c *Core) MarkListener(ctx context.Context, id, node string, connectedAt time.Time, connected bool, now time.Time) error {
	return c.db.Write(ctx, true, func(q Querier) error {
		if connected {
			_, err := q.Exec(ctx, `UPDATE endpoints SET listener_connected_at = $1, listener_node = $2, listener_seen_at = $3
				WHERE id = $4 AND kind = 'listener'`, c.d.Time(connectedAt), node, c.d.Time(now), id)
			return err
		}
		_, err := q.Exec(ctx, `UPDATE endpoints SET listener_connected_at = NULL, listener_node = NULL, listener_seen_at = $1
			WHERE id = $2 AND kind = 'listener' AND listener_connected_at = $3 AND listener_node = $4`,
			c.d.Time(now), id, c.d.Time(connectedAt), node)
		return err
	})
}

// ListListeners implements store.Store.
func (c *Core) ListListeners(ctx context.Context, appID string, p store.Page) ([]*store.Listener, string, error) {
	return list(ctx, c.db, `SELECT `+EndpointColumns+`, listener_connected_at, COALESCE(listener_node, ''), listener_seen_at
		FROM endpoints WHERE app_id = $1 AND kind = 'listener'`, []any{appID}, p, c.scanListener,
		func(l *store.Listener) string { return l.Endpoint.ID })
}

// scanListener scans EndpointColumns followed by the listener's presence.
func (c *Core) scanListener(row Row) (*store.Listener, error) {
	var l store.Listener
	p := &l.Presence
	e, err := c.scanEndpoint(extraRow{row, []any{c.d.ScanNullTime(&p.ConnectedAt), &p.Node, c.d.ScanNullTime(&p.SeenAt)}})
	if err != nil {
		return nil, err
	}
	l.Endpoint = e
	p.ConnectedAt, p.SeenAt = utcPtr(p.ConnectedAt), utcPtr(p.SeenAt)
	return &l, nil
}

// extraRow scans a row's first columns into a scanner's destinations and the rest into
// its own.
type extraRow struct {
	Row
	extra []any
}

// Scan implements Row.
func (r extraRow) Scan(dest ...any) error {
	return r.Row.Scan(append(dest, r.extra...)...)
}
