package sqlstore

import (
	"context"
	"time"

	"github.com/heraldhq/herald/internal/domain"
)

// NextWake implements store.Store.
func (c *Core) NextWake(ctx context.Context) (time.Time, bool, error) {
	var next *time.Time
	if err := c.db.QueryRow(ctx, `SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending'`).Scan(c.d.ScanNullTime(&next)); err != nil {
		return time.Time{}, false, err
	}
	if next == nil {
		return time.Time{}, false, nil
	}
	return next.UTC(), true, nil
}

// QueueDepth implements store.Store.
func (c *Core) QueueDepth(ctx context.Context) (int64, error) {
	var n int64
	err := c.db.QueryRow(ctx, `SELECT COUNT(*) FROM deliveries WHERE status = 'pending'`).Scan(&n)
	return n, err
}

// DisableFailingEndpoints implements store.Store.
func (c *Core) DisableFailingEndpoints(ctx context.Context, since time.Time, reason string) ([]*domain.Endpoint, error) {
	var out []*domain.Endpoint
	err := c.db.Write(ctx, false, func(q Querier) error {
		rows, err := q.Query(ctx, `UPDATE endpoints SET state = 'disabled', disabled_reason = $1, updated_at = $2
			WHERE state = 'enabled' AND failing_since IS NOT NULL AND failing_since < $3 RETURNING `+EndpointColumns,
			reason, c.d.Time(time.Now()), c.d.Time(since))
		out, err = Collect(rows, err, c.scanEndpoint)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(out) > 0 {
		ids := make([]string, len(out))
		for i, e := range out {
			ids[i] = e.ID
		}
		c.events.EndpointsChanged(ids...)
	}
	return out, nil
}
