package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type recorded struct {
	mu     sync.Mutex
	events []*Event
	routes []string
}

func (r *recorded) fn(route string) EventFunc {
	return func(_ context.Context, e *Event) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, e)
		r.routes = append(r.routes, route)
		return nil
	}
}

func (r *recorded) last() (string, *Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.routes) == 0 {
		return "", nil
	}
	return r.routes[len(r.routes)-1], r.events[len(r.events)-1]
}

func (r *recorded) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// post sends body signed by signer (or with the given headers) to url and returns status and error code.
func post(t *testing.T, url string, body []byte, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Error struct{ Code, Message string }
	}
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content-type = %q, want application/json", ct)
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Errorf("response %q is not JSON: %v", raw, err)
	}
	if resp.StatusCode >= 300 && (out.Error.Code == "" || out.Error.Message == "") {
		t.Errorf("error response %q lacks code or message", raw)
	}
	return resp.StatusCode, out.Error.Code
}

func eventBody(typ, id string) []byte {
	return []byte(`{"object":"event","id":"` + id + `","type":"` + typ + `","created_at":1750861210,"data":{"id":"resp_123"}}`)
}

func TestHandlerDispatch(t *testing.T) {
	secret := NewHMACSecret().Reveal()
	wh, err := NewOpenAI(secret)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorded{}
	h := NewHandler(wh).
		On("response.completed", rec.fn("exact")).
		On("response.*", rec.fn("response.*")).
		On("fine_tuning.*", rec.fn("fine_tuning.*")).
		On("fine_tuning.job.*", rec.fn("fine_tuning.job.*")).
		Fallback(rec.fn("fallback"))
	srv := httptest.NewServer(h)
	defer srv.Close()

	cases := []struct {
		typ, route string
	}{
		{"response.completed", "exact"},
		{"response.failed", "response.*"},
		{"fine_tuning.job.succeeded", "fine_tuning.job.*"},
		{"batch.completed", "fallback"},
	}
	for i, c := range cases {
		body := eventBody(c.typ, "evt_"+c.typ)
		hdr, err := wh.Sign(Delivery{ID: "msg_" + string(rune('a'+i))}, body)
		if err != nil {
			t.Fatal(err)
		}
		if status, code := post(t, srv.URL, body, hdr); status != http.StatusOK {
			t.Fatalf("%s: status %d %s", c.typ, status, code)
		}
		route, e := rec.last()
		if route != c.route {
			t.Errorf("%s routed to %q, want %q", c.typ, route, c.route)
		}
		if e.Type != c.typ || e.ID != hdr.Get(HeaderID) || e.Timestamp.IsZero() || e.Data != nil || !bytes.Equal(e.Body, body) {
			t.Errorf("%s: event = %+v", c.typ, e)
		}
		if e.Header.Get(HeaderSignature) == "" {
			t.Errorf("%s: event lacks the request headers", c.typ)
		}
	}
	rec.mu.Lock()
	first := rec.events[0]
	rec.mu.Unlock()
	var data struct{ Data struct{ ID string } }
	if err := first.Decode(&data); err != nil || data.Data.ID != "resp_123" {
		t.Errorf("Decode = %+v, %v; want data.id resp_123", data, err)
	}
}

func TestHandlerUnhandledEventIsAcknowledged(t *testing.T) {
	wh, _ := NewOpenAI(NewHMACSecret().Reveal())
	rec := &recorded{}
	srv := httptest.NewServer(NewHandler(wh).On("batch.*", rec.fn("batch")))
	defer srv.Close()
	body := eventBody("response.completed", "evt_1")
	hdr, _ := wh.Sign(Delivery{}, body)
	if status, _ := post(t, srv.URL, body, hdr); status != http.StatusOK {
		t.Fatalf("status %d, want 200 for an event nobody handles", status)
	}
	if rec.count() != 0 {
		t.Fatal("batch handler ran for a response event")
	}
}

func TestHandlerDedupeAndRetry(t *testing.T) {
	wh, _ := NewOpenAI(NewHMACSecret().Reveal())
	var calls atomic.Int32
	failFirst := true
	srv := httptest.NewServer(NewHandler(wh).On("*", func(ctx context.Context, e *Event) error {
		calls.Add(1)
		if failFirst {
			failFirst = false
			return errors.New("database down")
		}
		return nil
	}))
	defer srv.Close()
	body := eventBody("response.completed", "evt_1")
	hdr, _ := wh.Sign(Delivery{ID: "msg_dup"}, body)

	if status, code := post(t, srv.URL, body, hdr); status != http.StatusInternalServerError || code != "handler_failed" {
		t.Fatalf("failing handler: %d %s, want 500 handler_failed", status, code)
	}
	if status, _ := post(t, srv.URL, body, hdr); status != http.StatusOK {
		t.Fatalf("retry after failure: %d, want 200", status)
	}
	if status, _ := post(t, srv.URL, body, hdr); status != http.StatusOK {
		t.Fatalf("duplicate: %d, want 200", status)
	}
	if got := calls.Load(); got != 2 {
		t.Fatalf("handler ran %d times, want 2 (one failure, one success, duplicate skipped)", got)
	}
	// A new delivery id is a new delivery.
	hdr2, _ := wh.Sign(Delivery{ID: "msg_other"}, body)
	post(t, srv.URL, body, hdr2)
	if got := calls.Load(); got != 3 {
		t.Fatalf("handler ran %d times after a new delivery id, want 3", got)
	}
}

func TestHandlerBusyAndPanic(t *testing.T) {
	wh, _ := NewOpenAI(NewHMACSecret().Reveal())
	entered, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(NewHandler(wh).
		On("response.completed", func(ctx context.Context, e *Event) error {
			close(entered)
			<-release
			return nil
		}).
		On("response.failed", func(ctx context.Context, e *Event) error { panic("boom") }))
	defer srv.Close()
	body := eventBody("response.completed", "evt_1")
	hdr, _ := wh.Sign(Delivery{ID: "msg_slow"}, body)
	done := make(chan int)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header = hdr
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-entered
	if status, code := post(t, srv.URL, body, hdr); status != http.StatusConflict || code != "in_progress" {
		t.Errorf("concurrent duplicate: %d %s, want 409 in_progress", status, code)
	}
	close(release)
	if status := <-done; status != http.StatusOK {
		t.Errorf("first delivery: %d, want 200", status)
	}

	pb := eventBody("response.failed", "evt_2")
	ph, _ := wh.Sign(Delivery{ID: "msg_panic"}, pb)
	if status, code := post(t, srv.URL, pb, ph); status != http.StatusInternalServerError || code != "handler_failed" {
		t.Errorf("panicking handler: %d %s, want 500 handler_failed", status, code)
	}
}

func TestHandlerRejects(t *testing.T) {
	secret := NewHMACSecret().Reveal()
	now := time.Now()
	wh, _ := NewOpenAI(secret)
	rec := &recorded{}
	srv := httptest.NewServer(NewHandler(wh, WithMaxBodyBytes(1024)).On("*", rec.fn("all")))
	defer srv.Close()
	body := eventBody("response.completed", "evt_1")
	good, _ := wh.Sign(Delivery{ID: "msg_1"}, body)
	with := func(mutate func(h http.Header)) http.Header {
		h := good.Clone()
		mutate(h)
		return h
	}
	stale, _ := wh.Sign(Delivery{ID: "msg_1", Timestamp: now.Add(-6 * time.Minute)}, body)
	future, _ := wh.Sign(Delivery{ID: "msg_1", Timestamp: now.Add(6 * time.Minute)}, body)
	otherKey, _ := NewOpenAI(NewHMACSecret().Reveal())
	forged, _ := otherKey.Sign(Delivery{ID: "msg_1"}, body)
	big := append(eventBody("response.completed", "evt_big"), bytes.Repeat([]byte(" "), 2048)...)
	bigHdr, _ := wh.Sign(Delivery{ID: "msg_big"}, big)

	cases := []struct {
		name   string
		body   []byte
		header http.Header
		status int
		code   string
	}{
		{"missing signature", body, with(func(h http.Header) { h.Del(HeaderSignature) }), 400, "missing_header"},
		{"missing id", body, with(func(h http.Header) { h.Del(HeaderID) }), 400, "missing_header"},
		{"malformed timestamp", body, with(func(h http.Header) { h.Set(HeaderTimestamp, "soon") }), 400, "malformed_header"},
		{"bad signature", body, forged, 401, "invalid_signature"},
		{"tampered body", []byte(strings.Replace(string(body), "resp_123", "resp_999", 1)), good, 401, "invalid_signature"},
		{"stale timestamp", body, stale, 401, "timestamp_too_old"},
		{"future timestamp", body, future, 401, "timestamp_too_new"},
		{"body too large", big, bigHdr, 413, "body_too_large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, code := post(t, srv.URL, c.body, c.header)
			if status != c.status || code != c.code {
				t.Errorf("got %d %s, want %d %s", status, code, c.status, c.code)
			}
		})
	}
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", resp.StatusCode)
	}
	if n := rec.count(); n != 0 {
		t.Errorf("%d rejected requests reached the handler", n)
	}
}

func TestHandlerPatternsPanic(t *testing.T) {
	wh, _ := NewOpenAI(NewHMACSecret().Reveal())
	for _, p := range []string{"", "response*", "*.completed", "a.*.b"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("On(%q) did not panic", p)
				}
			}()
			NewHandler(wh).On(p, func(context.Context, *Event) error { return nil })
		}()
	}
}

func TestMemoryDedupe(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1000, 0)
	m := NewMemoryDedupe(time.Hour, 3)
	m.now = func() time.Time { return now }
	claim := func(id string, want ClaimState) {
		t.Helper()
		got, err := m.Claim(ctx, id)
		if err != nil || got != want {
			t.Fatalf("Claim(%s) = %v, %v; want %v", id, got, err, want)
		}
	}
	claim("a", ClaimNew)
	claim("a", ClaimBusy)
	m.Release(ctx, "a")
	claim("a", ClaimNew)
	m.Done(ctx, "a")
	claim("a", ClaimDone)
	now = now.Add(time.Hour)
	claim("a", ClaimNew) // expired
	m.Done(ctx, "a")
	for _, id := range []string{"b", "c", "d"} {
		claim(id, ClaimNew)
		m.Done(ctx, id)
	}
	claim("a", ClaimNew) // evicted: only 3 remembered
	if n := m.Len(); n != 4 {
		t.Errorf("Len = %d, want 4 (3 done + 1 in progress)", n)
	}
	for i := 0; i < 5000; i++ { // exercise compaction
		id := string(rune('e'+i%20)) + string(rune(i))
		m.Claim(ctx, id)
		m.Done(ctx, id)
	}
	if n := m.Len(); n != 4 {
		t.Errorf("after churn Len = %d, want 4", n)
	}
}

// TestHandlerAnyAuthenticBody checks that the Handler routes every authentic body on the
// verifier's labels, whatever its shape, and that only a WithDecoder function can refuse one.
func TestHandlerAnyAuthenticBody(t *testing.T) {
	wh, _ := NewOpenAI(NewHMACSecret().Reveal())
	bodies := map[string]string{
		"text":            "hello",
		"array":           "[1,2]",
		"truncated JSON":  `{"object":"event",`,
		"numeric id":      `{"id":820982911946154508,"created_at":"2026-11-26T12:00:00-05:00","type":"orders/create"}`,
		"wrong-type data": `{"type":"response.completed","data":"resp_1"}`,
		"empty":           "",
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			rec := &recorded{}
			srv := httptest.NewServer(NewHandler(wh).On("*", rec.fn("all")))
			defer srv.Close()
			hdr, err := wh.Sign(Delivery{ID: "msg_any"}, []byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if status, code := post(t, srv.URL, []byte(body), hdr); status != http.StatusOK {
				t.Fatalf("status %d %s, want 200", status, code)
			}
			if _, e := rec.last(); e == nil || string(e.Body) != body || e.ID != "msg_any" {
				t.Fatalf("event = %+v, want the body and delivery id", e)
			}

			refuse := NewHandler(wh, WithDecoder(func(e *Event) (any, error) { return nil, errors.New("not for me") }))
			srv2 := httptest.NewServer(refuse.On("*", rec.fn("refused")))
			defer srv2.Close()
			if status, code := post(t, srv2.URL, []byte(body), hdr); status != http.StatusBadRequest || code != "invalid_body" {
				t.Errorf("with a refusing decoder: %d %s, want 400 invalid_body", status, code)
			}
			if rec.count() != 1 {
				t.Errorf("a refused body reached the handler")
			}
		})
	}
}
