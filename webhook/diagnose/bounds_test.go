package diagnose

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/webhook"
)

// bigJSON returns a compact JSON object of about n bytes.
func bigJSON(n int) string {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"item %d"}`, i, i)
	}
	b.WriteString(`]}`)
	return b.String()
}

// TestExplainBounds checks each limit: the size of a body re-serialised, the work
// budget, the number of header names, secrets and findings.
func TestExplainBounds(t *testing.T) {
	t.Run("a body over the re-serialisation limit is not re-serialised", func(t *testing.T) {
		body := bigJSON(maxReserialize + 1)
		h := sign(t, "github", ghSecret, body, now)
		r := Explain(Input{Provider: "github", Secrets: []string{ghSecret}, Header: h, Body: []byte(reindent(t, body, " ")), Now: now, MaxWork: 1 << 30})
		if hasCode(r, CodeBodyChanged) || !r.Partial {
			t.Fatalf("partial %v, findings %+v", r.Partial, r.Findings)
		}
		// Just under the limit, the same mistake is found.
		n := maxReserialize
		received := ""
		for body, received = "", ""; len(received) == 0 || len(received) > maxReserialize; n -= n / 20 {
			body = bigJSON(n)
			received = reindent(t, body, " ")
		}
		if len(received) < maxReserialize*9/10 {
			t.Fatalf("the body is %d bytes, not near the limit", len(received))
		}
		h = sign(t, "github", ghSecret, body, now)
		r = Explain(Input{Provider: "github", Secrets: []string{ghSecret}, Header: h, Body: []byte(received), Now: now, MaxWork: 1 << 30})
		if len(r.Findings) == 0 || r.Findings[0].Code != CodeBodyChanged {
			t.Fatalf("under the limit: %+v", r)
		}
	})
	t.Run("the work budget stops the search", func(t *testing.T) {
		body := bigJSON(64 << 10)
		h := sign(t, "github", ghSecret, body, now)
		in := Input{Provider: "github", Secrets: []string{ghSecret}, Header: h, Body: []byte(reindent(t, body, "  ")), Now: now}
		if r := Explain(in); len(r.Findings) == 0 || r.Findings[0].Code != CodeBodyChanged || r.Partial {
			t.Fatalf("with the default budget: %+v", r)
		}
		in.MaxWork = 200 << 10 // enough for a few candidates, not for the compact re-serialisation
		r := Explain(in)
		if hasCode(r, CodeBodyChanged) || !r.Partial || !hasCode(r, CodeNoMatch) {
			t.Fatalf("with a small budget: %+v", r)
		}
		if !strings.Contains(r.Findings[len(r.Findings)-1].Hint, "Not every candidate was tried") {
			t.Errorf("the hint does not say the search was cut short: %+v", r.Findings)
		}
	})
	t.Run("a body over the budget is still checked once without the timestamp", func(t *testing.T) {
		body := bigJSON(2 << 20)
		h := sign(t, "stripe", whsec, body, now.Add(-time.Hour))
		r := Explain(Input{Provider: "stripe", Secrets: []string{whsec}, Header: h, Body: []byte(body), Now: now, MaxWork: 1 << 10})
		if len(r.Findings) != 1 || r.Findings[0].Code != CodeTimestampSkew || !r.Findings[0].Confirmed {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("header names past the limit are not read", func(t *testing.T) {
		h := sign(t, "stripe", whsec, compact, now)
		for i := 0; i < maxHeaderNames; i++ {
			h.Set(fmt.Sprintf("A-Pad-%04d", i), "x") // sorted before Stripe-Signature
		}
		r := Explain(Input{Provider: "stripe", Secrets: []string{whsec}, Header: h, Body: []byte(compact + " "), Now: now})
		if !r.Partial || !hasCode(r, CodeMissingHeader) {
			t.Fatalf("partial %v, findings %+v", r.Partial, r.Findings)
		}
	})
	t.Run("secrets past the limit are not tried", func(t *testing.T) {
		secrets := make([]string, maxSecrets+1)
		for i := range secrets {
			secrets[i] = fmt.Sprintf("other-secret-%d", i)
		}
		secrets[maxSecrets] = ghSecret + " " // the one with a mistake is past the limit
		r := Explain(Input{Provider: "github", Secrets: secrets, Header: sign(t, "github", ghSecret, compact, now), Body: []byte(compact), Now: now})
		if !r.Partial || hasCode(r, CodeSecretEncoding) {
			t.Fatalf("partial %v, findings %+v", r.Partial, r.Findings)
		}
	})
	t.Run("findings are capped", func(t *testing.T) {
		secrets := make([]string, 12)
		for i := range secrets {
			secrets[i] = fmt.Sprintf("sk_live_%d", i) // each one a finding
		}
		r := Explain(Input{Provider: "stripe", Secrets: secrets, Header: sign(t, "stripe", whsec, compact, now), Body: []byte(compact), Now: now})
		if len(r.Findings) != MaxFindings || !r.Partial {
			t.Fatalf("%d findings, partial %v", len(r.Findings), r.Partial)
		}
	})
}

// TestExplainHostileInput feeds garbage: it must not panic, and must say something.
func TestExplainHostileInput(t *testing.T) {
	huge := strings.Repeat("v1,"+strings.Repeat("A", 43)+"= ", 40000) // 1.9 MB of signatures
	nested := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	cases := []Input{
		{Provider: "standard", Secrets: []string{whsec}, Header: http.Header{"Webhook-Id": {"msg_1"}, "Webhook-Timestamp": {fmt.Sprint(now.Unix())}, "Webhook-Signature": {huge}}, Body: []byte(compact)},
		{Provider: "stripe", Secrets: []string{whsec}, Header: http.Header{"Stripe-Signature": {strings.Repeat("t=1,", 100000)}}, Body: []byte(compact)},
		{Provider: "github", Secrets: []string{ghSecret}, Header: http.Header{"X-Hub-Signature-256": {"sha256=" + strings.Repeat("zz", 1000)}}, Body: []byte(nested)},
		{Provider: "openai", Secrets: []string{""}, Header: http.Header{}, Body: nil},
		{Provider: "openai", Secrets: nil, Header: nil, Body: []byte("\x00\xff\xfe")},
		{Provider: "hmac", Secrets: []string{"k"}, Header: http.Header{"X-Sig": {"\x00"}}, Body: []byte("{")},
		{Provider: "hmac", HMAC: &webhook.HMACConfig{Header: "X-Sig", Template: "{timestamp}.{body}", TimestampHeader: "X-Ts"}, Secrets: []string{"k"},
			Header: http.Header{"X-Sig": {"sha1=" + strings.Repeat("0", 40)}, "X-Ts": {"-1"}}, Body: []byte(`{"a":"\ud800"}`)},
		{Provider: "slack", Secrets: []string{slackKey}, Header: http.Header{"X-Slack-Signature": {"v0="}, "X-Slack-Request-Timestamp": {"999999999999999999999"}}, Body: []byte("a=%zz&b")},
		{Provider: "shopify", Secrets: []string{"whsk_" + strings.Repeat("A", 43)}, Header: http.Header{strings.Repeat("x", 1<<16): {"y"}}, Body: []byte(`"\u00e9"`)},
		{Provider: "svix", Secrets: []string{whsec}, Header: http.Header{"svix-id": {"a.b"}, "svix-timestamp": {"2025-06-25T14:10:10Z"}, "svix-signature": {"v1=,,"}}, Body: []byte(`{}`)},
		{Provider: "standard", Secrets: []string{whsec}, Header: http.Header{"Webhook-Id": {"x"}, "Webhook-Timestamp": {"0001"}, "Webhook-Signature": {"v1a,####"}}, Body: []byte(`[1e400, -0, 1.5e-9]`)},
	}
	for i, in := range cases {
		in.Now = now
		r := Explain(in)
		if r.Verified || len(r.Findings) == 0 {
			t.Errorf("case %d: %+v", i, r)
		}
		for _, f := range r.Findings {
			if len(f.Message) > 2048 || len(f.Hint) > 2048 {
				t.Errorf("case %d: a finding of %d+%d bytes", i, len(f.Message), len(f.Hint))
			}
		}
	}
}

// TestJSONStyles checks the re-serialiser against encoding/json's own output where the
// styles agree, and against fixed texts for the others.
func TestJSONStyles(t *testing.T) {
	doc := `{"b":[1,2.50,{"x":null}],"a":"<é/\u2028>\"\n","c":{},"d":[],"e":1e21,"f":123456789012345678901}`
	v, f, err := parseJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if !f.html || !f.nonASCII || !f.slash || !f.control || !f.unsorted || !f.numbers {
		t.Errorf("features %+v", f)
	}
	for _, c := range []struct {
		style jsonStyle
		want  string
	}{
		{jsonStyle{}, `{"b":[1,2.50,{"x":null}],"a":"<é/` + "\u2028" + `>\"\n","c":{},"d":[],"e":1e21,"f":123456789012345678901}`},
		{jsonStyle{spaced: true, ascii: true}, `{"b": [1, 2.50, {"x": null}], "a": "<\u00e9/\u2028>\"\n", "c": {}, "d": [], "e": 1e21, "f": 123456789012345678901}`},
		{jsonStyle{ascii: true, slash: true}, `{"b":[1,2.50,{"x":null}],"a":"<\u00e9\/\u2028>\"\n","c":{},"d":[],"e":1e21,"f":123456789012345678901}`},
		{jsonStyle{jsNums: true}, `{"b":[1,2.5,{"x":null}],"a":"<é/` + "\u2028" + `>\"\n","c":{},"d":[],"e":1e+21,"f":123456789012345680000}`},
		{jsonStyle{indent: "  ", sortKeys: true}, "{\n  \"a\": \"<é/\u2028>\\\"\\n\",\n  \"b\": [\n    1,\n    2.50,\n    {\n      \"x\": null\n    }\n  ],\n  \"c\": {},\n  \"d\": [],\n  \"e\": 1e21,\n  \"f\": 123456789012345678901\n}"},
	} {
		if got := string(c.style.encode(v, len(doc))); got != c.want {
			t.Errorf("%+v:\n got %s\nwant %s", c.style, got, c.want)
		}
	}
	// Strings in the html style are what Go's encoding/json writes.
	for _, str := range []string{"plain", "<a href=\"x\">&amp;</a>", "tab\tnl\ncr\r\x00\x1f\x7f", "é€😀", "\u2028\u2029", `back\slash "quote"`, "\b\f"} {
		want, _ := json.Marshal(str)
		if got := (jsonStyle{html: true}).str(nil, str); string(got) != string(want) {
			t.Errorf("html style of %q: %s, encoding/json %s", str, got, want)
		}
	}
	for _, bad := range []string{``, `{`, `{"a"}`, `[1,]`, `"\ud800"`, "\"\xff\"", `01`, `1.`, `tru`, `{"a":1}x`, `"a` + "\n" + `"`} {
		if _, _, err := parseJSON([]byte(bad)); err == nil {
			t.Errorf("parseJSON(%q) accepted", bad)
		}
	}
}

func TestJSNumber(t *testing.T) {
	for lit, want := range map[string]string{
		"0": "0", "-0": "0", "1.0": "1", "1.50": "1.5", "100": "100", "1e2": "100", "1E+2": "100",
		"123456789012345678901": "123456789012345680000", "1e21": "1e+21", "1.5e-7": "1.5e-7",
		"0.000001": "0.000001", "-2.5e300": "-2.5e+300", "9007199254740993": "9007199254740992",
	} {
		if got := jsNumber(lit); got != want {
			t.Errorf("jsNumber(%s) = %s, want %s", lit, got, want)
		}
	}
}

func FuzzExplain(f *testing.F) {
	f.Add(uint8(0), whsec, "Webhook-Signature", "v1,abc", "1750861210", []byte(openAIBody))
	f.Add(uint8(3), whsec, "Stripe-Signature", "t=1750861210,v1=00", "", []byte(compact))
	f.Add(uint8(4), ghSecret, "X-Hub-Signature", "sha1=00", "", []byte("{\"a\":[1,{\"b\":\"\\u00e9\"}]}\r\n"))
	f.Add(uint8(6), slackKey, "X-Slack-Signature", "v0=zz", "17508612101234", []byte(slackForm))
	f.Add(uint8(7), "k", "X-Sig", "sha512=", "", []byte{})
	names := append(webhook.ProviderNames(), "hmac")
	f.Fuzz(func(t *testing.T, p uint8, secret, name, value, ts string, body []byte) {
		in := Input{Provider: names[int(p)%len(names)], Secrets: []string{secret}, Body: body, Now: now, MaxWork: 1 << 20,
			HMAC:   &webhook.HMACConfig{Header: "X-Sig", Template: "{timestamp}:{body}", TimestampHeader: "X-Ts", Prefix: "sha256="},
			Header: http.Header{"Webhook-Id": {"msg_1"}, "Webhook-Timestamp": {ts}, "X-Slack-Request-Timestamp": {ts}, "X-Ts": {ts}}}
		if name != "" {
			in.Header[name] = []string{value}
		}
		r := Explain(in)
		if r.Verified != (len(r.Findings) == 0) {
			t.Fatalf("verified %v with %d findings", r.Verified, len(r.Findings))
		}
		if len(r.Findings) > MaxFindings {
			t.Fatalf("%d findings", len(r.Findings))
		}
		for _, f := range r.Findings {
			if f.Code == "" || f.Message == "" || f.Hint == "" {
				t.Fatalf("incomplete finding %+v", f)
			}
			if strings.ContainsFunc(f.Message+f.Hint, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				t.Fatalf("a control character in %q", f.Message)
			}
		}
		leaky := len(secret) >= 12 && !strings.Contains(name+value+ts+string(body), secret) && !strings.Contains(strings.Join(names, ""), secret)
		if js, _ := json.Marshal(r); leaky && strings.Contains(string(js), secret) {
			t.Fatalf("the report shows the secret: %s", js)
		}
	})
}

// BenchmarkExplain measures the worst case of an ordinary request: a 2 KB JSON body
// whose signature no candidate explains, so that every candidate is tried.
func BenchmarkExplain(b *testing.B) {
	body := []byte(bigJSON(2 << 10))
	h := http.Header{"X-Hub-Signature-256": {"sha256=" + strings.Repeat("0", 64)}}
	in := Input{Provider: "github", Secrets: []string{ghSecret}, Header: h, Body: body, Now: now}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if r := Explain(in); r.Verified || r.Partial {
			b.Fatalf("%+v", r)
		}
	}
}
