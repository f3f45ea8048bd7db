package runtime

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	collector "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/bifrost-go/bifrost/runtime/store/storetest"
	"github.com/bifrost-go/bifrost/workflow"
)

// otelVars are every variable tracesFromEnv reads: each case starts from
// none of them.
var otelVars = []string{"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
	"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"}

// TestTracesFromEnv: tracing is off unless an OTEL_* variable asks for an
// exporter; OTEL_SDK_DISABLED wins; the protocol picks the OTLP exporter;
// what the binary cannot export is an error naming the variable.
func TestTracesFromEnv(t *testing.T) {
	for _, c := range []struct {
		name    string
		env     map[string]string
		want    []string // the exporters; nil: tracing off
		wantErr string
	}{
		{name: "nothing set", env: nil},
		{name: "an endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, want: []string{"otlp http/protobuf"}},
		{name: "a traces endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, want: []string{"otlp http/protobuf"}},
		{name: "grpc", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, want: []string{"otlp grpc"}},
		{name: "traces protocol wins", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317",
			"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}, want: []string{"otlp grpc"}},
		{name: "console and otlp", env: map[string]string{"OTEL_TRACES_EXPORTER": "console, otlp"}, want: []string{"console", "otlp http/protobuf"}},
		{name: "none", env: map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}},
		{name: "disabled", env: map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}},
		{name: "unknown exporter", env: map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, wantErr: `OTEL_TRACES_EXPORTER="zipkin"`},
		{name: "json protocol", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
			"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, wantErr: `OTEL_EXPORTER_OTLP_PROTOCOL="http/json"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, v := range otelVars {
				t.Setenv(v, c.env[v])
			}
			tp, exporters, err := tracesFromEnv(context.Background())
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (tp == nil) != (c.want == nil) || !slices.Equal(exporters, c.want) {
				t.Fatalf("provider %v, exporters %q; want %q", tp != nil, exporters, c.want)
			}
			if tp != nil {
				_ = tp.Shutdown(context.Background())
			}
		})
	}
}

// otlpReceiver is an OTLP/HTTP collector: it keeps the names of the spans
// posted to /v1/traces.
type otlpReceiver struct {
	mu    sync.Mutex
	names []string
	got   []*tracepb.Span
}

func (r *otlpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var export collector.ExportTraceServiceRequest
	if req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" || proto.Unmarshal(body, &export) != nil {
		http.Error(w, "not an OTLP/HTTP protobuf export", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	for _, rs := range export.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				r.names = append(r.names, s.Name)
				r.got = append(r.got, s)
			}
		}
	}
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(nil)
}

func (r *otlpReceiver) spans() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.names)
}

// TestServeExportsTraces: `serve` with OTEL_EXPORTER_OTLP_ENDPOINT sends the
// spans of its requests to that collector over OTLP/HTTP, flushed at the
// latest when it stops.
func TestServeExportsTraces(t *testing.T) {
	recv := &otlpReceiver{}
	collectorURL := httptest.NewServer(recv)
	defer collectorURL.Close()
	for _, v := range otelVars {
		t.Setenv(v, "")
	}
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collectorURL.URL)
	t.Setenv("BIFROST_API_KEY", testKey)

	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1)
	args := []string{"app", "serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "bifrost.db")}
	go func() { done <- run(ctx, args, &out, &errOut, []*Workflow{loggingWorkflow("echo", workflow.Sync)}) }()
	defer func() { cancel(); <-done }()
	base := waitListening(t, &errOut)
	if status, _ := call(t, base, "/api/endpoints/echo", `{"value":"a"}`, false); status != http.StatusOK {
		t.Fatalf("POST echo: %d", status)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d:\n%s", code, errOut.String())
	}
	done <- 0 // for the deferred wait
	if !slices.Contains(recv.spans(), "POST /api/endpoints/echo") {
		t.Errorf("the collector received %q, want the request's span", recv.spans())
	}
	if !strings.Contains(errOut.String(), `"msg":"tracing","exporters":"otlp http/protobuf"`) {
		t.Errorf("serve did not log that it traces:\n%s", errOut.String())
	}
}

// named is the first span received with this name, or nil.
func (r *otlpReceiver) named(name string) *tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.got {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// TestWorkerJoinsTheCallersTrace: `serve --workers 0` accepts an async call
// and a `worker` process (here a second command on the same PostgreSQL
// database) runs it; both export to one collector, where the attempt's span
// is a child of the request's span, in the same trace, though the two
// processes share nothing but the database.
func TestWorkerJoinsTheCallersTrace(t *testing.T) {
	db := storetest.PostgresURL(t)
	recv := &otlpReceiver{}
	collectorURL := httptest.NewServer(recv)
	defer collectorURL.Close()
	for _, v := range otelVars {
		t.Setenv(v, "")
	}
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collectorURL.URL)
	t.Setenv("BIFROST_API_KEY", testKey)
	workflows := []*Workflow{loggingWorkflow("job", workflow.Async)}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var serveLog, workerLog syncBuffer
	codes := make(chan int, 2)
	go func() {
		codes <- run(ctx, []string{"app", "serve", "--addr", "127.0.0.1:0", "--workers", "0", "--db", db}, io.Discard, &serveLog, workflows)
	}()
	go func() {
		codes <- run(ctx, []string{"app", "worker", "--workers", "1", "--db", db}, io.Discard, &workerLog, workflows)
	}()
	base := waitListening(t, &serveLog)
	status, id := call(t, base, "/api/endpoints/job", `{"value":"a"}`, false)
	if status != http.StatusAccepted {
		t.Fatalf("POST job: %d", status)
	}
	get, _ := http.NewRequest(http.MethodGet, base+"/api/executions/"+id+"?wait=20s", nil)
	get.Header.Set("Authorization", "Bearer "+testKey)
	_, _, body := send(t, get)
	var v executionView
	if err := json.Unmarshal(body, &v); err != nil || v.Status != "succeeded" {
		t.Fatalf("execution %s: %s, %v\n%s", id, body, err, workerLog.String())
	}
	cancel() // both flush their spans as they stop
	for range 2 {
		if code := <-codes; code != 0 {
			t.Fatalf("a command exited %d:\nserve: %s\nworker: %s", code, serveLog.String(), workerLog.String())
		}
	}
	req, attempt := recv.named("POST /api/endpoints/job"), recv.named("execute job")
	if req == nil || attempt == nil {
		t.Fatalf("the collector received %q, want the request's and the attempt's spans", recv.spans())
	}
	if !bytes.Equal(attempt.TraceId, req.TraceId) || !bytes.Equal(attempt.ParentSpanId, req.SpanId) {
		t.Errorf("attempt in trace %x under %x; want the request's trace %x, under its span %x",
			attempt.TraceId, attempt.ParentSpanId, req.TraceId, req.SpanId)
	}
	if v.TraceID != hex.EncodeToString(req.TraceId) {
		t.Errorf("the record's trace_id %s, want %x", v.TraceID, req.TraceId)
	}
}

// waitListening returns the base URL a serve command logged it listens on.
func waitListening(t *testing.T, log *syncBuffer) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for line := range strings.SplitSeq(log.String(), "\n") {
			if _, rest, ok := strings.Cut(line, `"msg":"listening","addr":"`); ok {
				addr, _, _ := strings.Cut(rest, `"`)
				return "http://" + addr
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("serve did not listen:\n%s", log.String())
	return ""
}
