package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/runtime/auth"
	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/workflow"
	"github.com/google/uuid"
)

// TestStoredSizesAreCapped (round 2, finding 4): a sync call's input, result
// and logs are stored up to Options.StoreLimit, each past it marked as
// truncated with its size and first KiB; a small call is stored whole.
func TestStoredSizesAreCapped(t *testing.T) {
	st := openTestStore(t)
	echo := &Workflow{
		Spec:   workflow.Spec{Name: "echo", Endpoint: true, Public: true, Methods: []string{"POST"}, Timeout: time.Minute, Body: workflow.BodyRaw},
		Decode: func(in *bind.Input) (bind.Args, error) { return &echoArgs{Body: string(in.Body())}, nil },
	}
	srv, err := New(Options{Workflows: []*Workflow{echo}, Store: st, StoreLimit: 16 << 10, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	url := startHandler(t, srv)
	call := func(body string) string {
		resp, err := http.Post(url+"/api/endpoints/echo", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		id := resp.Header.Get(HeaderExecutionID)
		awaitRecorded(t, st, id)
		return id
	}
	big, small := call(strings.Repeat("x", 1<<20)), call("tiny")

	e, err := st.Get(context.Background(), big)
	if err != nil {
		t.Fatal(err)
	}
	for name, raw := range map[string]json.RawMessage{"input": e.Input, "result": e.Result} {
		var cut truncated
		if err := json.Unmarshal(raw, &cut); err != nil || !cut.Truncated || cut.Size < 1<<20 || len(cut.Preview) != previewBytes {
			t.Errorf("%s of the big call: %.200s", name, raw)
		}
	}
	logBytes, _ := json.Marshal(e.Logs)
	if len(logBytes) > 32<<10 || e.Logs[len(e.Logs)-1].Message != "log lines past the cap were dropped" {
		t.Errorf("logs of the big call: %d bytes, %d lines, last %q", len(logBytes), len(e.Logs), e.Logs[len(e.Logs)-1].Message)
	}
	e, err = st.Get(context.Background(), small)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(e.Result), `"echo":"tiny"`) || strings.Contains(string(e.Input), "truncated") {
		t.Errorf("the small call was not stored whole: %s %s", e.Input, e.Result)
	}
}

type echoArgs struct {
	Body string `json:"body"`
}

// Invoke logs 100 lines of up to 2,000 bytes of the body and answers it.
func (a *echoArgs) Invoke(ctx context.Context) (bind.Result, error) {
	for range 100 {
		bifrost.Logger(ctx).Info("line", "body", a.Body[:min(len(a.Body), 2000)])
	}
	return bind.JSON(200, map[string]string{"echo": a.Body}), nil
}

// TestUnrenderableRecord: a record stored before the depth limit, nested
// deeper than encoding/json reads, is shown with a marker; the page that
// holds it is a 200.
func TestUnrenderableRecord(t *testing.T) {
	deep := json.RawMessage(strings.Repeat("[", 11000) + strings.Repeat("]", 11000))
	v := viewOf(&store.Execution{ID: "x", Input: deep, Result: json.RawMessage(`{"ok":true}`), CreatedAt: time.Now()})
	out, err := json.Marshal(v)
	if err != nil || !strings.Contains(string(out), "cannot be shown") || !strings.Contains(string(out), `"ok":true`) {
		t.Fatalf("%v: %.300s", err, out)
	}
}

// TestRetention (round 2, finding 4): a started server deletes ended
// executions older than Options.Retain, and those of a workflow with
// retain= by its own window; pending ones and newer ones stay.
func TestRetention(t *testing.T) {
	st := openTestStore(t)
	ctx := context.Background()
	rec := func(workflow string, status store.Status, age time.Duration) string {
		at := time.Now().Add(-age)
		e := &store.Execution{ID: newExecutionID(t), Workflow: workflow, Mode: "sync", Status: status, Attempt: 1,
			Input: json.RawMessage(`{}`), CreatedAt: at, StartedAt: at, FinishedAt: at}
		if err := st.Record(ctx, []*store.Execution{e}); err != nil {
			t.Fatal(err)
		}
		return e.ID
	}
	old := rec("other", store.Succeeded, 3*time.Hour)
	fresh := rec("other", store.Failed, 10*time.Minute)
	keptLonger := rec("audited", store.Succeeded, 3*time.Hour)
	prunedSooner := rec("chatty", store.Succeeded, 20*time.Minute)
	wf := func(name string, retain time.Duration) *Workflow {
		return &Workflow{Spec: workflow.Spec{Name: name, Retain: retain}, NewArgs: func() bind.Args { return &echoArgs{} }}
	}
	srv, err := New(Options{Workflows: []*Workflow{wf("audited", 7*24*time.Hour), wf("chatty", 15*time.Minute)},
		Store: st, Retain: time.Hour, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(ctx)
	gone := func(id string) bool { _, err := st.Get(ctx, id); return err == store.ErrNotFound }
	deadline := time.Now().Add(10 * time.Second)
	for !(gone(old) && gone(prunedSooner)) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !gone(old) || !gone(prunedSooner) || gone(fresh) || gone(keptLonger) {
		t.Fatalf("after retention: old gone %v, chatty gone %v, fresh gone %v, audited gone %v",
			gone(old), gone(prunedSooner), gone(fresh), gone(keptLonger))
	}
}

func newExecutionID(t *testing.T) string {
	t.Helper()
	return uuid.Must(uuid.NewV7()).String()
}

// TestBackpressure (round 2, finding 9): with nothing working the queue, an
// async call past the pending cap, in all or of one workflow, is a 503
// with Retry-After, and nothing is stored for it.
func TestBackpressure(t *testing.T) {
	st := openTestStore(t)
	run := func(ctx context.Context, a *jobArgs) (bind.Result, error) { return bind.JSON(200, a.Value), nil }
	srv, err := New(Options{Workflows: []*Workflow{asyncWorkflow("a", 0, time.Minute, run), asyncWorkflow("b", 0, time.Minute, run)},
		Store: st, Workers: 0, MaxPending: 5, MaxPendingPerWorkflow: 3, Logger: discard, Auth: &auth.Config{EnvKey: testKey}})
	if err != nil {
		t.Fatal(err)
	}
	s := &execServer{store: st, srv: srv}
	s.url = startHandler(t, srv)
	post := func(name string) (int, http.Header) {
		status, h, _ := s.do(t, "POST", "/api/endpoints/"+name, `{"value":"v"}`)
		return status, h
	}
	for i := range 3 {
		if status, _ := post("a"); status != http.StatusAccepted {
			t.Fatalf("a #%d: %d", i+1, status)
		}
	}
	if status, h := post("a"); status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
		t.Fatalf("a past its cap of 3: %d, Retry-After %q", status, h.Get("Retry-After"))
	}
	for i := range 2 {
		if status, _ := post("b"); status != http.StatusAccepted {
			t.Fatalf("b #%d: %d", i+1, status)
		}
	}
	if status, _ := post("b"); status != http.StatusServiceUnavailable {
		t.Fatalf("b past the total cap of 5: %d", status)
	}
	total, _, err := st.CountPending(context.Background())
	if err != nil || total != 5 {
		t.Fatalf("pending: %d %v, want the 5 accepted", total, err)
	}
}

// TestListIsSummaries (round 2, finding 3): GET /api/executions lists
// summaries without input, result or logs, so the memory a page costs does
// not grow with what the executions hold: 20 executions of 1 MiB each are
// listed for well under 1 MiB of allocation and answer.
func TestListIsSummaries(t *testing.T) {
	st := openTestStore(t)
	big := json.RawMessage(`"` + strings.Repeat("x", 1<<20) + `"`)
	var execs []*store.Execution
	for range 20 {
		now := time.Now()
		execs = append(execs, &store.Execution{ID: newExecutionID(t), Workflow: "w", Mode: "sync", Status: store.Succeeded, Attempt: 1,
			Input: big, Result: big, Logs: []store.LogEntry{{Time: now, Level: "INFO", Message: strings.Repeat("y", 60000)}},
			CreatedAt: now, StartedAt: now, FinishedAt: now})
	}
	if err := st.Record(context.Background(), execs); err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Store: st, Logger: discard, Auth: &auth.Config{EnvKey: testKey}})
	if err != nil {
		t.Fatal(err)
	}
	s := &execServer{store: st, srv: srv}
	s.url = startHandler(t, srv)
	s.do(t, "GET", "/api/executions?limit=20", "") // warm up the connection and caches

	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	status, _, body := s.do(t, "GET", "/api/executions?limit=20", "")
	goruntime.ReadMemStats(&after)
	if status != 200 || strings.Count(string(body), `"id"`) != 20 {
		t.Fatalf("list: %d %.300s", status, body)
	}
	if bytes.Contains(body, []byte("xxxx")) || bytes.Contains(body, []byte("yyyy")) {
		t.Fatal("the list holds inputs, results or logs")
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("a page of 20 executions of 1 MiB each: %d bytes answered, %d bytes allocated", len(body), allocated)
	if len(body) > 20<<10 || allocated > 1<<20 {
		t.Errorf("a page answered %d bytes and allocated %d: it grows with what the executions hold", len(body), allocated)
	}
	if status, _, body := s.do(t, "GET", "/api/executions/"+execs[0].ID, ""); status != 200 || !bytes.Contains(body, []byte("xxxx")) {
		t.Errorf("one execution's own page has its input: %d %.100s", status, body)
	}
}
