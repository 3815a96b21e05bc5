package latencyproxy

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"syscall"
	"testing"
	"time"
)

// startEcho starts a TCP server on loopback that echoes what it reads on each
// connection and closes the connection when the client's stream ends.
func startEcho(t *testing.T) (addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				io.Copy(c, c)
				c.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// startProxy starts a proxy to target with delay, closed when t ends.
func startProxy(t *testing.T, target string, delay time.Duration) *Proxy {
	t.Helper()
	p, err := Start("127.0.0.1:0", target, delay)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// dial connects to the proxy; a read or write that waits more than a minute fails the
// test instead of hanging it.
func dial(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(time.Minute))
	return c
}

// TestRoundTripTakesTwiceTheDelay checks the lower bound, which holds however loaded
// the machine is: each request-answer round trip through the proxy crosses it twice.
func TestRoundTripTakesTwiceTheDelay(t *testing.T) {
	const delay = 15 * time.Millisecond
	target := startEcho(t)
	c := dial(t, startProxy(t, target, delay))
	buf := make([]byte, 5)
	for i := 0; i < 10; i++ {
		start := time.Now()
		if _, err := c.Write([]byte("ping" + string(rune('0'+i)))); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got < 2*delay {
			t.Fatalf("round trip %d took %v, want at least %v", i, got, 2*delay)
		}
		if want := "ping" + string(rune('0'+i)); string(buf) != want {
			t.Fatalf("round trip %d: got %q, want %q", i, buf, want)
		}
	}
}

// TestLargeTransferIntact sends megabytes both ways at once, in writes of varied sizes,
// and checks that every byte comes back in order.
func TestLargeTransferIntact(t *testing.T) {
	target := startEcho(t)
	c := dial(t, startProxy(t, target, time.Millisecond))
	sent := make([]byte, 8<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range sent {
		sent[i] = byte(rng.Uint32())
	}
	writeErr := make(chan error, 1)
	go func() {
		rest := sent
		for len(rest) > 0 {
			n := min(len(rest), 1+rng.IntN(100<<10))
			if _, err := c.Write(rest[:n]); err != nil {
				writeErr <- err
				return
			}
			rest = rest[n:]
		}
		writeErr <- c.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(c) // to the end: the echo server closes once our stream ended
	if err != nil {
		t.Fatalf("read after %d bytes: %v", len(got), err)
	}
	if err := <-writeErr; err != nil {
		t.Fatal(err)
	}
	if len(got) != len(sent) {
		t.Fatalf("got %d bytes back, sent %d", len(got), len(sent))
	}
	if i := firstDifference(got, sent); i >= 0 {
		t.Fatalf("byte %d differs: got %d, sent %d", i, got[i], sent[i])
	}
}

func firstDifference(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// connectThrough starts a proxy with delay to a plain TCP server on loopback and
// returns both ends of one connection through it, with a minute's deadline.
func connectThrough(t *testing.T, delay time.Duration) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client = dial(t, startProxy(t, ln.Addr().String(), delay))
	if server, err = ln.Accept(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	server.SetDeadline(time.Now().Add(time.Minute))
	return client, server
}

// TestClientCloseClosesServer checks that when the client closes its connection, the
// server's side ends too.
func TestClientCloseClosesServer(t *testing.T) {
	c, srv := connectThrough(t, 5*time.Millisecond)
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	got, err := io.ReadAll(srv) // returns at the end of the stream
	if err != nil {
		t.Fatalf("server read: %v", err)
	}
	if string(got) != "hello" {
		t.Errorf("server got %q, want hello", got)
	}
}

// TestServerCloseClosesClient checks that when the server closes its connection, the
// client's side ends too, after the bytes the server sent before.
func TestServerCloseClosesClient(t *testing.T) {
	c, srv := connectThrough(t, 5*time.Millisecond)
	if _, err := srv.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("client read: %v", err)
	}
	if string(got) != "bye" {
		t.Errorf("client got %q, want bye", got)
	}
}

// TestCloseEndsConnections checks that closing the proxy ends the connections it holds
// and refuses new ones.
func TestCloseEndsConnections(t *testing.T) {
	target := startEcho(t)
	p := startProxy(t, target, time.Millisecond)
	c := dial(t, p)
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil { // the echo: the proxy is connected
		t.Fatal(err)
	}
	if n := p.Forwarded(); n != 1 {
		t.Errorf("Forwarded() = %d, want 1", n)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(c); err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		t.Fatalf("client read after Close: %v", err)
	}
	if c2, err := net.Dial("tcp", p.Addr()); err == nil {
		c2.Close()
		t.Errorf("dial after Close succeeded")
	}
}

// TestUnreachableTarget checks that a client whose target refuses sees its connection
// end.
func TestUnreachableTarget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := ln.Addr().String()
	ln.Close() // nothing listens there now
	p := startProxy(t, target, time.Millisecond)
	c := dial(t, p)
	got, err := io.ReadAll(c)
	if err != nil && !isReset(err) {
		t.Fatalf("read: %v", err)
	}
	if len(got) > 0 {
		t.Errorf("got %q from nowhere", got)
	}
	if n := p.Forwarded(); n != 0 {
		t.Errorf("Forwarded() = %d, want 0", n)
	}
}

func TestNegativeDelay(t *testing.T) {
	if _, err := Start("127.0.0.1:0", "127.0.0.1:1", -time.Millisecond); err == nil {
		t.Fatal("Start with a negative delay succeeded")
	}
}

// isReset reports whether err is a connection reset by the peer.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET)
}
