package api

import (
	"net/http"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/jsontime"
)

// appReplayInput is the body of POST /v1/apps/{app}/replay.
type appReplayInput struct {
	Since      opt[string]   `json:"since"`
	Until      opt[string]   `json:"until"`
	Status     opt[[]string] `json:"status"`
	EventTypes opt[[]string] `json:"event_types"`
}

// replayJobJSON is a ReplayJob as answered.
type replayJobJSON struct {
	ID              string     `json:"id"`
	AppID           string     `json:"app_id"`
	State           string     `json:"state"`
	Since           *timestamp `json:"since,omitempty"`
	Until           timestamp  `json:"until"`
	Status          []string   `json:"status"`
	EventTypes      []string   `json:"event_types"`
	Done            int64      `json:"done"`
	MessagesScanned int64      `json:"messages_scanned"`
	Progress        float64    `json:"progress"`
	Error           string     `json:"error,omitempty"`
	CreatedAt       timestamp  `json:"created_at"`
	UpdatedAt       timestamp  `json:"updated_at"`
	FinishedAt      *timestamp `json:"finished_at,omitempty"`
}

func toReplayJobJSON(j *domain.ReplayJob) replayJobJSON {
	out := replayJobJSON{
		ID: j.ID, AppID: j.AppID, State: j.State, Until: timestamp(j.Until), Status: nonNilList(j.Statuses),
		EventTypes: nonNilList(j.EventTypes), Done: j.Replayed, MessagesScanned: j.Scanned, Progress: j.Progress(), Error: j.Error,
		CreatedAt: timestamp(j.CreatedAt), UpdatedAt: timestamp(j.UpdatedAt), FinishedAt: jsontime.Opt(j.FinishedAt),
	}
	if !j.Since.IsZero() {
		out.Since = jsontime.Opt(&j.Since)
	}
	return out
}

// nonNilList returns l, or an empty list for nil, so that it is answered as [].
func nonNilList(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// createAppReplay serves POST /v1/apps/{app}/replay: the app's finished deliveries of
// messages published in [since, until) (until at most now), of the given statuses and
// event types, across all of its endpoints, are queued again by a job that runs in the
// background; the answer is the job, to follow with GET .../replays/{id}.
func (s *server) createAppReplay(w http.ResponseWriter, r *http.Request, c *call) error {
	var in appReplayInput
	if err := decodeBody(w, r, maxBodyBytes, false, &in); err != nil {
		return err
	}
	rng, err := bodyRange(in.Since, in.Until)
	if err != nil {
		return err
	}
	now := s.timeNow()
	until := rng.Until
	if until.IsZero() || until.After(now) {
		until = now // messages published once the replay started are not replayed
	}
	j := &domain.ReplayJob{
		ID: ids.New("rpl"), AppID: c.appID, State: domain.ReplayRunning, Since: rng.Since, Until: until,
		Statuses: in.Status.v, EventTypes: in.EventTypes.v, CreatedAt: now, UpdatedAt: now,
	}
	if len(j.Statuses) == 0 {
		j.Statuses = nil
	}
	if len(j.EventTypes) == 0 {
		j.EventTypes = nil
	}
	if err := j.Check(); err != nil {
		return err
	}
	if err := s.svc.StartReplay(r.Context(), j); err != nil {
		return storeError(err, "app", c.appID)
	}
	w.Header().Set("Location", "/v1/apps/"+c.appID+"/replays/"+j.ID)
	writeJSON(w, http.StatusAccepted, toReplayJobJSON(j))
	return nil
}

// listAppReplays serves GET /v1/apps/{app}/replays: the app's replays, newest first.
func (s *server) listAppReplays(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := pageQuery(r.URL, "rpl")
	if err != nil {
		return err
	}
	js, next, err := s.store.ListReplayJobs(r.Context(), c.appID, p)
	return writePage(w, "replays", js, next, err, toReplayJobJSON)
}

// getAppReplay serves GET /v1/apps/{app}/replays/{rpl}: a replay's progress.
func (s *server) getAppReplay(w http.ResponseWriter, r *http.Request, c *call) error {
	j, err := loadPath(r, c, "rpl", "replay", s.store.GetReplayJob)
	return writeOne(w, http.StatusOK, j, err, toReplayJobJSON)
}

// cancelAppReplay serves POST /v1/apps/{app}/replays/{rpl}/cancel: the replay stops
// after its current step; what it queued stays queued. A finished replay is answered
// as it is.
func (s *server) cancelAppReplay(w http.ResponseWriter, r *http.Request, c *call) error {
	id := r.PathValue("rpl")
	j, err := s.svc.CancelReplay(r.Context(), c.appID, id, s.timeNow())
	return writeOne(w, http.StatusOK, j, storeError(err, "replay", id), toReplayJobJSON)
}
