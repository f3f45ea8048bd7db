package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/runtime/auth"
	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/workflow"
)

// jobArgs are the inputs of the test's async workflows, stored as JSON like
// a generated args struct.
type jobArgs struct {
	Value string `json:"value"`
	run   func(ctx context.Context, a *jobArgs) (bind.Result, error)
}

func (a *jobArgs) Invoke(ctx context.Context) (bind.Result, error) { return a.run(ctx, a) }

// asyncWorkflow is an async endpoint whose runs call run.
func asyncWorkflow(name string, retries int, timeout time.Duration, run func(ctx context.Context, a *jobArgs) (bind.Result, error)) *Workflow {
	newArgs := func() bind.Args { return &jobArgs{run: run} }
	return &Workflow{
		Spec: workflow.Spec{
			Name:     name,
			Endpoint: true,
			Methods:  []string{"POST"},
			Mode:     workflow.Async,
			Retries:  retries,
			Timeout:  timeout,
			Body:     workflow.BodyDecoded,
		},
		Decode: func(in *bind.Input) (bind.Args, error) {
			a := newArgs().(*jobArgs)
			if in.Kind == bind.JSONBody {
				if err := json.Unmarshal(in.Body(), a); err != nil {
					return nil, &bifrost.Error{Status: 400, Errors: []bifrost.FieldError{{Location: "body", Message: "malformed JSON"}}}
				}
			}
			return a, nil
		},
		NewArgs: newArgs,
	}
}

// testKey is the environment key of the test servers: a global credential.
const testKey = "test-env-key-0123456789"

// authConfigKey is the auth configuration of the test servers.
var authConfigKey = auth.Config{EnvKey: testKey}

var discard = slog.New(slog.DiscardHandler)

// startHandler starts srv's workers and serves it; both stop with the test.
func startHandler(t *testing.T, srv *Server) string {
	t.Helper()
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		_ = srv.Shutdown(context.Background())
	})
	return ts.URL
}

type execServer struct {
	url   string
	store store.Store
	srv   *Server
}

func newExecServer(t *testing.T, workflows ...*Workflow) *execServer {
	t.Helper()
	st := openStore(t, "")
	srv := startServer(t, Options{Workflows: workflows, Logger: slog.New(slog.DiscardHandler), Store: st, Workers: 4,
		Auth: &auth.Config{EnvKey: testKey}})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		drain(t, srv, 10*time.Second)
		st.Close()
	})
	return &execServer{url: ts.URL, store: st, srv: srv}
}

func (s *execServer) do(t *testing.T, method, path, body string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return send(t, req)
}

// start calls an async workflow and checks the 202.
func (s *execServer) start(t *testing.T, workflow, body string, header ...string) string {
	t.Helper()
	status, h, b := s.do(t, "POST", "/api/endpoints/"+workflow, body, header...)
	if status != http.StatusAccepted {
		t.Fatalf("POST %s: %d %s", workflow, status, b)
	}
	var a accepted
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	url := "/api/executions/" + a.ExecutionID
	if a.ExecutionID == "" || a.StatusURL != url || h.Get("Location") != url || h.Get(HeaderExecutionID) != a.ExecutionID {
		t.Fatalf("202 %s with Location %q, %s %q", b, h.Get("Location"), HeaderExecutionID, h.Get(HeaderExecutionID))
	}
	return a.ExecutionID
}

// view reads an execution through the API, waiting up to wait for its end.
func (s *execServer) view(t *testing.T, id, wait string) executionView {
	t.Helper()
	status, _, b := s.do(t, "GET", "/api/executions/"+id+"?wait="+wait, "")
	if status != http.StatusOK {
		t.Fatalf("GET execution %s: %d %s", id, status, b)
	}
	var v executionView
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestAsyncLifecycle(t *testing.T) {
	var flakyRuns atomic.Int32
	started := make(chan struct{}, 1)
	s := newExecServer(t,
		asyncWorkflow("ok", 0, time.Minute, func(ctx context.Context, a *jobArgs) (bind.Result, error) {
			bifrost.Logger(ctx).Info("working", "value", a.Value)
			return bind.JSON(200, map[string]string{"echo": a.Value}), nil
		}),
		asyncWorkflow("fails", 0, time.Minute, func(ctx context.Context, a *jobArgs) (bind.Result, error) {
			return bind.Result{}, errors.New("the database said no")
		}),
		asyncWorkflow("slow", 0, 100*time.Millisecond, func(ctx context.Context, a *jobArgs) (bind.Result, error) {
			<-ctx.Done()
			return bind.Result{}, ctx.Err()
		}),
		asyncWorkflow("waits", 0, time.Minute, func(ctx context.Context, a *jobArgs) (bind.Result, error) {
			started <- struct{}{}
			<-ctx.Done()
			return bind.Result{}, ctx.Err()
		}),
		asyncWorkflow("flaky", 2, time.Minute, func(ctx context.Context, a *jobArgs) (bind.Result, error) {
			if flakyRuns.Add(1) == 1 {
				return bind.Result{}, errors.New("first attempt fails")
			}
			return bind.JSON(200, "second time lucky"), nil
		}),
	)

	t.Run("succeeded", func(t *testing.T) {
		id := s.start(t, "ok", `{"value":"v1"}`)
		v := s.view(t, id, "10s")
		if v.Status != store.Succeeded || v.Attempt != 1 || v.Mode != "async" || v.Workflow != "ok" || v.Error != nil {
			t.Fatalf("%+v", v)
		}
		if string(v.Result) != `{"echo":"v1"}` || !strings.Contains(string(v.Input), `"value":"v1"`) {
			t.Errorf("input %s result %s", v.Input, v.Result)
		}
		if len(v.Logs) != 1 || v.Logs[0].Message != "working" || v.Logs[0].Attrs["value"] != "v1" || v.Logs[0].Level != "INFO" {
			t.Errorf("logs %+v", v.Logs)
		}
		checkTimes(t, v)
	})
	t.Run("failed keeps the real message", func(t *testing.T) {
		v := s.view(t, s.start(t, "fails", `{}`), "10s")
		if v.Status != store.Failed || v.Error == nil || *v.Error != "the database said no" || v.Attempt != 1 {
			t.Fatalf("%+v", v)
		}
		checkTimes(t, v)
	})
	t.Run("timed out", func(t *testing.T) {
		v := s.view(t, s.start(t, "slow", `{}`), "10s")
		if v.Status != store.TimedOut || v.Error == nil || !strings.Contains(*v.Error, "timeout") {
			t.Fatalf("%+v", v)
		}
	})
	t.Run("cancelled while running", func(t *testing.T) {
		id := s.start(t, "waits", `{}`)
		<-started
		status, _, b := s.do(t, "POST", "/api/executions/"+id+"/cancel", "")
		if status != http.StatusAccepted {
			t.Fatalf("cancel: %d %s", status, b)
		}
		v := s.view(t, id, "10s")
		if v.Status != store.Cancelled || v.FinishedAt == nil {
			t.Fatalf("%+v", v)
		}
	})
	t.Run("retried then succeeded", func(t *testing.T) {
		v := s.view(t, s.start(t, "flaky", `{}`), "20s")
		if v.Status != store.Succeeded || v.Attempt != 2 || string(v.Result) != `"second time lucky"` {
			t.Fatalf("%+v", v)
		}
	})
	t.Run("unknown id", func(t *testing.T) {
		for _, path := range []string{"/api/executions/nope", "/api/executions/nope?wait=1s"} {
			if status, h, _ := s.do(t, "GET", path, ""); status != 404 || h.Get("Content-Type") != ContentTypeProblem {
				t.Errorf("GET %s: %d", path, status)
			}
		}
		if status, _, _ := s.do(t, "POST", "/api/executions/nope/cancel", ""); status != 404 {
			t.Errorf("cancel unknown: %d", status)
		}
	})
	t.Run("bad wait", func(t *testing.T) {
		if status, _, b := s.do(t, "GET", "/api/executions/x?wait=soon", ""); status != 400 || !strings.Contains(string(b), "query.wait") {
			t.Errorf("%d %s", status, b)
		}
	})
	t.Run("400 before any 202", func(t *testing.T) {
		status, _, b := s.do(t, "POST", "/api/endpoints/ok", `{"value":`)
		if status != 400 {
			t.Fatalf("%d %s", status, b)
		}
		list, _, _ := s.store.List(context.Background(), store.Filter{Workflow: "ok"})
		for _, e := range list {
			if strings.Contains(string(e.Input), "{\"value\":") && e.Status == store.Pending {
				t.Fatalf("a refused call left an execution: %+v", e)
			}
		}
	})
}

func checkTimes(t *testing.T, v executionView) {
	t.Helper()
	parse := func(s *string) time.Time {
		if s == nil {
			t.Fatalf("a time is missing: %+v", v)
		}
		tm, err := time.Parse(time.RFC3339Nano, *s)
		if err != nil || tm.Location() != time.UTC {
			t.Fatalf("time %q: %v", *s, err)
		}
		return tm
	}
	created, started, finished := parse(&v.CreatedAt), parse(v.StartedAt), parse(v.FinishedAt)
	if started.Before(created) || finished.Before(started) || v.DurationMS == nil || *v.DurationMS < 0 {
		t.Errorf("times out of order: %+v", v)
	}
}

func TestCancelPending(t *testing.T) {
	// No workers: the execution stays pending until cancelled.
	st := openStore(t, "")
	defer st.Close()
	wf := asyncWorkflow("later", 0, time.Minute, func(ctx context.Context, a *jobArgs) (bind.Result, error) { return bind.JSON(200, 1), nil })
	srv, err := New(Options{Workflows: []*Workflow{wf}, Logger: slog.New(slog.DiscardHandler), Store: st,
		Auth: &auth.Config{EnvKey: testKey}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	defer srv.Shutdown(context.Background())
	s := &execServer{url: ts.URL, store: st, srv: srv}
	id := s.start(t, "later", `{}`)
	if v := s.view(t, id, "0s"); v.Status != store.Pending || v.Attempt != 0 || v.StartedAt != nil {
		t.Fatalf("%+v", v)
	}
	status, _, b := s.do(t, "POST", "/api/executions/"+id+"/cancel", "")
	var v executionView
	_ = json.Unmarshal(b, &v)
	if status != 202 || v.Status != store.Cancelled || v.FinishedAt == nil {
		t.Fatalf("cancel: %d %s", status, b)
	}
}

// TestIdempotencyUnderConcurrency: 20 calls at once with one key start one
// execution. Each answers 202 with it, or 409 with Retry-After while the
// first is being accepted (the IETF Idempotency-Key draft), and a retry of a
// 409 answers 202 with the same execution. The key with another body is a
// 422; another key starts another execution.
func TestIdempotencyUnderConcurrency(t *testing.T) {
	var runs atomic.Int32
	s := newExecServer(t, asyncWorkflow("once", 0, time.Minute, func(ctx context.Context, a *jobArgs) (bind.Result, error) {
		runs.Add(1)
		return bind.JSON(200, "done"), nil
	}))
	ids := make(chan string, 20)
	conflicts := make(chan http.Header, 20)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			status, h, b := s.do(t, "POST", "/api/endpoints/once", `{"value":"x"}`, HeaderIdempotencyKey, "order-42")
			switch status {
			case http.StatusAccepted:
				ids <- h.Get(HeaderExecutionID)
			case http.StatusConflict:
				conflicts <- h
			default:
				t.Errorf("POST once: %d %s", status, b)
			}
		})
	}
	wg.Wait()
	close(ids)
	close(conflicts)
	distinct := map[string]bool{}
	for id := range ids {
		distinct[id] = true
	}
	for h := range conflicts {
		if h.Get("Retry-After") != "1" {
			t.Errorf("a 409 without Retry-After: %v", h)
		}
		distinct[s.start(t, "once", `{"value":"x"}`, HeaderIdempotencyKey, "order-42")] = true // the retry
	}
	if len(distinct) != 1 {
		t.Fatalf("20 calls with one key started %d executions", len(distinct))
	}
	for id := range distinct {
		if v := s.view(t, id, "10s"); v.Status != store.Succeeded {
			t.Fatalf("%+v", v)
		}
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("the workflow ran %d times", n)
	}
	if status, _, b := s.do(t, "POST", "/api/endpoints/once", `{"value":"y"}`, HeaderIdempotencyKey, "order-42"); status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(b), "another request") {
		t.Fatalf("the key with another body: %d %s, want 422", status, b)
	}
	other := s.start(t, "once", `{}`, HeaderIdempotencyKey, "order-43")
	if distinct[other] {
		t.Fatal("another key returned the first execution")
	}
}

func TestSyncExecutionsAreRecorded(t *testing.T) {
	hello := &Workflow{
		Spec: workflow.Spec{
			Name:     "hello",
			Endpoint: true,
			Methods:  []string{"GET"},
			Timeout:  time.Minute,
		},
		Decode: constant(func(ctx context.Context) (bind.Result, error) {
			bifrost.Logger(ctx).Info("said hello")
			return bind.JSON(200, "hi"), nil
		}),
	}
	boom := &Workflow{
		Spec: workflow.Spec{
			Name:     "boom",
			Endpoint: true,
			Methods:  []string{"GET"},
			Timeout:  time.Minute,
		},
		Decode: constant(func(ctx context.Context) (bind.Result, error) { return bind.Result{}, errors.New("secret cause") }),
	}
	s := newExecServer(t, hello, boom)
	_, h, _ := s.do(t, "GET", "/api/endpoints/hello", "")
	okID := h.Get(HeaderExecutionID)
	status, h, b := s.do(t, "GET", "/api/endpoints/boom", "")
	failID := h.Get(HeaderExecutionID)
	if status != 500 || strings.Contains(string(b), "secret cause") {
		t.Fatalf("a sync failure: %d %s", status, b)
	}
	v := s.view(t, okID, "5s") // the record is written after the answer, in a batch
	if v.Status != store.Succeeded || v.Mode != "sync" || string(v.Result) != `"hi"` || len(v.Logs) != 1 || v.Attempt != 1 {
		t.Fatalf("%+v", v)
	}
	v = s.view(t, failID, "5s")
	if v.Status != store.Failed || v.Error == nil || *v.Error != "secret cause" {
		t.Fatalf("%+v", v)
	}
}

func TestListExecutions(t *testing.T) {
	s := newExecServer(t, asyncWorkflow("a", 0, time.Minute, func(ctx context.Context, a *jobArgs) (bind.Result, error) {
		return bind.JSON(200, a.Value), nil
	}))
	var want []string
	for i := range 7 {
		want = append(want, s.start(t, "a", fmt.Sprintf(`{"value":"%d"}`, i)))
	}
	for _, id := range want {
		s.view(t, id, "10s")
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		status, _, b := s.do(t, "GET", "/api/executions?workflow=a&status=succeeded&limit=3&cursor="+cursor, "")
		if status != 200 || pages > 5 {
			t.Fatalf("%d %s", status, b)
		}
		var page struct {
			Executions []executionView `json:"executions"`
			NextCursor string          `json:"next_cursor"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatal(err)
		}
		for i, e := range page.Executions {
			if seen[e.ID] {
				t.Fatalf("%s listed twice", e.ID)
			}
			seen[e.ID] = true
			if i > 0 && e.ID > page.Executions[i-1].ID {
				t.Fatal("not newest first")
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("listed %d of %d", len(seen), len(want))
	}
	for _, q := range []string{"status=done", "limit=0", "limit=x"} {
		if status, _, _ := s.do(t, "GET", "/api/executions?"+q, ""); status != 400 {
			t.Errorf("%s: %d, want 400", q, status)
		}
	}
}
