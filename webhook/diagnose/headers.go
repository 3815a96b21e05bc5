package diagnose

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/heraldhq/herald/webhook"
)

// checkHeaders says which needed headers are missing and where what they should hold
// may be: in another provider's headers, in a header of a similar name, in GitHub's
// SHA-1 header. It returns false when the signature cannot be checked further.
func (d *diagnosis) checkHeaders() bool {
	var missing []string
	for _, name := range d.s.required() {
		if strings.TrimSpace(headerValue(d.h, name)) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return true
	}
	if d.foreign(missing) {
		return false
	}
	if d.s.provider == "github" && headerValue(d.h, "X-Hub-Signature") != "" {
		d.githubSHA1()
		return false
	}
	if d.renamed(missing) && d.done() {
		return false
	}
	still := false
	for _, name := range missing {
		if headerValue(d.h, name) != "" {
			continue // found under another name
		}
		still = true
		d.add(Finding{Code: CodeMissingHeader,
			Message: fmt.Sprintf("The request has no %s header, which provider %s needs.", lower(name), d.s.provider),
			Hint:    d.missingHint(name),
		})
	}
	return !still
}

// done reports whether a confirmed finding has been made.
func (d *diagnosis) done() bool {
	for _, f := range d.findings {
		if f.Confirmed {
			return true
		}
	}
	return false
}

func (d *diagnosis) missingHint(name string) string {
	who := d.s.label()
	return fmt.Sprintf("%s sends %s with every webhook: a proxy or load balancer in between may drop it, or the request does not come from %s (a request sent by hand, a health check). To test, send a correctly signed sample with herald trigger.",
		capitalize(who), lower(name), who)
}

// foreign reports, and says, whether the request carries another provider's headers
// where the scheme's signature header is missing.
func (d *diagnosis) foreign(missing []string) bool {
	if missing[0] != d.s.sig {
		return false
	}
	for _, m := range markers {
		if family(m.provider) == family(d.s.provider) || headerValue(d.h, m.header) == "" {
			continue
		}
		p := m.provider
		if p == "standard" && strings.Contains(headerValue(d.h, "User-Agent"), "OpenAI") {
			p = "openai"
		}
		other := schemes[p]
		other.provider = p
		var present []string
		for _, mm := range markers {
			if family(mm.provider) == family(p) && headerValue(d.h, mm.header) != "" {
				present = append(present, lower(mm.header))
			}
		}
		f := Finding{Code: CodeWrongProvider,
			Message: fmt.Sprintf("The request carries the headers of %s (%s), not the %s header provider %s reads.", displayNames[p], strings.Join(present, ", "), lower(d.s.sig), d.s.provider),
			Hint:    fmt.Sprintf("If the webhooks come from %s, choose provider %s and configure its signing secret.", displayNames[p], p),
		}
		if v, err := other.verifier(d.in.Secrets, 0, d.now); err == nil && d.try(v, d.in.Body, d.h, len(d.in.Secrets)) {
			f.Confirmed = true
			f.Message += fmt.Sprintf(" It verifies as %s with the configured secret.", p)
			f.Hint = fmt.Sprintf("Choose provider %s: the secret is right.", p)
		}
		d.add(f)
		return true
	}
	return false
}

// githubSHA1 explains a GitHub request that carries only the legacy SHA-1 signature.
func (d *diagnosis) githubSHA1() {
	if len(d.in.Secrets) == 0 {
		return
	}
	v, err := webhook.NewHMAC(webhook.HMACConfig{Name: "github-sha1", Secret: d.in.Secrets[0], Header: "X-Hub-Signature", Prefix: "sha1=", Algorithm: "sha1"},
		webhook.WithSecrets(d.in.Secrets[1:]...))
	f := Finding{Code: CodeMisnamedHeader,
		Message: "Only the legacy X-Hub-Signature (HMAC-SHA1) is present; X-Hub-Signature-256 is missing, and the SHA-1 signature does not match either.",
		Hint:    "GitHub sends X-Hub-Signature-256 beside X-Hub-Signature: a proxy in between drops it, or the sender is not GitHub.",
	}
	if err == nil && d.try(v, d.in.Body, d.h, len(d.in.Secrets)) {
		f.Confirmed = true
		f.Message = "Only the legacy X-Hub-Signature (HMAC-SHA1) is present, and it matches; X-Hub-Signature-256 is missing."
		f.Hint += " SHA-1 alone is not accepted; for a sender that signs only with SHA-1, use provider hmac with header X-Hub-Signature, prefix sha1= and algorithm sha1."
	}
	d.add(f)
}

// renamed looks for the missing headers under similar names (openai-signature for
// webhook-signature, x-signature, x-webhook-id...), and reports whether any was found;
// d.h then has them under the names the scheme reads, for the checks that follow.
func (d *diagnosis) renamed(missing []string) bool {
	names := make([]string, 0, len(d.h))
	for n := range d.h {
		names = append(names, n)
	}
	sort.Strings(names)
	fixed := make(http.Header, len(d.h)+len(missing))
	for k, v := range d.h {
		fixed[k] = v
	}
	var from, to []string
	sigPrefix := ""
	for _, want := range missing {
		name := lookalike(want, names, d.s.required(), sigPrefix)
		if name == "" {
			continue
		}
		if want == d.s.sig {
			sigPrefix = words(name)[0]
		}
		fixed[want] = d.h[name]
		from, to = append(from, name), append(to, want)
	}
	if len(from) == 0 {
		return false
	}
	f := Finding{Code: CodeMisnamedHeader,
		Message: fmt.Sprintf("Provider %s reads %s, but the request has %s instead.", d.s.provider, quoteNames(to), quoteNames(from)),
		Hint:    fmt.Sprintf("Send, or pass on, the headers under the names %s uses.", d.s.label()),
	}
	if d.s.family() == "standard" {
		for _, n := range from {
			if n = lower(n); strings.HasPrefix(n, "openai-") || strings.HasPrefix(n, "x-openai-") {
				f.Hint = "OpenAI sends no openai-* signature headers: it sends Standard Webhooks headers (webhook-id, webhook-timestamp, and webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>). An openai-signature header comes from a tutorial or a test script; send test webhooks with herald trigger instead."
				break
			}
		}
	}
	if d.try(d.vt, d.in.Body, fixed, len(d.in.Secrets)) {
		f.Confirmed = true
		f.Message += " With the names corrected, the signature verifies."
	}
	d.add(f)
	d.h = fixed
	return true
}

// lookalike returns the request header most like want, a header the scheme needs, or "".
func lookalike(want string, names, required []string, sigPrefix string) string {
	ww := words(want)
	if len(ww) == 0 {
		return ""
	}
	last := ww[len(ww)-1]
	for _, name := range names {
		if isOneOf(name, required) || isMarker(name) {
			continue
		}
		nw := words(name)
		if len(nw) == 0 || !strings.EqualFold(nw[len(nw)-1], last) {
			continue
		}
		if last == "Signature" || sigPrefix != "" && nw[0] == sigPrefix || sharesWord(nw[:len(nw)-1], ww[:len(ww)-1]) {
			return name
		}
	}
	return ""
}

// words splits a canonical header name into its words, without "X" and numbers.
func words(name string) []string {
	var out []string
	for _, w := range strings.Split(name, "-") {
		if w == "" || w == "X" || strings.Trim(w, "0123456789") == "" {
			continue
		}
		out = append(out, w)
	}
	return out
}

func sharesWord(a, b []string) bool {
	for _, x := range a {
		if isOneOf(x, b) {
			return true
		}
	}
	return false
}

func isOneOf(s string, list []string) bool {
	for _, x := range list {
		if strings.EqualFold(s, x) {
			return true
		}
	}
	return false
}

func isMarker(name string) bool {
	for _, m := range markers {
		if m.header == name {
			return true
		}
	}
	return false
}

// family is the provider family of the scheme.
func (s *scheme) family() string { return family(s.provider) }

// checkSignatureFormat reports whether the signature is right but written wrongly:
// hex for base64, a missing or different version tag, another hash.
func (d *diagnosis) checkSignatureFormat() bool {
	v := headerValue(d.h, d.s.sig)
	if len(v) > maxHeaderRewrite {
		d.partial = true
		return false
	}
	list, _ := d.s.entries(v)
	var notes, out []string
	otherLen := 0
	for _, e := range list {
		fixed, note, n := d.s.normalise(e)
		if note != "" && !isOneOf(note, notes) {
			notes = append(notes, note)
		}
		if n != 0 {
			otherLen = n
		}
		out = append(out, fixed)
	}
	if len(notes) > 0 {
		h := make(http.Header, len(d.h))
		for k, vv := range d.h {
			h[k] = vv
		}
		h[d.s.sig] = []string{d.s.join(out, v)}
		f := Finding{Code: CodeSignatureFormat,
			Message: strings.Join(notes, "; ") + ".",
			Hint:    "The sender must write " + lower(d.s.sig) + " as " + d.s.format() + ".",
		}
		if d.try(d.vt, d.in.Body, h, len(d.in.Secrets)) {
			f.Confirmed = true
			f.Message = "The signature is right but written differently: " + f.Message
		} else {
			f.Message = capitalize(f.Message)
		}
		d.add(f)
		if f.Confirmed {
			return true
		}
	}
	if otherLen != 0 {
		return d.otherAlgorithm(otherLen, v)
	}
	return false
}

// format describes how the scheme writes its signature header.
func (s *scheme) format() string {
	switch {
	case s.standard:
		return `space-separated "v1,<base64 digest>" entries`
	case s.provider == "stripe":
		return `"t=<unix seconds>,v1=<hex digest>"`
	}
	if s.prefix == "" {
		return "the " + s.encodingName() + " digest alone"
	}
	return fmt.Sprintf("%q followed by the %s digest", s.prefix, s.encodingName())
}

// normalise returns an entry as the scheme writes it, what was different (or ""),
// and the digest length when it is another hash's.
func (s *scheme) normalise(e entry) (fixed, note string, otherLen int) {
	ver, dig := e.version, e.digest
	if s.standard && ver == "v1a" || s.provider == "stripe" && ver != "v1" && ver != "" {
		return s.entryText(ver, dig), "", 0
	}
	want := s.version()
	if ver == "" {
		tag, rest := splitTag(dig)
		switch {
		case tag != "" && want != "":
			note, dig = fmt.Sprintf("the signature is tagged %q where %s %q", tag, s.writes(), s.prefix), rest
		case tag != "":
			note, dig = fmt.Sprintf("the signature starts with %q, where %s no tag", tag, s.writes()), rest
		case want != "":
			note = fmt.Sprintf("the signature lacks the %q prefix", s.prefix)
		}
		ver = want
	} else if ver != want {
		return s.entryText(e.version, e.digest), "", 0
	}
	raw, enc := decodeDigest(dig)
	switch {
	case raw == nil:
		return s.entryText(e.version, e.digest), "", 0
	case len(raw) != s.digest:
		if algorithmOf(len(raw)) != "" && !s.standard && s.provider != "stripe" {
			otherLen = len(raw)
		}
		return s.entryText(e.version, e.digest), "", otherLen
	case enc != s.encodingName():
		n := fmt.Sprintf("the digest is %s where %s %s", enc, s.writes(), s.encodingName())
		if note != "" {
			n = note + ", and " + n[len("the "):]
		}
		note = n
	}
	if note == "" {
		return s.entryText(e.version, e.digest), "", 0
	}
	return s.entryText(ver, s.encode(raw)), note, 0
}

// entryText writes one signature entry.
func (s *scheme) entryText(version, digest string) string {
	switch {
	case s.standard:
		if version == "" {
			return digest
		}
		return version + "," + digest
	case s.provider == "stripe":
		if version == "" {
			return digest
		}
		return version + "=" + digest
	case version == "":
		return digest
	}
	return s.prefix + digest
}

// join writes a signature header from its entries; original supplies what is not an
// entry (Stripe's t=).
func (s *scheme) join(entries []string, original string) string {
	switch {
	case s.standard:
		return strings.Join(entries, " ")
	case s.provider == "stripe":
		var t string
		for _, item := range strings.Split(original, ",") {
			if strings.HasPrefix(strings.TrimSpace(item), "t=") {
				t = strings.TrimSpace(item)
			}
		}
		return strings.Join(append([]string{t}, entries...), ",")
	case len(entries) > 0:
		return entries[0]
	}
	return ""
}

// splitTag splits a short tag such as "v1=" or "sha256=" off a digest.
func splitTag(s string) (tag, rest string) {
	for i := 0; i < len(s) && i <= 10; i++ {
		c := s[i]
		if c == '=' || c == ',' || c == ':' {
			if i > 0 && strings.Trim(s[i:], "=") != "" {
				return s[:i+1], s[i+1:]
			}
			break
		}
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			break
		}
	}
	return "", s
}

// decodeDigest decodes a digest written in hex or base64 (either alphabet, padded or
// not), and names the encoding; nil if it is neither.
func decodeDigest(s string) ([]byte, string) {
	if isHex(s) && len(s)%2 == 0 && len(s) >= 40 {
		b, _ := hex.DecodeString(s)
		return b, "hex"
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) >= 20 {
			return b, "base64"
		}
	}
	return nil, ""
}

// hmacConfig describes the scheme as a webhook.HMACConfig, for the schemes that one can
// describe with a single digest.
func (s *scheme) hmacConfig() *webhook.HMACConfig {
	switch s.provider {
	case "github":
		return &webhook.HMACConfig{Header: "X-Hub-Signature-256", Prefix: "sha256="}
	case "shopify":
		return &webhook.HMACConfig{Header: "X-Shopify-Hmac-Sha256", Encoding: "base64"}
	case "slack":
		return &webhook.HMACConfig{Header: "X-Slack-Signature", Prefix: "v0=", Template: "v0:{timestamp}:{body}", TimestampHeader: "X-Slack-Request-Timestamp"}
	case "hmac":
		c := *s.hmac
		return &c
	}
	return nil
}

// otherAlgorithm reports whether the signature, n bytes long, is an HMAC with another
// hash over the same content.
func (d *diagnosis) otherAlgorithm(n int, header string) bool {
	cfg := d.s.hmacConfig()
	alg := algorithmOf(n)
	if cfg == nil || alg == "" {
		return false
	}
	cfg.Name, cfg.Algorithm, cfg.Secret = "diagnose", alg, d.in.Secrets[0]
	if !strings.HasPrefix(header, cfg.Prefix) {
		cfg.Prefix, _ = splitTag(header) // such as sha1= where sha256= belongs
	}
	if _, enc := decodeDigest(strings.TrimPrefix(header, cfg.Prefix)); enc != "" {
		cfg.Encoding = enc
	}
	opts := []webhook.Option{webhook.WithSecrets(d.in.Secrets[1:]...)}
	if cfg.TimestampHeader != "" {
		opts = append(opts, webhook.WithTolerance(0), webhook.WithClock(func() time.Time { return d.now }))
	}
	v, err := webhook.NewHMAC(*cfg, opts...)
	if err != nil || !d.try(v, d.in.Body, d.h, len(d.in.Secrets)) {
		return false
	}
	want := "sha256"
	if d.s.hmac != nil {
		want = strings.ToLower(d.s.hmac.Algorithm)
		if want == "" {
			want = "sha256"
		}
	}
	hint := "The sender must sign with HMAC-" + strings.ToUpper(want) + "."
	if d.s.provider == "hmac" {
		hint = "If the sender cannot change, set the source's hmac algorithm to " + alg + "."
	}
	d.add(Finding{Code: CodeSignatureFormat, Confirmed: true,
		Message: fmt.Sprintf("The signature is an HMAC-%s, where provider %s uses HMAC-%s.", strings.ToUpper(alg), d.s.provider, strings.ToUpper(want)),
		Hint:    hint,
	})
	return true
}
