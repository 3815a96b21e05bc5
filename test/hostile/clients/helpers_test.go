// Package clients_test runs a whole herald server (server.New) on 127.0.0.1 and attacks
// it with slow, oversized and malformed clients over real TCP connections.
package clients_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/server"
	"github.com/heraldhq/herald/internal/server/servertest"
)

// herald is a server under test.
type herald struct {
	*servertest.Server
	logs *syncBuffer // what the server logged, at debug level and up
}

// start runs a herald server with cfg changed by mutate on a loopback port until the
// test ends.
func start(t *testing.T, mutate func(*server.Config)) *herald {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := servertest.StartLogging(t, log, mutate)
	return &herald{Server: srv, logs: logs}
}

// fresh is a client that opens a new connection for every request and gives up after
// 2 seconds: what a health checker or a publisher does while the server is under attack.
var fresh = &http.Client{
	Timeout:   2 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true, ExpectContinueTimeout: 5 * time.Second},
}

// do sends a request on a fresh connection, with the API key when key is not empty, and
// returns the status, headers and body; it fails the test if there is no answer.
func (h *herald) do(t *testing.T, method, path, key string, body []byte, hdr http.Header) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, h.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := fresh.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read the answer: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, out
}

// create POSTs v as JSON with the admin key and returns the new record's id.
func (h *herald) create(t *testing.T, path string, v any) string {
	t.Helper()
	b, _ := json.Marshal(v)
	st, _, out := h.do(t, "POST", path, h.APIKey, b, nil)
	if st != http.StatusCreated && st != http.StatusOK {
		t.Fatalf("POST %s: %d %s", path, st, out)
	}
	var rec struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(out, &rec); err != nil || rec.ID == "" {
		t.Fatalf("POST %s: no id in %s", path, out)
	}
	return rec.ID
}

// app creates an app and returns its id.
func (h *herald) app(t *testing.T) string {
	t.Helper()
	return h.create(t, "/v1/apps", map[string]string{"name": "hostile"})
}

// source creates a source of provider with secret in app and returns its id.
func (h *herald) source(t *testing.T, app, provider, secret string) string {
	t.Helper()
	return h.create(t, "/v1/apps/"+app+"/sources", map[string]string{"name": "in", "provider": provider, "secret": secret})
}

// publish publishes one message to app and returns the status and body.
func (h *herald) publish(t *testing.T, app, payload string) (int, []byte) {
	t.Helper()
	st, _, out := h.do(t, "POST", "/v1/apps/"+app+"/messages", h.APIKey, []byte(`{"type":"test.event","payload":`+payload+`}`), nil)
	return st, out
}

// errorCode returns the code of an error answer.
func errorCode(body []byte) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Error.Code
}

// rawRequest writes head (a request line and headers, without the blank line) and body
// on a new connection and returns the connection.
func (h *herald) raw(t *testing.T, head string, body string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", h.Addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, strings.ReplaceAll(head, "\n", "\r\n")+"\r\n"+body); err != nil {
		t.Fatal(err)
	}
	return c
}

// readStatus reads the status code of the answer on c, waiting up to wait; 0 when the
// connection closes without one.
func readStatus(t *testing.T, c net.Conn, wait time.Duration) int {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wait))
	var buf [64]byte
	n, err := io.ReadAtLeast(c, buf[:], len("HTTP/1.1 200"))
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("no answer in %v", wait)
		}
		return 0
	}
	var status int
	if _, err := fmt.Sscanf(string(buf[:n]), "HTTP/1.1 %d", &status); err != nil {
		t.Fatalf("not an HTTP answer: %q", buf[:n])
	}
	return status
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
