package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The binary's traces are configured by OpenTelemetry's own variables, and
// are off unless one of them asks for an exporter (docs/operations.md):
//
//	OTEL_SDK_DISABLED=true                     off, whatever else is set
//	OTEL_TRACES_EXPORTER=otlp|console|none     a comma-separated list
//	OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
//	                                           either alone means otlp
//	OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL       http/protobuf (default) or grpc
//
// The exporters read the rest themselves (headers, timeout, TLS), the SDK
// the sampler (OTEL_TRACES_SAMPLER), the batching (OTEL_BSP_*) and the
// resource (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES).

// tracesFromEnv returns the tracer provider the OTEL_* variables describe,
// and the exporters it sends to ("otlp grpc", "console"), or nil when they
// leave tracing off. The caller shuts the provider down, which flushes it.
func tracesFromEnv(ctx context.Context) (*sdktrace.TracerProvider, []string, error) {
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") {
		return nil, nil, nil
	}
	names := exporterNames()
	var opts []sdktrace.TracerProviderOption
	var described []string
	for _, name := range names {
		exp, desc, err := newExporter(ctx, name)
		if err != nil {
			return nil, nil, err
		}
		if exp == nil {
			continue // none
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
		described = append(described, desc)
	}
	if len(opts) == 0 {
		return nil, nil, nil
	}
	return sdktrace.NewTracerProvider(opts...), described, nil
}

// exporterNames are the exporters asked for: OTEL_TRACES_EXPORTER, else
// otlp when an OTLP endpoint is set, else none.
func exporterNames() []string {
	if v := strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER")); v != "" {
		var names []string
		for name := range strings.SplitSeq(v, ",") {
			names = append(names, strings.ToLower(strings.TrimSpace(name)))
		}
		return names
	}
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" {
		return []string{"otlp"}
	}
	return nil
}

// newExporter makes the exporter name stands for; none is a nil exporter.
func newExporter(ctx context.Context, name string) (sdktrace.SpanExporter, string, error) {
	switch name {
	case "none", "":
		return nil, "", nil
	case "console":
		exp, err := stdouttrace.New()
		return exp, "console", err
	case "otlp":
	default:
		return nil, "", fmt.Errorf("OTEL_TRACES_EXPORTER=%q: this binary exports traces with otlp, console or none", name)
	}
	protocol := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if protocol == "" {
		protocol = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	switch protocol {
	case "", "http/protobuf":
		exp, err := otlptracehttp.New(ctx)
		return exp, "otlp http/protobuf", err
	case "grpc":
		exp, err := otlptracegrpc.New(ctx)
		return exp, "otlp grpc", err
	}
	return nil, "", fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL=%q: this binary sends OTLP as http/protobuf or grpc", protocol)
}

// startTraces sets up the binary's tracing from the environment for a
// `serve` or `worker` command: the provider is also made OpenTelemetry's
// global one, so spans a workflow starts with otel.Tracer join the same
// traces, and the SDK's own errors go to the process log. The returned
// stop flushes what is buffered, for at most a few seconds.
func startTraces(ctx context.Context, log *slog.Logger) (*sdktrace.TracerProvider, func(), error) {
	tp, exporters, err := tracesFromEnv(ctx)
	if err != nil || tp == nil {
		return nil, func() {}, err
	}
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.LogAttrs(context.Background(), slog.LevelWarn, "traces", slog.String("error", err.Error()))
	}))
	log.LogAttrs(ctx, slog.LevelInfo, "tracing", slog.String("exporters", strings.Join(exporters, ", ")))
	return tp, func() {
		flush, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tp.Shutdown(flush); err != nil && !errors.Is(err, context.Canceled) {
			log.LogAttrs(context.Background(), slog.LevelWarn, "traces not flushed", slog.String("error", err.Error()))
		}
	}, nil
}
