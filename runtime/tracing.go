package runtime

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/bifrost-go/bifrost/internal/execctx"
	"github.com/bifrost-go/bifrost/runtime/store"
)

// tracerName names the runtime's instrumentation in every span it exports.
const tracerName = "github.com/bifrost-go/bifrost/runtime"

// tracing is a server's OpenTelemetry instrumentation: a span per endpoint
// request and per async attempt (docs/operations.md lists them). A server
// without Options.TracerProvider has none (nil), and the request path then
// pays one nil check: no context, no span, no allocation.
type tracing struct {
	tracer trace.Tracer
	prop   propagation.TraceContext // W3C traceparent, in and out
}

func newTracing(tp trace.TracerProvider) *tracing {
	if tp == nil {
		return nil
	}
	return &tracing{tracer: tp.Tracer(tracerName)}
}

// Span attribute keys: OpenTelemetry's HTTP conventions, and the runtime's
// own under bifrost.*.
const (
	attrMethod      = attribute.Key("http.request.method")
	attrRoute       = attribute.Key("http.route")
	attrStatusCode  = attribute.Key("http.response.status_code")
	attrWorkflow    = attribute.Key("bifrost.workflow")
	attrExecutionID = attribute.Key("bifrost.execution_id")
	attrAttempt     = attribute.Key("bifrost.attempt")
	attrStatus      = attribute.Key("bifrost.status")
)

// anyEndpoint is the route of a request that names no workflow of ours: the
// name it asked for stays out of the span, as it stays out of the metrics.
const anyEndpoint = endpointPrefix + "{name}"

// startRequest opens the server span of an endpoint request, as a child of
// the caller's traceparent when there is one, and puts it in the request's
// context: the workflow, the accept and the access line see it.
func (t *tracing) startRequest(x *exchange) {
	r := x.c.Request()
	ctx := t.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	method := spanMethod(r.Method)
	ctx, span := t.tracer.Start(ctx, spanName(method, anyEndpoint),
		trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrMethod.String(method)))
	x.c.SetRequest(r.WithContext(ctx))
	x.traced = true
	if span.IsRecording() {
		x.exec.Trace = &execctx.Trace{ID: span.SpanContext().TraceID().String()} // bifrost.Logger(ctx) lines carry it
	}
}

// span is the request's span, nil when it is not traced. It lives in the
// request's context only: a field would grow every exchange, traced or not.
func (x *exchange) span() trace.Span {
	if !x.traced {
		return nil
	}
	return trace.SpanFromContext(x.c.Request().Context())
}

// traceParent is the traceparent an execution started by x records.
func (x *exchange) traceParent() string { return traceParent(x.span()) }

// endRequest names the span after the workflow's route, once known, and
// closes it with the answer's status. A 5xx is an error of the server; a
// 4xx is the caller's, and leaves the span's status unset.
func (t *tracing) endRequest(x *exchange) {
	status := x.c.Response().Status
	route := anyEndpoint
	attrs := make([]attribute.KeyValue, 0, 4)
	if x.ep != nil {
		route = endpointPrefix + x.ep.wf.Name
		attrs = append(attrs, attrWorkflow.String(x.ep.wf.Name))
	}
	if x.id != "" {
		attrs = append(attrs, attrExecutionID.String(x.id))
	}
	attrs = append(attrs, attrRoute.String(route), attrStatusCode.Int(status))
	span := x.span()
	span.SetName(spanName(spanMethod(x.c.Request().Method), route))
	span.SetAttributes(attrs...)
	if status >= http.StatusInternalServerError {
		span.SetStatus(codes.Error, http.StatusText(status))
	}
	span.End()
}

// spanMethod is the method as OpenTelemetry's HTTP conventions name it: a
// known method, or _OTHER.
func spanMethod(m string) string {
	if m = methodLabel(m); m == "other" {
		return "_OTHER"
	}
	return m
}

// spanName is "{method} {route}", or "HTTP {route}" for an unknown method.
func spanName(method, route string) string {
	if method == "_OTHER" {
		method = "HTTP"
	}
	return method + " " + route
}

// traceParent is the W3C traceparent of span ("" without one), as an
// execution's record keeps it: the trace id shows on the record, and the
// attempts of an async execution join the trace of the request that
// accepted it, in whatever process runs them.
func traceParent(span trace.Span) string {
	if span == nil || !span.SpanContext().IsValid() {
		return ""
	}
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(trace.ContextWithSpan(context.Background(), span), carrier)
	return carrier["traceparent"]
}

// attempt is the span of one attempt of an async execution. A nil
// *attempt (tracing off) does nothing.
type attempt struct {
	span    trace.Span
	outcome string // the attempt's own status, when the record's says more ("pending" again)
}

// startAttempt opens the span "execute <workflow>" of an attempt, as a child
// of the span stored with the execution (the request that accepted it),
// and returns the context the workflow runs in.
func (t *tracing) startAttempt(ctx context.Context, e *store.Execution, n int) (context.Context, *attempt) {
	if t == nil {
		return ctx, nil
	}
	if e.TraceParent != "" {
		ctx = t.prop.Extract(ctx, propagation.MapCarrier{"traceparent": e.TraceParent})
	}
	ctx, span := t.tracer.Start(ctx, "execute "+e.Workflow, trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attrWorkflow.String(e.Workflow), attrExecutionID.String(e.ID), attrAttempt.Int(n)))
	return ctx, &attempt{span: span}
}

// trace is what bifrost.Logger(ctx) lines of the attempt carry of its
// trace, nil unless its span is recorded.
func (a *attempt) trace() *execctx.Trace {
	if a == nil || !a.span.IsRecording() {
		return nil
	}
	return &execctx.Trace{ID: a.span.SpanContext().TraceID().String()}
}

// ended notes how the attempt ended before its record says what comes next:
// a failed attempt with retries left is recorded pending.
func (a *attempt) ended(outcome string) {
	if a != nil {
		a.outcome = outcome
	}
}

// end closes the span with the attempt's status; a failed or timed-out
// attempt is an error, described by the record's (masked) error.
func (a *attempt) end(e *store.Execution) {
	if a == nil {
		return
	}
	outcome := a.outcome
	if outcome == "" {
		outcome = string(e.Status)
	}
	a.span.SetAttributes(attrStatus.String(outcome))
	if outcome == string(store.Failed) || outcome == string(store.TimedOut) {
		a.span.SetStatus(codes.Error, e.Error)
	}
	a.span.End()
}
