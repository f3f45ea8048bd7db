package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/workflow"
)

// tracer is an SDK tracer provider whose spans land, as they end, in an
// in-memory exporter: what an OTLP collector would receive.
func tracer(t *testing.T) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, exp
}

// spansNamed waits until exp holds n spans named name, and returns them.
func spansNamed(t *testing.T, exp *tracetest.InMemoryExporter, name string, n int) []tracetest.SpanStub {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var found []tracetest.SpanStub
		var names []string
		for _, s := range exp.GetSpans() {
			names = append(names, s.Name)
			if s.Name == name {
				found = append(found, s)
			}
		}
		if len(found) >= n {
			return found
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d spans named %q, want %d; spans: %q", len(found), name, n, names)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// attrs are a span's attributes by key, as text.
func attrs(s tracetest.SpanStub) map[string]string {
	m := map[string]string{}
	for _, kv := range s.Attributes {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

func wantAttrs(t *testing.T, s tracetest.SpanStub, want map[string]string) {
	t.Helper()
	got := attrs(s)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("span %q: %s = %q, want %q (all: %v)", s.Name, k, got[k], v, got)
		}
	}
}

// loggingWorkflow logs one line through bifrost.Logger and answers 200.
func loggingWorkflow(name string, mode workflow.Mode) *Workflow {
	wf := asyncWorkflow(name, 0, time.Minute, func(ctx context.Context, a *jobArgs) (bind.Result, error) {
		bifrost.Logger(ctx).Info("working", "value", a.Value)
		return bind.JSON(http.StatusOK, map[string]string{"echo": a.Value}), nil
	})
	wf.Mode = mode
	return wf
}

// TestTracesSyncCall: a sync call is one server span named after its route,
// with the HTTP and bifrost attributes; the record and every line the
// workflow logs carry its trace id; an incoming traceparent makes the span
// its child; a call that names no workflow keeps the name out of the span.
func TestTracesSyncCall(t *testing.T) {
	tp, exp := tracer(t)
	var logs syncBuffer
	st := openStore(t, "")
	srv := startServer(t, Options{Workflows: []*Workflow{loggingWorkflow("echo", workflow.Sync)},
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Store: st, Auth: &authConfigKey, TracerProvider: tp})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); drain(t, srv, 10*time.Second) })
	s := &execServer{url: ts.URL, store: st, srv: srv}

	status, h, body := s.do(t, "POST", "/api/endpoints/echo", `{"value":"a"}`)
	if status != http.StatusOK {
		t.Fatalf("POST echo: %d %s", status, body)
	}
	id := h.Get(HeaderExecutionID)
	span := spansNamed(t, exp, "POST /api/endpoints/echo", 1)[0]
	if span.SpanKind != trace.SpanKindServer || span.Parent.IsValid() {
		t.Errorf("span kind %v, parent %v: want a root server span", span.SpanKind, span.Parent)
	}
	wantAttrs(t, span, map[string]string{"http.request.method": "POST", "http.route": "/api/endpoints/echo",
		"http.response.status_code": "200", "bifrost.workflow": "echo", "bifrost.execution_id": id})
	traceID := span.SpanContext.TraceID().String()

	awaitRecorded(t, st, id)
	v := s.view(t, id, "0")
	if v.TraceID != traceID {
		t.Errorf("the record's trace_id %q, want the span's %q", v.TraceID, traceID)
	}
	if len(v.Logs) != 1 || v.Logs[0].Attrs["trace_id"] != traceID {
		t.Errorf("the record's log lines %+v: want one with trace_id %s", v.Logs, traceID)
	}
	for _, msg := range []string{"working", "request"} {
		if line := logLine(t, logs.String(), msg, id); line["trace_id"] != traceID {
			t.Errorf("process log %q line %v: want trace_id %s", msg, line, traceID)
		}
	}

	t.Run("incoming traceparent", func(t *testing.T) {
		const caller, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
		status, h, _ := s.do(t, "POST", "/api/endpoints/echo", `{"value":"b"}`, "traceparent", "00-"+caller+"-"+parent+"-01")
		if status != http.StatusOK {
			t.Fatalf("POST echo: %d", status)
		}
		var span tracetest.SpanStub
		for _, sp := range spansNamed(t, exp, "POST /api/endpoints/echo", 2) {
			if attrs(sp)["bifrost.execution_id"] == h.Get(HeaderExecutionID) {
				span = sp
			}
		}
		if got := span.SpanContext.TraceID().String(); got != caller {
			t.Errorf("trace id %s, want the caller's %s", got, caller)
		}
		if got := span.Parent.SpanID().String(); got != parent || !span.Parent.IsRemote() {
			t.Errorf("parent %s (remote %v), want the caller's span %s", got, span.Parent.IsRemote(), parent)
		}
		awaitRecorded(t, st, h.Get(HeaderExecutionID))
		if v := s.view(t, h.Get(HeaderExecutionID), "0"); v.TraceID != caller {
			t.Errorf("the record's trace_id %q, want the caller's %s", v.TraceID, caller)
		}
	})

	t.Run("unknown workflow", func(t *testing.T) {
		if status, _, _ := s.do(t, "POST", "/api/endpoints/no-such-xyz", `{}`); status != http.StatusNotFound {
			t.Fatalf("status %d, want 404", status)
		}
		span := spansNamed(t, exp, "POST /api/endpoints/{name}", 1)[0]
		wantAttrs(t, span, map[string]string{"http.route": "/api/endpoints/{name}", "http.response.status_code": "404"})
		for _, kv := range span.Attributes {
			if strings.Contains(kv.Value.String(), "no-such-xyz") || kv.Key == "bifrost.workflow" {
				t.Errorf("the span of an unknown workflow has %s=%s", kv.Key, kv.Value.String())
			}
		}
	})
}

// logLine is the process log line with message msg of execution id.
func logLine(t *testing.T, logs, msg, id string) map[string]any {
	t.Helper()
	for line := range strings.SplitSeq(logs, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg && m["execution_id"] == id {
			return m
		}
	}
	t.Fatalf("no %q line of %s in the log:\n%s", msg, id, logs)
	return nil
}

// TestTracesAsyncCall: the attempts of an async execution, run by a worker
// with a tracer provider of its own (as another process would be), are
// spans of the caller's trace, children of the request span that accepted
// it: the trace context travels with the execution's record, through the
// store. A failed attempt is an error span; the retry is a span of its own.
func TestTracesAsyncCall(t *testing.T) { onEachStore(t, testTracesAsyncCall) }

func testTracesAsyncCall(t *testing.T) {
	st := openTestStore(t)
	var runs atomic.Int32
	wf := asyncWorkflow("job", 1, time.Minute, func(ctx context.Context, a *jobArgs) (bind.Result, error) {
		bifrost.Logger(ctx).Info("working")
		if runs.Add(1) == 1 {
			return bind.Result{}, errors.New("the first attempt fails")
		}
		return bind.JSON(http.StatusOK, map[string]string{"done": "yes"}), nil
	})
	frontTP, front := tracer(t)
	workerTP, worker := tracer(t)
	api := startServer(t, Options{Workflows: []*Workflow{wf}, Logger: discard, Store: st, Workers: 0,
		Auth: &authConfigKey, TracerProvider: frontTP})
	ts := httptest.NewServer(api.Handler())
	w := startServer(t, Options{Workflows: []*Workflow{wf}, Logger: discard, Store: st, Workers: 1,
		Auth: &authConfigKey, TracerProvider: workerTP})
	t.Cleanup(func() { ts.Close(); drain(t, w, 10*time.Second); drain(t, api, 10*time.Second) })
	s := &execServer{url: ts.URL, store: st, srv: api}

	id := s.start(t, "job", `{"value":"x"}`)
	req := spansNamed(t, front, "POST /api/endpoints/job", 1)[0]
	wantAttrs(t, req, map[string]string{"http.response.status_code": "202", "bifrost.execution_id": id})
	attempts := spansNamed(t, worker, "execute job", 2)
	for i, a := range attempts {
		if a.SpanContext.TraceID() != req.SpanContext.TraceID() {
			t.Errorf("attempt %d: trace %s, want the caller's %s", i+1, a.SpanContext.TraceID(), req.SpanContext.TraceID())
		}
		if a.Parent.SpanID() != req.SpanContext.SpanID() {
			t.Errorf("attempt %d: parent %s, want the request span %s", i+1, a.Parent.SpanID(), req.SpanContext.SpanID())
		}
	}
	wantAttrs(t, attempts[0], map[string]string{"bifrost.workflow": "job", "bifrost.execution_id": id,
		"bifrost.attempt": "1", "bifrost.status": "failed"})
	wantAttrs(t, attempts[1], map[string]string{"bifrost.attempt": "2", "bifrost.status": "succeeded"})
	if attempts[0].Status.Code != codes.Error || attempts[1].Status.Code == codes.Error {
		t.Errorf("span statuses %v, %v: want an error, then none", attempts[0].Status, attempts[1].Status)
	}

	v := s.view(t, id, "10s")
	traceID := req.SpanContext.TraceID().String()
	if v.Status != "succeeded" || v.TraceID != traceID {
		t.Errorf("record %s, trace_id %q; want succeeded in trace %s", v.Status, v.TraceID, traceID)
	}
	if len(v.Logs) == 0 || v.Logs[0].Attrs["trace_id"] != traceID {
		t.Errorf("the attempt's log lines %+v: want trace_id %s", v.Logs, traceID)
	}
}

// TestTracesOff: without a tracer provider, an incoming traceparent leaves
// no trace id on the record nor in the workflow's log lines.
func TestTracesOff(t *testing.T) {
	s := newExecServer(t, loggingWorkflow("echo", workflow.Sync))
	status, h, _ := s.do(t, "POST", "/api/endpoints/echo", `{"value":"a"}`,
		"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if status != http.StatusOK {
		t.Fatalf("POST echo: %d", status)
	}
	awaitRecorded(t, s.store, h.Get(HeaderExecutionID))
	v := s.view(t, h.Get(HeaderExecutionID), "0")
	if v.TraceID != "" || len(v.Logs) != 1 || v.Logs[0].Attrs["trace_id"] != nil {
		t.Errorf("trace_id %q, logs %+v: want no trace id anywhere", v.TraceID, v.Logs)
	}
}

// TestTraceParent: a span's traceparent is the W3C form, and the view reads
// the trace id back out of it.
func TestTraceParent(t *testing.T) {
	tp, _ := tracer(t)
	_, span := tp.Tracer("t").Start(context.Background(), "s")
	defer span.End()
	tpHeader := traceParent(span)
	sc := span.SpanContext()
	if want := "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-01"; tpHeader != want {
		t.Errorf("traceParent %q, want %q", tpHeader, want)
	}
	if traceID(tpHeader) != sc.TraceID().String() {
		t.Errorf("traceID(%q) = %q", tpHeader, traceID(tpHeader))
	}
	if traceParent(nil) != "" || traceParent(trace.SpanFromContext(context.Background())) != "" {
		t.Error("no span, or an invalid one, must give no traceparent")
	}
}

// BenchmarkEndpointTraced is BenchmarkEndpoint/nolog with every request
// traced and sampled, its spans batched to an exporter that drops them:
// what tracing costs when on (docs/operations.md). Off, it costs nothing:
// BenchmarkEndpoint and examples/bench are unchanged.
func BenchmarkEndpointTraced(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	defer tp.Shutdown(context.Background())
	s, err := New(Options{Workflows: []*Workflow{greetWorkflow("greet", true)}, Logger: discard, TracerProvider: tp})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	benchRun(b, s.Handler(), "/api/endpoints/greet")
}
