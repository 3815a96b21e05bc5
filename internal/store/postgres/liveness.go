package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/store"
	"github.com/jackc/pgx/v5"
)

var _ store.Liveness = (*Store)(nil)

// Heartbeat implements store.Liveness. The database's clock decides who is stale, so
// nodes whose clocks disagree still agree on it.
func (s *Store) Heartbeat(ctx context.Context, nodeID string, timeout time.Duration) ([]string, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	if _, err := s.pool.Exec(ctx, `INSERT INTO nodes (id, started_at, heartbeat_at) VALUES ($1, now(), now())
		ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`, nodeID); err != nil {
		return nil, fmt.Errorf("heartbeat of node %s: %w", nodeID, err)
	}
	rows, err := s.pool.Query(ctx, `SELECT id FROM nodes WHERE heartbeat_at < now() - make_interval(secs => $1) AND id <> $2`,
		timeout.Seconds(), nodeID)
	if err != nil {
		return nil, fmt.Errorf("find stale nodes: %w", err)
	}
	stale, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("find stale nodes: %w", err)
	}
	var released []string
	for _, id := range stale {
		if err := s.ReleaseLeases(ctx, id, nil); err != nil {
			return released, fmt.Errorf("release the leases of stale node %s: %w", id, err)
		}
		// Forget the node only if it is still stale: it may have come back meanwhile.
		if _, err := s.pool.Exec(ctx, `DELETE FROM nodes WHERE id = $1 AND heartbeat_at < now() - make_interval(secs => $2)`,
			id, timeout.Seconds()); err != nil {
			return released, fmt.Errorf("forget stale node %s: %w", id, err)
		}
		released = append(released, id)
	}
	return released, nil
}

// Leave implements store.Liveness.
func (s *Store) Leave(ctx context.Context, nodeID string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	if _, err := s.pool.Exec(ctx, `DELETE FROM nodes WHERE id = $1`, nodeID); err != nil {
		return fmt.Errorf("node %s leaves: %w", nodeID, err)
	}
	return nil
}

// Nodes implements store.Liveness.
func (s *Store) Nodes(ctx context.Context) ([]store.Node, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	rows, err := s.pool.Query(ctx, `SELECT id, started_at, heartbeat_at FROM nodes ORDER BY heartbeat_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	nodes, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Node, error) {
		var n store.Node
		err := row.Scan(&n.ID, &n.StartedAt, &n.HeartbeatAt)
		n.StartedAt, n.HeartbeatAt = n.StartedAt.UTC(), n.HeartbeatAt.UTC()
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	return nodes, nil
}
