package httpstatus

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestRecorder checks the status noted for each way a handler answers.
func TestRecorder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		handle func(w http.ResponseWriter)
		want   int
	}{
		{"nothing written", func(w http.ResponseWriter) {}, 0},
		{"a body only", func(w http.ResponseWriter) { w.Write([]byte("hi")) }, http.StatusOK},
		{"a status", func(w http.ResponseWriter) { w.WriteHeader(http.StatusAccepted) }, http.StatusAccepted},
		{"the first status counts", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusInsufficientStorage)
			w.WriteHeader(http.StatusOK)
		}, http.StatusInsufficientStorage},
		{"an informational status does not", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusCreated)
		}, http.StatusCreated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &Recorder{ResponseWriter: httptest.NewRecorder()}
			tc.handle(rec)
			if rec.Status != tc.want {
				t.Errorf("Status = %d, want %d", rec.Status, tc.want)
			}
			if http.NewResponseController(rec).Flush() != nil {
				t.Error("Unwrap does not reach the writer underneath")
			}
		})
	}
}
