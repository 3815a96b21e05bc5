package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/api/apitest"
	"github.com/heraldhq/herald/internal/relay"
	"github.com/heraldhq/herald/internal/testaddr"
	"github.com/heraldhq/herald/webhook"
)

// listenRun is `herald listen` running in-process.
type listenRun struct {
	out, err *lockedBuffer
	done     chan int
	cancel   context.CancelFunc
}

// startListen runs herald listen with args until the test ends (or stop).
func startListen(t *testing.T, args ...string) *listenRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &listenRun{out: &lockedBuffer{}, err: &lockedBuffer{}, done: make(chan int, 1), cancel: cancel}
	go func() { r.done <- run(ctx, append([]string{"listen"}, args...), strings.NewReader(""), r.out, r.err) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop ends the listener and returns its exit code.
func (r *listenRun) stop(t *testing.T) int {
	t.Helper()
	r.cancel()
	select {
	case code := <-r.done:
		r.done <- code
		return code
	case <-time.After(20 * time.Second):
		t.Fatal("herald listen did not stop")
		return -1
	}
}

// waitFor waits until the listener's stdout or stderr matches re, and returns the match.
func (r *listenRun) waitFor(t *testing.T, stream *lockedBuffer, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := rx.FindStringSubmatch(stream.String()); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("herald listen never printed %q; stdout:\n%s\nstderr:\n%s", re, r.out.String(), r.err.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// receiver is a local server that answers each path as told and records what arrived.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []*http.Request
	body [][]byte
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got, r.body = append(r.got, req), append(r.body, b)
		r.mu.Unlock()
		if req.URL.Path == "/missing" {
			http.Error(w, "404 page not found", http.StatusNotFound)
			return
		}
		fmt.Fprintf(w, `{"ok":true,"path":%q}`, req.URL.Path)
	}))
	t.Cleanup(r.Close)
	return r
}

// serverAndClient runs a whole herald server in-process and returns its URL, its admin
// key and a client with that key.
func serverAndClient(t *testing.T) (string, string, *client.Client) {
	t.Helper()
	url, key := inProcessServer(t)
	return url, key, client.New(url, key, apitest.HTTPClient(t))
}

// TestListenRefused checks that a listen the server refuses exits at once with status
// 1 and one line saying why, instead of retrying.
func TestListenRefused(t *testing.T) {
	url, key, c := serverAndClient(t)
	ctx := context.Background()
	a, _ := c.CreateApp(ctx, client.AppInput{Name: "a"})
	b, _ := c.CreateApp(ctx, client.AppInput{Name: "b"})
	if _, err := c.CreateSource(ctx, b.ID, client.SourceInput{UID: ptr("b-hooks"), Provider: "standard", Secret: webhook.NewHMACSecret().Reveal()}); err != nil {
		t.Fatal(err)
	}
	keyA, err := c.CreateAPIKey(ctx, a.ID, client.APIKeyInput{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := strings.Cut(key, "_")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown key", []string{"--api-key", other + "_unknownunknownunknownunknown", "--app", a.ID}, "unauthorized: unknown API key (HTTP 401)"},
		{"unknown app", []string{"--api-key", key, "--app", "nope"}, "not_found"},
		{"unknown source", []string{"--api-key", key, "--source", "no-such-source"}, "(HTTP 404)"},
		{"another app's source", []string{"--api-key", keyA.Key, "--source", "b-hooks"}, "forbidden"},
		{"one of two streams", []string{"--api-key", key, "--app", a.ID, "--app", "nope"}, `app "nope" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var out, errOut lockedBuffer
			code := run(ctx, append([]string{"listen", "--server", url, "--forward-to", "http://127.0.0.1:1/hooks"}, tt.args...), strings.NewReader(""), &out, &errOut)
			if ctx.Err() != nil {
				t.Fatalf("still retrying after 20 s; stderr:\n%s", errOut.String())
			}
			// One line says why; only a stream the server accepted may have said "connected" first.
			lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
			last, others := lines[len(lines)-1], lines[:len(lines)-1]
			for _, l := range others {
				if !strings.Contains(l, "connected: app "+a.ID) {
					t.Errorf("a line other than the error and a connection: %q", l)
				}
			}
			if code != 1 || !strings.HasPrefix(last, "herald: listen: ") || !strings.Contains(last, tt.want) || strings.Contains(errOut.String(), "retrying") {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and a last line with %q, no retries", code, errOut.String(), tt.want)
			}
			if b := a.ID; strings.Contains(errOut.String(), b) && tt.name == "another app's source" {
				t.Errorf("the refusal names an app: %s", errOut.String())
			}
		})
	}
}

// TestListenRetriesWhenUnreachable checks that a server that cannot be reached is
// retried with growing delays, and that each retry says so.
func TestListenRetriesWhenUnreachable(t *testing.T) {
	addr := testaddr.Free(t) // nothing listens there: connection refused
	l := startListen(t, "--server", "http://"+addr, "--api-key", "hk_whatever", "--app", "acme", "--forward-to", "http://127.0.0.1:1/hooks")
	l.waitFor(t, l.err, `cannot attach app acme: .*connection refused; retrying in 500ms \(attempt 1\)`)
	l.waitFor(t, l.err, `retrying in 1s \(attempt 2\)`)
	if code := l.stop(t); code != 0 {
		t.Errorf("stopped while retrying: exit %d, want 0", code)
	}
}

// jsonLines decodes the listener's JSON event lines.
func jsonLines(t *testing.T, s string) []relay.EventLine {
	t.Helper()
	var out []relay.EventLine
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		if line == "" {
			continue
		}
		var ev relay.EventLine
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("stdout line %q is not an event: %v", line, err)
		}
		out = append(out, ev)
	}
	return out
}

// TestListenTwoSources listens to two sources in one process, with --json: each
// source's webhooks reach the local server signed with its own listener's secret, and
// stdout has one JSON line per event with the local answer.
func TestListenTwoSources(t *testing.T) {
	url, key, c := serverAndClient(t)
	ctx := context.Background()
	app, _ := c.CreateApp(ctx, client.AppInput{Name: "two"})
	secrets := map[string]string{"stripe-live": webhook.NewHMACSecret().Reveal(), "github-main": webhook.NewHMACSecret().Reveal()}
	for uid, sec := range secrets {
		if _, err := c.CreateSource(ctx, app.ID, client.SourceInput{UID: ptr(uid), Provider: "standard", Secret: sec}); err != nil {
			t.Fatal(err)
		}
	}
	recv := newReceiver(t)
	l := startListen(t, "--server", url, "--api-key", key, "--name", "laptop", "--source", "stripe-live", "--source", "github-main",
		"--forward-to", recv.URL+"/hooks", "--json")
	l.waitFor(t, l.err, `Ready\.`)
	for _, uid := range []string{"stripe-live", "github-main"} {
		l.waitFor(t, l.err, `connected: source `+uid+` \(listener "laptop.`+uid+`", endpoint ep_`)
	}
	listenSecret := map[string]string{}
	for _, uid := range []string{"stripe-live", "github-main"} {
		listenSecret[uid] = l.waitFor(t, l.err, `Webhook signing secret of source `+uid+`: (whsec_\S+)`)[1]
	}
	if listenSecret["stripe-live"] == listenSecret["github-main"] {
		t.Fatal("two listeners with one secret")
	}

	for uid, sec := range secrets {
		s, _ := webhook.NewStandard(sec)
		body := []byte(`{"id":"evt_` + uid + `","type":"ping"}`)
		h, _ := s.Sign(webhook.Delivery{ID: "msg_" + uid}, body)
		h.Set("Content-Type", "application/json")
		req, _ := http.NewRequest(http.MethodPost, url+"/in/"+uid, strings.NewReader(string(body)))
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("POST /in/%s: %d", uid, resp.StatusCode)
		}
	}
	l.waitFor(t, l.out, `(?s)\n.*\n`) // two lines
	var events []relay.EventLine
	for deadline := time.Now().Add(20 * time.Second); len(events) < 2 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		events = jsonLines(t, l.out.String())
	}
	if len(events) != 2 {
		t.Fatalf("stdout has %d events, want 2:\n%s", len(events), l.out.String())
	}
	streams := map[string]bool{}
	for _, ev := range events {
		streams[ev.Stream] = true
		uid := strings.TrimPrefix(ev.Stream, "source ")
		if ev.Status != 200 || !ev.Delivered || ev.EventID != "evt_"+uid || ev.EventType != "ping" || ev.URL != recv.URL+"/hooks" ||
			ev.Body != `{"ok":true,"path":"/hooks"}` || ev.Truncated || !strings.HasPrefix(ev.MessageID, "msg_") || ev.Error != "" {
			t.Errorf("event line %+v", ev)
		}
	}
	if !streams["source stripe-live"] || !streams["source github-main"] {
		t.Errorf("events of streams %v", streams)
	}
	recv.mu.Lock()
	defer recv.mu.Unlock()
	if len(recv.got) != 2 {
		t.Fatalf("the receiver got %d requests", len(recv.got))
	}
	for i, req := range recv.got {
		var ev struct{ ID string }
		json.Unmarshal(recv.body[i], &ev)
		uid := strings.TrimPrefix(ev.ID, "evt_")
		v, _ := webhook.NewStandard(listenSecret[uid])
		if _, err := v.Verify(recv.body[i], req.Header); err != nil {
			t.Errorf("%s's webhook does not verify with its listener's secret: %v", uid, err)
		}
	}
}

// TestListenFailuresAreRecorded checks that a local answer 404, a refused connection
// and an event no route takes are recorded on the server as failed attempts, and that
// each event line shows the local answer.
func TestListenFailuresAreRecorded(t *testing.T) {
	url, key, c := serverAndClient(t)
	ctx := context.Background()
	app, _ := c.CreateApp(ctx, client.AppInput{Name: "fail", UID: "fail"})
	recv := newReceiver(t)
	l := startListen(t, "--server", url, "--api-key", key, "--name", "dev", "--app", "fail",
		"--forward", "gone.*="+recv.URL+"/missing", "--forward", "down.*=http://127.0.0.1:1/x", "--forward", "ok.*="+recv.URL+"/ok")
	l.waitFor(t, l.out, `Ready\.`)
	for _, typ := range []string{"gone.a", "down.a", "ok.a"} {
		if _, _, _, err := c.Publish(ctx, app.ID, client.MessageInput{Type: typ, Payload: json.RawMessage(`{"id":"` + typ + `"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	l.waitFor(t, l.out, `<-- 404 POST /missing \([\d.]+ms\) 404 page not found`)
	l.waitFor(t, l.out, `<-- failed: forward to http://127.0.0.1:1/x: .*connection refused`)
	l.waitFor(t, l.out, `<-- 200 POST /ok \([\d.]+ms\) \{"ok":true,"path":"/ok"\}`)

	eps, _, err := c.ListEndpoints(ctx, app.ID, client.ListParams{})
	if err != nil || len(eps) != 1 {
		t.Fatalf("endpoints %v, %v", eps, err)
	}
	want := map[string]string{"gone.a": "HTTP 404", "down.a": "connection refused", "ok.a": ""}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ds, _, err := c.ListDeliveries(ctx, app.ID, client.ListDeliveriesParams{EndpointID: eps[0].ID})
		if err != nil {
			t.Fatal(err)
		}
		done, bad := 0, ""
		for _, d := range ds {
			m, _ := c.GetMessage(ctx, app.ID, d.MessageID)
			as, _, _ := c.ListDeliveryAttempts(ctx, app.ID, d.ID, client.ListParams{})
			if len(as) == 0 {
				continue
			}
			done++
			a := as[len(as)-1]
			switch w := want[m.Type]; {
			case w == "" && (d.Status != client.DeliverySucceeded || a.Outcome != client.OutcomeSucceeded):
				bad += fmt.Sprintf("%s: %s/%s; ", m.Type, d.Status, a.Outcome)
			case w != "" && (d.Status == client.DeliverySucceeded || a.Outcome == client.OutcomeSucceeded || !strings.Contains(a.Error, w)):
				bad += fmt.Sprintf("%s: delivery %s, attempt %s %q, want a failed attempt with %q; ", m.Type, d.Status, a.Outcome, a.Error, w)
			}
		}
		if done == 3 {
			if bad != "" {
				t.Error(bad)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 3 deliveries attempted", done)
		}
	}
}

// TestListenPrintSecret checks that --print-secret prints the listener's secret alone
// and exits, creating the listener on first use, and reads it without disturbing a
// listener of the same name that is running.
func TestListenPrintSecret(t *testing.T) {
	url, key, c := serverAndClient(t)
	app, _ := c.CreateApp(context.Background(), client.AppInput{Name: "p", UID: "p"})
	args := []string{"listen", "--server", url, "--api-key", key, "--name", "ci", "--app", "p", "--forward-to", "http://127.0.0.1:1/x"}
	code, first, stderr := runCLI(t, "", append(args, "--print-secret")...)
	if code != 0 || !regexp.MustCompile(`^whsec_\S+\n$`).MatchString(first) {
		t.Fatalf("--print-secret (new listener): exit %d, out %q, stderr %q", code, first, stderr)
	}
	l := startListen(t, args[1:]...)
	got := l.waitFor(t, l.out, `Webhook signing secret: (whsec_\S+)`)[1]
	if got+"\n" != first {
		t.Fatalf("the listener signs with %s, --print-secret said %q", got, first)
	}
	code, again, stderr := runCLI(t, "", append(args, "--print-secret")...)
	if code != 0 || again != first {
		t.Fatalf("--print-secret (running listener): exit %d, out %q, stderr %q", code, again, stderr)
	}
	time.Sleep(300 * time.Millisecond)
	select {
	case code := <-l.done:
		t.Fatalf("the running listener stopped (exit %d): %s", code, l.err.String())
	default:
	}
	if strings.Contains(l.err.String(), "disconnected") {
		t.Errorf("the running listener was disturbed: %s", l.err.String())
	}
	_ = app
	// Several streams: one "STREAM<tab>SECRET" line each.
	code, out, stderr := runCLI(t, "", "listen", "--server", url, "--api-key", key, "--name", "ci", "--app", "p", "--app", app.ID+"x",
		"--forward-to", "http://127.0.0.1:1/x", "--print-secret")
	if code == 0 || !strings.Contains(stderr, "not_found") {
		t.Errorf("--print-secret with an unknown app: exit %d, out %q, stderr %q", code, out, stderr)
	}
}

func ptr[T any](v T) *T { return &v }
