package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/bifrost-go/bifrost/runtime/store"
)

func (h *harness) register(id string) {
	h.t.Helper()
	if err := h.s.RegisterWorker(h.ctx, store.Worker{ID: id, Host: "host", PID: 42, Slots: 4}); err != nil {
		h.t.Fatalf("RegisterWorker(%s): %v", id, err)
	}
}

func (h *harness) heartbeat(id string) time.Duration {
	h.t.Helper()
	age, err := h.s.Heartbeat(h.ctx, id)
	if err != nil {
		h.t.Fatalf("Heartbeat(%s): %v", id, err)
	}
	return age
}

func testLiveness(t *testing.T, newH func(*testing.T) *harness) {
	runTests(t, newH,
		test{"heartbeat", livenessHeartbeat},
		test{"reap", livenessReap},
	)
}

func livenessHeartbeat(t *testing.T, h *harness) {
	if !h.shared {
		// One process owns the database: every call succeeds, the lease
		// is always fresh, whatever the worker.
		h.register("w")
		if age := h.heartbeat("unknown"); age != 0 {
			t.Errorf("Heartbeat on an owned store = %s, want 0", age)
		}
		if err := h.s.RemoveWorker(h.ctx, "w"); err != nil {
			t.Errorf("RemoveWorker: %v", err)
		}
		return
	}
	_, err := h.s.Heartbeat(h.ctx, "unknown")
	wantNotFound(t, "Heartbeat of an unregistered worker", err)
	h.register("w")
	if age := h.heartbeat("w"); age < 0 || age > 5*time.Second {
		t.Errorf("Heartbeat just after RegisterWorker = %s, want the age of the registration", age)
	}
	time.Sleep(300 * time.Millisecond)
	if age := h.heartbeat("w"); age < 250*time.Millisecond {
		t.Errorf("Heartbeat 300ms after the previous = %s, want at least 250ms", age)
	}
	h.register("w") // registering again renews
	if err := h.s.RemoveWorker(h.ctx, "w"); err != nil {
		t.Fatalf("RemoveWorker: %v", err)
	}
	_, err = h.s.Heartbeat(h.ctx, "w")
	wantNotFound(t, "Heartbeat after RemoveWorker", err)
	if err := h.s.RemoveWorker(h.ctx, "unknown"); err != nil {
		t.Errorf("RemoveWorker of an unknown worker: %v", err)
	}
}

func livenessReap(t *testing.T, h *harness) {
	q := h.queue(false)
	const deadAfter = time.Second
	h.register("dead")
	h.register("live")
	dead, ghost, live := q.run("dead"), q.run("ghost"), q.run("live") // ghost has no row
	time.Sleep(deadAfter + 200*time.Millisecond)
	h.heartbeat("live")
	fresh := q.run("dead") // fetched just now, by a dead worker

	got, err := h.s.ReapWorkers(h.ctx, deadAfter, time.Hour)
	if err != nil {
		t.Fatalf("ReapWorkers: %v", err)
	}
	type want struct {
		e      *store.Execution
		job    rivertype.JobState
		status store.Status
	}
	cases := map[string]want{
		"dead worker's job":              {dead, rivertype.JobStateAvailable, store.Pending},
		"job of a worker without a row":  {ghost, rivertype.JobStateAvailable, store.Pending},
		"live worker's job":              {live, rivertype.JobStateRunning, store.Running},
		"job fetched just now by a dead": {fresh, rivertype.JobStateRunning, store.Running},
	}
	wantReaped := store.Recovered{Executions: 2, Jobs: 2}
	if !h.shared {
		// One process owns the database: nothing is reaped; its orphans
		// are recovered at start.
		wantReaped = store.Recovered{}
		for name, c := range cases {
			cases[name] = want{c.e, rivertype.JobStateRunning, store.Running}
		}
	}
	if got != wantReaped {
		t.Errorf("ReapWorkers = %+v, want %+v", got, wantReaped)
	}
	for name, c := range cases {
		e := h.get(c.e.ID)
		if job := q.state(c.e.JobID); job != c.job || e.Status != c.status {
			t.Errorf("%s: job %s, execution %s; want %s, %s", name, job, e.Status, c.job, c.status)
		}
	}
	if !h.shared {
		return
	}
	// Workers silent for forgetAfter are forgotten; the others stay.
	h.heartbeat("live")
	if _, err := h.s.ReapWorkers(h.ctx, deadAfter, deadAfter); err != nil {
		t.Fatalf("ReapWorkers: %v", err)
	}
	if _, err := h.s.Heartbeat(h.ctx, "dead"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Heartbeat of a worker silent past forgetAfter: %v, want ErrNotFound (forgotten)", err)
	}
	h.heartbeat("live")
}
