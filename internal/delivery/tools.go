package delivery

import (
	"context"
	"fmt"
	"net/http"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/outbound"
	"github.com/heraldhq/herald/internal/transform"
)

// tools are what the sends of one endpoint need besides its configuration: its compiled
// transformation and the HTTP client that carries its credentials. They are prepared
// when the endpoint is loaded and kept across reloads while its transformation and
// credentials stay the same, so that a script is compiled once and an OAuth2 token and
// a client certificate's connections outlive the cache's 10 s reloads.
type tools struct {
	script    *transform.Script // nil: no transformation, or it failed to compile
	scriptErr error             // why the endpoint's transformation did not compile
	auth      *domain.Auth      // the credentials client was made for; nil: none
	client    *http.Client      // nil: the sender's shared client
	out       *outbound.Client  // client's transport, to close when dropped
	clientErr error             // why no client could be made for auth
}

// prepareTools returns the tools for cfg, reusing what old has when it still fits.
// It compiles a changed transformation, which runs the script's top level once.
func (e *Engine) prepareTools(ctx context.Context, cfg *domain.Endpoint, old tools) tools {
	t := old
	switch {
	case cfg.Transformation == "":
		t.script, t.scriptErr = nil, nil
	case old.script == nil || old.script.Source() != cfg.Transformation:
		// A script that failed to compile (perhaps timed out on a busy machine) is
		// compiled again at the next load.
		t.script, t.scriptErr = nil, nil
		script, err := e.transforms.Compile(ctx, cfg.Transformation)
		if err != nil {
			t.scriptErr = fmt.Errorf("compile the endpoint's transformation: %w", err)
		} else {
			t.script = script
		}
	}
	if !cfg.Auth.Equal(old.auth) || old.clientErr != nil {
		t.auth, t.client, t.out, t.clientErr = cfg.Auth, nil, nil, nil
		if cfg.Auth != nil {
			t.client, t.out, t.clientErr = e.sender.clientFor(*cfg.Auth)
		}
	}
	return t
}

// dropTools releases what old holds that next does not: the connections of a client
// made for credentials that changed, or of a deleted endpoint (next is then zero).
func dropTools(old, next tools) {
	if old.out != nil && old.out != next.out {
		old.out.CloseIdleConnections()
	}
}

// clientFor returns an HTTP client that authenticates with auth: through the shared
// transport, or a clone of it with auth's TLS settings; OAuth2 tokens are fetched
// through the guarded token client.
func (s *sender) clientFor(auth domain.Auth) (*http.Client, *outbound.Client, error) {
	oc, err := outbound.NewClient(auth, s.transport, s.tokenClient)
	if err != nil {
		return nil, nil, fmt.Errorf("the endpoint's credentials: %w", err)
	}
	return &http.Client{Transport: oc, CheckRedirect: noRedirect}, oc, nil
}

// noRedirect makes an http.Client answer a redirect instead of following it: a webhook
// sender never follows redirects (a 3xx is a failed attempt), and a token request does
// not carry client credentials elsewhere.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
