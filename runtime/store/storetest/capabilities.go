package storetest

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// The capabilities the runtime asks of the database beside the records:
// the queue (River, on the store's database), orphan recovery, ended
// notifications and worker liveness. These tests use River itself, through
// the store's own driver, so they hold on every database.

// queued is the suite's real queue: a River client that only inserts, on
// the driver the store gives.
type queued struct {
	h      *harness
	driver riverdriver.Driver[*sql.Tx]
	client *river.Client[*sql.Tx]
}

type jobArgs struct {
	ExecutionID string `json:"execution_id"`
}

func (jobArgs) Kind() string { return "storetest" }

// queue migrates the queue's tables and builds a client on the driver.
func (h *harness) queue(working bool) *queued {
	h.t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	if err := h.s.MigrateQueue(h.ctx, quiet); err != nil {
		h.t.Fatalf("MigrateQueue: %v", err)
	}
	driver, err := h.s.QueueDriver(h.ctx, working)
	if err != nil {
		h.t.Fatalf("QueueDriver(%v): %v", working, err)
	}
	client, err := river.NewClient(driver, &river.Config{Logger: quiet})
	if err != nil {
		h.t.Fatalf("river.NewClient on the store's driver: %v", err)
	}
	return &queued{h: h, driver: driver, client: client}
}

// enqueue is a store.EnqueueFunc that inserts real jobs.
func (q *queued) enqueue(ctx context.Context, tx *sql.Tx, fresh []*store.Execution) ([]int64, error) {
	params := make([]river.InsertManyParams, len(fresh))
	for i, e := range fresh {
		params[i] = river.InsertManyParams{Args: jobArgs{ExecutionID: e.ID}}
	}
	res, err := q.client.InsertManyTx(ctx, tx, params)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(res))
	for i, r := range res {
		ids[i] = r.Job.ID
	}
	return ids, nil
}

// accept accepts one async execution with its real job.
func (q *queued) accept() *store.Execution {
	q.h.t.Helper()
	e := async("orders", "", "")
	if _, err := q.h.s.Accept(q.h.ctx, []*store.Execution{e}, q.enqueue); err != nil {
		q.h.t.Fatalf("Accept: %v", err)
	}
	return q.h.get(e.ID)
}

// fetch has worker `by` take up to n available jobs, as a worker's queue
// client does: they become running, attempted by it, now.
func (q *queued) fetch(by string, n int) []*rivertype.JobRow {
	q.h.t.Helper()
	res, err := q.driver.GetExecutor().JobGetAvailable(q.h.ctx, &riverdriver.JobGetAvailableParams{
		ClientID: by, MaxAttemptedBy: 100, MaxToLock: n, Queue: river.QueueDefault,
	})
	if err != nil {
		q.h.t.Fatalf("fetch jobs as %s: %v", by, err)
	}
	return res.Jobs
}

// run puts an accepted execution's job in the hands of worker by, and
// starts the execution.
func (q *queued) run(by string) *store.Execution {
	q.h.t.Helper()
	e := q.accept()
	if jobs := q.fetch(by, 1); len(jobs) != 1 || jobs[0].ID != e.JobID {
		q.h.t.Fatalf("fetched %d jobs, want the job %d of %s", len(jobs), e.JobID, e.ID)
	}
	return q.h.start(e.ID, 1, time.Now())
}

// state is a job's state, or "" when there is none.
func (q *queued) state(id int64) rivertype.JobState {
	q.h.t.Helper()
	job, err := q.driver.GetExecutor().JobGetByID(q.h.ctx, &riverdriver.JobGetByIDParams{ID: id})
	if errors.Is(err, rivertype.ErrNotFound) {
		return ""
	}
	if err != nil {
		q.h.t.Fatalf("job %d: %v", id, err)
	}
	return job.State
}

func testPing(t *testing.T, newH func(*testing.T) *harness) {
	t.Run("answers", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		if err := h.s.Ping(h.ctx); err != nil {
			t.Errorf("Ping: %v", err)
		}
	})
}

// testPendingMigrations: a store opened is migrated; a migration whose row
// is gone is pending again, and every one when the table is gone.
func testPendingMigrations(t *testing.T, newH func(*testing.T) *harness) {
	t.Parallel()
	h := newH(t)
	if pending, err := h.s.PendingMigrations(h.ctx); err != nil || len(pending) != 0 {
		t.Fatalf("PendingMigrations of an open store: %q, %v; want none", pending, err)
	}
	if _, err := h.db.ExecContext(h.ctx, `DELETE FROM bifrost_migrations WHERE version = 4`); err != nil {
		t.Fatal(err)
	}
	if pending, err := h.s.PendingMigrations(h.ctx); err != nil || !slices.Equal(pending, []string{"0004_links"}) {
		t.Fatalf("PendingMigrations without 0004's row: %q, %v; want [0004_links]", pending, err)
	}
	if _, err := h.db.ExecContext(h.ctx, `DROP TABLE bifrost_migrations`); err != nil {
		t.Fatal(err)
	}
	pending, err := h.s.PendingMigrations(h.ctx)
	if err != nil || len(pending) < 4 || pending[0] != "0001_executions" {
		t.Fatalf("PendingMigrations without the table: %q, %v; want every migration", pending, err)
	}
}

func testQueue(t *testing.T, newH func(*testing.T) *harness) {
	for _, working := range []bool{false, true} {
		name := "inserting_client"
		if working {
			name = "working_client"
		}
		t.Run(name+"_commits_jobs_with_their_executions", func(t *testing.T) {
			t.Parallel()
			h := newH(t)
			q := h.queue(working)
			e := q.accept()
			if e.JobID == 0 {
				t.Fatal("the accepted execution has no job id")
			}
			job, err := q.driver.GetExecutor().JobGetByID(h.ctx, &riverdriver.JobGetByIDParams{ID: e.JobID})
			if err != nil {
				t.Fatalf("the execution's job %d: %v", e.JobID, err)
			}
			if job.Kind != "storetest" || job.State != rivertype.JobStateAvailable {
				t.Errorf("job = %s in state %s, want storetest available", job.Kind, job.State)
			}
			// A failed accept leaves no job behind.
			boom := errors.New("boom")
			lost := async("orders", "", "")
			var jobID int64
			_, err = h.s.Accept(h.ctx, []*store.Execution{lost}, func(ctx context.Context, tx *sql.Tx, fresh []*store.Execution) ([]int64, error) {
				ids, err := q.enqueue(ctx, tx, fresh)
				if err == nil {
					jobID = ids[0]
				}
				return nil, boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("Accept with a failing enqueue: %v, want boom", err)
			}
			if s := q.state(jobID); s != "" {
				t.Errorf("the rolled-back accept's job is %s, want none", s)
			}
		})
	}
	t.Run("migrate_twice", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		h.queue(false)
		if err := h.s.MigrateQueue(h.ctx, slog.New(slog.DiscardHandler)); err != nil {
			t.Errorf("MigrateQueue again: %v", err)
		}
	})
}

func testRecoverOrphans(t *testing.T, newH func(*testing.T) *harness) {
	t.Run("running_work", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		q := h.queue(false)
		orphans := []*store.Execution{q.run("gone"), q.run("gone")}
		// A later attempt and a cancel request do not matter.
		h.start(orphans[1].ID, 3, at(9))
		h.cancel(orphans[1].ID, at(10))
		for i, o := range orphans {
			orphans[i] = h.get(o.ID)
		}
		// A job fetched by a worker that died before it started the execution.
		unstarted := q.accept()
		q.fetch("gone", 1)
		syncRunning := syncExec("orders", store.Running, at(0))
		syncRunning.FinishedAt = time.Time{}
		h.record(syncRunning)
		untouched := []*store.Execution{h.get(syncRunning.ID), h.get(unstarted.ID)}
		for _, s := range []store.Status{store.Pending, store.Succeeded, store.Failed, store.TimedOut, store.Cancelled} {
			untouched = append(untouched, h.inStatus(s))
		}
		jobs := []int64{orphans[0].JobID, orphans[1].JobID, unstarted.JobID}

		got, err := h.s.RecoverOrphans(h.ctx)
		if err != nil {
			t.Fatalf("RecoverOrphans: %v", err)
		}
		if h.shared {
			// Other processes may be running them: nothing is touched.
			if got != (store.Recovered{}) {
				t.Errorf("RecoverOrphans on a shared store = %+v, want nothing", got)
			}
			for _, o := range orphans {
				check(t, "a running execution on a shared store", h.get(o.ID), o)
			}
			for _, j := range jobs {
				if s := q.state(j); s != rivertype.JobStateRunning {
					t.Errorf("job %d is %s, want running", j, s)
				}
			}
			return
		}
		if want := (store.Recovered{Executions: 2, Jobs: 3}); got != want {
			t.Errorf("RecoverOrphans = %+v, want %+v", got, want)
		}
		for _, o := range orphans {
			e := h.get(o.ID)
			if e.Status != store.Pending || e.Attempt != o.Attempt || !jsonEqual(e.Input, o.Input) || e.JobID != o.JobID {
				t.Errorf("orphan after RecoverOrphans = %+v, want pending in attempt %d with its input and job", e, o.Attempt)
			}
		}
		for _, j := range jobs {
			if s := q.state(j); s != rivertype.JobStateAvailable {
				t.Errorf("job %d is %s after RecoverOrphans, want available", j, s)
			}
		}
		for _, u := range untouched {
			check(t, "an execution RecoverOrphans must not touch", h.get(u.ID), u)
		}
		if again, err := h.s.RecoverOrphans(h.ctx); err != nil || again != (store.Recovered{}) {
			t.Errorf("second RecoverOrphans = %+v, %v; want nothing", again, err)
		}
	})
}

func testListenEnded(t *testing.T, newH func(*testing.T) *harness) {
	t.Run("announces_ends_only", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		ended := make(chan string, 64)
		ctx, cancel := context.WithCancel(h.ctx)
		done := make(chan error, 1)
		go func() { done <- h.s.ListenEnded(ctx, slog.New(slog.DiscardHandler), func(id string) { ended <- id }) }()
		stopped := false
		stop := func() {
			if stopped {
				return
			}
			stopped = true
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("ListenEnded after its context ended: %v, want nil", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("ListenEnded did not return within 10s of its context's end")
			}
		}
		defer stop()

		// The listener is ready once a first end arrives: a cancelled
		// pending execution.
		deadline := time.After(10 * time.Second)
		for got := false; !got; {
			e := h.acceptOne("orders")
			h.cancel(e.ID, time.Now())
			select {
			case id := <-ended:
				got = id == e.ID
			case <-time.After(300 * time.Millisecond):
			case <-deadline:
				t.Fatal("no notification within 10s of cancelling pending executions")
			}
		}
		drain(ended)

		e := h.acceptOne("orders")
		h.start(e.ID, 1, time.Now())
		h.cancel(e.ID, time.Now()) // running: asked to stop, not ended
		e = h.get(e.ID)
		e.Status, e.Error = store.Pending, "retry" // a failed attempt: not the end
		h.finish(e)
		h.record(syncExec("orders", store.Succeeded, time.Now()))
		select {
		case id := <-ended:
			t.Fatalf("notified %s, but no execution ended through Finish or Cancel", id)
		case <-time.After(500 * time.Millisecond):
		}
		e.Status, e.Attempt, e.Error, e.FinishedAt = store.Failed, 2, "boom", time.Now()
		h.start(e.ID, 2, time.Now())
		h.finish(e)
		WantEnded(t, ended, e.ID)
		stop()
	})
}

func drain(ch chan string) {
	for {
		select {
		case <-ch:
		case <-time.After(100 * time.Millisecond):
			return
		}
	}
}
