package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/api"
	"github.com/heraldhq/herald/internal/api/apitest"
	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/store"
	"github.com/spf13/cobra"
)

// apiEnv is a real herald API over a SQLite store in a temporary directory.
type apiEnv struct {
	url string
	key string // an admin key
	st  store.Store
}

// newAPIEnv starts the real API (every answer checked against openapi.yaml).
func newAPIEnv(t *testing.T) *apiEnv {
	t.Helper()
	srv := apitest.NewServer(t)
	return &apiEnv{url: srv.URL, key: srv.AdminKey, st: srv.Store}
}

// cli runs herald against the server with the admin key.
func (e *apiEnv) cli(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	return runCLI(t, stdin, append(args, "--server", e.url, "--api-key", e.key)...)
}

// ok runs herald against the server and fails the test unless it exits 0.
func (e *apiEnv) ok(t *testing.T, args ...string) string {
	t.Helper()
	code, out, stderr := e.cli(t, "", args...)
	if code != 0 {
		t.Fatalf("%v: exit %d, stderr %q", args, code, stderr)
	}
	return out
}

// okJSON runs herald with --json and decodes its output into v.
func (e *apiEnv) okJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := e.ok(t, append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("%v --json printed %q: %v", args, out, err)
	}
}

// apiList is the shape of the API's list answers, which list --json prints.
type apiList[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
}

// detail returns the value of a "name  value" line of a detail view.
func detail(t *testing.T, out, name string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			return strings.TrimSpace(strings.TrimPrefix(line, name))
		}
	}
	t.Fatalf("output has no %q line:\n%s", name, out)
	return ""
}

// finishDue claims every due delivery and records one attempt for each, answered with
// code: 2xx succeeds, anything else fails for good.
func finishDue(t *testing.T, st store.Store, code int) []*domain.Delivery {
	t.Helper()
	return apitest.FinishDue(t, st, code)
}

// appIDRe matches an app id.
var appIDRe = regexp.MustCompile(`\bapp_[0-9A-Z]{26}\b`)

// TestAPICommands drives apps, endpoints, messages and deliveries through the CLI
// against the real API.
func TestAPICommands(t *testing.T) {
	e := newAPIEnv(t)
	dir := t.TempDir()

	// Apps.
	out := e.ok(t, "app", "create", "--name", "Acme", "--uid", "acme", "--metadata", "plan=pro")
	first, _, _ := strings.Cut(out, "\n")
	appID := appIDRe.FindString(first)
	if appID == "" || detail(t, out, "uid") != "acme" || detail(t, out, "metadata") != "plan=pro" {
		t.Fatalf("app create printed:\n%s", out)
	}
	e.ok(t, "app", "create", "--name", "Other")
	out = e.ok(t, "app", "list")
	if !strings.HasPrefix(out, "ID ") || !strings.Contains(out, appID) || !strings.Contains(out, "Other") || strings.Count(out, "\n") != 3 {
		t.Errorf("app list:\n%s", out)
	}
	var appList apiList[client.App]
	e.okJSON(t, &appList, "app", "list", "--limit", "1", "--all")
	if apps := appList.Data; len(apps) != 2 || apps[1].ID != appID || appList.NextCursor != "" {
		t.Errorf("app list --all --json: %+v", appList)
	}
	code, out, stderr := e.cli(t, "", "app", "list", "--limit", "1")
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(stderr, "--cursor app_") {
		t.Errorf("app list --limit 1: exit %d, out %q, stderr %q", code, out, stderr)
	}
	var app client.App
	e.okJSON(t, &app, "app", "get", "acme")
	if app.ID != appID || app.Name != "Acme" || app.Metadata["plan"] != "pro" || app.CreatedAt.IsZero() {
		t.Errorf("app get acme --json: %+v", app)
	}
	out = e.ok(t, "app", "update", appID, "--name", "Acme Corp", "--metadata", "plan=enterprise", "--metadata", "region=eu")
	if detail(t, out, "name") != "Acme Corp" || detail(t, out, "metadata") != "plan=enterprise, region=eu" || detail(t, out, "uid") != "acme" {
		t.Errorf("app update:\n%s", out)
	}

	// Endpoints.
	out = e.ok(t, "endpoint", "create", "--app", "acme", "--url", "https://example.com/hook", "--events", "invoice.*,customer.created",
		"-H", "X-Token: t0k", "--timeout", "5s", "--rate-limit", "2.5", "--max-concurrency", "3", "--metadata", "team=billing")
	epID := detail(t, out, "id")
	if !strings.HasPrefix(epID, "ep_") || detail(t, out, "event_types") != "invoice.*,customer.created" ||
		detail(t, out, "headers") != "X-Token: t0k" || detail(t, out, "timeout") != "5s" ||
		detail(t, out, "rate_limit") != "2.5/s" || detail(t, out, "state") != "enabled" {
		t.Fatalf("endpoint create:\n%s", out)
	}
	var paused client.Endpoint
	e.okJSON(t, &paused, "endpoint", "create", "--app", appID, "--url", "https://example.org/paused", "--paused", "--fifo",
		"--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if paused.State != client.EndpointPaused || !paused.FIFO || len(paused.EventTypes) != 0 {
		t.Errorf("endpoint create --paused --fifo --json: %+v", paused)
	}
	var routed client.Endpoint
	e.okJSON(t, &routed, "endpoint", "create", "--app", appID, "--url", "https://example.org/routed",
		"--filter", `{"payload":{"amount":{"$gte":1000}}}`, "--retry-schedule", "5s,1m,1h")
	var compact bytes.Buffer
	json.Compact(&compact, routed.Filter)
	if compact.String() != `{"payload":{"amount":{"$gte":1000}}}` || strings.Join(routed.RetrySchedule, ",") != "5s,1m,1h" {
		t.Errorf("endpoint create --filter --retry-schedule: %+v", routed)
	}
	var cleared client.Endpoint
	e.okJSON(t, &cleared, "endpoint", "update", "--app", appID, routed.ID, "--filter", "", "--retry-schedule", "")
	if cleared.Filter != nil || cleared.RetrySchedule != nil {
		t.Errorf("endpoint update --filter '' --retry-schedule '': %+v", cleared)
	}
	e.ok(t, "endpoint", "delete", "--app", appID, routed.ID)
	out = e.ok(t, "endpoint", "list", "--app", "acme")
	if !strings.HasPrefix(out, "ID ") || !strings.Contains(out, "FAILING SINCE") || !strings.Contains(out, epID) ||
		!regexp.MustCompile(paused.ID+`\s+https://example.org/paused\s+paused\s+\*\s+-`).MatchString(out) {
		t.Errorf("endpoint list:\n%s", out)
	}
	if out := e.ok(t, "endpoint", "pause", "--app", "acme", epID); out != "endpoint "+epID+" is paused\n" {
		t.Errorf("endpoint pause printed %q", out)
	}
	var ep client.Endpoint
	e.okJSON(t, &ep, "endpoint", "get", "--app", "acme", epID)
	if ep.State != client.EndpointPaused || ep.TimeoutMS != 5000 || ep.Headers["X-Token"] != "••••" { // header values are shown only when set
		t.Errorf("endpoint get after pause: %+v", ep)
	}
	if out := e.ok(t, "endpoint", "resume", "--app", "acme", epID); out != "endpoint "+epID+" is enabled\n" {
		t.Errorf("endpoint resume printed %q", out)
	}
	// update sends only the flags given.
	e.okJSON(t, &ep, "endpoint", "update", "--app", "acme", epID, "--description", "billing hooks", "--events", "")
	if ep.Description != "billing hooks" || len(ep.EventTypes) != 0 || ep.TimeoutMS != 5000 || ep.RateLimit != 2.5 || ep.State != client.EndpointEnabled {
		t.Errorf("endpoint update: %+v", ep)
	}
	out = e.ok(t, "endpoint", "secret", "--app", "acme", paused.ID)
	if !strings.HasPrefix(out, "SECRET ") || !strings.Contains(out, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") || strings.Count(out, "\n") != 2 {
		t.Errorf("endpoint secret:\n%s", out)
	}
	var rotated struct{ Secrets []client.EndpointSecret }
	e.okJSON(t, &rotated, "endpoint", "rotate-secret", "--app", "acme", paused.ID, "--grace", "1d")
	if secrets := rotated.Secrets; len(secrets) != 2 || secrets[1].Secret != "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" || secrets[0].ExpiresAt != nil ||
		secrets[1].ExpiresAt == nil || time.Until(*secrets[1].ExpiresAt) < 23*time.Hour {
		t.Errorf("endpoint rotate-secret --grace 1d: %+v", rotated)
	}

	// Messages: inline, @file and stdin payloads, and an idempotent replay.
	out = e.ok(t, "message", "create", "--app", "acme", "--type", "invoice.paid", "--payload", `{"id":"in_1"}`, "--idempotency-key", "in_1-paid")
	msgID := detail(t, out, "id")
	if !strings.HasPrefix(msgID, "msg_") || detail(t, out, "deliveries") != "2" || detail(t, out, "idempotency_key") != "in_1-paid" {
		t.Fatalf("message create:\n%s", out)
	}
	out = e.ok(t, "message", "publish", "--app", "acme", "--type", "invoice.paid", "--payload", `{"id":"in_1"}`, "--idempotency-key", "in_1-paid")
	if detail(t, out, "id") != msgID || !strings.HasPrefix(detail(t, out, "replayed"), "true") {
		t.Errorf("repeated idempotency key:\n%s", out)
	}
	file := filepath.Join(dir, "event.json")
	filePayload := "{\n  \"id\": \"cus_1\",\n  \"html\": \"<b>\"\n}\n"
	if err := os.WriteFile(file, []byte(filePayload), 0o600); err != nil {
		t.Fatal(err)
	}
	var fromFile client.Message
	e.okJSON(t, &fromFile, "message", "create", "--app", "acme", "--type", "customer.created", "--payload", "@"+file)
	if fromFile.Deliveries == nil || *fromFile.Deliveries != 2 {
		t.Errorf("message create @file --json: %+v", fromFile)
	}
	stored, err := e.st.GetMessage(context.Background(), appID, fromFile.ID)
	if err != nil || string(stored.Payload) != strings.TrimSpace(filePayload) {
		t.Errorf("stored payload %q (%v), want the file's bytes %q", stored.Payload, err, filePayload)
	}
	code, out, stderr = e.cli(t, `{"id":"in_2"}`, "message", "create", "--app", "acme", "--type", "invoice.created")
	if code != 0 || detail(t, out, "deliveries") != "2" {
		t.Errorf("message create from stdin: exit %d, %q, %q", code, out, stderr)
	}
	out = e.ok(t, "message", "list", "--app", "acme", "--since", "1h")
	if !strings.HasPrefix(out, "ID ") || strings.Count(out, "\n") != 4 || !strings.Contains(out, "in_1-paid") {
		t.Errorf("message list:\n%s", out)
	}
	var msgList apiList[client.Message]
	e.okJSON(t, &msgList, "message", "list", "--app", "acme", "--type", "invoice.paid", "--all")
	if msgs := msgList.Data; len(msgs) != 1 || msgs[0].ID != msgID || strings.Join(strings.Fields(string(msgs[0].Payload)), "") != `{"id":"in_1"}` {
		t.Errorf("message list --type: %+v", msgList)
	}
	if out := e.ok(t, "message", "list", "--app", "acme", "--until", "1h"); strings.Count(out, "\n") != 1 {
		t.Errorf("message list --until 1h (an hour ago) should be empty:\n%s", out)
	}
	out = e.ok(t, "message", "get", "--app", "acme", fromFile.ID)
	if detail(t, out, "type") != "customer.created" || !strings.Contains(out, "payload:\n  {\n    \"id\": \"cus_1\"") {
		t.Errorf("message get:\n%s", out)
	}

	// Deliveries: the enabled endpoint's are failed through the store, the paused one's stay pending.
	out = e.ok(t, "delivery", "list", "--app", "acme")
	if !strings.HasPrefix(out, "ID ") || !strings.Contains(out, "NEXT ATTEMPT") || strings.Count(out, "\n") != 7 || strings.Count(out, " pending ") != 6 {
		t.Errorf("delivery list:\n%s", out)
	}
	failed := finishDue(t, e.st, 500)
	if len(failed) != 3 {
		t.Fatalf("claimed %d deliveries, want the enabled endpoint's 3", len(failed))
	}
	var dl apiList[client.Delivery]
	e.okJSON(t, &dl, "delivery", "list", "--app", "acme", "--status", "failed", "--endpoint", epID)
	if ds := dl.Data; len(ds) != 3 || ds[0].Status != client.DeliveryFailed || ds[0].LastStatusCode != 500 || ds[0].Attempts != 1 {
		t.Errorf("delivery list --status failed: %+v", dl)
	}
	out = e.ok(t, "delivery", "list", "--app", "acme", "--message", msgID)
	if strings.Count(out, "\n") != 3 || !regexp.MustCompile(`failed\s+1\s+500\s+-`).MatchString(out) {
		t.Errorf("delivery list --message:\n%s", out)
	}
	dlv := failed[0].ID
	out = e.ok(t, "delivery", "get", "--app", "acme", dlv)
	if detail(t, out, "status") != "failed" || detail(t, out, "last_status_code") != "500" || detail(t, out, "attempts") != "1" {
		t.Errorf("delivery get:\n%s", out)
	}
	out = e.ok(t, "delivery", "attempts", "--app", "acme", dlv)
	if !strings.HasPrefix(out, "ID ") || !regexp.MustCompile(`att_\w+\s+1\s+.*12\.5ms\s+500\s+failed\s+HTTP 500`).MatchString(out) {
		t.Errorf("delivery attempts:\n%s", out)
	}
	var al apiList[client.Attempt]
	e.okJSON(t, &al, "delivery", "attempts", "--app", "acme", dlv)
	if attempts := al.Data; len(attempts) != 1 || attempts[0].LatencyMS != 12.5 || attempts[0].ResponseBody != "answer" || attempts[0].Outcome != client.OutcomeFailed {
		t.Errorf("delivery attempts --json: %+v", al)
	}
	out = e.ok(t, "delivery", "retry", "--app", "acme", dlv)
	if detail(t, out, "status") != "pending" || detail(t, out, "next_attempt_at") == "-" {
		t.Errorf("delivery retry:\n%s", out)
	}
	if ds := finishDue(t, e.st, 200); len(ds) != 1 || ds[0].ID != dlv {
		t.Fatalf("after retry, claimed %v, want %s", ds, dlv)
	}
	e.okJSON(t, &al, "delivery", "attempts", "--app", "acme", dlv)
	if attempts := al.Data; len(attempts) != 2 || attempts[0].Number != 2 || attempts[0].Outcome != client.OutcomeSucceeded {
		t.Errorf("attempts after retry: %+v", al)
	}

	// Replay the two deliveries still failed, one per batch.
	code, out, stderr = e.cli(t, "", "endpoint", "replay", "--app", "acme", epID, "--status", "failed", "--since", "1h", "--batch", "1")
	if code != 0 || out != "replayed 2 deliveries\n" || stderr != "replayed 1...\nreplayed 2...\n" {
		t.Errorf("endpoint replay: exit %d, out %q, stderr %q", code, out, stderr)
	}
	e.okJSON(t, &dl, "delivery", "list", "--app", "acme", "--endpoint", epID, "--status", "pending")
	if len(dl.Data) != 2 {
		t.Errorf("after replay, %d pending deliveries, want 2", len(dl.Data))
	}
	var replay map[string]int
	e.okJSON(t, &replay, "endpoint", "replay", "--app", "acme", epID)
	if replay["replayed"] != 1 { // the succeeded one; pending deliveries are left alone
		t.Errorf("endpoint replay --json: %v", replay)
	}

	// Deletes.
	if out := e.ok(t, "endpoint", "delete", "--app", "acme", paused.ID); out != "deleted endpoint "+paused.ID+"\n" {
		t.Errorf("endpoint delete printed %q", out)
	}
	e.ok(t, "app", "delete", "acme", "--yes")
	code, _, stderr = e.cli(t, "", "app", "get", appID)
	wantOneLineError(t, code, stderr, "not_found")
}

// cliError is a command that must fail: its exit code and a part of its one-line error.
type cliError struct {
	name     string
	stdin    string
	args     []string
	code     int
	contains string
}

// wantErrors runs each case's command, prefix then its args, and checks the exit code
// and the one-line error.
func (e *apiEnv) wantErrors(t *testing.T, prefix []string, cases []cliError) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := e.cli(t, c.stdin, append(append([]string(nil), prefix...), c.args...)...)
			wantOneLineError(t, code, stderr, c.contains)
			if code != c.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, c.code, stderr)
			}
		})
	}
}

func TestAPICommandErrors(t *testing.T) {
	e := newAPIEnv(t)
	e.ok(t, "app", "create", "--name", "Acme", "--uid", "acme")
	t.Setenv(apiKeyEnv, "")
	t.Setenv(serverEnv, "")
	e.wantErrors(t, nil, []cliError{
		{"unknown app", "", []string{"app", "get", "nope"}, 1, `not_found: app "nope" not found (HTTP 404)`},
		{"unknown app of endpoint", "", []string{"endpoint", "list", "--app", "nope"}, 1, "not_found"},
		{"unknown delivery", "", []string{"delivery", "get", "--app", "acme", "dlv_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C"}, 1, "not_found"},
		{"taken uid", "", []string{"app", "create", "--name", "Again", "--uid", "acme"}, 1, "conflict"},
		{"loopback URL", "", []string{"endpoint", "create", "--app", "acme", "--url", "http://127.0.0.1:9/hook"}, 1, "url_not_allowed"},
		{"bad status", "", []string{"delivery", "list", "--app", "acme", "--status", "lost"}, 1, "invalid_query"},
		{"payload not an object", "", []string{"message", "create", "--app", "acme", "--type", "a.b", "--payload", "[1]"}, 1, "invalid_field"},
		{"payload not JSON", "", []string{"message", "create", "--app", "acme", "--type", "a.b", "--payload", "{nope"}, 1, "not valid JSON"},
		{"payload file missing", "", []string{"message", "create", "--app", "acme", "--type", "a.b", "--payload", "@/nonexistent.json"}, 1, "nonexistent.json"},
		{"empty stdin payload", "", []string{"message", "create", "--app", "acme", "--type", "a.b"}, 2, "payload"},
		{"no --type", "", []string{"message", "create", "--app", "acme", "--payload", "{}"}, 2, "--type"},
		{"no --app", "", []string{"endpoint", "list"}, 2, "--app"},
		{"no --url", "", []string{"endpoint", "create", "--app", "acme"}, 2, "--url"},
		{"no --name", "", []string{"app", "create"}, 2, "--name"},
		{"nothing to update", "", []string{"app", "update", "acme"}, 2, "nothing to change"},
		{"endpoint update --secret", "", []string{"endpoint", "update", "--app", "acme", "ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C", "--secret", "whsec_x"}, 2, "rotate-secret"},
		{"bad --since", "", []string{"message", "list", "--app", "acme", "--since", "yesterday"}, 2, "--since"},
		{"bad --limit", "", []string{"app", "list", "--limit", "0"}, 2, "--limit"},
		{"bad --metadata", "", []string{"app", "create", "--name", "x", "--metadata", "novalue"}, 2, "key=value"},
		{"bad --header", "", []string{"endpoint", "create", "--app", "acme", "--url", "https://example.com/", "-H", "nocolon"}, 2, "name: value"},
		{"bad --grace", "", []string{"endpoint", "rotate-secret", "--app", "acme", "ep_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C", "--grace", "soon"}, 2, "--grace"},
		{"missing argument", "", []string{"app", "get"}, 2, "arg"},
		{"unknown subcommand", "", []string{"endpoint", "frobnicate"}, 2, "frobnicate"},
	})

	t.Run("missing --api-key", func(t *testing.T) {
		code, _, stderr := runCLI(t, "", "app", "list", "--server", e.url)
		wantOneLineError(t, code, stderr, "--api-key")
		if code != 2 {
			t.Errorf("exit %d, want 2", code)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		key, _, _ := api.NewAPIKey()
		code, _, stderr := runCLI(t, "", "app", "list", "--server", e.url, "--api-key", key)
		wantOneLineError(t, code, stderr, "unauthorized")
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
	})
	t.Run("bad --server", func(t *testing.T) {
		code, _, stderr := runCLI(t, "", "app", "list", "--server", "localhost:8080", "--api-key", e.key)
		wantOneLineError(t, code, stderr, "--server")
	})
	t.Run("server down", func(t *testing.T) {
		code, _, stderr := runCLI(t, "", "app", "list", "--server", "http://127.0.0.1:1", "--api-key", e.key)
		wantOneLineError(t, code, stderr, "GET /v1/apps")
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
	})
	t.Run("environment", func(t *testing.T) {
		t.Setenv(serverEnv, e.url)
		t.Setenv(apiKeyEnv, e.key)
		code, out, stderr := runCLI(t, "", "app", "get", "acme")
		if code != 0 || detail(t, out, "uid") != "acme" {
			t.Errorf("with $%s and $%s: exit %d, %q, %q", serverEnv, apiKeyEnv, code, out, stderr)
		}
	})
}

func TestParseTimeFlag(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	cmd := &cobra.Command{Use: "x"}
	for in, want := range map[string]time.Time{
		"":                            {},
		"24h":                         now.Add(-24 * time.Hour),
		"90m":                         now.Add(-90 * time.Minute),
		"7d":                          now.Add(-7 * 24 * time.Hour),
		"1d12h":                       now.Add(-36 * time.Hour),
		"2026-11-20T08:30:00Z":        time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC),
		"2026-11-20T08:30:00.5+01:00": time.Date(2026, 11, 20, 7, 30, 0, 5e8, time.UTC),
	} {
		got, err := parseTimeFlag(cmd, "since", in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseTimeFlag(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"-1h", "yesterday", "7", "d", "7dd", "-7d", "2026-11-20"} {
		if _, err := parseTimeFlag(cmd, "since", in, now); err == nil {
			t.Errorf("parseTimeFlag(%q) succeeded", in)
		}
	}
}

// TestAPICommandsHelp checks that every API command has help with a description and examples.
func TestAPICommandsHelp(t *testing.T) {
	root := newRootCmd()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Long == "" || c.Example == "" {
			t.Errorf("%s: missing Long or Example", c.CommandPath())
		}
		args := append(strings.Fields(c.CommandPath())[1:], "--help")
		code, out, stderr := runCLI(t, "", args...)
		if code != 0 || !strings.Contains(out, "Usage:") || stderr != "" {
			t.Errorf("%v: exit %d, stderr %q, output lacks Usage", args, code, stderr)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	for _, c := range root.Commands() {
		switch c.Name() {
		case "app", "endpoint", "message", "delivery":
			walk(c)
		}
	}
	code, out, _ := runCLI(t, "", "endpoint")
	if code != 0 || !strings.Contains(out, "rotate-secret") {
		t.Errorf("endpoint without a subcommand: exit %d, %q", code, out)
	}
}
