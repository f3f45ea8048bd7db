// Package storetest is the behaviour every store.Store must show: the SQLite
// and PostgreSQL stores both run this suite, so they cannot drift apart.
//
// A test file of an implementation calls Run with its Driver: a function
// that opens a new, empty, migrated store, and whether processes share the
// database:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, storetest.Driver{Open: func(t *testing.T) (store.Store, *sql.DB) { ... }})
//	}
//
// Every method of store.Store is covered: the records (this file), keys and
// configuration (keys.go, config.go), and the capabilities the runtime asks
// of the database (capabilities.go).
package storetest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// Driver is a store implementation under test.
type Driver struct {
	// Open returns a new, empty, migrated store (the suite closes it) and
	// its database, where the suite's fake queue keeps its table.
	Open func(t *testing.T) (store.Store, *sql.DB)
	// Shared says several processes share the database (PostgreSQL):
	// RecoverOrphans is then a no-op and worker liveness is kept. Otherwise
	// one process owns it (SQLite): RecoverOrphans hands back everything
	// running, and liveness is a no-op.
	Shared bool
}

// Run runs the suite against stores made by d.Open.
func Run(t *testing.T, d Driver) {
	t.Helper()
	h := func(t *testing.T) *harness { return newHarness(t, d) }
	t.Run("Accept", func(t *testing.T) { t.Parallel(); testAccept(t, h) })
	t.Run("Concurrency", func(t *testing.T) { t.Parallel(); testConcurrency(t, h) })
	t.Run("Record", func(t *testing.T) { t.Parallel(); testRecord(t, h) })
	t.Run("Start", func(t *testing.T) { t.Parallel(); testStart(t, h) })
	t.Run("Finish", func(t *testing.T) { t.Parallel(); testFinish(t, h) })
	t.Run("Cancel", func(t *testing.T) { t.Parallel(); testCancel(t, h) })
	t.Run("Get", func(t *testing.T) { t.Parallel(); testGet(t, h) })
	t.Run("List", func(t *testing.T) { t.Parallel(); testList(t, h) })
	t.Run("Keys", func(t *testing.T) { t.Parallel(); testKeys(t, h) })
	t.Run("Config", func(t *testing.T) { t.Parallel(); testConfig(t, h) })
	t.Run("Ping", func(t *testing.T) { t.Parallel(); testPing(t, h) })
	t.Run("Queue", func(t *testing.T) { t.Parallel(); testQueue(t, h) })
	t.Run("RecoverOrphans", func(t *testing.T) { t.Parallel(); testRecoverOrphans(t, h) })
	t.Run("ListenEnded", func(t *testing.T) { t.Parallel(); testListenEnded(t, h) })
	t.Run("Liveness", func(t *testing.T) { t.Parallel(); testLiveness(t, h) })
}

// harness is one store and a fake queue: enqueue writes its jobs into
// storetest_jobs through the store's transaction and records every call, so
// a test sees what was enqueued and whether it committed with the executions.
type harness struct {
	t      *testing.T
	s      store.Store
	db     *sql.DB
	shared bool // Driver.Shared
	ctx    context.Context

	mu      sync.Mutex
	calls   [][]string // the ids of the fresh executions, per enqueue call
	lastJob int64
}

func newHarness(t *testing.T, d Driver) *harness {
	t.Helper()
	s, db := d.Open(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	h := &harness{t: t, s: s, db: db, shared: d.Shared, ctx: t.Context(), lastJob: 1000}
	if _, err := db.ExecContext(h.ctx, `CREATE TABLE storetest_jobs (id BIGINT PRIMARY KEY, execution_id TEXT NOT NULL)`); err != nil {
		t.Fatalf("create the fake queue's table: %v", err)
	}
	return h
}

// enqueue is the fake queue's store.EnqueueFunc.
func (h *harness) enqueue(ctx context.Context, tx *sql.Tx, fresh []*store.Execution) ([]int64, error) {
	if tx == nil {
		return nil, errors.New("storetest: enqueue without a transaction")
	}
	ids := make([]int64, len(fresh))
	names := make([]string, len(fresh))
	h.mu.Lock()
	for i, e := range fresh {
		h.lastJob++
		ids[i], names[i] = h.lastJob, e.ID
	}
	h.calls = append(h.calls, names)
	h.mu.Unlock()
	for i, e := range fresh {
		// Literals, not placeholders: the suite runs on every SQL dialect.
		q := fmt.Sprintf(`INSERT INTO storetest_jobs (id, execution_id) VALUES (%d, '%s')`, ids[i], strings.ReplaceAll(e.ID, "'", "''"))
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// failing enqueues its jobs, then fails with err.
func (h *harness) failing(err error) store.EnqueueFunc {
	return func(ctx context.Context, tx *sql.Tx, fresh []*store.Execution) ([]int64, error) {
		if _, e := h.enqueue(ctx, tx, fresh); e != nil {
			return nil, e
		}
		return nil, err
	}
}

func (h *harness) enqueueCalls() [][]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.calls)
}

// jobs returns the committed fake-queue jobs: execution id → job id.
func (h *harness) jobs() map[string]int64 {
	h.t.Helper()
	rows, err := h.db.QueryContext(h.ctx, `SELECT id, execution_id FROM storetest_jobs`)
	if err != nil {
		h.t.Fatalf("read jobs: %v", err)
	}
	defer rows.Close()
	jobs := map[string]int64{}
	for rows.Next() {
		var id int64
		var exec string
		if err := rows.Scan(&id, &exec); err != nil {
			h.t.Fatalf("read jobs: %v", err)
		}
		jobs[exec] = id
	}
	if err := rows.Err(); err != nil {
		h.t.Fatalf("read jobs: %v", err)
	}
	return jobs
}

func (h *harness) accept(execs ...*store.Execution) []store.Accepted {
	h.t.Helper()
	out, err := h.s.Accept(h.ctx, execs, h.enqueue)
	if err != nil {
		h.t.Fatalf("Accept: %v", err)
	}
	if len(out) != len(execs) {
		h.t.Fatalf("Accept returned %d results for %d executions", len(out), len(execs))
	}
	return out
}

func (h *harness) record(execs ...*store.Execution) {
	h.t.Helper()
	if err := h.s.Record(h.ctx, execs); err != nil {
		h.t.Fatalf("Record: %v", err)
	}
}

func (h *harness) get(id string) *store.Execution {
	h.t.Helper()
	e, err := h.s.Get(h.ctx, id)
	if err != nil {
		h.t.Fatalf("Get(%s): %v", id, err)
	}
	return e
}

func (h *harness) start(id string, attempt int, at time.Time) *store.Execution {
	h.t.Helper()
	e, err := h.s.Start(h.ctx, id, attempt, at)
	if err != nil {
		h.t.Fatalf("Start(%s, %d): %v", id, attempt, err)
	}
	return e
}

func (h *harness) finish(e *store.Execution) {
	h.t.Helper()
	if err := h.s.Finish(h.ctx, e); err != nil {
		h.t.Fatalf("Finish(%s): %v", e.ID, err)
	}
}

func (h *harness) cancel(id string, at time.Time) *store.Execution {
	h.t.Helper()
	e, err := h.s.Cancel(h.ctx, id, at)
	if err != nil {
		h.t.Fatalf("Cancel(%s): %v", id, err)
	}
	return e
}

func (h *harness) cancelRequested(id string) bool {
	h.t.Helper()
	ok, err := h.s.CancelRequested(h.ctx, id)
	if err != nil {
		h.t.Fatalf("CancelRequested(%s): %v", id, err)
	}
	return ok
}

// acceptOne accepts a fresh async execution and returns it as stored.
func (h *harness) acceptOne(workflow string) *store.Execution {
	h.t.Helper()
	e := async(workflow, "key_1", "")
	h.accept(e)
	return h.get(e.ID)
}

// inStatus returns a stored async execution in status s, through the
// interface: accepted, started, finished or cancelled.
func (h *harness) inStatus(s store.Status) *store.Execution {
	h.t.Helper()
	e := h.acceptOne("orders")
	switch s {
	case store.Pending:
	case store.Cancelled:
		h.cancel(e.ID, at(1))
	default:
		h.start(e.ID, 1, at(1))
		if s != store.Running {
			e = h.get(e.ID)
			e.Status, e.FinishedAt = s, at(2)
			if s == store.Succeeded {
				e.Result = json.RawMessage(`{"ok":true}`)
			} else {
				e.Error = "boom"
			}
			h.finish(e)
		}
	}
	return h.get(e.ID)
}

// newID returns a UUIDv7: later ids sort after earlier ones.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// base is a fixed time with nanoseconds, so truncation shows.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.FixedZone("CET", 3600))

// at is base plus n seconds.
func at(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }

// async is a new async execution as the HTTP layer accepts it.
func async(workflow, credential, key string) *store.Execution {
	return &store.Execution{
		ID:             newID(),
		Workflow:       workflow,
		Mode:           "async",
		Status:         store.Pending,
		Input:          json.RawMessage(`{"count": 3, "name": "ada", "tags": ["x", "y"], "nested": {"ok": true}}`),
		Credential:     credential,
		IdempotencyKey: key,
		CreatedAt:      time.Now(),
	}
}

// syncExec is a finished sync execution as the HTTP layer records it.
func syncExec(workflow string, status store.Status, created time.Time) *store.Execution {
	return &store.Execution{
		ID:         newID(),
		Workflow:   workflow,
		Mode:       "sync",
		Status:     status,
		Attempt:    1,
		Input:      json.RawMessage(`{"n":1}`),
		Credential: "key_1",
		CreatedAt:  created,
		StartedAt:  created.Add(time.Millisecond),
		FinishedAt: created.Add(2 * time.Millisecond),
	}
}

func clone(e *store.Execution) *store.Execution {
	c := *e
	c.Logs = slices.Clone(e.Logs)
	return &c
}

// check fails t when got is not want as a store gives it back: JSON equal
// (not byte equal), row times truncated to microseconds and in UTC.
func check(t *testing.T, what string, got, want *store.Execution) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got no execution, want %s", what, want.ID)
	}
	if d := diff(got, want); len(d) > 0 {
		t.Errorf("%s: execution %s differs:\n\t%s", what, want.ID, strings.Join(d, "\n\t"))
	}
}

func diff(got, want *store.Execution) []string {
	var d []string
	field := func(name string, g, w any) {
		if !reflect.DeepEqual(g, w) {
			d = append(d, fmt.Sprintf("%s = %#v, want %#v", name, g, w))
		}
	}
	field("ID", got.ID, want.ID)
	field("Workflow", got.Workflow, want.Workflow)
	field("Mode", got.Mode, want.Mode)
	field("Status", got.Status, want.Status)
	field("Attempt", got.Attempt, want.Attempt)
	if !jsonEqual(got.Input, want.Input) {
		d = append(d, fmt.Sprintf("Input = %s, want %s", got.Input, want.Input))
	}
	if !jsonEqual(got.Result, want.Result) {
		d = append(d, fmt.Sprintf("Result = %q, want %q", got.Result, want.Result))
	}
	field("Error", got.Error, want.Error)
	field("Credential", got.Credential, want.Credential)
	field("IdempotencyKey", got.IdempotencyKey, want.IdempotencyKey)
	field("JobID", got.JobID, want.JobID)
	for _, tm := range []struct {
		name      string
		got, want time.Time
	}{{"CreatedAt", got.CreatedAt, want.CreatedAt}, {"StartedAt", got.StartedAt, want.StartedAt}, {"FinishedAt", got.FinishedAt, want.FinishedAt}} {
		if msg := timeDiff(tm.got, tm.want); msg != "" {
			d = append(d, tm.name+" "+msg)
		}
	}
	if len(got.Logs) != len(want.Logs) {
		d = append(d, fmt.Sprintf("%d Logs, want %d: %+v", len(got.Logs), len(want.Logs), got.Logs))
		return d
	}
	for i, g := range got.Logs {
		w := want.Logs[i]
		if !g.Time.Equal(w.Time) || g.Level != w.Level || g.Message != w.Message || !reflect.DeepEqual(g.Attrs, jsonValue(w.Attrs)) {
			d = append(d, fmt.Sprintf("Logs[%d] = %+v, want %+v", i, g, w))
		}
	}
	return d
}

// timeDiff describes how a stored time got differs from the wanted want.
func timeDiff(got, want time.Time) string {
	if want.IsZero() {
		if !got.IsZero() {
			return fmt.Sprintf("= %v, want zero", got)
		}
		return ""
	}
	w := want.Truncate(time.Microsecond)
	switch {
	case !got.Equal(w):
		return fmt.Sprintf("= %v, want %v (microseconds)", got, w.UTC())
	case got.Location() != time.UTC:
		return fmt.Sprintf("= %v, want it in UTC", got)
	}
	return ""
}

// jsonEqual reports whether a and b hold the same JSON value; both empty is
// equal, empty and "null" are not.
func jsonEqual(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// jsonValue is m as it comes back from JSON.
func jsonValue(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: err = %v, want store.ErrNotFound", what, err)
	}
}

func ids(execs []*store.Execution) []string {
	out := make([]string, len(execs))
	for i, e := range execs {
		out[i] = e.ID
	}
	return out
}

func testAccept(t *testing.T, newH func(*testing.T) *harness) {
	t.Run("stores_fresh_executions_with_every_field", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		a := async("orders", "key_1", "k-1")
		b := async("orders", "", "") // a public call, without a key
		b.Input = json.RawMessage(`[]`)
		want := []*store.Execution{clone(a), clone(b)}
		out := h.accept(a, b)
		jobs := h.jobs()
		for i, w := range want {
			if _, err := uuid.Parse(out[i].Execution.ID); err != nil {
				t.Errorf("id %q is not a UUID: %v", out[i].Execution.ID, err)
			}
			if out[i].Duplicate || out[i].Execution.ID != w.ID {
				t.Errorf("Accept[%d] = %s duplicate=%v, want %s fresh", i, out[i].Execution.ID, out[i].Duplicate, w.ID)
			}
			if jobs[w.ID] == 0 {
				t.Errorf("no job committed for %s (jobs %v)", w.ID, jobs)
			}
			w.JobID = jobs[w.ID]
			check(t, "Accept result", out[i].Execution, w)
			check(t, "Get", h.get(w.ID), w)
		}
		if got := h.get(b.ID); len(got.Result) != 0 || got.Attempt != 0 || !got.StartedAt.IsZero() || !got.FinishedAt.IsZero() {
			t.Errorf("a fresh execution has a result, attempt or times: %+v", got)
		}
		if calls := h.enqueueCalls(); !reflect.DeepEqual(calls, [][]string{{a.ID, b.ID}}) {
			t.Errorf("enqueue calls = %v, want one with %s, %s", calls, a.ID, b.ID)
		}
	})

	t.Run("enqueue_gets_exactly_the_fresh_executions", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		first := async("orders", "key_1", "k-1")
		h.accept(first)
		dup, noKey, other := async("orders", "key_1", "k-1"), async("orders", "key_1", ""), async("orders", "key_1", "k-2")
		out := h.accept(dup, noKey, other)
		if calls := h.enqueueCalls(); !reflect.DeepEqual(calls, [][]string{{first.ID}, {noKey.ID, other.ID}}) {
			t.Errorf("enqueue calls = %v, want [[%s] [%s %s]]", calls, first.ID, noKey.ID, other.ID)
		}
		wantIDs := []string{first.ID, noKey.ID, other.ID}
		wantDup := []bool{true, false, false}
		jobs := h.jobs()
		for i, a := range out {
			if a.Execution.ID != wantIDs[i] || a.Duplicate != wantDup[i] {
				t.Errorf("Accept[%d] = %s duplicate=%v, want %s duplicate=%v", i, a.Execution.ID, a.Duplicate, wantIDs[i], wantDup[i])
			}
			if got := h.get(wantIDs[i]).JobID; got == 0 || got != jobs[wantIDs[i]] {
				t.Errorf("JobID of %s = %d, want the enqueued job %d", wantIDs[i], got, jobs[wantIDs[i]])
			}
		}
		if len(jobs) != 3 {
			t.Errorf("%d jobs committed, want 3: %v", len(jobs), jobs)
		}
		wantNotFound(t, "Get of the duplicate's own id", func() error { _, err := h.s.Get(h.ctx, dup.ID); return err }())
	})

	t.Run("enqueue_error_rolls_everything_back", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		queueDown := errors.New("queue down")
		a, b := async("orders", "key_1", "k-1"), async("orders", "key_1", "")
		if _, err := h.s.Accept(h.ctx, []*store.Execution{a, b}, h.failing(queueDown)); !errors.Is(err, queueDown) {
			t.Fatalf("Accept with a failing enqueue: err = %v, want it to wrap %v", err, queueDown)
		}
		for _, e := range []*store.Execution{a, b} {
			_, err := h.s.Get(h.ctx, e.ID)
			wantNotFound(t, "Get after the rollback", err)
		}
		if jobs := h.jobs(); len(jobs) != 0 {
			t.Errorf("jobs committed despite the rollback: %v", jobs)
		}
		// The key was not taken: accepting it again starts an execution.
		again := async("orders", "key_1", "k-1")
		if out := h.accept(again); out[0].Duplicate || out[0].Execution.ID != again.ID {
			t.Errorf("the key of a rolled back Accept returned %s duplicate=%v, want %s fresh", out[0].Execution.ID, out[0].Duplicate, again.ID)
		}
	})

	t.Run("enqueue_with_too_few_job_ids_is_an_error", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		a, b := async("orders", "key_1", ""), async("orders", "key_1", "")
		short := func(ctx context.Context, tx *sql.Tx, fresh []*store.Execution) ([]int64, error) {
			ids, err := h.enqueue(ctx, tx, fresh)
			return ids[:len(ids)-1], err
		}
		if _, err := h.s.Accept(h.ctx, []*store.Execution{a, b}, short); err == nil {
			t.Fatalf("Accept with one job id for two executions succeeded")
		}
		for _, e := range []*store.Execution{a, b} {
			_, err := h.s.Get(h.ctx, e.ID)
			wantNotFound(t, "Get after the rollback", err)
		}
		if jobs := h.jobs(); len(jobs) != 0 {
			t.Errorf("jobs committed despite the error: %v", jobs)
		}
	})

	t.Run("repeated_key_returns_the_first_execution_and_enqueues_nothing", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		first := async("orders", "key_1", "k-1")
		h.accept(first)
		h.start(first.ID, 1, at(1)) // the duplicate sees the execution as it is now
		stored := h.get(first.ID)
		second := async("orders", "key_1", "k-1")
		second.Input = json.RawMessage(`{"other":true}`)
		out := h.accept(second)
		if !out[0].Duplicate {
			t.Errorf("Duplicate = false for a repeated key")
		}
		check(t, "the duplicate's Execution", out[0].Execution, stored)
		if calls := h.enqueueCalls(); len(calls) != 1 {
			t.Errorf("enqueue calls = %v, want only the first execution's", calls)
		}
		_, err := h.s.Get(h.ctx, second.ID)
		wantNotFound(t, "Get of the duplicate's own id", err)
	})

	t.Run("same_key_with_another_credential_or_workflow_is_new", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct{ name, workflow, credential string }{
			{"another_credential", "orders", "key_2"},
			{"public_call", "orders", ""},
			{"another_workflow", "invoices", "key_1"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				h := newH(t)
				first := async("orders", "key_1", "k-1")
				h.accept(first)
				other := async(tc.workflow, tc.credential, "k-1")
				out := h.accept(other)
				if out[0].Duplicate || out[0].Execution.ID != other.ID {
					t.Errorf("Accept = %s duplicate=%v, want a new execution %s", out[0].Execution.ID, out[0].Duplicate, other.ID)
				}
				check(t, "Get of the first", h.get(first.ID), withJob(first, h))
				check(t, "Get of the new one", h.get(other.ID), withJob(other, h))
			})
		}
	})

	t.Run("same_key_twice_in_one_batch_is_one_execution", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		a, b := async("orders", "key_1", "k-1"), async("orders", "key_1", "k-1")
		out := h.accept(a, b)
		if out[0].Duplicate || out[0].Execution.ID != a.ID {
			t.Errorf("Accept[0] = %s duplicate=%v, want %s fresh", out[0].Execution.ID, out[0].Duplicate, a.ID)
		}
		if !out[1].Duplicate || out[1].Execution.ID != a.ID {
			t.Errorf("Accept[1] = %s duplicate=%v, want %s duplicate", out[1].Execution.ID, out[1].Duplicate, a.ID)
		}
		if calls := h.enqueueCalls(); !reflect.DeepEqual(calls, [][]string{{a.ID}}) {
			t.Errorf("enqueue calls = %v, want [[%s]]", calls, a.ID)
		}
		_, err := h.s.Get(h.ctx, b.ID)
		wantNotFound(t, "Get of the batch duplicate", err)
		if all, _, err := h.s.List(h.ctx, store.Filter{}); err != nil || len(all) != 1 {
			t.Errorf("List = %d executions (err %v), want 1", len(all), err)
		}
	})

	t.Run("key_older_than_the_window_starts_a_new_execution", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		old := async("orders", "key_1", "k-1")
		old.CreatedAt = time.Now().Add(-store.IdempotencyWindow - time.Minute)
		h.accept(old)
		recent := async("orders", "key_1", "k-2")
		recent.CreatedAt = time.Now().Add(-store.IdempotencyWindow + time.Minute)
		h.accept(recent)

		again := async("orders", "key_1", "k-1")
		if out := h.accept(again); out[0].Duplicate || out[0].Execution.ID != again.ID {
			t.Errorf("key past the window: Accept = %s duplicate=%v, want a new execution %s", out[0].Execution.ID, out[0].Duplicate, again.ID)
		}
		if got := h.get(old.ID); got.Status != store.Pending || got.Workflow != "orders" {
			t.Errorf("the old execution changed: %+v", got)
		}
		check(t, "Get of the new one", h.get(again.ID), withJob(again, h))
		// A key inside the window still holds.
		if out := h.accept(async("orders", "key_1", "k-2")); !out[0].Duplicate || out[0].Execution.ID != recent.ID {
			t.Errorf("key inside the window: Accept = %s duplicate=%v, want %s duplicate", out[0].Execution.ID, out[0].Duplicate, recent.ID)
		}
		// And the new execution now holds the old key.
		if out := h.accept(async("orders", "key_1", "k-1")); !out[0].Duplicate || out[0].Execution.ID != again.ID {
			t.Errorf("key renewed: Accept = %s duplicate=%v, want %s duplicate", out[0].Execution.ID, out[0].Duplicate, again.ID)
		}
	})

	t.Run("executions_without_a_key_are_never_duplicates", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		a, b := async("orders", "key_1", ""), async("orders", "key_1", "")
		h.accept(a)
		out := h.accept(b)
		if out[0].Duplicate || out[0].Execution.ID != b.ID {
			t.Errorf("Accept = %s duplicate=%v, want %s fresh", out[0].Execution.ID, out[0].Duplicate, b.ID)
		}
		if len(h.jobs()) != 2 {
			t.Errorf("jobs = %v, want 2", h.jobs())
		}
	})
}

// withJob is e as stored after Accept: with its committed job id.
func withJob(e *store.Execution, h *harness) *store.Execution {
	h.t.Helper()
	w := clone(e)
	w.JobID = h.jobs()[e.ID]
	if w.JobID == 0 {
		h.t.Errorf("no job committed for %s", e.ID)
	}
	return w
}

func testConcurrency(t *testing.T, newH func(*testing.T) *harness) {
	t.Run("same_key_from_20_goroutines_is_one_execution", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		const n = 20
		var (
			wg    sync.WaitGroup
			ready = make(chan struct{})
			out   = make([]store.Accepted, n)
			errs  = make([]error, n)
		)
		for i := range n {
			wg.Go(func() {
				<-ready
				var res []store.Accepted
				res, errs[i] = h.s.Accept(h.ctx, []*store.Execution{async("orders", "key_1", "k-1")}, h.enqueue)
				if len(res) == 1 {
					out[i] = res[0]
				}
			})
		}
		close(ready)
		wg.Wait()
		distinct := map[string]bool{}
		fresh := 0
		for i := range n {
			if errs[i] != nil {
				t.Errorf("Accept %d: %v", i, errs[i])
				continue
			}
			distinct[out[i].Execution.ID] = true
			if !out[i].Duplicate {
				fresh++
			}
		}
		if len(distinct) != 1 || fresh != 1 {
			t.Fatalf("%d distinct executions, %d not duplicates; want 1 and 1: %v", len(distinct), fresh, distinct)
		}
		calls := h.enqueueCalls()
		var winner string
		for id := range distinct {
			winner = id
		}
		if !reflect.DeepEqual(calls, [][]string{{winner}}) {
			t.Errorf("enqueue calls = %v, want one with %s", calls, winner)
		}
		if jobs := h.jobs(); len(jobs) != 1 || h.get(winner).JobID != jobs[winner] {
			t.Errorf("jobs = %v, want one for %s", jobs, winner)
		}
	})

	t.Run("50_goroutines_accept_distinct_executions", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		const n = 50
		var (
			wg    sync.WaitGroup
			ready = make(chan struct{})
			execs = make([]*store.Execution, n)
			errs  = make([]error, n)
		)
		for i := range n {
			key := ""
			if i%2 == 0 {
				key = fmt.Sprintf("k-%d", i)
			}
			execs[i] = async("orders", "key_1", key)
			wg.Go(func() {
				<-ready
				_, errs[i] = h.s.Accept(h.ctx, []*store.Execution{execs[i]}, h.enqueue)
			})
		}
		close(ready)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("Accept %d: %v", i, err)
			}
		}
		jobs := h.jobs()
		for _, e := range execs {
			if got, err := h.s.Get(h.ctx, e.ID); err != nil || got.JobID != jobs[e.ID] || got.JobID == 0 {
				t.Errorf("Get(%s) = %+v, %v; want it stored with job %d", e.ID, got, err, jobs[e.ID])
			}
		}
		if calls := h.enqueueCalls(); len(calls) != n || len(jobs) != n {
			t.Errorf("%d enqueue calls, %d jobs; want %d", len(calls), len(jobs), n)
		}
	})
}

func testRecord(t *testing.T, newH func(*testing.T) *harness) {
	t.Run("sync_batch_round_trips", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		ok := syncExec("orders", store.Succeeded, at(0))
		ok.Result = json.RawMessage(`{"total": 42.5, "items": [1, 2], "note": "ünïcode ✓"}`)
		ok.Logs = []store.LogEntry{
			{Time: at(0).Add(123456789), Level: "INFO", Message: "charging", Attrs: map[string]any{"amount": 42.5, "count": 3, "user": "ada", "flags": []any{true, nil}, "card": map[string]any{"last4": "4242"}}},
			{Time: at(1), Level: "WARN", Message: "slow"},
		}
		bad := syncExec("invoices", store.Failed, at(3))
		bad.Error = "workflow invoices: boom\nstack..."
		bad.Credential = ""
		bad.Logs = []store.LogEntry{{Time: at(3), Level: "ERROR", Message: "failed", Attrs: map[string]any{"err": "boom"}}}
		slow := syncExec("orders", store.TimedOut, at(4))
		slow.Error = "context deadline exceeded"
		slow.Input = nil
		want := []*store.Execution{clone(ok), clone(bad), clone(slow)}
		h.record(ok, bad, slow)
		for _, w := range want {
			check(t, "Get", h.get(w.ID), w)
		}
		if calls := h.enqueueCalls(); len(calls) != 0 {
			t.Errorf("Record enqueued %v", calls)
		}
	})

	t.Run("empty_batch_is_a_no_op", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		if err := h.s.Record(h.ctx, nil); err != nil {
			t.Errorf("Record(nil): %v", err)
		}
	})
}

func testStart(t *testing.T, newH func(*testing.T) *harness) {
	t.Run("pending_becomes_running_with_attempt_and_started_at", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		e := h.acceptOne("orders")
		want := clone(e)
		want.Status, want.Attempt, want.StartedAt = store.Running, 1, at(5)
		check(t, "Start", h.start(e.ID, 1, at(5)), want) // input included
		check(t, "Get", h.get(e.ID), want)
	})

	t.Run("next_attempt_starts_again", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name  string
			after func(h *harness, e *store.Execution)
		}{
			{"after_a_failed_attempt", func(h *harness, e *store.Execution) {
				e.Status, e.Error, e.FinishedAt = store.Pending, "attempt 1: boom", at(2)
				h.finish(e)
			}},
			{"after_a_crash_while_running", func(*harness, *store.Execution) {}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				h := newH(t)
				e := h.acceptOne("orders")
				tc.after(h, h.start(e.ID, 1, at(1)))
				got := h.start(e.ID, 2, at(10))
				if got.Status != store.Running || got.Attempt != 2 || !got.StartedAt.Equal(at(10).Truncate(time.Microsecond)) || !got.FinishedAt.IsZero() || !jsonEqual(got.Input, e.Input) {
					t.Errorf("second Start = %+v, want running in attempt 2 since %v, not finished, with the input", got, at(10))
				}
				if stored := h.get(e.ID); stored.Status != store.Running || stored.Attempt != 2 {
					t.Errorf("Get after the second Start = %s attempt %d, want running attempt 2", stored.Status, stored.Attempt)
				}
			})
		}
	})

	t.Run("cancelled_or_finished_execution_is_returned_unchanged", func(t *testing.T) {
		t.Parallel()
		for _, s := range []store.Status{store.Cancelled, store.Succeeded, store.Failed} {
			t.Run(string(s), func(t *testing.T) {
				t.Parallel()
				h := newH(t)
				before := h.inStatus(s)
				check(t, "Start", h.start(before.ID, 2, at(10)), before)
				check(t, "Get", h.get(before.ID), before)
			})
		}
	})

	t.Run("unknown_id_is_not_found", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		id := newID()
		_, err := h.s.Start(h.ctx, id, 1, at(1))
		wantNotFound(t, "Start", err)
		_, err = h.s.Get(h.ctx, id)
		wantNotFound(t, "Get after Start", err)
	})
}

func testFinish(t *testing.T, newH func(*testing.T) *harness) {
	t.Run("stores_the_outcome", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			status store.Status
			result string
			err    string
		}{
			{store.Succeeded, `{"charged": true, "id": "ch_1"}`, ""},
			{store.Failed, "", "card declined"},
			{store.TimedOut, "", "timed out after 30s"},
		} {
			t.Run(string(tc.status), func(t *testing.T) {
				t.Parallel()
				h := newH(t)
				e := h.start(h.acceptOne("orders").ID, 1, at(1))
				e.Status, e.Error, e.FinishedAt = tc.status, tc.err, at(3).Add(777)
				if tc.result != "" {
					e.Result = json.RawMessage(tc.result)
				}
				e.Logs = []store.LogEntry{{Time: at(2), Level: "INFO", Message: "working", Attrs: map[string]any{"step": 1, "of": "two"}}}
				want := clone(e)
				h.finish(e)
				check(t, "Get", h.get(e.ID), want)
			})
		}
	})

	t.Run("pending_keeps_the_error_for_the_retry", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		e := h.start(h.acceptOne("orders").ID, 1, at(1))
		e.Status, e.Error, e.FinishedAt = store.Pending, "attempt 1: connection reset", at(2)
		e.Logs = []store.LogEntry{{Time: at(1), Level: "ERROR", Message: "retrying"}}
		want := clone(e)
		h.finish(e)
		check(t, "Get", h.get(e.ID), want)
	})

	t.Run("unknown_id_is_not_found", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		e := syncExec("orders", store.Failed, at(0))
		wantNotFound(t, "Finish", h.s.Finish(h.ctx, e))
		_, err := h.s.Get(h.ctx, e.ID)
		wantNotFound(t, "Get after Finish", err)
	})
}

func testCancel(t *testing.T, newH func(*testing.T) *harness) {
	t.Run("pending_becomes_cancelled_with_finished_at", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		e := h.acceptOne("orders")
		want := clone(e)
		want.Status, want.FinishedAt = store.Cancelled, at(7)
		check(t, "Cancel", h.cancel(e.ID, at(7)), want)
		check(t, "Get", h.get(e.ID), want)
	})

	t.Run("running_stays_running_with_cancel_requested", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		e := h.inStatus(store.Running)
		if h.cancelRequested(e.ID) {
			t.Errorf("CancelRequested = true before Cancel")
		}
		check(t, "Cancel", h.cancel(e.ID, at(7)), e)
		check(t, "Get", h.get(e.ID), e)
		if !h.cancelRequested(e.ID) {
			t.Errorf("CancelRequested = false after Cancel of a running execution")
		}
	})

	t.Run("terminal_is_unchanged", func(t *testing.T) {
		t.Parallel()
		for _, s := range []store.Status{store.Succeeded, store.Failed, store.TimedOut, store.Cancelled} {
			t.Run(string(s), func(t *testing.T) {
				t.Parallel()
				h := newH(t)
				before := h.inStatus(s)
				check(t, "Cancel", h.cancel(before.ID, at(20)), before)
				check(t, "Get", h.get(before.ID), before)
			})
		}
	})

	t.Run("unknown_id_is_not_found", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		id := newID()
		_, err := h.s.Cancel(h.ctx, id, at(1))
		wantNotFound(t, "Cancel", err)
		_, err = h.s.CancelRequested(h.ctx, id)
		wantNotFound(t, "CancelRequested", err)
	})
}

func testGet(t *testing.T, newH func(*testing.T) *harness) {
	t.Run("unknown_id_is_not_found", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		h.acceptOne("orders")
		// Any string: the id comes from a URL.
		for _, id := range []string{newID(), "not-a-uuid", ""} {
			e, err := h.s.Get(h.ctx, id)
			wantNotFound(t, fmt.Sprintf("Get(%q)", id), err)
			if e != nil {
				t.Errorf("Get(%q) = %+v, want nil", id, e)
			}
		}
	})
}

func testList(t *testing.T, newH func(*testing.T) *harness) {
	// all is 12 executions, oldest first; ids and times increase.
	seed := func(h *harness) []*store.Execution {
		statuses := []store.Status{store.Succeeded, store.Failed, store.Pending, store.Succeeded}
		var all []*store.Execution
		for i := range 12 {
			wf := []string{"orders", "invoices", "orders"}[i%3]
			all = append(all, syncExec(wf, statuses[i%len(statuses)], at(i)))
		}
		h.record(all...)
		return all
	}
	// newest returns the ids of the executions f selects, newest first.
	newest := func(all []*store.Execution, f store.Filter) []string {
		var out []string
		for _, e := range slices.Backward(all) {
			if (f.Workflow == "" || e.Workflow == f.Workflow) && (f.Status == "" || e.Status == f.Status) {
				out = append(out, e.ID)
			}
		}
		return out
	}
	list := func(t *testing.T, h *harness, f store.Filter) ([]*store.Execution, string) {
		t.Helper()
		page, next, err := h.s.List(h.ctx, f)
		if err != nil {
			t.Fatalf("List(%+v): %v", f, err)
		}
		return page, next
	}

	t.Run("newest_first_with_every_field", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		all := seed(h)
		page, next := list(t, h, store.Filter{})
		if got, want := ids(page), newest(all, store.Filter{}); !slices.Equal(got, want) || next != "" {
			t.Fatalf("List = %v next %q, want %v next \"\"", got, next, want)
		}
		for i, e := range page {
			check(t, "List", e, all[len(all)-1-i])
		}
	})

	t.Run("filters", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		all := seed(h)
		for _, f := range []store.Filter{
			{Workflow: "orders"},
			{Workflow: "invoices"},
			{Status: store.Failed},
			{Status: store.Succeeded},
			{Workflow: "orders", Status: store.Pending},
			{Workflow: "nope"},
			{Status: store.TimedOut},
		} {
			page, next := list(t, h, f)
			if got, want := ids(page), newest(all, f); !slices.Equal(got, want) || next != "" {
				t.Errorf("List(%+v) = %v next %q, want %v next \"\"", f, got, next, want)
			}
		}
	})

	t.Run("limit", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		all := seed(h)
		page, next := list(t, h, store.Filter{Limit: 5})
		want := newest(all, store.Filter{})[:5]
		if got := ids(page); !slices.Equal(got, want) {
			t.Errorf("List(Limit 5) = %v, want %v", got, want)
		}
		if next != want[4] {
			t.Errorf("next cursor = %q, want the last id of the page %q", next, want[4])
		}
	})

	t.Run("cursor_pages_visit_every_execution_once", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		all := seed(h)
		for _, f := range []store.Filter{
			{Limit: 5},
			{Limit: 4}, // the last page is exactly full
			{Limit: 1},
			{Limit: 3, Workflow: "orders"},
			{Limit: 2, Status: store.Succeeded},
		} {
			var got []string
			cursor := f
			for range 20 {
				page, next := list(t, h, cursor)
				if len(page) == 0 || len(page) > f.Limit {
					t.Errorf("List(%+v) gave a page of %d", cursor, len(page))
					break
				}
				got = append(got, ids(page)...)
				if next == "" {
					break
				}
				cursor.Cursor = next
			}
			if want := newest(all, f); !slices.Equal(got, want) {
				t.Errorf("pages of %+v visited %v, want %v", f, got, want)
			}
		}
	})

	t.Run("default_and_maximum_limit", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		var all []*store.Execution
		for i := range 501 {
			all = append(all, syncExec("orders", store.Succeeded, at(i)))
		}
		h.record(all...)
		for _, tc := range []struct{ limit, want int }{{0, 50}, {500, 500}, {1000, 500}} {
			page, next := list(t, h, store.Filter{Limit: tc.limit})
			want := newest(all, store.Filter{})[:tc.want]
			if got := ids(page); !slices.Equal(got, want) || next != want[len(want)-1] {
				t.Errorf("List(Limit %d) = %d executions, next %q; want the %d newest, next %q", tc.limit, len(got), next, tc.want, want[len(want)-1])
			}
		}
	})

	t.Run("empty_store", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		if page, next := list(t, h, store.Filter{}); len(page) != 0 || next != "" {
			t.Errorf("List of an empty store = %d executions, next %q", len(page), next)
		}
	})
}

// newKey is a key as the keys command creates it; ids here are not the
// runtime's form: a store takes any string.
func newKey(id string, created time.Time, workflows ...string) *store.Key {
	return &store.Key{
		ID:          id,
		Hash:        strings.Repeat(id[:1], 64),
		Workflows:   workflows,
		Description: "key " + id,
		CreatedAt:   created,
	}
}

func (h *harness) createKey(k *store.Key) {
	h.t.Helper()
	if err := h.s.CreateKey(h.ctx, k); err != nil {
		h.t.Fatalf("CreateKey(%s): %v", k.ID, err)
	}
}

func (h *harness) getKey(id string) *store.Key {
	h.t.Helper()
	k, err := h.s.GetKey(h.ctx, id)
	if err != nil {
		h.t.Fatalf("GetKey(%s): %v", id, err)
	}
	return k
}

// checkKey fails t when got is not want as a store gives it back: times
// truncated to microseconds, in UTC; an empty scope as nil.
func checkKey(t *testing.T, what string, got, want *store.Key) {
	t.Helper()
	var d []string
	if got.ID != want.ID || got.Hash != want.Hash || got.Description != want.Description {
		d = append(d, fmt.Sprintf("id/hash/description %q %q %q, want %q %q %q", got.ID, got.Hash, got.Description, want.ID, want.Hash, want.Description))
	}
	if len(want.Workflows) == 0 {
		if got.Workflows != nil || !got.Global() {
			d = append(d, fmt.Sprintf("workflows %#v, want nil (global)", got.Workflows))
		}
	} else if !slices.Equal(got.Workflows, want.Workflows) || got.Global() {
		d = append(d, fmt.Sprintf("workflows %q, want %q", got.Workflows, want.Workflows))
	}
	for _, tc := range []struct {
		name      string
		got, want time.Time
	}{
		{"created_at", got.CreatedAt, want.CreatedAt},
		{"expires_at", got.ExpiresAt, want.ExpiresAt},
		{"revoked_at", got.RevokedAt, want.RevokedAt},
		{"last_used_at", got.LastUsedAt, want.LastUsedAt},
	} {
		if s := timeDiff(tc.got, tc.want); s != "" {
			d = append(d, tc.name+": "+s)
		}
	}
	if len(d) > 0 {
		t.Errorf("%s: key %s differs:\n\t%s", what, want.ID, strings.Join(d, "\n\t"))
	}
}

func testKeys(t *testing.T, newH func(*testing.T) *harness) {
	t.Run("create_get_round_trip", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		for _, k := range []*store.Key{
			newKey("global", at(0)),
			newKey("empty_scope", at(1)),
			newKey("scoped", at(2), "orders", "refunds", "a-b_c"),
			func() *store.Key {
				k := newKey("expiring", at(3), "orders")
				k.ExpiresAt = at(90 * 24 * 3600)
				k.Description = "quotes ' and \" and ünïcode"
				return k
			}(),
		} {
			if k.ID == "empty_scope" {
				k.Workflows = []string{}
			}
			h.createKey(k)
			checkKey(t, "GetKey after CreateKey", h.getKey(k.ID), k)
		}
	})
	t.Run("get_unknown_is_not_found", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		h.createKey(newKey("known", at(0)))
		for _, id := range []string{"unknown", "KNOWN", "known ", ""} {
			k, err := h.s.GetKey(h.ctx, id)
			wantNotFound(t, fmt.Sprintf("GetKey(%q)", id), err)
			if k != nil {
				t.Errorf("GetKey(%q) = %+v, want nil", id, k)
			}
		}
	})
	t.Run("create_repeated_id_fails_and_keeps_the_first", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		first := newKey("dup", at(0))
		h.createKey(first)
		second := newKey("dup", at(5), "orders")
		second.Hash = strings.Repeat("f", 64)
		if err := h.s.CreateKey(h.ctx, second); err == nil {
			t.Fatal("CreateKey with a repeated id succeeded")
		}
		checkKey(t, "the first key", h.getKey("dup"), first)
	})
	t.Run("list_oldest_first", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		if keys, err := h.s.ListKeys(h.ctx); err != nil || len(keys) != 0 {
			t.Fatalf("ListKeys of an empty store = %v, %v", keys, err)
		}
		// Created out of order; two share a creation time (then by id).
		want := []*store.Key{
			newKey("c", at(1)), newKey("a", at(2), "orders"), newKey("b", at(2)), newKey("d", at(3)),
		}
		for _, i := range []int{3, 1, 0, 2} {
			h.createKey(want[i])
		}
		h.revoke("d", at(10))
		want[3].RevokedAt = at(10)
		got, err := h.s.ListKeys(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("ListKeys returned %d keys, want %d (revoked ones included)", len(got), len(want))
		}
		for i := range want {
			checkKey(t, fmt.Sprintf("ListKeys[%d]", i), got[i], want[i])
		}
	})
	t.Run("revoke", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		k := newKey("r", at(0), "orders")
		other := newKey("o", at(0))
		h.createKey(k)
		h.createKey(other)
		h.revoke("r", at(10))
		k.RevokedAt = at(10)
		checkKey(t, "after RevokeKey", h.getKey("r"), k)
		// Again, later: nothing changes (the first revocation time stays).
		h.revoke("r", at(20))
		checkKey(t, "after a second RevokeKey", h.getKey("r"), k)
		checkKey(t, "another key", h.getKey("o"), other)
		wantNotFound(t, "RevokeKey of an unknown id", h.s.RevokeKey(h.ctx, "unknown", at(30)))
		if _, err := h.s.GetKey(h.ctx, "unknown"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RevokeKey of an unknown id created it: %v", err)
		}
	})
	t.Run("touch_never_moves_back", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		a, b, c := newKey("a", at(0)), newKey("b", at(0)), newKey("c", at(0))
		for _, k := range []*store.Key{a, b, c} {
			h.createKey(k)
		}
		if err := h.s.TouchKeys(h.ctx, nil); err != nil {
			t.Fatalf("TouchKeys(nil): %v", err)
		}
		if err := h.s.TouchKeys(h.ctx, map[string]time.Time{}); err != nil {
			t.Fatalf("TouchKeys(empty): %v", err)
		}
		h.touch(map[string]time.Time{"a": at(10), "b": at(20), "unknown": at(30)})
		a.LastUsedAt, b.LastUsedAt = at(10), at(20)
		h.touch(map[string]time.Time{"a": at(5), "b": at(25)}) // a earlier: kept at 10
		b.LastUsedAt = at(25)
		checkKey(t, "a", h.getKey("a"), a)
		checkKey(t, "b", h.getKey("b"), b)
		checkKey(t, "c (not touched)", h.getKey("c"), c)
		if _, err := h.s.GetKey(h.ctx, "unknown"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("TouchKeys of an unknown id created it: %v", err)
		}
		// A revoked key's last use is still recorded; touching does not revive it.
		h.revoke("c", at(40))
		h.touch(map[string]time.Time{"c": at(50)})
		c.RevokedAt, c.LastUsedAt = at(40), at(50)
		checkKey(t, "c (revoked, then touched)", h.getKey("c"), c)
	})
	t.Run("touch_concurrently", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		h.createKey(newKey("k", at(0)))
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Go(func() {
				if err := h.s.TouchKeys(h.ctx, map[string]time.Time{"k": at(i)}); err != nil {
					t.Errorf("TouchKeys: %v", err)
				}
			})
		}
		wg.Wait()
		if got := h.getKey("k").LastUsedAt; timeDiff(got, at(9)) != "" {
			t.Errorf("last use %v after concurrent touches, want the latest %v", got, at(9))
		}
	})
	t.Run("revoke_under_write_load", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		h.createKey(newKey("k", at(0)))
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { // one writer, like the record batcher: batches of 256, no pause
			for {
				select {
				case <-stop:
					return
				default:
				}
				batch := make([]*store.Execution, 256)
				for i := range batch {
					batch[i] = syncExec("orders", store.Succeeded, time.Now())
				}
				if err := h.s.Record(h.ctx, batch); err != nil {
					t.Errorf("Record: %v", err)
					return
				}
			}
		})
		defer func() { close(stop); wg.Wait() }()
		time.Sleep(100 * time.Millisecond)
		// A revocation must commit promptly: the promise is that a revoked key
		// is refused within seconds of `keys revoke`.
		var worst time.Duration
		for i := range 20 {
			start := time.Now()
			err := h.s.RevokeKey(h.ctx, "k", at(i))
			worst = max(worst, time.Since(start))
			if err != nil {
				t.Fatalf("RevokeKey under load: %v after %s", err, time.Since(start))
			}
			time.Sleep(10 * time.Millisecond)
		}
		if worst > 500*time.Millisecond {
			t.Errorf("RevokeKey under write load took up to %s, want under 500ms", worst)
		}
	})
	t.Run("count", func(t *testing.T) {
		t.Parallel()
		h := newH(t)
		count := func(want int) {
			t.Helper()
			if n, err := h.s.CountKeys(h.ctx); err != nil || n != want {
				t.Errorf("CountKeys = %d, %v; want %d", n, err, want)
			}
		}
		count(0)
		h.createKey(newKey("a", at(0)))
		count(1)
		h.createKey(newKey("b", at(1), "orders"))
		h.revoke("a", at(2))
		count(2) // revoked keys count
		expired := newKey("c", at(1))
		expired.ExpiresAt = at(2)
		h.createKey(expired)
		count(3) // expired ones too
	})
}

func (h *harness) revoke(id string, at time.Time) {
	h.t.Helper()
	if err := h.s.RevokeKey(h.ctx, id, at); err != nil {
		h.t.Fatalf("RevokeKey(%s): %v", id, err)
	}
}

func (h *harness) touch(used map[string]time.Time) {
	h.t.Helper()
	if err := h.s.TouchKeys(h.ctx, used); err != nil {
		h.t.Fatalf("TouchKeys: %v", err)
	}
}
