package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ingest"
	"github.com/heraldhq/herald/internal/store"
)

// Error codes, as documented in docs/api.md.
const (
	codeMalformedJSON    = "malformed_json"
	codeUnknownField     = "unknown_field"
	codeWrongType        = "wrong_type"
	codeInvalidField     = "invalid_field"
	codeInvalidQuery     = "invalid_query"
	codeURLNotAllowed    = "url_not_allowed"
	codeUnauthorized     = "unauthorized"
	codeForbidden        = "forbidden"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeConflict         = "conflict"
	codePayloadTooLarge  = "payload_too_large"
	codeUnsupportedMedia = "unsupported_media_type"
	codeInternal         = "internal"
	codeUnavailable      = "unavailable"
	codeCSRFFailed       = "csrf_failed"
	codeInvalidToken     = "invalid_token"
	codeRateLimited      = "rate_limited"
	// codeInsufficientStorage (507) is not in openapi.yaml's list yet.
	codeInsufficientStorage = "insufficient_storage"
)

// apiError is an error answered to the client as it is.
type apiError struct {
	status     int
	code       string
	message    string
	retryAfter int // seconds, for a Retry-After header; 0 for none
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// errorf returns an apiError with a formatted message.
func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// invalidField reports an unacceptable field value; the message is the field name, a
// space and the formatted text, such as "name is required".
func invalidField(field, format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, codeInvalidField, "%s %s", field, fmt.Sprintf(format, args...))
}

// invalidQuery reports an unacceptable query parameter, like invalidField.
func invalidQuery(param, format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, codeInvalidQuery, "query parameter %s %s", param, fmt.Sprintf(format, args...))
}

// notFound reports a missing record.
func notFound(what, id string) *apiError {
	return errorf(http.StatusNotFound, codeNotFound, "%s %q not found", what, id)
}

// storeError turns an error of a store call about the record what (such as "endpoint")
// with the given id into an apiError where the documented statuses apply; other errors
// are returned wrapped and answered as 500 internal.
func storeError(err error, what, id string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return notFound(what, id)
	case errors.Is(err, store.ErrConflict):
		return errorf(http.StatusConflict, codeConflict, "%s", strings.TrimSuffix(err.Error(), ": "+store.ErrConflict.Error()))
	case errors.Is(err, store.ErrClosed):
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "the server is shutting down")
	}
	return fmt.Errorf("%s %s: %w", what, id, err)
}

// errorBody is the JSON shape of every error answer.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError answers err: an apiError as it is, anything else as 500 internal (logged,
// with nothing of it in the answer) or, when the request was cancelled, 503.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae, ok := errors.AsType[*apiError](err)
	fe, isField := errors.AsType[*domain.FieldError](err)
	se, isState := errors.AsType[*domain.StateError](err)
	switch {
	case ok:
	case isField:
		ae = invalidField(fe.Field, "%s", fe.Message)
	case isState:
		ae = errorf(http.StatusConflict, codeConflict, "%s", se.Message)
	case errors.Is(err, store.ErrClosed):
		ae = errorf(http.StatusServiceUnavailable, codeUnavailable, "the server is shutting down")
	case ingest.StorageFull(err):
		s.log.ErrorContext(r.Context(), "api: the database is full", "method", r.Method, "route", r.Pattern, "err", err)
		ae = errorf(http.StatusInsufficientStorage, codeInsufficientStorage, "the server's database is full; retry later")
		ae.retryAfter = ingest.StorageRetryAfter
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		// The client went away or the server is stopping; nobody may read this answer.
		s.log.DebugContext(r.Context(), "api: request cancelled", "method", r.Method, "route", r.Pattern, "err", err)
		ae = errorf(http.StatusServiceUnavailable, codeUnavailable, "the request was cancelled")
	default:
		s.log.ErrorContext(r.Context(), "api: request failed", "method", r.Method, "route", r.Pattern, "err", err)
		ae = errorf(http.StatusInternalServerError, codeInternal, "internal error; the server log has the details")
	}
	if ae.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
	}
	if ae.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ae.retryAfter))
	}
	writeJSON(w, ae.status, errorBody{Error: errorDetail{Code: ae.code, Message: ae.message}})
}

// writeJSONError answers a documented error without going through writeError.
func writeJSONError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: message}})
}

// logger returns the configured logger or the default one.
func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
