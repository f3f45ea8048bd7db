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
		Trigger:        store.TriggerHTTP,
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
		Trigger:    store.TriggerHTTP,
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
