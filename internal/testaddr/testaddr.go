// Package testaddr gives tests a loopback address to start a server on, such
// as a herald process that takes its address as a flag.
package testaddr

import (
	"net"
	"testing"
)

// Free returns a loopback address nothing listens on (for the moment).
func Free(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
