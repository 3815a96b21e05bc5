package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/api"
	"github.com/heraldhq/herald/internal/store/postgres/pgtest"
	"github.com/heraldhq/herald/internal/testaddr"
	"github.com/heraldhq/herald/webhook"
)

// clusterDB returns the URL of the test database (skipping the test without one) and an
// admin API key for the nodes, and sets the encryption key every node of the cluster
// must share.
func clusterDB(t *testing.T) (dbURL, key string) {
	t.Helper()
	dbURL = pgtest.URL(t) // skips without a test database
	var encKey [32]byte
	rand.Read(encKey[:])
	t.Setenv("HERALD_ENCRYPTION_KEY", base64.StdEncoding.EncodeToString(encKey[:]))
	key, _, _ = api.NewAPIKey()
	return dbURL, key
}

// TestClusterSurvivesKill runs three herald processes on one PostgreSQL database,
// publishes 20,000 messages to 10 endpoints through all of them (four endpoints FIFO, 250
// messages each, published one after the other; one with a max_concurrency of 2, 1,000
// messages; five taking the rest), kills one node with SIGKILL in the middle and starts
// it again, and checks that every accepted message is delivered, that the only
// duplicates are deliveries in flight at the kill, that the FIFO endpoints got their
// messages in order, and that the capped endpoint never had more than 2 requests in
// flight.
func TestClusterSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills server processes")
	}
	dbURL, key := clusterDB(t)

	const (
		nodes     = 3
		endpoints = 10
		total     = 20000
		capped    = 4 // the endpoint with max_concurrency 2
		// Messages 0..fifoMessages-1 go to the four FIFO endpoints, each published only
		// once the one before it was accepted, so that their order is defined.
		fifoMessages = 1000
	)
	fifo := map[int]bool{0: true, 1: true, 2: true, 3: true}
	// Message n goes to endpoint target[n].
	target := make([]int, total)
	for n := range target {
		switch {
		case n < fifoMessages:
			target[n] = n % 4
		case n < fifoMessages+1000:
			target[n] = capped
		default:
			target[n] = 5 + n%5
		}
	}

	type node struct {
		dir, addr, id string
		proc          *serverProcess
		up            atomic.Bool
	}
	var cluster [nodes]*node
	start := func(n *node) {
		n.proc = startServer(t, n.dir, n.addr, key, "--database", dbURL, "--node-id", n.id)
		n.up.Store(true)
	}
	for i := range cluster {
		cluster[i] = &node{dir: t.TempDir(), addr: testaddr.Free(t), id: fmt.Sprintf("cluster-node-%d", i)}
		start(cluster[i])
	}
	httpClient := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	clients := make([]*client.Client, nodes)
	for i, n := range cluster {
		clients[i] = client.New("http://"+n.addr, key, httpClient)
	}

	// The receiver: one path per endpoint. Every request is stamped with its arrival
	// time. A delivery the killed node had in flight (or had sent but not yet recorded)
	// arrived before its restart, and may arrive once more after it: the restarted node
	// (same --node-id) releases its old leases at once, and no lease of the dead node
	// runs out within the test. Any other repeat is a bug.
	type arrival struct {
		n  int
		at time.Time
	}
	var (
		mu       sync.Mutex
		got      [endpoints][]arrival
		inflight [endpoints]int
		peak     [endpoints]int
		received atomic.Int64
		badSigs  atomic.Int64
	)
	verifiers := make([]*webhook.Standard, endpoints)
	secrets := make([]string, endpoints)
	for i := range verifiers {
		s := webhook.NewHMACSecret()
		secrets[i] = s.Reveal()
		verifiers[i], _ = webhook.NewStandardKeys([]webhook.Secret{s})
	}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		ep, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/ep/"))
		if err != nil || ep < 0 || ep >= endpoints {
			w.WriteHeader(404)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if _, err := verifiers[ep].Verify(body, r.Header); err != nil {
			badSigs.Add(1)
			w.WriteHeader(400)
			return
		}
		var p struct{ N int }
		json.Unmarshal(body, &p)
		mu.Lock()
		got[ep] = append(got[ep], arrival{p.N, at})
		inflight[ep]++
		peak[ep] = max(peak[ep], inflight[ep])
		mu.Unlock()
		time.Sleep(time.Millisecond) // so that requests overlap
		mu.Lock()
		inflight[ep]--
		mu.Unlock()
		received.Add(1)
	}))
	recv.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context { return ctx }
	defer recv.Close()

	ctx := context.Background()
	app, err := clients[0].CreateApp(ctx, client.AppInput{Name: "cluster"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < endpoints; i++ {
		in := client.EndpointInput{URL: fmt.Sprintf("%s/ep/%d", recv.URL, i), EventTypes: []string{fmt.Sprintf("t.%d", i)},
			FIFO: fifo[i], Secret: secrets[i]}
		if i == capped {
			in.MaxConcurrency = 2
		}
		if _, err := clients[i%nodes].CreateEndpoint(ctx, app.ID, in); err != nil {
			t.Fatal(err)
		}
	}

	// publish sends message n (to endpoint target[n]) through the nodes in turn until one
	// accepts it; the idempotency key makes a retry of a publish whose answer was lost
	// (the node died after committing) the same message.
	var next atomic.Int64
	publish := func(n int) {
		in := client.MessageInput{Type: fmt.Sprintf("t.%d", target[n]), Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)),
			IdempotencyKey: fmt.Sprintf("m-%d", n)}
		deadline := time.Now().Add(60 * time.Second)
		for {
			i := int(next.Add(1)) % nodes
			if cluster[i].up.Load() {
				if _, _, _, err := clients[i].Publish(ctx, app.ID, in); err == nil {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Errorf("message %d was never accepted", n)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	var restartedAt time.Time
	var atKill int64
	killDone := make(chan struct{})
	go func() { // kill node 1 once a third of the messages arrived, restart it a second later
		defer close(killDone)
		for received.Load() < total/3 {
			time.Sleep(time.Millisecond)
		}
		victim := cluster[1]
		victim.up.Store(false)
		atKill = received.Load()
		victim.proc.kill()
		time.Sleep(time.Second)
		restartedAt = time.Now()
		start(victim)
	}()

	began := time.Now()
	var wg sync.WaitGroup
	for ep := range fifo { // FIFO: each message published after the previous one was accepted
		wg.Add(1)
		go func(ep int) {
			defer wg.Done()
			for n := ep; n < fifoMessages; n += 4 {
				publish(n)
			}
		}(ep)
	}
	jobs := make(chan int)
	for w := 0; w < 24; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range jobs {
				publish(n)
			}
		}()
	}
	for n := fifoMessages; n < total; n++ {
		jobs <- n
	}
	close(jobs)
	wg.Wait()
	t.Logf("published in %v; %d delivered", time.Since(began), received.Load())
	<-killDone
	t.Logf("%d delivered at the kill", atKill)
	if atKill >= total {
		t.Fatal("everything was delivered before the kill; the test proves nothing")
	}

	eventually(t, 90*time.Second, 50*time.Millisecond, func() error {
		missing := 0
		mu.Lock()
		seen := make([]bool, total)
		for ep := range got {
			for _, a := range got[ep] {
				seen[a.n] = true
			}
		}
		mu.Unlock()
		for _, ok := range seen {
			if !ok {
				missing++
			}
		}
		if missing > 0 {
			return fmt.Errorf("%d accepted messages were never delivered", missing)
		}
		return nil
	})
	t.Logf("all delivered after %v", time.Since(began))
	mu.Lock()
	defer mu.Unlock()
	if n := badSigs.Load(); n != 0 {
		t.Fatalf("%d requests with an invalid signature", n)
	}
	dups := 0
	for ep := range got {
		first := map[int]time.Time{}
		repeated := map[int]bool{}
		for _, a := range got[ep] {
			if target[a.n] != ep {
				t.Fatalf("message %d reached endpoint %d", a.n, ep)
			}
			f, ok := first[a.n]
			if !ok {
				first[a.n] = a.at
				continue
			}
			dups++
			switch {
			case repeated[a.n]:
				t.Errorf("message %d was delivered three times or more", a.n)
			case !f.Before(restartedAt) || a.at.Before(restartedAt):
				t.Errorf("message %d was delivered at %v and again at %v; only a delivery made before the restart at %v may repeat, after it",
					a.n, f, a.at, restartedAt)
			}
			repeated[a.n] = true
		}
		if fifo[ep] {
			for i := 1; i < len(got[ep]); i++ {
				if got[ep][i].n < got[ep][i-1].n {
					t.Fatalf("FIFO endpoint %d received message %d after %d", ep, got[ep][i].n, got[ep][i-1].n)
				}
			}
		}
		if fifo[ep] && peak[ep] != 1 {
			t.Errorf("FIFO endpoint %d had %d requests in flight at once", ep, peak[ep])
		}
	}
	if peak[capped] > 2 {
		t.Errorf("the endpoint with max_concurrency 2 had %d requests in flight at once across the nodes", peak[capped])
	}
	// In flight at the kill: what the killed node had leased (sent, or waiting for a
	// concurrency slot or a worker) and outcomes not yet committed.
	t.Logf("%d deliveries, %d duplicates; peak in flight on the capped endpoint: %d", received.Load(), dups, peak[capped])
	if dups > 1000 {
		t.Errorf("%d duplicates; only deliveries in flight at the kill may repeat", dups)
	}
	for _, n := range cluster {
		if b, err := os.ReadFile(filepath.Join(n.dir, "server.log")); err == nil && strings.Contains(string(b), "panic") {
			t.Errorf("node %s panicked: %s", n.id, b)
		}
	}
}

// TestClusterFailover kills one of two nodes with SIGKILL while it has every delivery in
// flight (each first request hangs), and does not restart it: the other node must take
// the deliveries over when the dead node's heartbeats stop (10 s), not when its 2-minute
// leases run out, so the deliveries are sent again within 15 s of the kill.
func TestClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills server processes")
	}
	dbURL, key := clusterDB(t)
	const messages = 4 // = max_concurrency: the publishing node leases them all to itself

	var (
		mu     sync.Mutex
		first  = map[int]bool{}
		again  = map[int]time.Time{} // when a message was requested the second time
		inHang atomic.Int64
	)
	hang := make(chan struct{})
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct{ N int }
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &p)
		mu.Lock()
		if !first[p.N] {
			first[p.N] = true
			mu.Unlock()
			inHang.Add(1)
			<-hang // the victim's requests never get an answer
			return
		}
		if _, ok := again[p.N]; !ok {
			again[p.N] = time.Now()
		}
		mu.Unlock()
	}))
	defer recv.Close()
	defer close(hang)

	startServer(t, t.TempDir(), testaddr.Free(t), key, "--database", dbURL, "--node-id", "failover-survivor")
	victim := startServer(t, t.TempDir(), testaddr.Free(t), key, "--database", dbURL, "--node-id", "failover-victim")
	viaVictim := client.New("http://"+victim.addr, key, &http.Client{Timeout: 10 * time.Second})
	ctx := context.Background()
	app, err := viaVictim.CreateApp(ctx, client.AppInput{Name: "failover"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := viaVictim.CreateEndpoint(ctx, app.ID, client.EndpointInput{URL: recv.URL, MaxConcurrency: messages, TimeoutMS: 120000}); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < messages; n++ {
		in := client.MessageInput{Type: "t", Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))}
		if _, _, _, err := viaVictim.Publish(ctx, app.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(20 * time.Second); inHang.Load() < messages; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d deliveries in flight before the kill", inHang.Load(), messages)
		}
	}
	victim.kill()
	killedAt := time.Now()

	for deadline := killedAt.Add(40 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		var earliest time.Time
		for _, at := range again {
			if earliest.IsZero() || at.Before(earliest) {
				earliest = at
			}
		}
		done := len(again) == messages
		mu.Unlock()
		if !earliest.IsZero() && earliest.Sub(killedAt) > 15*time.Second {
			t.Fatalf("the survivor sent the dead node's first delivery %v after the kill; want within 15 s", earliest.Sub(killedAt))
		}
		if done {
			t.Logf("the survivor sent the dead node's deliveries %v after the kill (all %d by %v)",
				earliest.Sub(killedAt).Round(time.Millisecond), messages, time.Since(killedAt).Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of the dead node's %d deliveries sent again 40 s after the kill", len(again), messages)
		}
	}
}
