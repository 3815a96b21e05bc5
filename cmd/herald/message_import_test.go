package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/store"
)

func TestMessageImport(t *testing.T) {
	e := newAPIEnv(t)
	var app struct{ ID string }
	e.okJSON(t, &app, "app", "create", "--name", "Acme", "--uid", "acme")
	e.ok(t, "endpoint", "create", "--app", "acme", "--url", "https://example.com/hook", "--events", "invoice.*")
	e.ok(t, "message", "create", "--app", "acme", "--type", "invoice.paid", "--payload", `{"id":"in_0"}`, "--idempotency-key", "in_0")

	file := filepath.Join(t.TempDir(), "events.jsonl")
	lines := "\ufeff" + `{"type":"invoice.paid","payload":{"id":"in_1","amount":4200},"idempotency_key":"in_1"}

{"type":"invoice.paid","payload":{"id":"in_0"},"idempotency_key":"in_0"}
{"type":"customer.created","payload":{"id":"cus_1","html":"<b>"}}
  {"type":"invoice.voided","payload":{ "id" : "in_2" }}` + "\r\n"
	if err := os.WriteFile(file, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	out := e.ok(t, "message", "import", "--app", "acme", "--file", file, "--batch", "3")
	if detail(t, out, "published") != "3 messages" || detail(t, out, "requests") != "2 (up to 3 messages each)" ||
		detail(t, out, "deliveries") != "2 queued" || !strings.HasPrefix(detail(t, out, "duplicates"), "1 ") {
		t.Errorf("message import:\n%s", out)
	}
	msgs, _, err := e.st.ListMessages(context.Background(), store.MessageFilter{AppID: app.ID, Page: store.Page{Limit: 10}})
	if err != nil {
		t.Fatal(err)
	}
	byType := map[string]string{}
	for _, m := range msgs {
		byType[m.Type] += string(m.Payload)
	}
	if len(msgs) != 4 || byType["invoice.paid"] != `{"id":"in_1","amount":4200}{"id":"in_0"}` && byType["invoice.paid"] != `{"id":"in_0"}{"id":"in_1","amount":4200}` ||
		byType["customer.created"] != `{"id":"cus_1","html":"<b>"}` || byType["invoice.voided"] != `{ "id" : "in_2" }` {
		t.Errorf("stored messages (payloads byte for byte): %v", byType)
	}

	// Again, from stdin, with --json: every message is now a duplicate or new again
	// (the two without keys).
	var res []importedMessage
	code, stdout, stderr := e.cli(t, lines, "message", "import", "--app", "acme", "--json")
	if code != 0 {
		t.Fatalf("import from stdin: exit %d: %s", code, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("import --json printed %q: %v", stdout, err)
	}
	if len(res) != 4 || res[0].Line != 1 || !res[0].Duplicate || res[1].Line != 3 || !res[1].Duplicate ||
		res[2].Duplicate || res[2].Deliveries != 0 || res[3].Line != 5 || res[3].Deliveries != 1 || !strings.HasPrefix(res[3].ID, "msg_") {
		t.Errorf("import --json: %+v", res)
	}

	// A request that fails midway says which lines were published.
	big := `{"type":"invoice.paid","payload":{"pad":"` + strings.Repeat("x", 300<<10) + `"}}`
	if err := os.WriteFile(file, []byte(`{"type":"invoice.paid","payload":{"id":"in_3"}}`+"\n"+big+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = e.cli(t, "", "message", "import", "--app", "acme", "--file", file, "--batch", "1")
	wantOneLineError(t, code, stderr, "import lines 2-2: payload_too_large")
	if !strings.Contains(stderr, "the 1 messages of lines 1-1 were published") {
		t.Errorf("partial import error %q does not say what was published", stderr)
	}
	// An error about one message of a batch names its line.
	bad := `{"type":"invoice.paid","payload":{}}` + "\n\n" + `{"type":"invoice paid","payload":{}}` + "\n"
	code, _, stderr = e.cli(t, bad, "message", "import", "--app", "acme")
	wantOneLineError(t, code, stderr, "(messages[1] is line 3); nothing was published")
}

func TestMessageImportErrors(t *testing.T) {
	e := newAPIEnv(t)
	var app struct{ ID string }
	e.okJSON(t, &app, "app", "create", "--name", "Acme", "--uid", "acme")
	dir := t.TempDir()
	write := fileWriter(t, dir)
	good := `{"type":"a.b","payload":{}}` + "\n"
	e.wantErrors(t, []string{"message", "import", "--app", "acme"}, []cliError{
		{"not JSON", "", []string{"--file", write("bad.jsonl", good+"{nope\n")}, 1, "bad.jsonl line 2: not a message object"},
		{"unknown field", good + `{"typ":"a.b","payload":{}}`, nil, 1, `stdin line 2: not a message object: json: unknown field "typ"`},
		{"no type", `{"payload":{}}`, nil, 1, `line 1: "type" is required`},
		{"no payload", `{"type":"a.b"}`, nil, 1, `line 1: "payload" is required`},
		{"payload not an object", `{"type":"a.b","payload":[1]}`, nil, 1, "must be a JSON object"},
		{"two values on a line", `{"type":"a.b","payload":{}} {"type":"a.b","payload":{}}`, nil, 1, "one message per line"},
		{"empty input", "\n\n", nil, 1, "stdin: no messages to import"},
		{"missing file", "", []string{"--file", filepath.Join(dir, "nope.jsonl")}, 1, "nope.jsonl"},
		{"bad --batch", good, []string{"--batch", "1001"}, 2, "--batch"},
		{"unknown app", good, []string{"--app", "nope"}, 1, "nothing was published"},
	})
	msgs, _, err := e.st.ListMessages(context.Background(), store.MessageFilter{AppID: app.ID, Page: store.Page{Limit: 10}})
	if err != nil || len(msgs) > 0 {
		t.Errorf("failed imports stored %d messages (%v)", len(msgs), err)
	}
}
