package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/filter"
	"github.com/heraldhq/herald/internal/transform"
)

// filterTestInput is the body of POST /v1/filters/test.
type filterTestInput struct {
	Filter  opt[json.RawMessage] `json:"filter"`
	Message opt[struct {
		Type     string            `json:"type"`
		Payload  json.RawMessage   `json:"payload"`
		Metadata map[string]string `json:"metadata"`
	}] `json:"message"`
}

// filterTestJSON is the answer of POST /v1/filters/test.
type filterTestJSON struct {
	Match   bool     `json:"match"`
	Reasons []string `json:"reasons"`
}

// testFilter serves POST /v1/filters/test: whether a message matches a filter, and why.
// It validates the filter as an endpoint write would.
func (s *server) testFilter(w http.ResponseWriter, r *http.Request, _ *call) error {
	var in filterTestInput
	if err := decodeBody(w, r, maxBodyBytes, false, &in); err != nil {
		return err
	}
	switch {
	case !in.Filter.set:
		return invalidField("filter", "is required")
	case !in.Message.set:
		return invalidField("message", "is required: {\"type\": ..., \"payload\": ..., \"metadata\": {...}}")
	}
	f, err := domain.ParseFilter(in.Filter.v)
	if err != nil {
		return err
	}
	m := in.Message.v
	match, reasons := f.Explain(filter.Message{Type: m.Type, Payload: m.Payload, Metadata: m.Metadata})
	writeJSON(w, http.StatusOK, filterTestJSON{Match: match, Reasons: reasons})
	return nil
}

// transformTestInput is the body of POST /v1/transformations/test.
type transformTestInput struct {
	Script  opt[string] `json:"script"`
	Webhook opt[struct {
		EventType string            `json:"event_type"`
		URL       string            `json:"url"`
		Method    string            `json:"method"`
		Headers   map[string]string `json:"headers"`
		Payload   json.RawMessage   `json:"payload"`
	}] `json:"webhook"`
}

// transformTestJSON is the answer of POST /v1/transformations/test: what would be sent.
type transformTestJSON struct {
	Cancel  bool              `json:"cancel"`
	Method  string            `json:"method,omitempty"`
	URL     string            `json:"url,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Payload json.RawMessage   `json:"payload,omitempty"` // JSON, or a string when the script returned one
}

// testTransformation serves POST /v1/transformations/test: it runs a script on a
// webhook in the same sandbox and limits deliveries use, and answers what would be sent.
// A script that fails (compile, throw, time limit, a bad output) is a 400 naming the
// kind of failure and the line.
func (s *server) testTransformation(w http.ResponseWriter, r *http.Request, _ *call) error {
	var in transformTestInput
	if err := decodeBody(w, r, maxBodyBytes, false, &in); err != nil {
		return err
	}
	switch {
	case !in.Script.set || in.Script.v == "":
		return invalidField("script", "is required: JavaScript defining function handler(webhook)")
	case !in.Webhook.set:
		return invalidField("webhook", "is required: {\"event_type\", \"url\", \"payload\", ...}")
	}
	script, err := s.sandbox.Compile(r.Context(), in.Script.v)
	if err != nil {
		return transformError(err)
	}
	wh := in.Webhook.v
	out, err := script.Run(r.Context(), transform.Webhook{
		Method: wh.Method, URL: wh.URL, Headers: wh.Headers, Payload: wh.Payload, EventType: wh.EventType,
	})
	if err != nil {
		return transformError(err)
	}
	ans := transformTestJSON{Cancel: out.Cancel}
	if !out.Cancel {
		ans.Method, ans.URL, ans.Headers, ans.Payload = out.Method, out.URL, out.Headers, out.Payload
		if !json.Valid(out.Payload) {
			ans.Payload, _ = json.Marshal(string(out.Payload))
		}
	}
	writeJSON(w, http.StatusOK, ans)
	return nil
}

// transformError answers a failed transformation as an invalid script.
func transformError(err error) error {
	if te, ok := errors.AsType[*transform.Error](err); ok {
		return invalidField("script", "failed: %s", te.Error())
	}
	return err
}

// newSandbox returns the transformation sandbox of the test route: the delivery limits,
// and the SSRF guard's check on URLs a script returns.
func (s *server) newSandbox() *transform.Sandbox {
	return transform.New(transform.Config{
		Concurrency: 4,
		CheckURL: func(ctx context.Context, u string) error {
			return s.guard.CheckURL(ctx, u, s.resolver)
		},
	})
}

// templateJSON is a ready transformation as GET /v1/transformations/templates answers it.
type templateJSON struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Script      string `json:"script"`
}

// listTemplates serves GET /v1/transformations/templates: the ready transformations
// (Slack, Discord, Teams), whose scripts an endpoint's transformation may start from.
func (s *server) listTemplates(w http.ResponseWriter, _ *http.Request, _ *call) error {
	return writeList(w, transform.Templates(), "", func(t transform.Template) templateJSON {
		return templateJSON{Name: t.Name, Description: t.Description, Script: t.Script}
	})
}
