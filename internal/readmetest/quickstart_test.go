// Package readmetest runs the README's quick start as a reader would paste it.
package readmetest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testaddr"
)

// quickStartBlocks returns the ```sh blocks of the README's "## Quick start" section, in order.
func quickStartBlocks(readme string) ([]string, error) {
	start := strings.Index(readme, "\n## Quick start\n")
	if start < 0 {
		return nil, errors.New(`README.md has no "## Quick start" section`)
	}
	section := readme[start+1:]
	if end := strings.Index(section[1:], "\n## "); end >= 0 {
		section = section[:end+2] // through the newline before the next heading
	}
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)\n```sh\n(.*?)\n```\n").FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, m[1])
	}
	if len(blocks) == 0 {
		return nil, errors.New("the quick start has no ```sh blocks")
	}
	return blocks, nil
}

func TestQuickStartBlocks(t *testing.T) {
	blocks, err := quickStartBlocks("intro\n## Quick start\ntext\n```sh\necho 1\n```\nmore\n```sh\necho 2\necho 3\n```\n## Next\n```sh\necho no\n```\n")
	if err != nil || len(blocks) != 2 || blocks[0] != "echo 1" || blocks[1] != "echo 2\necho 3" {
		t.Fatalf("blocks = %q, %v", blocks, err)
	}
	if _, err := quickStartBlocks("# no such section\n"); err == nil {
		t.Fatal("a README without a quick start passed")
	}
}

// checkout lays out the repository in a new directory of symbolic links (its
// top-level entries, less what builds and runs leave), so that what the blocks write
// (logs, herald-data) stays out of the working tree.
func checkout(t *testing.T, repo string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(repo)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch name := e.Name(); {
		case name == ".git", name == "herald-data", name == "herald", name == "bin", strings.HasSuffix(name, ".log"):
		default:
			if err := os.Symlink(filepath.Join(repo, name), filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// TestQuickStart runs the README's quick-start blocks as written, in one bash, on free
// loopback ports (HERALD_ADDR and HERALD_SERVER for the server, ADDR for the receiver,
// which the README honours), with herald installed by the README's own go install into
// a temporary GOBIN on the PATH. Then the receiver must have logged the three events.
func TestQuickStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds herald and runs the README's quick start (a minute or more)")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := quickStartBlocks(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	dir := checkout(t, repo)
	bin := filepath.Join(t.TempDir(), "bin")
	serverAddr, receiverAddr := testaddr.Free(t), testaddr.Free(t)
	env := []string{"GOBIN=" + bin, "PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HERALD_ADDR=" + serverAddr, "HERALD_SERVER=http://" + serverAddr, "ADDR=" + receiverAddr, "GOFLAGS=-buildvcs=false"}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "HERALD_"), name == "GOBIN", name == "PATH", name == "ADDR", name == "OPENAI_WEBHOOK_SECRET", name == "GOFLAGS":
		default:
			env = append(env, kv)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	script := "set -euo pipefail\n" + strings.Join(blocks, "\n") + "\n"
	cmd := exec.CommandContext(ctx, bash, "-c", script)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the background programs too, for the cleanup
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }) // the server, receiver and listener the blocks left running
	err = cmd.Wait()
	logs := func() string {
		s := "output:\n" + out.String()
		for _, f := range []string{"receiver.log", "herald.log", "listen.log"} {
			b, _ := os.ReadFile(filepath.Join(dir, f))
			s += "\n" + f + ":\n" + string(b)
		}
		return s
	}
	if ctx.Err() != nil {
		t.Fatalf("the quick start did not finish in time\n%s", logs())
	}
	if err != nil {
		t.Fatalf("the quick start failed: %v\n%s", err, logs())
	}

	// What the blocks printed: the version, the receiver's answer to the trigger, the
	// source's URL to paste.
	for _, want := range []string{`herald \S+ \(commit \S+\)`, `200 OK`, `ingest_url\s+http://` + regexp.QuoteMeta(serverAddr) + `/in/openai-dev`, `Paste this URL into OpenAI`} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("the output lacks %q\n%s", want, logs())
		}
	}
	// The receiver logs three completed responses: triggered directly, delivered by
	// herald to its endpoint, and received by the source and forwarded by herald listen,
	// which shows the receiver's answer.
	completed, answered := regexp.MustCompile(`response \S+ completed`), regexp.MustCompile(`<-- 200 POST /webhooks`)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		received, _ := os.ReadFile(filepath.Join(dir, "receiver.log"))
		listened, _ := os.ReadFile(filepath.Join(dir, "listen.log"))
		n := len(completed.FindAll(received, -1))
		if n == 3 && answered.Match(listened) {
			break
		}
		if n > 3 || time.Now().After(deadline) {
			t.Fatalf("the receiver logged %d completed responses, want 3, and listen.log its answer 200\n%s", n, logs())
		}
	}
}
