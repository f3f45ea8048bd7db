package runtime_test

// The promise of bifrost.Step, with real processes: testdata/crashapp's
// three_steps workflow is killed with SIGKILL in the middle of its second
// step; after a restart (SQLite) or by a second worker (PostgreSQL), step
// one is not run again, step two runs again, step three runs once. Each
// step counts its runs in a file of its own.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/runtime/store/storetest"
)

// stepsRun is one three_steps execution and the directory its steps count in.
type stepsRun struct {
	id, dir string
}

// stepOf is a step of the executions API's record.
type stepOf struct {
	Name    string  `json:"name"`
	Status  string  `json:"status"`
	Attempt int     `json:"attempt"`
	Error   *string `json:"error"`
}

func startThreeSteps(t *testing.T, ctx context.Context, base string) stepsRun {
	t.Helper()
	run := stepsRun{dir: t.TempDir()}
	body, _ := json.Marshal(map[string]string{"dir": run.dir})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/endpoints/three_steps", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var acc struct {
		ExecutionID string `json:"execution_id"`
	}
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(raw, &acc) != nil || acc.ExecutionID == "" {
		t.Fatalf("POST three_steps: %d %s", resp.StatusCode, raw)
	}
	run.id = acc.ExecutionID
	return run
}

// runs is how many times step name ran: the lines of its file.
func (r stepsRun) runs(t *testing.T, name string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, name))
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

// waitInStepTwo waits until step two has started.
func (r stepsRun) waitInStepTwo(t *testing.T, ctx context.Context) {
	t.Helper()
	for r.runs(t, "two") == 0 {
		select {
		case <-ctx.Done():
			t.Fatalf("step two of %s did not start: %v", r.id, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (r stepsRun) release(t *testing.T) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, "release"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
}

// check verifies the ended execution against the step files and its record.
func (r stepsRun) check(t *testing.T, ctx context.Context, base string, finisher int) {
	t.Helper()
	e, err := waitEnd(ctx, base, r.id)
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != "succeeded" || e.Attempt != 2 {
		t.Fatalf("after the kill: %s, attempt %d, error %q; want succeeded, attempt 2", e.Status, e.Attempt, derefString(e.Error))
	}
	for name, want := range map[string]int{"one": 1, "two": 2, "three": 1} {
		if got := r.runs(t, name); got != want {
			t.Errorf("step %s ran %d times, want %d", name, got, want)
		}
	}
	var res struct {
		One   int    `json:"one"`
		Two   string `json:"two"`
		Three int    `json:"three"`
		PID   int    `json:"pid"`
	}
	if err := json.Unmarshal(e.Result, &res); err != nil {
		t.Fatal(err)
	}
	if res.One != 1 || res.Two != "released on run 2" || res.Three != 1 || res.PID != finisher {
		t.Errorf("result %s: want one 1 (recorded by attempt 1), two on run 2, three 1, pid %d", e.Result, finisher)
	}
	var rec struct {
		Steps []stepOf `json:"steps"`
	}
	if err := getJSON(ctx, base, "/api/executions/"+r.id, &rec); err != nil {
		t.Fatal(err)
	}
	want := []stepOf{{Name: "one", Status: "succeeded", Attempt: 1}, {Name: "two", Status: "succeeded", Attempt: 2}, {Name: "three", Status: "succeeded", Attempt: 2}}
	if fmt.Sprint(rec.Steps) != fmt.Sprint(want) {
		t.Errorf("steps %+v, want %+v", rec.Steps, want)
	}
}

// TestStepsSurviveKill9: SQLite, the same binary started again.
func TestStepsSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	bin := buildCrashApp(t)
	db := filepath.Join(t.TempDir(), "bifrost.db")

	first := startServe(t, bin, db, "serve#1")
	run := startThreeSteps(t, ctx, first.base)
	run.waitInStepTwo(t, ctx)
	first.kill9(t)
	run.release(t)

	second := startServe(t, bin, db, "serve#2")
	run.check(t, ctx, second.base, second.pid())
	// The CLI shows the steps too.
	out := runCLI(t, ctx, bin, "executions", "get", run.id, "--db", db)
	var shown struct {
		Steps []stepOf `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil || len(shown.Steps) != 3 || shown.Steps[0].Attempt != 1 {
		t.Errorf("executions get: %v, steps %+v; want the three steps, the first by attempt 1", err, shown.Steps)
	}
	checkNoErrors(t, second)
}

// TestPostgresStepsSurviveWorkerKill9: PostgreSQL, a second worker takes
// over the execution of the worker killed in step two.
func TestPostgresStepsSurviveWorkerKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	db := storetest.PostgresURL(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	bin := buildCrashApp(t)
	runCLI(t, ctx, bin, "migrate", "--db", db)
	api := startProc(t, bin, db, "replica", "serve", "--workers", "0")
	w1 := startProc(t, bin, db, "worker#1", "worker", "--workers", "1")

	run := startThreeSteps(t, ctx, api.base)
	run.waitInStepTwo(t, ctx)
	w2 := startProc(t, bin, db, "worker#2", "worker", "--workers", "1")
	w1.kill9(t)
	killed := time.Now()
	run.release(t)

	run.check(t, ctx, api.base, w2.pid())
	t.Logf("worker#2 finished the execution %s after the kill", time.Since(killed).Round(time.Millisecond))
	w2.term(t)
	api.term(t)
	checkNoErrors(t, w2)
	checkNoErrors(t, api)
}
