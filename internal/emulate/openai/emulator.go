// Package openai emulates a subset of OpenAI's API for development and tests: the
// Responses API (background mode, function tools, previous_response_id chaining,
// cancellation), the Batch API and the webhook endpoint management API. Answers are
// deterministic and scriptable, and each terminal state of a background response or
// batch is announced with the webhook event OpenAI sends, through a Publisher (in
// herald, the delivery engine); webhook endpoints are a herald app's endpoints.
//
// docs/emulator.md describes what is emulated and the scripting rules.
package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// UserAgent is the User-Agent header of OpenAI's webhook requests.
const UserAgent = "OpenAI/1.0 (+https://platform.openai.com/docs/webhooks)"

// maxBody bounds a request body.
const maxBody = 8 << 20

// Event is one webhook event for a Publisher to deliver.
type Event struct {
	ID   string // "evt_...", also a good idempotency key
	Type string // such as "response.completed"
	Body []byte // the exact webhook body: {"id","object":"event","created_at","type","data":{"id"}}
}

// Publisher delivers webhook events; it must be safe for concurrent use.
type Publisher interface {
	Publish(ctx context.Context, e Event) error
}

// Config configures an Emulator; the zero value is usable.
type Config struct {
	// Delay is how long a response takes to finish (default 1 s; a negative value means none).
	Delay time.Duration
	// DelayMax, when above Delay, spreads response times: each response takes a
	// duration between Delay and DelayMax picked by a hash of its input, so the same
	// input always takes the same time.
	DelayMax time.Duration
	// BatchDelay is how long a batch takes to finish (default 5 s; negative means none).
	BatchDelay time.Duration
	// Script holds rules tried before the built-in ones; nil means none.
	Script *Script
	// Publisher receives the webhook events; nil drops them.
	Publisher Publisher
	// Endpoints backs /v1/webhook_endpoints with a herald app's endpoints; nil
	// answers those routes with an error.
	Endpoints *HeraldEndpoints
	// MaxWebhookEndpoints is how many endpoints the app may have for
	// POST /v1/webhook_endpoints to create another (default 1000).
	MaxWebhookEndpoints int
	// Logger logs state changes and events (default slog.Default()).
	Logger *slog.Logger
}

// Emulator is the emulated API; it is an http.Handler for the paths under /v1/.
// It keeps everything in memory until Close.
type Emulator struct {
	cfg      Config
	log      *slog.Logger
	rules    []*Rule // the script's, then the built-in directives
	toolRule []*Rule // the built-in tool rules, tried after tool outputs are answered
	mux      *http.ServeMux

	mu        sync.Mutex
	closed    bool
	responses map[string]*responseState
	batches   map[string]*batchState
	requests  map[string]int64 // by route

	pubs      sync.WaitGroup
	pubCtx    context.Context
	pubCancel context.CancelFunc
}

// New returns an Emulator.
func New(cfg Config) *Emulator {
	if cfg.Delay == 0 {
		cfg.Delay = time.Second
	}
	cfg.Delay = max(cfg.Delay, 0)
	if cfg.BatchDelay == 0 {
		cfg.BatchDelay = 5 * time.Second
	}
	cfg.BatchDelay = max(cfg.BatchDelay, 0)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxWebhookEndpoints <= 0 {
		cfg.MaxWebhookEndpoints = defaultMaxWebhookEndpoints
	}
	e := &Emulator{
		cfg:       cfg,
		log:       cfg.Logger,
		responses: make(map[string]*responseState),
		batches:   make(map[string]*batchState),
		requests:  make(map[string]int64),
	}
	e.pubCtx, e.pubCancel = context.WithCancel(context.Background())
	if cfg.Script != nil {
		e.rules = append(e.rules, cfg.Script.Rules...)
	}
	for _, r := range builtinRules() {
		if r.Tool != "" {
			e.toolRule = append(e.toolRule, r)
		} else {
			e.rules = append(e.rules, r)
		}
	}
	e.mux = http.NewServeMux()
	e.handle("POST /v1/responses", e.createResponse)
	e.handle("GET /v1/responses/{id}", e.getResponse)
	e.handle("DELETE /v1/responses/{id}", e.deleteResponse)
	e.handle("POST /v1/responses/{id}/cancel", e.cancelResponse)
	e.handle("POST /v1/batches", e.createBatch)
	e.handle("GET /v1/batches/{id}", e.getBatch)
	e.handle("POST /v1/batches/{id}/cancel", e.cancelBatch)
	e.handleWebhookEndpoints()
	e.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{status: http.StatusNotFound, typ: "invalid_request_error",
			message: fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path)})
	})
	return e
}

// handle registers fn for pattern, counting its requests.
func (e *Emulator) handle(pattern string, fn func(w http.ResponseWriter, r *http.Request) *apiError) {
	e.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.requests[pattern]++
		e.mu.Unlock()
		w.Header().Set("X-Request-Id", newID("req_", 32))
		w.Header().Set("Openai-Version", "2020-10-01")
		if err := fn(w, r); err != nil {
			writeError(w, err)
		}
	})
}

// ServeHTTP implements http.Handler. Any bearer token, or none, is accepted.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mux.ServeHTTP(w, r)
}

// Requests returns how many requests each route has answered, by pattern such as
// "GET /v1/responses/{id}".
func (e *Emulator) Requests() map[string]int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int64, len(e.requests))
	for k, v := range e.requests {
		out[k] = v
	}
	return out
}

// Close stops every timer, so nothing pending finishes any more, and waits up to
// 5 seconds for events being published. Requests after Close are refused.
func (e *Emulator) Close() error {
	e.mu.Lock()
	e.closed = true
	for _, rs := range e.responses {
		if rs.timer != nil {
			rs.timer.Stop()
		}
		if !terminal(rs.obj.Status) {
			close(rs.done) // a synchronous request still waiting gets an error
		}
	}
	for _, bs := range e.batches {
		if bs.timer != nil {
			bs.timer.Stop()
		}
	}
	e.mu.Unlock()
	done := make(chan struct{})
	go func() { e.pubs.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		e.pubCancel()
		<-done
		return errors.New("emulator: gave up on events still being published")
	}
	e.pubCancel()
	return nil
}

// emitLocked publishes the webhook event of a terminal state, in the background.
// The caller holds e.mu.
func (e *Emulator) emitLocked(eventType, objectID string, now time.Time) {
	ev := event{ID: newID("evt_", 32), Object: "event", CreatedAt: now.Unix(), Type: eventType, Data: eventData{ID: objectID}}
	body, err := json.Marshal(ev)
	if err != nil {
		e.log.Error("encode webhook event", "type", eventType, "err", err)
		return
	}
	e.log.Info("emulated "+eventType, "id", objectID, "event", ev.ID)
	if e.cfg.Publisher == nil {
		return
	}
	e.pubs.Add(1)
	go func() {
		defer e.pubs.Done()
		e.publish(Event{ID: ev.ID, Type: eventType, Body: body})
	}()
}

// publish hands ev to the Publisher, retrying a few times; the event id is the
// idempotency key, so a retry of a publish that did succeed is harmless.
func (e *Emulator) publish(ev Event) {
	backoff := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(e.pubCtx, 10*time.Second)
		err := e.cfg.Publisher.Publish(ctx, ev)
		cancel()
		if err == nil {
			return
		}
		if attempt == 5 || e.pubCtx.Err() != nil {
			e.log.Error("publish webhook event", "type", ev.Type, "event", ev.ID, "attempts", attempt, "err", err)
			return
		}
		e.log.Warn("publish webhook event; retrying", "type", ev.Type, "event", ev.ID, "err", err)
		select {
		case <-time.After(backoff):
		case <-e.pubCtx.Done():
		}
		backoff *= 2
	}
}

// ResponseDelay returns how long a response to an input text takes when no
// scripting rule sets its delay: Delay, or with DelayMax a duration in between
// picked by a hash of the text.
func (e *Emulator) ResponseDelay(text string) time.Duration {
	d := e.cfg.Delay
	if spread := e.cfg.DelayMax - d; spread > 0 {
		h := fnv.New64a()
		io.WriteString(h, text)
		d += time.Duration(h.Sum64() % uint64(spread))
	}
	return d
}

// readObject reads a JSON object body of at most maxBody bytes into its members.
func readObject(r *http.Request) (map[string]json.RawMessage, *apiError) {
	return readObjectMax(r, maxBody)
}

// readObjectMax reads a JSON object body of at most limit bytes into its members.
func readObjectMax(r *http.Request, limit int) (map[string]json.RawMessage, *apiError) {
	b, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, invalid("", "", "Could not read the request body: %v", err)
	}
	if len(b) > limit {
		return nil, &apiError{status: http.StatusRequestEntityTooLarge, typ: "invalid_request_error",
			message: fmt.Sprintf("The request body is larger than %d bytes.", limit)}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, invalid("", "", "We could not parse the JSON body of your request. The OpenAI API expects a JSON object as the body (%s).", describeDecodeError(b, err))
	}
	return m, nil
}

func describeDecodeError(b []byte, err error) string {
	if err == nil {
		return "got null"
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return "got an empty body"
	}
	return err.Error()
}

// checkKeys refuses members that are not known, as OpenAI does.
func checkKeys(m map[string]json.RawMessage, known func(string) bool) *apiError {
	var unknown []string
	for k := range m {
		if !known(k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return invalid(unknown[0], "unknown_parameter", "Unknown parameter: '%s'.", unknown[0])
}

// member decodes the optional member name of m into dst; it reports whether the
// member was present and not null.
func member[T any](m map[string]json.RawMessage, name, want string, dst *T) (bool, *apiError) {
	raw, ok := m[name]
	if !ok || string(raw) == "null" {
		return false, nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return false, invalid(name, "invalid_type", "Invalid type for '%s': expected %s, but got %s instead.", name, want, jsonKind(raw))
	}
	return true, nil
}

// jsonKind names the kind of a JSON value for an error message.
func jsonKind(raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	if s == "" {
		return "nothing"
	}
	switch s[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	if strings.ContainsAny(s, ".eE") {
		return "a decimal"
	}
	return "an integer"
}

// metadata decodes and checks a metadata member: at most 16 string pairs, keys of
// at most 64 characters and values of at most 512.
func metadata(m map[string]json.RawMessage) (map[string]string, *apiError) {
	md := map[string]string{}
	if _, err := member(m, "metadata", "an object with string values", &md); err != nil {
		return nil, err
	}
	if md == nil {
		md = map[string]string{}
	}
	if len(md) > 16 {
		return nil, invalid("metadata", "object_above_max_properties",
			"Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got an object with %d properties instead.", len(md))
	}
	for k, v := range md {
		if len(k) > 64 {
			return nil, invalid("metadata", "invalid_value", "Invalid 'metadata': key '%s' is longer than 64 characters.", k)
		}
		if len(v) > 512 {
			return nil, invalid("metadata."+k, "string_above_max_length",
				"Invalid 'metadata.%s': string too long. Expected a string with maximum length 512, but got a string with length %d instead.", k, len(v))
		}
	}
	return md, nil
}
