package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/webhook/internal/jsonscan"
)

// The fuzz targets check every verifier against an independent oracle built on crypto/hmac:
// a fuzzed request verifies only if it carries the signature the oracle computes for that
// exact body (and id and timestamp); a body signed with Sign verifies, and the fixed request
// signed at start-up verifies with no other body.

// oracleHMAC is HMAC-SHA256(key, content) computed without the package's pooled states.
func oracleHMAC(key string, content ...[]byte) []byte {
	m := hmac.New(sha256.New, []byte(key))
	for _, c := range content {
		m.Write(c)
	}
	return m.Sum(nil)
}

// canonicalUnix matches the timestamps verifiers accept: decimal seconds, no sign, no leading zero.
var canonicalUnix = regexp.MustCompile(`^(0|[1-9][0-9]{0,17})$`)

// checkFixed asserts that the request signed at start-up verifies with its own body only.
func checkFixed(t *testing.T, v Verifier, fixedBody []byte, fixed http.Header, body []byte) {
	t.Helper()
	_, err := v.Verify(body, fixed)
	if same := bytes.Equal(body, fixedBody); same != (err == nil) {
		t.Fatalf("fixed signature, body %q (same as signed: %v): err = %v", body, same, err)
	}
}

// checkSignRoundTrip asserts that Sign's headers verify for body and for no one-byte variation.
func checkSignRoundTrip(t *testing.T, p Provider, d Delivery, body []byte) Delivery {
	t.Helper()
	h, err := p.Sign(d, body)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	got, err := p.Verify(body, h)
	if err != nil {
		t.Fatalf("Verify(Sign(%q)): %v", body, err)
	}
	for _, b := range provTamper(body) {
		if _, err := p.Verify(b, h); !errors.Is(err, ErrNoMatchingSignature) {
			t.Fatalf("Verify(%q) with the signature of %q: err = %v", b, body, err)
		}
	}
	return got
}

// checkSentinel asserts that a verification error is one of the package's sentinels.
func checkSentinel(t *testing.T, err error) {
	t.Helper()
	if err != nil && ErrorCode(err) == "verification_failed" {
		t.Fatalf("error %v wraps no sentinel", err)
	}
}

func FuzzStandardVerify(f *testing.F) {
	v := standardVectors[0]
	wh, err := NewStandard(v.secret, WithTolerance(0))
	if err != nil {
		f.Fatal(err)
	}
	key := MustParseSecret(v.secret).key
	fixedBody := []byte(v.body)
	fixed := vectorHeader(v.id, v.ts, v.sig)
	for _, sv := range standardVectors {
		f.Add([]byte(sv.body), sv.id, sv.ts, sv.sig)
	}
	f.Add([]byte(v.body), v.id, v.ts, "v1,AAAA "+v.sig+" v1a,AAAA")
	f.Add([]byte(v.body), "msg.1", v.ts, v.sig)
	f.Add([]byte(""), "x", "0", "v1,")
	f.Fuzz(func(t *testing.T, body []byte, id, ts, sig string) {
		d, err := wh.Verify(body, http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {ts}, "Webhook-Signature": {sig}})
		checkSentinel(t, err)
		wellFormed := id != "" && !strings.Contains(id, ".") && canonicalUnix.MatchString(ts)
		want := "v1," + base64.StdEncoding.EncodeToString(oracleHMAC(string(key), []byte(id+"."+ts+"."), body))
		signed := wellFormed && slicesContains(strings.Fields(sig), want)
		if (err == nil) != signed {
			t.Fatalf("Verify(%q, id %q, ts %q, sig %q) = %+v, %v; oracle says signed=%v", body, id, ts, sig, d, err, signed)
		}
		checkFixed(t, wh, fixedBody, fixed, body)
		if id != "" && !strings.Contains(id, ".") {
			got := checkSignRoundTrip(t, wh, Delivery{ID: id, Timestamp: time.Unix(1614265330, 0)}, body)
			if got.ID != id {
				t.Fatalf("round trip id = %q, want %q", got.ID, id)
			}
		}
	})
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func FuzzParseStripeSignature(f *testing.F) {
	v := stripeVector
	f.Add("t=" + v.t + ",v1=" + v.sig)
	f.Add("t=" + v.t + ",v1=" + v.oldSig + ",v1=" + v.sig + ",v0=abc")
	f.Add("v1=" + v.sig)
	f.Add("t=1,t=2")
	f.Add(" t = 1 , v1 = x ")
	f.Add(",,")
	f.Add("t=1,v1=a=b")
	f.Fuzz(func(t *testing.T, header string) {
		ts, hasV1, err := parseStripeSignature(header)
		if err != nil {
			if !errors.Is(err, ErrMalformedHeader) || ts != "" || hasV1 {
				t.Fatalf("parse(%q) = %q, %v, %v", header, ts, hasV1, err)
			}
			return
		}
		// Independently: every item is key=value, exactly one key is t, and hasV1 says whether any key is v1.
		items := strings.Split(header, ",")
		var tCount int
		var v1 bool
		for _, it := range items {
			k, val, ok := strings.Cut(strings.Trim(it, " \t"), "=")
			if !ok || k == "" {
				t.Fatalf("parse(%q) accepted item %q", header, it)
			}
			if k == "t" {
				tCount++
				if val != ts {
					t.Fatalf("parse(%q) t = %q, want %q", header, ts, val)
				}
			}
			v1 = v1 || k == "v1"
		}
		if tCount != 1 || v1 != hasV1 || strings.Contains(ts, ",") {
			t.Fatalf("parse(%q) = %q, %v; %d t items, v1 %v", header, ts, hasV1, tCount, v1)
		}
	})
}

func FuzzStripeVerify(f *testing.F) {
	v := stripeVector
	const now = 1700000000
	anyTime, err := NewStripe(v.secret, WithTolerance(0))
	if err != nil {
		f.Fatal(err)
	}
	clocked, _ := NewStripe(v.secret, provClock(now))
	fixedBody := []byte(v.body)
	fixed := stripeHeader("t=" + v.t + ",v1=" + v.sig)
	f.Add([]byte(v.body), "t="+v.t+",v1="+v.sig)
	f.Add([]byte(v.body), "t="+v.t+",v1="+v.oldSig+",v1="+v.sig+",v0=00")
	f.Add([]byte(v.body), "t=1700000301,v1="+v.sig)
	f.Add([]byte(v.body), "t="+v.t+", v1="+strings.ToUpper(v.sig))
	f.Add([]byte("{}"), "t=0,v1=")
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		h := http.Header{"Stripe-Signature": {header}}
		d, err := anyTime.Verify(body, h)
		checkSentinel(t, err)
		if err == nil {
			// The oracle: t is canonical and some v1 item is the hex HMAC of "{t}.{body}".
			ts := strings.TrimPrefix(stripeItem(header, "t"), "t=")
			want := hex.EncodeToString(oracleHMAC(v.secret, []byte(ts+"."), body))
			if !canonicalUnix.MatchString(ts) || !stripeHasV1(header, want) || strconv.FormatInt(d.Timestamp.Unix(), 10) != ts {
				t.Fatalf("Verify(%q, %q) = %+v but the oracle finds no signature for t=%q", body, header, d, ts)
			}
		}
		_, cerr := clocked.Verify(body, h)
		checkSentinel(t, cerr)
		if cerr == nil && (err != nil || d.Timestamp.Unix() < now-300 || d.Timestamp.Unix() > now+300) {
			t.Fatalf("clocked Verify(%q, %q) accepted %v (unclocked err %v)", body, header, d.Timestamp, err)
		}
		checkFixed(t, clocked, fixedBody, fixed, body)
		got := checkSignRoundTrip(t, clocked, Delivery{Timestamp: time.Unix(now, 0)}, body)
		if id, _ := jsonscan.TopLevelString(body, "id"); got.ID != id {
			t.Fatalf("round trip id = %q, want %q", got.ID, id)
		}
	})
}

// stripeItem returns the first trimmed item of a Stripe-Signature value with the given key.
func stripeItem(header, key string) string {
	for _, it := range strings.Split(header, ",") {
		if it = strings.Trim(it, " \t"); strings.HasPrefix(it, key+"=") {
			return it
		}
	}
	return ""
}

// stripeHasV1 reports whether any v1 item of header equals want, ignoring hex case.
func stripeHasV1(header, want string) bool {
	for _, it := range strings.Split(header, ",") {
		if sig, ok := strings.CutPrefix(strings.Trim(it, " \t"), "v1="); ok && strings.EqualFold(sig, want) {
			return true
		}
	}
	return false
}

func FuzzGitHubVerify(f *testing.F) {
	v := githubVector
	g, err := NewGitHub(v.secret)
	if err != nil {
		f.Fatal(err)
	}
	fixedBody := []byte(v.body)
	fixed := githubHeader(v.sig, "d", "ping")
	f.Add([]byte(v.body), v.sig)
	f.Add([]byte(v.body), strings.ToUpper(v.sig))
	f.Add([]byte(v.body), v.sig[7:])
	f.Add([]byte(""), "sha256=")
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		_, err := g.Verify(body, http.Header{"X-Hub-Signature-256": {sig}})
		checkSentinel(t, err)
		hexSig, ok := strings.CutPrefix(sig, "sha256=")
		signed := ok && strings.EqualFold(hexSig, hex.EncodeToString(oracleHMAC(v.secret, body)))
		if (err == nil) != signed {
			t.Fatalf("Verify(%q, %q): err = %v; oracle says signed=%v", body, sig, err, signed)
		}
		checkFixed(t, g, fixedBody, fixed, body)
		checkSignRoundTrip(t, g, Delivery{Type: "push"}, body)
	})
}

func FuzzShopifyVerify(f *testing.F) {
	v := shopifyVector
	s, err := NewShopify(v.secret)
	if err != nil {
		f.Fatal(err)
	}
	fixedBody := []byte(v.body)
	fixed := shopifyHeader(v.sig, "id", "orders/create")
	f.Add([]byte(v.body), v.sig)
	f.Add([]byte(v.body), strings.TrimRight(v.sig, "="))
	f.Add([]byte(""), "")
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		_, err := s.Verify(body, http.Header{"X-Shopify-Hmac-Sha256": {sig}})
		checkSentinel(t, err)
		signed := sig == base64.StdEncoding.EncodeToString(oracleHMAC(v.secret, body))
		if (err == nil) != signed {
			t.Fatalf("Verify(%q, %q): err = %v; oracle says signed=%v", body, sig, err, signed)
		}
		checkFixed(t, s, fixedBody, fixed, body)
		checkSignRoundTrip(t, s, Delivery{Type: "orders/create"}, body)
	})
}

func FuzzSlackVerify(f *testing.F) {
	v := slackVector
	const now = 1531420618
	anyTime, err := NewSlack(v.secret, WithTolerance(0))
	if err != nil {
		f.Fatal(err)
	}
	clocked, _ := NewSlack(v.secret, provClock(now))
	fixedBody := []byte(v.body)
	fixed := slackHeader(v.ts, "v0="+v.sig)
	f.Add([]byte(v.body), v.ts, "v0="+v.sig)
	f.Add([]byte(v.body), "1531420919", "v0="+v.sig)
	f.Add([]byte(`{"type":"event_callback","event_id":"Ev1","event":{"type":"message"}}`), v.ts, "v0=00")
	f.Add([]byte("payload=%7B%22type%22%3A%22shortcut%22%7D"), "0", "v0=")
	f.Fuzz(func(t *testing.T, body []byte, ts, sig string) {
		h := http.Header{"X-Slack-Request-Timestamp": {ts}, "X-Slack-Signature": {sig}}
		d, err := anyTime.Verify(body, h)
		checkSentinel(t, err)
		hexSig, ok := strings.CutPrefix(sig, "v0=")
		signed := ok && canonicalUnix.MatchString(ts) &&
			strings.EqualFold(hexSig, hex.EncodeToString(oracleHMAC(v.secret, []byte("v0:"+ts+":"), body)))
		if (err == nil) != signed {
			t.Fatalf("Verify(%q, %q, %q) = %+v, %v; oracle says signed=%v", body, ts, sig, d, err, signed)
		}
		if _, cerr := clocked.Verify(body, h); cerr == nil && (err != nil || d.Timestamp.Unix() < now-300 || d.Timestamp.Unix() > now+300) {
			t.Fatalf("clocked Verify accepted ts %q", ts)
		}
		checkFixed(t, clocked, fixedBody, fixed, body)
		checkSignRoundTrip(t, clocked, Delivery{Timestamp: time.Unix(now-299, 0)}, body)
	})
}

func FuzzSlackLabels(f *testing.F) {
	f.Add([]byte(slackVector.body))
	f.Add([]byte(`{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention"}}`))
	f.Add([]byte(`{"type":"url_verification","challenge":"x"}`))
	f.Add([]byte("payload=%7B%22type%22%3A%22block_actions%22%2C%22trigger_id%22%3A%221.2%22%7D"))
	f.Add([]byte("command=%2Fx&trigger_id=1;2"))
	f.Add([]byte("%zz=%"))
	f.Fuzz(func(t *testing.T, body []byte) {
		id, typ := slackLabels(body)
		id2, typ2 := slackLabels(bytes.Clone(body))
		if id != id2 || typ != typ2 {
			t.Fatalf("slackLabels(%q) is not deterministic", body)
		}
		if isJSONObject(body) {
			if want, _ := jsonscan.TopLevelString(body, "event_id"); id != want {
				t.Fatalf("slackLabels(%q) id = %q, want event_id %q", body, id, want)
			}
		}
	})
}

func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{"{body}", "v0:{timestamp}:{body}", "{id}.{timestamp}.{body}", "{body}{body}", "{ts}", "{body", "}{body}{", "{{body}}", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tmpl string) {
		parts, err := parseTemplate(tmpl)
		if err != nil {
			if parts != nil {
				t.Fatalf("parseTemplate(%q) returned parts with error %v", tmpl, err)
			}
			return
		}
		// Rendering the parts back gives the template, with exactly one {body}.
		var b strings.Builder
		bodies := 0
		for _, p := range parts {
			switch p.field {
			case fieldBody:
				b.WriteString("{body}")
				bodies++
			case fieldTimestamp:
				b.WriteString("{timestamp}")
			case fieldID:
				b.WriteString("{id}")
			default:
				if p.lit == "" || strings.Contains(p.lit, "{") {
					t.Fatalf("parseTemplate(%q): literal %q", tmpl, p.lit)
				}
				b.WriteString(p.lit)
			}
		}
		if b.String() != tmpl || bodies != 1 {
			t.Fatalf("parseTemplate(%q) renders back as %q with %d bodies", tmpl, b.String(), bodies)
		}
	})
}

func FuzzHMACVerify(f *testing.F) {
	const secret = "generic-secret"
	h, err := NewHMAC(HMACConfig{Secret: secret, Header: "X-Sig", Prefix: "sha256=", Template: "{id}.{timestamp}.{body}",
		TimestampHeader: "X-Ts", IDHeader: "X-Id", TypeHeader: "X-Type"}, WithTolerance(0))
	if err != nil {
		f.Fatal(err)
	}
	fixedBody := []byte(`{"fixed":true}`)
	fixed, _ := h.Sign(Delivery{ID: "msg_fixed", Timestamp: time.Unix(1700000000, 0)}, fixedBody)
	f.Add(fixedBody, "msg_fixed", "1700000000", fixed.Get("X-Sig"))
	f.Add([]byte(""), "", "", "sha256=")
	f.Add([]byte("x"), "a.b", "01", "SHA256=00")
	f.Fuzz(func(t *testing.T, body []byte, id, ts, sig string) {
		d, err := h.Verify(body, http.Header{"X-Sig": {sig}, "X-Id": {id}, "X-Ts": {ts}, "X-Type": {"t"}})
		checkSentinel(t, err)
		hexSig, ok := strings.CutPrefix(sig, "sha256=")
		signed := ok && id != "" && canonicalUnix.MatchString(ts) &&
			strings.EqualFold(hexSig, hex.EncodeToString(oracleHMAC(secret, []byte(id+"."+ts+"."), body)))
		if (err == nil) != signed {
			t.Fatalf("Verify(%q, id %q, ts %q, sig %q) = %+v, %v; oracle says signed=%v", body, id, ts, sig, d, err, signed)
		}
		if err == nil && (d.ID != id || d.Type != "t") {
			t.Fatalf("delivery = %+v", d)
		}
		checkFixed(t, h, fixedBody, fixed, body)
		if id != "" {
			if got := checkSignRoundTrip(t, h, Delivery{ID: id, Type: "t", Timestamp: time.Unix(1, 0)}, body); got.ID != id {
				t.Fatalf("round trip id = %q", got.ID)
			}
		}
	})
}
