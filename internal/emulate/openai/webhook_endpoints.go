package openai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/client"
	whopenai "github.com/heraldhq/herald/webhook/openai"
	"github.com/heraldhq/herald/webhook/webhooktest"
)

// webhookEndpoint is a WebhookEndpoint object, or with SigningSecret a
// WebhookEndpointWithSecret (the answers of create and rotate_secret).
type webhookEndpoint struct {
	ID                string   `json:"id"`
	CreatedAt         int64    `json:"created_at"`
	EventTypes        []string `json:"event_types"`
	Name              string   `json:"name"`
	Object            string   `json:"object"`
	SigningSecret     *string  `json:"signing_secret,omitempty"`
	SigningSecretHint *string  `json:"signing_secret_hint"`
	URL               string   `json:"url"`
	UpdatedAt         int64    `json:"updated_at"`
}

// endpointList is a WebhookEndpointList, OpenAI's cursor page.
type endpointList struct {
	Object  string             `json:"object"`
	Data    []*webhookEndpoint `json:"data"`
	FirstID *string            `json:"first_id"`
	LastID  *string            `json:"last_id"`
	HasMore bool               `json:"has_more"`
}

// handleWebhookEndpoints registers the webhook endpoint management API.
func (e *Emulator) handleWebhookEndpoints() {
	e.handle("POST /v1/webhook_endpoints", e.withEndpoints(e.createEndpoint))
	e.handle("GET /v1/webhook_endpoints", e.withEndpoints(e.listEndpoints))
	e.handle("GET /v1/webhook_endpoints/{id}", e.withEndpoints(e.getEndpoint))
	e.handle("POST /v1/webhook_endpoints/{id}", e.withEndpoints(e.updateEndpoint))
	e.handle("DELETE /v1/webhook_endpoints/{id}", e.withEndpoints(e.deleteEndpoint))
	e.handle("POST /v1/webhook_endpoints/{id}/rotate_secret", e.withEndpoints(e.rotateEndpointSecret))
	e.handle("POST /v1/webhook_endpoints/{id}/test", e.withEndpoints(e.testEndpoint))
	e.handle("GET /v1/webhook_event_types", e.listEventTypes)
}

type endpointHandler func(w http.ResponseWriter, r *http.Request, h *HeraldEndpoints) *apiError

// withEndpoints answers with an error when no herald app backs the endpoints.
func (e *Emulator) withEndpoints(fn endpointHandler) func(w http.ResponseWriter, r *http.Request) *apiError {
	return func(w http.ResponseWriter, r *http.Request) *apiError {
		if e.cfg.Endpoints == nil {
			return &apiError{status: http.StatusNotImplemented, typ: "invalid_request_error",
				message: "This emulator has no herald server behind it, so it cannot manage webhook endpoints."}
		}
		return fn(w, r, e.cfg.Endpoints)
	}
}

// listEventTypes serves GET /v1/webhook_event_types: herald's OpenAI catalogue.
func (e *Emulator) listEventTypes(w http.ResponseWriter, r *http.Request) *apiError {
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": whopenai.EventTypes()})
	return nil
}

// createEndpoint serves POST /v1/webhook_endpoints.
func (e *Emulator) createEndpoint(w http.ResponseWriter, r *http.Request, h *HeraldEndpoints) *apiError {
	p, aerr := readEndpointParams(r, true)
	if aerr != nil {
		return aerr
	}
	ctx := r.Context()
	h.createMu.Lock() // the count and the create, together
	existing, err := h.all(ctx)
	if err == nil && len(existing) >= e.cfg.MaxWebhookEndpoints {
		h.createMu.Unlock()
		return invalid("", "webhook_endpoint_limit_reached",
			"This project has %d webhook endpoints, the most the emulator allows; delete one first.", len(existing))
	}
	var ep *client.Endpoint
	if err == nil {
		ep, err = h.c.CreateEndpoint(ctx, h.app, client.EndpointInput{URL: *p.url, Description: *p.name, EventTypes: p.eventTypes})
	}
	h.createMu.Unlock()
	if err != nil {
		return heraldError(err, "")
	}
	sec, err := h.secret(ctx, ep)
	if err != nil {
		return heraldError(err, openAIID(ep.ID))
	}
	out := toWebhookEndpoint(ep, sec)
	out.SigningSecret = &sec.Secret
	e.log.Info("webhook endpoint created", "id", out.ID, "url", ep.URL, "event_types", strings.Join(p.eventTypes, ","))
	writeJSON(w, http.StatusOK, out)
	return nil
}

// listEndpoints serves GET /v1/webhook_endpoints: newest first, a page of limit
// after the endpoint after (which need not exist any more).
func (e *Emulator) listEndpoints(w http.ResponseWriter, r *http.Request, h *HeraldEndpoints) *apiError {
	p, aerr := parseListParams(r.URL.Query())
	if aerr != nil {
		return aerr
	}
	ctx := r.Context()
	eps, err := h.all(ctx)
	if err != nil {
		return heraldError(err, "")
	}
	if p.after != "" {
		after := heraldID(p.after)
		i, _ := slices.BinarySearchFunc(eps, after, func(ep *client.Endpoint, id string) int { return strings.Compare(id, ep.ID) })
		if i < len(eps) && eps[i].ID == after {
			i++
		}
		eps = eps[i:]
	}
	out := endpointList{Object: "list", Data: []*webhookEndpoint{}, HasMore: len(eps) > p.limit}
	eps = eps[:min(len(eps), p.limit)]
	for _, ep := range eps {
		sec, err := h.secret(ctx, ep)
		if err != nil {
			return heraldError(err, openAIID(ep.ID))
		}
		out.Data = append(out.Data, toWebhookEndpoint(ep, sec))
	}
	if n := len(out.Data); n > 0 {
		out.FirstID, out.LastID = &out.Data[0].ID, &out.Data[n-1].ID
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// loadEndpoint returns the endpoint of the request's {id} and its current secret.
func loadEndpoint(ctx context.Context, r *http.Request, h *HeraldEndpoints) (*client.Endpoint, *client.EndpointSecret, *apiError) {
	id := r.PathValue("id")
	hid := heraldID(id)
	if hid == "" {
		return nil, nil, notFound("Webhook endpoint", id)
	}
	ep, err := h.get(ctx, hid)
	if err != nil {
		return nil, nil, heraldError(err, id)
	}
	sec, err := h.secret(ctx, ep)
	if err != nil {
		return nil, nil, heraldError(err, id)
	}
	return ep, sec, nil
}

// getEndpoint serves GET /v1/webhook_endpoints/{id}.
func (e *Emulator) getEndpoint(w http.ResponseWriter, r *http.Request, h *HeraldEndpoints) *apiError {
	ep, sec, aerr := loadEndpoint(r.Context(), r, h)
	if aerr != nil {
		return aerr
	}
	writeJSON(w, http.StatusOK, toWebhookEndpoint(ep, sec))
	return nil
}

// updateEndpoint serves POST /v1/webhook_endpoints/{id}: it changes the members
// given, and nothing (not even updated_at) when they are as they were.
func (e *Emulator) updateEndpoint(w http.ResponseWriter, r *http.Request, h *HeraldEndpoints) *apiError {
	p, aerr := readEndpointParams(r, false)
	if aerr != nil {
		return aerr
	}
	ctx := r.Context()
	ep, sec, aerr := loadEndpoint(ctx, r, h)
	if aerr != nil {
		return aerr
	}
	var in client.EndpointUpdate
	if p.name != nil && *p.name != ep.Description {
		in.Description = p.name
	}
	if p.url != nil && *p.url != ep.URL {
		in.URL = p.url
	}
	if p.eventTypes != nil && !slices.Equal(p.eventTypes, ep.EventTypes) {
		in.EventTypes = p.eventTypes
	}
	if in.Description != nil || in.URL != nil || in.EventTypes != nil {
		var err error
		if ep, err = h.c.UpdateEndpoint(ctx, h.app, ep.ID, in); err != nil {
			return heraldError(err, r.PathValue("id"))
		}
	}
	writeJSON(w, http.StatusOK, toWebhookEndpoint(ep, sec))
	return nil
}

// deleteEndpoint serves DELETE /v1/webhook_endpoints/{id}.
func (e *Emulator) deleteEndpoint(w http.ResponseWriter, r *http.Request, h *HeraldEndpoints) *apiError {
	id := r.PathValue("id")
	ctx := r.Context()
	hid := heraldID(id)
	if hid == "" {
		return notFound("Webhook endpoint", id)
	}
	if _, err := h.get(ctx, hid); err != nil {
		return heraldError(err, id)
	}
	if err := h.c.DeleteEndpoint(ctx, h.app, hid); err != nil {
		return heraldError(err, id)
	}
	e.log.Info("webhook endpoint deleted", "id", id)
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": "webhook_endpoint.deleted", "deleted": true})
	return nil
}

// rotateEndpointSecret serves POST /v1/webhook_endpoints/{id}/rotate_secret: a new
// secret signs from now on, and the old one stops at once or, with
// keep_old_secret_active_for_24_hours, signs too for 24 hours.
func (e *Emulator) rotateEndpointSecret(w http.ResponseWriter, r *http.Request, h *HeraldEndpoints) *apiError {
	var keep bool
	if r.ContentLength != 0 { // every member is optional, so no body is no members
		if _, aerr := readOnly(r, "keep_old_secret_active_for_24_hours", "a boolean", &keep); aerr != nil {
			return aerr
		}
	}
	ctx := r.Context()
	ep, _, aerr := loadEndpoint(ctx, r, h)
	if aerr != nil {
		return aerr
	}
	grace := 0
	if keep {
		grace = int((24 * time.Hour).Seconds())
	}
	secrets, err := h.c.RotateEndpointSecret(ctx, h.app, ep.ID, client.RotateSecretInput{GracePeriodSeconds: &grace})
	if err != nil {
		return heraldError(err, r.PathValue("id"))
	}
	sec := CurrentSecret(secrets)
	if sec == nil {
		return heraldError(errors.New("no current secret after the rotation"), r.PathValue("id"))
	}
	out := toWebhookEndpoint(ep, sec)
	out.SigningSecret = &sec.Secret
	e.log.Info("webhook endpoint secret rotated", "id", out.ID, "old_secret_kept", keep)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// testEndpoint serves POST /v1/webhook_endpoints/{id}/test: herald sends a sample
// event of event_type, signed with the endpoint's secret, to the endpoint alone,
// and the answer carries the endpoint's status code.
func (e *Emulator) testEndpoint(w http.ResponseWriter, r *http.Request, h *HeraldEndpoints) *apiError {
	var eventType string
	if ok, aerr := readOnly(r, "event_type", "a string", &eventType); aerr != nil {
		return aerr
	} else if !ok {
		return missing("event_type")
	}
	if !whopenai.IsEventType(eventType) {
		return unknownEventType("event_type", eventType)
	}
	ctx := r.Context()
	ep, _, aerr := loadEndpoint(ctx, r, h)
	if aerr != nil {
		return aerr
	}
	id := r.PathValue("id")
	if ep.State != client.EndpointEnabled {
		return invalid("", "webhook_endpoint_not_enabled",
			"Webhook endpoint %s is %s in herald; enable it (herald endpoint update --state enabled) to test it.", id, ep.State)
	}
	body, err := webhooktest.SampleEvent(eventType, time.Now())
	if err != nil {
		return heraldError(err, id)
	}
	a, err := h.sendTest(ctx, ep, eventType, body)
	if errors.Is(err, errTestTimeout) {
		return invalid("", "webhook_test_timeout", "The test event to %s was not sent in time: %v", ep.URL, err)
	} else if err != nil {
		return heraldError(err, id)
	}
	e.log.Info("webhook endpoint tested", "id", id, "event_type", eventType, "status", a.StatusCode, "err", a.Error)
	if a.StatusCode == 0 {
		return invalid("", "webhook_test_failed", "The test event could not be delivered to %s: %s", ep.URL, a.Error)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "webhook_endpoint.test", "webhook_endpoint_id": id, "event_type": eventType,
		"status_code": a.StatusCode, "success": true,
	})
	return nil
}

// toWebhookEndpoint returns ep as OpenAI shows it: the description is the name, the
// event filter is spelt out in catalogue types, and updated_at counts the newest
// secret as a change.
func toWebhookEndpoint(ep *client.Endpoint, sec *client.EndpointSecret) *webhookEndpoint {
	updated := ep.UpdatedAt
	if sec.CreatedAt.After(updated) {
		updated = sec.CreatedAt
	}
	return &webhookEndpoint{
		ID: openAIID(ep.ID), Object: "webhook_endpoint", CreatedAt: ep.CreatedAt.Unix(), UpdatedAt: updated.Unix(),
		Name: ep.Description, URL: ep.URL, EventTypes: expandFilter(ep.EventTypes), SigningSecretHint: ptr(secretHint(sec.Secret)),
	}
}

// expandFilter spells a herald event filter out in catalogue types: every type for
// an empty filter or "*", the catalogue's types of a prefix for "prefix.*", and
// exact types as they are.
func expandFilter(filter []string) []string {
	if len(filter) == 0 {
		return whopenai.EventTypes()
	}
	out := []string{}
	add := func(t string) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	for _, f := range filter {
		prefix, wildcard := strings.CutSuffix(f, "*")
		if !wildcard {
			add(f)
			continue
		}
		for _, t := range whopenai.EventTypes() {
			if strings.HasPrefix(t, prefix) {
				add(t)
			}
		}
	}
	return out
}

// secretHint masks a secret but for its kind and last four characters.
func secretHint(secret string) string {
	kind, _, _ := strings.Cut(secret, "_")
	if len(secret) <= len(kind)+1+8 {
		return kind + "_..."
	}
	return fmt.Sprintf("%s_...%s", kind, secret[len(secret)-4:])
}
