package telemetry

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/telemetry/otlptest"
	"github.com/heraldhq/herald/internal/tracing"
	"github.com/prometheus/client_golang/prometheus"
)

func TestConfigCheck(t *testing.T) {
	cases := []struct {
		name            string
		env             map[string]string
		traces, metrics string // the URLs exported to; "" off
		sampler         string
		err             string // part of the error; "" none
	}{
		{name: "nothing set: off", env: nil},
		{name: "base endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"},
			traces: "http://collector:4318/v1/traces", metrics: "http://collector:4318/v1/metrics", sampler: "parentbased_always_on"},
		{name: "traces endpoint only", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://api.example.com/otlp/traces"},
			traces: "https://api.example.com/otlp/traces", sampler: "parentbased_always_on"},
		{name: "signal endpoint wins", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://b:9/m"},
			traces: "http://a:4318/v1/traces", metrics: "http://b:9/m", sampler: "parentbased_always_on"},
		{name: "exporter otlp without endpoint: the default", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp"},
			traces: "http://localhost:4318/v1/traces", sampler: "parentbased_always_on"},
		{name: "disabled", env: map[string]string{"OTEL_SDK_DISABLED": "TRUE", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318"}},
		{name: "disabled wins over a bad value", env: map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_SAMPLER": "nope"}},
		{name: "traces none", env: map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318"},
			metrics: "http://a:4318/v1/metrics", sampler: "parentbased_always_on"},
		{name: "metrics prometheus", env: map[string]string{"OTEL_METRICS_EXPORTER": "prometheus", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318"},
			traces: "http://a:4318/v1/traces", sampler: "parentbased_always_on"},
		{name: "ratio", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"},
			traces: "http://a:4318/v1/traces", metrics: "http://a:4318/v1/metrics", sampler: "parentbased_traceidratio 0.25"},
		{name: "always_on", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://a:1/t", "OTEL_TRACES_SAMPLER": "always_on"},
			traces: "http://a:1/t", sampler: "always_on"},
		{name: "bad sampler", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_TRACES_SAMPLER": "jaeger_remote"}, err: "OTEL_TRACES_SAMPLER"},
		{name: "ratio out of range", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"}, err: "OTEL_TRACES_SAMPLER_ARG"},
		{name: "grpc", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, err: "http/protobuf"},
		{name: "json for traces", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}, err: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"},
		{name: "not a URL", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, err: "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{name: "zipkin", env: map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, err: "OTEL_TRACES_EXPORTER"},
		{name: "bad attributes", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_RESOURCE_ATTRIBUTES": "novalue"}, err: "OTEL_RESOURCE_ATTRIBUTES"},
		{name: "bad encoding", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_RESOURCE_ATTRIBUTES": "a=%zz"}, err: "percent-encoding"},
		{name: "bad interval", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_METRIC_EXPORT_INTERVAL": "5s"}, err: "OTEL_METRIC_EXPORT_INTERVAL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := FromEnv(func(k string) string { return tc.env[k] })
			p, err := cfg.plan()
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one naming %s", err, tc.err)
				}
				if cfg.Check() == nil || cfg.Enabled() {
					t.Fatal("an invalid config checks or is enabled")
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if p.tracesURL != tc.traces || p.metricsURL != tc.metrics {
				t.Errorf("traces %q metrics %q, want %q %q", p.tracesURL, p.metricsURL, tc.traces, tc.metrics)
			}
			if tc.traces != "" && p.samplerName != tc.sampler {
				t.Errorf("sampler %q, want %q", p.samplerName, tc.sampler)
			}
			if cfg.Enabled() != (tc.traces != "" || tc.metrics != "") {
				t.Errorf("Enabled() = %v", cfg.Enabled())
			}
		})
	}
}

func TestResource(t *testing.T) {
	cfg := Config{ResourceAttributes: "deployment.environment=prod,team=a%2Cb,service.name=fromattrs"}
	p, err := cfg.plan()
	if err != nil {
		t.Fatal(err)
	}
	if p.serviceName != "fromattrs" {
		t.Errorf("service name %q, want the one of OTEL_RESOURCE_ATTRIBUTES", p.serviceName)
	}
	cfg.ServiceName = "hooks"
	if p, _ := cfg.plan(); p.serviceName != "hooks" {
		t.Errorf("service name %q, want OTEL_SERVICE_NAME's", p.serviceName)
	}
	if got := p.attrs[1].Value.AsString(); got != "a,b" {
		t.Errorf("team = %q", got)
	}
}

// TestOff checks that an unconfigured Telemetry makes no tracer provider.
func TestOff(t *testing.T) {
	tel, err := New(context.Background(), Config{}, "node-1", prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if tel.TracerProvider() != nil || tel.Describe() != nil {
		t.Fatal("tracing is on with nothing configured")
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestExport exports a span and the registry's metrics to an in-test collector.
func TestExport(t *testing.T) {
	col := otlptest.New(t)
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "herald_backlog_due", Help: "test"})
	reg.MustRegister(g)
	g.Set(7)
	cfg := FromEnv(env{
		"OTEL_EXPORTER_OTLP_ENDPOINT": col.URL, "OTEL_SERVICE_NAME": "herald-test",
		"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test", "OTEL_METRIC_EXPORT_INTERVAL": "3600000",
	}.get)
	cfg.ServiceVersion = "v9.9.9"
	tel, err := New(context.Background(), cfg, "node-1", reg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	_, span := tracing.Tracer(tel.TracerProvider()).Start(context.Background(), "op")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tel.Shutdown(ctx); err != nil { // flushes the span and a last collection
		t.Fatal(err)
	}
	spans := col.Spans()
	if len(spans) != 1 || spans[0].Name != "op" {
		t.Fatalf("collector got %+v", spans)
	}
	res := spans[0].Resource
	if res["service.name"] != "herald-test" || res["service.version"] != "v9.9.9" || res["service.instance.id"] != "node-1" || res["deployment.environment"] != "test" {
		t.Errorf("resource = %v", res)
	}
	if !col.Metric("herald_backlog_due") {
		t.Error("the registry's gauge was not exported")
	}
	if errs := col.Errors(); len(errs) > 0 {
		t.Error(errs)
	}
}

type env map[string]string

func (e env) get(k string) string { return e[k] }
