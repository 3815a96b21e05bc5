package outbound

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/domain"
)

// Token caching bounds.
const (
	tokenTimeout   = 30 * time.Second // one token request
	defaultExpiry  = 5 * time.Minute  // a token answered without expires_in
	earlyRefresh   = 30 * time.Second // refresh this long before expiry
	maxTokenAnswer = 64 << 10
)

// tokenSource fetches OAuth2 client-credentials tokens and caches them until shortly
// before they expire. Concurrent callers that find no valid token share one fetch.
type tokenSource struct {
	auth   domain.Auth
	client *http.Client
	now    func() time.Time

	mu       sync.Mutex
	tok      string
	exp      time.Time
	inflight *tokenFetch
}

// tokenFetch is one token request that several callers may wait for.
type tokenFetch struct {
	done chan struct{}
	tok  string
	err  error
}

func newTokenSource(auth domain.Auth, client *http.Client) *tokenSource {
	return &tokenSource{auth: auth, client: client, now: time.Now}
}

// token returns a valid token, fetching one if none is cached.
func (ts *tokenSource) token(ctx context.Context) (string, error) {
	ts.mu.Lock()
	if ts.tok != "" && ts.now().Before(ts.exp) {
		tok := ts.tok
		ts.mu.Unlock()
		return tok, nil
	}
	f := ts.inflight
	if f == nil {
		f = &tokenFetch{done: make(chan struct{})}
		ts.inflight = f
		// The fetch does not use ctx: one caller giving up must not fail the others.
		go ts.run(f)
	}
	ts.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return "", fmt.Errorf("wait for an OAuth2 token: %w", ctx.Err())
	}
}

// invalidate drops tok from the cache, unless another caller already replaced it.
func (ts *tokenSource) invalidate(tok string) {
	ts.mu.Lock()
	if ts.tok == tok {
		ts.tok = ""
	}
	ts.mu.Unlock()
}

// run performs the fetch f stands for and publishes its result.
func (ts *tokenSource) run(f *tokenFetch) {
	ctx, cancel := context.WithTimeout(context.Background(), tokenTimeout)
	defer cancel()
	tok, lifetime, err := ts.fetch(ctx)
	ts.mu.Lock()
	if err == nil {
		ts.tok = tok
		early := min(earlyRefresh, lifetime/10)
		ts.exp = ts.now().Add(lifetime - early)
	}
	ts.inflight = nil
	ts.mu.Unlock()
	f.tok, f.err = tok, err
	close(f.done)
}

// fetch asks the token endpoint for a token (RFC 6749, section 4.4).
func (ts *tokenSource) fetch(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(ts.auth.Scopes) > 0 {
		form.Set("scope", strings.Join(ts.auth.Scopes, " "))
	}
	if ts.auth.Audience != "" {
		form.Set("audience", ts.auth.Audience)
	}
	if ts.auth.ClientAuth == domain.ClientAuthBody {
		form.Set("client_id", ts.auth.ClientID)
		form.Set("client_secret", ts.auth.ClientSecret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.auth.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("OAuth2 token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if ts.auth.ClientAuth != domain.ClientAuthBody {
		req.SetBasicAuth(url.QueryEscape(ts.auth.ClientID), url.QueryEscape(ts.auth.ClientSecret))
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("OAuth2 token request to %s: %w", ts.auth.TokenURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenAnswer))
	if err != nil {
		return "", 0, fmt.Errorf("OAuth2 token request to %s: read the answer: %w", ts.auth.TokenURL, err)
	}
	var answer struct {
		AccessToken string      `json:"access_token"`
		TokenType   string      `json:"token_type"`
		ExpiresIn   json.Number `json:"expires_in"`
		Error       string      `json:"error"`
		Description string      `json:"error_description"`
	}
	_ = json.Unmarshal(body, &answer)
	if resp.StatusCode != http.StatusOK {
		if answer.Error != "" {
			return "", 0, fmt.Errorf("OAuth2 token request to %s: HTTP %d: %s %s", ts.auth.TokenURL, resp.StatusCode, answer.Error, answer.Description)
		}
		return "", 0, fmt.Errorf("OAuth2 token request to %s: HTTP %d", ts.auth.TokenURL, resp.StatusCode)
	}
	if answer.AccessToken == "" {
		return "", 0, fmt.Errorf("OAuth2 token request to %s: the answer has no access_token", ts.auth.TokenURL)
	}
	if answer.TokenType != "" && !strings.EqualFold(answer.TokenType, "bearer") {
		return "", 0, fmt.Errorf("OAuth2 token request to %s: token_type %q is not bearer", ts.auth.TokenURL, answer.TokenType)
	}
	lifetime := defaultExpiry
	if secs, err := answer.ExpiresIn.Int64(); err == nil && secs > 0 {
		lifetime = time.Duration(secs) * time.Second
	}
	return answer.AccessToken, lifetime, nil
}
