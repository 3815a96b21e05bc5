package relay

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/delivery"
)

// TestNewerSessionWins attaches two listeners with the same name: the newer one keeps the
// endpoint, and the older one stops with a PermanentError that says why instead of
// reconnecting and taking it back.
func TestNewerSessionWins(t *testing.T) {
	hub := NewHub(nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hub.Serve(w, r, Hello{EndpointID: "ep_1", AppID: "app_1", Name: r.URL.Query().Get("name"), Secret: "whsec_x"})
	}))
	defer srv.Close()
	defer hub.Close()

	type run struct {
		hellos chan Hello
		done   chan error
		cancel context.CancelFunc
	}
	start := func() *run {
		r := &run{hellos: make(chan Hello, 16), done: make(chan error, 1)}
		l, err := NewListener(ListenerOptions{
			Server: srv.URL, APIKey: "key", AppID: "app_1", Name: "laptop",
			Routes:  []Route{{Pattern: "*", URL: "http://127.0.0.1:1/hooks"}},
			OnHello: func(h Hello) { r.hellos <- h },
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		r.cancel = cancel
		go func() { r.done <- l.Run(ctx) }()
		select {
		case <-r.hellos:
		case <-time.After(5 * time.Second):
			t.Fatal("the listener was not attached")
		}
		return r
	}
	older := start()
	defer older.cancel()
	newer := start()
	defer newer.cancel()

	select {
	case err := <-older.done:
		var perm *PermanentError
		if !errors.As(err, &perm) {
			t.Fatalf("the older listener stopped with %v, want a *PermanentError", err)
		}
		for _, want := range []string{`"laptop"`, "taken over", "newer session"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("error %q is not one line", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the older listener did not stop")
	}

	// The newer one keeps the endpoint: it is not kicked off, and nothing reattaches.
	time.Sleep(1500 * time.Millisecond)
	select {
	case h := <-newer.hellos:
		t.Fatalf("the newer listener attached again (%+v): it was kicked off", h)
	case err := <-newer.done:
		t.Fatalf("the newer listener stopped: %v", err)
	default:
	}
	if !hub.Connected("ep_1") || hub.Count() != 1 {
		t.Errorf("Connected %v, Count %d; want the newer session alone", hub.Connected("ep_1"), hub.Count())
	}
	newer.cancel()
	if err := <-newer.done; err != nil {
		t.Errorf("the newer listener, cancelled: %v", err)
	}
}

// TestRouteMissIsAFailure delivers an event that no route of the listener takes: the
// hub reports an error, which the engine records as a failed attempt, not a success.
func TestRouteMissIsAFailure(t *testing.T) {
	hub := NewHub(nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hub.Serve(w, r, Hello{EndpointID: "ep_1", AppID: "app_1", Name: "laptop", Secret: "whsec_x"})
	}))
	defer srv.Close()
	defer hub.Close()
	out := &lockedBuilder{b: &strings.Builder{}}
	l, err := NewListener(ListenerOptions{
		Server: srv.URL, APIKey: "key", AppID: "app_1", Name: "laptop", JSON: true, Out: out,
		Routes: []Route{{Pattern: "invoice.*", URL: "http://127.0.0.1:1/hooks"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	for deadline := time.Now().Add(5 * time.Second); !hub.Connected("ep_1"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the listener was not attached")
		}
	}
	status, _, _, err := hub.Deliver(ctx, "ep_1", delivery.RelayDelivery{MessageID: "msg_1", EventType: "customer.created", Body: []byte(`{}`)})
	if err == nil || status != 0 || !strings.Contains(err.Error(), `no --forward route matches event type "customer.created"`) {
		t.Fatalf("Deliver = %d, %v; want an error saying no route matches", status, err)
	}
	cancel()
	<-done
	if line := out.String(); !strings.Contains(line, `"error":"herald listen: no --forward route matches`) || !strings.Contains(line, `"delivered":false`) {
		t.Errorf("event line %q", line)
	}
}

type lockedBuilder struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
