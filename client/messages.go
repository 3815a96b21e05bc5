package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Publish publishes a message to app's subscribed endpoints. It returns the message,
// how many deliveries it was queued for, and whether the idempotency key had been seen
// within the last 24 hours, in which case msg is the original message and nothing new
// was queued. The payload is sent byte for byte (not re-encoded), so the webhook body
// is exactly in.Payload.
func (c *Client) Publish(ctx context.Context, app string, in MessageInput) (msg *Message, deliveries int, replayed bool, err error) {
	p := appPath(app, "messages")
	body, err := encodeMessageInput(in)
	if err != nil {
		return nil, 0, false, fmt.Errorf("%s %s: encode request: %w", http.MethodPost, p, err)
	}
	var m Message
	resp, err := c.do(ctx, request{method: http.MethodPost, path: p, body: body}, &m)
	if err != nil {
		return nil, 0, false, err
	}
	if m.Deliveries != nil {
		deliveries = *m.Deliveries
	}
	return &m, deliveries, resp.Header.Get("Idempotent-Replayed") == "true", nil
}

// encodeMessageInput encodes in as json.Marshal would, except that the payload is
// copied as is: json.Marshal would compact it and escape HTML characters in it.
func encodeMessageInput(in MessageInput) ([]byte, error) {
	b, err := startBody("type", in.Type, in.Payload)
	if err != nil {
		return nil, err
	}
	if in.IdempotencyKey != "" {
		b.WriteString(",")
		writeString(b, "idempotency_key", in.IdempotencyKey)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// startBody writes the start of a request body whose first member is the string
// key and whose payload is copied as is: {"key":"value","payload":payload with no
// closing brace.
func startBody(key, value string, payload json.RawMessage) (*bytes.Buffer, error) {
	var b bytes.Buffer
	b.WriteString("{")
	writeString(&b, key, value)
	if err := writePayload(&b, payload); err != nil {
		return nil, err
	}
	return &b, nil
}

// writeString writes the member "key":value, value encoded as a JSON string.
func writeString(b *bytes.Buffer, key, value string) {
	k, _ := json.Marshal(key) // a string always encodes
	v, _ := json.Marshal(value)
	b.Write(k)
	b.WriteByte(':')
	b.Write(v)
}

// writePayload writes the member `,"payload":` with payload as is, unless it is empty.
func writePayload(b *bytes.Buffer, payload json.RawMessage) error {
	payload = bytes.TrimSpace(payload)
	if len(payload) == 0 {
		return nil
	}
	if !json.Valid(payload) {
		return errors.New("the payload is not valid JSON")
	}
	b.WriteString(`,"payload":`)
	b.Write(payload)
	return nil
}

// ListMessages returns one page of app's messages, newest first, and the next page's cursor.
func (c *Client) ListMessages(ctx context.Context, app string, p ListMessagesParams) ([]*Message, string, error) {
	q := pageQuery(ListParams{Limit: p.Limit, Cursor: p.Cursor}).
		add("type", p.Type).add("source_id", p.SourceID).addTime("since", p.Since).addTime("until", p.Until)
	return getList[Message](ctx, c, appPath(app, "messages"), url.Values(q))
}

// GetMessage returns one of app's messages.
func (c *Client) GetMessage(ctx context.Context, app, messageID string) (*Message, error) {
	return call[Message](ctx, c, request{method: http.MethodGet, path: appPath(app, "messages", messageID)})
}

// ListDeliveries returns one page of app's deliveries, newest first, and the next page's cursor.
func (c *Client) ListDeliveries(ctx context.Context, app string, p ListDeliveriesParams) ([]*Delivery, string, error) {
	q := pageQuery(ListParams{Limit: p.Limit, Cursor: p.Cursor}).
		add("endpoint_id", p.EndpointID).add("message_id", p.MessageID).add("status", p.Status).
		addTime("since", p.Since).addTime("until", p.Until)
	return getList[Delivery](ctx, c, appPath(app, "deliveries"), url.Values(q))
}

// GetDelivery returns one of app's deliveries.
func (c *Client) GetDelivery(ctx context.Context, app, deliveryID string) (*Delivery, error) {
	return call[Delivery](ctx, c, request{method: http.MethodGet, path: appPath(app, "deliveries", deliveryID)})
}

// RetryDelivery queues a delivery for an attempt now, whatever its status, and returns
// it; the API answers 409 conflict while the delivery is being attempted.
func (c *Client) RetryDelivery(ctx context.Context, app, deliveryID string) (*Delivery, error) {
	return call[Delivery](ctx, c, request{method: http.MethodPost, path: appPath(app, "deliveries", deliveryID, "retry")})
}

// ListAttempts returns one page of app's delivery attempts, newest first, and the next page's cursor.
func (c *Client) ListAttempts(ctx context.Context, app string, p ListAttemptsParams) ([]*Attempt, string, error) {
	q := pageQuery(ListParams{Limit: p.Limit, Cursor: p.Cursor}).
		add("delivery_id", p.DeliveryID).add("endpoint_id", p.EndpointID).add("message_id", p.MessageID).
		addTime("since", p.Since).addTime("until", p.Until)
	return getList[Attempt](ctx, c, appPath(app, "attempts"), url.Values(q))
}

// ListDeliveryAttempts returns one page of a delivery's attempts, newest first, and the next page's cursor.
func (c *Client) ListDeliveryAttempts(ctx context.Context, app, deliveryID string, p ListParams) ([]*Attempt, string, error) {
	return getList[Attempt](ctx, c, appPath(app, "deliveries", deliveryID, "attempts"), url.Values(pageQuery(p)))
}

// BatchResult is one message of a PublishBatch answer.
type BatchResult struct {
	Message
	Duplicate bool `json:"duplicate"` // its idempotency key was seen: Message is the original
}

// batchResults is the answer of PublishBatch.
type batchResults struct {
	Data []*BatchResult `json:"data"`
}

// PublishBatch publishes up to 1,000 messages in one request and returns them in order.
// The server checks every message before it stores any; payloads are sent byte for byte.
func (c *Client) PublishBatch(ctx context.Context, app string, in []MessageInput) ([]*BatchResult, error) {
	p := appPath(app, "messages", "batch")
	var b bytes.Buffer
	b.WriteString(`{"messages":[`)
	for i, m := range in {
		if i > 0 {
			b.WriteByte(',')
		}
		enc, err := encodeMessageInput(m)
		if err != nil {
			return nil, fmt.Errorf("%s %s: message %d: %w", http.MethodPost, p, i, err)
		}
		b.Write(enc)
	}
	b.WriteString(`]}`)
	var out batchResults
	if _, err := c.do(ctx, request{method: http.MethodPost, path: p, body: b.Bytes()}, &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}
