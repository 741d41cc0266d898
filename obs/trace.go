package obs

import (
	"context"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// tracerName names this server's instrumentation scope in exported spans.
const tracerName = "authserver"

// Tracer returns the tracer spans are started with: the global provider's, which is a no-op that
// records nothing until StartTracing (or a test) installs a real one.
func Tracer() trace.Tracer { return otel.Tracer(tracerName) }

// Outcomes of a password hash's wait for a worker, the outcome label of auth_hash_requests_total.
const (
	HashAdmitted = "admitted"
	HashBusy     = "busy"
	HashCanceled = "canceled"
)

// HashWait records that a password hash started waiting for a hashing worker at start and has
// now been admitted, refused or canceled (outcome): the auth_hash_* metrics, and a "hash.wait"
// span under ctx's span when tracing is on.
func HashWait(ctx context.Context, start time.Time, outcome string) {
	now := time.Now()
	set.GetOrCreateCounter(name("auth_hash_requests_total", "outcome", outcome)).Inc()
	hashWait.Update(now.Sub(start).Seconds())
	if parent := trace.SpanFromContext(ctx); parent.SpanContext().IsValid() {
		_, span := Tracer().Start(ctx, "hash.wait", trace.WithTimestamp(start),
			trace.WithAttributes(attribute.String("hash.outcome", outcome)))
		span.End(trace.WithTimestamp(now))
	}
}

var hashWait = set.NewPrometheusHistogramExt("auth_hash_wait_seconds", []float64{0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5})

// StartTracing installs an OTLP/HTTP (JSON) trace exporter when OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, configured by the standard OTEL_* variables
// (headers, timeout, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER…). With
// neither set, or with OTEL_TRACES_EXPORTER=none or OTEL_SDK_DISABLED=true, it installs nothing
// and no span leaves the process. The returned function flushes and stops the exporter.
func StartTracing(getenv func(string) string) (shutdown func(context.Context) error, enabled bool, err error) {
	noop := func(context.Context) error { return nil }
	if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return noop, false, nil
	}
	if getenv("OTEL_SDK_DISABLED") == "true" || getenv("OTEL_TRACES_EXPORTER") == "none" {
		return noop, false, nil
	}
	exp, err := newJSONExporter(getenv)
	if err != nil {
		return noop, false, err
	}
	if err != nil {
		return noop, false, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return tp.Shutdown, true, nil
}
