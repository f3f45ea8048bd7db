package runtime_test

// Multi-process tests on PostgreSQL (docs/deploy.md): `serve --workers 0`
// replicas and `worker` processes of testdata/crashapp share one database,
// as they do behind a load balancer. They need BIFROST_TEST_POSTGRES_URL
// (each test creates its own database through it) and skip, saying so,
// without it.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/runtime/store/storetest"
)

// startProc starts `crashapp <command> --db db args...` and waits until it
// is ready: its "listening" line for serve, its "working" line for worker.
func startProc(t *testing.T, bin, db, name, command string, args ...string) *server {
	t.Helper()
	s := &server{name: name, log: newProcLog(), done: make(chan struct{})}
	all := []string{command, "--db", db}
	if command == "serve" {
		all = append(all, "--addr", "127.0.0.1:0")
	}
	s.cmd = exec.Command(bin, append(all, args...)...)
	s.cmd.Dir = t.TempDir()
	s.cmd.Env = childEnv()
	s.cmd.Stdout = s.log
	s.cmd.Stderr = s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = s.cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("%s (pid %d) log:\n%s", name, s.cmd.Process.Pid, tail(s.log.String(), 40))
		}
	})
	deadline := time.After(30 * time.Second)
	if command == "serve" {
		select {
		case addr := <-s.log.addr:
			s.base = "http://" + addr
		case <-s.done:
			t.Fatalf("%s exited before listening: %v\n%s", name, s.err, s.log)
		case <-deadline:
			t.Fatalf("%s did not log a listening line within 30s\n%s", name, s.log)
		}
		return s
	}
	for len(s.log.lines("working")) == 0 {
		select {
		case <-s.done:
			t.Fatalf("%s exited before working: %v\n%s", name, s.err, s.log)
		case <-deadline:
			t.Fatalf("%s did not log a working line within 30s\n%s", name, s.log)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return s
}

// term sends SIGTERM and waits for a clean exit.
func (p *server) term(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM %s: %v", p.name, err)
	}
	select {
	case <-p.done:
	case <-time.After(40 * time.Second):
		t.Fatalf("%s still runs 40s after SIGTERM", p.name)
	}
	if p.err != nil {
		t.Errorf("%s exited with %v after SIGTERM; want 0", p.name, p.err)
	}
}

// runCLI runs `crashapp args...` and returns its stdout.
func runCLI(t *testing.T, ctx context.Context, bin string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = childEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("crashapp %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return string(out)
}

// postSleepy POSTs sleepy with headers and returns the status and the
// execution id of the answer.
func postSleepy(ctx context.Context, base string, ms int, tag string, header http.Header) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/endpoints/sleepy",
		strings.NewReader(fmt.Sprintf(`{"ms":%d,"tag":%q}`, ms, tag)))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+apiKey)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", err
	}
	var acc struct {
		ExecutionID string `json:"execution_id"`
	}
	_ = json.Unmarshal(raw, &acc)
	if acc.ExecutionID == "" {
		return resp.StatusCode, "", fmt.Errorf("POST sleepy: %d %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, acc.ExecutionID, nil
}

// statusWithKey GETs the executions list (global credentials only) with key.
func statusWithKey(ctx context.Context, base, key string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/executions?limit=1", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-Bifrost-Key", key)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// runsOf counts, per execution id, the runs a worker's log shows (sleepy
// logs "sleeping" as each run starts).
func runsOf(logs ...*procLog) map[string]int {
	runs := map[string]int{}
	for _, l := range logs {
		for _, line := range l.lines("sleeping") {
			if id, ok := line["execution_id"].(string); ok {
				runs[id]++
			}
		}
	}
	return runs
}

// TestPostgresReplicas: two `serve --workers 0` replicas and one `worker` on
// one database. An async call accepted by replica A is run by the worker and
// read back from replica B with ?wait=; an Idempotency-Key sent to both
// replicas at once starts one execution; a key revoked with `keys revoke`
// is refused by B within the key cache's 5 seconds; all three stop cleanly
// on SIGTERM.
func TestPostgresReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	db := storetest.PostgresURL(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	bin := buildCrashApp(t)
	runCLI(t, ctx, bin, "migrate", "--db", db)
	a := startProc(t, bin, db, "replica-a", "serve", "--workers", "0")
	b := startProc(t, bin, db, "replica-b", "serve", "--workers", "0")
	w := startProc(t, bin, db, "worker", "worker", "--workers", "4")

	t.Run("accepted_by_a_run_by_the_worker_read_from_b", func(t *testing.T) {
		id, err := callSleepy(t, ctx, a.base, 300, "across")
		if err != nil {
			t.Fatal(err)
		}
		asked := time.Now()
		e, err := getExecution(ctx, b.base, id, "30s")
		if err != nil {
			t.Fatal(err)
		}
		answered := time.Now()
		if e.Status != "succeeded" || e.Attempt != 1 {
			t.Fatalf("B ?wait=30s answered %s, attempt %d; want succeeded, 1", e.Status, e.Attempt)
		}
		var r struct {
			Tag   string    `json:"tag"`
			PID   int       `json:"pid"`
			Ended time.Time `json:"ended"`
		}
		if err := json.Unmarshal(e.Result, &r); err != nil {
			t.Fatal(err)
		}
		if r.Tag != "across" || r.PID != w.pid() {
			t.Errorf("result %s: want tag across, run by the worker (pid %d)", e.Result, w.pid())
		}
		// The notification wakes B's long-poll: it answers soon after the
		// run ends, not at its next poll of the store.
		t.Logf("B answered %s after the call, %s after the run ended", answered.Sub(asked).Round(time.Millisecond), answered.Sub(r.Ended).Round(time.Millisecond))
		if late := answered.Sub(r.Ended); late > 2*time.Second {
			t.Errorf("B's ?wait= answered %s after the run ended", late)
		}
	})

	t.Run("idempotency_key_across_replicas_is_one_execution", func(t *testing.T) {
		const calls = 12
		var wg sync.WaitGroup
		ids := make([]string, calls)
		statuses := make([]int, calls)
		errs := make([]error, calls)
		key := fmt.Sprintf("order-%d", time.Now().UnixNano())
		for i := range calls {
			base := a.base
			if i%2 == 1 {
				base = b.base
			}
			wg.Go(func() {
				statuses[i], ids[i], errs[i] = postSleepy(ctx, base, 50, "idem", http.Header{"Idempotency-Key": {key}})
			})
		}
		wg.Wait()
		distinct := map[string]bool{}
		for i := range calls {
			if errs[i] == nil && statuses[i] == http.StatusConflict { // the first with this key was being accepted here: retry
				base := a.base
				if i%2 == 1 {
					base = b.base
				}
				statuses[i], ids[i], errs[i] = postSleepy(ctx, base, 50, "idem", http.Header{"Idempotency-Key": {key}})
			}
			if errs[i] != nil || statuses[i] != http.StatusAccepted {
				t.Fatalf("call %d: %d %v; want 202 (or 409, then 202 on a retry)", i, statuses[i], errs[i])
			}
			distinct[ids[i]] = true
		}
		if len(distinct) != 1 {
			t.Fatalf("%d executions for one Idempotency-Key sent to both replicas: %v", len(distinct), distinct)
		}
		e, err := waitEnd(ctx, b.base, ids[0])
		if err != nil || e.Status != "succeeded" {
			t.Fatalf("the execution: %+v, %v; want succeeded", e, err)
		}
		// Once, in the store and in the worker's runs.
		all, err := listAll(ctx, a.base)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, x := range all {
			var in struct{ Tag string }
			_ = json.Unmarshal(x.Input, &in)
			if in.Tag == "idem" {
				n++
			}
		}
		if n != 1 || runsOf(w.log)[ids[0]] != 1 {
			t.Errorf("%d executions stored, %d runs; want 1 and 1", n, runsOf(w.log)[ids[0]])
		}
	})

	t.Run("key_revoked_through_the_cli_is_refused_by_b_within_5s", func(t *testing.T) {
		key := strings.TrimSpace(runCLI(t, ctx, bin, "keys", "create", "--db", db, "--description", "revoked in a test"))
		for _, s := range []*server{a, b} {
			if code, err := statusWithKey(ctx, s.base, key); err != nil || code != http.StatusOK {
				t.Fatalf("%s with the new key: %d %v; want 200", s.name, code, err)
			}
		}
		// B has just read the key: its cache holds it as live for up to 5s.
		runCLI(t, ctx, bin, "keys", "revoke", key, "--db", db)
		revoked := time.Now()
		for {
			code, err := statusWithKey(ctx, b.base, key)
			if err != nil {
				t.Fatal(err)
			}
			if code == http.StatusUnauthorized {
				break
			}
			if code != http.StatusOK {
				t.Fatalf("B answered %d for the revoked key", code)
			}
			if time.Since(revoked) > 7*time.Second {
				t.Fatalf("B still accepts the key %s after its revocation", time.Since(revoked).Round(time.Millisecond))
			}
			time.Sleep(50 * time.Millisecond)
		}
		took := time.Since(revoked)
		t.Logf("B refused the revoked key %s after the revocation", took.Round(time.Millisecond))
		if took > 5*time.Second+500*time.Millisecond {
			t.Errorf("B refused the revoked key only %s after the revocation; the promise is 5s", took.Round(time.Millisecond))
		}
		if code, _ := statusWithKey(ctx, a.base, key); code != http.StatusUnauthorized {
			t.Errorf("A answered %d for the revoked key; want 401", code)
		}
	})

	t.Run("sigterm_stops_each_process_cleanly", func(t *testing.T) {
		w.term(t)
		a.term(t)
		b.term(t)
		for _, p := range []*server{a, b, w} {
			checkNoErrors(t, p)
		}
		// The worker removed its liveness row.
		conn, err := sql.Open("pgx", db)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var n int
		if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM bifrost_workers`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d worker rows left after the worker stopped; want 0", n)
		}
	})
}

// TestPostgresWorkerKill9: a worker killed with SIGKILL in the middle of an
// execution; a second worker re-runs it (attempt 2) within the liveness
// promise, and every other execution of the batch ends once: nothing lost,
// nothing run twice to completion.
func TestPostgresWorkerKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	db := storetest.PostgresURL(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	bin := buildCrashApp(t)
	runCLI(t, ctx, bin, "migrate", "--db", db)
	a := startProc(t, bin, db, "replica", "serve", "--workers", "0")
	w1 := startProc(t, bin, db, "worker#1", "worker", "--workers", "4")

	long, err := callSleepy(t, ctx, a.base, 4000, "victim")
	if err != nil {
		t.Fatal(err)
	}
	if e := waitStatus(t, ctx, a.base, long, "running"); e.Status != "running" || e.Attempt != 1 {
		t.Fatalf("before the kill: %s, attempt %d; want running, 1", e.Status, e.Attempt)
	}
	// A batch around the kill: some run on worker#1, some wait for worker#2.
	tags := map[string]string{long: "victim"}
	for i := range 20 {
		tag := fmt.Sprintf("batch-%02d", i)
		id, err := callSleepy(t, ctx, a.base, 100+i*10, tag)
		if err != nil {
			t.Fatal(err)
		}
		tags[id] = tag
	}
	w2 := startProc(t, bin, db, "worker#2", "worker", "--workers", "4")
	w1.kill9(t)
	killed := time.Now()

	e, err := waitEnd(ctx, a.base, long)
	if err != nil {
		t.Fatal(err)
	}
	after := time.Since(killed)
	t.Logf("the execution killed with worker#1 ended %s after the kill: %s, attempt %d", after.Round(time.Millisecond), e.Status, e.Attempt)
	if e.Status != "succeeded" || e.Attempt != 2 {
		t.Fatalf("after the kill: %s, attempt %d, error %v; want succeeded, attempt 2", e.Status, e.Attempt, derefString(e.Error))
	}
	if r := e.sleepy(t); r.Tag != "victim" || r.PID != w2.pid() {
		t.Errorf("result %s: want tag victim, run by worker#2 (pid %d)", e.Result, w2.pid())
	}
	// Re-run within 60s of the death (worker#2 was there all along), minus
	// the 4s of the re-run itself.
	if after > 64*time.Second {
		t.Errorf("re-run ended %s after the kill; the promise is a re-run within 60s", after.Round(time.Second))
	}
	if len(w2.log.lines("re-running executions of dead workers")) == 0 {
		t.Errorf("worker#2 did not log that it re-ran the executions of a dead worker")
	}

	// Every execution ends succeeded, once in the store; an execution ran
	// twice only if worker#1 died in its middle, and then its record says
	// attempt 2 and worker#2 finished it.
	ended := map[string]execution{}
	for id := range tags {
		e, err := waitEnd(ctx, a.base, id)
		if err != nil {
			t.Fatal(err)
		}
		ended[id] = e
	}
	runs := runsOf(w1.log, w2.log) // once every run has ended
	for id, tag := range tags {
		e := ended[id]
		if e.Status != "succeeded" || e.sleepy(t).Tag != tag {
			t.Errorf("%s (%s): %s, result %s; want succeeded", id, tag, e.Status, e.Result)
			continue
		}
		// A job worker#1 had fetched but not started when it died counts an
		// attempt without a run: runs ≤ attempt.
		if runs[id] < 1 || runs[id] > e.Attempt {
			t.Errorf("%s (%s): %d runs logged for attempt %d", id, tag, runs[id], e.Attempt)
		}
		if e.Attempt == 2 && e.sleepy(t).PID != w2.pid() {
			t.Errorf("%s (%s): attempt 2 not finished by worker#2", id, tag)
		}
	}
	all, err := listAll(ctx, a.base)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(tags) {
		t.Errorf("%d executions stored for %d calls", len(all), len(tags))
	}
	reran := 0
	for _, n := range runs {
		if n > 1 {
			reran++
		}
	}
	t.Logf("%d executions, %d re-run after the kill", len(tags), reran)
	w2.term(t)
	a.term(t)
	checkNoErrors(t, w2)
	checkNoErrors(t, a)
}
