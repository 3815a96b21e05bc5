package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/api/apitest"
	"github.com/heraldhq/herald/internal/server/servertest"
	"github.com/heraldhq/herald/webhook"
)

// inProcessServer runs a whole herald server on a loopback port for CLI tests.
func inProcessServer(t *testing.T) (url, key string) {
	t.Helper()
	srv := servertest.Start(t, nil)
	return srv.URL, srv.APIKey
}

// TestTriggerThroughServer injects samples through a source (signed as the source's
// provider) and through an app (published), and checks both reach the app's endpoint.
func TestTriggerThroughServer(t *testing.T) {
	url, key := inProcessServer(t)
	c := client.New(url, key, apitest.HTTPClient(t))
	ctx := context.Background()
	app := servertest.NewApp(t, c, client.AppInput{Name: "t", UID: "trig"})
	var mu sync.Mutex
	var got []webhook.Delivery
	var verifier *webhook.Standard
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		d, err := verifier.Verify(body, r.Header)
		if err != nil {
			t.Errorf("forwarded webhook does not verify: %v", err)
		}
		got = append(got, d)
	}))
	defer recv.Close()
	ep, err := c.CreateEndpoint(ctx, app.ID, client.EndpointInput{URL: recv.URL})
	if err != nil {
		t.Fatal(err)
	}
	secrets, _ := c.EndpointSecrets(ctx, app.ID, ep.ID)
	mu.Lock()
	verifier, _ = webhook.NewStandard(secrets[0].Secret)
	mu.Unlock()
	for _, provider := range []string{"openai", "stripe", "github"} {
		secret := "provider-secret-0123456789abcdef"
		if provider == "openai" {
			secret = webhook.NewHMACSecret().Reveal()
		}
		src, err := c.CreateSource(ctx, app.ID, client.SourceInput{Provider: provider, Secret: secret})
		if err != nil {
			t.Fatal(err)
		}
		code, out, stderr := runCLI(t, "", "trigger", "response.completed", "--source", src.ID, "--server", url, "--api-key", key)
		if code != 0 || !strings.Contains(out, "<-- 200 OK") {
			t.Fatalf("trigger --source (%s): exit %d, %q %q", provider, code, out, stderr)
		}
	}
	code, out, stderr := runCLI(t, "", "trigger", "batch.completed", "--app", "trig", "--server", url, "--api-key", key)
	if code != 0 || !strings.Contains(out, "published as msg_") || !strings.Contains(out, "1 endpoint(s)") {
		t.Fatalf("trigger --app: exit %d, %q %q", code, out, stderr)
	}
	eventually(t, 10*time.Second, 10*time.Millisecond, func() error {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n != 4 {
			return fmt.Errorf("the endpoint got %d webhooks, want 4", n)
		}
		return nil
	})
	code, _, stderr = runCLI(t, "", "trigger", "response.completed", "--source", "src_01JD3Q0J8ZV4WZ2S7X8Y9A0B1C", "--server", url, "--api-key", key)
	wantOneLineError(t, code, stderr, "not_found")
}
