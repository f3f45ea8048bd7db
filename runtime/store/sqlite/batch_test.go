package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/runtime/store"
)

func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "bifrost.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// executions are n executions whose columns all differ, as stored (times
// in microseconds, UTC).
func executions(n int, mode string) []*store.Execution {
	base := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	out := make([]*store.Execution, n)
	for i := range out {
		at := base.Add(time.Duration(i) * time.Millisecond)
		e := &store.Execution{
			ID: fmt.Sprintf("0190a000-0000-7000-8000-%012d", i), Workflow: fmt.Sprint("wf", i%3), Mode: mode,
			Status: store.Succeeded, Attempt: 1 + i%2, Input: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)),
			Result: json.RawMessage(fmt.Sprint(i)), Error: fmt.Sprint("e", i), Credential: fmt.Sprint("key", i),
			CreatedAt: at, StartedAt: at.Add(time.Microsecond), FinishedAt: at.Add(2 * time.Microsecond),
			Trigger: store.TriggerHTTP, ReplayOf: fmt.Sprint("r", i), TraceParent: fmt.Sprint("t", i),
		}
		if i%4 == 0 {
			e.Input, e.Result = nil, nil
			e.Logs = []store.LogEntry{{Time: at, Level: "INFO", Message: fmt.Sprint("m", i)}}
		}
		if mode == "async" {
			e.Status, e.StartedAt, e.FinishedAt = store.Pending, time.Time{}, time.Time{}
			e.IdempotencyKey = fmt.Sprint("idem", i)
		}
		out[i] = e
	}
	return out
}

func checkStored(t *testing.T, s *Store, want []*store.Execution) {
	t.Helper()
	for _, w := range want {
		got, err := s.Get(t.Context(), w.ID)
		if err != nil {
			t.Fatalf("Get %s: %v", w.ID, err)
		}
		if !reflect.DeepEqual(got, w) {
			t.Fatalf("Get %s:\n got %+v\nwant %+v", w.ID, got, w)
		}
	}
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM bifrost_executions`).Scan(&n); err != nil || n != len(want) {
		t.Fatalf("%d executions stored (%v), want %d", n, err, len(want))
	}
}

// TestRecordManyRows: a batch is written in statements of 256, 128... rows,
// every column of every row in its place.
func TestRecordManyRows(t *testing.T) {
	for _, n := range []int{1, 2, 37, 256, 300} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := openStore(t)
			want := executions(n, "sync")
			if err := s.Record(t.Context(), want); err != nil {
				t.Fatal(err)
			}
			checkStored(t, s, want)
		})
	}
}

// TestRecordManyRowsFailsWhole: a batch with a row that cannot be written
// writes none.
func TestRecordManyRowsFailsWhole(t *testing.T) {
	s := openStore(t)
	execs := executions(40, "sync")
	execs[39].ID = execs[3].ID // in another statement than its twin (32 + 8)
	if err := s.Record(t.Context(), execs); err == nil {
		t.Fatal("a batch with a repeated id was recorded")
	}
	checkStored(t, s, nil)
}

// TestAcceptManyRows: accepted executions are written many rows a
// statement, each with the job id the queue gave it.
func TestAcceptManyRows(t *testing.T) {
	s := openStore(t)
	want := executions(300, "async")
	enqueue := func(_ context.Context, _ *sql.Tx, fresh []*store.Execution) ([]int64, error) {
		ids := make([]int64, len(fresh))
		for i := range ids {
			ids[i] = int64(1000 + i)
		}
		return ids, nil
	}
	accepted, err := s.Accept(t.Context(), want, enqueue)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range accepted {
		if a.Duplicate || a.Execution != want[i] || want[i].JobID != int64(1000+i) {
			t.Fatalf("accepted[%d] = %+v (job %d)", i, a, want[i].JobID)
		}
	}
	checkStored(t, s, want)
}

// TestGroupedStartFinish: concurrent starts and finishes, each answered
// with its own execution, all written.
func TestGroupedStartFinish(t *testing.T) {
	s := openStore(t)
	execs := executions(200, "async")
	if _, err := s.Accept(t.Context(), execs, func(_ context.Context, _ *sql.Tx, fresh []*store.Execution) ([]int64, error) {
		return make([]int64, len(fresh)), nil
	}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan error, len(execs))
	for _, e := range execs {
		wg.Go(func() {
			got, err := s.Start(t.Context(), e.ID, 3, at)
			if err != nil || got.ID != e.ID || got.Status != store.Running || got.Attempt != 3 || !got.StartedAt.Equal(at) {
				errs <- fmt.Errorf("Start %s: %+v, %v", e.ID, got, err)
				return
			}
			got.Status, got.Result, got.FinishedAt = store.Succeeded, json.RawMessage(`"done"`), at.Add(time.Second)
			if err := s.Finish(t.Context(), got); err != nil {
				errs <- fmt.Errorf("Finish %s: %v", e.ID, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM bifrost_executions WHERE status = 'succeeded' AND attempt = 3 AND result = '"done"'`).Scan(&n); err != nil || n != len(execs) {
		t.Errorf("%d executions finished (%v), want %d", n, err, len(execs))
	}
	// An execution that is not runnable is returned as it is; an unknown one
	// is not found, and so is a finish of it.
	if got, err := s.Start(t.Context(), execs[0].ID, 4, at); err != nil || got.Status != store.Succeeded || got.Attempt != 3 {
		t.Errorf("Start of a finished execution: %+v, %v", got, err)
	}
	if _, err := s.Start(t.Context(), "nope", 1, at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Start of an unknown id: %v, want ErrNotFound", err)
	}
	if err := s.Finish(t.Context(), &store.Execution{ID: "nope", Status: store.Succeeded}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Finish of an unknown id: %v, want ErrNotFound", err)
	}
}

// TestGroupedWriteFails: the writes queued behind one transaction share
// the next; one that fails gets its error, and the others are written.
func TestGroupedWriteFails(t *testing.T) {
	s := openStore(t)
	if _, err := s.db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	insert := func(id int) func(context.Context, *sql.Tx) error {
		return func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO t (id) VALUES (?)`, id)
			return err
		}
	}
	if err := s.grouped(t.Context(), insert(5)); err != nil {
		t.Fatal(err)
	}
	queued := func(n int) {
		for {
			s.group.mu.Lock()
			q, running := len(s.group.queue), s.group.running
			s.group.mu.Unlock()
			if q == n && running {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	// Hold the gate: the writer takes the first call and waits; the others
	// queue up and go in the next transaction.
	s.gate <- struct{}{}
	var wg sync.WaitGroup
	results := make([]error, 10)
	wg.Go(func() { results[0] = s.grouped(t.Context(), insert(0)) })
	queued(0)
	for i := 1; i < len(results); i++ {
		wg.Go(func() { results[i] = s.grouped(t.Context(), insert(i)) }) // 5 is taken
	}
	gone, cancel := context.WithCancel(t.Context())
	goneErr := make(chan error, 1)
	go func() { goneErr <- s.grouped(gone, insert(20)) }()
	queued(10)
	cancel()
	if err := <-goneErr; !errors.Is(err, context.Canceled) {
		t.Errorf("a call whose context ended: %v", err)
	}
	<-s.gate
	wg.Wait()
	for i, err := range results {
		if (err != nil) != (i == 5) {
			t.Errorf("insert %d: %v", i, err)
		}
	}
	var n, gotGone int
	if err := s.db.QueryRow(`SELECT COUNT(*), COUNT(*) FILTER (WHERE id = 20) FROM t`).Scan(&n, &gotGone); err != nil {
		t.Fatal(err)
	}
	if n != 10 || gotGone != 0 {
		t.Errorf("%d rows (%d of the call that went), want 10 (0)", n, gotGone)
	}
}

// BenchmarkRecord writes batches of 64 sync records.
//
//	go test ./runtime/store/sqlite -run '^$' -bench Record -count 6
func BenchmarkRecord(b *testing.B) {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "bifrost.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const batch = 64
	execs := executions(batch, "sync")
	b.ResetTimer()
	for i := range b.N {
		for j, e := range execs {
			e.ID = fmt.Sprintf("0190a000-0000-7000-8000-%06d%06d", i, j)
		}
		if err := s.Record(b.Context(), execs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*batch), "µs/record")
}
