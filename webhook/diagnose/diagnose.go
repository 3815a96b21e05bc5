// Package diagnose explains why a webhook's signature does not verify, and what to do.
//
// Call Explain after a verifier refused a request, with the provider, the secrets, the
// headers and the raw body it refused. It tries the mistakes receivers make most:
//
//   - a body changed after signing: re-serialised JSON (compact, Python's spacing,
//     indented by 2 or 4 spaces or a tab, sorted keys, escaped or raw non-ASCII and
//     HTML characters), a trailing newline added or removed, CRLF line endings, a
//     byte-order mark, Latin-1 and UTF-8 confused, a form body re-encoded, an empty body;
//   - a secret of the wrong encoding (base64-decoded or used as text, a whsec_ prefix
//     kept or dropped, surrounding whitespace or quotes) or of the wrong kind (a public
//     key, an API key or token, another provider's secret);
//   - a signed timestamp outside the tolerance, by how much and in which direction, or
//     written in milliseconds;
//   - a header missing, misnamed (openai-signature for webhook-signature, the SHA-1
//     X-Hub-Signature without X-Hub-Signature-256), stored under a non-canonical key of
//     an http.Header, or a digest in the wrong encoding or without its prefix;
//   - a request signed by a secret rotated out (pass it in Input.Retired);
//   - several signatures of which none match, with how many and which versions;
//   - the wrong provider chosen: the headers are another provider's.
//
// Each cause found is a Finding: a stable code, a sentence and a hint. A finding is
// Confirmed when the signature verifies once the mistake is undone, which is proof;
// the others are suspicions drawn from the shape of the request and the secret.
//
// Explain is meant for the failure path only, and bounds its work: it re-serialises
// bodies of at most 256 KiB, tries a fixed list of candidates, and stops hashing after
// Input.MaxWork bytes (Report.Partial then says so). Findings never contain a secret, a
// part of one, or a signature computed with one: they name secrets by position.
package diagnose

import (
	"net/http"
	"time"

	"github.com/heraldhq/herald/webhook"
)

// Finding codes, stable across versions.
const (
	// CodeInvalidConfig: the provider or a secret cannot make a verifier.
	CodeInvalidConfig = "invalid_config"
	// CodeSecretKind: a secret is of the wrong kind: a public key, an API key or token,
	// another provider's secret.
	CodeSecretKind = "secret_wrong_kind"
	// CodeSecretEncoding: the sender uses the same secret written or decoded differently.
	CodeSecretEncoding = "secret_encoding"
	// CodeRotatedSecret: the request is signed with a secret that was rotated out.
	CodeRotatedSecret = "rotated_secret"
	// CodeMissingHeader: a header the scheme needs is absent.
	CodeMissingHeader = "missing_header"
	// CodeMisnamedHeader: what the scheme needs is in a header of another name.
	CodeMisnamedHeader = "misnamed_header"
	// CodeHeaderCase: an http.Header holds a needed header under a non-canonical key.
	CodeHeaderCase = "header_not_canonical"
	// CodeWrongProvider: the headers are another provider's.
	CodeWrongProvider = "wrong_provider"
	// CodeMalformedHeader: a header is present but does not parse.
	CodeMalformedHeader = "malformed_header"
	// CodeSignatureFormat: the digest is right but written differently (encoding,
	// prefix, version tag) or made with another hash.
	CodeSignatureFormat = "signature_format"
	// CodeTimestampSkew: the signed timestamp is outside the tolerance.
	CodeTimestampSkew = "timestamp_skew"
	// CodeBodyChanged: the body differs from the one that was signed.
	CodeBodyChanged = "body_changed"
	// CodeBodyEmpty: the body is empty.
	CodeBodyEmpty = "body_empty"
	// CodeNoMatch: no signature matches, and no known mistake explains it.
	CodeNoMatch = "no_matching_signature"
)

// DefaultMaxWork is the default bound of Input.MaxWork: bytes hashed or re-serialised.
const DefaultMaxWork = 4 << 20

// Input is a refused request and the configuration that refused it.
type Input struct {
	// Provider is a webhook.NewProvider name ("openai", "stripe", ...) or "hmac".
	Provider string
	// HMAC configures provider "hmac"; its Secret field is not used (Secrets is).
	HMAC *webhook.HMACConfig
	// Secrets are the secrets the receiver verifies with, newest first.
	Secrets []string
	// Retired are secrets rotated out, which no longer verify; a request signed with
	// one of them means the sender has not finished the rotation.
	Retired []string
	// Header and Body are the request's headers and raw body, as received.
	Header http.Header
	Body   []byte
	// Now is when the request arrived; zero means time.Now().
	Now time.Time
	// Tolerance is the accepted clock difference of signed timestamps: zero means
	// webhook.DefaultTolerance, negative disables the check.
	Tolerance time.Duration
	// MaxWork bounds the bytes hashed or re-serialised while trying candidates; zero
	// means DefaultMaxWork.
	MaxWork int64
}

// Finding is one cause of a failed verification.
type Finding struct {
	// Code is one of the Code constants.
	Code string `json:"code"`
	// Message says what is wrong, in one sentence.
	Message string `json:"message"`
	// Hint says what to do about it.
	Hint string `json:"hint"`
	// Confirmed is true when the signature verifies once this mistake is undone.
	Confirmed bool `json:"confirmed"`
}

// Report is the diagnosis of one request.
type Report struct {
	// Verified is true if the request verifies as it is: there is nothing to explain.
	Verified bool `json:"verified"`
	// Error is the verifier's own error, empty if it verifies.
	Error string `json:"error,omitempty"`
	// Findings are the causes found, confirmed ones first, at most MaxFindings.
	Findings []Finding `json:"findings"`
	// Partial is true when a bound (Input.MaxWork, the body size, the number of
	// headers) stopped the search before every candidate was tried.
	Partial bool `json:"partial,omitempty"`
}

// MaxFindings is the most findings a Report holds.
const MaxFindings = 8

// Explain diagnoses why the request in fails to verify. It never panics on any input
// and never modifies in.Header or in.Body.
func Explain(in Input) Report {
	d := newDiagnosis(in)
	d.run()
	return d.report()
}
