package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/heraldhq/herald/internal/delivery"
)

// Hub holds the live listener sessions of one server, one per listener endpoint, and
// implements delivery.Relay for the engine.
type Hub struct {
	log *slog.Logger
	// OnChange is called (outside the hub's lock) when a listener attaches or leaves.
	OnChange func(endpointID string, connected bool)

	mu       sync.Mutex
	sessions map[string]*session
	nextID   atomic.Uint64
}

var _ delivery.Relay = (*Hub)(nil)

// NewHub returns an empty hub.
func NewHub(log *slog.Logger) *Hub {
	if log == nil {
		log = slog.Default()
	}
	return &Hub{log: log, sessions: make(map[string]*session)}
}

type session struct {
	conn    *websocket.Conn
	hello   Hello
	done    chan struct{}
	mu      sync.Mutex
	pending map[string]chan Result
}

// Connected implements delivery.Relay.
func (h *Hub) Connected(endpointID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.sessions[endpointID]
	return ok
}

// Attached implements delivery.Relay.
func (h *Hub) Attached() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	ids := make([]string, 0, len(h.sessions))
	for id := range h.sessions {
		ids = append(ids, id)
	}
	return ids
}

// Count returns the number of listeners attached.
func (h *Hub) Count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sessions)
}

// Deliver implements delivery.Relay: it sends the webhook to the endpoint's listener and
// waits for its report.
func (h *Hub) Deliver(ctx context.Context, endpointID string, d delivery.RelayDelivery) (int, http.Header, []byte, error) {
	h.mu.Lock()
	s := h.sessions[endpointID]
	h.mu.Unlock()
	if s == nil {
		return 0, nil, nil, delivery.ErrListenerGone
	}
	id := strconv.FormatUint(h.nextID.Add(1), 36)
	wait := make(chan Result, 1)
	s.mu.Lock()
	s.pending[id] = wait
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
	}()
	msg, err := json.Marshal(Delivery{Type: TypeDelivery, ID: id, MessageID: d.MessageID, EventType: d.EventType, Header: d.Header, Body: d.Body})
	if err != nil {
		return 0, nil, nil, fmt.Errorf("relay: encode delivery: %w", err)
	}
	if err := s.conn.Write(ctx, websocket.MessageText, msg); err != nil {
		if ctx.Err() != nil {
			return 0, nil, nil, ctx.Err()
		}
		return 0, nil, nil, fmt.Errorf("%w: %v", delivery.ErrListenerGone, err)
	}
	select {
	case r := <-wait:
		if r.Error != "" {
			return r.Status, r.Header, r.Body, errors.New(r.Error)
		}
		return r.Status, r.Header, r.Body, nil
	case <-s.done:
		return 0, nil, nil, delivery.ErrListenerGone
	case <-ctx.Done():
		return 0, nil, nil, ctx.Err()
	}
}

// Serve upgrades the request to a WebSocket and runs a listener session for the
// endpoint in hello until the listener or the server goes away. A new session for the
// same endpoint replaces the old one, which is closed with CloseReplaced.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, hello Hello) error {
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return fmt.Errorf("relay: accept: %w", err)
	}
	conn.SetReadLimit(maxMessage)
	hello.Type = TypeHello
	s := &session{conn: conn, hello: hello, done: make(chan struct{}), pending: make(map[string]chan Result)}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	// Register before the hello, so that a listener that has its hello is Connected.
	h.mu.Lock()
	old := h.sessions[hello.EndpointID]
	h.sessions[hello.EndpointID] = s
	h.mu.Unlock()
	if old != nil {
		// The same listener restarted (its old connection is usually dead), or a second
		// `herald listen` with the same name: the newer wins, and CloseReplaced tells the
		// older to stop rather than reconnect. Close in the background rather than wait
		// here for a close handshake that may not come.
		go old.conn.Close(CloseReplaced, replacedReason(r.RemoteAddr))
	}
	b, _ := json.Marshal(hello)
	if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
		h.mu.Lock()
		if h.sessions[hello.EndpointID] == s {
			delete(h.sessions, hello.EndpointID)
		}
		h.mu.Unlock()
		close(s.done)
		conn.Close(websocket.StatusInternalError, "hello failed")
		return nil
	}
	h.log.Info("listener attached", "endpoint", hello.EndpointID, "name", hello.Name, "remote", r.RemoteAddr)
	if h.OnChange != nil {
		h.OnChange(hello.EndpointID, true)
	}
	go func() { // keepalive
		t := time.NewTicker(pingInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				pctx, pcancel := context.WithTimeout(ctx, pingInterval)
				err := conn.Ping(pctx)
				pcancel()
				if err != nil {
					cancel()
					return
				}
			}
		}
	}()
	err = s.read(ctx)
	close(s.done)
	h.mu.Lock()
	current := h.sessions[hello.EndpointID] == s
	if current {
		delete(h.sessions, hello.EndpointID)
	}
	h.mu.Unlock()
	conn.Close(websocket.StatusNormalClosure, "")
	h.log.Info("listener left", "endpoint", hello.EndpointID, "name", hello.Name, "reason", err)
	if current && h.OnChange != nil {
		h.OnChange(hello.EndpointID, false)
	}
	return nil
}

// replacedReason is the close reason sent to a session that a newer one from remote
// replaced; a close reason is at most 123 bytes.
func replacedReason(remote string) string {
	reason := "a newer session with the same name attached from " + remote
	if len(reason) > 123 {
		reason = reason[:123]
	}
	return reason
}

// Close ends every session; their deliveries in flight fail with delivery.ErrListenerGone.
func (h *Hub) Close() {
	h.mu.Lock()
	sessions := make([]*session, 0, len(h.sessions))
	for _, s := range h.sessions {
		sessions = append(sessions, s)
	}
	h.mu.Unlock()
	for _, s := range sessions {
		s.conn.Close(websocket.StatusGoingAway, "the server is shutting down")
	}
}

// read dispatches the listener's results until the connection ends.
func (s *session) read(ctx context.Context) error {
	for {
		_, b, err := s.conn.Read(ctx)
		if err != nil {
			return err
		}
		var res Result
		if err := json.Unmarshal(b, &res); err != nil || res.Type != TypeResult {
			return fmt.Errorf("relay: unexpected message from the listener")
		}
		s.mu.Lock()
		wait := s.pending[res.ID]
		s.mu.Unlock()
		if wait != nil {
			wait <- res
		}
	}
}
