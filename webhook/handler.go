package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// Event is one verified delivery, as a Handler passes it to an EventFunc.
type Event struct {
	Delivery             // the id, type and timestamp the verifier returned
	Header   http.Header // the request headers
	Body     []byte      // the raw body, exactly the bytes that were verified
	Data     any         // what the WithDecoder function returned for the body; nil without one
}

// Decode unmarshals the JSON body into v, for typed access to any sender's events.
func (e *Event) Decode(v any) error {
	if err := json.Unmarshal(e.Body, v); err != nil {
		return fmt.Errorf("decode %s event %s: %w", e.Type, e.ID, err)
	}
	return nil
}

// EventFunc handles one verified event. Returning an error makes the Handler answer 500,
// so the sender retries the delivery later.
type EventFunc func(ctx context.Context, e *Event) error

// DefaultMaxBodyBytes is the largest body a Handler reads unless configured otherwise.
const DefaultMaxBodyBytes = 1 << 20

// Handler is an http.Handler for webhook receivers: it reads the body (size-limited),
// verifies it, drops duplicates, and dispatches the event to the function registered
// for the type the verifier reported. It never rejects an authentic body for its shape:
// JSON of any form, a form-encoded body or plain text reach the functions as they are,
// unless WithDecoder asks for parsing. Register functions before serving; a Handler is
// safe for concurrent use.
//
// Responses: 200 for a handled, unhandled or duplicate event; 400 for a missing or malformed
// header (or a body the WithDecoder function refuses); 401 for a bad signature or a timestamp outside the tolerance; 405 for a
// method other than POST; 409 while the same delivery is being handled by another request;
// 413 for a body over the limit; 500 when an EventFunc fails. Every error body is JSON:
// {"error":{"code":"invalid_signature","message":"..."}}.
type Handler struct {
	verifier Verifier
	decode   func(*Event) (any, error)
	maxBody  int64
	dedupe   DedupeStore
	log      *slog.Logger

	mu       sync.RWMutex
	exact    map[string]EventFunc
	prefixes []prefixRoute // longest prefix first
	fallback EventFunc
}

type prefixRoute struct {
	prefix string // "response." for "response.*", "" for "*"
	fn     EventFunc
}

// HandlerOption configures a Handler.
type HandlerOption func(*Handler)

// WithMaxBodyBytes limits the size of a request body (default 1 MiB).
func WithMaxBodyBytes(n int64) HandlerOption { return func(h *Handler) { h.maxBody = n } }

// WithDedupeStore replaces the in-memory dedupe store; nil turns deduplication off.
func WithDedupeStore(s DedupeStore) HandlerOption { return func(h *Handler) { h.dedupe = s } }

// WithDecoder makes the Handler decode every verified body with decode before
// deduplication and dispatch; the result is Event.Data. A body decode refuses is
// answered 400 invalid_body and reaches no function. Package webhook/openai's Events
// option uses it for typed OpenAI events.
func WithDecoder(decode func(*Event) (any, error)) HandlerOption {
	return func(h *Handler) { h.decode = decode }
}

// WithLogger sets the logger for handler failures (default slog.Default()).
func WithLogger(l *slog.Logger) HandlerOption { return func(h *Handler) { h.log = l } }

// NewHandler returns a Handler that verifies deliveries with v, for example the result
// of NewOpenAI(os.Getenv("OPENAI_WEBHOOK_SECRET")). By default it deduplicates on the
// delivery id in memory for 72 hours.
func NewHandler(v Verifier, opts ...HandlerOption) *Handler {
	h := &Handler{
		verifier: v,
		maxBody:  DefaultMaxBodyBytes,
		dedupe:   NewMemoryDedupe(0, 0),
		log:      slog.Default(),
		exact:    make(map[string]EventFunc),
	}
	for _, o := range opts {
		o(h)
	}
	return h
}

// On registers fn for events whose type matches pattern: an exact type ("response.completed"),
// a prefix wildcard ("response.*" matches every type starting with "response.") or "*" for all.
// The most specific pattern wins: exact, then the longest wildcard. It returns h for chaining.
// On panics on a malformed pattern, as http.ServeMux does.
func (h *Handler) On(pattern string, fn EventFunc) *Handler {
	if fn == nil {
		panic("webhook: On with nil EventFunc")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case pattern == "":
		panic("webhook: On with empty pattern")
	case pattern == "*":
		h.addPrefix("", fn)
	case strings.HasSuffix(pattern, ".*"):
		prefix := strings.TrimSuffix(pattern, "*")
		if strings.Contains(prefix, "*") {
			panic(fmt.Sprintf("webhook: pattern %q: '*' is allowed only as the last segment", pattern))
		}
		h.addPrefix(prefix, fn)
	case strings.Contains(pattern, "*"):
		panic(fmt.Sprintf("webhook: pattern %q: '*' is allowed only as the last segment", pattern))
	default:
		h.exact[pattern] = fn
	}
	return h
}

func (h *Handler) addPrefix(prefix string, fn EventFunc) {
	for i := range h.prefixes {
		if h.prefixes[i].prefix == prefix {
			h.prefixes[i].fn = fn
			return
		}
	}
	h.prefixes = append(h.prefixes, prefixRoute{prefix, fn})
	sort.SliceStable(h.prefixes, func(i, j int) bool { return len(h.prefixes[i].prefix) > len(h.prefixes[j].prefix) })
}

// Fallback registers fn for events no pattern matches. Without a fallback such events are
// acknowledged with 200 and otherwise ignored. It returns h for chaining.
func (h *Handler) Fallback(fn EventFunc) *Handler {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fallback = fn
	return h
}

// route returns the function for an event type, or nil.
func (h *Handler) route(eventType string) EventFunc {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if fn, ok := h.exact[eventType]; ok {
		return fn
	}
	for _, p := range h.prefixes {
		if strings.HasPrefix(eventType, p.prefix) {
			return p.fn
		}
	}
	return h.fallback
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "webhooks are delivered with POST")
		return
	}
	body, err := readBody(r.Body, h.maxBody)
	if err != nil {
		if errors.Is(err, ErrBodyTooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, ErrorCode(err), fmt.Sprintf("body exceeds %d bytes", h.maxBody))
			return
		}
		writeError(w, http.StatusBadRequest, "unreadable_body", "reading body: "+err.Error())
		return
	}
	d, err := h.verifier.Verify(body, r.Header)
	if err != nil {
		writeError(w, verifyStatus(err), ErrorCode(err), err.Error())
		return
	}
	e := &Event{Delivery: d, Header: r.Header, Body: body}
	if h.decode != nil {
		if e.Data, err = h.decode(e); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_body", err.Error())
			return
		}
	}
	ctx := r.Context()
	key := d.ID
	if h.dedupe != nil && key != "" {
		state, err := h.dedupe.Claim(ctx, key)
		switch {
		case err != nil:
			h.log.ErrorContext(ctx, "webhook dedupe claim failed", "delivery", key, "err", err)
			writeError(w, http.StatusInternalServerError, "dedupe_failed", "could not record the delivery; retry later")
			return
		case state == ClaimDone:
			writeJSON(w, http.StatusOK, map[string]any{"received": true, "duplicate": true})
			return
		case state == ClaimBusy:
			writeError(w, http.StatusConflict, "in_progress", "this delivery is being handled by another request; retry later")
			return
		}
	}
	if err := h.dispatch(ctx, e); err != nil {
		if h.dedupe != nil && key != "" {
			if rerr := h.dedupe.Release(context.WithoutCancel(ctx), key); rerr != nil {
				h.log.ErrorContext(ctx, "webhook dedupe release failed", "delivery", key, "err", rerr)
			}
		}
		h.log.ErrorContext(ctx, "webhook handler failed", "type", e.Type, "delivery", key, "err", err)
		writeError(w, http.StatusInternalServerError, "handler_failed", "the receiver failed to handle the event; it will be retried")
		return
	}
	if h.dedupe != nil && key != "" {
		if err := h.dedupe.Done(context.WithoutCancel(ctx), key); err != nil {
			// The event was handled; a failed record only risks handling a later duplicate.
			h.log.ErrorContext(ctx, "webhook dedupe record failed", "delivery", key, "err", err)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"received": true})
}

// dispatch runs the function routed for e, turning a panic into an error.
func (h *Handler) dispatch(ctx context.Context, e *Event) (err error) {
	fn := h.route(e.Type)
	if fn == nil {
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in handler for %s: %v", e.Type, p)
		}
	}()
	return fn(ctx, e)
}

func readBody(r io.Reader, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, ErrBodyTooLarge
	}
	return b, nil
}

// verifyStatus maps a verification error to an HTTP status: 400 when the request is
// malformed, 401 when it is well-formed but not authentic or not fresh.
func verifyStatus(err error) int {
	switch {
	case errors.Is(err, ErrMissingHeader), errors.Is(err, ErrMalformedHeader):
		return http.StatusBadRequest
	case errors.Is(err, ErrInvalidConfig):
		return http.StatusInternalServerError
	}
	return http.StatusUnauthorized
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
