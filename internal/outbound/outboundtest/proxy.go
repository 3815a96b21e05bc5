// Package outboundtest runs, for tests, what herald may reach receivers through: an
// HTTP CONNECT proxy on loopback.
package outboundtest

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Request is what a proxy was asked for.
type Request struct {
	Target string // the CONNECT target, host:port
	Auth   string // the Proxy-Authorization header
}

// Proxy is an HTTP CONNECT proxy on loopback that records every request it gets and
// tunnels those for CONNECT.
type Proxy struct {
	*httptest.Server
	mu    sync.Mutex
	asked []Request
}

// NewProxy starts a proxy that stops when t ends.
func NewProxy(t testing.TB) *Proxy {
	p := &Proxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

// Requests returns what the proxy was asked for so far, oldest first.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.asked...)
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.asked = append(p.asked, Request{Target: r.Host, Auth: r.Header.Get("Proxy-Authorization")})
	p.mu.Unlock()
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	up, err := net.Dial("tcp", r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusOK)
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		up.Close()
		return
	}
	go func() { io.Copy(up, buf); up.Close() }()
	io.Copy(conn, up)
	conn.Close()
}
