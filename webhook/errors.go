package webhook

import (
	"errors"
	"fmt"
)

// Sentinel errors returned (wrapped) by verifiers; test them with errors.Is.
var (
	// ErrMissingHeader means a header the provider always sends is absent or empty.
	ErrMissingHeader = errors.New("missing header")
	// ErrMalformedHeader means a header is present but cannot be parsed.
	ErrMalformedHeader = errors.New("malformed header")
	// ErrNoMatchingSignature means no signature in the header matches the body.
	ErrNoMatchingSignature = errors.New("no matching signature")
	// ErrTimestampTooOld means the signed timestamp is older than the tolerance.
	ErrTimestampTooOld = errors.New("timestamp too old")
	// ErrTimestampTooNew means the signed timestamp is further in the future than the tolerance.
	ErrTimestampTooNew = errors.New("timestamp too new")
	// ErrBodyTooLarge means a request body exceeded the configured limit.
	ErrBodyTooLarge = errors.New("body too large")
	// ErrInvalidConfig is the one kind of configuration mistake: a secret that does not
	// parse or is of the wrong kind for the provider, an option the provider does not
	// use, an unknown provider name, an invalid HMACConfig, or signing with public keys only.
	ErrInvalidConfig = errors.New("invalid configuration")
)

// ErrorCode returns a stable, machine-readable code for a verification error,
// as used in Handler's JSON error responses ("missing_header", "invalid_signature", ...).
func ErrorCode(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrMissingHeader):
		return "missing_header"
	case errors.Is(err, ErrMalformedHeader):
		return "malformed_header"
	case errors.Is(err, ErrNoMatchingSignature):
		return "invalid_signature"
	case errors.Is(err, ErrTimestampTooOld):
		return "timestamp_too_old"
	case errors.Is(err, ErrTimestampTooNew):
		return "timestamp_too_new"
	case errors.Is(err, ErrInvalidConfig):
		return "invalid_config"
	case errors.Is(err, ErrBodyTooLarge):
		return "body_too_large"
	}
	return "verification_failed"
}

func missingHeader(name string) error {
	return fmt.Errorf("%w %s", ErrMissingHeader, name)
}

func malformedHeader(name, why string) error {
	return fmt.Errorf("%w %s: %s", ErrMalformedHeader, name, why)
}

// configError returns an error wrapping ErrInvalidConfig, prefixed with what was being configured.
func configError(what, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", what, ErrInvalidConfig, fmt.Sprintf(format, args...))
}
