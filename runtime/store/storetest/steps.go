package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// testSteps: the durable steps of an execution (bifrost.Step) round-trip in
// the order they started; a failed step is replaced by a later attempt's
// run, a succeeded one never; an attempt taken for dead cannot overwrite
// the one that replaced it; a sync execution's steps are recorded with it;
// steps go with their execution when it is pruned.
func testSteps(t *testing.T, newH func(*testing.T) *harness) {
	runTests(t, newH,
		test{"RoundTripInStartOrder", stepsRoundTripInStartOrder},
		test{"FailedIsReplacedSucceededIsKept", stepsFailedIsReplacedSucceededIsKept},
		test{"OlderAttemptCannotOverwrite", stepsOlderAttemptCannotOverwrite},
		test{"RecordedWithASyncExecution", stepsRecordedWithASyncExecution},
		test{"PrunedWithTheirExecution", stepsPrunedWithTheirExecution},
	)
}

func step(id, name string, attempt int, status store.Status, started time.Time) *store.Step {
	s := &store.Step{ExecutionID: id, Name: name, Attempt: attempt, Status: status,
		StartedAt: started, EndedAt: started.Add(3 * time.Millisecond)}
	if status == store.Succeeded {
		s.Result = json.RawMessage(`{"charge":"ch_` + name + `","cents":1250}`)
	} else {
		s.Error = "card declined: " + name
	}
	return s
}

func (h *harness) saveStep(s *store.Step) {
	h.t.Helper()
	if err := h.s.SaveStep(h.ctx, s); err != nil {
		h.t.Fatalf("SaveStep %s/%s: %v", s.ExecutionID, s.Name, err)
	}
}

func (h *harness) steps(id string) []*store.Step {
	h.t.Helper()
	steps, err := h.s.Steps(h.ctx, id)
	if err != nil {
		h.t.Fatalf("Steps %s: %v", id, err)
	}
	return steps
}

// checkSteps compares steps field by field (times to the microsecond).
func checkSteps(t *testing.T, got []*store.Step, want ...*store.Step) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d steps, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.ExecutionID != w.ExecutionID || g.Name != w.Name || g.Attempt != w.Attempt || g.Status != w.Status ||
			g.Error != w.Error || !jsonEqual(g.Result, w.Result) ||
			!g.StartedAt.Equal(w.StartedAt.Truncate(time.Microsecond)) || !g.EndedAt.Equal(w.EndedAt.Truncate(time.Microsecond)) {
			t.Errorf("step %d: got %+v (result %s), want %+v (result %s)", i, g, g.Result, w, w.Result)
		}
	}
}

func stepsRoundTripInStartOrder(t *testing.T, h *harness) {
	e := h.acceptOne("steps_a")
	h.start(e.ID, 1, at(0))
	third := step(e.ID, "notify", 1, store.Failed, at(3))
	first := step(e.ID, "charge", 1, store.Succeeded, at(1))
	second := step(e.ID, "ticket", 1, store.Succeeded, at(2))
	for _, s := range []*store.Step{third, first, second} {
		h.saveStep(s)
	}
	checkSteps(t, h.steps(e.ID), first, second, third)
	if other := h.steps(newID()); len(other) != 0 {
		t.Errorf("Steps of an unknown execution: %+v, want none", other)
	}
}

func stepsFailedIsReplacedSucceededIsKept(t *testing.T, h *harness) {
	e := h.acceptOne("steps_b")
	h.start(e.ID, 1, at(0))
	h.saveStep(step(e.ID, "charge", 1, store.Succeeded, at(1)))
	h.saveStep(step(e.ID, "ticket", 1, store.Failed, at(2)))
	h.start(e.ID, 2, at(10))
	retried := step(e.ID, "ticket", 2, store.Succeeded, at(11))
	h.saveStep(retried)
	// A step that succeeded keeps its result, whatever is saved after it.
	h.saveStep(step(e.ID, "charge", 2, store.Failed, at(12)))
	checkSteps(t, h.steps(e.ID), step(e.ID, "charge", 1, store.Succeeded, at(1)), retried)
}

func stepsOlderAttemptCannotOverwrite(t *testing.T, h *harness) {
	e := h.acceptOne("steps_c")
	h.start(e.ID, 3, at(0))
	current := step(e.ID, "charge", 3, store.Failed, at(5))
	h.saveStep(current)
	h.saveStep(step(e.ID, "charge", 2, store.Succeeded, at(6))) // a worker taken for dead
	checkSteps(t, h.steps(e.ID), current)
}

func stepsRecordedWithASyncExecution(t *testing.T, h *harness) {
	e := syncExec("steps_d", store.Succeeded, at(0))
	e.Steps = []*store.Step{step("", "lookup", 1, store.Succeeded, at(0)), step("", "render", 1, store.Failed, at(1))}
	h.record(e)
	checkSteps(t, h.steps(e.ID), step(e.ID, "lookup", 1, store.Succeeded, at(0)), step(e.ID, "render", 1, store.Failed, at(1)))
	if got := h.get(e.ID); len(got.Steps) != 0 {
		t.Errorf("Get returned %d steps; Steps reads them", len(got.Steps))
	}
}

func stepsPrunedWithTheirExecution(t *testing.T, h *harness) {
	old := time.Now().Add(-48 * time.Hour)
	gone := syncExec("steps_e", store.Succeeded, old)
	gone.Steps = []*store.Step{step("", "a", 1, store.Succeeded, old)}
	kept := syncExec("steps_e", store.Succeeded, time.Now())
	kept.Steps = []*store.Step{step("", "a", 1, store.Succeeded, time.Now())}
	h.record(gone, kept)
	if n, err := h.s.Prune(h.ctx, store.PruneFilter{Before: time.Now().Add(-24 * time.Hour), Workflow: "steps_e"}); err != nil || n != 1 {
		t.Fatalf("Prune: %d, %v; want 1", n, err)
	}
	if steps := h.steps(gone.ID); len(steps) != 0 {
		t.Errorf("the pruned execution's steps remain: %+v", steps)
	}
	if steps := h.steps(kept.ID); len(steps) != 1 {
		t.Errorf("the kept execution has %d steps, want 1", len(steps))
	}
	var n int
	if err := h.db.QueryRowContext(h.ctx, `SELECT COUNT(*) FROM bifrost_steps WHERE execution_id = '`+gone.ID+`'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("bifrost_steps rows of the pruned execution: %d, %v; want 0", n, err)
	}
}
