package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/emulate"
	emulator "github.com/heraldhq/herald/internal/emulate/openai"
	"github.com/heraldhq/herald/webhook"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
)

// stack is the emulator, its herald and a supportbot, all on loopback.
type stack struct {
	emu    *emulate.Stack
	bot    *Bot
	botURL string
	ai     openai.Client // the SDK pointed at the emulator
	secret string        // the secret of the bot's webhook endpoint
	hc     *http.Client  // for the bot's API
	hooks  atomic.Int64  // webhook requests the bot received
	forced atomic.Int64  // deliveries answered 500 after they were handled
}

// startStack starts the emulator (with herald) and a supportbot that receives its
// webhooks at /webhooks. With flaky, one delivery in three is answered 500 after
// the bot handled it, so herald sends it again.
func startStack(tb testing.TB, ocfg emulator.Config, retry []time.Duration, flaky bool) *stack {
	tb.Helper()
	quiet := slog.New(slog.DiscardHandler)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &stack{botURL: "http://" + ln.Addr().String(), hc: loopbackClient()}
	ocfg.Logger = quiet
	s.emu, err = emulate.Start(context.Background(), emulate.Config{
		Addr: "127.0.0.1:0", HeraldAddr: "127.0.0.1:0", RetrySchedule: retry, OpenAI: ocfg, Logger: quiet,
	})
	if err != nil {
		tb.Fatal(err)
	}
	s.ai = openai.NewClient(option.WithBaseURL(s.emu.OpenAIURL), option.WithAPIKey("sk-emulated"), option.WithHTTPClient(loopbackClient()))
	s.bot = NewBot(s.ai, "gpt-5-mini", NewMemoryStore(), quiet)
	// The bot registers its webhook endpoint itself, through the SDK, as it does
	// when it starts.
	if _, s.secret, err = Register(context.Background(), s.ai, s.botURL+"/webhooks", quiet); err != nil {
		tb.Fatal(err)
	}
	verifier, err := webhook.NewOpenAI(s.secret)
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", s.bot.Handler(verifier))
	hooks := http.Handler(s.bot.Webhooks(verifier))
	if flaky {
		hooks = s.failAfterHandling(hooks)
	}
	mux.Handle("POST /webhooks", s.count(hooks))
	// A second receiver with its own dedupe memory, as a second replica of the bot
	// behind a load balancer would have: it handles every event again, concurrently.
	mux.Handle("POST /webhooks/replica", s.count(s.bot.Webhooks(verifier)))
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	tb.Cleanup(func() {
		if err := s.emu.Close(); err != nil {
			tb.Error(err)
		}
		srv.Close()
	})
	return s
}

// loopbackClient keeps enough idle connections for hundreds of concurrent requests,
// so that a load does not churn through ephemeral ports.
func loopbackClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute}}
}

func (s *stack) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hooks.Add(1)
		h.ServeHTTP(w, r)
	})
}

// failAfterHandling lets h handle a delivery, then, the first time it sees one in
// three webhook-ids, answers 500 instead of h's answer: the sender retries a
// delivery the bot has already acted on.
func (s *stack) failAfterHandling(h http.Handler) http.Handler {
	var mu sync.Mutex
	seen := map[string]bool{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("webhook-id")
		f := fnv.New32a()
		f.Write([]byte(id))
		mu.Lock()
		fail := f.Sum32()%3 == 0 && !seen[id]
		seen[id] = true
		mu.Unlock()
		if !fail {
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code == http.StatusOK {
			s.forced.Add(1)
		}
		http.Error(w, "failing on purpose after handling", http.StatusInternalServerError)
	})
}

// do calls the bot's API and decodes the answer into out.
func (s *stack) do(tb testing.TB, method, path string, in any, out any) int {
	tb.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.botURL+path, body)
	resp, err := s.hc.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			tb.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

// send posts a customer message and returns the conversation.
func (s *stack) send(tb testing.TB, conversationID, text string) *Conversation {
	tb.Helper()
	var c Conversation
	code := s.do(tb, "POST", "/messages", map[string]string{"conversation_id": conversationID, "text": text}, &c)
	if code != http.StatusCreated && code != http.StatusOK {
		tb.Fatalf("POST /messages %q: %d", text, code)
	}
	return &c
}

// settled waits until the conversation is no longer thinking.
func (s *stack) settled(tb testing.TB, id string) *Conversation {
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		c, err := s.bot.store.Get(context.Background(), id)
		if err != nil {
			tb.Error(err)
			return nil
		}
		if c.State != StateThinking {
			return c
		}
	}
	tb.Errorf("conversation %s is still thinking", id)
	return nil
}

// expected is what one scripted conversation must end as.
type expected struct {
	state    string
	messages []string // "from: text" of each message
	statuses []string // the status of each settled response, in order
}

func echo(text string) string {
	return fmt.Sprintf(`assistant: You said: "%s". This is an emulated reply from herald.`, text)
}

// scenario returns the customer messages of conversation i and how it must end.
// The emulator's built-in rules decide: "[fail]", "[incomplete]", "[slow]", and an
// order number with the lookup_order tool on offer; the test's script fails the
// answer to a lookup of an order that does not exist.
func scenario(i int) (texts []string, stop bool, want expected) {
	switch i % 10 {
	case 0: // two turns, the second continuing from the first answer
		a, b := fmt.Sprintf("Hello, question %d", i), fmt.Sprintf("And a follow-up to %d", i)
		return []string{a, b}, false, expected{StateAnswered,
			[]string{"customer: " + a, echo(a), "customer: " + b, echo(b)}, []string{"completed", "completed"}}
	case 1, 2, 3:
		a := fmt.Sprintf("Do you ship to Mars? (%d)", i)
		return []string{a}, false, expected{StateAnswered, []string{"customer: " + a, echo(a)}, []string{"completed"}}
	case 4, 5: // a tool call, answered by a second response
		a := fmt.Sprintf("Where is my order 1234? (%d)", i)
		out := `{"carrier":"UPS","eta":"Friday","order_id":"1234","status":"shipped"}`
		return []string{a}, false, expected{StateAnswered, []string{"customer: " + a,
			`tool: lookup_order {"order_id":"1234"} → ` + out,
			"assistant: Here is what I found: lookup_order returned " + out}, []string{"completed", "completed"}}
	case 6: // a tool call whose answer fails
		a := fmt.Sprintf("What about order 9999? (%d)", i)
		return []string{a}, false, expected{StateFailed, []string{"customer: " + a,
			`tool: lookup_order {"order_id":"9999"} → {"error":"not_found","order_id":"9999"}`,
			"assistant: " + textFailed}, []string{"completed", "failed"}}
	case 7:
		a := fmt.Sprintf("[fail] help me (%d)", i)
		return []string{a}, false, expected{StateFailed, []string{"customer: " + a, "assistant: " + textFailed}, []string{"failed"}}
	case 8:
		a := fmt.Sprintf("[incomplete] tell me everything (%d)", i)
		full := strings.TrimPrefix(echo(a), "assistant: ")
		return []string{a}, false, expected{StateCutShort, []string{"customer: " + a,
			"assistant: " + full[:len(full)/2] + textCutShort}, []string{"incomplete"}}
	default: // the customer stops a slow reply
		a := fmt.Sprintf("[slow] write me a poem (%d)", i)
		return []string{a}, true, expected{StateStopped, []string{"customer: " + a, "assistant: " + textStopped}, []string{"cancelled"}}
	}
}

// check compares a conversation with what it must be, and checks that each of its
// responses was settled exactly once.
func check(t *testing.T, c *Conversation, want expected) {
	t.Helper()
	var got []string
	for _, m := range c.Messages {
		got = append(got, m.From+": "+m.Text)
	}
	var statuses []string
	seen := map[string]int{}
	for _, s := range c.Settled {
		statuses = append(statuses, s.Status)
		seen[s.ResponseID]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s: response %s settled %d times", c.ID, id, n)
		}
	}
	if c.State != want.state || c.Pending != "" || strings.Join(got, "\n") != strings.Join(want.messages, "\n") ||
		strings.Join(statuses, ",") != strings.Join(want.statuses, ",") {
		t.Errorf("%s: state %s, settled %v, messages:\n  %s\nwant state %s, settled %v, messages:\n  %s", c.ID,
			c.State, statuses, strings.Join(got, "\n  "), want.state, want.statuses, strings.Join(want.messages, "\n  "))
	}
}

// TestSupportFlow is the acceptance test: emulator + herald + supportbot on
// loopback, 100 conversations with tool calls, failures, cut-short replies,
// cancellations and duplicated webhook deliveries. Every conversation must end in
// the right state, each model response acted on exactly once.
func TestSupportFlow(t *testing.T) {
	script, err := emulator.ParseScript([]byte(`{"rules": [
		{"match": "\"not_found\"", "status": "failed", "error": {"code": "server_error", "message": "The lookup result confused the model."}}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	s := startStack(t, emulator.Config{Delay: 20 * time.Millisecond, DelayMax: 80 * time.Millisecond, Script: script},
		[]time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}, true)
	ctx := context.Background()
	if _, err := s.emu.Herald.CreateEndpoint(ctx, s.emu.App.ID, client.EndpointInput{URL: s.botURL + "/webhooks/replica", Secret: s.secret}); err != nil {
		t.Fatal(err)
	}

	const n = 100
	start := time.Now()
	ids := make([]string, n)
	wants := make([]expected, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 25)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			texts, stop, want := scenario(i)
			wants[i] = want
			c := s.send(t, "", texts[0])
			ids[i] = c.ID
			if stop {
				var stopped Conversation
				if code := s.do(t, "POST", "/conversations/"+c.ID+"/stop", nil, &stopped); code != http.StatusOK || stopped.State != StateStopped {
					t.Errorf("stop %s: %d %s", c.ID, code, stopped.State)
				}
			}
			if s.settled(t, c.ID) == nil {
				return
			}
			for _, text := range texts[1:] {
				s.send(t, c.ID, text)
				s.settled(t, c.ID)
			}
		}()
	}
	wg.Wait()
	t.Logf("conversations done after %v", time.Since(start))
	if t.Failed() {
		t.FailNow()
	}
	waitDeliveries(t, s)
	t.Logf("deliveries done after %v", time.Since(start))

	// Duplicates on demand: send every delivery again through herald's retry API
	// (same webhook-id: the receivers' dedupe answers), and publish every event
	// again as a new message (a new webhook-id: only the bot's own check of the
	// pending response id stands between it and a second transition).
	app := s.emu.App.ID
	deliveries := listAll(t, func(cursor string) ([]*client.Delivery, string, error) {
		return s.emu.Herald.ListDeliveries(ctx, app, client.ListDeliveriesParams{Limit: 1000, Cursor: cursor})
	})
	messages := listAll(t, func(cursor string) ([]*client.Message, string, error) {
		return s.emu.Herald.ListMessages(ctx, app, client.ListMessagesParams{Limit: 1000, Cursor: cursor})
	})
	for _, d := range deliveries {
		if _, err := s.emu.Herald.RetryDelivery(ctx, app, d.ID); err != nil {
			t.Fatalf("retry %s: %v", d.ID, err)
		}
	}
	for _, m := range messages {
		if _, _, _, err := s.emu.Herald.Publish(ctx, app, client.MessageInput{Type: m.Type, Payload: m.Payload}); err != nil {
			t.Fatal(err)
		}
	}
	waitDeliveries(t, s)
	t.Logf("duplicates done after %v", time.Since(start))

	responseIDs := 0
	for i, id := range ids {
		c, err := s.bot.store.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		check(t, c, wants[i])
		// The emulator, asked through the SDK, agrees on how each response ended.
		for _, st := range c.Settled {
			resp, err := s.ai.Responses.Get(ctx, st.ResponseID, responses.ResponseGetParams{})
			if err != nil || string(resp.Status) != st.Status || resp.Metadata["conversation_id"] != c.ID {
				t.Errorf("%s: response %s: %v, %v", c.ID, st.ResponseID, resp, err)
			}
			responseIDs++
		}
		// Turns continue from the previous answer.
		if wants[i].statuses[0] == "completed" && len(wants[i].statuses) == 2 && wants[i].state == StateAnswered {
			second, err := s.ai.Responses.Get(ctx, c.Settled[1].ResponseID, responses.ResponseGetParams{})
			if err != nil || second.PreviousResponseID != c.Settled[0].ResponseID {
				t.Errorf("%s: the second response does not continue from the first: %v", c.ID, err)
			}
		}
	}
	// Follow-ups (10), tool calls (20) and failing tool answers (10) take two
	// responses each; the other 60 conversations one.
	if want := 10*2 + 20*2 + 10*2 + 60*1; responseIDs != want {
		t.Errorf("%d responses settled, want %d", responseIDs, want)
	}
	events := len(messages)
	if events < responseIDs || s.forced.Load() == 0 || s.hooks.Load() < int64(4*events) {
		t.Errorf("%d events, %d webhook requests, %d answered 500 after handling: duplicates were not exercised",
			events, s.hooks.Load(), s.forced.Load())
	}
	t.Logf("checked after %v", time.Since(start))
	t.Logf("%d conversations, %d responses, %d events, %d webhook requests to the bot (%d answered 500 after handling)",
		n, responseIDs, events, s.hooks.Load(), s.forced.Load())
}

// waitDeliveries waits until herald has no delivery left to make and all succeeded.
func waitDeliveries(t *testing.T, s *stack) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		pending, _, err := s.emu.Herald.ListDeliveries(context.Background(), s.emu.App.ID, client.ListDeliveriesParams{Status: client.DeliveryPending, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		failed, _, err := s.emu.Herald.ListDeliveries(context.Background(), s.emu.App.ID, client.ListDeliveriesParams{Status: client.DeliveryFailed, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(failed) > 0 {
			t.Fatalf("delivery %s failed: %s", failed[0].ID, failed[0].LastError)
		}
		if len(pending) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries still pending, e.g. %s", pending[0].ID)
		}
	}
}

func listAll[T any](t *testing.T, page func(cursor string) ([]T, string, error)) []T {
	t.Helper()
	var all []T
	for cursor := ""; ; {
		items, next, err := page(cursor)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, items...)
		if next == "" {
			return all
		}
		cursor = next
	}
}

// TestAPIErrors checks the bot's answers to bad requests.
func TestAPIErrors(t *testing.T) {
	s := startStack(t, emulator.Config{Delay: 10 * time.Millisecond}, nil, false)
	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/messages", `{"text": ""}`, 400},
		{"POST", "/messages", `{"text": "hi", "extra": 1}`, 400},
		{"POST", "/messages", `not json`, 400},
		{"POST", "/messages", `{"text": "` + strings.Repeat("a", 4001) + `"}`, 400},
		{"POST", "/messages", `{"conversation_id": "conv_nope", "text": "hi"}`, 404},
		{"GET", "/conversations/conv_nope", ``, 404},
		{"POST", "/conversations/conv_nope/stop", ``, 404},
		{"POST", "/webhooks", `{}`, 400},
	} {
		req, _ := http.NewRequest(tc.method, s.botURL+tc.path, strings.NewReader(tc.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || body["error"] == nil {
			t.Errorf("%s %s %.40s: %d %v, want %d with an error", tc.method, tc.path, tc.body, resp.StatusCode, body, tc.status)
		}
	}
	// Busy while thinking; nothing to stop once answered; then a new turn works.
	c := s.send(t, "", "[slow] take your time")
	if code := s.do(t, "POST", "/messages", map[string]string{"conversation_id": c.ID, "text": "hello?"}, nil); code != http.StatusConflict {
		t.Errorf("message while thinking: %d, want 409", code)
	}
	s.do(t, "POST", "/conversations/"+c.ID+"/stop", nil, nil)
	if code := s.do(t, "POST", "/conversations/"+c.ID+"/stop", nil, nil); code != http.StatusConflict {
		t.Errorf("stop twice: %d, want 409", code)
	}
	s.send(t, c.ID, "hi again")
	if got := s.settled(t, c.ID); got == nil || got.State != StateAnswered || got.LastAnswer == "" {
		t.Errorf("after a stop, a new turn: %+v", got)
	}
	// A response the bot does not know about is acknowledged and ignored.
	r, err := s.ai.Responses.New(context.Background(), responses.ResponseNewParams{
		Model: "gpt-5-mini", Background: openai.Bool(true), Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("not from the bot")},
	})
	if err != nil {
		t.Fatal(err)
	}
	waitDeliveries(t, s)
	if _, err := s.bot.store.Get(context.Background(), r.Metadata["conversation_id"]); !errors.Is(err, ErrNotFound) {
		t.Errorf("a foreign response created a conversation: %v", err)
	}
}
