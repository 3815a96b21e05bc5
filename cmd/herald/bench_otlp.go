package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
)

// otlpSink is a loopback OTLP/HTTP endpoint for `herald bench --otlp`: it takes every
// export request and counts it, so that a benchmark measures what tracing costs the
// server (making, sampling and exporting every span) without a collector to install.
// It does not decode the requests: its own work runs beside the server and would
// otherwise be counted against the machine the server measures on.
type otlpSink struct {
	srv             *http.Server
	url             string
	requests, bytes atomic.Int64
}

// startOTLPSink listens on a loopback port.
func startOTLPSink() (*otlpSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: OTLP sink: %w", err)
	}
	s := &otlpSink{url: "http://" + ln.Addr().String()}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		s.requests.Add(1)
		s.bytes.Add(n)
		w.Header().Set("Content-Type", "application/x-protobuf")
	})}
	go s.srv.Serve(ln)
	return s, nil
}

// env is what the started server needs to export every span and its metrics to the sink.
func (s *otlpSink) env() []string {
	return []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + s.url, "OTEL_TRACES_SAMPLER=always_on", "OTEL_SERVICE_NAME=herald-bench"}
}

// close stops the sink and says how much it received.
func (s *otlpSink) close(w io.Writer) {
	s.srv.Close()
	fmt.Fprintf(w, "OTLP sink: %d export requests, %.1f MB\n", s.requests.Load(), float64(s.bytes.Load())/1e6)
}
