package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

// defaultNodeTimeout is the silence after which a node counts as stale, as the
// delivery engine's default.
const defaultNodeTimeout = 10 * time.Second

// nodeJSON is one herald node as GET /v1/nodes answers it.
type nodeJSON struct {
	ID          string    `json:"id"`
	StartedAt   timestamp `json:"started_at"`
	HeartbeatAt timestamp `json:"heartbeat_at"`
	Alive       bool      `json:"alive"`
	Current     bool      `json:"current"`
}

// nodesJSON is the answer of GET /v1/nodes.
type nodesJSON struct {
	Data           []nodeJSON `json:"data"`
	Shared         bool       `json:"shared"`
	TimeoutSeconds float64    `json:"timeout_seconds"`
}

// listNodes serves GET /v1/nodes: the herald nodes sharing the database, from their
// heartbeats, each alive or stale (silent for longer than the node timeout; the others
// take a stale node's deliveries over and then forget it). A database that one node
// owns (SQLite) has this node alone.
func (s *server) listNodes(w http.ResponseWriter, r *http.Request, _ *call) error {
	now := s.now()
	out := nodesJSON{Data: []nodeJSON{}, TimeoutSeconds: s.nodeTimeout.Seconds()}
	l, shared := s.store.(store.Liveness)
	if !shared {
		out.Data = append(out.Data, nodeJSON{ID: s.nodeID, StartedAt: timestamp(s.startedAt), HeartbeatAt: timestamp(now), Alive: true, Current: true})
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	out.Shared = true
	nodes, err := l.Nodes(r.Context())
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	for _, n := range nodes {
		out.Data = append(out.Data, s.nodeView(n, now))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// nodeView is node n as the API shows it at now: alive unless silent for longer than
// the node timeout.
func (s *server) nodeView(n store.Node, now time.Time) nodeJSON {
	return nodeJSON{
		ID: n.ID, StartedAt: timestamp(n.StartedAt), HeartbeatAt: timestamp(n.HeartbeatAt),
		Alive: now.Sub(n.HeartbeatAt) < s.nodeTimeout, Current: n.ID == s.nodeID,
	}
}
