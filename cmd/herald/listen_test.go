package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/api/apitest"
	"github.com/heraldhq/herald/webhook"
)

// listenProcess is `herald listen` running as a child process.
type listenProcess struct {
	cmd    *exec.Cmd
	secret string
	lines  chan string
	stderr string // the file its standard error goes to
}

var secretLine = regexp.MustCompile(`Webhook signing secret: (whsec_\S+)`)

func startListener(t *testing.T, args ...string) *listenProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"listen"}, args...)...)
	cmd.Env = append(os.Environ(), "HERALD_TEST_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &listenProcess{cmd: cmd, lines: make(chan string, 1024), stderr: stderr.Name()}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if m := secretLine.FindStringSubmatch(line); m != nil {
				p.secret = m[1]
			}
			if strings.HasPrefix(line, "Ready.") {
				close(ready)
			}
			select {
			case p.lines <- line:
			default:
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatal("herald listen did not become ready")
	}
	return p
}

// TestListenerSurvivesRestart starts a server and `herald listen` forwarding to a local
// receiver, publishes 1,000 events, kills the listener with SIGKILL after ~300 arrived,
// publishes 500 more, and restarts it: the receiver sees every event, every signature
// valid under the listener's secret, which is the same after the restart.
func TestListenerSurvivesRestart(t *testing.T) {
	srv := startHerald(t)
	server, key := srv.url(), srv.key
	c := client.New(server, key, apitest.HTTPClient(t))
	ctx := context.Background()
	app, err := c.CreateApp(ctx, client.AppInput{Name: "listen"})
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu       sync.Mutex
		seen     = map[string]int{}
		bad      atomic.Int64
		received atomic.Int64
		verifier atomic.Pointer[webhook.Standard]
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		v := verifier.Load()
		d, err := v.Verify(body, r.Header)
		if err != nil {
			bad.Add(1)
			w.WriteHeader(400)
			return
		}
		mu.Lock()
		seen[d.ID]++
		mu.Unlock()
		received.Add(1)
	}))
	defer recv.Close()

	args := []string{"--server", server, "--api-key", key, "--app", app.ID, "--name", "test-laptop", "--forward-to", recv.URL + "/webhooks"}
	l := startListener(t, args...)
	if l.secret == "" {
		t.Fatal("the listener printed no secret")
	}
	v, err := webhook.NewStandard(l.secret)
	if err != nil {
		t.Fatal(err)
	}
	verifier.Store(v)

	var published []string
	var pubMu sync.Mutex
	publish := func(from, to int) {
		var wg sync.WaitGroup
		jobs := make(chan int)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range jobs {
					m, _, _, err := c.Publish(ctx, app.ID, client.MessageInput{Type: "response.completed",
						Payload: json.RawMessage(fmt.Sprintf(`{"type":"response.completed","n":%d}`, i))})
					if err != nil {
						t.Errorf("publish %d: %v", i, err)
						continue
					}
					pubMu.Lock()
					published = append(published, m.ID)
					pubMu.Unlock()
				}
			}()
		}
		for i := from; i < to; i++ {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
	}

	killed := make(chan struct{})
	go func() { // kill the listener once ~300 events have arrived
		for received.Load() < 300 {
			time.Sleep(time.Millisecond)
		}
		l.cmd.Process.Signal(syscall.SIGKILL)
		l.cmd.Wait()
		close(killed)
	}()
	publish(0, 1000)
	<-killed
	t.Logf("%d events received before the listener was killed", received.Load())
	publish(1000, 1500)

	l2 := startListener(t, args...)
	if l2.secret != l.secret {
		t.Fatalf("the restarted listener's secret changed: %s, was %s", l2.secret, l.secret)
	}
	eventually(t, 60*time.Second, 20*time.Millisecond, func() error {
		mu.Lock()
		defer mu.Unlock()
		missing := 0
		for _, id := range published {
			if seen[id] == 0 {
				missing++
			}
		}
		if missing > 0 {
			return fmt.Errorf("%d of %d events never reached the receiver", missing, len(published))
		}
		return nil
	})
	if n := bad.Load(); n != 0 {
		t.Fatalf("%d requests with an invalid signature", n)
	}
	if len(published) != 1500 {
		t.Fatalf("%d events published, want 1500", len(published))
	}
	// The live lines: one per event and one per answer.
	var sawIn, sawOut bool
	for len(l2.lines) > 0 {
		line := <-l2.lines
		sawIn = sawIn || strings.Contains(line, " --> response.completed ")
		sawOut = sawOut || strings.Contains(line, " <-- 200 POST /webhooks ")
	}
	if !sawIn || !sawOut {
		t.Error("the listener printed no live lines for events")
	}
}

// TestListenSameNameNewerWins starts two `herald listen` with the same name: the older
// exits with status 1 and a one-line reason instead of taking the listener back, and
// the newer keeps running.
func TestListenSameNameNewerWins(t *testing.T) {
	srv := startHerald(t)
	server, key := srv.url(), srv.key
	app, err := client.New(server, key, apitest.HTTPClient(t)).CreateApp(context.Background(), client.AppInput{Name: "listen"})
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--server", server, "--api-key", key, "--app", app.ID, "--name", "twin", "--forward-to", "http://127.0.0.1:1/webhooks"}
	older := startListener(t, args...)
	newer := startListener(t, args...)

	exited := make(chan error, 1)
	go func() { exited <- older.cmd.Wait() }()
	select {
	case err := <-exited:
		if code := older.cmd.ProcessState.ExitCode(); code != 1 {
			t.Errorf("the older listener exited with %v (code %d), want code 1", err, code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the older listener did not exit")
	}
	b, err := os.ReadFile(older.stderr)
	if err != nil {
		t.Fatal(err)
	}
	// Status lines (connected...) come first; the error is one line, the last.
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if msg := lines[len(lines)-1]; !strings.HasPrefix(msg, "herald: ") || !strings.Contains(msg, `listener "twin" was taken over`) {
		t.Errorf("the older listener said %q, want a last line saying it was taken over", b)
	}
	time.Sleep(time.Second)
	if newer.cmd.ProcessState != nil {
		t.Fatalf("the newer listener exited too: %v", newer.cmd.ProcessState)
	}
	if err := newer.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := newer.cmd.Wait(); err != nil {
		t.Errorf("the newer listener, stopped: %v", err)
	}
}
