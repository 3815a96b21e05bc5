package delivery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlite"
	"github.com/heraldhq/herald/webhook"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// BenchmarkAttempt measures one attempt as a worker makes it (Engine.send: sign, POST
// over loopback to a receiver answering 204, classify, count, hand the result to the
// recorder), with tracing off and on. "on" samples every attempt and exports its spans
// with the OTLP/HTTP exporter, in batches, to a loopback collector that discards them.
// The receiver's and collector's own work runs in the same process and is counted too.
//
//	go test ./internal/delivery -run '^$' -bench BenchmarkAttempt -benchmem -count 6
func BenchmarkAttempt(b *testing.B) {
	b.Run("off", func(b *testing.B) { benchmarkAttempt(b, nil, domain.TraceContext{}) })
	b.Run("off-traceparent", func(b *testing.B) {
		benchmarkAttempt(b, nil, domain.TraceContext{Parent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
	})
	b.Run("on", func(b *testing.B) {
		sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		b.Cleanup(sink.Close)
		exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(sink.URL+"/v1/traces"))
		if err != nil {
			b.Fatal(err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithBatcher(exp))
		b.Cleanup(func() { tp.Shutdown(context.Background()) })
		benchmarkAttempt(b, tp, domain.TraceContext{Parent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
	})
}

func benchmarkAttempt(b *testing.B, tp trace.TracerProvider, tc domain.TraceContext) {
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	b.Cleanup(receiver.Close)
	s, err := sqlite.Open(bg, filepath.Join(b.TempDir(), "h.db"), sqlite.Options{Cipher: testCipher(b), Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	e, err := New(Config{Store: s, Logger: discardLogger(), Guard: loopbackGuard(), Tracing: tp})
	if err != nil {
		b.Fatal(err)
	}
	e.sendCtx = context.Background() // what Start sets; the engine's loops are not needed
	done := make(chan struct{})
	go func() {
		for range e.results {
		}
		close(done)
	}()
	b.Cleanup(func() { close(e.results); <-done })
	secret := webhook.NewHMACSecret()
	signer, err := webhook.NewStandardKeys([]webhook.Secret{secret})
	if err != nil {
		b.Fatal(err)
	}
	ep := &endpoint{id: "ep_1", app: "app_1", signer: signer, limit: 1,
		cfg: &domain.Endpoint{ID: "ep_1", AppID: "app_1", URL: receiver.URL, State: domain.EndpointEnabled}}
	e.endpoints[ep.id] = ep
	c := &store.Claimed{
		Delivery: &domain.Delivery{ID: "dlv_1", AppID: "app_1", MessageID: "msg_1", EndpointID: ep.id, Status: domain.DeliveryPending, CreatedAt: time.Now()},
		Type:     "order.paid", Payload: []byte(`{"data":"` + strings.Repeat("x", 1000) + `"}`), Trace: tc,
	}
	b.ReportAllocs()
	for b.Loop() {
		j := &job{c: c, started: true}
		e.mu.Lock()
		ep.inflight++
		e.inflight++
		e.appLocked(ep.app).inflight++
		req := e.requestLocked(ep, j)
		e.mu.Unlock()
		e.sends.Add(1)
		e.send(ep, j, req)
	}
}
