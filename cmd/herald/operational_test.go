package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/api"
	"github.com/heraldhq/herald/internal/testaddr"
	"github.com/heraldhq/herald/webhook"
)

func TestOperationalEndpointCommands(t *testing.T) {
	e := newAPIEnv(t)
	var ep client.Endpoint
	e.okJSON(t, &ep, "operational-endpoint", "create", "--url", "https://ops.example.com/herald",
		"--events", "endpoint.disabled,message.attempt.*", "--description", "pager")
	if !strings.HasPrefix(ep.ID, "ep_") || !ep.FIFO || strings.Join(ep.EventTypes, ",") != "endpoint.disabled,message.attempt.*" {
		t.Fatalf("created %+v", ep)
	}
	out := e.ok(t, "op-endpoint", "list")
	if !strings.Contains(out, ep.ID) || !strings.Contains(out, "https://ops.example.com/herald") {
		t.Errorf("list:\n%s", out)
	}
	out = e.ok(t, "operational-endpoint", "get", ep.ID)
	if detail(t, out, "description") != "pager" || detail(t, out, "fifo") != "true" {
		t.Errorf("get:\n%s", out)
	}
	out = e.ok(t, "operational-endpoint", "update", ep.ID, "--events", "endpoint.*", "--fifo=false")
	if detail(t, out, "event_types") != "endpoint.*" || detail(t, out, "fifo") != "false" {
		t.Errorf("update:\n%s", out)
	}
	var secrets struct{ Secrets []client.EndpointSecret } // --json prints the API's answer
	e.okJSON(t, &secrets, "operational-endpoint", "secret", ep.ID)
	if len(secrets.Secrets) != 1 || !strings.HasPrefix(secrets.Secrets[0].Secret, "whsec_") {
		t.Fatalf("secret: %+v", secrets)
	}
	e.okJSON(t, &secrets, "operational-endpoint", "rotate-secret", ep.ID, "--grace", "1h")
	if len(secrets.Secrets) != 2 {
		t.Fatalf("rotate-secret: %+v", secrets)
	}
	if out := e.ok(t, "operational-endpoint", "events", ep.ID, "--since", "1h"); !strings.HasPrefix(out, "ID") {
		t.Errorf("events:\n%s", out)
	}
	if out := e.ok(t, "operational-endpoint", "attempts", ep.ID); !strings.HasPrefix(out, "ID") {
		t.Errorf("attempts:\n%s", out)
	}

	// Bad input and the wrong key: one line on stderr, a non-zero exit.
	code, _, stderr := e.cli(t, "", "operational-endpoint", "create", "--url", "https://ops.example.com/x", "--events", "invoice.paid")
	wantOneLineError(t, code, stderr, "operational event type")
	code, _, stderr = e.cli(t, "", "operational-endpoint", "create")
	wantOneLineError(t, code, stderr, "--url is required")
	code, _, stderr = e.cli(t, "", "operational-endpoint", "update", ep.ID)
	wantOneLineError(t, code, stderr, "nothing to change")
	code, _, stderr = e.cli(t, "", "operational-endpoint", "get", "ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C")
	wantOneLineError(t, code, stderr, "not found")
	var app client.App
	e.okJSON(t, &app, "app", "create", "--name", "Acme")
	key, err := client.New(e.url, e.key, nil).CreateAPIKey(context.Background(), app.ID, client.APIKeyInput{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, "", "operational-endpoint", "list", "--server", e.url, "--api-key", key.Key)
	wantOneLineError(t, code, stderr, "admin")

	if out := e.ok(t, "operational-endpoint", "delete", ep.ID); !strings.Contains(out, "deleted operational endpoint "+ep.ID) {
		t.Errorf("delete: %q", out)
	}
}

// TestStatusCommand runs `herald status` against a whole `herald serve` with a failing
// endpoint and a source that rejected a forged webhook, in both of its forms.
func TestStatusCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	dataDir, addr := t.TempDir(), testaddr.Free(t)
	key, _, _ := api.NewAPIKey()
	startServerArgs(t, dataDir, addr, key, "--retry-schedule", "1h", "--node-id", "status-node")
	server := "http://" + addr
	c := client.New(server, key, nil)
	ctx := context.Background()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	t.Cleanup(down.Close)
	app, err := c.CreateApp(ctx, client.AppInput{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	ep, err := c.CreateEndpoint(ctx, app.ID, client.EndpointInput{URL: down.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := c.Publish(ctx, app.ID, client.MessageInput{Type: "a.b", Payload: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, 20*time.Millisecond, func() error {
		if got, err := c.GetEndpoint(ctx, app.ID, ep.ID); err != nil || got.FailingSince == nil {
			return errors.New("the endpoint never started failing")
		}
		return nil
	})
	src, err := c.CreateSource(ctx, app.ID, client.SourceInput{Provider: "standard", Secret: webhook.NewHMACSecret().Reveal()})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(server+"/in/"+src.ID, "application/json", strings.NewReader(`{"forged":true}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	code, out, stderr := runCLI(t, "", "status", "--server", server, "--api-key", key)
	if code != 0 {
		t.Fatalf("herald status: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"herald at " + server, "NODES (1)", "status-node (this one)", "BACKLOG", "pending", "due now",
		"DELIVERIES PER MINUTE", "FAILING ENDPOINTS (1)", "HTTP 502", "SOURCES WITH REJECTIONS", "400 "} {
		if !strings.Contains(out, want) {
			t.Errorf("herald status has no %q:\n%s", want, out)
		}
	}
	// Each table's rows line up under its header.
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		for _, col := range []string{"APP", "LAST HEARTBEAT", "REJECTIONS"} {
			at := strings.Index(l, "  "+col) + 2
			if at < 2 || !strings.HasPrefix(strings.TrimSpace(l), "ID") && !strings.HasPrefix(strings.TrimSpace(l), "ENDPOINT") && !strings.HasPrefix(strings.TrimSpace(l), "SOURCE") {
				continue
			}
			row := lines[i+1]
			if at >= len(row) || row[at-1] != ' ' || row[at] == ' ' {
				t.Errorf("the row under %q is not aligned with %s:\n%s\n%s", strings.TrimSpace(l), col, l, row)
			}
		}
	}
	if !strings.Contains(out, ep.ID) || !strings.Contains(out, src.ID) {
		t.Errorf("herald status names neither the failing endpoint nor the source:\n%s", out)
	}

	code, out, stderr = runCLI(t, "", "status", "--server", server, "--api-key", key, "--json")
	if code != 0 {
		t.Fatalf("herald status --json: exit %d: %s", code, stderr)
	}
	var st client.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("herald status --json printed %q: %v", out, err)
	}
	if st.NodeID != "status-node" || len(st.Nodes) != 1 || st.Backlog.CountLimit != 100000 || len(st.DeliveriesPerMinute) != 10 ||
		len(st.FailingEndpoints) != 1 || st.FailingEndpoints[0].EndpointID != ep.ID || st.FailingEndpoints[0].LastAttempt.StatusCode != 502 ||
		len(st.RejectingSources) != 1 || st.RejectingSources[0].SourceID != src.ID || st.RejectingSources[0].LastRejection.Status != 400 {
		t.Errorf("herald status --json = %+v", st)
	}
	code, _, stderr = runCLI(t, "", "status", "--server", server, "--api-key", "hk_"+strings.Repeat("x", 43))
	wantOneLineError(t, code, stderr, "unknown API key")
}
