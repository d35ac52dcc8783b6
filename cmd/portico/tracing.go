package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
)

// tracingEnabled: traces are off unless --otel-traces (PORTICO_OTEL_TRACES)
// or the standard OTEL_TRACES_EXPORTER=otlp turns them on.
func (cfg *Config) tracingEnabled() bool { return cfg.OTelTraces }

// setupTracing installs an OTLP/HTTP exporter as the global tracer
// provider (zitadel/oidc's spans use it too) and the W3C propagators. The
// exporter reads the standard OTEL_EXPORTER_OTLP_* variables itself;
// --otel-endpoint overrides the endpoint. The returned shutdown flushes.
func setupTracing(ctx context.Context, cfg *Config, version string) (shutdown func(), err error) {
	var opts []otlptracehttp.Option
	if cfg.OTelEndpoint != "" {
		opts = append(opts, otlptracehttp.WithEndpointURL(cfg.OTelEndpoint))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName("portico"), semconv.ServiceVersion(version)))
	if err != nil {
		return nil, err
	}
	if env, err := resource.New(ctx, resource.WithFromEnv()); err == nil { // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES win
		if merged, err := resource.Merge(res, env); err == nil {
			res = merged
		}
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Second)), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		tp.Shutdown(ctx)
	}, nil
}

// traced wraps the portal's handler in a server span per request; the web
// layer renames it after the route template ("GET /orgs/:slug").
func traced(h http.Handler) http.Handler {
	return otelhttp.NewHandler(h, "portico", otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
		return r.Method
	}))
}
