package storetest

import (
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// The dashboard's summaries: a workflow's calls, failures and durations
// over a window, and the workers a shared store tracks.

func testStats(t *testing.T, newH func(*testing.T) *harness) {
	runTests(t, newH,
		test{"counts_and_percentiles", statsCountsAndPercentiles},
		test{"empty_window", statsEmptyWindow},
		test{"workers", statsWorkers},
	)
}

func statsCountsAndPercentiles(t *testing.T, h *harness) {
	now := time.Now()
	var all []*store.Execution
	add := func(wf string, status store.Status, created time.Time, d time.Duration) {
		e := syncExec(wf, status, created)
		e.ID = idAt(created)
		e.FinishedAt = e.StartedAt.Add(d)
		all = append(all, e)
	}
	// 20 in the window, durations 1ms..20ms; 2 failed, 1 timed out.
	for i := range 20 {
		status := store.Succeeded
		switch i {
		case 3, 7:
			status = store.Failed
		case 11:
			status = store.TimedOut
		}
		add("orders", status, now.Add(-time.Duration(30-i)*time.Minute), time.Duration(i+1)*time.Millisecond)
	}
	add("orders", store.Failed, now.Add(-2*time.Hour), time.Hour)       // before the window
	add("invoices", store.Failed, now.Add(-time.Minute), time.Hour)     // another workflow
	pending := syncExec("orders", store.Pending, now.Add(-time.Minute)) // not ended: counted as a call only
	pending.ID, pending.StartedAt, pending.FinishedAt = idAt(pending.CreatedAt), time.Time{}, time.Time{}
	h.record(append(all, pending)...)

	st, err := h.s.Stats(h.ctx, "orders", now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := store.WorkflowStats{Calls: 21, Ended: 20, Failed: 3, P50: 10 * time.Millisecond, P95: 19 * time.Millisecond}
	if st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}
}

func statsEmptyWindow(t *testing.T, h *harness) {
	h.record(syncExec("orders", store.Succeeded, at(0)))
	st, err := h.s.Stats(h.ctx, "nope", time.Now().Add(-time.Hour))
	if err != nil || st != (store.WorkflowStats{}) {
		t.Errorf("Stats of no executions = %+v, %v; want zero", st, err)
	}
}

func statsWorkers(t *testing.T, h *harness) {
	h.register("w1")
	ws, tracked, err := h.s.Workers(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !h.shared {
		if tracked || len(ws) != 0 {
			t.Errorf("Workers on a store one process owns = %v, %v; want none, untracked", ws, tracked)
		}
		return
	}
	if !tracked || len(ws) != 1 || ws[0].ID != "w1" || ws[0].Host != "host" || ws[0].PID != 42 || ws[0].Slots != 4 ||
		ws[0].HeartbeatAge < 0 || ws[0].HeartbeatAge > time.Minute || ws[0].StartedAt.IsZero() {
		t.Errorf("Workers = %+v, %v", ws, tracked)
	}
}
