package runtime

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/storetest"
	"github.com/bifrost-go/bifrost/workflow"
)

// Schedules (schedule.go): each tick of a workflow's schedule becomes one
// execution with trigger "schedule", however many replicas share the
// database, and a replica leaving does not stop the ticks.

// everySecond is a workflow scheduled @every 1s that does nothing.
func everySecond() *Workflow {
	run := func(context.Context, *jobArgs) (bind.Result, error) { return bind.NoContent(), nil }
	return &Workflow{
		Spec:    workflow.Spec{Name: "tick", Mode: workflow.Async, Timeout: time.Minute, Schedule: "@every 1s"},
		NewArgs: func() bind.Args { return &jobArgs{run: run} },
	}
}

// TestScheduleTwoReplicasPostgres: two servers on one PostgreSQL database,
// both working, for a few seconds; then the first leaves. Every tick is one
// execution, and the ticks go on after the first replica is gone.
func TestScheduleTwoReplicasPostgres(t *testing.T) {
	url := storetest.PostgresURL(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	first := startServer(t, Options{Workflows: []*Workflow{everySecond()}, Logger: quiet, Store: openStore(t, url), Workers: 2})
	st := openStore(t, url)
	startEngineServer(t, st, 2, quiet, everySecond())

	time.Sleep(4500 * time.Millisecond)
	drain(t, first, 30*time.Second)
	left := time.Now()
	// The next leader is elected within River's leadership TTL, and its
	// periodic jobs start a little after: on a loaded 2-core machine that
	// took 4 seconds.
	time.Sleep(6500 * time.Millisecond)

	ticks := scheduledTicks(t, st, left)
	t.Logf("ticks %v, handover at %s", ticks, left.Format(time.TimeOnly))
	if len(ticks) < 4 {
		t.Fatalf("%d ticks in 11 seconds, want at least 4: %v", len(ticks), ticks)
	}
	if last := ticks[len(ticks)-1]; !last.After(left) {
		t.Errorf("no tick after the first replica left at %s: the last was %s", left.Format(time.TimeOnly), last.Format(time.TimeOnly))
	}
}

// TestScheduleSQLite: one server on a SQLite file (one process owns the
// file: there are no replicas to test), one execution per tick.
func TestScheduleSQLite(t *testing.T) {
	st := openStore(t, "")
	srv := startServer(t, Options{Workflows: []*Workflow{everySecond()}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: st, Workers: 2})
	// River's leader starts its periodic jobs some 3 seconds after its
	// election.
	time.Sleep(7 * time.Second)
	drain(t, srv, 30*time.Second)
	if ticks := scheduledTicks(t, st, time.Time{}); len(ticks) < 3 {
		t.Fatalf("%d ticks in 7 seconds, want at least 3: %v", len(ticks), ticks)
	}
}

// scheduledTicks lists the tick times of the "tick" executions, oldest
// first, failing the test on an execution that is not a tick's, on two
// executions of one tick, and on a tick skipped between two others but
// around handover, when the leader left: the next leader's schedule starts
// from its election, skipping the ticks in between, never repeating one.
func scheduledTicks(t *testing.T, st store.Store, handover time.Time) []time.Time {
	t.Helper()
	list, _, err := st.List(context.Background(), store.Filter{Workflow: "tick", Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[time.Time]string{}
	var ticks []time.Time
	for i := len(list) - 1; i >= 0; i-- {
		e := list[i]
		tick, err := time.Parse(time.RFC3339, e.IdempotencyKey[len("schedule:"):])
		if e.Trigger != store.TriggerSchedule || err != nil {
			t.Fatalf("execution %s: trigger %q, key %q; want a tick's", e.ID, e.Trigger, e.IdempotencyKey)
		}
		if other, dup := seen[tick]; dup {
			t.Errorf("tick %s ran twice: executions %s and %s", tick.Format(time.TimeOnly), other, e.ID)
		}
		seen[tick] = e.ID
		ticks = append(ticks, tick)
	}
	for i := 1; i < len(ticks); i++ {
		around := !handover.IsZero() && ticks[i-1].Before(handover) && ticks[i].After(handover.Add(-time.Second))
		if gap := ticks[i].Sub(ticks[i-1]); gap != time.Second && !around {
			t.Errorf("ticks %s and %s are %s apart, want 1s", ticks[i-1].Format(time.TimeOnly), ticks[i].Format(time.TimeOnly), gap)
		}
	}
	return ticks
}
