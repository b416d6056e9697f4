package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/tusgate/tusgate/backends/bufpool"
)

// tracing is on only when the standard variables ask for OTLP: either
// OTEL_TRACES_EXPORTER=otlp, or an OTLP endpoint set with no exporter named.
// The exporter reads OTEL_EXPORTER_OTLP_* itself, the SDK OTEL_BSP_* and
// OTEL_TRACES_SAMPLER*, the resource OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES.
func tracingEnabled(getenv func(string) string) (bool, error) {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return false, nil
	}
	switch exp := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); exp {
	case "otlp":
		return true, nil
	case "none":
		return false, nil
	case "":
		return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "", nil
	default:
		return false, fmt.Errorf("OTEL_TRACES_EXPORTER=%q: tusgate supports otlp or none", exp)
	}
}

// newTracerProvider returns the provider the gateway gets explicitly (no
// global), and a function that flushes it on exit.
func newTracerProvider(ctx context.Context) (trace.TracerProvider, func(context.Context) error, error) {
	on, err := tracingEnabled(os.Getenv)
	if err != nil || !on {
		return noop.NewTracerProvider(), func(context.Context) error { return nil }, err
	}
	if p := os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL"); p != "" && p != "http/protobuf" {
		return nil, nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL=%q: tusgate exports http/protobuf", p)
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	// Default service name unless OTEL_SERVICE_NAME or the resource
	// attributes say otherwise (WithFromEnv is applied last and wins).
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "tusgate")),
		resource.WithTelemetrySDK(), resource.WithHost(), resource.WithFromEnv())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, nil, fmt.Errorf("trace resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return tp, tp.Shutdown, nil
}

// propagator reads and writes W3C trace context and baggage.
func propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// registerPool exports the buffer pool's accounting, read at scrape time.
func registerPool(reg prometheus.Registerer, p *bufpool.Pool) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tusgate_buffer_pool_budget_bytes", Help: "Memory budget of the part buffer pool.",
		}, func() float64 { return float64(p.Stats().Budget) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tusgate_buffer_pool_in_use_bytes", Help: "Part buffer memory reserved by uploads.",
		}, func() float64 { return float64(p.Stats().InUse) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tusgate_buffer_pool_waiting", Help: "Writers blocked waiting for a part buffer (backpressure).",
		}, func() float64 { return float64(p.Stats().Waiting) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tusgate_buffer_pool_waits_total", Help: "Part buffer requests that had to wait for the budget (backpressure events).",
		}, func() float64 { return float64(p.Stats().Waits) }),
	)
}
