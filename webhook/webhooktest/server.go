package webhooktest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/heraldhq/herald/webhook"
)

// NewRequest returns an incoming POST request for target with body, signed by p as its
// sender would sign delivery d (a zero d gets a fresh id and the current time), for
// passing to an http.Handler under test. It panics if p cannot sign, as
// httptest.NewRequest panics on bad input.
func NewRequest(p webhook.Provider, d webhook.Delivery, target string, body []byte) *http.Request {
	h, err := p.Sign(d, body)
	if err != nil {
		panic(fmt.Sprintf("webhooktest: sign: %v", err))
	}
	r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	for k, v := range h {
		r.Header[k] = v
	}
	return r
}

// Server is a webhook receiver on a loopback address: a webhook.Handler with the given
// verifier that records every event it accepts. Close it when done.
type Server struct {
	*httptest.Server // URL is where to deliver

	mu     sync.Mutex
	events []*webhook.Event
	added  chan struct{} // closed and replaced on every new event
}

// NewServer starts a Server that verifies deliveries with v; opts configure its
// webhook.Handler (WithDedupeStore(nil) records retries of one delivery too).
func NewServer(v webhook.Verifier, opts ...webhook.HandlerOption) *Server {
	s := &Server{added: make(chan struct{})}
	h := webhook.NewHandler(v, opts...).On("*", func(_ context.Context, e *webhook.Event) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.events = append(s.events, e)
		close(s.added)
		s.added = make(chan struct{})
		return nil
	})
	s.Server = httptest.NewServer(h)
	return s
}

// Events returns the events accepted so far, in arrival order.
func (s *Server) Events() []*webhook.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*webhook.Event(nil), s.events...)
}

// Wait waits until at least n events were accepted, or timeout passed, and returns the
// events accepted so far; the error says how many arrived if fewer than n did.
func (s *Server) Wait(n int, timeout time.Duration) ([]*webhook.Event, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		events, added := append([]*webhook.Event(nil), s.events...), s.added
		s.mu.Unlock()
		if len(events) >= n {
			return events, nil
		}
		select {
		case <-added:
		case <-deadline.C:
			return events, fmt.Errorf("webhooktest: %d of %d events after %v", len(events), n, timeout)
		}
	}
}
