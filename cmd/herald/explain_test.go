package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/api/apitest"
	"github.com/heraldhq/herald/webhook"
)

// TestVerifyExplain runs herald verify --explain and --json on requests with a mistake
// in them, and on a good one.
func TestVerifyExplain(t *testing.T) {
	write := fileWriter(t, t.TempDir())
	compact := write("compact.json", `{"test":2432232314}`) // the vector's body, re-serialised
	signed := write("signed.json", vecBody)
	vector := []string{"--secret", vecSecret, "-H", "webhook-id: " + vecID, "-H", "webhook-timestamp: " + vecTS, "-H", "webhook-signature: " + vecSig}
	verify := func(args ...string) (int, string, string) {
		return runCLI(t, "", append([]string{"verify"}, args...)...)
	}

	// A body re-serialised, explained in text: one line per finding and one per hint.
	code, out, stderr := verify(append([]string{compact, "--explain", "--tolerance", "0"}, vector...)...)
	wantOneLineError(t, code, stderr, "not verified: invalid_signature")
	if code != 1 || !strings.Contains(out, "- body_changed (confirmed): The body was re-serialised") || !strings.Contains(out, "\n  hint: Verify the raw bytes") {
		t.Fatalf("exit %d, out:\n%s", code, out)
	}

	// The same as JSON, with the timestamp check on: two findings.
	code, out, stderr = verify(append([]string{compact, "--json"}, vector...)...)
	wantOneLineError(t, code, stderr, "not verified: timestamp_too_old")
	var res verifyResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json printed %q: %v", out, err)
	}
	if res.Verified || res.Code != "timestamp_too_old" || len(res.Findings) != 2 || res.Findings[0].Code != "body_changed" || !res.Findings[0].Confirmed ||
		res.Findings[1].Code != "timestamp_skew" || !strings.Contains(res.Findings[1].Message, "days in the past") {
		t.Fatalf("--json: %s", out)
	}

	// A good request: exit 0, with or without --json.
	code, out, _ = verify(append([]string{signed, "--explain", "--tolerance", "0"}, vector...)...)
	if code != 0 || !strings.HasPrefix(out, "verified: provider=standard id="+vecID) {
		t.Fatalf("verified with --explain: exit %d, %q", code, out)
	}
	code, out, _ = verify(append([]string{signed, "--json", "--tolerance", "0"}, vector...)...)
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || !res.Verified || res.ID != vecID || res.Timestamp == nil || len(res.Findings) != 0 {
		t.Fatalf("verified with --json: exit %d, %s", code, out)
	}

	// A public key given to an HMAC scheme: the verifier refuses the configuration,
	// and --explain says why instead.
	pub := webhook.NewEd25519Key().Public().Reveal()
	code, _, stderr = verify(signed, "--provider", "openai", "--secret", pub, "-H", "webhook-id: x")
	wantOneLineError(t, code, stderr, "invalid configuration")
	code, out, stderr = verify(signed, "--provider", "openai", "--secret", pub, "-H", "webhook-id: x", "--explain")
	wantOneLineError(t, code, stderr, "not verified: invalid_config")
	if !strings.Contains(out, "- secret_wrong_kind: The secret is a Standard Webhooks Ed25519 public key") || strings.Contains(out+stderr, pub[5:]) {
		t.Fatalf("public key: %s", out)
	}

	// Signed with a secret rotated out.
	old := webhook.NewHMACSecret().Reveal()
	p, _ := webhook.NewOpenAI(old)
	h, _ := p.Sign(webhook.Delivery{ID: "msg_1", Timestamp: time.Now()}, []byte(vecBody))
	args := []string{signed, "--provider", "openai", "--secret", webhook.NewHMACSecret().Reveal(), "--retired-secret", old, "--explain"}
	for k := range h {
		args = append(args, "-H", k+": "+h.Get(k))
	}
	code, out, _ = verify(args...)
	if code != 1 || !strings.Contains(out, "- rotated_secret (confirmed): The request is signed with the retired secret") {
		t.Fatalf("rotated: exit %d\n%s", code, out)
	}

	// GitHub's SHA-1 header alone, from a raw request.
	raw := "POST /hook HTTP/1.1\r\nHost: x\r\nX-Hub-Signature: sha1=0000000000000000000000000000000000000000\r\nContent-Length: 2\r\n\r\n{}"
	code, out, _ = runCLI(t, raw, "verify", "--request", "--provider", "github", "--secret", "s3cret", "--explain")
	if code != 1 || !strings.Contains(out, "- misnamed_header: Only the legacy X-Hub-Signature") {
		t.Fatalf("sha1: exit %d\n%s", code, out)
	}

	// A secret is still required.
	t.Setenv(secretEnv, "")
	code, _, stderr = verify(signed, "--explain")
	wantOneLineError(t, code, stderr, "a secret is required")
	if code != 2 {
		t.Fatalf("no secret: exit %d, want 2", code)
	}
}

// TestRejectionDiagnosis sends requests with mistakes to a real server's gateway and
// checks that each rejection carries its diagnosis through the API and the CLI, without
// the secret.
func TestRejectionDiagnosis(t *testing.T) {
	url, key := inProcessServer(t)
	c := client.New(url, key, apitest.HTTPClient(t))
	ctx := context.Background()
	app, err := c.CreateApp(ctx, client.AppInput{Name: "d", UID: "diag"})
	if err != nil {
		t.Fatal(err)
	}
	secret := webhook.NewHMACSecret().Reveal()
	src, err := c.CreateSource(ctx, app.ID, client.SourceInput{Provider: "stripe", Secret: secret, MaxBodyBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	post := func(h http.Header, body string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", url+"/in/"+src.ID, strings.NewReader(body))
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	signed := `{"id":"evt_1","object":"event","type":"payment_intent.succeeded","data":{"object":{"amount":2000}}}`
	stripe, _ := webhook.NewStripe(secret)
	h, _ := stripe.Sign(webhook.Delivery{}, []byte(signed))
	var indented bytes.Buffer
	_ = json.Indent(&indented, []byte(signed), "", "  ")
	if st := post(h, indented.String()); st != http.StatusUnauthorized {
		t.Fatalf("re-serialised body: %d", st)
	}
	github, _ := webhook.NewGitHub(secret)
	gh, _ := github.Sign(webhook.Delivery{Type: "push"}, []byte(signed))
	if st := post(gh, signed); st != http.StatusBadRequest {
		t.Fatalf("GitHub's headers: %d", st)
	}
	if st := post(h, strings.Repeat(" ", 2048)); st != http.StatusRequestEntityTooLarge {
		t.Fatalf("too large: %d", st)
	}

	rs, _, err := c.ListRejections(ctx, app.ID, src.ID, client.ListParams{})
	if err != nil || len(rs) != 3 {
		t.Fatalf("ListRejections = %d, %v", len(rs), err)
	}
	for i, want := range []string{"", "wrong_provider", "body_changed"} { // newest first
		d := rs[i].Diagnosis
		if want == "" {
			if d == nil || len(d) != 0 {
				t.Fatalf("rejection %s (%s) has diagnosis %#v, want an empty list", rs[i].ID, rs[i].Code, d)
			}
			continue
		}
		if len(d) == 0 || d[0].Code != want || !d[0].Confirmed || d[0].Hint == "" {
			t.Fatalf("rejection %s (%s): diagnosis %+v, want %s first, confirmed", rs[i].ID, rs[i].Code, d, want)
		}
	}
	if !strings.Contains(rs[1].Diagnosis[0].Message, "verifies as github") {
		t.Errorf("wrong provider: %q", rs[1].Diagnosis[0].Message)
	}

	cli := func(extra ...string) string {
		t.Helper()
		args := append([]string{"source", "rejections", "--app", "diag", src.ID, "--server", url, "--api-key", key}, extra...)
		code, out, stderr := runCLI(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d, %s", extra, code, stderr)
		}
		if strings.Contains(out, secret) || strings.Contains(out, strings.TrimPrefix(secret, "whsec_")) {
			t.Fatalf("%v shows the secret:\n%s", extra, out)
		}
		return out
	}
	table := cli()
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], "DIAGNOSIS") || !strings.Contains(lines[1], " - ") ||
		!strings.Contains(lines[2], "wrong_provider") || !strings.Contains(lines[3], "body_changed") {
		t.Fatalf("the table:\n%s", table)
	}
	explained := cli("--explain")
	col := strings.Index(strings.Split(explained, "\n")[0], "MESSAGE")
	for _, want := range []string{"- wrong_provider (confirmed): The request carries the headers of GitHub", "- body_changed (confirmed): The body was re-serialised", "  hint: Verify the raw bytes"} {
		i := strings.Index(explained, want)
		if i < 0 {
			t.Fatalf("--explain lacks %q:\n%s", want, explained)
		}
		if start := strings.LastIndex(explained[:i], "\n") + 1; i-start != col {
			t.Errorf("%q starts in column %d, want %d (under MESSAGE):\n%s", want, i-start, col, explained)
		}
	}
	if js := cli("--json"); !strings.Contains(js, `"diagnosis": [`) || !strings.Contains(js, `"code": "body_changed"`) {
		t.Fatalf("--json:\n%s", js)
	}
}
