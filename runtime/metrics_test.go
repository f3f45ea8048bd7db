package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/bifrost-go/bifrost/runtime/auth"
	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/workflow"
)

// metricsWorkflows are a sync endpoint "echo" (a malformed body is a 400)
// and an async one "job" whose first attempt fails and whose second
// succeeds: one retry.
func metricsWorkflows() []*Workflow {
	echo := asyncWorkflow("echo", 0, time.Minute, func(context.Context, *jobArgs) (bind.Result, error) {
		return bind.JSON(http.StatusOK, map[string]string{"ok": "yes"}), nil
	})
	echo.Mode = workflow.Sync
	var attempts atomic.Int64
	job := asyncWorkflow("job", 1, time.Minute, func(context.Context, *jobArgs) (bind.Result, error) {
		if attempts.Add(1) == 1 {
			return bind.Result{}, errFirstAttempt
		}
		return bind.JSON(http.StatusOK, map[string]string{"done": "yes"}), nil
	})
	return []*Workflow{echo, job}
}

var errFirstAttempt = errors.New("the first attempt fails")

// call sends method path with body, with the test key unless anonymous, and
// returns the status and the execution id.
func call(t *testing.T, base, path, body string, anonymous bool) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if !anonymous {
		req.Header.Set(auth.HeaderKey, testKey)
	}
	status, h, _ := send(t, req)
	return status, h.Get(HeaderExecutionID)
}

// scrape reads GET /metrics with Prometheus's own parser.
func scrape(t *testing.T, url string) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	var raw strings.Builder
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(teeReader{resp.Body, &raw})
	if err != nil {
		t.Fatalf("the scrape does not parse: %v", err)
	}
	return families, raw.String()
}

type teeReader struct {
	r interface{ Read([]byte) (int, error) }
	w *strings.Builder
}

func (t teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.w.Write(p[:n])
	return n, err
}

// value is the counter or gauge of family with exactly these labels, or
// the sample count of a histogram; -1 when there is no such series.
func value(families map[string]*dto.MetricFamily, family string, labels map[string]string) float64 {
	f := families[family]
	if f == nil {
		return -1
	}
series:
	for _, m := range f.Metric {
		if len(m.Label) != len(labels) {
			continue
		}
		for _, l := range m.Label {
			if want, ok := labels[l.GetName()]; !ok || want != l.GetValue() {
				continue series
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// TestMetricsCountWhatHappened: a 200, a 400, a 401, a 404 for an unknown
// workflow and an async call retried once move the families by exactly
// that, with bounded labels: no execution id, no path, and not the
// unknown workflow's name.
func TestMetricsCountWhatHappened(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	srv, err := New(Options{Workflows: metricsWorkflows(), Logger: discard, Store: st, Workers: 2, Auth: &authConfigKey})
	if err != nil {
		t.Fatal(err)
	}
	base := startHandler(t, srv)

	ids := map[string]bool{}
	for _, c := range []struct {
		path, body string
		anonymous  bool
		want       int
	}{
		{"/api/endpoints/echo", `{"value":"a"}`, false, 200},
		{"/api/endpoints/echo", `{"value":`, false, 400},
		{"/api/endpoints/echo", `{"value":"a"}`, true, 401},
		{"/api/endpoints/no-such-workflow-xyz", `{}`, false, 404},
		{"/api/endpoints/job", `{"value":"a"}`, false, 202},
	} {
		status, id := call(t, base, c.path, c.body, c.anonymous)
		if status != c.want {
			t.Fatalf("POST %s: %d, want %d", c.path, status, c.want)
		}
		if id != "" {
			ids[id] = true
		}
	}

	var families map[string]*dto.MetricFamily
	var raw string
	deadline := time.Now().Add(20 * time.Second)
	for {
		families, raw = scrape(t, base+"/metrics")
		done := value(families, "bifrost_executions_total", map[string]string{"workflow": "job", "mode": "async", "status": "succeeded"}) == 1
		recorded := value(families, "bifrost_record_batch_size", nil) >= 1
		drained := value(families, "bifrost_executions_pending", nil) == 0 // read at most once a second
		if done && recorded && drained {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the async execution did not end, or the sync record was not written:\n%s", raw)
		}
		time.Sleep(50 * time.Millisecond)
	}

	wantCounts(t, families)
	wantBoundedLabels(t, families, raw, ids)
}

func wantCounts(t *testing.T, families map[string]*dto.MetricFamily) {
	t.Helper()
	type L = map[string]string
	for _, w := range []struct {
		family string
		labels L
		want   float64
	}{
		{"bifrost_http_requests_total", L{"workflow": "echo", "method": "POST", "status": "200"}, 1},
		{"bifrost_http_requests_total", L{"workflow": "echo", "method": "POST", "status": "400"}, 1},
		{"bifrost_http_requests_total", L{"workflow": "echo", "method": "POST", "status": "401"}, 1},
		{"bifrost_http_requests_total", L{"workflow": "", "method": "POST", "status": "404"}, 1},
		{"bifrost_http_requests_total", L{"workflow": "job", "method": "POST", "status": "202"}, 1},
		{"bifrost_http_request_duration_seconds", L{"workflow": "echo", "method": "POST"}, 3},
		{"bifrost_http_request_duration_seconds", L{"workflow": "", "method": "POST"}, 1},
		{"bifrost_executions_total", L{"workflow": "echo", "mode": "sync", "status": "succeeded"}, 1},
		{"bifrost_executions_total", L{"workflow": "echo", "mode": "sync", "status": "failed"}, 0},
		{"bifrost_executions_total", L{"workflow": "job", "mode": "async", "status": "succeeded"}, 1},
		{"bifrost_executions_total", L{"workflow": "job", "mode": "async", "status": "failed"}, 0},
		{"bifrost_execution_duration_seconds", L{"workflow": "echo", "mode": "sync"}, 1},
		{"bifrost_execution_duration_seconds", L{"workflow": "job", "mode": "async"}, 1},
		{"bifrost_execution_retries_total", L{"workflow": "job"}, 1},
		{"bifrost_auth_refused_total", L{"reason": "missing"}, 1},
		{"bifrost_auth_refused_total", L{"reason": "invalid"}, 0},
		{"bifrost_auth_refused_total", L{"reason": "forbidden"}, 0},
		{"bifrost_backpressure_refused_total", L{"workflow": "job"}, 0},
		{"bifrost_record_batch_size", nil, 1},
		{"bifrost_store_write_seconds", nil, 1},
		{"bifrost_executions_pending", nil, 0},
		{"bifrost_executions_running", nil, 0},
	} {
		if got := value(families, w.family, w.labels); got != w.want {
			t.Errorf("%s%v = %v, want %v", w.family, w.labels, got, w.want)
		}
	}
	if got := families["bifrost_record_batch_size"].Metric[0].Histogram.GetSampleSum(); got != 1 {
		t.Errorf("records written in batches: %v, want 1", got)
	}
	for _, f := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if families[f] == nil {
			t.Errorf("no %s family", f)
		}
	}
}

var uuidLike = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

func wantBoundedLabels(t *testing.T, families map[string]*dto.MetricFamily, raw string, ids map[string]bool) {
	t.Helper()
	for name, f := range families {
		if !strings.HasPrefix(name, "bifrost_") && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
			t.Errorf("family %s is not bifrost_*, go_* or process_*", name)
		}
		if !strings.HasPrefix(name, "bifrost_") {
			continue
		}
		for _, m := range f.Metric {
			for _, l := range m.Label {
				v := l.GetValue()
				if ids[v] || uuidLike.MatchString(v) || strings.Contains(v, "/") {
					t.Errorf("%s has the label %s=%q: an id or a path", name, l.GetName(), v)
				}
			}
		}
	}
	if strings.Contains(raw, "no-such-workflow-xyz") {
		t.Error("the unknown workflow's name is in the scrape")
	}
	for id := range ids {
		if strings.Contains(raw, id) {
			t.Errorf("execution id %s is in the scrape", id)
		}
	}
}

// TestMetricsRunningGauge: bifrost_executions_running shows an async
// execution while it runs, and pending the one waiting behind it (one
// worker), read from the store; both go back to 0 once they end.
func TestMetricsRunningGauge(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	release := make(chan struct{})
	wf := asyncWorkflow("hold", 0, time.Minute, func(ctx context.Context, _ *jobArgs) (bind.Result, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return bind.JSON(http.StatusOK, map[string]string{}), nil
	})
	srv, err := New(Options{Workflows: []*Workflow{wf}, Logger: discard, Store: st, Workers: 1, Auth: &authConfigKey})
	if err != nil {
		t.Fatal(err)
	}
	base := startHandler(t, srv)
	_, first := call(t, base, "/api/endpoints/hold", `{}`, false)
	awaitRunning(t, st, first)
	call(t, base, "/api/endpoints/hold", `{}`, false)
	gauges := func(pending, running float64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			families, raw := scrape(t, base+"/metrics")
			p, r := value(families, "bifrost_executions_pending", nil), value(families, "bifrost_executions_running", nil)
			if p == pending && r == running {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("pending %v, running %v; want %v and %v:\n%s", p, r, pending, running, raw)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	gauges(1, 1)
	close(release)
	gauges(0, 0)
}

// TestMetricsOff: Options.DisableMetrics makes GET /metrics a 404, while
// MetricsHandler still serves the registry. Two servers in one process keep
// registries of their own.
func TestMetricsOff(t *testing.T) {
	on, err := New(Options{Workflows: metricsWorkflows()[:1], Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	off, err := New(Options{Workflows: metricsWorkflows()[:1], Logger: discard, DisableMetrics: true})
	if err != nil {
		t.Fatal(err)
	}
	defer on.Shutdown(context.Background())
	defer off.Shutdown(context.Background())
	for _, c := range []struct {
		h    http.Handler
		want int
	}{{on.Handler(), 200}, {off.Handler(), 404}, {off.MetricsHandler(), 200}} {
		w := httptest.NewRecorder()
		c.h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if w.Code != c.want {
			t.Errorf("GET /metrics: %d, want %d", w.Code, c.want)
		}
	}
}

// TestServeMetricsFlags: serve --no-metrics answers /metrics with 404;
// serve --metrics-addr serves it on that listener only; worker
// --metrics-addr serves it too.
func TestServeMetricsFlags(t *testing.T) {
	main := listening(t, "listening", "serve", "--addr", "127.0.0.1:0", "--no-metrics")["listening"]
	if status := getStatus(t, main+"/metrics"); status != 404 {
		t.Errorf("--no-metrics: GET /metrics %d, want 404", status)
	}
	addrs := listening(t, "listening", "serve", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0")
	main, metricsURL := addrs["listening"], addrs["metrics listening"]
	if status := getStatus(t, main+"/metrics"); status != 404 {
		t.Errorf("--metrics-addr: GET /metrics on --addr %d, want 404", status)
	}
	if families, _ := scrape(t, metricsURL+"/metrics"); families["go_goroutines"] == nil {
		t.Error("--metrics-addr: no go_goroutines")
	}
	if status := getStatus(t, metricsURL+"/healthz"); status != 404 {
		t.Errorf("the metrics listener answers /healthz: %d", status)
	}
	worker := listening(t, "metrics listening", "worker", "--workers", "1", "--metrics-addr", "127.0.0.1:0")
	if families, _ := scrape(t, worker["metrics listening"]+"/metrics"); families["go_goroutines"] == nil {
		t.Error("worker --metrics-addr: no go_goroutines")
	}
	var out strings.Builder
	if code := run(context.Background(), []string{"app", "serve", "--no-metrics", "--metrics-addr", ":0"}, &out, &out, nil); code != 2 {
		t.Errorf("--no-metrics with --metrics-addr: exit %d, want 2", code)
	}
}

func getStatus(t *testing.T, url string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	status, _, _ := send(t, req)
	return status
}

// listening runs the command args (after "app", with a fresh --db) until
// the test ends and returns the base URLs it logged, by message, once it
// logged want.
func listening(t *testing.T, want string, args ...string) map[string]string {
	t.Helper()
	t.Setenv("BIFROST_API_KEY", "x")
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1)
	db := filepath.Join(t.TempDir(), "bifrost.db")
	go func() { done <- run(ctx, append([]string{"app"}, append(args, "--db", db)...), &out, &errOut, nil) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		addrs := map[string]string{}
		for line := range strings.SplitSeq(errOut.String(), "\n") {
			var l struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Addr != "" {
				addrs[l.Msg] = "http://" + l.Addr
			}
		}
		if addrs[want] != "" {
			return addrs
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%v did not log %q:\n%s", args, want, errOut.String())
	return nil
}
