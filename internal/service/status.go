package service

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

// Limits of the status report: it reads indexes and bounded lists only.
const (
	StatusBacklogLimit   = 100000           // pending deliveries counted at most
	StatusFailingLimit   = 20               // failing endpoints listed at most
	StatusSourcesLimit   = 20               // sources with rejections listed at most
	StatusRejectionsSpan = time.Hour        // rejections counted over this long
	StatusDeliveriesSpan = 10 * time.Minute // deliveries per minute over this long
)

// Status is the operator's one screen: GET /v1/status and `herald status`.
type Status struct {
	Now              time.Time
	Nodes            []store.Node // most recent heartbeat first
	Backlog          *store.Backlog
	Deliveries       *store.AttemptStats // the last StatusDeliveriesSpan, by minute
	Failing          []*store.FailingEndpoint
	FailingMore      bool // more endpoints fail than Failing lists
	Rejections       []*store.SourceRejections
	RejectionsSince  time.Time
	RejectionsMore   bool // more sources had rejections than Rejections lists
	OperationalAppID string
}

// Status reports the health of herald as of now; self is this node, for a store that
// keeps no heartbeats of nodes (SQLite: one node).
func (s *Service) Status(ctx context.Context, now time.Time, self store.Node) (*Status, error) {
	st := &Status{Now: now, OperationalAppID: s.OperationalAppID(), RejectionsSince: now.Add(-StatusRejectionsSpan)}
	var err error
	if shared, ok := s.store.(store.Shared); ok {
		if st.Nodes, err = shared.Nodes(ctx); err != nil {
			return nil, fmt.Errorf("status: nodes: %w", err)
		}
	} else {
		st.Nodes = []store.Node{self}
	}
	if st.Backlog, err = s.store.Backlog(ctx, now, StatusBacklogLimit); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	until := now.Truncate(time.Minute).Add(time.Minute)
	if st.Deliveries, err = s.store.AttemptStats(ctx, store.AttemptStatsFilter{Since: until.Add(-StatusDeliveriesSpan), Until: until, Bucket: time.Minute}); err != nil {
		return nil, fmt.Errorf("status: deliveries: %w", err)
	}
	if st.Failing, err = s.store.FailingEndpoints(ctx, StatusFailingLimit+1); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	if len(st.Failing) > StatusFailingLimit {
		st.Failing, st.FailingMore = st.Failing[:StatusFailingLimit], true
	}
	if st.Rejections, err = s.store.RecentRejections(ctx, st.RejectionsSince, StatusSourcesLimit+1); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	if len(st.Rejections) > StatusSourcesLimit {
		st.Rejections, st.RejectionsMore = st.Rejections[:StatusSourcesLimit], true
	}
	return st, nil
}
