package main

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/bench"
	"github.com/heraldhq/herald/internal/store/postgres/pgtest"
)

// benchJSON runs herald bench with args (which ask for --json), any server it starts
// being this test binary acting as herald, and returns its report decoded into R, its
// output and its stderr. It fails t unless bench exits 0 with such a report.
func benchJSON[R any](t *testing.T, args ...string) (rep R, out, stderr string) {
	t.Helper()
	t.Setenv("HERALD_TEST_MAIN", "1") // the child process is this binary running main()
	code, out, stderr := runCLI(t, "", append([]string{"bench"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output %q: %v", out, err)
	}
	return rep, out, stderr
}

// TestBenchSmoke runs a short herald bench against a server it starts (this test binary,
// acting as herald), so the harness keeps working.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	rep, out, stderr := benchJSON[bench.Report](t, "--messages", "2000", "--endpoints", "2", "--fail-rate", "0.05", "--raw-duration", "300ms", "--json")
	if rep.Delivered != 4000 || rep.ExpectedDeliveries != 4000 || rep.Lost != 0 || rep.BadSignatures != 0 || rep.Retries == 0 {
		t.Fatalf("report %s", out)
	}
	if rep.ServerCPU <= 0 {
		t.Errorf("no server CPU measured: %s", out)
	}
	if rep.RawHTTPPerSec <= 0 || rep.PublishPerRaw <= 0 || rep.DeliveriesPerRaw <= 0 {
		t.Errorf("no raw HTTP baseline or shares of it: %s", out)
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
	rep, out, stderr := benchJSON[bench.Report](t, "--nodes", "2", "--database", url, "--messages", "1000", "--endpoints", "2", "--fanout", "1", "--raw-duration", "0", "--json")
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
	rep, out, _ := benchJSON[bench.Report](t, "--messages", "200", "--hostile-endpoints", "2",
		"--hostile-messages", "20", "--hostile-timeout", "5s", "--raw-duration", "0", "--json")
	if rep.Delivered != 200 || rep.Lost != 0 || rep.HostileEndpoints != 2 || rep.HostileInFlight == 0 || rep.Baseline == nil || rep.Baseline.P50 <= 0 {
		t.Fatalf("report %s", out)
	}
}

// TestBenchDatabaseLatency runs herald bench with one node reaching PostgreSQL through
// the latency proxy: the node's connections must go through it.
func TestBenchDatabaseLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	url := pgtest.URL(t)
	rep, out, stderr := benchJSON[bench.Report](t, "--database", url, "--database-latency", "1ms", "--messages", "200", "--raw-duration", "0", "--json")
	if rep.Delivered != 200 || rep.Lost != 0 || rep.FirstAttempt.P50 <= 0 || rep.FirstAttempt.P99 <= 0 {
		t.Fatalf("report %s", out)
	}
	m := regexp.MustCompile(`database latency proxy: (\d+) connections forwarded`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("stderr %q lacks the proxy's report", stderr)
	}
	if n, _ := strconv.Atoi(m[1]); n == 0 {
		t.Fatalf("stderr %q: no connection went through the proxy", stderr)
	}
}

// TestBenchRawOnly measures only the raw HTTP baseline.
func TestBenchRawOnly(t *testing.T) {
	raw, out, _ := benchJSON[bench.RawResult](t, "--raw-only", "--raw-duration", "200ms", "--concurrency", "4", "--json")
	if raw.PerSecond <= 0 || raw.Requests <= 0 || raw.Concurrency != 4 || raw.BodySize != 1024 {
		t.Fatalf("raw baseline %s", out)
	}
	code, out, stderr := runCLI(t, "", "bench", "--raw-only", "--raw-duration", "100ms")
	if code != 0 || !strings.Contains(out, "POST/s") {
		t.Fatalf("exit %d, table %q: %s", code, out, stderr)
	}
}

// TestBenchIngestRaw runs a short ingest benchmark: its report gives the accepted
// rate's share of the raw HTTP baseline.
func TestBenchIngestRaw(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	rep, out, _ := benchJSON[bench.IngestReport](t, "--ingest", "300", "--raw-duration", "200ms", "--json")
	if rep.Accepted != 300 || rep.RawHTTPPerSec <= 0 || rep.AcceptedPerRaw <= 0 {
		t.Fatalf("report %s", out)
	}
}

// TestBenchFlagsRawAndLatency checks the usage errors of the new flags, before
// anything starts.
func TestBenchFlagsRawAndLatency(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--database-latency", "1ms"},
		{"bench", "--database", "bench.db", "--database-latency", "1ms"},
		{"bench", "--database", "postgres://u@127.0.0.1/db", "--database-latency", "-1ms"},
		{"bench", "--raw-only", "--raw-duration", "0"},
		{"bench", "--raw-duration", "-1s"},
	} {
		code, _, stderr := runCLI(t, "", args...)
		if code == 0 {
			t.Errorf("%q was accepted", args)
			continue
		}
		if !strings.Contains(stderr, "--database-latency") && !strings.Contains(stderr, "--raw-duration") {
			t.Errorf("%q: stderr %q names neither flag", args, stderr)
		}
	}
}
