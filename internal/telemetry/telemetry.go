// Package telemetry sets up OpenTelemetry's SDK for herald serve from the standard
// OTEL_* environment variables (see Config): a tracer provider exporting spans with
// OTLP/HTTP, and an OTLP/HTTP export of herald's Prometheus registry, the very metrics
// /metrics serves. With nothing configured it sets up nothing, and tracing costs nothing.
// What herald's spans are is package tracing's business.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	prombridge "go.opentelemetry.io/contrib/bridges/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Telemetry is the OpenTelemetry SDK of one herald process.
type Telemetry struct {
	traces  *sdktrace.TracerProvider // nil: traces are not exported
	metrics *sdkmetric.MeterProvider // nil: metrics are not exported
	plan    *plan
}

// New sets up what cfg asks for: spans exported to its traces endpoint, and the
// metrics gathered from registry exported to its metrics endpoint every interval.
// instanceID is service.instance.id (the node id). Export errors are logged to log.
// Call Shutdown to flush and stop.
func New(ctx context.Context, cfg Config, instanceID string, registry prometheus.Gatherer, log *slog.Logger) (*Telemetry, error) {
	p, err := cfg.plan()
	if err != nil {
		return nil, err
	}
	t := &Telemetry{plan: p}
	if p.tracesURL == "" && p.metricsURL == "" {
		return t, nil
	}
	// The SDK reports export failures through this process-wide handler (by default to
	// the standard library's log); herald's log is where an operator looks.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("opentelemetry", "err", err) }))
	attrs := append([]attribute.KeyValue{}, p.attrs...)
	attrs = append(attrs, attribute.String("service.name", p.serviceName), attribute.String("service.instance.id", instanceID))
	if cfg.ServiceVersion != "" {
		attrs = append(attrs, attribute.String("service.version", cfg.ServiceVersion))
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attrs...))
	if err != nil {
		return nil, fmt.Errorf("opentelemetry resource: %w", err)
	}
	if p.tracesURL != "" {
		exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(p.tracesURL))
		if err != nil {
			return nil, fmt.Errorf("OTLP trace exporter: %w", err)
		}
		t.traces = sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res), sdktrace.WithSampler(p.sampler))
	}
	if p.metricsURL != "" {
		exp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(p.metricsURL))
		if err != nil {
			t.Shutdown(ctx)
			return nil, fmt.Errorf("OTLP metric exporter: %w", err)
		}
		reader := sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(p.interval),
			sdkmetric.WithProducer(prombridge.NewMetricProducer(prombridge.WithGatherer(registry))))
		t.metrics = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithResource(res))
	}
	return t, nil
}

// TracerProvider returns the provider of herald's spans, or nil when traces are not
// exported (tracing is off).
func (t *Telemetry) TracerProvider() trace.TracerProvider {
	if t == nil || t.traces == nil {
		return nil
	}
	return t.traces
}

// Describe says what is exported where, as log attributes; nil when nothing is.
func (t *Telemetry) Describe() []any {
	if t == nil || (t.traces == nil && t.metrics == nil) {
		return nil
	}
	out := []any{"service", t.plan.serviceName}
	if t.traces != nil {
		out = append(out, "traces", t.plan.tracesURL, "sampler", t.plan.samplerName)
	}
	if t.metrics != nil {
		out = append(out, "metrics", t.plan.metricsURL, "metrics_interval", t.plan.interval.String())
	}
	return out
}

// Shutdown exports what is buffered (the last spans, a last collection of the metrics)
// and stops, by the time ctx ends.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	var errs []error
	if t.traces != nil {
		if err := t.traces.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("flush traces: %w", err))
		}
	}
	if t.metrics != nil {
		if err := t.metrics.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("flush metrics: %w", err))
		}
	}
	return errors.Join(errs...)
}
