package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error codes the API answers with, in Error.Code.
const (
	CodeMalformedJSON        = "malformed_json"         // the body is not JSON, or is empty where one is required
	CodeUnknownField         = "unknown_field"          // the body has a field the API does not know
	CodeWrongType            = "wrong_type"             // a field has the wrong JSON type
	CodeInvalidField         = "invalid_field"          // a field's value is not acceptable; the message names it
	CodeInvalidQuery         = "invalid_query"          // a bad limit, time, status, id or cursor
	CodeURLNotAllowed        = "url_not_allowed"        // an endpoint URL at a private, loopback or metadata address
	CodeUnauthorized         = "unauthorized"           // a missing, malformed or unknown API key
	CodeForbidden            = "forbidden"              // the key is valid, but not for this app or operation
	CodeNotFound             = "not_found"              // no such record, or no such route
	CodeMethodNotAllowed     = "method_not_allowed"     // the path exists, but not with this method
	CodeConflict             = "conflict"               // such as an app uid that is taken, or a retry of a delivery in flight
	CodePayloadTooLarge      = "payload_too_large"      // a payload or body over the limit
	CodeUnsupportedMediaType = "unsupported_media_type" // a body that is not application/json
	CodeInternal             = "internal"               // a bug or a storage failure on the server
	CodeUnavailable          = "unavailable"            // the server is shutting down
	CodeNotImplemented       = "not_implemented"        // the server does not support sources or listeners
	CodeUpgradeRequired      = "upgrade_required"       // GET /v1/listen without a WebSocket handshake
	CodeCSRFFailed           = "csrf_failed"            // a session cookie's POST, PATCH, PUT or DELETE without its X-CSRF-Token
	CodeInvalidToken         = "invalid_token"          // a portal link that expired, was used or was revoked
	CodeRateLimited          = "rate_limited"           // too many sign-in attempts; see Retry-After
)

// Error is an answer other than 2xx, as the API describes it.
type Error struct {
	Status  int    // the HTTP status code
	Code    string // the API's error code, such as CodeNotFound; for an answer that is not the API's error JSON, the status text in snake case, such as "bad_gateway"
	Message string // the API's explanation
}

// Error returns "<code>: <message> (HTTP <status>)".
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s (HTTP %d)", e.Code, e.Message, e.Status)
}

// ErrorCode returns the Code of the *Error in err's chain, or "" if there is none
// (a transport failure, say):
//
//	if client.ErrorCode(err) == client.CodeNotFound { ... }
func ErrorCode(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return ""
}

// errorBody is the JSON shape of every error answer.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// decodeError turns a non-2xx answer into an *Error.
func decodeError(resp *http.Response) *Error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var env errorBody
	if err := json.Unmarshal(body, &env); err == nil && env.Error.Code != "" {
		return &Error{Status: resp.StatusCode, Code: env.Error.Code, Message: env.Error.Message}
	}
	code := strings.ToLower(strings.ReplaceAll(http.StatusText(resp.StatusCode), " ", "_"))
	if code == "" {
		code = "http_" + strconv.Itoa(resp.StatusCode)
	}
	msg := strings.Join(strings.Fields(string(body)), " ")
	if !utf8.ValidString(msg) {
		msg = ""
	}
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	if msg == "" {
		msg = "the server answered " + resp.Status
	}
	return &Error{Status: resp.StatusCode, Code: code, Message: msg}
}
