// Package otlptest is an OTLP/HTTP collector for tests: an httptest server on loopback
// that decodes what OpenTelemetry exporters send it (protobuf, plain or gzipped) and
// keeps the spans and metric names, for assertions.
package otlptest

import (
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	metricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"
)

// maxRequest bounds one export request the collector reads.
const maxRequest = 32 << 20

// Span is an exported span, with ids in hex and attributes as strings.
type Span struct {
	Name               string
	TraceID, SpanID    string
	ParentSpanID       string // "" for a root span
	Kind               string // SPAN_KIND_SERVER, SPAN_KIND_CLIENT...
	Attributes         map[string]string
	StatusError        bool
	StatusMessage      string
	Resource           map[string]string
	StartNano, EndNano uint64
}

// Collector receives OTLP/HTTP exports at /v1/traces and /v1/metrics.
type Collector struct {
	URL string // the base URL, for OTEL_EXPORTER_OTLP_ENDPOINT

	srv     *httptest.Server
	mu      sync.Mutex
	spans   []Span
	metrics map[string]bool // names of the metrics received
	bad     []error
}

// New starts a collector, closed when t ends.
func New(t testing.TB) *Collector {
	c := &Collector{metrics: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, r *http.Request) {
		var req tracepb.ExportTraceServiceRequest
		if c.decode(w, r, &req) {
			c.addSpans(&req)
		}
	})
	mux.HandleFunc("POST /v1/metrics", func(w http.ResponseWriter, r *http.Request) {
		var req metricspb.ExportMetricsServiceRequest
		if c.decode(w, r, &req) {
			c.addMetrics(&req)
		}
	})
	c.srv = httptest.NewServer(mux)
	c.URL = c.srv.URL
	t.Cleanup(c.srv.Close)
	return c
}

// decode reads an export request into msg and answers it; false if it was malformed.
func (c *Collector) decode(w http.ResponseWriter, r *http.Request, msg proto.Message) bool {
	var body io.Reader = io.LimitReader(r.Body, maxRequest)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			c.fail(w, fmt.Errorf("gzip: %w", err))
			return false
		}
		body = io.LimitReader(zr, maxRequest)
	}
	b, err := io.ReadAll(body)
	if err == nil {
		err = proto.Unmarshal(b, msg)
	}
	if err != nil || r.Header.Get("Content-Type") != "application/x-protobuf" {
		c.fail(w, fmt.Errorf("%s %s (%s): %v", r.Method, r.URL.Path, r.Header.Get("Content-Type"), err))
		return false
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	return true // an empty body is a successful ExportServiceResponse
}

func (c *Collector) fail(w http.ResponseWriter, err error) {
	c.mu.Lock()
	c.bad = append(c.bad, err)
	c.mu.Unlock()
	http.Error(w, err.Error(), http.StatusBadRequest)
}

func (c *Collector) addSpans(req *tracepb.ExportTraceServiceRequest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		res := attrs(rs.GetResource().GetAttributes())
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.spans = append(c.spans, Span{
					Name: s.GetName(), TraceID: hex.EncodeToString(s.GetTraceId()), SpanID: hex.EncodeToString(s.GetSpanId()),
					ParentSpanID: hex.EncodeToString(s.GetParentSpanId()), Kind: s.GetKind().String(),
					Attributes: attrs(s.GetAttributes()), StatusError: s.GetStatus().GetCode() == 2, StatusMessage: s.GetStatus().GetMessage(),
					Resource: res, StartNano: s.GetStartTimeUnixNano(), EndNano: s.GetEndTimeUnixNano(),
				})
			}
		}
	}
}

func (c *Collector) addMetrics(req *metricspb.ExportMetricsServiceRequest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rm := range req.GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				c.metrics[m.GetName()] = true
			}
		}
	}
}

// attrs renders OTLP attributes as strings.
func attrs(kvs []*commonpb.KeyValue) map[string]string {
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		v := kv.GetValue()
		switch x := v.GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.GetKey()] = x.StringValue
		case *commonpb.AnyValue_IntValue:
			out[kv.GetKey()] = fmt.Sprint(x.IntValue)
		case *commonpb.AnyValue_BoolValue:
			out[kv.GetKey()] = fmt.Sprint(x.BoolValue)
		case *commonpb.AnyValue_DoubleValue:
			out[kv.GetKey()] = fmt.Sprint(x.DoubleValue)
		default:
			out[kv.GetKey()] = v.String()
		}
	}
	return out
}

// Spans returns the spans received so far, in arrival order.
func (c *Collector) Spans() []Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Span(nil), c.spans...)
}

// Metric reports whether a metric of this name was received.
func (c *Collector) Metric(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.metrics[name]
}

// Errors returns the export requests the collector could not decode.
func (c *Collector) Errors() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]error(nil), c.bad...)
}
