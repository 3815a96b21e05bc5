package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/api"
	"github.com/heraldhq/herald/internal/testaddr"
	"github.com/heraldhq/herald/webhook"
)

// TestMain lets a test start this test binary as the herald command itself (see herald()),
// so the crash test can kill -9 a real server process without a separate build.
func TestMain(m *testing.M) {
	if os.Getenv("HERALD_TEST_MAIN") == "1" {
		main() // exits
	}
	os.Exit(m.Run())
}

// serverProcess is `herald serve` running as a child process.
type serverProcess struct {
	cmd          *exec.Cmd
	dataDir, key string
	addr         string // 127.0.0.1:port
	args         []string
	logs         *os.File
}

// startHerald starts `herald serve` with extra flags on a new data directory, a free
// loopback address and a new admin key. Tests of server processes take seconds: -short
// skips them.
func startHerald(t *testing.T, extra ...string) *serverProcess {
	t.Helper()
	if testing.Short() {
		t.Skip("starts herald server processes")
	}
	key, _, _ := api.NewAPIKey()
	return startServerArgs(t, t.TempDir(), testaddr.Free(t), key, extra...)
}

func startServer(t *testing.T, dataDir, addr, key string, extra ...string) *serverProcess {
	t.Helper()
	return startServerArgs(t, dataDir, addr, key, append([]string{"--node-id", "crash-test-node"}, extra...)...)
}

// startServerArgs is startServer with the default node id (the data directory's) unless
// extra sets one.
func startServerArgs(t *testing.T, dataDir, addr, key string, extra ...string) *serverProcess {
	t.Helper()
	p := &serverProcess{dataDir: dataDir, key: key, addr: addr, args: extra}
	p.start(t)
	return p
}

// start runs the server process and waits until it is ready.
func (p *serverProcess) start(t *testing.T) {
	t.Helper()
	logs, err := os.OpenFile(filepath.Join(p.dataDir, "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"serve", "--addr", p.addr, "--data-dir", p.dataDir, "--allow-network", "127.0.0.0/8",
		"--log-level", "warn"}, p.args...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "HERALD_TEST_MAIN=1", "HERALD_API_KEY="+p.key)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.cmd, p.logs = cmd, logs
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		logs.Close()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(p.url() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(p.dataDir, "server.log"))
			t.Fatalf("server did not become ready: %s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// url is the server's base URL.
func (p *serverProcess) url() string { return "http://" + p.addr }

// kill ends the server process with SIGKILL and waits for it to exit.
func (p *serverProcess) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
}

// TestCrashLosesNothing publishes a burst of 5,000 messages, kills the server with
// SIGKILL in the middle of delivery, restarts it, and checks that every message the
// publish API accepted is delivered, and that the only duplicates are deliveries that
// were in flight at the kill.
func TestCrashLosesNothing(t *testing.T) {
	srv := startHerald(t, "--node-id", "crash-test-node")
	c := client.New(srv.url(), srv.key, nil)
	ctx := context.Background()

	var (
		mu        sync.Mutex
		first     = map[string]time.Time{}
		count     = map[string]int{}
		badSigs   atomic.Int64
		received  atomic.Int64
		verifier  atomic.Pointer[webhook.Standard]
		killed    atomic.Bool
		killedAt  time.Time
		killGuard sync.Mutex
		published atomic.Bool // the whole burst was accepted
	)
	// Each request is stamped with the time its connection was accepted: a connection
	// accepted before the kill can only come from the killed process.
	recv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		connAt := r.Context().Value(connAcceptedKey{}).(time.Time)
		body, _ := io.ReadAll(r.Body)
		time.Sleep(2 * time.Millisecond) // slow enough that the kill lands mid-delivery
		d, err := verifier.Load().Verify(body, r.Header)
		if err != nil {
			badSigs.Add(1)
			w.WriteHeader(400)
			return
		}
		mu.Lock()
		if _, ok := first[d.ID]; !ok {
			first[d.ID] = connAt
		}
		count[d.ID]++
		mu.Unlock()
		received.Add(1)
	}))
	recv.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, connAcceptedKey{}, time.Now())
	}
	recv.Start()
	defer recv.Close()

	app, err := c.CreateApp(ctx, client.AppInput{Name: "crash"})
	if err != nil {
		t.Fatal(err)
	}
	// A rate limit keeps delivery behind publishing, so that the whole burst is accepted
	// before the kill and the kill lands in the middle of delivery: at 400/s, delivering
	// 5,000 takes 12.5 s, which publishing them beats even on a busy machine (at 800/s it
	// did not always).
	ep, err := c.CreateEndpoint(ctx, app.ID, client.EndpointInput{URL: recv.URL, MaxConcurrency: 16, RateLimit: 400})
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := c.EndpointSecrets(ctx, app.ID, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := webhook.NewStandard(secrets[0].Secret)
	verifier.Store(v)

	kill := func() {
		killGuard.Lock()
		defer killGuard.Unlock()
		if killed.Swap(true) {
			return
		}
		killedAt = time.Now()
		srv.kill()
	}
	go func() { // kill once the burst is accepted and part of it delivered
		for !killed.Load() {
			if published.Load() && received.Load() >= 1000 {
				kill()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()

	const total = 5000
	var accepted sync.Map
	var acceptedN atomic.Int64
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				payload := json.RawMessage(fmt.Sprintf(`{"type":"order.paid","n":%d}`, i))
				m, _, _, err := c.Publish(ctx, app.ID, client.MessageInput{Type: "order.paid", Payload: payload})
				if err == nil {
					accepted.Store(m.ID, true)
					acceptedN.Add(1)
				}
			}
		}()
	}
	for i := 0; i < total; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	published.Store(true)
	if n := acceptedN.Load(); n != total {
		t.Fatalf("%d of %d publishes accepted", n, total)
	}
	for !killed.Load() {
		time.Sleep(time.Millisecond)
	}
	delivered := received.Load()
	t.Logf("%d of %d delivered before the kill", delivered, total)
	if delivered >= total {
		t.Fatal("everything was delivered before the kill; the test proves nothing")
	}

	srv.start(t)
	eventually(t, 60*time.Second, 50*time.Millisecond, func() error {
		missing := 0
		mu.Lock()
		accepted.Range(func(id, _ any) bool {
			if count[id.(string)] == 0 {
				missing++
			}
			return true
		})
		mu.Unlock()
		if missing > 0 {
			return fmt.Errorf("%d accepted messages were never delivered", missing)
		}
		return nil
	})
	if n := badSigs.Load(); n != 0 {
		t.Fatalf("%d requests with an invalid signature", n)
	}
	mu.Lock()
	defer mu.Unlock()
	dups := 0
	for id, n := range count {
		if n > 1 {
			dups++
			if !first[id].Before(killedAt) {
				t.Errorf("message %s was delivered twice but first sent by the restarted server", id)
			}
		}
	}
	// In flight at the kill: requests on the wire (at most 16 for this endpoint) plus
	// answered ones whose outcome was not yet committed (one group commit's worth).
	t.Logf("%d duplicates", dups)
	if dups > 200 {
		t.Errorf("%d duplicates; only deliveries in flight at the kill may repeat", dups)
	}
}

type connAcceptedKey struct{}

// TestCrashRestartResumesAtOnce kills a server (default flags) with deliveries in flight
// and queued, restarts it on the same data directory, and checks that delivery resumes
// within seconds: the restarted server has the same node id (kept in the data
// directory), so it takes back its own leases instead of waiting for them to run out.
func TestCrashRestartResumesAtOnce(t *testing.T) {
	srv := startHerald(t)
	c := client.New(srv.url(), srv.key, nil)
	ctx := context.Background()

	// The receiver holds every request of the first server (until the kill closes its
	// connections) and answers the restarted one's at once.
	var (
		inflight    atomic.Int64
		restartedAt atomic.Int64 // unix ns; 0 before the restart
		arrived     = make(chan time.Time, 1)
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		io.Copy(io.Discard, r.Body)
		if at := restartedAt.Load(); at == 0 || now.UnixNano() < at {
			inflight.Add(1)
			<-r.Context().Done()
			return
		}
		select {
		case arrived <- now:
		default:
		}
	}))
	defer recv.Close()
	app, err := c.CreateApp(ctx, client.AppInput{Name: "restart"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateEndpoint(ctx, app.ID, client.EndpointInput{URL: recv.URL, MaxConcurrency: 4}); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		payload := json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))
		if _, _, _, err := c.Publish(ctx, app.ID, client.MessageInput{Type: "order.paid", Payload: payload}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for inflight.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no delivery reached the receiver before the kill")
		}
		time.Sleep(5 * time.Millisecond)
	}
	srv.kill()

	restarted := time.Now()
	restartedAt.Store(restarted.UnixNano())
	srv.start(t)
	select {
	case at := <-arrived:
		took := at.Sub(restarted)
		t.Logf("first delivery %s after the restart began", took.Round(time.Millisecond))
		if took > 5*time.Second {
			t.Fatalf("first delivery %s after the restart, want at most 5 s", took)
		}
	case <-time.After(15 * time.Second): // the leases of the killed process last 2 minutes
		t.Fatal("no delivery within 15 s of the restart: the restarted server waits for its own leases")
	}
}

// TestServeRefusesALockedDataDir: a second server on a data directory in use fails at
// start with one line that says so.
func TestServeRefusesALockedDataDir(t *testing.T) {
	srv := startHerald(t)
	t.Setenv("HERALD_API_KEY", srv.key)
	code, _, stderr := runCLI(t, "", "serve", "--data-dir", srv.dataDir, "--addr", testaddr.Free(t), "--log-level", "warn")
	wantOneLineError(t, code, stderr, "is used by another herald process")
}
