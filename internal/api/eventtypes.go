package api

import (
	"encoding/json"
	"net/http"

	"github.com/heraldhq/herald/internal/domain"
)

// eventTypeJSON is an EventType as answered; schema and example are null when unset.
type eventTypeJSON struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
	Example     json.RawMessage `json:"example"`
	Deprecated  bool            `json:"deprecated"`
	CreatedAt   timestamp       `json:"created_at"`
	UpdatedAt   timestamp       `json:"updated_at"`
}

func toEventTypeJSON(t *domain.EventType) eventTypeJSON {
	out := eventTypeJSON{
		Name: t.Name, Description: t.Description, Schema: t.Schema, Example: t.Example, Deprecated: t.Deprecated,
		CreatedAt: timestamp(t.CreatedAt), UpdatedAt: timestamp(t.UpdatedAt),
	}
	if out.Schema == nil {
		out.Schema = json.RawMessage("null")
	}
	if out.Example == nil {
		out.Example = json.RawMessage("null")
	}
	return out
}

// eventTypeInput is the body of POST /v1/event-types and PATCH /v1/event-types/{name}.
type eventTypeInput struct {
	Name        opt[string]          `json:"name"` // create only
	Description opt[string]          `json:"description"`
	Schema      opt[json.RawMessage] `json:"schema"`
	Example     opt[json.RawMessage] `json:"example"`
	Deprecated  opt[bool]            `json:"deprecated"`
}

// apply copies the fields of in into t and validates the result.
func (in *eventTypeInput) apply(t *domain.EventType) error {
	if in.Description.set {
		t.Description = in.Description.v
	}
	if in.Schema.set {
		t.Schema = in.Schema.v
	}
	if in.Example.set {
		t.Example = in.Example.v
	}
	if in.Deprecated.set {
		t.Deprecated = in.Deprecated.v
	}
	return t.Check()
}

// maxEventTypeBody bounds the body of an event type: its schema and example, and room.
const maxEventTypeBody = domain.MaxSchemaBytes + domain.MaxExampleBytes + 16<<10

// createEventType serves POST /v1/event-types.
func (s *server) createEventType(w http.ResponseWriter, r *http.Request, _ *call) error {
	var in eventTypeInput
	if err := decodeBody(w, r, maxEventTypeBody, false, &in); err != nil {
		return err
	}
	if !in.Name.set {
		return invalidField("name", "is required, such as invoice.paid")
	}
	now := s.timeNow()
	t := &domain.EventType{Name: in.Name.v, CreatedAt: now, UpdatedAt: now}
	if err := in.apply(t); err != nil {
		return err
	}
	err := s.svc.CreateEventType(r.Context(), t)
	return writeOne(w, http.StatusCreated, t, storeError(err, "event type", t.Name), toEventTypeJSON)
}

// listEventTypes serves GET /v1/event-types, in name order.
func (s *server) listEventTypes(w http.ResponseWriter, r *http.Request, _ *call) error {
	q := newQuery(r.URL)
	p := q.pageOf(func(c string) bool { return domain.CheckEventType("cursor", c) == nil })
	if err := q.done(); err != nil {
		return err
	}
	types, next, err := s.store.ListEventTypes(r.Context(), p)
	return writePage(w, "event types", types, next, err, toEventTypeJSON)
}

// getEventType serves GET /v1/event-types/{name}.
func (s *server) getEventType(w http.ResponseWriter, r *http.Request, _ *call) error {
	name := r.PathValue("name")
	t, err := s.store.GetEventType(r.Context(), name)
	return writeOne(w, http.StatusOK, t, storeError(err, "event type", name), toEventTypeJSON)
}

// updateEventType serves PATCH /v1/event-types/{name}.
func (s *server) updateEventType(w http.ResponseWriter, r *http.Request, _ *call) error {
	var in eventTypeInput
	if err := decodeBody(w, r, maxEventTypeBody, false, &in); err != nil {
		return err
	}
	if in.Name.set {
		return invalidField("name", "cannot be changed; create an event type of the new name and deprecate this one")
	}
	name := r.PathValue("name")
	t, err := s.store.GetEventType(r.Context(), name)
	if err != nil {
		return storeError(err, "event type", name)
	}
	if err := in.apply(t); err != nil {
		return err
	}
	t.UpdatedAt = s.timeNow()
	err = s.svc.UpdateEventType(r.Context(), t)
	return writeOne(w, http.StatusOK, t, storeError(err, "event type", name), toEventTypeJSON)
}

// deleteEventType serves DELETE /v1/event-types/{name}.
func (s *server) deleteEventType(w http.ResponseWriter, r *http.Request, _ *call) error {
	name := r.PathValue("name")
	if err := s.svc.DeleteEventType(r.Context(), name); err != nil {
		return storeError(err, "event type", name)
	}
	return noContent(w)
}
