package api

import (
	"encoding/json"
	"net/http"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/filter"
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
