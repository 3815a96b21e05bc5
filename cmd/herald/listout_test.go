package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
	"github.com/heraldhq/herald/internal/store"
)

// ttyReader and ttyBuffer act as a terminal for the commands that ask or draw progress.
type ttyReader struct{ *strings.Reader }

func (ttyReader) IsTerminal() bool { return true }

type ttyBuffer struct{ bytes.Buffer }

func (*ttyBuffer) IsTerminal() bool { return true }

// runStreams runs herald in-process with the given stdin and stderr.
func runStreams(stdin io.Reader, stderr io.Writer, args ...string) (int, string) {
	var out bytes.Buffer
	code := run(context.Background(), args, stdin, &out, stderr)
	return code, out.String()
}

// apiGet returns the API's answer to GET path, decoded.
func (e *apiEnv) apiGet(t *testing.T, path string) any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+e.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestListOutput checks every list command: --json prints exactly what the API answers
// ({"data": [...], "next_cursor": ...}), -q the ids alone, one per line.
func TestListOutput(t *testing.T) {
	e := newAPIEnv(t)
	ctx := context.Background()
	var app struct{ ID string }
	e.okJSON(t, &app, "app", "create", "--name", "Acme", "--uid", "acme")
	e.ok(t, "app", "create", "--name", "Other")
	e.ok(t, "endpoint", "create", "--app", "acme", "--url", "https://example.com/a")
	e.ok(t, "endpoint", "create", "--app", "acme", "--url", "https://example.com/b")
	var src struct{ ID string }
	e.okJSON(t, &src, "source", "create", "--app", "acme", "--provider", "github", "--secret", "s3cret", "--uid", "gh-main")
	e.ok(t, "source", "create", "--app", "acme", "--provider", "stripe", "--secret", "whsec_x")
	for i := range 3 {
		e.ok(t, "message", "create", "--app", "acme", "--type", "invoice.paid", "--payload", fmt.Sprintf(`{"n":%d,"html":"<b>&</b>"}`, i))
	}
	if _, err := e.st.Publish(ctx, &store.PublishInput{Message: &domain.Message{ID: ids.New("msg"), AppID: app.ID, Type: "push", Payload: []byte(`{"ref":"main"}`),
		SourceID: src.ID, Headers: map[string]string{"Content-Type": "application/json"}, CreatedAt: time.Now().UTC()}}); err != nil {
		t.Fatal(err)
	}
	ss := e.st.(store.SourceStore)
	for range 2 {
		if err := ss.RecordRejection(ctx, &domain.Rejection{ID: ids.New("rej"), SourceID: src.ID, AppID: app.ID, Status: 401,
			Code: "invalid_signature", Message: "no", Headers: map[string]string{}}); err != nil {
			t.Fatal(err)
		}
	}
	dlv := finishDue(t, e.st, 500)[0].ID

	tests := []struct {
		args []string
		path string // the API's route for the same page
	}{
		{[]string{"app", "list"}, "/v1/apps"},
		{[]string{"app", "list", "--limit", "1"}, "/v1/apps?limit=1"},
		{[]string{"endpoint", "list", "--app", "acme"}, "/v1/apps/acme/endpoints"},
		{[]string{"message", "list", "--app", "acme", "--limit", "2"}, "/v1/apps/acme/messages?limit=2"},
		{[]string{"delivery", "list", "--app", "acme"}, "/v1/apps/acme/deliveries"},
		{[]string{"delivery", "attempts", "--app", "acme", dlv}, "/v1/apps/acme/deliveries/" + dlv + "/attempts"},
		{[]string{"source", "list", "--app", "acme"}, "/v1/apps/acme/sources"},
		{[]string{"source", "events", "--app", "acme", "gh-main"}, "/v1/apps/acme/messages?source_id=" + src.ID},
		{[]string{"source", "rejections", "--app", "acme", "gh-main"}, "/v1/apps/acme/sources/" + src.ID + "/rejections"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[:2], " "), func(t *testing.T) {
			want := e.apiGet(t, tt.path)
			data := want.(map[string]any)["data"].([]any)
			if len(data) == 0 {
				t.Fatalf("GET %s: no records to list", tt.path)
			}
			var got any
			out := e.ok(t, append(tt.args, "--json")...)
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("--json printed %q: %v", out, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("--json printed\n%s\nwant the API's answer\n%v", out, want)
			}
			var ids []string
			for _, r := range data {
				ids = append(ids, r.(map[string]any)["id"].(string))
			}
			if out := e.ok(t, append(tt.args, "-q")...); out != strings.Join(ids, "\n")+"\n" {
				t.Errorf("-q printed %q, want the ids %v", out, ids)
			}
			code, _, stderr := e.cli(t, "", append(tt.args, "-q", "--json")...)
			wantOneLineError(t, code, stderr, "choose one")
		})
	}

	// --all gathers every page into one answer, without a cursor; a page says where the next starts.
	var all apiList[map[string]any]
	e.okJSON(t, &all, "message", "list", "--app", "acme", "--limit", "1", "--all")
	if len(all.Data) != 4 || all.NextCursor != "" {
		t.Errorf("message list --limit 1 --all --json: %d records, cursor %q", len(all.Data), all.NextCursor)
	}
	var page apiList[map[string]any]
	e.okJSON(t, &page, "message", "list", "--app", "acme", "--limit", "1")
	if len(page.Data) != 1 || page.NextCursor != page.Data[0]["id"] {
		t.Errorf("message list --limit 1 --json: %+v", page)
	}
	if out := e.ok(t, "app", "list", "-q", "--all", "--limit", "1"); strings.Count(out, "\n") != 2 || !strings.Contains(out, app.ID+"\n") {
		t.Errorf("app list -q --all: %q", out)
	}
}

// TestAppDeleteConfirms checks that app delete asks at a terminal, refuses without one,
// and deletes at once with --yes.
func TestAppDeleteConfirms(t *testing.T) {
	e := newAPIEnv(t)
	e.ok(t, "app", "create", "--name", "Acme", "--uid", "acme")
	e.ok(t, "app", "create", "--name", "Beta", "--uid", "beta")
	flags := []string{"--server", e.url, "--api-key", e.key}
	exists := func(uid string) bool {
		code, _, _ := e.cli(t, "", "app", "get", uid)
		return code == 0
	}

	// No terminal (a script, CI): refused, with one line, and nothing deleted.
	code, _, stderr := e.cli(t, "acme\n", "app", "delete", "acme")
	wantOneLineError(t, code, stderr, "--yes")
	if code != 2 || !exists("acme") {
		t.Fatalf("without a terminal: exit %d, app exists %v", code, exists("acme"))
	}

	// At a terminal, a wrong answer deletes nothing.
	var errOut ttyBuffer
	code, _ = runStreams(ttyReader{strings.NewReader("y\n")}, &errOut, append([]string{"app", "delete", "acme"}, flags...)...)
	if code == 0 || !exists("acme") || !strings.Contains(errOut.String(), `Type "acme" to confirm`) || !strings.Contains(errOut.String(), "not deleted") {
		t.Fatalf("a wrong answer: exit %d, stderr %q", code, errOut.String())
	}
	// The right answer deletes it.
	errOut.Reset()
	code, out := runStreams(ttyReader{strings.NewReader("acme\n")}, &errOut, append([]string{"app", "delete", "acme"}, flags...)...)
	if code != 0 || exists("acme") || out != "deleted app acme\n" || !strings.Contains(errOut.String(), `"Acme", uid acme`) {
		t.Fatalf("the right answer: exit %d, out %q, stderr %q", code, out, errOut.String())
	}
	// An unknown app is reported before asking.
	errOut.Reset()
	code, _ = runStreams(ttyReader{strings.NewReader("nope\n")}, &errOut, append([]string{"app", "delete", "nope"}, flags...)...)
	if code != 1 || !strings.Contains(errOut.String(), "not_found") || strings.Contains(errOut.String(), "confirm") {
		t.Fatalf("an unknown app: exit %d, stderr %q", code, errOut.String())
	}
	// --yes deletes without asking, with or without a terminal.
	if out := e.ok(t, "app", "delete", "beta", "--yes"); out != "deleted app beta\n" || exists("beta") {
		t.Fatalf("--yes: %q", out)
	}
}

// TestMessageImportProgress checks that an import shows its progress on a terminal, and
// not in a pipe or with -q.
func TestMessageImportProgress(t *testing.T) {
	e := newAPIEnv(t)
	e.ok(t, "app", "create", "--name", "Acme", "--uid", "acme")
	var lines strings.Builder
	for i := range 5 {
		fmt.Fprintf(&lines, `{"type":"invoice.paid","payload":{"n":%d}}`+"\n", i)
	}
	args := []string{"message", "import", "--app", "acme", "--batch", "2", "--server", e.url, "--api-key", e.key}

	var tty ttyBuffer
	code, out := runStreams(strings.NewReader(lines.String()), &tty, args...)
	progress := tty.String()
	if code != 0 || !strings.Contains(out, "5 messages") {
		t.Fatalf("import: exit %d, out %q, stderr %q", code, out, progress)
	}
	for _, want := range []string{"imported 2 of 5 messages (40%)", "imported 4 of 5 messages (80%)", "imported 5 of 5 messages (100%)"} {
		if !strings.Contains(progress, want) {
			t.Errorf("progress %q lacks %q", progress, want)
		}
	}
	if !strings.HasSuffix(progress, "\n") || !strings.Contains(progress, "/s") {
		t.Errorf("progress %q: want a rate, and a final newline", progress)
	}

	tty.Reset()
	if code, _ := runStreams(strings.NewReader(lines.String()), &tty, append(args, "-q")...); code != 0 || tty.Len() != 0 {
		t.Errorf("import -q: exit %d, stderr %q", code, tty.String())
	}
	var pipe bytes.Buffer
	if code, _ := runStreams(strings.NewReader(lines.String()), &pipe, args...); code != 0 || pipe.Len() != 0 {
		t.Errorf("import to a pipe: exit %d, stderr %q", code, pipe.String())
	}
}

// TestSourceCreatePrintsTheURL checks that source create prints the URL to paste, says
// where, and warns that a loopback URL is out of a provider's reach; and that every
// source command takes the uid.
func TestSourceCreatePrintsTheURL(t *testing.T) {
	e := newAPIEnv(t)
	e.ok(t, "app", "create", "--name", "Acme", "--uid", "acme")
	code, out, stderr := e.cli(t, "", "source", "create", "--app", "acme", "--provider", "github", "--secret", "s3cret", "--uid", "gh-main")
	if code != 0 || detail(t, out, "uid") != "gh-main" || detail(t, out, "ingest_url") != e.url+"/in/gh-main" {
		t.Fatalf("source create: exit %d\n%s", code, out)
	}
	if !strings.Contains(stderr, "Paste this URL into GitHub") || !strings.Contains(stderr, "\n  "+e.url+"/in/gh-main\n") || !strings.Contains(stderr, "a loopback address") {
		t.Errorf("source create stderr:\n%s", stderr)
	}
	if out := e.ok(t, "source", "get", "--app", "acme", "gh-main"); detail(t, out, "provider") != "github" {
		t.Errorf("source get by uid:\n%s", out)
	}
	out = e.ok(t, "source", "update", "--app", "acme", "gh-main", "--uid", "")
	id := detail(t, out, "id")
	if detail(t, out, "uid") != "-" || detail(t, out, "ingest_url") != e.url+"/in/"+id {
		t.Errorf("source update --uid '':\n%s", out)
	}
	code, _, stderr = e.cli(t, "", "source", "update", "--app", "acme", id, "--uid", "Not A Slug")
	wantOneLineError(t, code, stderr, "lowercase slug")
	if out := e.ok(t, "source", "delete", "--app", "acme", id); out != "deleted source "+id+"\n" {
		t.Errorf("source delete: %q", out)
	}
}
