package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/runtime/auth"
	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/workflow"
)

// replayServer serves an async and a sync workflow that echo their input,
// and a third that a scoped key may call, on the store onEachStore chose.
func replayServer(t *testing.T, opts Options) *execServer {
	t.Helper()
	echoValue := func(ctx context.Context, a *jobArgs) (bind.Result, error) {
		return bind.JSON(200, map[string]string{"echo": a.Value}), nil
	}
	syncWf := asyncWorkflow("sync_echo", 0, time.Minute, echoValue)
	syncWf.Mode = workflow.Sync
	st := openTestStore(t)
	opts.Workflows = []*Workflow{asyncWorkflow("async_echo", 0, time.Minute, echoValue), syncWf,
		asyncWorkflow("other", 0, time.Minute, echoValue)}
	opts.Logger, opts.Store, opts.Auth = discard, st, &auth.Config{EnvKey: testKey}
	srv := startServer(t, opts)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		drain(t, srv, 10*time.Second)
		st.Close()
	})
	return &execServer{url: ts.URL, store: st, srv: srv}
}

// replay asks for a replay of id and returns its status, headers and body.
func (s *execServer) replay(t *testing.T, id string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	return s.do(t, "POST", "/api/executions/"+id+"/replay", "", header...)
}

// mustReplay replays id, checks the 202 and returns the new execution's id.
func (s *execServer) mustReplay(t *testing.T, id string) string {
	t.Helper()
	status, h, b := s.replay(t, id)
	if status != http.StatusAccepted {
		t.Fatalf("replay: %d %s", status, b)
	}
	var a accepted
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	url := "/api/executions/" + a.ExecutionID
	if !validID(a.ExecutionID) || a.Status != store.Pending || a.StatusURL != url || h.Get("Location") != url {
		t.Fatalf("replay 202 %s, Location %q", b, h.Get("Location"))
	}
	return a.ExecutionID
}

func TestReplay(t *testing.T) {
	onEachStore(t, func(t *testing.T) {
		s := replayServer(t, Options{Workers: 2})
		t.Run("async original", func(t *testing.T) {
			orig := s.start(t, "async_echo", `{"value":"again"}`)
			s.view(t, orig, "10s")
			id := s.mustReplay(t, orig)
			v := s.view(t, id, "10s")
			if v.Status != store.Succeeded || v.Trigger != store.TriggerReplay || v.ReplayOf != orig || v.Mode != "async" ||
				string(v.Result) != `{"echo":"again"}` || !strings.Contains(string(v.Input), `"value":"again"`) {
				t.Fatalf("replay %+v", v)
			}
			id2 := s.mustReplay(t, orig)
			s.view(t, id2, "10s")
			if o := s.view(t, orig, ""); !slices.Equal(o.Replays, []string{id2, id}) || o.Trigger != store.TriggerHTTP {
				t.Errorf("original's replays %v trigger %q, want [%s %s] http", o.Replays, o.Trigger, id2, id)
			}
		})
		t.Run("sync original runs on the queue", func(t *testing.T) {
			status, h, b := s.do(t, "POST", "/api/endpoints/sync_echo", `{"value":"s"}`)
			if status != 200 {
				t.Fatalf("sync call: %d %s", status, b)
			}
			orig := h.Get(HeaderExecutionID)
			s.view(t, orig, "5s") // waits for the record
			v := s.view(t, s.mustReplay(t, orig), "10s")
			if v.Status != store.Succeeded || v.Mode != "async" || v.ReplayOf != orig || string(v.Result) != `{"echo":"s"}` {
				t.Fatalf("replay of a sync execution %+v", v)
			}
		})
		t.Run("who may not replay", func(t *testing.T) {
			orig := s.start(t, "async_echo", `{"value":"x"}`)
			_, scoped, err := auth.CreateKey(context.Background(), s.store, []string{"other"}, 0, "scoped")
			if err != nil {
				t.Fatal(err)
			}
			unknown := formatID([16]byte{0x01, 0x90, 6: 0x70, 8: 0x80})
			for _, tc := range []struct {
				name, id string
				header   []string
				want     int
			}{
				{"unknown id", unknown, nil, 404},
				{"not an id", "nope", nil, 404},
				{"key scoped to another workflow", orig, []string{"Authorization", "Bearer " + scoped}, 404},
				{"scoped key, unknown id", unknown, []string{"Authorization", "Bearer " + scoped}, 404},
				{"no credential", orig, []string{"Authorization", ""}, 401},
				{"wrong key", orig, []string{"Authorization", "Bearer nope"}, 401},
			} {
				status, h, b := s.replay(t, tc.id, tc.header...)
				if status != tc.want || h.Get("Content-Type") != ContentTypeProblem {
					t.Errorf("%s: %d %s, want %d problem", tc.name, status, b, tc.want)
				}
			}
		})
	})
}

func TestReplayRefusals(t *testing.T) {
	onEachStore(t, func(t *testing.T) {
		// No workers: accepted executions stay pending, so the cap is reached.
		s := replayServer(t, Options{StoreLimit: 64, MaxPending: 2})
		status, h, b := s.do(t, "POST", "/api/endpoints/sync_echo", `{"value":"`+strings.Repeat("x", 100)+`"}`)
		if status != 200 {
			t.Fatalf("sync call: %d %s", status, b)
		}
		big := h.Get(HeaderExecutionID)
		s.view(t, big, "5s")
		status, _, b = s.replay(t, big)
		if status != http.StatusConflict || !strings.Contains(string(b), "cut at the store limit") {
			t.Errorf("replay of a cut input: %d %s, want 409 naming the limit", status, b)
		}

		orig := s.start(t, "async_echo", `{"value":"p"}`)
		s.mustReplay(t, orig) // the second pending execution: at the cap now
		time.Sleep(pendingRefresh + 100*time.Millisecond)
		status, h, b = s.replay(t, orig)
		if status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
			t.Errorf("replay past the pending cap: %d %s Retry-After %q, want 503 with Retry-After", status, b, h.Get("Retry-After"))
		}
	})
}

// TestReplayCommand: `executions replay ID` puts a replay on the queue of
// the database, and a server's workers on it run it.
func TestReplayCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bifrost.db")
	echoValue := func(ctx context.Context, a *jobArgs) (bind.Result, error) {
		return bind.JSON(200, map[string]string{"echo": a.Value}), nil
	}
	wf := asyncWorkflow("sync_echo", 0, time.Minute, echoValue)
	wf.Mode = workflow.Sync
	st := openStore(t, db)
	orig := &store.Execution{ID: newExecutionID(t), Workflow: "sync_echo", Mode: "sync", Status: store.Succeeded, Attempt: 1,
		Input: json.RawMessage(`{"value":"cli"}`), CreatedAt: time.Now(), StartedAt: time.Now(), FinishedAt: time.Now()}
	cut := &store.Execution{ID: newExecutionID(t), Workflow: "sync_echo", Mode: "sync", Status: store.Succeeded, Attempt: 1,
		Input: capJSON(json.RawMessage(`{"value":"`+strings.Repeat("x", 100)+`"}`), 10), CreatedAt: time.Now()}
	if err := st.Record(context.Background(), []*store.Execution{orig, cut}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"app", "executions", "replay", orig.ID, "--db", db}, &out, &errOut, []*Workflow{wf}); code != 0 {
		t.Fatalf("replay: exit %d %s", code, errOut.String())
	}
	var v executionView
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		t.Fatalf("replay printed %q: %v", out.String(), err)
	}
	if v.ReplayOf != orig.ID || v.Trigger != store.TriggerReplay || v.Status != store.Pending || v.Mode != "async" {
		t.Fatalf("replay printed %+v", v)
	}
	for _, id := range []string{cut.ID, newExecutionID(t)} {
		errOut.Reset()
		if code := run(context.Background(), []string{"app", "executions", "replay", id, "--db", db}, &out, &errOut, []*Workflow{wf}); code != 1 {
			t.Errorf("replay %s: exit %d, want 1", id, code)
		}
	}
	if !strings.Contains(errOut.String(), "not found") {
		t.Errorf("replay of an unknown id said %q", errOut.String())
	}

	st = openStore(t, db)
	srv := startServer(t, Options{Workflows: []*Workflow{wf}, Logger: discard, Store: st, Workers: 1, Auth: &auth.Config{EnvKey: testKey}})
	defer drain(t, srv, 10*time.Second)
	e, err := srv.engine.wait(context.Background(), v.ID, 10*time.Second)
	if err != nil || e.Status != store.Succeeded || string(e.Result) != `{"echo":"cli"}` {
		t.Fatalf("the replay ran to %+v, %v", e, err)
	}
}
