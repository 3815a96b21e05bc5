package outbound

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/netguard"
)

// loopbackTransport is a transport whose dialer's guard allows loopback, as herald's
// is with --allow-network 127.0.0.0/8.
func loopbackTransport() *http.Transport {
	d := &Dialer{Guard: netguard.New([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})}
	return &http.Transport{DialContext: d.DialContext, ForceAttemptHTTP2: true}
}

// send posts body to url through c, as the sender does.
func send(t *testing.T, c *Client, url, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: c}).Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func TestBasicAndBearer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); ok && u == "herald" && p == "s3cret:with colon" {
			io.WriteString(w, "basic ok")
			return
		}
		if r.Header.Get("Authorization") == "Bearer tok_123" {
			io.WriteString(w, "bearer ok")
			return
		}
		http.Error(w, "who are you", http.StatusUnauthorized)
	}))
	defer srv.Close()
	tests := []struct {
		auth       Auth
		wantStatus int
		wantBody   string
	}{
		{Auth{Type: AuthBasic, Username: "herald", Password: "s3cret:with colon"}, 200, "basic ok"},
		{Auth{Type: AuthBasic, Username: "herald", Password: "wrong"}, 401, "who are you\n"},
		{Auth{Type: AuthBearer, Token: "tok_123"}, 200, "bearer ok"},
		{Auth{Type: AuthBearer, Token: "tok_bad"}, 401, "who are you\n"},
		{Auth{}, 401, "who are you\n"},
	}
	for _, tt := range tests {
		c, err := NewClient(tt.auth, loopbackTransport(), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, body := send(t, c, srv.URL, "{}")
		if resp.StatusCode != tt.wantStatus || body != tt.wantBody {
			t.Errorf("%s: %d %q, want %d %q", tt.auth.Type, resp.StatusCode, body, tt.wantStatus, tt.wantBody)
		}
	}
}

// tokenServer is an OAuth2 token endpoint that counts requests and issues tok_1, tok_2...
type tokenServer struct {
	*httptest.Server
	requests atomic.Int32
	delay    time.Duration
}

func newTokenServer(t *testing.T, style string) *tokenServer {
	ts := &tokenServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Method != http.MethodPost || r.PostForm.Get("grant_type") != "client_credentials" {
			http.Error(w, `{"error":"invalid_request"}`, 400)
			return
		}
		id, secret, ok := r.BasicAuth()
		if style == ClientAuthBody {
			id, secret, ok = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"), !ok
		}
		if !ok || id != "herald-client" || secret != "client-secret" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			io.WriteString(w, `{"error":"invalid_client","error_description":"bad credentials"}`)
			return
		}
		if r.PostForm.Get("scope") != "webhooks:write events" || r.PostForm.Get("audience") != "https://api.example" {
			http.Error(w, `{"error":"invalid_scope"}`, 400)
			return
		}
		time.Sleep(ts.delay)
		n := ts.requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok_%d","token_type":"Bearer","expires_in":3600}`, n)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func oauth2Auth(tokenURL, style string) Auth {
	return Auth{Type: AuthOAuth2, TokenURL: tokenURL, ClientID: "herald-client", ClientSecret: "client-secret",
		Scopes: []string{"webhooks:write", "events"}, Audience: "https://api.example", ClientAuth: style}
}

// TestOAuth2OneTokenForManyDeliveries sends 100 deliveries at once with no token
// cached: they share one token request, and the token is reused afterwards.
func TestOAuth2OneTokenForManyDeliveries(t *testing.T) {
	tokens := newTokenServer(t, ClientAuthHeader)
	tokens.delay = 50 * time.Millisecond // so the deliveries pile up behind the first fetch
	var seen sync.Map
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.Header.Get("Authorization"), true)
		if r.Header.Get("Authorization") != "Bearer tok_1" {
			w.WriteHeader(401)
		}
	}))
	defer receiver.Close()
	tr := loopbackTransport()
	c, err := NewClient(oauth2Auth(tokens.URL, ""), tr, &http.Client{Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 100 {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, receiver.URL, bytes.NewReader([]byte(`{}`)))
			resp, err := (&http.Client{Transport: c}).Do(req)
			if err != nil || resp.StatusCode != 200 {
				failed.Add(1)
			}
			if resp != nil {
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	send(t, c, receiver.URL, "{}")
	if n := tokens.requests.Load(); n != 1 || failed.Load() != 0 {
		t.Errorf("%d token requests and %d failed deliveries for 101 deliveries; want 1 and 0", n, failed.Load())
	}
}

// TestOAuth2RefreshOn401 revokes the cached token at the receiver: the next delivery
// gets a 401, fetches a new token once and goes again with it.
func TestOAuth2RefreshOn401(t *testing.T) {
	for _, style := range []string{ClientAuthHeader, ClientAuthBody} {
		t.Run(style, func(t *testing.T) {
			tokens := newTokenServer(t, style)
			var valid atomic.Value
			valid.Store("Bearer tok_1")
			var bodies []string
			var mu sync.Mutex
			receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				bodies = append(bodies, string(b))
				mu.Unlock()
				if r.Header.Get("Authorization") != valid.Load().(string) {
					w.WriteHeader(401)
				}
			}))
			defer receiver.Close()
			tr := loopbackTransport()
			c, err := NewClient(oauth2Auth(tokens.URL, style), tr, &http.Client{Transport: tr})
			if err != nil {
				t.Fatal(err)
			}
			if resp, _ := send(t, c, receiver.URL, `{"n":1}`); resp.StatusCode != 200 {
				t.Fatalf("first delivery: %d", resp.StatusCode)
			}
			valid.Store("Bearer tok_2") // the receiver revoked tok_1
			if resp, _ := send(t, c, receiver.URL, `{"n":2}`); resp.StatusCode != 200 {
				t.Fatalf("delivery after the revocation: %d", resp.StatusCode)
			}
			if n := tokens.requests.Load(); n != 2 {
				t.Errorf("%d token requests, want 2", n)
			}
			// The request went again with its body.
			if want := `{"n":1} {"n":2} {"n":2}`; strings.Join(bodies, " ") != want {
				t.Errorf("the receiver saw %q, want %q", bodies, want)
			}
			// A receiver that rejects every token: one refresh, then the 401 stands.
			valid.Store("never")
			if resp, _ := send(t, c, receiver.URL, `{"n":3}`); resp.StatusCode != 401 {
				t.Errorf("a receiver rejecting every token: %d, want 401", resp.StatusCode)
			}
			if n := tokens.requests.Load(); n != 3 {
				t.Errorf("%d token requests, want 3 (one refresh per 401)", n)
			}
		})
	}
}

func TestOAuth2TokenErrors(t *testing.T) {
	tokens := newTokenServer(t, ClientAuthHeader)
	tr := loopbackTransport()
	bad := oauth2Auth(tokens.URL, "")
	bad.ClientSecret = "wrong"
	c, _ := NewClient(bad, tr, &http.Client{Transport: tr})
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", strings.NewReader("{}"))
	_, err := (&http.Client{Transport: c}).Do(req)
	if err == nil || !strings.Contains(err.Error(), "invalid_client bad credentials") || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("wrong client secret: %v", err)
	}
	// The token URL goes through the guarded transport like any delivery.
	guarded := &http.Transport{DialContext: (&Dialer{Guard: netguard.New(nil)}).DialContext}
	c, _ = NewClient(oauth2Auth(tokens.URL, ""), guarded, &http.Client{Transport: guarded})
	req, _ = http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", strings.NewReader("{}"))
	if _, err := (&http.Client{Transport: c}).Do(req); !errors.Is(err, netguard.ErrBlocked) {
		t.Errorf("a token URL on loopback without --allow-network: %v, want the guard's refusal", err)
	}
}

// testPKI is a CA with a server certificate for 127.0.0.1 and a client certificate.
type testPKI struct {
	caPEM, serverCertPEM, serverKeyPEM, clientCertPEM, clientKeyPEM string
	pool                                                            *x509.CertPool
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "herald test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64, usage x509.ExtKeyUsage, ips []net.IP) (string, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: fmt.Sprint("leaf ", serial)},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, _ := x509.MarshalECPrivateKey(key)
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
			string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	}
	p := &testPKI{caPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})), pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.serverCertPEM, p.serverKeyPEM = leaf(2, x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	p.clientCertPEM, p.clientKeyPEM = leaf(3, x509.ExtKeyUsageClientAuth, nil)
	return p
}

func TestMutualTLS(t *testing.T) {
	pki := newTestPKI(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	cert, err := tls.X509KeyPair([]byte(pki.serverCertPEM), []byte(pki.serverKeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pki.pool}
	srv.StartTLS()
	defer srv.Close()

	auth := Auth{Type: AuthMTLS, CertPEM: pki.clientCertPEM, KeyPEM: pki.clientKeyPEM, CAPEM: pki.caPEM}
	if err := auth.Check(context.Background(), nil); err != nil {
		t.Fatalf("Check: %v", err)
	}
	base := loopbackTransport()
	c, err := NewClient(auth, base, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := send(t, c, srv.URL, "{}"); resp.StatusCode != 200 || body != "hello leaf 3" {
		t.Errorf("mTLS: %d %q", resp.StatusCode, body)
	}
	if base.TLSClientConfig != nil && (len(base.TLSClientConfig.Certificates) > 0 || base.TLSClientConfig.RootCAs != nil) {
		t.Error("NewClient changed the shared transport")
	}

	// Without the client certificate the server refuses the handshake; without the
	// custom CA the client refuses the server.
	for name, a := range map[string]Auth{
		"no client certificate": {CAPEM: pki.caPEM},
		"no custom CA":          {Type: AuthMTLS, CertPEM: pki.clientCertPEM, KeyPEM: pki.clientKeyPEM},
	} {
		c, err := NewClient(a, loopbackTransport(), nil)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("{}"))
		if resp, err := (&http.Client{Transport: c}).Do(req); err == nil {
			resp.Body.Close()
			t.Errorf("%s: the request went through (%d)", name, resp.StatusCode)
		}
	}
}

func TestCheck(t *testing.T) {
	pki := newTestPKI(t)
	guard := netguard.New(nil)
	checkURL := func(ctx context.Context, u string) error { return guard.CheckURL(ctx, u, nil) }
	tests := []struct {
		name      string
		auth      Auth
		wantField string // "" for valid
	}{
		{"none", Auth{}, ""},
		{"basic", Auth{Type: AuthBasic, Username: "u", Password: "p"}, ""},
		{"basic without user", Auth{Type: AuthBasic, Password: "p"}, "auth.username"},
		{"basic user with a colon", Auth{Type: AuthBasic, Username: "a:b"}, "auth.username"},
		{"bearer", Auth{Type: AuthBearer, Token: "t"}, ""},
		{"bearer without token", Auth{Type: AuthBearer}, "auth.token"},
		{"bearer token with a newline", Auth{Type: AuthBearer, Token: "a\r\nX-Evil: 1"}, "auth.token"},
		{"oauth2", oauth2Auth("https://auth.example.com/token", ""), ""},
		{"oauth2 bad url", oauth2Auth("ftp://x/token", ""), "auth.token_url"},
		{"oauth2 token url on a private network", oauth2Auth("http://10.0.0.1/token", ""), "auth.token_url"},
		{"oauth2 without secret", Auth{Type: AuthOAuth2, TokenURL: "https://a.example/t", ClientID: "x"}, "auth.client_id"},
		{"oauth2 bad client auth", func() Auth { a := oauth2Auth("https://a.example/t", "query"); return a }(), "auth.client_auth"},
		{"oauth2 bad scope", func() Auth { a := oauth2Auth("https://a.example/t", ""); a.Scopes = []string{"a b"}; return a }(), "auth.scopes[0]"},
		{"mtls", Auth{Type: AuthMTLS, CertPEM: pki.clientCertPEM, KeyPEM: pki.clientKeyPEM}, ""},
		{"mtls mismatched key", Auth{Type: AuthMTLS, CertPEM: pki.clientCertPEM, KeyPEM: pki.serverKeyPEM}, "auth.cert_pem"},
		{"ca not PEM", Auth{Type: AuthBearer, Token: "t", CAPEM: "nope"}, "auth.ca_pem"},
		{"unknown type", Auth{Type: "digest"}, "auth.type"},
		{"token too long", Auth{Type: AuthBearer, Token: strings.Repeat("t", maxField+1)}, "auth.token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.auth.Check(context.Background(), checkURL)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			fe, ok := errors.AsType[*FieldError](err)
			if !ok || fe.Field != tt.wantField {
				t.Errorf("Check: %v, want a *FieldError for %s", err, tt.wantField)
			}
		})
	}
}

func TestPublicHidesSecrets(t *testing.T) {
	a := Auth{Type: AuthOAuth2, Username: "u", Password: "pw", Token: "tok", TokenURL: "https://a/t", ClientID: "id",
		ClientSecret: "cs", KeyPEM: "KEY", CertPEM: "CERT", CAPEM: "CA"}
	b, _ := json.Marshal(a.Public())
	for _, secret := range []string{`"pw"`, `"tok"`, `"cs"`, `"KEY"`} {
		if strings.Contains(string(b), secret) {
			t.Errorf("Public() shows %s: %s", secret, b)
		}
	}
	if !strings.Contains(string(b), `"client_id":"id"`) || !strings.Contains(string(b), `"type":"oauth2"`) {
		t.Errorf("Public() lost the non-secret parts: %s", b)
	}
}

// connectProxy is an HTTP CONNECT proxy that records the targets it was asked for.
type connectProxy struct {
	*httptest.Server
	mu      sync.Mutex
	targets []string
	auth    []string
}

func newConnectProxy(t *testing.T) *connectProxy {
	p := &connectProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.targets = append(p.targets, r.Host)
		p.auth = append(p.auth, r.Header.Get("Proxy-Authorization"))
		p.mu.Unlock()
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		up, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		go func() { io.Copy(up, buf); up.Close() }()
		io.Copy(conn, up)
		conn.Close()
	}))
	t.Cleanup(p.Close)
	return p
}

func TestEgressProxy(t *testing.T) {
	proxy := newConnectProxy(t)
	pki := newTestPKI(t)
	receiver := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "through")
	}))
	cert, _ := tls.X509KeyPair([]byte(pki.serverCertPEM), []byte(pki.serverKeyPEM))
	receiver.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	receiver.StartTLS()
	defer receiver.Close()
	proxyURL, err := ParseProxy("http://herald:pw@" + proxy.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(receiver.Listener.Addr().String())
	byName := "https://localhost:" + port // resolved by herald, not by the proxy

	// The guard allows loopback: the request goes through the proxy, TLS end to end,
	// and the proxy is asked for the checked address, never the name.
	allow := netguard.New([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")})
	d := &Dialer{Guard: allow, Proxy: proxyURL}
	tr := &http.Transport{DialContext: d.DialContext, TLSClientConfig: &tls.Config{RootCAs: pki.pool, ServerName: "127.0.0.1"}}
	for _, u := range []string{receiver.URL, byName} {
		resp, err := (&http.Client{Transport: tr}).Get(u)
		if err != nil {
			t.Fatalf("GET %s through the proxy: %v", u, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "through" {
			t.Errorf("GET %s: %q", u, body)
		}
		tr.CloseIdleConnections()
	}
	proxy.mu.Lock()
	for i, target := range proxy.targets {
		host, _, _ := net.SplitHostPort(target)
		if _, err := netip.ParseAddr(host); err != nil {
			t.Errorf("the proxy was asked for %q, a name; want the address herald checked", target)
		}
		if proxy.auth[i] != "Basic aGVyYWxkOnB3" {
			t.Errorf("Proxy-Authorization %q", proxy.auth[i])
		}
	}
	asked := len(proxy.targets)
	proxy.mu.Unlock()
	if asked != 2 {
		t.Errorf("the proxy saw %d CONNECTs, want 2", asked)
	}

	// The default guard blocks loopback: the destination is refused before the proxy
	// is asked for anything.
	d = &Dialer{Guard: netguard.New(nil), Proxy: proxyURL}
	tr = &http.Transport{DialContext: d.DialContext}
	for _, u := range []string{receiver.URL, byName} {
		if _, err := (&http.Client{Transport: tr}).Get(u); !errors.Is(err, netguard.ErrBlocked) {
			t.Errorf("GET %s with loopback blocked: %v, want ErrBlocked", u, err)
		}
	}
	proxy.mu.Lock()
	if len(proxy.targets) != asked {
		t.Errorf("the proxy was asked for a blocked destination: %q", proxy.targets[asked:])
	}
	proxy.mu.Unlock()
}

func TestParseProxy(t *testing.T) {
	for raw, ok := range map[string]bool{
		"http://proxy.internal:3128": true, "http://u:p@10.0.0.1:8080": true,
		"https://proxy:443": false, "proxy:3128": false, "http://proxy": false, "socks5://p:1080": false,
	} {
		if _, err := ParseProxy(raw); (err == nil) != ok {
			t.Errorf("ParseProxy(%q): %v", raw, err)
		}
	}
	t.Setenv("HTTPS_PROXY", "http://egress.internal:3128")
	if u, err := ProxyFromEnv(); err != nil || u.Host != "egress.internal:3128" {
		t.Errorf("ProxyFromEnv = %v, %v", u, err)
	}
	t.Setenv("HTTPS_PROXY", "")
	t.Setenv("https_proxy", "")
	if u, err := ProxyFromEnv(); u != nil || err != nil {
		t.Errorf("ProxyFromEnv without a proxy = %v, %v", u, err)
	}
}
