package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/jsontime"
	"github.com/heraldhq/herald/internal/store"
)

// Stats ranges: the default window and bucket of an endpoint's stats, and bounds.
const (
	defaultStatsWindow = 24 * time.Hour
	defaultStatsBucket = time.Hour
	minStatsBucket     = time.Minute
	maxStatsBuckets    = 1440
)

// bucketJSON counts attempts that started in [start, start+bucket).
type bucketJSON struct {
	Start     timestamp `json:"start"`
	Succeeded int64     `json:"succeeded"`
	Failed    int64     `json:"failed"`
}

func toBucketsJSON(bs []store.StatsBucket) []bucketJSON {
	out := make([]bucketJSON, len(bs))
	for i, b := range bs {
		out[i] = bucketJSON{Start: timestamp(b.Start), Succeeded: b.Succeeded, Failed: b.Failed}
	}
	return out
}

// endpointStatsJSON is the answer of GET /v1/apps/{app}/endpoints/{ep}/stats.
type endpointStatsJSON struct {
	Since         timestamp    `json:"since"`
	Until         timestamp    `json:"until"`
	BucketSeconds int64        `json:"bucket_seconds"`
	Attempts      int64        `json:"attempts"`
	Succeeded     int64        `json:"succeeded"`
	Failed        int64        `json:"failed"`
	LastError     string       `json:"last_error,omitempty"`
	LastAttemptAt *timestamp   `json:"last_attempt_at,omitempty"`
	Buckets       []bucketJSON `json:"buckets"`
}

// endpointStats serves GET /v1/apps/{app}/endpoints/{ep}/stats: the endpoint's
// attempts in a time range (default: the last 24 hours), succeeded and failed, in
// buckets (default: hourly), read from an index of attempts by endpoint and time.
func (s *server) endpointStats(w http.ResponseWriter, r *http.Request, c *call) error {
	q := newQuery(r.URL)
	rng := q.timeRange()
	bucket := defaultStatsBucket
	if v := q.str("bucket"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < int(minStatsBucket.Seconds()) || n > 7*24*3600 {
			q.fail(invalidQuery("bucket", "must be a number of seconds from %d to %d, not %q", int(minStatsBucket.Seconds()), 7*24*3600, v))
		} else {
			bucket = time.Duration(n) * time.Second
		}
	}
	if err := q.done(); err != nil {
		return err
	}
	until := rng.Until
	if until.IsZero() {
		// The bucket that holds now is the last one, whole.
		until = s.timeNow().Truncate(bucket).Add(bucket)
	}
	since := rng.Since
	if since.IsZero() {
		since = until.Add(-defaultStatsWindow)
		if bucket > defaultStatsWindow {
			since = until.Add(-bucket)
		}
	}
	if !since.Before(until) {
		return invalidQuery("since", "must be before until")
	}
	if n := until.Sub(since) / bucket; n > maxStatsBuckets {
		return invalidQuery("bucket", "makes %d buckets of the range; the most is %d: choose a larger bucket or a shorter range", n, maxStatsBuckets)
	}
	e, err := s.loadEndpoint(r, c)
	if err != nil {
		return err
	}
	st, err := s.store.AttemptStats(r.Context(), store.AttemptStatsFilter{AppID: c.appID, EndpointID: e.ID, Since: since, Until: until, Bucket: bucket})
	if err != nil {
		return fmt.Errorf("endpoint stats: %w", err)
	}
	out := endpointStatsJSON{
		Since: timestamp(since), Until: timestamp(until), BucketSeconds: int64(bucket / time.Second),
		Succeeded: st.Succeeded, Failed: st.Failed, Attempts: st.Succeeded + st.Failed,
		Buckets: toBucketsJSON(st.Buckets),
	}
	if st.Last != nil {
		out.LastAttemptAt = jsontime.Opt(&st.Last.StartedAt)
	}
	if a := st.LastFailure; a != nil {
		out.LastError = a.Error
		if out.LastError == "" {
			out.LastError = "HTTP " + strconv.Itoa(a.StatusCode)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// serverStatsJSON is the answer of GET /v1/stats.
type serverStatsJSON struct {
	QueueDepth          int64        `json:"queue_depth"`
	OldestPendingAt     *timestamp   `json:"oldest_pending_at,omitempty"`
	DeliveriesPerMinute []bucketJSON `json:"deliveries_per_minute"`
	Listeners           int          `json:"listeners"`
	NodeID              string       `json:"node_id"`
}

// serverStats serves GET /v1/stats: the console's overview of the server's health.
func (s *server) serverStats(w http.ResponseWriter, r *http.Request, _ *call) error {
	ctx := r.Context()
	depth, err := s.store.QueueDepth(ctx)
	if err != nil {
		return fmt.Errorf("queue depth: %w", err)
	}
	oldest, err := s.store.OldestPending(ctx)
	if err != nil {
		return fmt.Errorf("oldest pending delivery: %w", err)
	}
	until := s.timeNow().Truncate(time.Minute).Add(time.Minute)
	st, err := s.store.AttemptStats(ctx, store.AttemptStatsFilter{Since: until.Add(-time.Hour), Until: until, Bucket: time.Minute})
	if err != nil {
		return fmt.Errorf("attempts per minute: %w", err)
	}
	out := serverStatsJSON{QueueDepth: depth, OldestPendingAt: jsontime.Opt(oldest), DeliveriesPerMinute: toBucketsJSON(st.Buckets), NodeID: s.nodeID}
	if s.listener != nil {
		out.Listeners = s.listener.Count()
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// testInput is the body of POST /v1/apps/{app}/endpoints/{ep}/test.
type testInput struct {
	EventType opt[string]          `json:"event_type"`
	Payload   opt[json.RawMessage] `json:"payload"`
}

// testEndpoint serves POST /v1/apps/{app}/endpoints/{ep}/test: it publishes a message
// of the chosen type to this endpoint alone, whatever its event filter. The payload is
// the request's, else the catalogue's example of the type, else {"type":...,"test":true}.
func (s *server) testEndpoint(w http.ResponseWriter, r *http.Request, c *call) error {
	var in testInput
	if err := decodeBody(w, r, s.maxPayload+envelopeBytes, false, &in); err != nil {
		return err
	}
	e, err := s.loadEndpoint(r, c)
	if err != nil {
		return err
	}
	if !in.EventType.set {
		return invalidField("event_type", "is required, such as invoice.paid")
	}
	if err := domain.CheckEventType("event_type", in.EventType.v); err != nil {
		return err
	}
	if e.State == domain.EndpointDisabled {
		return errorf(http.StatusConflict, codeConflict, "endpoint %s is disabled; enable it to send it a test event", e.ID)
	}
	payload := in.Payload.v
	if !in.Payload.set {
		payload, err = s.examplePayload(r, in.EventType.v)
		if err != nil {
			return err
		}
	}
	m, err := s.newMessage(&messageInput{Type: in.EventType, Payload: payload}, "", c.appID, "")
	if err != nil {
		return err
	}
	res, err := s.svc.PublishTo(r.Context(), m, []string{e.ID})
	if err != nil {
		return storeError(err, "endpoint", e.ID)
	}
	out := toMessageJSON(res.Message)
	n := len(res.Deliveries)
	out.Deliveries = &n
	writeJSON(w, http.StatusAccepted, out)
	return nil
}

// examplePayload returns the catalogue's example of an event type when it is a JSON
// object (a message's payload must be one), else {"type":...,"test":true}.
func (s *server) examplePayload(r *http.Request, eventType string) (json.RawMessage, error) {
	t, err := s.store.GetEventType(r.Context(), eventType)
	switch {
	case err == nil && bytes.HasPrefix(bytes.TrimSpace(t.Example), []byte("{")):
		return t.Example, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("event type %s: %w", eventType, err)
	}
	return json.Marshal(map[string]any{"type": eventType, "test": true})
}
