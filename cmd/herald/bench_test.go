package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/bench"
)

// TestBenchSmoke runs a short herald bench against a server it starts (this test binary,
// acting as herald), so the harness keeps working.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	t.Setenv("HERALD_TEST_MAIN", "1") // the child process is this binary running main()
	code, out, stderr := runCLI(t, "", "bench", "--messages", "2000", "--endpoints", "2", "--fail-rate", "0.05", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep bench.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output %q: %v", out, err)
	}
	if rep.Delivered != 4000 || rep.ExpectedDeliveries != 4000 || rep.Lost != 0 || rep.BadSignatures != 0 || rep.Retries == 0 {
		t.Fatalf("report %s", out)
	}
	if rep.ServerCPU <= 0 {
		t.Errorf("no server CPU measured: %s", out)
	}
	if !strings.Contains(stderr, "started herald serve") {
		t.Errorf("stderr %q lacks the server start line", stderr)
	}
}
