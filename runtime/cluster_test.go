package runtime

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/storetest"
	"github.com/bifrost-go/bifrost/workflow"
)

// Worker liveness on PostgreSQL (cluster.go), in one process: the reaper and
// the fence, driven directly rather than waiting for their tickers. The
// multi-process test (multiprocess_test.go) shows them end to end.

func openPostgresStore(t *testing.T) store.Store {
	t.Helper()
	st := openStore(t, storetest.PostgresURL(t))
	t.Cleanup(func() { st.Close() })
	return st
}

func startEngineServer(t *testing.T, st store.Store, workers int, log *slog.Logger, wfs ...*Workflow) *Server {
	t.Helper()
	srv, err := New(Options{Workflows: wfs, Logger: log, Store: st, Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv
}

func acceptJob(t *testing.T, en *engine, name string) string {
	t.Helper()
	e := &store.Execution{ID: uuid.Must(uuid.NewV7()).String(), Workflow: name, Mode: string(workflow.Async), Status: store.Pending,
		Input: json.RawMessage(`{"value":"x"}`), CreatedAt: time.Now()}
	if _, err := en.accept(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	return e.ID
}

// TestPostgresReaper: the running jobs of a worker silent for deadAfter, and
// of a worker without a row, become available and their executions
// pending; those of a live worker, and jobs fetched just now, stay.
func TestPostgresReaper(t *testing.T) {
	st := openPostgresStore(t)
	wf := asyncWorkflow("job", 0, time.Minute, func(ctx context.Context, a *jobArgs) (bind.Result, error) { return bind.JSON(200, a.Value), nil })
	srv := startEngineServer(t, st, 0, slog.New(slog.DiscardHandler), wf) // accepts only: nothing runs
	en := srv.engine
	db := rawDB(t, st)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(t.Context(), q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO bifrost_workers (id, heartbeat_at) VALUES ('dead', now() - interval '45 seconds'), ('live', now())`)
	// run puts an execution's job in the hands of worker `by`, fetched `ago`.
	run := func(by, ago string) string {
		id := acceptJob(t, en, "job")
		exec(`UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() - $2::interval, attempted_by = ARRAY['earlier', $1]
			WHERE id = (SELECT job_id FROM bifrost_executions WHERE id = $3)`, by, ago, id)
		if _, err := st.Start(t.Context(), id, 1, time.Now()); err != nil {
			t.Fatal(err)
		}
		return id
	}
	dead, ghost := run("dead", "40 seconds"), run("ghost", "40 seconds")
	live, fresh := run("live", "40 seconds"), run("dead", "1 second")

	c := &cluster{en: en, store: st, log: en.log, id: "reaper"}
	c.reap(t.Context())

	state := func(id string) (job, status string) {
		t.Helper()
		if err := db.QueryRowContext(t.Context(), `SELECT j.state::text, e.status FROM bifrost_executions e JOIN river_job j ON j.id = e.job_id WHERE e.id = $1`,
			id).Scan(&job, &status); err != nil {
			t.Fatal(err)
		}
		return job, status
	}
	for _, tc := range []struct {
		name, id, job, status string
	}{
		{"dead worker's job", dead, "available", "pending"},
		{"job of a worker without a row", ghost, "available", "pending"},
		{"live worker's job", live, "running", "running"},
		{"job fetched a second ago", fresh, "running", "running"},
	} {
		if job, status := state(tc.id); job != tc.job || status != tc.status {
			t.Errorf("%s: job %s, execution %s; want %s, %s", tc.name, job, status, tc.job, tc.status)
		}
	}
	// Long-dead workers are forgotten; the others stay.
	exec(`UPDATE bifrost_workers SET heartbeat_at = now() - interval '2 hours' WHERE id = 'dead'`)
	c.reap(t.Context())
	var ids []string
	rows, err := db.QueryContext(t.Context(), `SELECT id FROM bifrost_workers ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	if strings.Join(ids, ",") != "live" {
		t.Errorf("workers after the second reap: %v; want live", ids)
	}
}

// TestPostgresLeaseLost: a worker whose previous heartbeat is older than
// deadAfter (it was frozen, or cut off from the database: others may have
// taken its jobs) stops its runs without writing them and hands the jobs
// back; the execution then runs again and ends once.
func TestPostgresLeaseLost(t *testing.T) {
	st := openPostgresStore(t)
	var runs atomic.Int32
	causes := make(chan error, 4)
	wf := asyncWorkflow("hold", 0, time.Minute, func(ctx context.Context, a *jobArgs) (bind.Result, error) {
		if runs.Add(1) == 1 {
			<-ctx.Done()
			causes <- context.Cause(ctx)
			return bind.Result{}, ctx.Err()
		}
		return bind.JSON(200, "second run"), nil
	})
	var logs syncBuffer
	srv := startEngineServer(t, st, 2, slog.New(slog.NewJSONHandler(&logs, nil)), wf)
	en := srv.engine
	if en.cluster == nil || en.workerID == "" {
		t.Fatal("a worker on PostgreSQL has no liveness")
	}
	id := acceptJob(t, en, "hold")
	deadline := time.Now().Add(10 * time.Second)
	for runs.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the execution did not start within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := rawDB(t, st).ExecContext(t.Context(), `UPDATE bifrost_workers SET heartbeat_at = now() - interval '40 seconds' WHERE id = $1`, en.workerID); err != nil {
		t.Fatal(err)
	}
	en.cluster.heartbeat(t.Context())
	select {
	case cause := <-causes:
		if !errors.Is(cause, errLeaseLost) {
			t.Fatalf("the run stopped with %v; want errLeaseLost", cause)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the run was not stopped within 5s of the lost lease")
	}
	e, err := en.wait(t.Context(), id, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != store.Succeeded || string(e.Result) != `"second run"` || runs.Load() != 2 {
		t.Errorf("after the lost lease: %s, result %s, %d runs; want succeeded by the second run", e.Status, e.Result, runs.Load())
	}
	if !strings.Contains(logs.String(), "worker lost its lease") {
		t.Errorf("no \"worker lost its lease\" in the log:\n%s", logs.String())
	}
	// The heartbeat after the fence renews the lease: the next loss fences again.
	en.cluster.mu.Lock()
	fenced := en.cluster.fenced
	en.cluster.mu.Unlock()
	if fenced {
		t.Error("still fenced after a successful heartbeat")
	}
}

// rawDB is the database under a store, for tests that look at its tables
// (both drivers have DB; the runtime itself never asks).
func rawDB(t testing.TB, st store.Store) *sql.DB {
	t.Helper()
	d, ok := st.(interface{ DB() *sql.DB })
	if !ok {
		t.Fatalf("%T has no DB", st)
	}
	return d.DB()
}
