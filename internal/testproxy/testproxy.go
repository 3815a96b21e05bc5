// Package testproxy is an HTTP CONNECT proxy on loopback that records what it was asked
// for, for tests of the egress proxy. It is for tests only.
package testproxy

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Proxy tunnels CONNECT requests to their targets and refuses other methods.
type Proxy struct {
	*httptest.Server
	mu      sync.Mutex
	targets []string // the host:port of each request, in arrival order
	auth    []string // its Proxy-Authorization
}

// New starts a proxy that stops when t ends.
func New(t testing.TB) *Proxy {
	p := &Proxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.targets = append(p.targets, r.Host)
	p.auth = append(p.auth, r.Header.Get("Proxy-Authorization"))
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

// Requests returns the targets the proxy was asked for and the Proxy-Authorization of
// each, in arrival order.
func (p *Proxy) Requests() (targets, auth []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.targets...), append([]string(nil), p.auth...)
}
