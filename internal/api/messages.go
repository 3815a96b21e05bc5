package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/ingest"
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

func toMessageJSON(m *domain.Message) messageJSON {
	out := messageJSON{
		ID: m.ID, AppID: m.AppID, Type: m.Type, Payload: m.Payload, IdempotencyKey: m.IdempotencyKey,
		SourceID: m.SourceID, Headers: m.Headers, CreatedAt: timestamp(m.CreatedAt),
	}
	switch {
	case m.Payload == nil:
		out.Payload = json.RawMessage("null") // purged
	case !validJSON(m.Payload) && utf8.Valid(m.Payload):
		out.Payload, _ = json.Marshal(string(m.Payload))
		out.PayloadEncoding = "text"
	case !validJSON(m.Payload):
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
	if err := checkIdempotencyKey("idempotency_key", key); err != nil {
		return "", err
	}
	return key, nil
}

// checkIdempotencyKey checks an idempotency key given to the API. Keys that start with
// ingest.KeyPrefix are the receiving gateway's: a publisher that could choose one could
// make the gateway drop a provider's genuine webhook as a duplicate.
func checkIdempotencyKey(field, key string) error {
	if n := utf8.RuneCountInString(key); n < 1 || n > maxTypeLen {
		return invalidField(field, "must be 1 to %d characters", maxTypeLen)
	}
	if strings.HasPrefix(key, ingest.KeyPrefix) {
		return invalidField(field, "must not start with %q, which the receiving gateway uses", ingest.KeyPrefix)
	}
	return nil
}

// newMessage validates one message of a publish; prefix names it in errors ("messages[3].").
func (s *server) newMessage(in *messageInput, prefix, appID, key string) (*domain.Message, error) {
	if !in.Type.set {
		return nil, invalidField(prefix+"type", "is required, such as response.completed")
	}
	if err := domain.CheckEventType(prefix+"type", in.Type.v); err != nil {
		return nil, err
	}
	if len(in.Payload) == 0 {
		return nil, invalidField(prefix+"payload", "is required: a JSON object")
	}
	if int64(len(in.Payload)) > s.maxPayload {
		return nil, errorf(http.StatusRequestEntityTooLarge, codePayloadTooLarge, "the %spayload is %d bytes, more than the limit of %d", prefix, len(in.Payload), s.maxPayload)
	}
	if in.Payload[0] != '{' {
		return nil, invalidField(prefix+"payload", "must be a JSON object")
	}
	return &domain.Message{
		ID: ids.New("msg"), AppID: appID, Type: in.Type.v, Payload: in.Payload,
		IdempotencyKey: key, CreatedAt: s.timeNow(),
	}, nil
}

// DefaultPublishBytesInFlight is the default of Config.PublishBytesInFlight: four batches
// of the largest size.
const DefaultPublishBytesInFlight = 4 * maxBatchBody

// publishBudgetWait is how long a publish waits for its bytes before it is answered 503.
const publishBudgetWait = time.Second

// reservePublish takes a publish's body bytes (its Content-Length, else limit) from the
// server-wide budget, waiting up to publishBudgetWait; the caller calls release once the
// answer is written. Without room it answers 503 with Retry-After, so that concurrent
// large publishes cannot take the server's memory.
func (s *server) reservePublish(r *http.Request, limit int64) (release func(), err error) {
	if s.publishBudget == nil {
		return func() {}, nil
	}
	n := limit
	if r.ContentLength >= 0 && r.ContentLength < limit {
		n = r.ContentLength
	}
	n = min(n, s.publishBytes)
	if !s.publishBudget.TryAcquire(n) {
		ctx, cancel := context.WithTimeout(r.Context(), publishBudgetWait)
		defer cancel()
		if err := s.publishBudget.Acquire(ctx, n); err != nil {
			if r.Context().Err() != nil {
				return nil, fmt.Errorf("wait for publish budget: %w", r.Context().Err())
			}
			e := errorf(http.StatusServiceUnavailable, codeUnavailable, "the server is reading too many publishes at once; retry in a second")
			e.retryAfter = 1
			return nil, e
		}
	}
	return func() { s.publishBudget.Release(n) }, nil
}

// publishMessage serves POST /v1/apps/{app}/messages.
func (s *server) publishMessage(w http.ResponseWriter, r *http.Request, c *call) error {
	release, err := s.reservePublish(r, s.maxPayload+envelopeBytes)
	if err != nil {
		return err
	}
	defer release()
	m, err := s.decodePublish(w, r, c.appID)
	if err != nil {
		return err
	}
	res, err := s.svc.Publish(r.Context(), m)
	if err != nil {
		return storeError(err, "app", c.appID)
	}
	writePublished(w, res)
	return nil
}

// decodePublish reads and validates the body of a publish to appID: the message to store.
func (s *server) decodePublish(w http.ResponseWriter, r *http.Request, appID string) (*domain.Message, error) {
	var in messageInput
	if err := decodeBody(w, r, s.maxPayload+envelopeBytes, false, &in); err != nil {
		return nil, err
	}
	key, err := in.idempotencyKey(r)
	if err != nil {
		return nil, err
	}
	return s.newMessage(&in, "", appID, key)
}

// writePublished answers a publish: 202 with the number of deliveries, or 200 marked
// Idempotent-Replayed when the message was published before.
func writePublished(w http.ResponseWriter, res *store.PublishResult) {
	out := toMessageJSON(res.Message)
	if res.Duplicate {
		w.Header().Set("Idempotent-Replayed", "true")
		writeJSON(w, http.StatusOK, out)
		return
	}
	n := len(res.Deliveries)
	out.Deliveries = &n
	writeJSON(w, http.StatusAccepted, out)
}

// listMessages serves GET /v1/apps/{app}/messages.
func (s *server) listMessages(w http.ResponseWriter, r *http.Request, c *call) error {
	q := newQuery(r.URL)
	f := store.MessageFilter{
		AppID: c.appID, Type: q.str("type"), SourceID: q.id("source_id", "src"), TimeRange: q.timeRange(), Page: q.page("msg"),
		EndpointIDs: c.endpointScope(),
	}
	if f.Type != "" && (len(f.Type) > maxTypeLen || !domain.IsTypeName(f.Type)) {
		q.fail(invalidQuery("type", "must be an event type name, not %q", f.Type))
	}
	if err := q.done(); err != nil {
		return err
	}
	msgs, next, err := s.store.ListMessages(r.Context(), f)
	return writePage(w, "messages", msgs, next, err, toMessageJSON)
}

// getMessage serves GET /v1/apps/{app}/messages/{msg}.
func (s *server) getMessage(w http.ResponseWriter, r *http.Request, c *call) error {
	m, err := loadPath(r, c, "msg", "message", s.store.GetMessage)
	return writeOne(w, http.StatusOK, m, err, toMessageJSON)
}

// maxBatch bounds the messages of one batch publish.
const maxBatch = 1000

// batchInput is the body of POST /v1/apps/{app}/messages/batch.
type batchInput struct {
	Messages []messageInput `json:"messages"`
}

// batchResultJSON is one message of a batch publish answer.
type batchResultJSON struct {
	messageJSON
	Duplicate bool `json:"duplicate"`
}

// publishBatch serves POST /v1/apps/{app}/messages/batch: up to 1,000 messages in one
// request, for senders with many events. Every message is checked before any is stored;
// the answer comes once all are committed (they share the store's group commits).
func (s *server) publishBatch(w http.ResponseWriter, r *http.Request, c *call) error {
	if r.Header.Get("Idempotency-Key") != "" {
		// One key cannot stand for many messages; silently ignoring it would let a
		// client believe its retry is safe.
		return invalidField("Idempotency-Key", "is not used by the batch route: give each message its own idempotency_key")
	}
	release, err := s.reservePublish(r, maxBatchBody)
	if err != nil {
		return err
	}
	defer release()
	msgs, repeats, err := s.decodeBatch(w, r, c.appID)
	if err != nil {
		return err
	}
	results := make([]*store.PublishResult, len(msgs))
	errs := make([]error, len(msgs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i, m := range msgs {
		if _, ok := repeats[i]; ok {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i], errs[i] = s.svc.Publish(r.Context(), m)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			// The others stay published: a retry with the same idempotency keys does not
			// duplicate them.
			return storeError(err, "app", c.appID)
		}
	}
	for i, j := range repeats {
		results[i] = &store.PublishResult{Message: results[j].Message, Duplicate: true}
	}
	writeBatchPublished(w, results)
	return nil
}

// decodeBatch reads and validates the body of a batch publish to appID: the messages to
// store, and the repeats (index → index of the first message with its idempotency key).
// A key repeated within the batch: the first message with it is published, the later
// ones are answered as its duplicates (published concurrently, any could win).
func (s *server) decodeBatch(w http.ResponseWriter, r *http.Request, appID string) ([]*domain.Message, map[int]int, error) {
	var in batchInput
	if err := decodeBody(w, r, maxBatchBody, false, &in); err != nil {
		return nil, nil, err
	}
	if len(in.Messages) == 0 || len(in.Messages) > maxBatch {
		return nil, nil, invalidField("messages", "must hold 1 to %d messages, not %d", maxBatch, len(in.Messages))
	}
	msgs := make([]*domain.Message, len(in.Messages))
	firstWithKey := map[string]int{}
	repeats := map[int]int{}
	for i := range in.Messages {
		m, err := s.batchMessage(&in.Messages[i], i, appID)
		if err != nil {
			return nil, nil, err
		}
		msgs[i] = m
		key := m.IdempotencyKey
		if key != "" {
			if j, ok := firstWithKey[key]; ok {
				repeats[i] = j
			} else {
				firstWithKey[key] = i
			}
		}
	}
	return msgs, repeats, nil
}

// writeBatchPublished answers a batch publish: 202 with each message's result.
func writeBatchPublished(w http.ResponseWriter, results []*store.PublishResult) {
	out := make([]batchResultJSON, len(results))
	for i, res := range results {
		out[i] = batchResultJSON{messageJSON: toMessageJSON(res.Message), Duplicate: res.Duplicate}
		if !res.Duplicate {
			n := len(res.Deliveries)
			out[i].Deliveries = &n
		}
	}
	writeJSON(w, http.StatusAccepted, batchAnswerJSON{Data: out})
}
