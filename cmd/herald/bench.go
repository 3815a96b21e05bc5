package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/api"
	"github.com/heraldhq/herald/internal/bench"
	"github.com/heraldhq/herald/internal/store/postgres"
	"github.com/spf13/cobra"
)

// benchFlags holds the values of herald bench's flags.
type benchFlags struct {
	o         bench.Options
	asJSON    bool
	serveArgs []string
	keepData  bool
	ingestN   int
	ingestVia string
	ingestTo  int
	nodes     int
	database  string
	otlp      bool
	// the raw HTTP baseline's duration (0: none), and whether it is all that runs
	rawDuration time.Duration
	rawOnly     bool
	dbLatency   time.Duration // added each way between the nodes and --database
}

func newBenchCmd() *cobra.Command {
	var fl benchFlags
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure webhook throughput and latency on this machine",
		Long: `Measure how many webhooks per second herald delivers, at what latency, on this
machine. herald bench starts a herald server (or uses --server), starts its own
receiver on loopback that verifies every signature, creates an app with
--endpoints endpoints, publishes --messages events of --payload-size bytes (as
fast as possible, or at --rate per second), and waits for every delivery.

It prints a live progress line, then a table (or --json): publish and delivery
throughput, latency from the publish request to the first attempt and to the
successful delivery (p50, p90, p99, max), retries, duplicates, lost deliveries,
and the server's CPU seconds and peak RSS (when it started the server itself).
It exits 1 if any delivery is lost or any signature fails to verify.

The server it starts uses a temporary data directory, allows loopback delivery,
and retries after 1 s, 2 s, 5 s and 10 s so that --fail-rate runs finish quickly.

With --hostile-endpoints N it measures tenant isolation: it runs the benchmark once
alone, then again next to another app whose N endpoints accept connections and never
answer (timeout --hostile-timeout), after publishing --hostile-messages to it, and
prints the delivery latency of both runs.

With --database postgres://... it starts --nodes servers on that database instead
(they share an admin key, and $HERALD_ENCRYPTION_KEY or a new encryption key, which a
database keeps from its first use: give each new key a new database), publishes to
them in turn, and reports their CPU seconds and peak RSS summed. The database's own
CPU is not included.

With --otlp the server it starts traces every request and attempt
(OTEL_TRACES_SAMPLER=always_on) and exports its spans and metrics over OTLP/HTTP to
a loopback sink in bench, which counts what it receives: compare with a run without
--otlp to see what tracing costs.

With --database-latency D (and --database postgres://...) bench starts a TCP proxy on
127.0.0.1 that delays every chunk of bytes by D in each direction between the nodes
and the database (a round trip gains 2D, as with a database in another zone), and
gives the nodes its address instead of the database's.

Before starting any server, bench measures a raw HTTP baseline for --raw-duration: a
plain net/http client and server on loopback, 1 KB POST bodies over keep-alive
connections, --concurrency at once, the server reading each body and answering 204,
nothing stored. The report gives its rate and every throughput as a share of it, so
that runs on machines of different speeds (or one machine on a busy day) compare.
--raw-only measures and prints only the baseline.`,
		Example: `  herald bench --messages 100000
  herald bench --messages 20000 --rate 2000
  herald bench --messages 100000 --batch 100
  herald bench --endpoints 10 --fanout 10 --messages 10000
  herald bench --messages 20000 --fail-rate 0.1 --json
  herald bench --messages 5000 --rate 500 --hostile-endpoints 9
  herald bench --server http://127.0.0.1:8080 --api-key hk_... --messages 5000
  herald bench --ingest 50000
  herald bench --messages 30000 --otlp
  herald bench --nodes 2 --database postgres://herald:secret@127.0.0.1:5432/bench --endpoints 10 --fanout 1
  herald bench --database postgres://herald:secret@127.0.0.1:5432/bench --database-latency 1.35ms --messages 20000
  herald bench --raw-only`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fl.run(cmd)
		},
	}
	fl.register(cmd)
	return cmd
}

// register defines herald bench's flags on cmd.
func (fl *benchFlags) register(cmd *cobra.Command) {
	o := &fl.o
	f := cmd.Flags()
	f.StringVar(&o.Server, "server", "", "benchmark this running herald instead of starting one")
	f.StringVar(&o.APIKey, "api-key", "", "admin API key for --server [$HERALD_API_KEY]")
	f.IntVar(&o.Endpoints, "endpoints", 1, "endpoints to create")
	f.IntVar(&o.Fanout, "fanout", 0, "endpoints each message goes to (default: all)")
	f.IntVar(&o.Messages, "messages", 10000, "messages to publish")
	f.IntVar(&o.PayloadSize, "payload-size", 1024, "payload size in bytes")
	f.Float64Var(&o.Rate, "rate", 0, "messages per second (0: as fast as possible)")
	f.IntVar(&o.Concurrency, "concurrency", 64, "concurrent publish requests")
	f.IntVar(&o.Batch, "batch", 0, "publish this many messages per request (the batch publish API)")
	f.Float64Var(&o.FailRate, "fail-rate", 0, "share of first attempts the receiver answers with 500 (0..1)")
	f.DurationVar(&o.ReceiverLatency, "receiver-latency", 0, "how long the receiver takes to answer")
	f.DurationVar(&o.Wait, "wait", 2*time.Minute, "how long to wait for the last deliveries after publishing")
	f.IntVar(&o.HostileEndpoints, "hostile-endpoints", 0, "also give another app this many endpoints that accept connections and never answer, and compare with a run without them")
	f.IntVar(&o.HostileMessages, "hostile-messages", 200, "with --hostile-endpoints: messages published to the hanging app first")
	f.DurationVar(&o.HostileTimeout, "hostile-timeout", 2*time.Minute, "with --hostile-endpoints: the hanging endpoints' timeout")
	f.BoolVar(&fl.asJSON, "json", false, "print the report as JSON")
	f.StringArrayVar(&fl.serveArgs, "serve-arg", nil, "extra flag for the server bench starts, e.g. --serve-arg=--synchronous=NORMAL (repeatable)")
	f.BoolVar(&fl.keepData, "keep-data", false, "keep the started server's data directory")
	f.IntVar(&fl.nodes, "nodes", 1, "start this many herald nodes on --database and publish to them in turn")
	f.StringVar(&fl.database, "database", "", "the database the started nodes use: a SQLite file (one node) or postgres://... (default: a new SQLite database)")
	f.IntVar(&fl.ingestN, "ingest", 0, "instead, measure the receiving gateway: POST this many signed webhooks to a source")
	f.StringVar(&fl.ingestVia, "ingest-provider", "openai", "with --ingest: the provider whose signatures are sent")
	f.IntVar(&fl.ingestTo, "ingest-destinations", 0, "with --ingest: endpoints the webhooks are forwarded to (0: store only)")
	f.DurationVar(&fl.rawDuration, "raw-duration", 3*time.Second, "measure the raw HTTP baseline for this long before the run (0: skip it)")
	f.BoolVar(&fl.rawOnly, "raw-only", false, "measure and print only the raw HTTP baseline")
	f.DurationVar(&fl.dbLatency, "database-latency", 0, "with --database postgres://...: delay the bytes between the nodes and the database by this much each way, through a proxy on loopback")
	f.BoolVar(&fl.otlp, "otlp", false, "trace every request and attempt of the started server (OTEL_TRACES_SAMPLER=always_on), exporting spans and metrics to a loopback OTLP sink")
}

// run checks the flags, measures the raw HTTP baseline, starts the servers unless
// --server is given, and runs the ingest or the delivery benchmark.
func (fl *benchFlags) run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	if err := fl.check(cmd); err != nil {
		return err
	}
	raw, err := fl.runRaw(ctx, cmd)
	if err != nil {
		return err
	}
	if fl.rawOnly {
		return fl.printRaw(cmd, raw)
	}
	stop, err := fl.setServer(ctx, cmd)
	if err != nil {
		return err
	}
	defer stop()
	if fl.ingestN > 0 {
		return fl.runIngest(ctx, cmd, raw)
	}
	return fl.runDelivery(ctx, cmd, raw)
}

// check reports a usage error for flags that do not go together.
func (fl *benchFlags) check(cmd *cobra.Command) error {
	switch {
	case fl.nodes < 1:
		return usageError{err: fmt.Errorf("--nodes %d: want at least 1", fl.nodes), cmd: cmd}
	case fl.o.Server != "" && (fl.nodes != 1 || fl.database != ""):
		return usageError{err: fmt.Errorf("--nodes and --database start servers; they do not go with --server"), cmd: cmd}
	case fl.nodes > 1 && !postgres.IsURL(fl.database):
		return usageError{err: fmt.Errorf("--nodes %d: several nodes share a PostgreSQL database: give --database a postgres:// URL", fl.nodes), cmd: cmd}
	case fl.otlp && (fl.o.Server != "" || fl.database != ""):
		return usageError{err: fmt.Errorf("--otlp traces the one server bench starts: it does not go with --server or --database"), cmd: cmd}
	case fl.rawDuration < 0 || fl.rawOnly && fl.rawDuration == 0:
		return usageError{err: fmt.Errorf("--raw-duration %v: want more than 0 with --raw-only, 0 or more without", fl.rawDuration), cmd: cmd}
	case fl.dbLatency < 0:
		return usageError{err: fmt.Errorf("--database-latency %v: want 0 or more", fl.dbLatency), cmd: cmd}
	case fl.dbLatency > 0 && !postgres.IsURL(fl.database):
		return usageError{err: fmt.Errorf("--database-latency delays the way to a PostgreSQL server: give --database a postgres:// URL"), cmd: cmd}
	}
	return nil
}

// setServer fills in the server URLs, API key and server stats of the options: it
// starts a cluster on --database, or one server, or takes the key for --server from
// $HERALD_API_KEY; the returned function stops what it started.
func (fl *benchFlags) setServer(ctx context.Context, cmd *cobra.Command) (stop func(), err error) {
	o := &fl.o
	switch {
	case o.Server == "" && fl.database != "":
		database, stopProxy, err := fl.databaseURL(cmd.ErrOrStderr())
		if err != nil {
			return nil, err
		}
		c, err := startBenchCluster(ctx, fl.nodes, database, fl.serveArgs, fl.keepData, cmd.ErrOrStderr())
		if err != nil {
			stopProxy()
			return nil, err
		}
		urls := c.urls()
		o.Server, o.Servers, o.APIKey, o.ServerStats = urls[0], urls[1:], c.key, c.stats
		return func() { c.stop(); stopProxy() }, nil
	case o.Server == "" && fl.otlp:
		sink, err := startOTLPSink()
		if err != nil {
			return nil, err
		}
		key, _, _ := api.NewAPIKey()
		srv, err := startBenchServerWith(ctx, fl.serveArgs, fl.keepData, cmd.ErrOrStderr(), key, sink.env())
		if err != nil {
			sink.close(io.Discard)
			return nil, err
		}
		o.Server, o.APIKey, o.ServerStats = srv.url, srv.key, srv.stats
		return func() { srv.stop(); sink.close(cmd.ErrOrStderr()) }, nil
	case o.Server == "":
		srv, err := startBenchServer(ctx, fl.serveArgs, fl.keepData, cmd.ErrOrStderr())
		if err != nil {
			return nil, err
		}
		o.Server, o.APIKey, o.ServerStats = srv.url, srv.key, srv.stats
		return srv.stop, nil
	case o.APIKey == "":
		o.APIKey = os.Getenv("HERALD_API_KEY")
		if o.APIKey == "" {
			return nil, usageError{err: fmt.Errorf("--api-key (or $HERALD_API_KEY) is required with --server"), cmd: cmd}
		}
	}
	return func() {}, nil
}

// runIngest runs the receiving gateway benchmark and prints its report.
func (fl *benchFlags) runIngest(ctx context.Context, cmd *cobra.Command, raw *bench.RawResult) error {
	o := &fl.o
	rep, err := bench.RunIngest(ctx, bench.IngestOptions{
		Server: o.Server, APIKey: o.APIKey, Requests: fl.ingestN, Concurrency: o.Concurrency, PayloadSize: o.PayloadSize,
		Provider: fl.ingestVia, Destinations: fl.ingestTo, ServerStats: o.ServerStats,
	})
	if err != nil {
		return err
	}
	rep.SetRaw(raw)
	if fl.asJSON {
		return writeJSON(cmd.OutOrStdout(), rep)
	}
	rep.WriteTable(cmd.OutOrStdout())
	if rep.Errors > 0 {
		return fmt.Errorf("bench failed: %d webhooks were not accepted (%s)", rep.Errors, rep.FirstErrorText)
	}
	return nil
}

// runDelivery runs the delivery benchmark, first without the hanging app when
// --hostile-endpoints is given, and prints its report with the raw HTTP baseline.
func (fl *benchFlags) runDelivery(ctx context.Context, cmd *cobra.Command, raw *bench.RawResult) error {
	o := &fl.o
	o.Progress = cmd.ErrOrStderr()
	var baseline *bench.Report
	if o.HostileEndpoints > 0 { // the same run without the hanging app, to compare
		base := *o
		base.HostileEndpoints = 0
		fmt.Fprintln(o.Progress, "baseline run, without the hanging app:")
		var err error
		if baseline, err = bench.Run(ctx, base); err != nil {
			return err
		}
		fmt.Fprintf(o.Progress, "run next to an app with %d endpoints that never answer:\n", o.HostileEndpoints)
	}
	rep, err := bench.Run(ctx, *o)
	if err != nil {
		return err
	}
	if baseline != nil {
		rep.Baseline = &baseline.Delivery
	}
	rep.SetRaw(raw)
	out := cmd.OutOrStdout()
	if fl.asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		rep.WriteTable(out)
	}
	if why := rep.Failed(); why != "" {
		return fmt.Errorf("bench failed: %s", why)
	}
	return nil
}

// benchServer is a `herald serve` child process started by bench.
type benchServer struct {
	cmd     *exec.Cmd
	url     string
	key     string
	dataDir string
	keep    bool
}

func startBenchServer(ctx context.Context, extra []string, keep bool, logw io.Writer) (*benchServer, error) {
	key, _, _ := api.NewAPIKey()
	return startBenchServerWith(ctx, extra, keep, logw, key, nil)
}

// startBenchServerWith starts a server that accepts the admin key and sees env.
func startBenchServerWith(ctx context.Context, extra []string, keep bool, logw io.Writer, key string, env []string) (*benchServer, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bench: find herald binary: %w", err)
	}
	dir, err := os.MkdirTemp("", "herald-bench-")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	args := append([]string{"serve", "--addr", addr, "--data-dir", dir, "--allow-network", "127.0.0.0/8",
		"--retry-schedule", "1s,2s,5s,10s", "--log-level", "warn"}, extra...)
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(append(os.Environ(), "HERALD_API_KEY="+key), env...)
	logs, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start server: %w", err)
	}
	s := &benchServer{cmd: cmd, url: "http://" + addr, key: key, dataDir: dir, keep: keep}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) || cmd.ProcessState != nil {
			s.stop()
			b, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			return nil, fmt.Errorf("bench: server did not start: %s", strings.TrimSpace(string(b)))
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Fprintf(logw, "started herald serve at %s (pid %d, data %s)\n", s.url, cmd.Process.Pid, dir)
	return s, nil
}

func (s *benchServer) stop() {
	if s.cmd.Process != nil && s.cmd.ProcessState == nil {
		s.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			s.cmd.Process.Kill()
			<-done
		}
	}
	if !s.keep {
		os.RemoveAll(s.dataDir)
	}
}

// stats reads the server's CPU time (user + system) and peak RSS from /proc (Linux).
func (s *benchServer) stats() (time.Duration, int64, error) {
	pid := s.cmd.Process.Pid
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// Fields after the command name (which is in parentheses and may hold spaces).
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	if len(fields) < 13 {
		return 0, 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	cpu := time.Duration(utime+stime) * time.Second / ticks
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return cpu, 0, err
	}
	var rss int64
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			rss = kb << 10
		}
	}
	return cpu, rss, nil
}
