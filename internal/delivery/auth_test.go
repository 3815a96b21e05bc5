package delivery

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/netguard"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/testpki"
	"github.com/heraldhq/herald/internal/testproxy"
	"github.com/heraldhq/herald/webhook"
)

// authReceiver answers 204 to requests whose Authorization is want() and 401 to others,
// and records the Authorization of each.
type authReceiver struct {
	srv  *httptest.Server
	want atomic.Value // string
	mu   sync.Mutex
	seen []string
}

func newAuthReceiver(t *testing.T, want string) *authReceiver {
	r := &authReceiver{}
	r.want.Store(want)
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		got := req.Header.Get("Authorization")
		r.mu.Lock()
		r.seen = append(r.seen, got)
		r.mu.Unlock()
		if got != r.want.Load().(string) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *authReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

// attempts returns the attempts of the endpoint, newest first.
func (h *harness) attempts(endpointID string) []*domain.Attempt {
	h.t.Helper()
	atts, _, err := h.store.ListAttempts(bg, store.AttemptFilter{AppID: h.app.ID, EndpointID: endpointID, Page: store.Page{Limit: 1000}})
	if err != nil {
		h.t.Fatal(err)
	}
	return atts
}

// TestEngineBasicAndBearer delivers with Basic and bearer credentials, and records the
// request headers with the credentials and the custom header values redacted and
// herald's signature headers in clear.
func TestEngineBasicAndBearer(t *testing.T) {
	h := newHarness(t, nil)
	basic := newAuthReceiver(t, "Basic aGVyYWxkOnMzY3JldDp3aXRoIGNvbG9u") // herald:s3cret:with colon
	bearer := newAuthReceiver(t, "Bearer tok_123")
	eps := map[string]*domain.Endpoint{
		"basic": createEndpoint(t, h.store, h.app.ID, basic.srv.URL, webhook.NewHMACSecret(), func(e *domain.Endpoint) {
			e.Auth = &domain.Auth{Type: domain.AuthBasic, Username: "herald", Password: "s3cret:with colon"}
		}),
		"bearer": createEndpoint(t, h.store, h.app.ID, bearer.srv.URL, webhook.NewHMACSecret(), func(e *domain.Endpoint) {
			e.Auth = &domain.Auth{Type: domain.AuthBearer, Token: "tok_123"}
			e.Headers = map[string]string{"X-Api-Key": "key_very_secret", "X-Team": "core"}
		}),
	}
	msgs := h.publish("auth.test", 2)
	for name, e := range eps {
		eventually(t, name+" deliveries", func() bool { return len(h.deliveries(e.ID, domain.DeliverySucceeded)) == 2 })
	}
	atts := h.attempts(eps["bearer"].ID)
	if len(atts) != 2 {
		t.Fatalf("%d attempts, want 2", len(atts))
	}
	rh := atts[0].RequestHeaders
	for name, want := range map[string]string{
		// Every custom header value is sealed at rest, so none is recorded in clear.
		"Authorization": domain.RedactedValue, "X-Api-Key": domain.RedactedValue, "X-Team": domain.RedactedValue,
		"Content-Type": "application/json", "Host": strings.TrimPrefix(bearer.srv.URL, "http://"),
	} {
		if rh[name] != want {
			t.Errorf("recorded %s = %q, want %q (all: %v)", name, rh[name], want, rh)
		}
	}
	if id := rh["Webhook-Id"]; id != msgs[0] && id != msgs[1] {
		t.Errorf("recorded Webhook-Id %q, want one of %q", id, msgs)
	}
	if !strings.HasPrefix(rh["Webhook-Signature"], "v1,") || rh["Webhook-Timestamp"] == "" || rh["Content-Length"] == "" || rh["User-Agent"] == "" {
		t.Errorf("recorded headers lack herald's own: %v", rh)
	}
	for _, v := range rh {
		if strings.Contains(v, "tok_123") || strings.Contains(v, "key_very_secret") {
			t.Errorf("a credential was recorded: %v", rh)
		}
	}
}

// tokenServer is an OAuth2 token endpoint that issues tok_1, tok_2... to the right client.
type tokenServer struct {
	srv      *httptest.Server
	requests atomic.Int32
}

func newTokenServer(t *testing.T, ln net.Listener) *tokenServer {
	ts := &tokenServer{}
	ts.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if r.ParseForm() != nil || r.PostForm.Get("grant_type") != "client_credentials" || !ok || id != "herald" || secret != "client-secret" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		n := ts.requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok_%d","token_type":"Bearer","expires_in":3600}`, n)
	}))
	if ln != nil {
		ts.srv.Listener.Close()
		ts.srv.Listener = ln
	}
	ts.srv.Start()
	t.Cleanup(ts.srv.Close)
	return ts
}

func oauth2Auth(tokenURL string) *domain.Auth {
	return &domain.Auth{Type: domain.AuthOAuth2, TokenURL: tokenURL, ClientID: "herald", ClientSecret: "client-secret"}
}

// TestEngineOAuth2 sends 100 deliveries with one token request, then, after the
// receiver revokes the token, fetches exactly one new token on the 401 and delivers in
// the same attempt.
func TestEngineOAuth2(t *testing.T) {
	h := newHarness(t, nil)
	tokens := newTokenServer(t, nil)
	rcv := newAuthReceiver(t, "Bearer tok_1")
	e := createEndpoint(t, h.store, h.app.ID, rcv.srv.URL, webhook.NewHMACSecret(), func(e *domain.Endpoint) {
		e.Auth = oauth2Auth(tokens.srv.URL)
	})
	h.publish("oauth.test", 100)
	eventually(t, "100 deliveries", func() bool { return len(h.deliveries(e.ID, domain.DeliverySucceeded)) == 100 })
	if n := tokens.requests.Load(); n != 1 {
		t.Errorf("%d token requests for 100 deliveries, want 1", n)
	}
	if n := rcv.count(); n != 100 {
		t.Errorf("the receiver saw %d requests for 100 deliveries, want 100", n)
	}

	rcv.want.Store("Bearer tok_2") // the receiver revoked tok_1
	ids := h.publish("oauth.test", 1)
	eventually(t, "the delivery after the revocation", func() bool { return len(h.deliveries(e.ID, domain.DeliverySucceeded)) == 101 })
	if n := tokens.requests.Load(); n != 2 {
		t.Errorf("%d token requests after a 401, want 2", n)
	}
	ds, _, _ := h.store.ListDeliveries(bg, store.DeliveryFilter{AppID: h.app.ID, MessageID: ids[0]})
	if len(ds) != 1 || ds[0].Attempts != 1 || ds[0].LastStatusCode != http.StatusNoContent {
		t.Errorf("the delivery after the revocation: %+v; want one attempt, refreshed and sent again within it", ds)
	}
}

// TestEngineOAuth2TokenURLGuarded: a token URL the SSRF guard refuses is never fetched,
// and the attempt says why.
func TestEngineOAuth2TokenURLGuarded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	tokens := newTokenServer(t, ln)
	h := newHarness(t, func(c *Config) { c.Guard = netguard.New([]netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}) })
	rcv := newAuthReceiver(t, "Bearer tok_1")
	e := createEndpoint(t, h.store, h.app.ID, rcv.srv.URL, webhook.NewHMACSecret(), func(e *domain.Endpoint) {
		e.Auth = oauth2Auth(tokens.srv.URL)
		e.RetrySchedule = nil
	})
	h.publish("oauth.test", 1)
	eventually(t, "an attempt", func() bool { return len(h.attempts(e.ID)) > 0 })
	a := h.attempts(e.ID)[0]
	if !strings.Contains(a.Error, "OAuth2 token request") || !strings.Contains(a.Error, "blocked") {
		t.Errorf("attempt error %q, want the guard's refusal of the token URL", a.Error)
	}
	if tokens.requests.Load() != 0 || rcv.count() != 0 {
		t.Errorf("%d token requests and %d deliveries went out", tokens.requests.Load(), rcv.count())
	}
}

// TestEngineMutualTLS delivers to a receiver that requires a client certificate from a
// test CA, and whose own certificate only that CA vouches for; without the client
// certificate the handshake fails and the attempt says so.
func TestEngineMutualTLS(t *testing.T) {
	pki := testpki.New(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != "leaf 3" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.TLS = pki.ServerTLS(t)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	h := newHarness(t, nil)
	withCert := createEndpoint(t, h.store, h.app.ID, srv.URL, webhook.NewHMACSecret(), func(e *domain.Endpoint) {
		e.EventTypes = []string{"mtls.ok"}
		e.Auth = &domain.Auth{Type: domain.AuthMTLS, CertPEM: pki.ClientCertPEM, KeyPEM: pki.ClientKeyPEM, CAPEM: pki.CAPEM}
	})
	without := createEndpoint(t, h.store, h.app.ID, srv.URL, webhook.NewHMACSecret(), func(e *domain.Endpoint) {
		e.EventTypes = []string{"mtls.no"}
		e.Auth = &domain.Auth{Type: domain.AuthBearer, Token: "t", CAPEM: pki.CAPEM}
	})
	h.publish("mtls.ok", 3)
	h.publish("mtls.no", 1)
	eventually(t, "the deliveries with the certificate", func() bool { return len(h.deliveries(withCert.ID, domain.DeliverySucceeded)) == 3 })
	eventually(t, "an attempt without it", func() bool { return len(h.attempts(without.ID)) > 0 })
	if a := h.attempts(without.ID)[0]; a.StatusCode != 0 || a.Error == "" {
		t.Errorf("without a client certificate: status %d, error %q; want a failed handshake", a.StatusCode, a.Error)
	}
}

// TestEngineAuthChange checks that changed credentials are used from the next delivery
// on, and that removing them sends none.
func TestEngineAuthChange(t *testing.T) {
	h := newHarness(t, nil)
	rcv := newAuthReceiver(t, "Bearer tok_a")
	e := createEndpoint(t, h.store, h.app.ID, rcv.srv.URL, webhook.NewHMACSecret(), func(e *domain.Endpoint) {
		e.Auth = &domain.Auth{Type: domain.AuthBearer, Token: "tok_a"}
		e.RetrySchedule = nil
	})
	step := func(auth *domain.Auth, want string, n int) {
		t.Helper()
		e.Auth = auth
		if err := h.store.UpdateEndpoint(bg, e); err != nil {
			t.Fatal(err)
		}
		h.eng.EndpointChanged(e.ID)
		rcv.want.Store(want)
		h.publish("x", 1)
		eventually(t, fmt.Sprintf("delivery %d", n), func() bool { return len(h.deliveries(e.ID, domain.DeliverySucceeded)) == n })
	}
	step(e.Auth, "Bearer tok_a", 1)
	step(&domain.Auth{Type: domain.AuthBearer, Token: "tok_b"}, "Bearer tok_b", 2)
	step(nil, "", 3)
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if fmt.Sprint(rcv.seen) != fmt.Sprint([]string{"Bearer tok_a", "Bearer tok_b", ""}) {
		t.Errorf("the receiver saw %q", rcv.seen)
	}
}

// TestEngineCredentialsThroughEgressProxy: with an egress proxy, a client certificate's
// own transport and the OAuth2 token requests go through the proxy too, to the
// addresses the guard checked.
func TestEngineCredentialsThroughEgressProxy(t *testing.T) {
	pki := testpki.New(t)
	tlsRcv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	tlsRcv.TLS = pki.ServerTLS(t)
	tlsRcv.StartTLS()
	t.Cleanup(tlsRcv.Close)
	tokens := newTokenServer(t, nil)
	rcv := newAuthReceiver(t, "Bearer tok_1")
	proxy := testproxy.New(t)
	proxyURL, _ := url.Parse(proxy.URL)
	h := newHarness(t, func(c *Config) { c.EgressProxy = proxyURL })
	mtls := createEndpoint(t, h.store, h.app.ID, tlsRcv.URL, webhook.NewHMACSecret(), func(e *domain.Endpoint) {
		e.Auth = &domain.Auth{Type: domain.AuthMTLS, CertPEM: pki.ClientCertPEM, KeyPEM: pki.ClientKeyPEM, CAPEM: pki.CAPEM}
	})
	oauth := createEndpoint(t, h.store, h.app.ID, rcv.srv.URL, webhook.NewHMACSecret(), func(e *domain.Endpoint) {
		e.Auth = oauth2Auth(tokens.srv.URL)
	})
	h.publish("proxied", 1)
	for _, e := range []*domain.Endpoint{mtls, oauth} {
		eventually(t, "the delivery through the proxy", func() bool { return len(h.deliveries(e.ID, domain.DeliverySucceeded)) == 1 })
	}
	targets, _ := proxy.Requests()
	for _, want := range []*httptest.Server{tlsRcv, tokens.srv, rcv.srv} {
		if !slices.Contains(targets, want.Listener.Addr().String()) {
			t.Errorf("the proxy was asked for %q; want %s among them", targets, want.Listener.Addr())
		}
	}
}
