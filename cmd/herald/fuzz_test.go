package main

import (
	"bytes"
	"testing"
)

// FuzzParseRawRequest checks that any input either fails cleanly or yields a body that is
// a suffix-free slice of what followed the blank line.
func FuzzParseRawRequest(f *testing.F) {
	f.Add([]byte("POST /webhooks HTTP/1.1\r\nContent-Length: 2\r\nwebhook-id: msg_1\r\n\r\n{}"))
	f.Add([]byte("POST / HTTP/1.1\nA: b\n\nbody"))
	f.Add([]byte("GET / HTTP/1.0\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		h, body, err := parseRawRequest(raw)
		if err != nil {
			return
		}
		if h == nil {
			t.Fatal("nil header without error")
		}
		if !bytes.Contains(raw, body) {
			t.Fatalf("body %q is not part of the input", body)
		}
	})
}
