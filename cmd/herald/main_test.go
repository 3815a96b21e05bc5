package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/webhook"
)

// runCLI runs herald in-process and returns its exit code, stdout and stderr.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// fileWriter returns a function that writes a file of content in dir (mode 0600) and
// returns its path; it fails the test when it cannot.
func fileWriter(t *testing.T, dir string) func(name, content string) string {
	return func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
}

// eventually calls check every interval until it returns nil, and fails the test
// with check's last error when timeout has passed first.
func eventually(t *testing.T, timeout, interval time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(interval)
	}
}

// wantOneLineError checks the CLI's error convention: non-zero exit, one line on stderr.
func wantOneLineError(t *testing.T, code int, stderr, contains string) {
	t.Helper()
	if code == 0 {
		t.Fatalf("exit 0, want failure")
	}
	if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "herald: ") {
		t.Errorf("stderr = %q, want one line starting with 'herald: '", stderr)
	}
	if !strings.Contains(stderr, contains) {
		t.Errorf("stderr = %q, want it to mention %q", stderr, contains)
	}
}

func TestSecretNew(t *testing.T) {
	code, out, _ := runCLI(t, "", "secret", "new")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	s, err := webhook.ParseSecret(strings.TrimSpace(out))
	if err != nil || s.Kind() != webhook.HMACKey {
		t.Fatalf("secret new printed %q: %v", out, err)
	}
	code, out, _ = runCLI(t, "", "secret", "new", "--type", "ed25519")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("ed25519 output %q, want two lines", out)
	}
	priv, err1 := webhook.ParseSecret(lines[0][strings.LastIndex(lines[0], " ")+1:])
	pub, err2 := webhook.ParseSecret(lines[1][strings.LastIndex(lines[1], " ")+1:])
	if err1 != nil || err2 != nil || !priv.Public().Equal(pub) {
		t.Fatalf("ed25519 pair %q does not parse as a matching pair: %v %v", out, err1, err2)
	}
	code, _, stderr := runCLI(t, "", "secret", "new", "--type", "rsa")
	wantOneLineError(t, code, stderr, "--type")
}

// The official Standard Webhooks vector, through sign and verify.
const (
	vecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS     = "1614265330"
	vecBody   = `{"test": 2432232314}`
	vecSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignVector(t *testing.T) {
	code, out, stderr := runCLI(t, vecBody, "sign", "--secret", vecSecret, "--id", vecID, "--timestamp", vecTS)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"webhook-id: " + vecID, "webhook-timestamp: " + vecTS, "webhook-signature: " + vecSig} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("sign output %q lacks %q", out, want)
		}
	}
}

func TestVerifyVector(t *testing.T) {
	dir := t.TempDir()
	bodyFile := filepath.Join(dir, "body.json")
	os.WriteFile(bodyFile, []byte(vecBody), 0o600)
	args := []string{"verify", bodyFile, "--secret", vecSecret, "--tolerance", "0",
		"-H", "webhook-id: " + vecID, "-H", "webhook-timestamp: " + vecTS}

	code, out, stderr := runCLI(t, "", append(args, "-H", "webhook-signature: "+vecSig)...)
	if code != 0 || !strings.Contains(out, "verified: provider=standard id="+vecID) {
		t.Fatalf("exit %d, out %q, err %q", code, out, stderr)
	}
	code, _, stderr = runCLI(t, "", append(args, "-H", "webhook-signature: v1,AAAA")...)
	wantOneLineError(t, code, stderr, "invalid_signature")
	if code != 1 {
		t.Errorf("bad signature exit %d, want 1", code)
	}
	// With the default tolerance the 2021 vector is stale.
	code, _, stderr = runCLI(t, "", "verify", bodyFile, "--secret", vecSecret,
		"-H", "webhook-id: "+vecID, "-H", "webhook-timestamp: "+vecTS, "-H", "webhook-signature: "+vecSig)
	wantOneLineError(t, code, stderr, "timestamp_too_old")

	raw := "POST /webhooks HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/json\r\n" +
		"Content-Length: " + strconv.Itoa(len(vecBody)) + "\r\nwebhook-id: " + vecID + "\r\nwebhook-timestamp: " + vecTS +
		"\r\nwebhook-signature: " + vecSig + "\r\n\r\n" + vecBody + "\n"
	code, out, stderr = runCLI(t, raw, "verify", "--request", "--secret", vecSecret, "--tolerance", "0")
	if code != 0 {
		t.Fatalf("raw request: exit %d, out %q, err %q", code, out, stderr)
	}
	code, _, stderr = runCLI(t, "GET / HTTP/1.1\r\n\r\n", "verify", "--request", "--secret", vecSecret)
	wantOneLineError(t, code, stderr, "missing_header")
	code, _, stderr = runCLI(t, "not a request", "verify", "--request", "--secret", vecSecret)
	wantOneLineError(t, code, stderr, "parse request")
	code, _, stderr = runCLI(t, vecBody, "verify", "--secret", vecSecret, "-H", "no-colon")
	wantOneLineError(t, code, stderr, "-H")
}

// TestSignVerifyEveryProvider signs with the CLI and verifies with the CLI, for every provider.
func TestSignVerifyEveryProvider(t *testing.T) {
	body := `{"id":"evt_1","type":"response.completed","data":{"id":"resp_1"}}`
	for _, p := range webhook.ProviderNames() {
		t.Run(p, func(t *testing.T) {
			secret := webhook.NewHMACSecret().Reveal()
			code, out, stderr := runCLI(t, body, "sign", "--provider", p, "--secret", secret, "--type", "response.completed")
			if code != 0 {
				t.Fatalf("sign: exit %d: %s", code, stderr)
			}
			args := []string{"verify", "--provider", p, "--secret", secret}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				args = append(args, "-H", line)
			}
			code, vout, stderr := runCLI(t, body, args...)
			if code != 0 || !strings.Contains(vout, "verified: provider="+p) {
				t.Fatalf("verify: exit %d, out %q, err %q (headers %q)", code, vout, stderr, out)
			}
			code, _, stderr = runCLI(t, body+" ", args...)
			wantOneLineError(t, code, stderr, "invalid_signature")
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"secret", "--help"}, {"secret", "new", "--help"}, {"sign", "--help"},
		{"verify", "--help"}, {"trigger", "--help"}, {"version", "--help"},
	} {
		code, out, stderr := runCLI(t, "", args...)
		if code != 0 || !strings.Contains(out, "Usage:") || stderr != "" {
			t.Errorf("%v: exit %d, stderr %q, output lacks Usage", args, code, stderr)
		}
	}
	code, out, _ := runCLI(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "herald ") || !strings.Contains(out, " sqlite/") {
		t.Errorf("version: exit %d, %q", code, out)
	}
}
