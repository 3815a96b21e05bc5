// Package ingest is herald's receiving gateway: POST /in/{source} verifies a provider's
// webhook against the raw body, stores it durably as a message of the source's app (so
// the delivery engine forwards it, with retries, logs and replay), deduplicates on the
// provider's delivery id, and records rejected requests for inspection.
package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/httpbody"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/tracing"
	"github.com/heraldhq/herald/webhook"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"
)

// Publisher stores a message and queues its deliveries; *delivery.Engine is one.
type Publisher interface {
	PublishWithTTL(ctx context.Context, m *domain.Message, ttl time.Duration) (*store.PublishResult, error)
}

// Defaults for sources that do not set their own.
const (
	DefaultMaxBodyBytes = 1 << 20
	// DefaultDedupeWindow covers OpenAI's retries (up to 72 hours) and Stripe's (3 days).
	DefaultDedupeWindow = 72 * time.Hour
	sourceCacheTTL      = 5 * time.Second
)

// Config configures a Handler.
type Config struct {
	Sources   store.SourceStore
	Publisher Publisher
	Logger    *slog.Logger
	// RejectionRate bounds how many rejected requests per second and source are recorded
	// (default 10, bursts of 50), so that a flood of forgeries cannot flood the database.
	RejectionRate rate.Limit
	// DiagnosisRate and DiagnosisBurst bound how many recorded rejections per second, over
	// all sources, get a diagnosis of their signature (default 20, bursts of 20), so that
	// forgeries cannot keep the CPU busy; past it a rejection is recorded without one.
	DiagnosisRate  rate.Limit
	DiagnosisBurst int
	Now            func() time.Time
	// Metrics counts the gateway's requests (nil: not counted).
	Metrics *Metrics
	// Tracing makes a span of each request (see observe.go); nil makes none.
	Tracing trace.TracerProvider
	// Observer, when set, hears how the gateway answered each request to a known source.
	Observer Observer
}

// Observer hears of every request the gateway answers for a source it found: herald's
// operational webhooks watch the share rejected. Received must return at once.
type Observer interface {
	Received(r Received)
}

// Received is how the gateway answered one request to a source.
type Received struct {
	Source *domain.Source
	At     time.Time
	// Rejected is set for a refused request, with the answer's status, code and message.
	Rejected bool
	Status   int
	Code     string
	Message  string
}

// Handler serves POST /in/{source}.
type Handler struct {
	cfg       Config
	log       *slog.Logger
	tracer    trace.Tracer // nil: tracing off
	diagnoses *rate.Limiter

	mu      sync.Mutex
	sources map[string]*cachedSource // by source id
	uids    map[string]string        // source uid to id, for the cached sources that have one
}

type cachedSource struct {
	src      *domain.Source
	verifier webhook.Verifier
	loadedAt time.Time
	limiter  *rate.Limiter
}

// New returns a Handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Sources == nil || cfg.Publisher == nil {
		return nil, errors.New("ingest: Config.Sources and Config.Publisher are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RejectionRate == 0 {
		cfg.RejectionRate = 10
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	if cfg.DiagnosisRate == 0 {
		cfg.DiagnosisRate = 20
	}
	if cfg.DiagnosisBurst == 0 {
		cfg.DiagnosisBurst = 20
	}
	return &Handler{cfg: cfg, log: cfg.Logger, tracer: tracing.Tracer(cfg.Tracing), diagnoses: rate.NewLimiter(cfg.DiagnosisRate, cfg.DiagnosisBurst),
		sources: make(map[string]*cachedSource), uids: make(map[string]string)}, nil
}

// SourceChanged drops the cached copy of a source, found by its id or uid (after an
// update or delete), and with it the uid it was cached under.
func (h *Handler) SourceChanged(ref string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := ref
	if byUID, ok := h.uids[ref]; ok {
		id = byUID
		delete(h.uids, ref)
	}
	if c := h.sources[id]; c != nil {
		if h.uids[c.src.UID] == id {
			delete(h.uids, c.src.UID)
		}
		delete(h.sources, id)
	}
}

// cached returns the cached source ref (an id or a uid) names, or nil.
func (h *Handler) cached(ref string) *cachedSource {
	h.mu.Lock()
	defer h.mu.Unlock()
	if id, ok := h.uids[ref]; ok {
		ref = id
	}
	return h.sources[ref]
}

// Verifier builds the verifier a source's provider and secrets describe.
func Verifier(src *domain.Source) (webhook.Verifier, error) {
	if len(src.Secrets) == 0 {
		return nil, errors.New("the source has no secret")
	}
	more := webhook.WithSecrets(src.Secrets[1:]...)
	if src.Provider == "hmac" {
		if src.HMAC == nil {
			return nil, errors.New(`provider "hmac" needs an hmac configuration`)
		}
		cfg := *src.HMAC
		cfg.Secret = src.Secrets[0]
		return webhook.NewHMAC(cfg, more)
	}
	return webhook.NewProvider(src.Provider, src.Secrets[0], more)
}

// source returns the source ref (its id or its uid) names and its verifier, from a
// short-lived cache. A ref that can be neither is not looked up.
func (h *Handler) source(ctx context.Context, ref string) (*cachedSource, error) {
	now := h.cfg.Now()
	if c := h.cached(ref); c != nil && now.Sub(c.loadedAt) < sourceCacheTTL {
		return c, nil
	}
	if !strings.HasPrefix(ref, "src_") && !domain.IsSourceUID(ref) {
		return nil, store.NotFound("source", ref)
	}
	src, err := h.cfg.Sources.GetSource(ctx, "", ref)
	if err != nil {
		return nil, err
	}
	v, err := Verifier(src)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", src.ID, err)
	}
	c := &cachedSource{src: src, verifier: v, loadedAt: now, limiter: rate.NewLimiter(h.cfg.RejectionRate, 50)}
	h.mu.Lock()
	if old := h.sources[src.ID]; old != nil {
		c.limiter = old.limiter // keep the rejection budget across reloads
		if h.uids[old.src.UID] == src.ID {
			delete(h.uids, old.src.UID) // the uid may have changed
		}
	}
	h.sources[src.ID] = c
	if src.UID != "" {
		h.uids[src.UID] = src.ID
	}
	h.mu.Unlock()
	return c, nil
}

// serve answers one request to /in/{source} and notes in v what became of it.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, id string, v *verdict) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		v.reject("method_not_allowed")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "webhooks are delivered with POST")
		return
	}
	ctx := r.Context()
	c, err := h.source(ctx, id)
	if err != nil {
		h.fail(ctx, w, id, "load the source", err, v)
		return
	}
	v.source(c.src)
	limit := c.src.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	if r.ContentLength > limit {
		// Answered before reading any of it: a client that sent Expect: 100-continue
		// gets the 413 instead of a connection reset halfway through its upload.
		v.reject("body_too_large")
		h.reject(ctx, w, c, r, nil, http.StatusRequestEntityTooLarge, "body_too_large", tooLarge(limit), false)
		return
	}
	body, err := httpbody.Read(http.MaxBytesReader(w, r.Body, limit), r.ContentLength)
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		v.reject("body_too_large")
		h.reject(ctx, w, c, r, body, http.StatusRequestEntityTooLarge, "body_too_large", tooLarge(limit), false)
		return
	}
	if err != nil {
		v.reject("unreadable_body")
		h.unreadable(w, r, id, err)
		return
	}
	d, err := c.verifier.Verify(body, r.Header)
	if err != nil {
		status := http.StatusUnauthorized
		if errors.Is(err, webhook.ErrMissingHeader) || errors.Is(err, webhook.ErrMalformedHeader) {
			status = http.StatusBadRequest
		}
		v.reject(webhook.ErrorCode(err))
		h.reject(ctx, w, c, r, body, status, webhook.ErrorCode(err), err.Error(), true)
		return
	}
	v.verified = true
	if c.src.Provider == "slack" && d.Type == "url_verification" {
		// Slack's Events API checks a new URL by asking for its challenge back.
		var v struct {
			Challenge string `json:"challenge"`
		}
		_ = json.Unmarshal(body, &v)
		writeJSON(w, http.StatusOK, map[string]string{"challenge": v.Challenge})
		return
	}
	m := &domain.Message{
		ID:             ids.New("msg"),
		AppID:          c.src.AppID,
		Type:           eventType(c.src.Provider, d.Type),
		Payload:        body,
		IdempotencyKey: dedupeKey(c.src, d.ID, body),
		SourceID:       c.src.ID,
		Headers:        forwardedHeaders(r.Header),
		CreatedAt:      h.cfg.Now().UTC().Truncate(time.Millisecond),
	}
	window := c.src.DedupeWindow
	if window <= 0 {
		window = DefaultDedupeWindow
	}
	res, err := h.cfg.Publisher.PublishWithTTL(ctx, m, window)
	if err != nil {
		h.fail(ctx, w, id, "store the event", err, v) // not found: the source's app was deleted
		return
	}
	v.stored(res)
	h.observe(Received{Source: c.src})
	writeReceived(w, res.Message.ID, res.Duplicate)
}

// tooLarge is the message of a 413.
func tooLarge(limit int64) string {
	return fmt.Sprintf("the body is over the source's limit of %d bytes", limit)
}

// fail answers a request the gateway could not take: 404 for a source (or app) that does
// not exist, 503 while shutting down, 507 while the database is full, 500 otherwise (the
// provider retries).
func (h *Handler) fail(ctx context.Context, w http.ResponseWriter, id, doing string, err error, v *verdict) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		v.reject("unknown_source")
		h.SourceChanged(id)
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no source %q", id))
	case errors.Is(err, store.ErrClosed):
		v.fail("unavailable")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the server is shutting down; retry later")
	case StorageFull(err):
		v.fail("insufficient_storage")
		h.log.ErrorContext(ctx, "ingest: "+doing+": the database is full", "source", id, "err", err)
		w.Header().Set("Retry-After", strconv.Itoa(StorageRetryAfter))
		writeError(w, http.StatusInsufficientStorage, "insufficient_storage", "the server's database is full; retry later")
	default:
		v.fail("internal")
		h.log.ErrorContext(ctx, "ingest: "+doing, "source", id, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not "+doing+"; retry later")
	}
}

// unreadable answers a request whose body could not be read: the client sent a
// malformed chunked body, went away, or was too slow. That is the client's doing, so it
// is logged at debug level only.
func (h *Handler) unreadable(w http.ResponseWriter, r *http.Request, id string, err error) {
	h.log.DebugContext(r.Context(), "ingest: unreadable body", "source", id, "remote", r.RemoteAddr, "err", err)
	status, msg := http.StatusBadRequest, "reading the body: "+err.Error()
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		status, msg = http.StatusRequestTimeout, "the body was not sent in time"
	}
	writeError(w, status, "unreadable_body", msg)
}

// observe tells the observer, if any, how a request was answered.
func (h *Handler) observe(r Received) {
	if h.cfg.Observer != nil {
		r.At = h.cfg.Now().UTC()
		h.cfg.Observer.Received(r)
	}
}

// reject answers a refused request and keeps a record of it, an excerpt
// (domain.RejectionExcerpt) within the source's rate, with a diagnosis of the signature
// if explain is set (see diagnosis). Nothing of a rejected request is forwarded.
func (h *Handler) reject(ctx context.Context, w http.ResponseWriter, c *cachedSource, r *http.Request, body []byte, status int, code, msg string, explain bool) {
	h.observe(Received{Source: c.src, Rejected: true, Status: status, Code: code, Message: msg})
	if c.limiter.Allow() {
		ex := domain.RejectionExcerpt(r.Header, body)
		rej := &domain.Rejection{
			ID: ids.New("rej"), SourceID: c.src.ID, AppID: c.src.AppID, ReceivedAt: h.cfg.Now().UTC(),
			Status: status, Code: code, Message: domain.CutUTF8(msg, domain.MaxRejectionMessage),
			RemoteAddr: domain.CutUTF8(r.RemoteAddr, domain.MaxRejectionHeaderName),
			Headers:    ex.Headers, Body: ex.Body, HeaderCount: ex.HeaderCount, HeaderBytes: ex.HeaderBytes, BodyBytes: ex.BodyBytes,
		}
		if explain {
			rej.Diagnosis = h.diagnosis(c.src, r.Header, body)
		}
		if err := h.cfg.Sources.RecordRejection(ctx, rej); err != nil && !errors.Is(err, store.ErrNotFound) {
			h.log.WarnContext(ctx, "ingest: record rejection", "source", c.src.ID, "err", err)
		}
	}
	writeError(w, status, code, msg)
}

// eventType makes the provider's event type usable in endpoint filters: characters
// outside [a-zA-Z0-9_.-] become '.', so Shopify's "orders/create" is "orders.create".
func eventType(provider, t string) string {
	if t == "" {
		return provider + ".webhook"
	}
	if len(t) <= 255 && strings.IndexFunc(t, func(r rune) bool { return !isTypeChar(r) }) < 0 {
		return t
	}
	b := []byte(t)
	for i, c := range b {
		if !isTypeChar(rune(c)) {
			b[i] = '.'
		}
	}
	if len(b) > 255 {
		b = b[:255]
	}
	return string(b)
}

// isTypeChar reports whether c may stay in an event type: [a-zA-Z0-9_.-].
func isTypeChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

// KeyPrefix starts the idempotency key of every message the gateway stores; the API
// refuses keys that start with it.
const KeyPrefix = "in:"

// dedupeKey is the message's idempotency key: the provider's delivery id when the
// signature covers it, else the body's hash. An id the signature does not cover
// (GitHub's X-GitHub-Delivery, Shopify's X-Shopify-Webhook-Id, an hmac source's id
// header outside its template) could be changed by whoever replays a captured webhook,
// while the body cannot; a provider's retry repeats the body, so the hash dedupes it too.
func dedupeKey(src *domain.Source, deliveryID string, body []byte) string {
	if deliveryID != "" && signsID(src) {
		return KeyPrefix + src.ID + ":" + deliveryID
	}
	sum := sha256.Sum256(body)
	return KeyPrefix + src.ID + ":sha256:" + hex.EncodeToString(sum[:])
}

// signsID reports whether the signature of src's provider covers the delivery id.
func signsID(src *domain.Source) bool {
	switch src.Provider {
	case "github", "shopify":
		return false
	case "hmac":
		return src.HMAC != nil && strings.Contains(src.HMAC.Template, "{id}")
	}
	return true // Standard Webhooks (openai, standard, svix) sign webhook-id; Stripe's and Slack's ids are in the body
}

// unforwarded reports whether forwardedHeaders drops the header k: a hop-by-hop header
// or a credential.
func unforwarded(k string) bool {
	for _, name := range [...]string{"Host", "Content-Length", "Connection", "Keep-Alive", "Transfer-Encoding", "Te",
		"Trailer", "Upgrade", "Proxy-Authorization", "Proxy-Connection", "Authorization", "Cookie", "Accept-Encoding"} {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// forwardedHeaders keeps the provider's headers, renamed under domain.ForwardedHeaderPrefix,
// and the content type. Hop-by-hop headers and credentials are dropped.
func forwardedHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h)+1)
	total := 0
	var arr [32]string
	keys := arr[:0]
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys) // past the size cap, which headers are dropped must not be random
	for _, k := range keys {
		v := h[k]
		if unforwarded(k) {
			continue
		}
		val := strings.Join(v, ", ")
		if total += len(k) + len(val); total > 32<<10 {
			break
		}
		out[domain.ForwardedHeaderPrefix+k] = val
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	out["Content-Type"] = ct
	return out
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// writeReceived answers a stored webhook with {"duplicate":true,"id":...,"received":true}
// ("duplicate" only for one), as encoding/json writes that map, without reflection for
// the ids herald makes.
func writeReceived(w http.ResponseWriter, id string, duplicate bool) {
	if strings.IndexFunc(id, func(r rune) bool { return !isTypeChar(r) }) >= 0 {
		v := map[string]any{"received": true, "id": id}
		if duplicate {
			v["duplicate"] = true
		}
		writeJSON(w, http.StatusOK, v)
		return
	}
	b := make([]byte, 0, 64+len(id))
	if duplicate {
		b = append(b, `{"duplicate":true,"id":"`...)
	} else {
		b = append(b, `{"id":"`...)
	}
	b = append(b, id...)
	b = append(b, "\",\"received\":true}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
