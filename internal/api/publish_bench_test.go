package api

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
)

// benchPayload is a 1 KB event payload, as herald bench publishes.
var benchPayload = `{"id":"evt_01J9ZK4M8Q","object":"event","type":"response.completed","created_at":1733000000,` +
	`"data":{"id":"resp_123","status":"completed","usage":{"input_tokens":12,"output_tokens":345},"output":"` +
	strings.Repeat("lorem ipsum ", 74) + `"}}`

// publishBody returns the body of a single publish with benchPayload.
func publishBody(i int) string {
	return `{"type":"response.completed","idempotency_key":"key-` + fmt.Sprint(i) + `","payload":` + benchPayload + `}`
}

// batchBody returns the body of a batch publish of n messages.
func batchBody(n int) string {
	var b strings.Builder
	b.WriteString(`{"messages":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(publishBody(i))
	}
	b.WriteString(`]}`)
	return b.String()
}

// reusedRequest is an http.Request whose body can be read again without allocating, so
// that a benchmark counts the handler's allocations, not its own.
type reusedRequest struct {
	r    *http.Request
	body bytes.Reader
	raw  []byte
}

func (rr *reusedRequest) Read(p []byte) (int, error) { return rr.body.Read(p) }
func (rr *reusedRequest) Close() error               { return nil }

func newReusedRequest(path, body string) *reusedRequest {
	rr := &reusedRequest{raw: []byte(body)}
	rr.r, _ = http.NewRequest("POST", path, rr)
	rr.r.Header.Set("Content-Type", "application/json")
	rr.r.ContentLength = int64(len(body))
	return rr
}

func (rr *reusedRequest) next() *http.Request {
	rr.body.Reset(rr.raw)
	return rr.r
}

// discardWriter is an http.ResponseWriter that keeps the status and the last body, and
// reuses its header map.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }
func (w *discardWriter) reset() {
	clear(w.h)
	w.status, w.n = 0, 0
}

// BenchmarkPublishDecode measures what the API itself spends on a publish: reading and
// decoding the body, validating it, building the message and writing the 202 answer,
// with the functions publishMessage and publishBatch use, without the store (its answer is
// made up: the message, one delivery each). BenchmarkPublish measures the whole request.
func BenchmarkPublishDecode(b *testing.B) {
	e := newEnv(b)
	s := e.server
	c := &call{appID: "app_1"}
	b.Run("single", func(b *testing.B) {
		benchHandlerPart(b, "/v1/apps/app_1/messages", publishBody(1), func(w http.ResponseWriter, r *http.Request) error {
			m, err := s.decodePublish(w, r, c.appID)
			if err != nil {
				return err
			}
			writePublished(w, &store.PublishResult{Message: m, Deliveries: []*domain.Delivery{{ID: "dlv_1"}}})
			return nil
		})
	})
	b.Run("batch-100", func(b *testing.B) {
		benchHandlerPart(b, "/v1/apps/app_1/messages/batch", batchBody(100), func(w http.ResponseWriter, r *http.Request) error {
			msgs, repeats, err := s.decodeBatch(w, r, c.appID)
			if err != nil {
				return err
			}
			if len(repeats) > 0 {
				return fmt.Errorf("repeated keys: %v", repeats)
			}
			results := make([]*store.PublishResult, len(msgs))
			for i, m := range msgs {
				results[i] = &store.PublishResult{Message: m, Deliveries: []*domain.Delivery{{ID: "dlv_1"}}}
			}
			writeBatchPublished(w, results)
			return nil
		})
	})
}

// benchHandlerPart runs part, a piece of a handler that answers 202, on the same request
// body again and again.
func benchHandlerPart(b *testing.B, path, body string, part func(http.ResponseWriter, *http.Request) error) {
	rr := newReusedRequest(path, body)
	w := &discardWriter{h: http.Header{}}
	b.SetBytes(int64(len(rr.raw)))
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		if err := part(w, rr.next()); err != nil {
			b.Fatal(err)
		}
		if w.status != http.StatusAccepted {
			b.Fatal(w.status)
		}
	}
}

// BenchmarkPublishBatch measures a batch publish of 100 messages through the API handler
// (auth, decoding, validation, the SQLite commits of the messages and their deliveries,
// the answer), from concurrent clients, without the network.
func BenchmarkPublishBatch(b *testing.B) {
	e := newEnv(b)
	app := e.must(201, req{method: "POST", path: "/v1/apps", key: e.admin, body: `{"name":"bench"}`})["id"].(string)
	key := e.newKey(app)
	e.must(201, req{method: "POST", path: "/v1/apps/" + app + "/endpoints", key: e.admin, body: `{"url":"https://example.com/hook"}`})
	path := "/v1/apps/" + app + "/messages/batch"
	var plain strings.Builder
	plain.WriteString(`{"messages":[`)
	for i := range 100 {
		if i > 0 {
			plain.WriteByte(',')
		}
		plain.WriteString(`{"type":"response.completed","payload":` + benchPayload + `}`)
	}
	plain.WriteString(`]}`)
	raw := plain.String()
	b.SetParallelism(4)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r, _ := http.NewRequest("POST", path, strings.NewReader(raw))
			r.Header.Set("Authorization", "Bearer "+key)
			r.Header.Set("Content-Type", "application/json")
			w := &discardWriter{h: http.Header{}}
			e.server.ServeHTTP(w, r)
			if w.status != http.StatusAccepted {
				b.Fatalf("status %d", w.status)
			}
		}
	})
}
