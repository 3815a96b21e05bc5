package main

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/heraldhq/herald/internal/bench"
)

// TestBenchOTLP runs a short herald bench --otlp: the started server traces every
// request and attempt and exports the spans to bench's sink, which must receive them.
func TestBenchOTLP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	_, _, stderr := benchJSON[bench.Report](t, "--messages", "300", "--otlp", "--raw-duration", "0", "--json")
	m := regexp.MustCompile(`OTLP sink: (\d+) export requests, ([0-9.]+) MB`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("stderr %q lacks the sink's report", stderr)
	}
	// 300 publishes and 300 attempts make 1,200 spans of a few hundred bytes each.
	if mb, _ := strconv.ParseFloat(m[2], 64); m[1] == "0" || mb < 0.1 {
		t.Fatalf("the sink got %s requests, %s MB: the server exported no spans", m[1], m[2])
	}
	if code, _, stderr := runCLI(t, "", "bench", "--otlp", "--server", "http://127.0.0.1:1", "--api-key", "hk_x"); code == 0 {
		t.Fatalf("--otlp with --server was accepted: %s", stderr)
	}
}
