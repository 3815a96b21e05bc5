package delivery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ErrListenerGone means a listener was not connected, or went away before it answered.
// The attempt is not recorded: the delivery waits for the listener to come back.
var ErrListenerGone = errors.New("listener not connected")

// Relay carries deliveries of listener endpoints over their live connections.
type Relay interface {
	// Connected reports whether a listener is attached to the endpoint on this node.
	Connected(endpointID string) bool
	// Attached returns the endpoints with a listener attached on this node.
	Attached() []string
	// Deliver sends one webhook to the endpoint's listener and returns the answer of the
	// listener's local server; an error wrapping ErrListenerGone means it never arrived.
	Deliver(ctx context.Context, endpointID string, d RelayDelivery) (status int, respHeader http.Header, respBody []byte, err error)
}

// RelayDelivery is one webhook for a listener: exactly the request an HTTP endpoint would get.
type RelayDelivery struct {
	MessageID string
	EventType string
	Header    http.Header
	Body      []byte
}

// sendRelay makes one attempt through the relay.
func (e *Engine) sendRelay(r *request, now time.Time) response {
	if e.cfg.Relay == nil {
		return response{err: fmt.Errorf("%w: this server has no relay", ErrListenerGone)}
	}
	h, err := e.sender.header(r, now)
	if err != nil {
		return response{err: err}
	}
	ctx, cancel := context.WithTimeout(e.sendCtx, r.timeout)
	defer cancel()
	start := time.Now()
	status, rh, body, err := e.cfg.Relay.Deliver(ctx, r.endpointID, RelayDelivery{MessageID: r.messageID, EventType: r.eventType, Header: h, Body: r.body})
	sent := make(map[string]string, len(h))
	for k, v := range h {
		sent[k] = strings.Join(v, ", ")
	}
	out := response{status: status, header: rh, body: body, err: err, latency: time.Since(start), sent: redactAndBound(sent, r.secrets)}
	if err != nil && errors.Is(err, context.DeadlineExceeded) {
		out.err = fmt.Errorf("timeout: the listener did not answer within %s", r.timeout)
		out.timedOut = true
	}
	if len(out.body) > MaxResponseBody {
		out.body = out.body[:MaxResponseBody]
	}
	if rh != nil {
		out.retryAfter = retryAfter(rh, now)
	}
	return out
}

func (e *Engine) isListener(ep *endpoint) bool {
	return ep.cfg != nil && ep.cfg.IsListener()
}

func (e *Engine) listenerConnected(ep *endpoint) bool {
	return e.cfg.Relay != nil && e.cfg.Relay.Connected(ep.id)
}
