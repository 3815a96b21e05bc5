package sqlstore

import (
	"context"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
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

// TouchListeners implements store.Store.
func (c *Core) TouchListeners(ctx context.Context, ids []string, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	return c.db.Write(ctx, false, func(q Querier) error {
		_, err := q.Exec(ctx, `UPDATE endpoints SET listener_seen_at = $1 WHERE kind = 'listener' AND `+c.d.In("id", "$2"),
			c.d.Time(at), c.d.List(ids))
		return err
	})
}

// ExpireListenerDeliveries implements store.Store.
func (c *Core) ExpireListenerDeliveries(ctx context.Context, seenBefore time.Time, keep []string, reason string, now time.Time) (int64, error) {
	if keep == nil {
		keep = []string{}
	}
	var n int64
	err := c.db.Write(ctx, false, func(q Querier) error {
		var err error
		n, err = q.Exec(ctx, `UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, last_error = $1, updated_at = $2
			WHERE status = 'pending' AND lease_owner IS NULL AND endpoint_id IN (
				SELECT id FROM endpoints WHERE kind = 'listener' AND COALESCE(listener_seen_at, created_at) < $3
					AND NOT (`+c.d.In("id", "$4")+`))`,
			reason, c.d.Time(now), c.d.Time(seenBefore), c.d.List(keep))
		return err
	})
	return n, err
}

// IdleListeners implements store.Store.
func (c *Core) IdleListeners(ctx context.Context, seenBefore time.Time, limit int) ([]*domain.Endpoint, error) {
	rows, err := c.db.Query(ctx, `SELECT `+EndpointColumns+` FROM endpoints
		WHERE kind = 'listener' AND COALESCE(listener_seen_at, created_at) < $1 ORDER BY id LIMIT $2`,
		c.d.Time(seenBefore), limit)
	return Collect(rows, err, c.scanEndpoint)
}

// ParkBacklogs implements store.Store.
func (c *Core) ParkBacklogs(ctx context.Context, now, expireBefore time.Time) (*store.ParkResult, error) {
	var r store.ParkResult
	err := c.db.Write(ctx, false, func(q Querier) error {
		r = store.ParkResult{}
		n, err := q.Exec(ctx, `UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, updated_at = $1,
			last_error = (SELECT CASE WHEN e.disabled_reason = '' THEN 'endpoint disabled' ELSE 'endpoint disabled: ' || e.disabled_reason END
				FROM endpoints e WHERE e.id = deliveries.endpoint_id)
			WHERE status = 'pending' AND lease_owner IS NULL
				AND endpoint_id IN (SELECT id FROM endpoints WHERE state = 'disabled')`, c.d.Time(now))
		if err != nil {
			return err
		}
		r.Failed += n
		if n, err = q.Exec(ctx, `UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, updated_at = $1,
			last_error = 'expired: endpoint paused past the retention period'
			WHERE status = 'pending' AND lease_owner IS NULL AND created_at < $2
				AND endpoint_id IN (SELECT id FROM endpoints WHERE state = 'paused')`, c.d.Time(now), c.d.Time(expireBefore)); err != nil {
			return err
		}
		r.Failed += n
		if r.Parked, err = q.Exec(ctx, `UPDATE deliveries SET next_attempt_at = NULL
			WHERE status = 'pending' AND lease_owner IS NULL AND next_attempt_at IS NOT NULL
				AND endpoint_id IN (SELECT id FROM endpoints WHERE state = 'paused')`); err != nil {
			return err
		}
		r.Unparked, err = q.Exec(ctx, `UPDATE deliveries SET next_attempt_at = $1
			WHERE status = 'pending' AND lease_owner IS NULL AND next_attempt_at IS NULL
				AND endpoint_id IN (SELECT id FROM endpoints WHERE state = 'enabled')`, c.d.Time(now))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}
