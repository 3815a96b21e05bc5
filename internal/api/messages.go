package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

// messageJSON is a Message as answered; Deliveries is set on answers to a new publish.
// A payload that is not JSON (a source's form-encoded or binary body) is answered as a
// string, with PayloadEncoding saying how: "text" or "base64".
type messageJSON struct {
	ID              string            `json:"id"`
	AppID           string            `json:"app_id"`
	Type            string            `json:"type"`
	Payload         json.RawMessage   `json:"payload"`
	PayloadEncoding string            `json:"payload_encoding,omitempty"`
	IdempotencyKey  string            `json:"idempotency_key,omitempty"`
	SourceID        string            `json:"source_id,omitempty"`
	Headers         map[string]string `json:"headers,omitempty"`
	CreatedAt       timestamp         `json:"created_at"`
	Deliveries      *int              `json:"deliveries,omitempty"`
}

func toMessageJSON(m *store.Message) messageJSON {
	out := messageJSON{
		ID: m.ID, AppID: m.AppID, Type: m.Type, Payload: m.Payload, IdempotencyKey: m.IdempotencyKey,
		SourceID: m.SourceID, Headers: m.Headers, CreatedAt: timestamp(m.CreatedAt),
	}
	switch {
	case m.Payload == nil:
		out.Payload = json.RawMessage("null") // purged
	case !json.Valid(m.Payload) && utf8.Valid(m.Payload):
		out.Payload, _ = json.Marshal(string(m.Payload))
		out.PayloadEncoding = "text"
	case !json.Valid(m.Payload):
		out.Payload, _ = json.Marshal([]byte(m.Payload)) // []byte encodes as base64 (a RawMessage would fail as invalid JSON)
		out.PayloadEncoding = "base64"
	}
	return out
}

// messageInput is the body of POST /v1/apps/{app}/messages.
type messageInput struct {
	Type           opt[string]     `json:"type"`
	Payload        json.RawMessage `json:"payload"`
	IdempotencyKey opt[string]     `json:"idempotency_key"`
}

// idempotencyKey returns the message's idempotency key: the body's, else the
// Idempotency-Key header's; both may be given only if they are equal.
func (in *messageInput) idempotencyKey(r *http.Request) (string, error) {
	key, header := in.IdempotencyKey.v, r.Header.Get("Idempotency-Key")
	switch {
	case in.IdempotencyKey.set && header != "" && key != header:
		return "", invalidField("idempotency_key", "differs from the Idempotency-Key header; send one of them")
	case !in.IdempotencyKey.set:
		key = header
		if key == "" {
			return "", nil
		}
	}
	if n := utf8.RuneCountInString(key); n < 1 || n > maxTypeLen {
		return "", invalidField("idempotency_key", "must be 1 to %d characters", maxTypeLen)
	}
	return key, nil
}

// publishMessage serves POST /v1/apps/{app}/messages.
func (s *server) publishMessage(w http.ResponseWriter, r *http.Request, c *call) error {
	var in messageInput
	if err := decodeBody(w, r, s.maxPayload+envelopeBytes, false, &in); err != nil {
		return err
	}
	if !in.Type.set {
		return invalidField("type", "is required, such as response.completed")
	}
	if err := checkEventType("type", in.Type.v); err != nil {
		return err
	}
	if len(in.Payload) == 0 {
		return invalidField("payload", "is required: a JSON object")
	}
	if int64(len(in.Payload)) > s.maxPayload {
		return errorf(http.StatusRequestEntityTooLarge, codePayloadTooLarge, "the payload is %d bytes, more than the limit of %d", len(in.Payload), s.maxPayload)
	}
	if in.Payload[0] != '{' {
		return invalidField("payload", "must be a JSON object")
	}
	key, err := in.idempotencyKey(r)
	if err != nil {
		return err
	}
	m := &store.Message{
		ID: ids.New("msg"), AppID: c.appID, Type: in.Type.v, Payload: in.Payload,
		IdempotencyKey: key, CreatedAt: s.timeNow(),
	}
	res, err := s.engine.Publish(r.Context(), m)
	if err != nil {
		return storeError(err, "app", c.appID)
	}
	out := toMessageJSON(res.Message)
	if res.Duplicate {
		w.Header().Set("Idempotent-Replayed", "true")
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	n := len(res.Deliveries)
	out.Deliveries = &n
	writeJSON(w, http.StatusAccepted, out)
	return nil
}

// listMessages serves GET /v1/apps/{app}/messages.
func (s *server) listMessages(w http.ResponseWriter, r *http.Request, c *call) error {
	q := newQuery(r.URL)
	f := store.MessageFilter{AppID: c.appID, Type: q.str("type"), SourceID: q.id("source_id", "src"), TimeRange: q.timeRange(), Page: q.page("msg")}
	if f.Type != "" && (len(f.Type) > maxTypeLen || !isTypeName(f.Type)) {
		q.fail(invalidQuery("type", "must be an event type name, not %q", f.Type))
	}
	if err := q.done(); err != nil {
		return err
	}
	msgs, next, err := s.store.ListMessages(r.Context(), f)
	if err != nil {
		return fmt.Errorf("list messages: %w", err)
	}
	return writeList(w, msgs, next, toMessageJSON)
}

// getMessage serves GET /v1/apps/{app}/messages/{msg}.
func (s *server) getMessage(w http.ResponseWriter, r *http.Request, c *call) error {
	id := r.PathValue("msg")
	m, err := s.store.GetMessage(r.Context(), c.appID, id)
	if err != nil {
		return storeError(err, "message", id)
	}
	writeJSON(w, http.StatusOK, toMessageJSON(m))
	return nil
}
