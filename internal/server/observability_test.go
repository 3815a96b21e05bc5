package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/api"
	"github.com/heraldhq/herald/internal/server"
	"github.com/heraldhq/herald/internal/server/servertest"
	"github.com/heraldhq/herald/internal/telemetry"
	"github.com/heraldhq/herald/internal/telemetry/otlptest"
	"github.com/heraldhq/herald/internal/tracing"
	"github.com/heraldhq/herald/webhook"
)

// get answers GET url with the given Authorization (if any): status and body.
func get(t *testing.T, url, auth string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// series returns the sample lines of a /metrics answer.
func series(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// TestReadyzWhileWritesFail checks that /readyz answers 503 while writes fail for want
// of storage, and 200 again once one succeeds.
func TestReadyzWhileWritesFail(t *testing.T) {
	c, srv := testServer(t, nil)
	readyz := func() int {
		resp, err := http.Get(strings.TrimSuffix(c.BaseURL(), "/") + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, s := range []struct{ observe, want int }{{0, 200}, {507, 503}, {400, 503}, {202, 200}} {
		if s.observe != 0 {
			srv.ObserveWrite(s.observe)
		}
		if got := readyz(); got != s.want {
			t.Fatalf("after a %d: /readyz %d, want %d", s.observe, got, s.want)
		}
	}
}

// TestMetricsBoundedAt1000Endpoints publishes to one endpoint, then to 1,000, and
// checks that /metrics has exactly as many series after as before, naming no endpoint
// or app, and that the new operational metrics are there.
func TestMetricsBoundedAt1000Endpoints(t *testing.T) {
	c, srv := testServer(t, nil)
	ctx := context.Background()
	base := strings.TrimSuffix(c.BaseURL(), "/")
	var got atomic.Int64
	receiver := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
	app := servertest.NewApp(t, c, client.AppInput{Name: "wide"})
	publishAndWait := func(endpoints int64) {
		t.Helper()
		before, start := got.Load(), time.Now()
		if _, n, _, err := c.Publish(ctx, app.ID, client.MessageInput{Type: "t", Payload: []byte(`{"n":1}`)}); err != nil || int64(n) != endpoints {
			t.Fatalf("publish: %d deliveries, %v", n, err)
		}
		// A thousand endpoints' first deliveries each load their endpoint: minutes, not
		// seconds, under the race detector on a busy machine.
		deadline := time.Now().Add(3 * time.Minute)
		for got.Load() < before+endpoints {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d deliveries after 3 minutes", got.Load()-before, endpoints)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("%d deliveries in %s", endpoints, time.Since(start))
	}
	scrape := func() []string {
		t.Helper()
		status, body := get(t, base+"/metrics", "")
		if status != http.StatusOK {
			t.Fatalf("/metrics = %d", status)
		}
		return series(body)
	}
	var ids []string
	addEndpoints := func(n int) {
		for range n {
			ep, err := c.CreateEndpoint(ctx, app.ID, client.EndpointInput{URL: fmt.Sprintf("%s/%d", receiver, len(ids))})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, ep.ID)
		}
	}
	addEndpoints(1)
	publishAndWait(1)
	one := scrape()
	addEndpoints(999)
	publishAndWait(1000)
	// The receiver counts a request before the engine has read its answer and counted
	// the attempt: scrape until the last attempts are counted.
	const counted = `herald_delivery_attempts_total{outcome="succeeded",status_class="2xx"} 1001`
	thousand := scrape()
	for deadline := time.Now().Add(time.Minute); !strings.Contains(strings.Join(thousand, "\n"), counted) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		thousand = scrape()
	}
	if len(thousand) != len(one) {
		t.Errorf("/metrics has %d series after publishing to 1000 endpoints, %d after 1: a label grows with the data", len(thousand), len(one))
	}
	text := strings.Join(thousand, "\n")
	for _, id := range append(ids, app.ID) {
		if strings.Contains(text, id) {
			t.Fatalf("/metrics names %s", id)
		}
	}
	for _, name := range []string{"herald_backlog_due ", "herald_backlog_oldest_due_seconds ", "herald_publish_duration_seconds_count ",
		"herald_delivery_latency_seconds_count ", "herald_listeners_connected ", `herald_deliveries_claimed_total{node="` + srv.NodeID() + `",via="publish"}`,
		counted} {
		if !strings.Contains(text, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

// TestAdminAddr checks --admin-addr, --pprof and --metrics-token: /metrics moves to the
// admin address, where pprof is too, and both want the token.
func TestAdminAddr(t *testing.T) {
	const token = "metrics-token-0123456789"
	c, srv := testServer(t, func(c *server.Config) { c.AdminAddr, c.PProf, c.MetricsToken = "127.0.0.1:0", true, token })
	base := strings.TrimSuffix(c.BaseURL(), "/")
	admin := "http://" + srv.AdminAddr()
	for _, tc := range []struct {
		url, auth string
		want      int
	}{
		{base + "/metrics", "Bearer " + token, http.StatusNotFound},
		{base + "/debug/pprof/", "Bearer " + token, http.StatusNotFound},
		{admin + "/metrics", "", http.StatusUnauthorized},
		{admin + "/metrics", "Bearer wrong-token-0123456789", http.StatusUnauthorized},
		{admin + "/metrics", "Bearer " + token, http.StatusOK},
		{admin + "/debug/pprof/", "", http.StatusUnauthorized},
		{admin + "/debug/pprof/", "Bearer " + token, http.StatusOK},
		{admin + "/debug/pprof/heap?debug=1", "Bearer " + token, http.StatusOK},
		{admin + "/v1/apps", "Bearer " + token, http.StatusNotFound},
	} {
		if status, body := get(t, tc.url, tc.auth); status != tc.want {
			t.Errorf("GET %s (%q) = %d, want %d: %.200s", tc.url, tc.auth, status, tc.want, body)
		}
	}

	// Without an admin address the token guards /metrics where it always was.
	c2, _ := testServer(t, func(c *server.Config) { c.MetricsToken = token })
	base2 := strings.TrimSuffix(c2.BaseURL(), "/")
	if status, _ := get(t, base2+"/metrics", ""); status != http.StatusUnauthorized {
		t.Errorf("/metrics without the token = %d", status)
	}
	if status, body := get(t, base2+"/metrics", "Bearer "+token); status != http.StatusOK || !strings.Contains(body, "herald_backlog_due") {
		t.Errorf("/metrics with the token = %d", status)
	}
	if status, _ := get(t, base2+"/debug/pprof/", "Bearer "+token); status != http.StatusNotFound {
		t.Errorf("pprof without --admin-addr = %d, want 404", status)
	}
}

// TestObservabilitySettings checks that bad settings are refused before anything starts.
func TestObservabilitySettings(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(c *server.Config)
		want   string
	}{
		{"pprof without an admin address", func(c *server.Config) { c.PProf = true }, "--pprof needs --admin-addr"},
		{"short token", func(c *server.Config) { c.MetricsToken = "short" }, "--metrics-token"},
		{"bad sampler", func(c *server.Config) {
			c.Telemetry = telemetry.FromEnv(env{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_SAMPLER": "sometimes"}.get)
		}, "OTEL_TRACES_SAMPLER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, _, _ := api.NewAPIKey()
			cfg := server.Config{DataDir: t.TempDir(), APIKey: key}
			tc.mutate(&cfg)
			_, err := server.New(context.Background(), cfg, slog.New(slog.DiscardHandler), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

// TestIngestTraced sends a verified and a forged webhook to a source and checks their
// ingest spans (verified, or the rejection reason; the publish span under the first)
// and the gateway's metrics.
func TestIngestTraced(t *testing.T) {
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "50") // the SDK's batch processor exports every 50 ms, not 5 s
	col := otlptest.New(t)
	c, _ := testServer(t, func(c *server.Config) {
		c.Telemetry = telemetry.FromEnv(env{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": col.URL + "/v1/traces"}.get)
	})
	ctx := context.Background()
	base := strings.TrimSuffix(c.BaseURL(), "/")
	app := servertest.NewApp(t, c, client.AppInput{Name: "gateway"})
	secret := webhook.NewHMACSecret().Reveal()
	src, err := c.CreateSource(ctx, app.ID, client.SourceInput{Provider: "standard", Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := webhook.NewProvider("standard", secret)
	forger, _ := webhook.NewProvider("standard", webhook.NewHMACSecret().Reveal())
	body := []byte(`{"type":"invoice.paid","data":{"id":"in_1"}}`)
	good, _ := signer.Sign(webhook.Delivery{ID: "msg_good"}, body)
	bad, _ := forger.Sign(webhook.Delivery{ID: "msg_bad"}, body)
	if status, out := postInbound(t, base+src.IngestPath, body, good); status != 200 {
		t.Fatalf("verified webhook: %d %v", status, out)
	}
	if status, _ := postInbound(t, base+src.IngestPath, body, bad); status != 401 {
		t.Fatalf("forged webhook: %d", status)
	}
	_, metrics := get(t, base+"/metrics", "")
	for _, want := range []string{`herald_ingest_requests_total{provider="standard",result="accepted"} 1`,
		`herald_ingest_requests_total{provider="standard",result="rejected"} 1`,
		`herald_ingest_rejections_total{provider="standard",reason="invalid_signature"} 1`, "herald_ingest_duration_seconds_count 1"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	var ingest []otlptest.Span
	var publish *otlptest.Span
	waitFor(t, "the ingest spans to be exported", func() bool {
		ingest, publish = nil, nil
		for _, s := range col.Spans() {
			switch s.Name {
			case tracing.SpanIngest:
				ingest = append(ingest, s)
			case tracing.SpanPublish:
				publish = &s
			}
		}
		return len(ingest) == 2 && publish != nil
	})
	verified, forged := ingest[0], ingest[1]
	if verified.Attributes["herald.verified"] != "true" {
		verified, forged = forged, verified
	}
	if verified.Attributes["herald.verified"] != "true" || verified.Attributes["herald.provider"] != "standard" || verified.Attributes["herald.source.id"] != src.ID ||
		verified.StatusError || publish.ParentSpanID != verified.SpanID {
		t.Errorf("verified ingest span = %+v (publish's parent %s)", verified, publish.ParentSpanID)
	}
	if forged.Attributes["herald.verified"] != "false" || forged.Attributes["herald.rejection.reason"] != "invalid_signature" || !forged.StatusError {
		t.Errorf("forged ingest span = %+v", forged)
	}
}
