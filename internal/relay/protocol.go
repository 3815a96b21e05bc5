// Package relay connects `herald listen` sessions to a herald server over a WebSocket:
// the server's Hub hands each delivery of a listener endpoint to its live session, and
// the Listener on the developer's machine POSTs it to a local URL and reports the answer.
package relay

import (
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// Message types exchanged over the connection, one JSON object per WebSocket text message.
const (
	TypeHello    = "hello"    // server → listener, once, on connect
	TypeDelivery = "delivery" // server → listener: a webhook to forward
	TypeResult   = "result"   // listener → server: the local server's answer
)

// CloseReplaced is the WebSocket close code with which the server ends a session when a
// newer session of the same listener (the same name) attaches: the newer one wins, and
// the older one stops instead of reconnecting and taking the endpoint back. The close
// reason says who took over.
const CloseReplaced websocket.StatusCode = 4001

// Hello tells a listener what it is attached to and the secret its deliveries are signed with.
type Hello struct {
	Type       string   `json:"type"`
	EndpointID string   `json:"endpoint_id"`
	AppID      string   `json:"app_id"`
	SourceID   string   `json:"source_id,omitempty"`
	Name       string   `json:"name"`
	Secret     string   `json:"secret"` // the listener endpoint's whsec_ secret: stable across restarts
	Events     []string `json:"events"`
}

// Delivery is one webhook for the listener to forward.
type Delivery struct {
	Type      string      `json:"type"`
	ID        string      `json:"id"` // correlates the Result
	MessageID string      `json:"message_id"`
	EventType string      `json:"event_type"`
	Header    http.Header `json:"header"`
	Body      []byte      `json:"body"` // base64 in JSON
}

// Result is the listener's report of one forwarded delivery.
type Result struct {
	Type    string      `json:"type"`
	ID      string      `json:"id"`
	Status  int         `json:"status,omitempty"` // 0 when the local server could not be reached
	Header  http.Header `json:"header,omitempty"`
	Body    []byte      `json:"body,omitempty"` // the first 4 KiB
	Error   string      `json:"error,omitempty"`
	Latency float64     `json:"latency_ms"`
}

// pingInterval keeps connections through proxies alive and detects dead peers.
const pingInterval = 20 * time.Second

// maxMessage bounds one WebSocket message: a delivery carries a payload of at most the
// server's payload limit (256 KiB by default), plus headers, in base64.
const maxMessage = 8 << 20
