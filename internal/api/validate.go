package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/netguard"
)

// Field limits, as openapi.yaml documents them (the records' own are in package domain).
const (
	maxTypeLen      = domain.MaxTypeLen // idempotency keys
	maxGraceSeconds = 7 * 24 * 60 * 60
	maxReplayLimit  = 5000
	urlCheckTimeout = 5 * time.Second
)

// timeNow returns the current time as stored: UTC, truncated to milliseconds.
func (s *server) timeNow() time.Time {
	return s.now().UTC().Truncate(time.Millisecond)
}

// checkURL validates an endpoint URL with the SSRF guard.
func (s *server) checkURL(ctx context.Context, raw string) error {
	if raw == "" {
		return invalidField("url", "is required: an http:// or https:// URL")
	}
	ctx, cancel := context.WithTimeout(ctx, urlCheckTimeout)
	defer cancel()
	err := s.guard.CheckURL(ctx, raw, s.resolver)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, netguard.ErrBlocked):
		return errorf(http.StatusBadRequest, codeURLNotAllowed, "url is not allowed: %v", err)
	case errors.Is(err, netguard.ErrInvalidURL):
		return invalidField("url", "is not acceptable: %v", err)
	}
	return fmt.Errorf("check endpoint URL: %w", err)
}
