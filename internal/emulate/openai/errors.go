package openai

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// apiError is an error answered in OpenAI's shape,
// {"error":{"message","type","param","code"}}, which the SDKs parse.
type apiError struct {
	status  int
	message string
	typ     string
	param   string // "" is null
	code    string // "" is null
}

func (e *apiError) Error() string { return e.message }

// invalid returns a 400 invalid_request_error about param.
func invalid(param, code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", param: param, code: code,
		message: fmt.Sprintf(format, args...)}
}

// notFound returns OpenAI's 404 for a missing object.
func notFound(kind, id string) *apiError {
	return &apiError{status: http.StatusNotFound, typ: "invalid_request_error",
		message: fmt.Sprintf("%s with id '%s' not found.", kind, id)}
}

func writeError(w http.ResponseWriter, e *apiError) {
	nullable := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	body := map[string]any{"error": map[string]any{
		"message": e.message, "type": e.typ, "param": nullable(e.param), "code": nullable(e.code),
	}}
	writeJSON(w, e.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":{"message":"encoding the answer failed","type":"server_error","param":null,"code":null}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// at returns the error with param replaced, for errors of nested members.
func (e *apiError) at(param string) *apiError {
	c := *e
	c.message = strings.Replace(c.message, "'"+e.param+"'", "'"+param+"'", 1)
	c.param = param
	return &c
}

// writeObject answers 200 with body, an object already encoded as JSON, or returns err
// when encoding it failed.
func writeObject(w http.ResponseWriter, body []byte, err *apiError) *apiError {
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
	return nil
}
