package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/webhook"
)

// receiver is the benchmark's webhook endpoint: one HTTP server, a path per endpoint.
type receiver struct {
	opts      *Options
	verifiers []*webhook.Standard
	start     []int64 // publish start per message seq, unix ns; 0 until published
	// per (seq, endpoint): first attempt time, success count; guarded by mu.
	mu        sync.Mutex
	firstSeen []int64
	success   []uint16
	attempted []bool

	delivered, duplicates, retries, badSigs, failing atomic.Int64
	lastDelivery                                     atomic.Int64
	firstLat, okLat                                  latencies
}

// ServeHTTP verifies one delivery attempt, records it, and answers 204, or 500 for a
// first attempt chosen to fail.
func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	now := time.Now().UnixNano()
	body, err := io.ReadAll(req.Body)
	if err != nil {
		w.WriteHeader(400)
		return
	}
	ep, err := strconv.Atoi(strings.TrimPrefix(req.URL.Path, "/ep/"))
	if err != nil || ep < 0 || ep >= len(r.verifiers) {
		w.WriteHeader(404)
		return
	}
	if _, err := r.verifiers[ep].Verify(body, req.Header); err != nil {
		r.badSigs.Add(1)
		w.WriteHeader(401)
		return
	}
	seq := seqOf(body)
	if seq < 0 || seq >= len(r.start) {
		r.badSigs.Add(1)
		w.WriteHeader(400)
		return
	}
	if r.opts.ReceiverLatency > 0 {
		time.Sleep(r.opts.ReceiverLatency)
	}
	slot := seq*len(r.verifiers) + ep
	started := atomic.LoadInt64(&r.start[seq])
	r.mu.Lock()
	first := !r.attempted[slot]
	if first {
		r.attempted[slot] = true
		r.firstSeen[slot] = now
	} else {
		r.retries.Add(1)
	}
	fail := first && r.opts.FailRate > 0 && rand.Float64() < r.opts.FailRate
	if !fail {
		r.success[slot]++
		if r.success[slot] > 1 {
			r.duplicates.Add(1)
		}
	}
	r.mu.Unlock()
	if first && started > 0 {
		r.firstLat.add(float64(now-started) / 1e6)
	}
	if fail {
		r.failing.Add(1)
		w.WriteHeader(500)
		return
	}
	if started > 0 {
		r.okLat.add(float64(now-started) / 1e6)
	}
	r.delivered.Add(1)
	r.lastDelivery.Store(now)
	w.WriteHeader(204)
}

// seqOf reads the "seq" number the benchmark puts first in every payload.
func seqOf(body []byte) int {
	const prefix = `{"seq":`
	if !bytes.HasPrefix(body, []byte(prefix)) {
		return -1
	}
	n, i := 0, len(prefix)
	for ; i < len(body) && body[i] >= '0' && body[i] <= '9'; i++ {
		n = n*10 + int(body[i]-'0')
	}
	if i == len(prefix) {
		return -1
	}
	return n
}

// payload returns a JSON payload of about size bytes that starts with message number seq.
func payload(seq, size int) json.RawMessage {
	head := fmt.Sprintf(`{"seq":%d,"type":"bench.event","pad":"`, seq)
	pad := size - len(head) - 2
	if pad < 0 {
		pad = 0
	}
	return json.RawMessage(head + strings.Repeat("x", pad) + `"}`)
}
