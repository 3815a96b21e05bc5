package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/heraldhq/herald/client"
)

func TestMessageReplay(t *testing.T) {
	e := newAPIEnv(t)
	e.ok(t, "app", "create", "--name", "Acme", "--uid", "acme")
	e.ok(t, "endpoint", "create", "--app", "acme", "--url", "https://example.com/hook")
	for _, typ := range []string{"invoice.paid", "invoice.paid", "customer.created"} {
		e.ok(t, "message", "create", "--app", "acme", "--type", typ, "--payload", `{}`)
	}
	finishDue(t, e.st, 500)

	code, out, stderr := e.cli(t, "", "message", "replay", "--app", "acme", "--since", "1h", "--status", "failed", "--event-type", "invoice.*")
	if code != 0 {
		t.Fatalf("message replay: exit %d, stderr %q", code, stderr)
	}
	if detail(t, out, "state") != "done" || detail(t, out, "done") != "2 deliveries queued again" || detail(t, out, "messages_scanned") != "3" ||
		detail(t, out, "status") != "failed" || detail(t, out, "event_types") != "invoice.*" {
		t.Errorf("message replay printed:\n%s", out)
	}
	if !regexp.MustCompile(`^replay rpl_[0-9A-Z]{26}: \d+% of the time range, \d+ deliver(y|ies) queued, \d+ messages looked at\n`).MatchString(stderr) {
		t.Errorf("progress on stderr: %q", stderr)
	}
	id := regexp.MustCompile(`rpl_[0-9A-Z]{26}`).FindString(out)

	var j client.ReplayJob
	e.okJSON(t, &j, "message", "replay", "--app", "acme", "--follow", id)
	if j.ID != id || j.State != client.ReplayDone || j.Done != 2 {
		t.Errorf("--follow --json: %+v", j)
	}
	if out := e.ok(t, "message", "replay", "--app", "acme", "--cancel", id); detail(t, out, "state") != "done" {
		t.Errorf("--cancel of a finished replay:\n%s", out)
	}
	e.okJSON(t, &j, "message", "replay", "--app", "acme", "--since", "2000-01-01T00:00:00Z", "--detach")
	if j.ID == id || (j.State != client.ReplayRunning && j.State != client.ReplayDone) {
		t.Errorf("--detach: %+v", j)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "since is required"},
		{[]string{"--status", "pending"}, `--status "pending": want failed or succeeded`},
		{[]string{"--since", "yesterday"}, `--since "yesterday"`},
		{[]string{"--since", "1h", "--event-type", "<b>"}, "event_types[0] must be"},
		{[]string{"--follow", "rpl_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C"}, "not found"},
		{[]string{"--follow", "x", "--cancel", "y"}, "--follow and --cancel: give one"},
	} {
		code, _, stderr := e.cli(t, "", append([]string{"message", "replay", "--app", "acme"}, tc.args...)...)
		if code == 0 || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 1 {
			t.Errorf("%v: exit %d, stderr %q; want an error mentioning %q", tc.args, code, stderr, tc.want)
		}
	}
}
