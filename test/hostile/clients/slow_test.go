package clients_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/server"
)

// TestTricklersAreCut opens five times as many trickling connections as the server
// allows (half of them trickle their headers, half the body of a webhook to /in/{source}),
// with the header and body deadlines left at their defaults: health checks and publishes
// on new connections must still be answered within 2 seconds, and the server must cut
// the tricklers rather than hold them all.
func TestTricklersAreCut(t *testing.T) {
	const limit, tricklers = 200, 1000
	h := start(t, func(c *server.Config) { c.MaxConnections = limit })
	app := h.app(t)
	src := h.source(t, app, "github", "s3cret")

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var opened, cut atomic.Int64 // cut: refused, or closed by the server
	t.Cleanup(func() { cancel(); wg.Wait() })
	dials := make(chan struct{}, 64) // dials at once
	for i := range tricklers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dials <- struct{}{}
			c, err := net.DialTimeout("tcp", h.Addr, 5*time.Second)
			<-dials
			if err != nil {
				cut.Add(1) // refused: cut too
				return
			}
			defer c.Close()
			opened.Add(1)
			head := "POST /in/" + src + " HTTP/1.1\r\nHost: herald\r\n"
			if i%2 == 0 {
				head += "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
			}
			if _, err := io.WriteString(c, head); err != nil {
				cut.Add(1)
				return
			}
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(500 * time.Millisecond):
				}
				b := "x"
				if i%2 == 0 {
					b = " "
				}
				if _, err := io.WriteString(c, b); err != nil {
					cut.Add(1)
					return
				}
			}
		}()
	}
	// Once every trickler has reached the server, it holds at most limit of them: the
	// others were cut. (Until then they wait in the kernel's accept queue, ahead of
	// anyone else: that is a flood of connections, not a trickle.)
	deadline := time.Now().Add(20 * time.Second)
	for cut.Load() < tricklers-limit {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d trickling connections were cut in 20 s; want at least %d", cut.Load(), tricklers, tricklers-limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The connection budget is spent by tricklers, still sending: new connections take
	// their places.
	for i := range 3 {
		began := time.Now()
		if st, _, out := h.do(t, "GET", "/healthz", "", nil, nil); st != http.StatusOK {
			t.Fatalf("GET /healthz %d under attack: %d %s", i, st, out)
		}
		if st, out := h.publish(t, app, fmt.Sprintf(`{"n":%d}`, i)); st != http.StatusAccepted {
			t.Fatalf("publish %d under attack: %d %s", i, st, out)
		}
		if took := time.Since(began); took > 2*time.Second {
			t.Fatalf("a health check and a publish took %v under attack", took)
		}
	}
	if n := opened.Load() - cut.Load(); n > limit {
		t.Fatalf("%d trickling connections are still open; the limit is %d", n, limit)
	}
	st, _, metrics := h.do(t, "GET", "/metrics", "", nil, nil)
	if st != http.StatusOK || !bytes.Contains(metrics, []byte("herald_http_connections_shed_total")) {
		t.Fatalf("GET /metrics: %d, no herald_http_connections_shed_total", st)
	}
}

// TestDeadlines checks that a client that trickles its headers, or its body to the
// gateway or the API, is cut off at the configured deadline.
func TestDeadlines(t *testing.T) {
	h := start(t, func(c *server.Config) {
		c.HeaderTimeout = 300 * time.Millisecond
		c.BodyTimeout = 300 * time.Millisecond
	})
	app := h.app(t)
	src := h.source(t, app, "github", "s3cret")
	for _, tc := range []struct {
		name       string
		head, body string
		want       []int // acceptable statuses; 0 is a closed connection
	}{
		{"headers", "POST /in/" + src + " HTTP/1.1\nHost: herald\nContent-Type: application/json", "", []int{0, http.StatusRequestTimeout}},
		{"gateway body", "POST /in/" + src + " HTTP/1.1\nHost: herald\nContent-Length: 100\n", "{", []int{http.StatusRequestTimeout}},
		{"API body", "POST /v1/apps/" + app + "/messages HTTP/1.1\nHost: herald\nAuthorization: Bearer " + h.APIKey +
			"\nContent-Type: application/json\nContent-Length: 100\n", `{"type":`, []int{http.StatusBadRequest}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			began := time.Now()
			c := h.raw(t, tc.head, tc.body)
			st := readStatus(t, c, 3*time.Second)
			ok := false
			for _, w := range tc.want {
				ok = ok || st == w
			}
			if !ok {
				t.Fatalf("status %d, want one of %v", st, tc.want)
			}
			if took := time.Since(began); took > 2*time.Second {
				t.Fatalf("cut off after %v, want about 300ms", took)
			}
		})
	}
	if strings.Contains(h.logs.String(), "level=ERROR") {
		t.Fatalf("slow clients were logged as errors:\n%s", h.logs)
	}
}

// TestOversizedWebhook sends the gateway bodies over the source's limit: with
// Expect: 100-continue and a Content-Length over it, the client gets 413 before it sends
// the body (not a connection reset); chunked, it gets 413 once the limit is passed.
func TestOversizedWebhook(t *testing.T) {
	h := start(t, nil)
	app := h.app(t)
	src := h.source(t, app, "github", "s3cret")
	big := bytes.Repeat([]byte("x"), 8<<20)
	for _, tc := range []struct {
		name string
		req  func() *http.Request
	}{
		{"expect 100-continue", func() *http.Request {
			req, _ := http.NewRequest("POST", h.URL+"/in/"+src, bytes.NewReader(big))
			req.Header.Set("Expect", "100-continue")
			return req
		}},
		{"chunked", func() *http.Request {
			req, _ := http.NewRequest("POST", h.URL+"/in/"+src, io.MultiReader(bytes.NewReader(big)))
			req.ContentLength = -1
			return req
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req()
			req.Header.Set("Content-Type", "application/json")
			resp, err := fresh.Do(req)
			if err != nil && tc.name == "chunked" && errors.Is(err, syscall.ECONNRESET) {
				// A chunked body announces no size: the server refuses it once the limit is
				// read, and the client, still writing megabytes the server will not read,
				// may see the connection reset before it reads the 413.
				t.Logf("refused with a reset while writing: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413", resp.StatusCode)
			}
		})
	}
}

// TestPublishByteBudget holds a large batch publish half-sent and checks that another
// that does not fit the server's budget of publish bytes in flight is answered 503 with
// Retry-After, and is accepted once the first is done.
func TestPublishByteBudget(t *testing.T) {
	h := start(t, func(c *server.Config) { c.PublishBytesInFlight = 1 << 20 })
	app := h.app(t)
	batch := func() []byte {
		var b strings.Builder
		b.WriteString(`{"messages":[`)
		for i := range 4 {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"type":"test.big","payload":{"pad":%q}}`, strings.Repeat("x", 180<<10))
		}
		b.WriteString("]}")
		return []byte(b.String())
	}()
	path := "/v1/apps/" + app + "/messages/batch"
	head := fmt.Sprintf("POST %s HTTP/1.1\nHost: herald\nAuthorization: Bearer %s\nContent-Type: application/json\nContent-Length: %d\n", path, h.APIKey, len(batch))
	held := h.raw(t, head, string(batch[:1000]))

	deadline := time.Now().Add(5 * time.Second)
	for {
		st, hdr, out := h.do(t, "POST", path, h.APIKey, batch, nil)
		if st == http.StatusServiceUnavailable {
			if hdr.Get("Retry-After") == "" || errorCode(out) != "unavailable" {
				t.Fatalf("503 without Retry-After or code unavailable: %v %s", hdr, out)
			}
			break
		}
		if st != http.StatusAccepted {
			t.Fatalf("second batch: %d %s", st, out)
		}
		if time.Now().After(deadline) {
			t.Fatal("a second batch over the budget was still accepted after 5 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := held.Write(batch[1000:]); err != nil {
		t.Fatal(err)
	}
	if st := readStatus(t, held, 5*time.Second); st != http.StatusAccepted {
		t.Fatalf("the held batch: %d, want 202", st)
	}
	if st, _, out := h.do(t, "POST", path, h.APIKey, batch, nil); st != http.StatusAccepted {
		t.Fatalf("a batch after the budget was freed: %d %s", st, out)
	}
}

// TestUnreadableBody sends the API and the gateway malformed chunked bodies and bodies
// cut short by the client: they are 400, and nothing is logged as an error.
func TestUnreadableBody(t *testing.T) {
	h := start(t, nil)
	app := h.app(t)
	src := h.source(t, app, "github", "s3cret")
	api := "POST /v1/apps/" + app + "/messages HTTP/1.1\nHost: herald\nAuthorization: Bearer " + h.APIKey + "\nContent-Type: application/json\n"
	in := "POST /in/" + src + " HTTP/1.1\nHost: herald\nContent-Type: application/json\n"
	for _, tc := range []struct {
		name, head, body string
		abort            bool // close the writing side after the body
	}{
		{"API malformed chunk", api + "Transfer-Encoding: chunked\n", "zz\r\n{}\r\n0\r\n\r\n", false},
		{"gateway malformed chunk", in + "Transfer-Encoding: chunked\n", "zz\r\n{}\r\n0\r\n\r\n", false},
		{"API client abort", api + "Content-Length: 100\n", `{"type":"a`, true},
		{"gateway client abort", in + "Content-Length: 100\n", `{"type":"a`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.raw(t, tc.head, tc.body)
			if tc.abort {
				if err := c.(*net.TCPConn).CloseWrite(); err != nil {
					t.Fatal(err)
				}
			}
			if st := readStatus(t, c, 3*time.Second); st != http.StatusBadRequest && st != 0 {
				t.Fatalf("status %d, want 400 (or the connection closed)", st)
			}
		})
	}
	time.Sleep(100 * time.Millisecond) // the handlers' logging
	if strings.Contains(h.logs.String(), "level=ERROR") {
		t.Fatalf("unreadable bodies were logged as errors:\n%s", h.logs)
	}
}
