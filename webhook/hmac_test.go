package webhook

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"
)

// provClock pins a verifier's clock to a unix time.
func provClock(unix int64) Option {
	return WithClock(func() time.Time { return time.Unix(unix, 0) })
}

// provHeader builds a header from name/value pairs, skipping empty values.
func provHeader(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			h.Set(kv[i], kv[i+1])
		}
	}
	return h
}

// provReject is one request a verifier must refuse with a given sentinel error.
type provReject struct {
	name   string
	body   string
	header http.Header
	want   error
}

// runRejects checks that each case fails with its sentinel and maps to a specific ErrorCode.
func runRejects(t *testing.T, v Verifier, cases []provReject) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := v.Verify([]byte(c.body), c.header)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if d != (Delivery{}) {
				t.Errorf("rejected delivery = %+v, want zero", d)
			}
			if code := ErrorCode(err); code == "verification_failed" || code == "" {
				t.Errorf("ErrorCode(%v) = %q", err, code)
			}
		})
	}
}

// provBodies returns bodies of assorted shapes and sizes, deterministic per test.
func provBodies(t *testing.T) [][]byte {
	r := rand.New(rand.NewPCG(uint64(len(t.Name())), 42))
	bodies := [][]byte{nil, {}, []byte(`{}`), []byte(`{"id":"evt_1","type":"a.b"}`), []byte("a=b&c=d")}
	for _, n := range []int{1, 17, 300, 5000, 70000} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		bodies = append(bodies, b)
	}
	return bodies
}

// provTamper returns bodies that differ from b by one edit each.
func provTamper(b []byte) [][]byte {
	out := [][]byte{append(bytes.Clone(b), ' '), append([]byte{' '}, b...)}
	if len(b) > 0 {
		flipped := bytes.Clone(b)
		flipped[len(b)/2] ^= 1
		out = append(out, flipped, b[:len(b)-1])
	}
	return out
}

func TestHMACKnownAnswers(t *testing.T) {
	cases := []struct {
		name   string
		cfg    HMACConfig
		header http.Header
		body   string
		now    int64
		want   Delivery
	}{
		{
			name: "github scheme via config",
			cfg: HMACConfig{Secret: "It's a Secret to Everybody", Header: "X-Hub-Signature-256", Prefix: "sha256=",
				IDHeader: "X-GitHub-Delivery", TypeHeader: "X-GitHub-Event"},
			header: provHeader("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
				"X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958", "X-GitHub-Event", "ping"),
			body: "Hello, World!",
			want: Delivery{ID: "72d3162e-cc78-11e3-81ab-4c9367dc0958", Type: "ping"},
		},
		{
			name:   "github legacy sha1",
			cfg:    HMACConfig{Secret: "It's a Secret to Everybody", Header: "X-Hub-Signature", Prefix: "sha1=", Algorithm: "sha1"},
			header: provHeader("X-Hub-Signature", "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"),
			body:   "Hello, World!",
		},
		{
			name:   "upper-case hex digits",
			cfg:    HMACConfig{Secret: "It's a Secret to Everybody", Header: "Sig"},
			header: provHeader("Sig", "757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17"),
			body:   "Hello, World!",
		},
		{
			name: "slack scheme via config",
			cfg: HMACConfig{Secret: "8f742231b10e8888abcd99yyyzzz85a5", Header: "X-Slack-Signature", Prefix: "v0=",
				Template: "v0:{timestamp}:{body}", TimestampHeader: "X-Slack-Request-Timestamp"},
			header: provHeader("X-Slack-Signature", "v0="+slackVector.sig, "X-Slack-Request-Timestamp", slackVector.ts),
			body:   slackVector.body,
			now:    1531420618,
			want:   Delivery{Timestamp: time.Unix(1531420618, 0)},
		},
		{
			name: "sha512 base64 with id and timestamp",
			cfg: HMACConfig{Name: "acme", Secret: "generic-secret", Header: "Acme-Signature", Encoding: "base64", Algorithm: "SHA512",
				Template: "{id}.{timestamp}.{body}", TimestampHeader: "Acme-Timestamp", IDHeader: "Acme-Id"},
			header: provHeader("Acme-Signature", "VqDdB25L480VryDDglRO9ruEauCsexCC1RgMYqgfP0sw+kNgd8tia/dBD1JxEEO/rMjvcLipk5liyNY0EwnrNw==",
				"Acme-Timestamp", "1700000000", "Acme-Id", "msg_1"),
			body: `{"type":"a.b"}`,
			now:  1700000100,
			want: Delivery{ID: "msg_1", Type: "a.b", Timestamp: time.Unix(1700000000, 0)},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var opts []Option
			if c.cfg.TimestampHeader != "" {
				opts = append(opts, provClock(c.now)) // refused without a signed timestamp
			}
			h, err := NewHMAC(c.cfg, opts...)
			if err != nil {
				t.Fatal(err)
			}
			d, err := h.Verify([]byte(c.body), c.header)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !d.Timestamp.Equal(c.want.Timestamp) || d.ID != c.want.ID || d.Type != c.want.Type {
				t.Errorf("delivery = %+v, want %+v", d, c.want)
			}
			// Signing the same delivery reproduces the signature header (in lower case).
			signed, err := h.Sign(d, []byte(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := signed.Get(c.cfg.Header), c.header.Get(c.cfg.Header); got != strings.ToLower(want) && got != want {
				t.Errorf("Sign: %s = %q, want %q", c.cfg.Header, got, want)
			}
			for _, b := range provTamper([]byte(c.body)) {
				if _, err := h.Verify(b, c.header); !errors.Is(err, ErrNoMatchingSignature) {
					t.Errorf("tampered body %q: err = %v", b, err)
				}
			}
		})
	}
}

func TestHMACConfigErrors(t *testing.T) {
	ok := HMACConfig{Secret: "s", Header: "Sig"}
	cases := []struct {
		name string
		edit func(*HMACConfig)
		opts []Option
		want error
		msg  string
	}{
		{"no secret", func(c *HMACConfig) { c.Secret = "" }, nil, ErrInvalidConfig, "empty"},
		{"empty rotation secret", nil, []Option{WithSecrets("")}, ErrInvalidConfig, "secret 2"},
		{"no header", func(c *HMACConfig) { c.Header = "" }, nil, ErrInvalidConfig, "Header is required"},
		{"bad header name", func(c *HMACConfig) { c.Header = "X Sig" }, nil, ErrInvalidConfig, "not a valid header name"},
		{"bad id header name", func(c *HMACConfig) { c.IDHeader = "id:" }, nil, ErrInvalidConfig, "IDHeader"},
		{"unknown algorithm", func(c *HMACConfig) { c.Algorithm = "md5" }, nil, ErrInvalidConfig, `algorithm "md5"`},
		{"unknown encoding", func(c *HMACConfig) { c.Encoding = "base32" }, nil, ErrInvalidConfig, `encoding "base32"`},
		{"template without body", func(c *HMACConfig) { c.Template = "{timestamp}"; c.TimestampHeader = "Ts" }, nil, ErrInvalidConfig, "exactly once"},
		{"template with two bodies", func(c *HMACConfig) { c.Template = "{body}{body}" }, nil, ErrInvalidConfig, "exactly once"},
		{"unknown placeholder", func(c *HMACConfig) { c.Template = "{ts}.{body}" }, nil, ErrInvalidConfig, "{ts}"},
		{"unterminated placeholder", func(c *HMACConfig) { c.Template = "{body}.{id" }, nil, ErrInvalidConfig, "unterminated"},
		{"timestamp without header", func(c *HMACConfig) { c.Template = "{timestamp}.{body}" }, nil, ErrInvalidConfig, "needs TimestampHeader"},
		{"id without header", func(c *HMACConfig) { c.Template = "{id}.{body}" }, nil, ErrInvalidConfig, "needs IDHeader"},
		{"unsigned timestamp header", func(c *HMACConfig) { c.TimestampHeader = "Ts" }, nil, ErrInvalidConfig, "does not sign {timestamp}"},
		{"same headers", func(c *HMACConfig) { c.IDHeader = "sig" }, nil, ErrInvalidConfig, "must differ"},
		{"header names option", nil, []Option{WithHeaderNames("a", "b", "c")}, ErrInvalidConfig, "WithHeaderNames"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := ok
			if c.edit != nil {
				c.edit(&cfg)
			}
			h, err := NewHMAC(cfg, c.opts...)
			if !errors.Is(err, c.want) || h != nil {
				t.Fatalf("NewHMAC = %v, %v; want %v", h, err, c.want)
			}
			if !strings.Contains(err.Error(), c.msg) || !strings.HasPrefix(err.Error(), "hmac") {
				t.Errorf("error %q should start with the name and mention %q", err, c.msg)
			}
		})
	}
	h, err := NewHMAC(ok)
	if err != nil {
		t.Fatal(err)
	}
	if h.Name() != "hmac" {
		t.Errorf("default Name = %q", h.Name())
	}
}

func TestHMACRejects(t *testing.T) {
	const now = 1700000000
	h, err := NewHMAC(HMACConfig{Secret: "k", Header: "X-Sig", Prefix: "sha256=", Template: "{id}:{timestamp}:{body}",
		TimestampHeader: "X-Ts", IDHeader: "X-Id"}, provClock(now))
	if err != nil {
		t.Fatal(err)
	}
	body := `{"a":1}`
	sign := func(id string, ts int64) string {
		hd, err := h.Sign(Delivery{ID: id, Timestamp: time.Unix(ts, 0)}, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return hd.Get("X-Sig")
	}
	good := sign("m1", now)
	runRejects(t, h, []provReject{
		{"missing signature", body, provHeader("X-Id", "m1", "X-Ts", "1700000000"), ErrMissingHeader},
		{"missing id", body, provHeader("X-Sig", good, "X-Ts", "1700000000"), ErrMissingHeader},
		{"missing timestamp", body, provHeader("X-Sig", good, "X-Id", "m1"), ErrMissingHeader},
		{"no prefix", body, provHeader("X-Sig", strings.TrimPrefix(good, "sha256="), "X-Id", "m1", "X-Ts", "1700000000"), ErrMalformedHeader},
		{"timestamp not a number", body, provHeader("X-Sig", good, "X-Id", "m1", "X-Ts", "17e8"), ErrMalformedHeader},
		{"timestamp leading zero", body, provHeader("X-Sig", good, "X-Id", "m1", "X-Ts", "01700000000"), ErrMalformedHeader},
		{"stale", body, provHeader("X-Sig", sign("m1", now-301), "X-Id", "m1", "X-Ts", "1699999699"), ErrTimestampTooOld},
		{"future", body, provHeader("X-Sig", sign("m1", now+301), "X-Id", "m1", "X-Ts", "1700000301"), ErrTimestampTooNew},
		{"other id", body, provHeader("X-Sig", good, "X-Id", "m2", "X-Ts", "1700000000"), ErrNoMatchingSignature},
		{"other timestamp", body, provHeader("X-Sig", good, "X-Id", "m1", "X-Ts", "1700000001"), ErrNoMatchingSignature},
		{"tampered body", body + " ", provHeader("X-Sig", good, "X-Id", "m1", "X-Ts", "1700000000"), ErrNoMatchingSignature},
		{"truncated signature", body, provHeader("X-Sig", good[:len(good)-1], "X-Id", "m1", "X-Ts", "1700000000"), ErrNoMatchingSignature},
		{"two signatures", body, provHeader("X-Sig", good+","+good, "X-Id", "m1", "X-Ts", "1700000000"), ErrNoMatchingSignature},
	})
	// The edges of the tolerance window are accepted.
	for _, ts := range []int64{now - 300, now + 300} {
		hd, _ := h.Sign(Delivery{ID: "m1", Timestamp: time.Unix(ts, 0)}, []byte(body))
		if _, err := h.Verify([]byte(body), hd); err != nil {
			t.Errorf("ts %d: %v", ts, err)
		}
	}
}

func TestHMACRotationAndLabels(t *testing.T) {
	oldH, _ := NewHMAC(HMACConfig{Secret: "old", Header: "Sig", Encoding: "base64"})
	newH, _ := NewHMAC(HMACConfig{Secret: "new", Header: "Sig", Encoding: "base64"})
	both, err := NewHMAC(HMACConfig{Secret: "new", Header: "Sig", Encoding: "base64"}, WithSecrets("old"))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"type":"order.paid","id":"ignored"}`)
	for name, signer := range map[string]*HMAC{"old": oldH, "new": newH} {
		hd, _ := signer.Sign(Delivery{}, body)
		d, err := both.Verify(body, hd)
		if err != nil {
			t.Errorf("signed with %s secret: %v", name, err)
		}
		// Without a TypeHeader the type is the body's; without an IDHeader there is no id.
		if d != (Delivery{Type: "order.paid"}) {
			t.Errorf("delivery = %+v", d)
		}
	}
	hd, _ := both.Sign(Delivery{}, body)
	if _, err := newH.Verify(body, hd); err != nil {
		t.Errorf("Sign should use the first secret: %v", err)
	}
	if _, err := oldH.Verify(body, hd); !errors.Is(err, ErrNoMatchingSignature) {
		t.Errorf("old-only verifier: err = %v", err)
	}
}

func TestHMACVerifyAllocs(t *testing.T) {
	g, _ := NewGitHub("It's a Secret to Everybody")
	h := provHeader("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
		"X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958", "X-GitHub-Event", "ping")
	body := []byte("Hello, World!")
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := g.Verify(body, h); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Errorf("GitHub Verify allocates %.0f times, want 0", allocs)
	}
}
