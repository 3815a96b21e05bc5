package telemetry

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Config is OpenTelemetry's configuration as the standard OTEL_* environment variables
// give it (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/);
// FromEnv reads them. Nothing is exported unless an OTLP endpoint (or an otlp exporter)
// is named. The OTLP exporters also read their own variables (OTEL_EXPORTER_OTLP_HEADERS,
// _TIMEOUT, _COMPRESSION, _CERTIFICATE...), and the trace SDK the batch processor's
// (OTEL_BSP_*), from the environment; those tune the export and never turn it on.
type Config struct {
	Disabled        bool   // OTEL_SDK_DISABLED=true: no export at all
	Endpoint        string // OTEL_EXPORTER_OTLP_ENDPOINT: base URL; /v1/traces and /v1/metrics are appended
	TracesEndpoint  string // OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: the traces URL as it is
	MetricsEndpoint string // OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: the metrics URL as it is
	Protocol        string // OTEL_EXPORTER_OTLP_PROTOCOL: http/protobuf (the only one herald speaks)
	TracesProtocol  string // OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
	MetricsProtocol string // OTEL_EXPORTER_OTLP_METRICS_PROTOCOL
	TracesExporter  string // OTEL_TRACES_EXPORTER: otlp, or none
	MetricsExporter string // OTEL_METRICS_EXPORTER: otlp, or none (prometheus: only /metrics, which is always served)
	ServiceName     string // OTEL_SERVICE_NAME; default herald
	// ResourceAttributes are extra resource attributes, key=value pairs separated by
	// commas with values percent-encoded (OTEL_RESOURCE_ATTRIBUTES).
	ResourceAttributes string
	Sampler            string // OTEL_TRACES_SAMPLER; default parentbased_always_on
	SamplerArg         string // OTEL_TRACES_SAMPLER_ARG: the ratio of the traceidratio samplers
	MetricInterval     string // OTEL_METRIC_EXPORT_INTERVAL, in milliseconds; default 60000

	// ServiceVersion is service.version (not from the environment: the build's version).
	ServiceVersion string
}

// FromEnv reads a Config from the environment through getenv (os.Getenv).
func FromEnv(getenv func(string) string) Config {
	return Config{
		Disabled:           strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true"),
		Endpoint:           getenv("OTEL_EXPORTER_OTLP_ENDPOINT"),
		TracesEndpoint:     getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
		MetricsEndpoint:    getenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"),
		Protocol:           getenv("OTEL_EXPORTER_OTLP_PROTOCOL"),
		TracesProtocol:     getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"),
		MetricsProtocol:    getenv("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"),
		TracesExporter:     getenv("OTEL_TRACES_EXPORTER"),
		MetricsExporter:    getenv("OTEL_METRICS_EXPORTER"),
		ServiceName:        getenv("OTEL_SERVICE_NAME"),
		ResourceAttributes: getenv("OTEL_RESOURCE_ATTRIBUTES"),
		Sampler:            getenv("OTEL_TRACES_SAMPLER"),
		SamplerArg:         getenv("OTEL_TRACES_SAMPLER_ARG"),
		MetricInterval:     getenv("OTEL_METRIC_EXPORT_INTERVAL"),
	}
}

// plan is a checked Config: what to export, where, and how.
type plan struct {
	tracesURL, metricsURL string // "" when that signal is not exported
	sampler               sdktrace.Sampler
	samplerName           string
	attrs                 []attribute.KeyValue
	serviceName           string
	interval              time.Duration
}

// Check reports the first thing wrong with c, naming its environment variable.
func (c Config) Check() error {
	_, err := c.plan()
	return err
}

// Enabled reports whether c exports anything (it may still be invalid: see Check).
func (c Config) Enabled() bool {
	p, err := c.plan()
	return err == nil && (p.tracesURL != "" || p.metricsURL != "")
}

func (c Config) plan() (*plan, error) {
	p := &plan{serviceName: "herald", interval: time.Minute}
	if c.Disabled {
		return p, nil
	}
	var err error
	if p.tracesURL, err = signalURL("TRACES", c.TracesExporter, c.TracesEndpoint, c.Endpoint, "/v1/traces", c.TracesProtocol, c.Protocol); err != nil {
		return nil, err
	}
	if p.metricsURL, err = signalURL("METRICS", c.MetricsExporter, c.MetricsEndpoint, c.Endpoint, "/v1/metrics", c.MetricsProtocol, c.Protocol); err != nil {
		return nil, err
	}
	if p.sampler, p.samplerName, err = sampler(c.Sampler, c.SamplerArg); err != nil {
		return nil, err
	}
	if p.attrs, err = resourceAttributes(c.ResourceAttributes); err != nil {
		return nil, err
	}
	for _, kv := range p.attrs {
		if kv.Key == "service.name" {
			p.serviceName = kv.Value.AsString()
		}
	}
	if s := strings.TrimSpace(c.ServiceName); s != "" {
		p.serviceName = s
	}
	if s := strings.TrimSpace(c.MetricInterval); s != "" {
		ms, err := strconv.Atoi(s)
		if err != nil || ms <= 0 {
			return nil, fmt.Errorf("OTEL_METRIC_EXPORT_INTERVAL %q: want a number of milliseconds, such as 60000", s)
		}
		p.interval = time.Duration(ms) * time.Millisecond
	}
	return p, nil
}

// signalURL returns where one signal (TRACES or METRICS) is exported: its own endpoint
// as it is, else the base endpoint with path appended, else OTLP/HTTP's default
// (http://localhost:4318) when its exporter is named otlp; "" when it is not exported.
func signalURL(signal, exporter, own, base, path, ownProtocol, protocol string) (string, error) {
	exporterVar := "OTEL_" + signal + "_EXPORTER"
	switch strings.TrimSpace(exporter) {
	case "none", "prometheus":
		return "", nil // prometheus: herald's /metrics is that exporter
	case "", "otlp":
	default:
		return "", fmt.Errorf("%s %q: herald exports with otlp (over HTTP), or none", exporterVar, exporter)
	}
	ownVar := "OTEL_EXPORTER_OTLP_" + signal + "_ENDPOINT"
	raw, name := strings.TrimSpace(own), ownVar
	if raw == "" && strings.TrimSpace(base) != "" {
		raw, name = strings.TrimRight(strings.TrimSpace(base), "/")+path, "OTEL_EXPORTER_OTLP_ENDPOINT"
	}
	if raw == "" {
		if strings.TrimSpace(exporter) != "otlp" {
			return "", nil // nothing named: off
		}
		raw = "http://localhost:4318" + path
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%s %q: want an http:// or https:// URL, such as http://localhost:4318", name, raw)
	}
	protoVar, proto := "OTEL_EXPORTER_OTLP_"+signal+"_PROTOCOL", strings.TrimSpace(ownProtocol)
	if proto == "" {
		protoVar, proto = "OTEL_EXPORTER_OTLP_PROTOCOL", strings.TrimSpace(protocol)
	}
	if proto != "" && proto != "http/protobuf" {
		return "", fmt.Errorf("%s %q: herald exports OTLP as http/protobuf only (a collector's HTTP port, 4318 by default)", protoVar, proto)
	}
	return raw, nil
}

// sampler returns the sampler OTEL_TRACES_SAMPLER and its argument name.
func sampler(name, arg string) (sdktrace.Sampler, string, error) {
	name = strings.TrimSpace(name)
	ratio := 1.0
	if a := strings.TrimSpace(arg); a != "" && strings.HasSuffix(name, "traceidratio") {
		r, err := strconv.ParseFloat(a, 64)
		if err != nil || r < 0 || r > 1 {
			return nil, "", fmt.Errorf("OTEL_TRACES_SAMPLER_ARG %q: want a ratio from 0 to 1, such as 0.25", a)
		}
		ratio = r
	}
	switch name {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), "parentbased_always_on", nil
	case "always_on":
		return sdktrace.AlwaysSample(), name, nil
	case "always_off":
		return sdktrace.NeverSample(), name, nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), name, nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(ratio), fmt.Sprintf("%s %g", name, ratio), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio)), fmt.Sprintf("%s %g", name, ratio), nil
	}
	return nil, "", fmt.Errorf("OTEL_TRACES_SAMPLER %q: want always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio", name)
}

// resourceAttributes parses OTEL_RESOURCE_ATTRIBUTES: key=value pairs separated by
// commas, values percent-encoded.
func resourceAttributes(s string) ([]attribute.KeyValue, error) {
	var out []attribute.KeyValue
	for _, pair := range strings.Split(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %q is not key=value", pair)
		}
		val, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %s: bad percent-encoding: %v", k, err)
		}
		out = append(out, attribute.String(k, val))
	}
	return out, nil
}
