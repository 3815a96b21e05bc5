// Package httpstatus notes the status an HTTP handler answers with, for the wrappers
// that act on it (the server's write health, the tracing of requests).
package httpstatus

import "net/http"

// Recorder is an http.ResponseWriter that notes the first final (non-1xx) status the
// handler writes: Status is 0 until the handler writes a header or a body.
type Recorder struct {
	http.ResponseWriter
	Status int
}

// WriteHeader implements http.ResponseWriter.
func (r *Recorder) WriteHeader(code int) {
	if r.Status == 0 && code >= 200 {
		r.Status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (r *Recorder) Write(b []byte) (int, error) {
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (r *Recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
