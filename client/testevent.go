package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// TestEventInput is the body of TestEndpoint.
type TestEventInput struct {
	EventType string          `json:"event_type"`
	Payload   json.RawMessage `json:"payload,omitempty"` // a JSON object, sent byte for byte as the webhook body; nil: the catalogue's example of the type
}

// TestEndpoint publishes a message of in.EventType to one endpoint alone, whatever
// its event filter, and returns it; the delivery then goes as any other, so its
// attempts (ListAttempts with the message's id) say how the endpoint answered.
func (c *Client) TestEndpoint(ctx context.Context, app, endpointID string, in TestEventInput) (*Message, error) {
	p := appPath(app, "endpoints", endpointID, "test")
	body, err := encodeTestEvent(in)
	if err != nil {
		return nil, fmt.Errorf("%s %s: encode request: %w", http.MethodPost, p, err)
	}
	return call[Message](ctx, c, request{method: http.MethodPost, path: p, body: body})
}

// encodeTestEvent encodes in with its payload copied as is, as encodeMessageInput does.
func encodeTestEvent(in TestEventInput) ([]byte, error) {
	b, err := startBody("event_type", in.EventType, in.Payload)
	if err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
