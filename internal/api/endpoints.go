package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/jsontime"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/webhook"
)

// endpointJSON is an Endpoint as answered.
type endpointJSON struct {
	ID             string            `json:"id"`
	AppID          string            `json:"app_id"`
	URL            string            `json:"url"`
	Description    string            `json:"description"`
	EventTypes     []string          `json:"event_types"`
	Headers        map[string]string `json:"headers"`
	State          string            `json:"state"`
	DisabledReason string            `json:"disabled_reason,omitempty"`
	MaxConcurrency int               `json:"max_concurrency"`
	RateLimit      float64           `json:"rate_limit"`
	TimeoutMS      int               `json:"timeout_ms"`
	FIFO           bool              `json:"fifo"`
	SourceID       string            `json:"source_id,omitempty"`
	Filter         json.RawMessage   `json:"filter,omitempty"`
	RetrySchedule  []string          `json:"retry_schedule,omitempty"`
	Transformation string            `json:"transformation,omitempty"`
	Auth           *authJSON         `json:"auth,omitempty"`
	Metadata       map[string]string `json:"metadata"`
	FailingSince   *timestamp        `json:"failing_since,omitempty"`
	CreatedAt      timestamp         `json:"created_at"`
	UpdatedAt      timestamp         `json:"updated_at"`
}

// redactedHeader stands for a custom header's value in every answer but the one to the
// request that set it: a header can carry a credential, like a signing secret.
const redactedHeader = "••••"

// redactHeaders returns the header names of h, each with the value redactedHeader.
func redactHeaders(h map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for name := range h {
		out[name] = redactedHeader
	}
	return out
}

// toEndpointJSON answers e with its header values redacted.
func toEndpointJSON(e *domain.Endpoint) endpointJSON {
	j := toEndpointJSONRevealed(e)
	j.Headers = redactHeaders(j.Headers)
	return j
}

// toEndpointJSONRevealed answers e with its header values in clear: only to the request
// that set them.
func toEndpointJSONRevealed(e *domain.Endpoint) endpointJSON {
	types := e.EventTypes
	if types == nil {
		types = []string{}
	}
	var schedule []string
	if len(e.RetrySchedule) > 0 {
		schedule = domain.FormatRetrySchedule(e.RetrySchedule)
	}
	var flt json.RawMessage
	if !e.Filter.IsEmpty() {
		flt = json.RawMessage(e.Filter.String())
	}
	return endpointJSON{
		RetrySchedule: schedule,
		ID:            e.ID, AppID: e.AppID, URL: e.URL, Description: e.Description, EventTypes: types,
		Headers: nonNil(e.Headers), State: e.State, DisabledReason: e.DisabledReason,
		MaxConcurrency: e.MaxConcurrency, RateLimit: e.RateLimit, TimeoutMS: e.TimeoutMS, FIFO: e.FIFO,
		SourceID: e.SourceID, Filter: flt, Transformation: e.Transformation, Auth: toAuthJSON(e.Auth),
		Metadata: nonNil(e.Metadata), FailingSince: jsontime.Opt(e.FailingSince),
		CreatedAt: timestamp(e.CreatedAt), UpdatedAt: timestamp(e.UpdatedAt),
	}
}

// endpointInput is the body of POST and PATCH /v1/apps/{app}/endpoints[/{ep}].
type endpointInput struct {
	URL            opt[string]            `json:"url"`
	Description    opt[string]            `json:"description"`
	Metadata       opt[map[string]string] `json:"metadata"`
	EventTypes     opt[[]string]          `json:"event_types"`
	Headers        opt[map[string]string] `json:"headers"`
	State          opt[string]            `json:"state"`
	MaxConcurrency opt[int]               `json:"max_concurrency"`
	RateLimit      opt[float64]           `json:"rate_limit"`
	TimeoutMS      opt[int]               `json:"timeout_ms"`
	FIFO           opt[bool]              `json:"fifo"`
	Filter         opt[json.RawMessage]   `json:"filter"`         // {} removes it
	RetrySchedule  opt[[]string]          `json:"retry_schedule"` // [] means the server's
	Transformation opt[string]            `json:"transformation"` // "" removes it
	Auth           authInput              `json:"auth"`           // null removes it
	Secret         opt[string]            `json:"secret"`         // create only
}

// applyEndpoint validates in and copies its fields into e; url is required when creating.
func (s *server) applyEndpoint(ctx context.Context, in *endpointInput, e *domain.Endpoint, create bool) error {
	if err := in.Description.setChecked(&e.Description, domain.CheckDescription); err != nil {
		return err
	}
	if in.Metadata.set {
		e.Metadata = in.Metadata.v
	}
	if err := in.EventTypes.setChecked(&e.EventTypes, domain.CheckEventFilter); err != nil {
		return err
	}
	if in.Headers.set {
		keepRedacted(in.Headers.v, e.Headers)
		if err := domain.CheckHeaders(in.Headers.v); err != nil {
			return err
		}
		e.Headers = in.Headers.v
	}
	if in.State.set {
		if !domain.ValidState(in.State.v) {
			return invalidField("state", "must be one of enabled, paused, disabled, not %q", in.State.v)
		}
		e.SetState(in.State.v, "")
	}
	if err := in.MaxConcurrency.setChecked(&e.MaxConcurrency, domain.CheckConcurrency); err != nil {
		return err
	}
	if err := in.RateLimit.setChecked(&e.RateLimit, domain.CheckRateLimit); err != nil {
		return err
	}
	if err := in.TimeoutMS.setChecked(&e.TimeoutMS, domain.CheckTimeoutMS); err != nil {
		return err
	}
	if in.FIFO.set {
		e.FIFO = in.FIFO.v
	}
	if in.Filter.set {
		f, err := domain.ParseFilter(in.Filter.v)
		if err != nil {
			return err
		}
		e.Filter = f
	}
	if in.RetrySchedule.set {
		schedule, err := domain.ParseRetrySchedule(in.RetrySchedule.v)
		if err != nil {
			return err
		}
		e.RetrySchedule = schedule
		if len(schedule) == 0 {
			e.RetrySchedule = nil
		}
	}
	if err := s.applyTransformation(ctx, in.Transformation, e); err != nil {
		return err
	}
	if err := s.applyAuth(ctx, in.Auth, e); err != nil {
		return err
	}
	if in.Secret.set && !create {
		return invalidField("secret", "cannot be changed with PATCH; use POST /v1/apps/{app}/endpoints/{ep}/secret/rotate")
	}
	if in.URL.set || create {
		if err := s.checkURL(ctx, in.URL.v); err != nil {
			return err
		}
		e.URL = in.URL.v
	}
	e.Metadata, e.Headers = nonNil(e.Metadata), nonNil(e.Headers)
	if e.EventTypes == nil {
		e.EventTypes = []string{}
	}
	return nil
}

// keepRedacted replaces, in headers given by a client, each value that is redactedHeader
// (as answered by a GET) by the value the endpoint already has under that name, so that
// sending an endpoint back as it was read keeps its header values.
func keepRedacted(headers, old map[string]string) {
	for name, v := range headers {
		if v != redactedHeader {
			continue
		}
		if cur, ok := old[name]; ok {
			headers[name] = cur
		}
	}
}

// parseSecret validates a secret given by the user: a whsec_ HMAC secret (signs v1) or a
// whsk_ Ed25519 signing key (signs v1a); a whpk_ public key cannot sign.
func parseSecret(field, v string) (webhook.Secret, error) {
	sec, err := webhook.ParseSecret(v)
	if err != nil {
		return webhook.Secret{}, invalidField(field, "is not valid: %v", err)
	}
	if sec.Kind() != webhook.HMACKey && sec.Kind() != webhook.Ed25519PrivateKey {
		return webhook.Secret{}, invalidField(field, "must be a whsec_ secret or a whsk_ signing key, not %s (give the whpk_ public key to receivers)", sec.Kind())
	}
	return sec, nil
}

// createEndpoint serves POST /v1/apps/{app}/endpoints.
func (s *server) createEndpoint(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.createEndpointWith(w, r, c, false, s.svc.CreateEndpoint)
}

// createEndpointWith serves the creation of an endpoint of c's app, stored with create;
// fifo is the endpoint's FIFO unless the request says.
func (s *server) createEndpointWith(w http.ResponseWriter, r *http.Request, c *call, fifo bool,
	create func(context.Context, *domain.Endpoint, *domain.EndpointSecret) error) error {
	var in endpointInput
	if err := decodeBody(w, r, maxBodyBytes, false, &in); err != nil {
		return err
	}
	now := s.timeNow()
	e := &domain.Endpoint{ID: ids.New("ep"), AppID: c.appID, State: domain.EndpointEnabled, FIFO: fifo, CreatedAt: now, UpdatedAt: now}
	secret := webhook.NewHMACSecret()
	if in.Secret.set {
		var err error
		if secret, err = parseSecret("secret", in.Secret.v); err != nil {
			return err
		}
	}
	if err := s.applyEndpoint(r.Context(), &in, e, true); err != nil {
		return err
	}
	sec := &domain.EndpointSecret{ID: ids.New("sec"), EndpointID: e.ID, Secret: secret, CreatedAt: now}
	if err := create(r.Context(), e, sec); err != nil {
		return storeError(err, "app", c.appID)
	}
	writeJSON(w, http.StatusCreated, toEndpointJSONRevealed(e)) // the answer to the request that set the headers
	return nil
}

// listEndpoints serves GET /v1/apps/{app}/endpoints.
func (s *server) listEndpoints(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := pageQuery(r.URL, "ep")
	if err != nil {
		return err
	}
	if scope := c.endpointScope(); scope != nil {
		// A portal session limited to some endpoints sees them all on one page.
		eps := make([]*domain.Endpoint, 0, len(scope))
		for _, id := range scope {
			e, err := s.store.GetEndpoint(r.Context(), c.appID, id)
			if errors.Is(err, store.ErrNotFound) {
				continue // deleted since the link was made
			} else if err != nil {
				return fmt.Errorf("get endpoint %s: %w", id, err)
			}
			eps = append(eps, e)
		}
		slices.SortFunc(eps, func(a, b *domain.Endpoint) int { return strings.Compare(b.ID, a.ID) })
		return writeList(w, eps, "", toEndpointJSON)
	}
	eps, next, err := s.store.ListEndpoints(r.Context(), c.appID, p)
	return writePage(w, "endpoints", eps, next, err, toEndpointJSON)
}

// loadEndpoint returns the {ep} of the request's app.
func (s *server) loadEndpoint(r *http.Request, c *call) (*domain.Endpoint, error) {
	return loadPath(r, c, "ep", "endpoint", s.store.GetEndpoint)
}

// getEndpoint serves GET /v1/apps/{app}/endpoints/{ep}.
func (s *server) getEndpoint(w http.ResponseWriter, r *http.Request, c *call) error {
	e, err := s.loadEndpoint(r, c)
	return writeOne(w, http.StatusOK, e, err, toEndpointJSON)
}

// updateEndpoint serves PATCH /v1/apps/{app}/endpoints/{ep}.
func (s *server) updateEndpoint(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.updateEndpointWith(w, r, c, s.svc.UpdateEndpoint)
}

// updateEndpointWith serves a change of the {ep} of c's app, stored with update.
func (s *server) updateEndpointWith(w http.ResponseWriter, r *http.Request, c *call, update func(context.Context, *domain.Endpoint) error) error {
	var in endpointInput
	if err := decodeBody(w, r, maxBodyBytes, false, &in); err != nil {
		return err
	}
	e, err := s.loadEndpoint(r, c)
	if err != nil {
		return err
	}
	if err := s.applyEndpoint(r.Context(), &in, e, false); err != nil {
		return err
	}
	e.UpdatedAt = s.timeNow()
	if err := update(r.Context(), e); err != nil {
		return storeError(err, "endpoint", e.ID)
	}
	if in.Headers.set {
		writeJSON(w, http.StatusOK, toEndpointJSONRevealed(e)) // the answer to the request that set the headers
		return nil
	}
	writeJSON(w, http.StatusOK, toEndpointJSON(e))
	return nil
}

// deleteEndpoint serves DELETE /v1/apps/{app}/endpoints/{ep}.
func (s *server) deleteEndpoint(w http.ResponseWriter, r *http.Request, c *call) error {
	id := r.PathValue("ep")
	if err := s.svc.DeleteEndpoint(r.Context(), c.appID, id); err != nil {
		return storeError(err, "endpoint", id)
	}
	return noContent(w)
}

// secretJSON is an EndpointSecret as answered.
type secretJSON struct {
	ID        string     `json:"id"`
	Secret    string     `json:"secret"`
	CreatedAt timestamp  `json:"created_at"`
	ExpiresAt *timestamp `json:"expires_at,omitempty"`
}

// secretsJSON is the answer of the secret operations.
type secretsJSON struct {
	Secrets []secretJSON `json:"secrets"`
}

// writeSecrets answers the endpoint's current secrets, newest first.
func (s *server) writeSecrets(w http.ResponseWriter, r *http.Request, endpointID string, now time.Time) error {
	secrets, err := s.store.EndpointSecrets(r.Context(), endpointID, now)
	if err != nil {
		return storeError(err, "endpoint", endpointID)
	}
	out := secretsJSON{Secrets: make([]secretJSON, 0, len(secrets))}
	for _, sec := range secrets {
		out.Secrets = append(out.Secrets, secretJSON{
			ID: sec.ID, Secret: sec.Secret.Reveal(), CreatedAt: timestamp(sec.CreatedAt), ExpiresAt: jsontime.Opt(sec.ExpiresAt),
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getEndpointSecrets serves GET /v1/apps/{app}/endpoints/{ep}/secret.
func (s *server) getEndpointSecrets(w http.ResponseWriter, r *http.Request, c *call) error {
	e, err := s.loadEndpoint(r, c)
	if err != nil {
		return err
	}
	return s.writeSecrets(w, r, e.ID, s.timeNow())
}

// rotateInput is the body of POST /v1/apps/{app}/endpoints/{ep}/secret/rotate.
type rotateInput struct {
	Secret             opt[string] `json:"secret"`
	GracePeriodSeconds opt[int64]  `json:"grace_period_seconds"`
}

// rotateEndpointSecret serves POST /v1/apps/{app}/endpoints/{ep}/secret/rotate.
func (s *server) rotateEndpointSecret(w http.ResponseWriter, r *http.Request, c *call) error {
	var in rotateInput
	if err := decodeBody(w, r, maxBodyBytes, true, &in); err != nil {
		return err
	}
	secret := webhook.NewHMACSecret()
	if in.Secret.set {
		var err error
		if secret, err = parseSecret("secret", in.Secret.v); err != nil {
			return err
		}
	}
	grace := s.secretGrace
	if in.GracePeriodSeconds.set {
		v := in.GracePeriodSeconds.v
		if v < 0 || v > maxGraceSeconds {
			return invalidField("grace_period_seconds", "must be from 0 to %d (7 days), not %d", maxGraceSeconds, v)
		}
		grace = time.Duration(v) * time.Second
	}
	e, err := s.loadEndpoint(r, c)
	if err != nil {
		return err
	}
	now := s.timeNow()
	sec := &domain.EndpointSecret{ID: ids.New("sec"), EndpointID: e.ID, Secret: secret, CreatedAt: now}
	if err := s.svc.RotateEndpointSecret(r.Context(), sec, now.Add(grace)); err != nil {
		return storeError(err, "endpoint", e.ID)
	}
	return s.writeSecrets(w, r, e.ID, now)
}

// replayInput is the body of POST /v1/apps/{app}/endpoints/{ep}/replay.
type replayInput struct {
	Status opt[string] `json:"status"`
	Since  opt[string] `json:"since"`
	Until  opt[string] `json:"until"`
	After  opt[string] `json:"after"`
	Limit  opt[int]    `json:"limit"`
}

// replayJSON is the answer of a replay.
type replayJSON struct {
	Replayed int    `json:"replayed"`
	Next     string `json:"next,omitempty"`
}

// filter validates in and returns the replay filter it describes.
func (in *replayInput) filter(appID, endpointID string) (store.ReplayFilter, error) {
	f := store.ReplayFilter{AppID: appID, EndpointID: endpointID, Status: in.Status.v, After: in.After.v, Limit: in.Limit.v}
	if f.Status != "" {
		if err := domain.CheckReplayStatus("status", f.Status); err != nil {
			return f, err
		}
	}
	var err error
	if f.TimeRange, err = bodyRange(in.Since, in.Until); err != nil {
		return f, err
	}
	if in.After.set && !ids.Valid("dlv", f.After) {
		return f, invalidField("after", "must be a delivery id (the next of the previous answer), not %q", f.After)
	}
	if in.Limit.set && (f.Limit < 1 || f.Limit > maxReplayLimit) {
		return f, invalidField("limit", "must be from 1 to %d, not %d", maxReplayLimit, f.Limit)
	}
	return f, nil
}

// bodyRange parses the optional RFC 3339 fields since and until of a body, until after since.
func bodyRange(since, until opt[string]) (store.TimeRange, error) {
	var r store.TimeRange
	var err error
	if r.Since, err = bodyTime("since", since); err != nil {
		return r, err
	}
	if r.Until, err = bodyTime("until", until); err != nil {
		return r, err
	}
	if !r.Since.IsZero() && !r.Until.IsZero() && !r.Since.Before(r.Until) {
		return r, invalidField("until", "must be after since")
	}
	return r, nil
}

// bodyTime parses an optional RFC 3339 time field.
func bodyTime(field string, v opt[string]) (time.Time, error) {
	if !v.set {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v.v)
	if err != nil {
		return time.Time{}, invalidField(field, "must be an RFC 3339 time such as 2026-11-26T12:00:00Z, not %q", v.v)
	}
	return t.UTC(), nil
}

// replayEndpoint serves POST /v1/apps/{app}/endpoints/{ep}/replay.
func (s *server) replayEndpoint(w http.ResponseWriter, r *http.Request, c *call) error {
	var in replayInput
	if err := decodeBody(w, r, maxBodyBytes, true, &in); err != nil {
		return err
	}
	id := r.PathValue("ep")
	f, err := in.filter(c.appID, id)
	if err != nil {
		return err
	}
	res, err := s.svc.Replay(r.Context(), f, s.timeNow())
	if err != nil {
		return storeError(err, "endpoint", id)
	}
	writeJSON(w, http.StatusOK, replayJSON{Replayed: res.Replayed, Next: res.Next})
	return nil
}
