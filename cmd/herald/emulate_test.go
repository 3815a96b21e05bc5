package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
)

// lockedBuffer is a bytes.Buffer safe for a command writing and a test reading.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestEmulateOpenAIUsage(t *testing.T) {
	code, out, _ := runCLI(t, "", "emulate", "openai", "--help")
	if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "--webhook-url") {
		t.Fatalf("--help: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "", "emulate")
	if code != 0 || !strings.Contains(out, "openai") {
		t.Fatalf("emulate: exit %d\n%s", code, out)
	}
	script := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(script, []byte(`{"rules": [{"match": "("}]}`), 0o600)
	for _, tc := range []struct {
		args     []string
		exit     int
		contains string
	}{
		{[]string{"--delay", "soon"}, 2, "--delay"},
		{[]string{"--delay", "5s..1s"}, 2, "--delay"},
		{[]string{"--batch-delay", "-1s"}, 2, "--batch-delay"},
		{[]string{"--webhook-url", "ftp://example.com"}, 2, "--webhook-url"},
		{[]string{"--retry-schedule", "never"}, 2, "--retry-schedule"},
		{[]string{"--allow-network", "10.0.0.0/99"}, 2, "--allow-network"},
		{[]string{"--log-level", "loud"}, 2, "--log-level"},
		{[]string{"--script", filepath.Join(t.TempDir(), "missing.json")}, 1, "script"},
		{[]string{"--script", script}, 1, "rule 1"},
		{[]string{"--addr", "127.0.0.1:0", "--herald-addr", "127.0.0.1:0", "--webhook-secret", "whsec_!!"}, 1, "secret"},
		{[]string{"--herald-server", "127.0.0.1:8080", "--api-key", "hk_x"}, 2, "--herald-server"},
		{[]string{"--herald-server", "http://127.0.0.1:8080", "--api-key", ""}, 2, "--api-key"},
		{[]string{"--herald-server", "http://127.0.0.1:8080", "--api-key", "hk_x", "--data-dir", "d"}, 2, "--data-dir configures the embedded herald"},
		{[]string{"extra"}, 2, "accepts 0 arg"},
		{[]string{"--nope"}, 2, "unknown flag"},
	} {
		code, _, stderr := runCLI(t, "", append([]string{"emulate", "openai"}, tc.args...)...)
		wantOneLineError(t, code, stderr, tc.contains)
		if code != tc.exit {
			t.Errorf("%v: exit %d, want %d", tc.args, code, tc.exit)
		}
	}
	code, _, stderr := runCLI(t, "", "emulate", "anthropic")
	wantOneLineError(t, code, stderr, "unknown command")
}

// TestEmulateOpenAI runs the command, points the SDK at the addresses it prints, and
// receives the webhook at the given URL, signed with the printed secret.
func TestEmulateOpenAI(t *testing.T) {
	got := make(chan *http.Request, 10)
	bodies := make(chan []byte, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- b
	}))
	defer hook.Close()

	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut lockedBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"emulate", "openai", "--addr", "127.0.0.1:0", "--herald-addr", "127.0.0.1:0",
			"--delay", "10ms", "--log-level", "warn", "--webhook-url", hook.URL + "/webhooks"}, strings.NewReader(""), &out, &errOut)
	}()
	var baseURL, secret, heraldURL, key string
	deadline := time.Now().Add(20 * time.Second)
	for baseURL == "" || secret == "" || heraldURL == "" {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no addresses printed:\n%s\n%s", out.String(), errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
		s := out.String()
		baseURL = find(s, `OPENAI_BASE_URL=(\S+)`)
		secret = find(s, `OPENAI_WEBHOOK_SECRET=(\S+)`)
		heraldURL = find(s, `HERALD_SERVER=(\S+)`)
		key = find(s, `HERALD_API_KEY=(\S+)`)
	}
	c := sdk.NewClient(option.WithBaseURL(baseURL), option.WithAPIKey("sk-anything"), option.WithWebhookSecret(secret))
	r, err := c.Responses.New(ctx, responses.ResponseNewParams{
		Model: "gpt-5-mini", Background: sdk.Bool(true), Input: responses.ResponseNewParamsInputUnion{OfString: sdk.String("hello")},
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case req := <-got:
		body := <-bodies
		ev, err := c.Webhooks.Unwrap(body, req.Header)
		if err != nil || ev.Type != "response.completed" || ev.Data.ID != r.ID || req.URL.Path != "/webhooks" {
			t.Fatalf("webhook %s: %v", body, err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no webhook")
	}
	// The herald CLI works against the embedded server with the printed key.
	code, listed, stderr := runCLI(t, "", "delivery", "list", "--app", "openai", "--server", heraldURL, "--api-key", key)
	if code != 0 || !strings.Contains(listed, "dlv_") {
		t.Errorf("delivery list: exit %d %s %s", code, listed, stderr)
	}
	cancel()
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the emulator did not stop")
	}
}

func find(s, pattern string) string {
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}
