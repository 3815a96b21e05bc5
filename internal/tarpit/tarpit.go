// Package tarpit is a receiver that never answers: a TCP listener that accepts
// connections, reads and drops what they send, and holds them open until the sender
// gives up. The benchmark's hostile app and the engine's isolation tests point
// endpoints at one.
package tarpit

import (
	"io"
	"net"
	"sync"
)

// Listener is a tarpit on a TCP address.
type Listener struct {
	net.Listener
	mu       sync.Mutex
	conns    []net.Conn
	accepted int
	open     int
}

// Listen starts a tarpit on addr, such as 127.0.0.1:0.
func Listen(addr string) (*Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	l := &Listener{Listener: ln}
	go l.accept()
	return l, nil
}

func (l *Listener) accept() {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		l.conns = append(l.conns, conn)
		l.accepted++
		l.open++
		l.mu.Unlock()
		go func() {
			io.Copy(io.Discard, conn)
			l.mu.Lock()
			l.open--
			l.mu.Unlock()
		}()
	}
}

// Accepted returns how many connections it has accepted.
func (l *Listener) Accepted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.accepted
}

// Open returns how many of the connections it accepted the sender has not closed.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// Close stops accepting and closes every connection.
func (l *Listener) Close() error {
	err := l.Listener.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.Close()
	}
	l.conns = nil
	return err
}
