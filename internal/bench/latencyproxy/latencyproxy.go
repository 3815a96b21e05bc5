// Package latencyproxy is a TCP proxy that delays every chunk of bytes by a fixed time
// in each direction, to put a simulated network hop between two programs on one machine
// (herald and its database, for herald bench).
//
// Chunks are delayed, not serialised: a chunk read at t is written at t+delay while
// reading goes on, so the proxy adds latency without limiting throughput, and chunks
// keep their order. When one side ends its stream, the proxy ends the other's the same
// delay later (a half-close); once both directions have ended, or a write fails, both
// connections are closed.
package latencyproxy

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

const (
	chunkSize = 32 << 10 // the most one read takes
	// inFlight is how many chunks a direction holds before it stops reading: with the
	// delay, it bounds both the memory (inFlight*chunkSize) and the throughput
	// (inFlight*chunkSize per delay) of a connection.
	inFlight    = 256
	dialTimeout = 10 * time.Second
)

// Proxy accepts TCP connections and forwards each to its target with a delay.
type Proxy struct {
	ln     net.Listener
	target string
	delay  time.Duration
	bufs   sync.Pool

	mu        sync.Mutex
	conns     map[net.Conn]struct{}
	forwarded int // connections to the target made
	closed    bool
	wg        sync.WaitGroup
}

// Start listens on addr (e.g. "127.0.0.1:0") and forwards every connection it accepts
// to target (host:port), delaying the bytes by delay in each direction.
func Start(addr, target string, delay time.Duration) (*Proxy, error) {
	if delay < 0 {
		return nil, fmt.Errorf("latencyproxy: delay %v: want 0 or more", delay)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("latencyproxy: listen: %w", err)
	}
	p := &Proxy{ln: ln, target: target, delay: delay, conns: make(map[net.Conn]struct{})}
	p.bufs.New = func() any { return new([chunkSize]byte) }
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the address the proxy listens on.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Forwarded returns how many connections the proxy has made to its target.
func (p *Proxy) Forwarded() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.forwarded
}

// Close stops accepting, closes every connection, and waits for their goroutines.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

// accept serves the listener until it is closed.
func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil { // out of file descriptors, say: try again shortly
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

// serve connects client to the target and forwards both ways until both are done.
func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	if !p.track(client) {
		return
	}
	defer p.untrack(client)
	server, err := net.DialTimeout("tcp", p.target, dialTimeout)
	if err != nil {
		return // the client sees its connection closed, as a refused one would be
	}
	if !p.track(server) {
		return
	}
	p.mu.Lock()
	p.forwarded++
	p.mu.Unlock()
	defer p.untrack(server)
	done := make(chan struct{})
	go func() {
		p.pipe(server, client)
		close(done)
	}()
	p.pipe(client, server)
	<-done
}

// track records c so that Close closes it, or closes it at once and returns false
// when the proxy is closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

// untrack closes c and forgets it.
func (p *Proxy) untrack(c net.Conn) {
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// chunk is bytes read from one side, to be written to the other at due; a chunk
// without bytes is the end of the stream.
type chunk struct {
	buf *[chunkSize]byte
	n   int
	due time.Time
}

// pipe copies src to dst, each chunk written p.delay after it was read, and ends dst's
// stream p.delay after src's ended. It returns when src has ended and every chunk has
// been written (or a write failed, which closes both).
func (p *Proxy) pipe(dst, src net.Conn) {
	chunks := make(chan chunk, inFlight)
	written := make(chan struct{})
	go func() {
		defer close(written)
		p.write(dst, src, chunks)
	}()
	for {
		buf := p.bufs.Get().(*[chunkSize]byte)
		n, err := src.Read(buf[:])
		if n > 0 {
			chunks <- chunk{buf: buf, n: n, due: time.Now().Add(p.delay)}
		} else {
			p.bufs.Put(buf)
		}
		if err != nil {
			break
		}
	}
	chunks <- chunk{due: time.Now().Add(p.delay)}
	close(chunks)
	<-written
}

// write writes the chunks to dst, each at its due time, and half-closes dst at the end
// of the stream. After a failed write it closes both connections, so that the reader
// ends, and discards the rest.
func (p *Proxy) write(dst, src net.Conn, chunks <-chan chunk) {
	failed := false
	for c := range chunks {
		if !failed {
			time.Sleep(time.Until(c.due))
		}
		if c.buf == nil {
			if !failed {
				closeWrite(dst)
			}
			continue
		}
		if !failed {
			if _, err := dst.Write(c.buf[:c.n]); err != nil {
				failed = true
				dst.Close()
				src.Close()
			}
		}
		p.bufs.Put(c.buf)
	}
}

// closeWrite ends c's outgoing stream, or closes c when it cannot half-close.
func closeWrite(c net.Conn) {
	if hc, ok := c.(interface{ CloseWrite() error }); ok {
		hc.CloseWrite()
		return
	}
	c.Close()
}
