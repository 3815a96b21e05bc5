package postgres

import (
	"context"
	"fmt"
	"time"
)

// oldestPendingSQL visits the endpoints with pending deliveries by a loose scan of
// deliveries_fifo (endpoint, seq) and reads each one's first queued delivery: a
// delivery's seq is taken when it is inserted, so an endpoint's first pending delivery
// by seq is its oldest. One seek per such endpoint, and no index on created_at to keep
// up on every publish and claim (migration 16).
const oldestPendingSQL = `WITH RECURSIVE pend(id) AS (
		(SELECT endpoint_id FROM deliveries WHERE status = 'pending' ORDER BY endpoint_id LIMIT 1)
		UNION ALL
		SELECT (SELECT d.endpoint_id FROM deliveries d WHERE d.status = 'pending' AND d.endpoint_id > p.id ORDER BY d.endpoint_id LIMIT 1)
		FROM pend p WHERE p.id IS NOT NULL
	)
	SELECT min((SELECT h.created_at FROM deliveries h WHERE h.endpoint_id = p.id AND h.status = 'pending' ORDER BY h.seq LIMIT 1))
	FROM pend p WHERE p.id IS NOT NULL`

// OldestPending returns when the oldest pending delivery was created, nil when none is.
func (s *Store) OldestPending(ctx context.Context) (*time.Time, error) {
	var t *time.Time
	if err := s.pool.QueryRow(ctx, oldestPendingSQL).Scan(&t); err != nil {
		return nil, fmt.Errorf("oldest pending delivery: %w", err)
	}
	if t != nil {
		u := t.UTC()
		t = &u
	}
	return t, nil
}
