package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestReadyzWhileWritesFail checks that /readyz answers 503 while writes fail for want
// of storage, and 200 again once one succeeds.
func TestReadyzWhileWritesFail(t *testing.T) {
	c, srv := testServer(t, nil)
	readyz := func() int {
		resp, err := http.Get(strings.TrimSuffix(c.BaseURL(), "/") + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, s := range []struct{ observe, want int }{{0, 200}, {507, 503}, {400, 503}, {202, 200}} {
		if s.observe != 0 {
			srv.ObserveWrite(s.observe)
		}
		if got := readyz(); got != s.want {
			t.Fatalf("after a %d: /readyz %d, want %d", s.observe, got, s.want)
		}
	}
}
