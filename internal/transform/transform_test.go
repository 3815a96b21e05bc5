package transform

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
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/netguard"
)

// input is the webhook most tests transform.
var input = Webhook{
	Method:    "POST",
	URL:       "https://hooks.example.com/in",
	Headers:   map[string]string{"X-Team": "billing"},
	Payload:   json.RawMessage(`{"id":"in_1","amount":4200,"customer":{"email":"ada@example.com"}}`),
	EventType: "invoice.paid",
}

func compile(t testing.TB, sb *Sandbox, src string) *Script {
	t.Helper()
	s, err := sb.Compile(context.Background(), src)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return s
}

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		script  string
		in      Webhook // zero: input
		want    Webhook
		wantErr string // the Kind of the *Error, "" for none
		errLine int
		errMsg  string // a part of the message
	}{
		{
			name:   "identity",
			script: `function handler(webhook) { return webhook }`,
			want:   Webhook{Method: "POST", URL: input.URL, Headers: input.Headers, Payload: json.RawMessage(`{"id":"in_1","amount":4200,"customer":{"email":"ada@example.com"}}`), EventType: "invoice.paid"},
		},
		{
			name: "reshape the payload",
			script: `function handler(webhook) {
				webhook.payload = {event: webhook.eventType, cents: webhook.payload.amount, who: webhook.payload.customer.email};
				return webhook;
			}`,
			want: Webhook{Method: "POST", URL: input.URL, Headers: input.Headers, Payload: json.RawMessage(`{"event":"invoice.paid","cents":4200,"who":"ada@example.com"}`), EventType: "invoice.paid"},
		},
		{
			name: "method, url and headers",
			script: `function handler(webhook) {
				webhook.method = "put";
				webhook.url = webhook.url + "/" + webhook.payload.id;
				webhook.headers["X-Amount"] = String(webhook.payload.amount);
				delete webhook.headers["X-Team"];
				return webhook;
			}`,
			want: Webhook{Method: "PUT", URL: input.URL + "/in_1", Headers: map[string]string{"X-Amount": "4200"}, Payload: input.Payload, EventType: "invoice.paid"},
		},
		{
			name:   "a new object",
			script: `function handler(w) { return {url: "http://other.example/x", payload: "plain text"} }`,
			want:   Webhook{Method: "POST", URL: "http://other.example/x", Payload: json.RawMessage(`plain text`), EventType: "invoice.paid"},
		},
		{
			name:   "eventType is read-only",
			script: `function handler(w) { w.eventType = "x"; w.payload = {t: w.eventType}; return w }`,
			want:   Webhook{Method: "POST", URL: input.URL, Headers: input.Headers, Payload: json.RawMessage(`{"t":"invoice.paid"}`), EventType: "invoice.paid"},
		},
		{
			name:   "a payload that is not JSON is a string",
			script: `function handler(w) { w.payload = {raw: w.payload}; return w }`,
			in:     Webhook{URL: input.URL, Payload: json.RawMessage(`token=abc&team=T1`), EventType: "slack.command"},
			want:   Webhook{Method: "POST", URL: input.URL, Headers: map[string]string{}, Payload: json.RawMessage(`{"raw":"token=abc&team=T1"}`), EventType: "slack.command"},
		},
		{
			name:   "cancel",
			script: `function handler(w) { if (w.payload.amount > 100) { w.cancel = true } return w }`,
			want:   Webhook{Cancel: true, EventType: "invoice.paid"},
		},
		{name: "a thrown error, with its line", script: "function handler(w) {\n  var x = 1;\n  throw new Error(\"no amount for \" + w.payload.id);\n}", wantErr: KindRuntime, errLine: 3, errMsg: "Error: no amount for in_1"},
		{name: "a TypeError", script: "function handler(w) {\n  return w.payload.missing.field;\n}", wantErr: KindRuntime, errLine: 2, errMsg: "TypeError"},
		{name: "a thrown string", script: `function handler(w) { throw "plain" }`, wantErr: KindRuntime, errLine: 1, errMsg: "plain"},
		{name: "runaway loop", script: "function handler(w) {\n  for (var i = 0; ; i++) { w.payload = i }\n}", wantErr: KindTimeout, errLine: 2, errMsg: "time limit"},
		{name: "runaway recursion", script: "function f(n) { return f(n + 1) + 1 }\nfunction handler(w) { return f(0) }", wantErr: KindRuntime, errLine: 1, errMsg: "call stack"},
		{name: "returns nothing", script: `function handler(w) { w.payload = 1 }`, wantErr: KindOutput, errMsg: "returned nothing"},
		{name: "returns a number", script: `function handler(w) { return 42 }`, wantErr: KindOutput, errMsg: "must return an object"},
		{name: "no payload", script: `function handler(w) { return {url: w.url} }`, wantErr: KindOutput, errMsg: "payload is undefined"},
		{name: "a reserved header", script: `function handler(w) { w.headers["webhook-signature"] = "v1,forged"; return w }`, wantErr: KindOutput, errMsg: "reserved"},
		{name: "content-type is herald's", script: `function handler(w) { w.headers["Content-Type"] = "text/plain"; return w }`, wantErr: KindOutput, errMsg: "reserved"},
		{name: "a header that is not a string", script: `function handler(w) { w.headers["X-N"] = 5; return w }`, wantErr: KindOutput, errMsg: "must be a string"},
		{name: "a file URL", script: `function handler(w) { w.url = "file:///etc/passwd"; return w }`, wantErr: KindOutput, errMsg: "http or https"},
		{name: "a URL with credentials", script: `function handler(w) { w.url = "https://u:p@example.com/"; return w }`, wantErr: KindOutput, errMsg: "user:password"},
		{name: "a method herald does not send", script: `function handler(w) { w.method = "DELETE"; return w }`, wantErr: KindOutput, errMsg: "POST, PUT or PATCH"},
		{name: "a cyclic payload", script: "function handler(w) {\n  var a = {}; a.a = a; w.payload = a;\n  return w;\n}", wantErr: KindRuntime, errMsg: "TypeError"},
	}
	// A generous limit, so that a busy machine cannot time out the runs that should pass.
	sb := New(Config{Timeout: 500 * time.Millisecond})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := compile(t, sb, tt.script)
			if tt.in.URL == "" {
				tt.in = input
			}
			start := time.Now()
			got, err := s.Run(context.Background(), tt.in)
			if tt.wantErr != "" {
				e, ok := errors.AsType[*Error](err)
				if !ok {
					t.Fatalf("Run = %+v, %v; want a %s *Error", got, err, tt.wantErr)
				}
				if e.Kind != tt.wantErr || e.Line != tt.errLine || !strings.Contains(e.Message, tt.errMsg) {
					t.Errorf("error %#v (%v), want kind %s line %d message with %q", e, e, tt.wantErr, tt.errLine, tt.errMsg)
				}
				if took := time.Since(start); took > 2*time.Second {
					t.Errorf("the run took %s", took)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got.Method != tt.want.Method || got.URL != tt.want.URL || got.EventType != tt.want.EventType ||
				got.Cancel != tt.want.Cancel || string(got.Payload) != string(tt.want.Payload) || !sameHeaders(got.Headers, tt.want.Headers) {
				t.Errorf("Run =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func sameHeaders(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name     string
		script   string
		wantKind string
		wantLine int
		wantMsg  string
	}{
		{"syntax", "function handler(w) {\n  return w +;\n}", KindCompile, 2, "SyntaxError"},
		{"no handler", `function transform(w) { return w }`, KindCompile, 0, "define function handler"},
		{"handler not a function", `var handler = 3`, KindCompile, 0, "define function handler"},
		{"top level throws", "var x = null;\nx.y = 1;\nfunction handler(w) { return w }", KindCompile, 2, "TypeError"},
		{"top level never ends", "while (true) {}\nfunction handler(w) { return w }", KindTimeout, 1, "time limit"},
		{"too large", "function handler(w) { return w }\n//" + strings.Repeat("x", MaxScript), KindCompile, 0, "bytes long"},
	}
	sb := New(Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sb.Compile(context.Background(), tt.script)
			e, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("Compile: %v, want an *Error", err)
			}
			if e.Kind != tt.wantKind || e.Line != tt.wantLine || !strings.Contains(e.Message, tt.wantMsg) {
				t.Errorf("error %#v, want kind %s line %d message with %q", e, tt.wantKind, tt.wantLine, tt.wantMsg)
			}
		})
	}
}

// TestSandbox checks what a script cannot reach or build.
func TestSandbox(t *testing.T) {
	sb := New(Config{Timeout: slowMachine})
	probe := compile(t, sb, `function handler(w) {
		w.payload = {require: typeof require, fetch: typeof fetch, setTimeout: typeof setTimeout,
			console: typeof console, process: typeof process, ArrayBuffer: typeof ArrayBuffer,
			Uint8Array: typeof Uint8Array, XMLHttpRequest: typeof XMLHttpRequest};
		return w;
	}`)
	out, err := probe.Run(context.Background(), input)
	if err != nil {
		t.Fatal(err)
	}
	var seen map[string]string
	if err := json.Unmarshal(out.Payload, &seen); err != nil {
		t.Fatal(err)
	}
	for name, typ := range seen {
		if typ != "undefined" {
			t.Errorf("%s is %s in the sandbox, want undefined", name, typ)
		}
	}

	bounded := []struct{ name, expr string }{
		{"String repeat", `"x".repeat(1e8)`},
		{"padStart", `"x".padStart(1e8)`},
		{"padEnd", `"x".padEnd(1e8, "ab")`},
		{"Array constructor", `new Array(1e8)`},
		{"Array called", `Array(1e8)`},
		{"fill on a long array", `(function () { var a = []; a.length = 1e8; return a.fill(0) })()`},
		{"join on a long array", `(function () { var a = []; a.length = 1e8; return a.join(",") })()`},
		{"Array.from", `Array.from({length: 1e8})`},
	}
	for _, b := range bounded {
		t.Run(b.name, func(t *testing.T) {
			s := compile(t, sb, "function handler(w) {\n  w.payload = "+b.expr+";\n  return w;\n}")
			_, err := s.Run(context.Background(), input)
			e, ok := errors.AsType[*Error](err)
			if !ok || e.Kind != KindRuntime || !strings.Contains(e.Message, "RangeError") || e.Line != 2 {
				t.Errorf("%s: %v, want a RangeError at line 2", b.expr, err)
			}
		})
	}
	// Arrays and strings below the bound still work, including through the wrapped
	// constructor.
	ok := compile(t, sb, `function handler(w) {
		var a = new Array(3).fill(1); var b = Array.of(1, 2); var c = [1, 2, 3].map(function (x) { return x * 2 });
		w.payload = {a: a, b: b, c: c, isArray: Array.isArray(c), s: "ab".repeat(2), inst: c instanceof Array};
		return w;
	}`)
	out, err = ok.Run(context.Background(), input)
	if err != nil || string(out.Payload) != `{"a":[1,1,1],"b":[1,2],"c":[2,4,6],"isArray":true,"s":"abab","inst":true}` {
		t.Errorf("bounded built-ins below the bound: %s, %v", out.Payload, err)
	}
}

func TestSizeBounds(t *testing.T) {
	sb := New(Config{Timeout: slowMachine})
	id := compile(t, sb, `function handler(w) { return w }`)
	big := Webhook{URL: input.URL, Payload: json.RawMessage(`"` + strings.Repeat("x", MaxPayload) + `"`)}
	if _, err := id.Run(context.Background(), big); !isKind(err, KindInput) {
		t.Errorf("a payload over MaxPayload: %v, want an input error", err)
	}
	grow := compile(t, sb, `function handler(w) { w.payload = {s: "x".repeat(1048576) + "y"}; return w }`)
	if _, err := grow.Run(context.Background(), input); !isKind(err, KindOutput) {
		t.Errorf("an output over MaxPayload: %v, want an output error", err)
	}
}

func isKind(err error, kind string) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.Kind == kind
}

// TestRunawayDoesNotHarmOthers runs a script that never ends beside well-behaved ones:
// the runaway is stopped at the time limit and the others finish, correctly, meanwhile.
func TestRunawayDoesNotHarmOthers(t *testing.T) {
	sb := New(Config{Timeout: 50 * time.Millisecond})
	runaway := compile(t, sb, `function handler(w) { for (;;) { w.payload = {n: Math.random()} } }`)
	// The well-behaved script gets a longer limit only so that a busy test machine
	// cannot time it out; it runs in the same process, at the same time.
	good := compile(t, New(Config{Timeout: 2 * time.Second}), `function handler(w) { w.payload = {ok: w.payload.amount}; return w }`)

	var wg sync.WaitGroup
	runawayErr := make(chan error, 4)
	var (
		mu   sync.Mutex
		took time.Duration
	)
	for range 4 {
		wg.Go(func() {
			start := time.Now()
			_, err := runaway.Run(context.Background(), input)
			mu.Lock()
			took = max(took, time.Since(start))
			mu.Unlock()
			runawayErr <- err
		})
	}
	goodErrs := make(chan error, 200)
	for range 4 {
		wg.Go(func() {
			for range 50 {
				out, err := good.Run(context.Background(), input)
				if err == nil && string(out.Payload) != `{"ok":4200}` {
					err = errors.New("wrong payload " + string(out.Payload))
				}
				goodErrs <- err
			}
		})
	}
	wg.Wait()
	close(runawayErr)
	close(goodErrs)
	for err := range runawayErr {
		if !isKind(err, KindTimeout) {
			t.Errorf("runaway: %v, want a timeout", err)
		}
	}
	for err := range goodErrs {
		if err != nil {
			t.Errorf("a well-behaved run beside a runaway: %v", err)
		}
	}
	if took > time.Second {
		t.Errorf("a runaway took %s to stop; the limit is 50ms", took)
	}
	// The runaway script still runs (in a fresh runtime) and fails the same way.
	if _, err := runaway.Run(context.Background(), input); !isKind(err, KindTimeout) {
		t.Errorf("runaway again: %v", err)
	}
}

func TestContextCancelStopsARun(t *testing.T) {
	sb := New(Config{Timeout: time.Minute})
	s := compile(t, sb, `function handler(w) { while (true) {} }`)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := s.Run(ctx, input); !isKind(err, KindTimeout) || time.Since(start) > 5*time.Second {
		t.Errorf("Run with a cancelled context: %v after %s", err, time.Since(start))
	}
}

func TestCheckURLUsesTheGuard(t *testing.T) {
	guard := netguard.New(nil)
	sb := New(Config{Timeout: slowMachine, CheckURL: func(ctx context.Context, u string) error { return guard.CheckURL(ctx, u, nil) }})
	for _, u := range []string{"http://127.0.0.1:8080/", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/"} {
		s := compile(t, sb, `function handler(w) { w.url = "`+u+`"; return w }`)
		_, err := s.Run(context.Background(), input)
		if !isKind(err, KindOutput) || !strings.Contains(err.Error(), "blocked") && !strings.Contains(err.Error(), "range") {
			t.Errorf("url %s: %v, want the guard's refusal", u, err)
		}
	}
}

// TestTemplates sends each template's output to a fake receiver that checks the
// provider's required fields, as the provider would.
func TestTemplates(t *testing.T) {
	receivers := map[string]func(map[string]any) (int, string){
		// Slack answers 400 "no_text" without text, and rejects a section text over 3000.
		"slack": func(m map[string]any) (int, string) {
			text, _ := m["text"].(string)
			if text == "" {
				return 400, "no_text"
			}
			blocks, _ := m["blocks"].([]any)
			for _, b := range blocks {
				bt, _ := b.(map[string]any)["text"].(map[string]any)
				if s, _ := bt["text"].(string); len([]rune(s)) > 3000 || bt["type"] != "mrkdwn" {
					return 400, "invalid_blocks"
				}
			}
			return 200, "ok"
		},
		// Discord needs content (at most 2000 characters) or embeds.
		"discord": func(m map[string]any) (int, string) {
			content, _ := m["content"].(string)
			if content == "" || len([]rune(content)) > 2000 {
				return 400, `{"code": 50006, "message": "Cannot send an empty message"}`
			}
			return 204, ""
		},
		// Teams takes a MessageCard with its context and a summary or text.
		"teams": func(m map[string]any) (int, string) {
			if m["@type"] != "MessageCard" || !strings.Contains(m["@context"].(string), "schema.org/extensions") {
				return 400, "Bad payload received by generic incoming webhook."
			}
			if s, _ := m["summary"].(string); s == "" {
				if s, _ := m["text"].(string); s == "" {
					return 400, "Summary or Text is required."
				}
			}
			return 200, "1"
		},
	}
	payloads := []json.RawMessage{
		input.Payload,
		json.RawMessage(`{"big": "` + strings.Repeat("<é>", 4000) + `"}`), // cut to the provider's bounds
		json.RawMessage(`"not an object"`),
	}
	sb := New(Config{Timeout: slowMachine})
	for name, check := range receivers {
		tpl, ok := TemplateByName(name)
		if !ok {
			t.Fatalf("no template %q", name)
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var m map[string]any
			body, _ := io.ReadAll(r.Body)
			if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &m) != nil {
				http.Error(w, "invalid_payload", 400)
				return
			}
			code, msg := check(m)
			w.WriteHeader(code)
			io.WriteString(w, msg)
		}))
		s := compile(t, sb, tpl.Script)
		for _, p := range payloads {
			out, err := s.Run(context.Background(), Webhook{URL: srv.URL, Payload: p, EventType: "invoice.paid"})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			req, _ := http.NewRequest(out.Method, out.URL, bytes.NewReader(out.Payload))
			req.Header.Set("Content-Type", "application/json")
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				t.Errorf("%s refused the %s template's output (%d %s):\n%s", name, name, resp.StatusCode, msg, out.Payload)
			}
		}
		srv.Close()
	}
	if _, ok := TemplateByName("irc"); ok {
		t.Error("TemplateByName found an unknown template")
	}
}

func TestRuntimesAreReused(t *testing.T) {
	sb := New(Config{Timeout: slowMachine})
	// A global counter shows whether a runtime served the previous run.
	s := compile(t, sb, `var n = 0; function handler(w) { n++; if (w.payload.fail) throw new Error("x"); w.payload = {n: n}; return w }`)
	fail := Webhook{URL: input.URL, Payload: json.RawMessage(`{"fail": true}`)}
	ok := Webhook{URL: input.URL, Payload: json.RawMessage(`{}`)}
	if _, err := s.Run(context.Background(), ok); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(context.Background(), fail); !isKind(err, KindRuntime) {
		t.Fatal(err)
	}
	out, err := s.Run(context.Background(), ok)
	if err != nil || string(out.Payload) != `{"n":3}` {
		t.Errorf("third run on one runtime: %s %v, want n=3 (a thrown error keeps the runtime)", out.Payload, err)
	}
}

// slowMachine is the time limit of tests whose scripts must finish: long enough for a
// busy machine or the race detector (which slows goja ten times), so that only the
// tests of the limit itself use the 50 ms default.
const slowMachine = 5 * time.Second
