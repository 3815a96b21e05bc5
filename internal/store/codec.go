package store

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/webhook"
)

// Page sizes every backend applies.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// PageLimit returns how many records a page p holds: its Limit, defaulted and capped.
func PageLimit(p Page) int {
	switch {
	case p.Limit <= 0:
		return DefaultPageSize
	case p.Limit > MaxPageSize:
		return MaxPageSize
	}
	return p.Limit
}

// TrimPage trims a result fetched with limit+1 records to limit, and returns the cursor
// of the next page: the id of the last record kept, or "" when there is no next page.
func TrimPage[T any](items []T, limit int, id func(T) string) ([]T, string) {
	if len(items) > limit {
		items = items[:limit]
		return items, id(items[len(items)-1])
	}
	return items, ""
}

// NotFound returns an error wrapping ErrNotFound that names the record.
func NotFound(what, id string) error {
	return fmt.Errorf("%s %s: %w", what, id, ErrNotFound)
}

// SealSecret encrypts an endpoint secret for storage.
func SealSecret(c Cipher, sec webhook.Secret) ([]byte, error) {
	if sec.IsZero() {
		return nil, fmt.Errorf("endpoint secret is empty")
	}
	enc, err := c.Encrypt([]byte(sec.Reveal()))
	if err != nil {
		return nil, fmt.Errorf("encrypt secret: %w", err)
	}
	return enc, nil
}

// OpenSecret decrypts an endpoint secret sealed by SealSecret; id names it in errors.
func OpenSecret(c Cipher, id string, enc []byte) (webhook.Secret, error) {
	plain, err := c.Decrypt(enc)
	if err != nil {
		return webhook.Secret{}, fmt.Errorf("decrypt secret %s: %w", id, err)
	}
	sec, err := webhook.ParseSecret(string(plain))
	if err != nil {
		return webhook.Secret{}, fmt.Errorf("secret %s: %w", id, err)
	}
	return sec, nil
}

// sealedPrefix marks a header value sealed by SealHeaders; a value without it was
// stored in plain text, before header values were encrypted, and is read as it is.
const sealedPrefix = "sealed:v1:"

// SealHeaders returns an endpoint's custom headers for storage: the same names, each
// value encrypted and written as sealedPrefix and base64, since a header can carry a
// credential (Authorization: Bearer ...).
func SealHeaders(c Cipher, headers map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(headers))
	for name, value := range headers {
		enc, err := c.Encrypt([]byte(value))
		if err != nil {
			return nil, fmt.Errorf("encrypt header %s: %w", name, err)
		}
		out[name] = sealedPrefix + base64.StdEncoding.EncodeToString(enc)
	}
	return out, nil
}

// OpenHeaders decrypts headers stored by SealHeaders, in place, and passes plain-text
// values stored before them through; id names the endpoint in errors.
func OpenHeaders(c Cipher, id string, headers map[string]string) error {
	for name, value := range headers {
		rest, ok := strings.CutPrefix(value, sealedPrefix)
		if !ok {
			continue
		}
		enc, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return fmt.Errorf("header %s of endpoint %s: %w", name, id, err)
		}
		plain, err := c.Decrypt(enc)
		if err != nil {
			return fmt.Errorf("decrypt header %s of endpoint %s: %w", name, id, err)
		}
		headers[name] = string(plain)
	}
	return nil
}

// SealAuth encrypts an endpoint's receiver credentials for storage, as a whole (the
// non-secret parts too: a certificate or a token URL says who the customer talks to);
// nil, no credentials, is stored as nil.
func SealAuth(c Cipher, a *domain.Auth) ([]byte, error) {
	if a == nil {
		return nil, nil
	}
	return sealJSON(c, "auth", a)
}

// OpenAuth decrypts credentials sealed by SealAuth (nil for none); id names the
// endpoint in errors.
func OpenAuth(c Cipher, id string, enc []byte) (*domain.Auth, error) {
	if len(enc) == 0 {
		return nil, nil
	}
	var a domain.Auth
	if err := openJSON(c, "auth of endpoint "+id, enc, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// SealSecrets encrypts a source's secrets for storage.
func SealSecrets(c Cipher, secrets []string) ([]byte, error) {
	return sealJSON(c, "source secrets", secrets)
}

// OpenSecrets decrypts a source's secrets sealed by SealSecrets; id names the source in errors.
func OpenSecrets(c Cipher, id string, enc []byte) ([]string, error) {
	var secrets []string
	if err := openJSON(c, "secrets of source "+id, enc, &secrets); err != nil {
		return nil, err
	}
	return secrets, nil
}

// sealJSON encrypts v encoded as JSON; what names it in errors.
func sealJSON(c Cipher, what string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", what, err)
	}
	enc, err := c.Encrypt(b)
	if err != nil {
		return nil, fmt.Errorf("encrypt %s: %w", what, err)
	}
	return enc, nil
}

// openJSON decrypts enc, sealed by sealJSON, into v; what names it in errors.
func openJSON(c Cipher, what string, enc []byte, v any) error {
	plain, err := c.Decrypt(enc)
	if err != nil {
		return fmt.Errorf("decrypt %s: %w", what, err)
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// EncodeHMACConfig serialises a generic-HMAC source's configuration without its secret
// (which is stored, sealed, with the source's secrets); nil encodes as "".
func EncodeHMACConfig(c *webhook.HMACConfig) (string, error) {
	if c == nil {
		return "", nil
	}
	cfg := *c
	cfg.Secret = ""
	b, err := json.Marshal(cfg)
	return string(b), err
}

// DecodeHMACConfig parses what EncodeHMACConfig wrote; "" decodes as nil.
func DecodeHMACConfig(id, s string) (*webhook.HMACConfig, error) {
	if s == "" {
		return nil, nil
	}
	var cfg webhook.HMACConfig
	if err := json.Unmarshal([]byte(s), &cfg); err != nil {
		return nil, fmt.Errorf("hmac config of source %s: %w", id, err)
	}
	return &cfg, nil
}
