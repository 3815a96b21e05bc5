package api

import (
	"net/http"
	"strings"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/jsontime"
	"github.com/heraldhq/herald/internal/store"
)

// deliveryJSON is a Delivery as answered.
type deliveryJSON struct {
	ID             string     `json:"id"`
	AppID          string     `json:"app_id"`
	MessageID      string     `json:"message_id"`
	EndpointID     string     `json:"endpoint_id"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  *timestamp `json:"next_attempt_at,omitempty"`
	LastStatusCode int        `json:"last_status_code,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
	CreatedAt      timestamp  `json:"created_at"`
	UpdatedAt      timestamp  `json:"updated_at"`
}

func toDeliveryJSON(d *domain.Delivery) deliveryJSON {
	return deliveryJSON{
		ID: d.ID, AppID: d.AppID, MessageID: d.MessageID, EndpointID: d.EndpointID, Status: d.Status,
		Attempts: d.Attempts, NextAttemptAt: jsontime.Opt(d.NextAttemptAt), LastStatusCode: d.LastStatusCode,
		LastError: d.LastError, CreatedAt: timestamp(d.CreatedAt), UpdatedAt: timestamp(d.UpdatedAt),
	}
}

// attemptJSON is an Attempt as answered.
type attemptJSON struct {
	ID              string            `json:"id"`
	DeliveryID      string            `json:"delivery_id"`
	AppID           string            `json:"app_id"`
	EndpointID      string            `json:"endpoint_id"`
	MessageID       string            `json:"message_id"`
	Number          int               `json:"number"`
	StartedAt       timestamp         `json:"started_at"`
	LatencyMS       float64           `json:"latency_ms"`
	StatusCode      int               `json:"status_code,omitempty"`
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`
	ResponseBody    string            `json:"response_body"`
	Error           string            `json:"error,omitempty"`
	Outcome         string            `json:"outcome"`
	RequestHeaders  map[string]string `json:"request_headers"` // credentials redacted; {} when no request was made
}

func toAttemptJSON(a *domain.Attempt) attemptJSON {
	return attemptJSON{
		ID: a.ID, DeliveryID: a.DeliveryID, AppID: a.AppID, EndpointID: a.EndpointID, MessageID: a.MessageID,
		Number: a.Number, StartedAt: timestamp(a.StartedAt),
		LatencyMS:       float64(a.Latency.Microseconds()) / 1000,
		StatusCode:      a.StatusCode,
		ResponseHeaders: a.ResponseHeaders,
		ResponseBody:    strings.ToValidUTF8(string(a.ResponseBody), "\uFFFD"),
		Error:           a.Error,
		Outcome:         a.Outcome,
		RequestHeaders:  nonNil(a.RequestHeaders),
	}
}

// listDeliveries serves GET /v1/apps/{app}/deliveries.
func (s *server) listDeliveries(w http.ResponseWriter, r *http.Request, c *call) error {
	q := newQuery(r.URL)
	f := store.DeliveryFilter{
		AppID:       c.appID,
		EndpointID:  q.id("endpoint_id", "ep"),
		MessageID:   q.id("message_id", "msg"),
		Status:      q.oneOf("status", domain.DeliveryPending, domain.DeliverySucceeded, domain.DeliveryFailed, domain.DeliveryCancelled),
		TimeRange:   q.timeRange(),
		Page:        q.page("dlv"),
		EndpointIDs: c.endpointScope(),
	}
	if err := q.done(); err != nil {
		return err
	}
	ds, next, err := s.store.ListDeliveries(r.Context(), f)
	return writePage(w, "deliveries", ds, next, err, toDeliveryJSON)
}

// loadDelivery returns the {dlv} of the request's app.
func (s *server) loadDelivery(r *http.Request, c *call) (*domain.Delivery, error) {
	return loadPath(r, c, "dlv", "delivery", s.store.GetDelivery)
}

// getDelivery serves GET /v1/apps/{app}/deliveries/{dlv}.
func (s *server) getDelivery(w http.ResponseWriter, r *http.Request, c *call) error {
	d, err := s.loadDelivery(r, c)
	return writeOne(w, http.StatusOK, d, err, toDeliveryJSON)
}

// retryDelivery serves POST /v1/apps/{app}/deliveries/{dlv}/retry.
func (s *server) retryDelivery(w http.ResponseWriter, r *http.Request, c *call) error {
	id := r.PathValue("dlv")
	d, err := s.svc.RetryDelivery(r.Context(), c.appID, id, s.timeNow())
	return writeOne(w, http.StatusAccepted, d, storeError(err, "delivery", id), toDeliveryJSON)
}

// listDeliveryAttempts serves GET /v1/apps/{app}/deliveries/{dlv}/attempts.
func (s *server) listDeliveryAttempts(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := pageQuery(r.URL, "att")
	if err != nil {
		return err
	}
	d, err := s.loadDelivery(r, c)
	if err != nil {
		return err
	}
	as, next, err := s.store.ListAttempts(r.Context(), store.AttemptFilter{AppID: c.appID, DeliveryID: d.ID, Page: p})
	return writePage(w, "attempts", as, next, err, toAttemptJSON)
}

// listAttempts serves GET /v1/apps/{app}/attempts.
func (s *server) listAttempts(w http.ResponseWriter, r *http.Request, c *call) error {
	q := newQuery(r.URL)
	f := store.AttemptFilter{
		AppID:       c.appID,
		DeliveryID:  q.id("delivery_id", "dlv"),
		EndpointID:  q.id("endpoint_id", "ep"),
		MessageID:   q.id("message_id", "msg"),
		TimeRange:   q.timeRange(),
		Page:        q.page("att"),
		EndpointIDs: c.endpointScope(),
	}
	if err := q.done(); err != nil {
		return err
	}
	as, next, err := s.store.ListAttempts(r.Context(), f)
	return writePage(w, "attempts", as, next, err, toAttemptJSON)
}
