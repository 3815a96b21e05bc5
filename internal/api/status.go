package api

import (
	"fmt"
	"net/http"

	"github.com/heraldhq/herald/internal/jsontime"
	"github.com/heraldhq/herald/internal/service"
	"github.com/heraldhq/herald/internal/store"
)

// statusJSON is the answer of GET /v1/status.
type statusJSON struct {
	Now                  timestamp             `json:"now"`
	NodeID               string                `json:"node_id"`
	Nodes                []nodeJSON            `json:"nodes"`
	Backlog              backlogJSON           `json:"backlog"`
	DeliveriesPerMinute  []bucketJSON          `json:"deliveries_per_minute"`
	FailingEndpoints     []failingEndpointJSON `json:"failing_endpoints"`
	FailingEndpointsMore bool                  `json:"failing_endpoints_more"`
	RejectingSources     []rejectingSourceJSON `json:"rejecting_sources"`
	RejectingSourcesMore bool                  `json:"rejecting_sources_more"`
	RejectionsSince      timestamp             `json:"rejections_since"`
	OperationalAppID     string                `json:"operational_app_id,omitempty"`
}

type backlogJSON struct {
	Pending     int64      `json:"pending"`
	Due         int64      `json:"due"`
	CountLimit  int64      `json:"count_limit"`
	OldestDueAt *timestamp `json:"oldest_due_at,omitempty"`
}

type failingEndpointJSON struct {
	EndpointID   string             `json:"endpoint_id"`
	AppID        string             `json:"app_id"`
	URL          string             `json:"url"`
	Operational  bool               `json:"operational"`
	FailingSince timestamp          `json:"failing_since"`
	LastAttempt  *statusAttemptJSON `json:"last_attempt,omitempty"`
}

type statusAttemptJSON struct {
	ID         string    `json:"id"`
	StartedAt  timestamp `json:"started_at"`
	StatusCode int       `json:"status_code,omitempty"`
	Error      string    `json:"error,omitempty"`
}

type rejectingSourceJSON struct {
	SourceID      string               `json:"source_id"`
	AppID         string               `json:"app_id"`
	Rejections    int64                `json:"rejections"`
	LastRejection *statusRejectionJSON `json:"last_rejection,omitempty"`
}

type statusRejectionJSON struct {
	ReceivedAt timestamp `json:"received_at"`
	Status     int       `json:"status"`
	Code       string    `json:"code"`
	Message    string    `json:"message"`
}

// status serves GET /v1/status: the operator's one screen (`herald status`).
func (s *server) status(w http.ResponseWriter, r *http.Request, _ *call) error {
	now := s.timeNow()
	st, err := s.svc.Status(r.Context(), now, store.Node{ID: s.nodeID, StartedAt: s.startedAt, HeartbeatAt: now})
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	out := statusJSON{
		Now: timestamp(st.Now), NodeID: s.nodeID, Nodes: make([]nodeJSON, 0, len(st.Nodes)),
		Backlog: backlogJSON{
			Pending: st.Backlog.Pending, Due: st.Backlog.Due, CountLimit: service.StatusBacklogLimit, OldestDueAt: jsontime.Opt(st.Backlog.OldestDueAt),
		},
		DeliveriesPerMinute: toBucketsJSON(st.Deliveries.Buckets),
		FailingEndpoints:    make([]failingEndpointJSON, 0, len(st.Failing)), FailingEndpointsMore: st.FailingMore,
		RejectingSources: make([]rejectingSourceJSON, 0, len(st.Rejections)), RejectingSourcesMore: st.RejectionsMore,
		RejectionsSince: timestamp(st.RejectionsSince), OperationalAppID: st.OperationalAppID,
	}
	for _, n := range st.Nodes {
		out.Nodes = append(out.Nodes, s.nodeView(n, now))
	}
	for _, f := range st.Failing {
		e := f.Endpoint
		j := failingEndpointJSON{
			EndpointID: e.ID, AppID: e.AppID, URL: e.URL, Operational: e.AppID == st.OperationalAppID, FailingSince: timestamp(*e.FailingSince),
		}
		if a := f.LastAttempt; a != nil {
			j.LastAttempt = &statusAttemptJSON{ID: a.ID, StartedAt: timestamp(a.StartedAt), StatusCode: a.StatusCode, Error: a.Error}
		}
		out.FailingEndpoints = append(out.FailingEndpoints, j)
	}
	for _, src := range st.Rejections {
		j := rejectingSourceJSON{SourceID: src.SourceID, AppID: src.AppID, Rejections: src.Count}
		if l := src.Last; l != nil {
			j.LastRejection = &statusRejectionJSON{ReceivedAt: timestamp(l.ReceivedAt), Status: l.Status, Code: l.Code, Message: l.Message}
		}
		out.RejectingSources = append(out.RejectingSources, j)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
