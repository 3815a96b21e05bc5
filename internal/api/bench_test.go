package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkPublish measures publishing through the API handler (auth, decoding,
// validation, the SQLite commit of the message and two deliveries, the answer),
// from concurrent clients, without the network.
func BenchmarkPublish(b *testing.B) {
	e := newEnv(b)
	app := e.must(201, req{method: "POST", path: "/v1/apps", key: e.admin, body: `{"name":"bench"}`})["id"].(string)
	key := e.newKey(app)
	for range 2 {
		e.must(201, req{method: "POST", path: "/v1/apps/" + app + "/endpoints", key: e.admin, body: `{"url":"https://example.com/hook"}`})
	}
	body := `{"type":"response.completed","payload":{"id":"resp_123","object":"event","data":{"status":"completed","output":"` + strings.Repeat("x", 512) + `"}}}`
	path := "/v1/apps/" + app + "/messages"
	b.SetParallelism(32) // publish is I/O-bound: many requests share one commit
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("POST", path, strings.NewReader(body))
			r.Header.Set("Authorization", "Bearer "+key)
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			e.server.ServeHTTP(w, r)
			if w.Code != http.StatusAccepted {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
