package storetest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bifrost-go/bifrost/runtime/store"
)

func testAccept(t *testing.T, newH func(*testing.T) *harness) {
	runTests(t, newH,
		test{"stores_fresh_executions_with_every_field", acceptStoresFreshExecutionsWithEveryField},
		test{"enqueue_gets_exactly_the_fresh_executions", acceptEnqueueGetsExactlyTheFreshExecutions},
		test{"enqueue_error_rolls_everything_back", acceptEnqueueErrorRollsEverythingBack},
		test{"enqueue_with_too_few_job_ids_is_an_error", acceptEnqueueWithTooFewJobIDsIsAnError},
		test{"repeated_key_returns_the_first_execution_and_enqueues_nothing", acceptRepeatedKeyReturnsTheFirstExecutionAndEnqueuesNothing},
		test{"same_key_twice_in_one_batch_is_one_execution", acceptSameKeyTwiceInOneBatchIsOneExecution},
		test{"key_older_than_the_window_starts_a_new_execution", acceptKeyOlderThanTheWindowStartsANewExecution},
		test{"executions_without_a_key_are_never_duplicates", acceptExecutionsWithoutAKeyAreNeverDuplicates},
		test{"in_the_callers_transaction", acceptInTheCallersTransaction},
	)
	runCases(t, newH, "same_key_with_another_credential_or_workflow_is_new", []otherCaller{
		{"another_credential", "orders", "key_2"},
		{"public_call", "orders", ""},
		{"another_workflow", "invoices", "key_1"},
	}, otherCaller.caseName, acceptSameKeyFromAnotherCallerIsNew)
}

// otherCaller calls with an idempotency key another caller used.
type otherCaller struct{ name, workflow, credential string }

func (c otherCaller) caseName() string { return c.name }

func acceptSameKeyFromAnotherCallerIsNew(t *testing.T, h *harness, tc otherCaller) {
	first := async("orders", "key_1", "k-1")
	h.accept(first)
	other := async(tc.workflow, tc.credential, "k-1")
	out := h.accept(other)
	if out[0].Duplicate || out[0].Execution.ID != other.ID {
		t.Errorf("Accept = %s duplicate=%v, want a new execution %s", out[0].Execution.ID, out[0].Duplicate, other.ID)
	}
	check(t, "Get of the first", h.get(first.ID), withJob(first, h))
	check(t, "Get of the new one", h.get(other.ID), withJob(other, h))
}

func acceptStoresFreshExecutionsWithEveryField(t *testing.T, h *harness) {
	a := async("orders", "key_1", "k-1")
	b := async("orders", "", "") // a public call, without a key, replaying a in a trace
	b.Input = json.RawMessage(`[]`)
	b.Trigger, b.ReplayOf = store.TriggerReplay, a.ID
	b.TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
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
}

func acceptEnqueueGetsExactlyTheFreshExecutions(t *testing.T, h *harness) {
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
}

func acceptEnqueueErrorRollsEverythingBack(t *testing.T, h *harness) {
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
}

func acceptEnqueueWithTooFewJobIDsIsAnError(t *testing.T, h *harness) {
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
}

func acceptRepeatedKeyReturnsTheFirstExecutionAndEnqueuesNothing(t *testing.T, h *harness) {
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
}

func acceptSameKeyTwiceInOneBatchIsOneExecution(t *testing.T, h *harness) {
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
}

func acceptKeyOlderThanTheWindowStartsANewExecution(t *testing.T, h *harness) {
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
}

func acceptExecutionsWithoutAKeyAreNeverDuplicates(t *testing.T, h *harness) {
	a, b := async("orders", "key_1", ""), async("orders", "key_1", "")
	h.accept(a)
	out := h.accept(b)
	if out[0].Duplicate || out[0].Execution.ID != b.ID {
		t.Errorf("Accept = %s duplicate=%v, want %s fresh", out[0].Execution.ID, out[0].Duplicate, b.ID)
	}
	if len(h.jobs()) != 2 {
		t.Errorf("jobs = %v, want 2", h.jobs())
	}
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
	runTests(t, newH,
		test{"same_key_from_20_goroutines_is_one_execution", concurrentSameKeyFrom20GoroutinesIsOneExecution},
		test{"50_goroutines_accept_distinct_executions", concurrent50GoroutinesAcceptDistinctExecutions},
	)
}

func concurrentSameKeyFrom20GoroutinesIsOneExecution(t *testing.T, h *harness) {
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
}

func concurrent50GoroutinesAcceptDistinctExecutions(t *testing.T, h *harness) {
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
}

func testRecord(t *testing.T, newH func(*testing.T) *harness) {
	runTests(t, newH,
		test{"sync_batch_round_trips", recordSyncBatchRoundTrips},
		test{"empty_batch_is_a_no_op", recordEmptyBatchIsANoOp},
	)
}

func recordSyncBatchRoundTrips(t *testing.T, h *harness) {
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
	slow.TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	want := []*store.Execution{clone(ok), clone(bad), clone(slow)}
	h.record(ok, bad, slow)
	for _, w := range want {
		check(t, "Get", h.get(w.ID), w)
	}
	if calls := h.enqueueCalls(); len(calls) != 0 {
		t.Errorf("Record enqueued %v", calls)
	}
}

func recordEmptyBatchIsANoOp(t *testing.T, h *harness) {
	if err := h.s.Record(h.ctx, nil); err != nil {
		t.Errorf("Record(nil): %v", err)
	}
}

func testStart(t *testing.T, newH func(*testing.T) *harness) {
	runTests(t, newH,
		test{"pending_becomes_running_with_attempt_and_started_at", startPendingBecomesRunningWithAttemptAndStartedAt},
		test{"unknown_id_is_not_found", startUnknownIDIsNotFound},
	)
	runCases(t, newH, "next_attempt_starts_again", []nextAttempt{
		{"after_a_failed_attempt", func(h *harness, e *store.Execution) {
			e.Status, e.Error, e.FinishedAt = store.Pending, "attempt 1: boom", at(2)
			h.finish(e)
		}},
		{"after_a_crash_while_running", func(*harness, *store.Execution) {}},
	}, nextAttempt.caseName, startNextAttempt)
	runCases(t, newH, "cancelled_or_finished_execution_is_returned_unchanged", []store.Status{store.Cancelled, store.Succeeded, store.Failed}, statusName,
		returnedUnchanged("Start", func(h *harness, id string) *store.Execution { return h.start(id, 2, at(10)) }))
}

// nextAttempt is how the first attempt of an execution ended: after, given
// the execution it started.
type nextAttempt struct {
	name  string
	after func(h *harness, e *store.Execution)
}

func (c nextAttempt) caseName() string { return c.name }

func startNextAttempt(t *testing.T, h *harness, tc nextAttempt) {
	e := h.acceptOne("orders")
	tc.after(h, h.start(e.ID, 1, at(1)))
	got := h.start(e.ID, 2, at(10))
	if got.Status != store.Running || got.Attempt != 2 || !got.StartedAt.Equal(at(10).Truncate(time.Microsecond)) || !got.FinishedAt.IsZero() || !jsonEqual(got.Input, e.Input) {
		t.Errorf("second Start = %+v, want running in attempt 2 since %v, not finished, with the input", got, at(10))
	}
	if stored := h.get(e.ID); stored.Status != store.Running || stored.Attempt != 2 {
		t.Errorf("Get after the second Start = %s attempt %d, want running attempt 2", stored.Status, stored.Attempt)
	}
}

// returnedUnchanged checks that op (called what), on an execution in the
// case's status, returns it as it was and leaves it so.
func returnedUnchanged(what string, op func(h *harness, id string) *store.Execution) func(*testing.T, *harness, store.Status) {
	return func(t *testing.T, h *harness, s store.Status) {
		before := h.inStatus(s)
		check(t, what, op(h, before.ID), before)
		check(t, "Get", h.get(before.ID), before)
	}
}

func startPendingBecomesRunningWithAttemptAndStartedAt(t *testing.T, h *harness) {
	e := h.acceptOne("orders")
	want := clone(e)
	want.Status, want.Attempt, want.StartedAt = store.Running, 1, at(5)
	check(t, "Start", h.start(e.ID, 1, at(5)), want) // input included
	check(t, "Get", h.get(e.ID), want)
}

func startUnknownIDIsNotFound(t *testing.T, h *harness) {
	id := newID()
	_, err := h.s.Start(h.ctx, id, 1, at(1))
	wantNotFound(t, "Start", err)
	_, err = h.s.Get(h.ctx, id)
	wantNotFound(t, "Get after Start", err)
}

func testFinish(t *testing.T, newH func(*testing.T) *harness) {
	runTests(t, newH,
		test{"pending_keeps_the_error_for_the_retry", finishPendingKeepsTheErrorForTheRetry},
		test{"unknown_id_is_not_found", finishUnknownIDIsNotFound},
	)
	runCases(t, newH, "stores_the_outcome", []outcome{
		{store.Succeeded, `{"charged": true, "id": "ch_1"}`, ""},
		{store.Failed, "", "card declined"},
		{store.TimedOut, "", "timed out after 30s"},
	}, outcome.caseName, finishStoresTheOutcome)
}

// outcome is how an attempt ends.
type outcome struct {
	status      store.Status
	result, err string
}

func (c outcome) caseName() string { return string(c.status) }

func finishStoresTheOutcome(t *testing.T, h *harness, tc outcome) {
	e := h.start(h.acceptOne("orders").ID, 1, at(1))
	e.Status, e.Error, e.FinishedAt = tc.status, tc.err, at(3).Add(777)
	if tc.result != "" {
		e.Result = json.RawMessage(tc.result)
	}
	e.Logs = []store.LogEntry{{Time: at(2), Level: "INFO", Message: "working", Attrs: map[string]any{"step": 1, "of": "two"}}}
	want := clone(e)
	h.finish(e)
	check(t, "Get", h.get(e.ID), want)
}

func finishPendingKeepsTheErrorForTheRetry(t *testing.T, h *harness) {
	e := h.start(h.acceptOne("orders").ID, 1, at(1))
	e.Status, e.Error, e.FinishedAt = store.Pending, "attempt 1: connection reset", at(2)
	e.Logs = []store.LogEntry{{Time: at(1), Level: "ERROR", Message: "retrying"}}
	want := clone(e)
	h.finish(e)
	check(t, "Get", h.get(e.ID), want)
}

func finishUnknownIDIsNotFound(t *testing.T, h *harness) {
	e := syncExec("orders", store.Failed, at(0))
	wantNotFound(t, "Finish", h.s.Finish(h.ctx, e))
	_, err := h.s.Get(h.ctx, e.ID)
	wantNotFound(t, "Get after Finish", err)
}

func testCancel(t *testing.T, newH func(*testing.T) *harness) {
	runTests(t, newH,
		test{"pending_becomes_cancelled_with_finished_at", cancelPendingBecomesCancelledWithFinishedAt},
		test{"running_stays_running_with_cancel_requested", cancelRunningStaysRunningWithCancelRequested},
		test{"unknown_id_is_not_found", cancelUnknownIDIsNotFound},
	)
	runCases(t, newH, "terminal_is_unchanged", []store.Status{store.Succeeded, store.Failed, store.TimedOut, store.Cancelled}, statusName,
		returnedUnchanged("Cancel", func(h *harness, id string) *store.Execution { return h.cancel(id, at(20)) }))
}

func cancelPendingBecomesCancelledWithFinishedAt(t *testing.T, h *harness) {
	e := h.acceptOne("orders")
	want := clone(e)
	want.Status, want.FinishedAt = store.Cancelled, at(7)
	check(t, "Cancel", h.cancel(e.ID, at(7)), want)
	check(t, "Get", h.get(e.ID), want)
}

func cancelRunningStaysRunningWithCancelRequested(t *testing.T, h *harness) {
	e := h.inStatus(store.Running)
	if h.cancelRequested(e.ID) {
		t.Errorf("CancelRequested = true before Cancel")
	}
	check(t, "Cancel", h.cancel(e.ID, at(7)), e)
	check(t, "Get", h.get(e.ID), e)
	if !h.cancelRequested(e.ID) {
		t.Errorf("CancelRequested = false after Cancel of a running execution")
	}
}

func cancelUnknownIDIsNotFound(t *testing.T, h *harness) {
	id := newID()
	_, err := h.s.Cancel(h.ctx, id, at(1))
	wantNotFound(t, "Cancel", err)
	_, err = h.s.CancelRequested(h.ctx, id)
	wantNotFound(t, "CancelRequested", err)
}

func testGet(t *testing.T, newH func(*testing.T) *harness) {
	runTests(t, newH,
		test{"unknown_id_is_not_found", getUnknownIDIsNotFound},
	)
}

func getUnknownIDIsNotFound(t *testing.T, h *harness) {
	h.acceptOne("orders")
	// Any string: the id comes from a URL.
	for _, id := range []string{newID(), "not-a-uuid", ""} {
		e, err := h.s.Get(h.ctx, id)
		wantNotFound(t, fmt.Sprintf("Get(%q)", id), err)
		if e != nil {
			t.Errorf("Get(%q) = %+v, want nil", id, e)
		}
	}
}

func testList(t *testing.T, newH func(*testing.T) *harness) {
	runTests(t, newH,
		test{"newest_first_with_every_field", listNewestFirstWithEveryField},
		test{"filters", listFilters},
		test{"limit", listLimit},
		test{"cursor_pages_visit_every_execution_once", listCursorPagesVisitEveryExecutionOnce},
		test{"default_and_maximum_limit", listDefaultAndMaximumLimit},
		test{"empty_store", listEmptyStore},
		test{"replays_of_one_execution", listReplaysOfOneExecution},
		test{"time_bounds", listTimeBounds},
	)
}

func listNewestFirstWithEveryField(t *testing.T, h *harness) {
	all := seedList(h)
	page, next := listPage(t, h, store.Filter{})
	if got, want := ids(page), newest(all, store.Filter{}); !slices.Equal(got, want) || next != "" {
		t.Fatalf("List = %v next %q, want %v next \"\"", got, next, want)
	}
	for i, e := range page {
		check(t, "List", e, all[len(all)-1-i])
	}
}

func listFilters(t *testing.T, h *harness) {
	all := seedList(h)
	for _, f := range []store.Filter{
		{Workflow: "orders"},
		{Workflow: "invoices"},
		{Status: store.Failed},
		{Status: store.Succeeded},
		{Workflow: "orders", Status: store.Pending},
		{Workflow: "nope"},
		{Status: store.TimedOut},
	} {
		page, next := listPage(t, h, f)
		if got, want := ids(page), newest(all, f); !slices.Equal(got, want) || next != "" {
			t.Errorf("List(%+v) = %v next %q, want %v next \"\"", f, got, next, want)
		}
	}
}

func listLimit(t *testing.T, h *harness) {
	all := seedList(h)
	page, next := listPage(t, h, store.Filter{Limit: 5})
	want := newest(all, store.Filter{})[:5]
	if got := ids(page); !slices.Equal(got, want) {
		t.Errorf("List(Limit 5) = %v, want %v", got, want)
	}
	if next != want[4] {
		t.Errorf("next cursor = %q, want the last id of the page %q", next, want[4])
	}
}

func listCursorPagesVisitEveryExecutionOnce(t *testing.T, h *harness) {
	all := seedList(h)
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
			page, next := listPage(t, h, cursor)
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
}

func listDefaultAndMaximumLimit(t *testing.T, h *harness) {
	var all []*store.Execution
	for i := range 501 {
		all = append(all, syncExec("orders", store.Succeeded, at(i)))
	}
	h.record(all...)
	for _, tc := range []struct{ limit, want int }{{0, 50}, {500, 500}, {1000, 500}} {
		page, next := listPage(t, h, store.Filter{Limit: tc.limit})
		want := newest(all, store.Filter{})[:tc.want]
		if got := ids(page); !slices.Equal(got, want) || next != want[len(want)-1] {
			t.Errorf("List(Limit %d) = %d executions, next %q; want the %d newest, next %q", tc.limit, len(got), next, tc.want, want[len(want)-1])
		}
	}
}

func listEmptyStore(t *testing.T, h *harness) {
	if page, next := listPage(t, h, store.Filter{}); len(page) != 0 || next != "" {
		t.Errorf("List of an empty store = %d executions, next %q", len(page), next)
	}
}

// seedList records 12 executions and returns them oldest first; ids and
// times increase.
func seedList(h *harness) []*store.Execution {
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
func newest(all []*store.Execution, f store.Filter) []string {
	var out []string
	for _, e := range slices.Backward(all) {
		if (f.Workflow == "" || e.Workflow == f.Workflow) && (f.Status == "" || e.Status == f.Status) {
			out = append(out, e.ID)
		}
	}
	return out
}

func listPage(t *testing.T, h *harness, f store.Filter) ([]*store.Execution, string) {
	t.Helper()
	page, next, err := h.s.List(h.ctx, f)
	if err != nil {
		t.Fatalf("List(%+v): %v", f, err)
	}
	return page, next
}

// acceptInTheCallersTransaction: AcceptTx writes in the caller's
// transaction, with the caller's own rows: nothing is seen before the
// commit, nothing is left after a rollback, a key is honoured as by Accept.
func acceptInTheCallersTransaction(t *testing.T, h *harness) {
	if _, err := h.db.ExecContext(h.ctx, `CREATE TABLE storetest_orders (id TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	inTx := func(commit bool, order string, e *store.Execution) store.Accepted {
		t.Helper()
		tx, err := h.db.BeginTx(h.ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		// A literal, not a placeholder: the suite runs on every SQL dialect.
		if _, err := tx.ExecContext(h.ctx, `INSERT INTO storetest_orders (id) VALUES ('`+order+`')`); err != nil {
			t.Fatal(err)
		}
		out, err := h.s.AcceptTx(h.ctx, tx, []*store.Execution{e}, h.enqueue)
		if err != nil {
			t.Fatalf("AcceptTx: %v", err)
		}
		if commit {
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		return out[0]
	}
	rolledBack := async("orders", "", "k-1")
	inTx(false, "o-1", rolledBack)
	_, err := h.s.Get(h.ctx, rolledBack.ID)
	wantNotFound(t, "Get after a rolled back AcceptTx", err)
	if jobs := h.jobs(); len(jobs) != 0 {
		t.Errorf("jobs committed despite the rollback: %v", jobs)
	}

	committed := async("orders", "", "k-1")
	if out := inTx(true, "o-2", committed); out.Duplicate {
		t.Fatalf("AcceptTx of a key whose first accept rolled back is a duplicate of %s", out.Execution.ID)
	}
	if got := h.get(committed.ID); got.JobID == 0 || got.JobID != h.jobs()[committed.ID] {
		t.Errorf("JobID = %d, want the job enqueued in the transaction %d", got.JobID, h.jobs()[committed.ID])
	}
	var orders int
	if err := h.db.QueryRowContext(h.ctx, `SELECT COUNT(*) FROM storetest_orders`).Scan(&orders); err != nil || orders != 1 {
		t.Errorf("the caller's rows: %d (%v), want the committed one", orders, err)
	}
	again := async("orders", "", "k-1")
	if out := inTx(true, "o-3", again); !out.Duplicate || out.Execution.ID != committed.ID {
		t.Errorf("AcceptTx of a used key = %s duplicate=%v, want %s", out.Execution.ID, out.Duplicate, committed.ID)
	}
}
