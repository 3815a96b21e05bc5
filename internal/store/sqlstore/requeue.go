package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

// RetryDelivery implements store.Store.
func (c *Core) RetryDelivery(ctx context.Context, appID, id string, now time.Time) (*domain.Delivery, error) {
	var d *domain.Delivery
	err := c.db.Write(ctx, false, func(q Querier) error {
		var status string
		var owner *string
		var next *time.Time
		err := q.QueryRow(ctx, `SELECT status, lease_owner, next_attempt_at FROM deliveries WHERE id = $1 AND app_id = $2`+c.d.ForUpdate(),
			id, appID).Scan(&status, &owner, c.d.ScanNullTime(&next))
		if IsNoRows(err) {
			return store.NotFound("delivery", id)
		}
		if err != nil {
			return err
		}
		if status == domain.DeliveryPending && owner != nil && next != nil && next.After(now) {
			return fmt.Errorf("delivery %s is being attempted right now: %w", id, store.ErrConflict)
		}
		d, err = ScanDelivery(c.d, q.QueryRow(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = $1, retry_step = 0,
			lease_owner = NULL, updated_at = $1 WHERE id = $2 RETURNING `+DeliveryColumns, c.d.Time(now), id))
		return err
	})
	if err != nil {
		return nil, err
	}
	c.events.WorkQueued()
	return d, nil
}

// Replay implements store.Store.
func (c *Core) Replay(ctx context.Context, f store.ReplayFilter, now time.Time) (*store.ReplayResult, error) {
	limit := f.Limit
	if limit <= 0 || limit > 5000 {
		limit = 1000
	}
	since, until := TimeBounds(c.d, f.TimeRange)
	var res store.ReplayResult
	err := c.db.Write(ctx, false, func(q Querier) error {
		res = store.ReplayResult{}
		ok, err := exists(ctx, q, `SELECT EXISTS (SELECT 1 FROM endpoints WHERE id = $1 AND app_id = $2)`, f.EndpointID, f.AppID)
		if err != nil {
			return err
		}
		if !ok {
			return store.NotFound("endpoint", f.EndpointID)
		}
		rows, err := q.Query(ctx, `SELECT id FROM deliveries WHERE endpoint_id = $1 AND id > $2 AND status <> 'pending'
			AND ($3 = '' OR status = $3) AND created_at >= $4 AND created_at < $5 ORDER BY id LIMIT $6`+c.d.ForUpdate(),
			f.EndpointID, f.After, f.Status, since, until, limit)
		ids, err := Collect(rows, err, ScanString)
		if err != nil || len(ids) == 0 {
			return err
		}
		if _, err := c.requeue(ctx, q, ids, now); err != nil {
			return err
		}
		res.Replayed = len(ids)
		if len(ids) == limit {
			res.Next = ids[len(ids)-1]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if res.Replayed > 0 {
		c.events.WorkQueued()
	}
	return &res, nil
}

// requeue queues the finished deliveries ids for an attempt at now, their retry
// schedule started over (pending ones are left as they are), and returns how many it
// queued: what a replay does to each delivery it picked.
func (c *Core) requeue(ctx context.Context, q Querier, ids []string, now time.Time) (int64, error) {
	return q.Exec(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = $1, retry_step = 0, lease_owner = NULL, updated_at = $1
		WHERE status <> 'pending' AND `+c.d.In("id", "$2"), c.d.Time(now), c.d.List(ids))
}
