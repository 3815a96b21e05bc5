package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/bench"
	"github.com/heraldhq/herald/internal/store/postgres/pgtest"
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

// TestBenchNodes runs herald bench with two nodes on one PostgreSQL database.
func TestBenchNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	url := pgtest.URL(t)
	t.Setenv("HERALD_TEST_MAIN", "1")
	code, out, stderr := runCLI(t, "", "bench", "--nodes", "2", "--database", url, "--messages", "1000", "--endpoints", "2", "--fanout", "1", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep bench.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output %q: %v", out, err)
	}
	if rep.Delivered != 1000 || rep.Lost != 0 || rep.BadSignatures != 0 || rep.ServerCPU <= 0 {
		t.Fatalf("report %s", out)
	}
	if n := strings.Count(stderr, "started herald serve"); n != 2 {
		t.Errorf("stderr %q: %d servers started, want 2", stderr, n)
	}
}

// TestBenchHostileEndpoints runs the tenant isolation scenario briefly: the report has
// the hanging app's requests and the baseline beside the run's own latencies.
func TestBenchHostileEndpoints(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	t.Setenv("HERALD_TEST_MAIN", "1")
	code, out, stderr := runCLI(t, "", "bench", "--messages", "200", "--hostile-endpoints", "2",
		"--hostile-messages", "20", "--hostile-timeout", "5s", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep bench.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output %q: %v", out, err)
	}
	if rep.Delivered != 200 || rep.Lost != 0 || rep.HostileEndpoints != 2 || rep.HostileInFlight == 0 || rep.Baseline == nil || rep.Baseline.P50 <= 0 {
		t.Fatalf("report %s", out)
	}
}
