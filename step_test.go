package bifrost_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/internal/execctx"
)

type receipt struct {
	Charge string `json:"charge"`
	Cents  int    `json:"cents"`
}

func inExecution(j *execctx.Journal) context.Context {
	return execctx.With(context.Background(), &execctx.Execution{ID: "0190", Workflow: "w", Steps: j})
}

// Outside an execution a step is a plain call, as often as it is made.
func TestStepOutsideAnExecutionJustRuns(t *testing.T) {
	calls := 0
	for range 2 {
		v, err := bifrost.Step(context.Background(), "charge", func(context.Context) (int, error) { calls++; return 7, nil })
		if v != 7 || err != nil {
			t.Fatalf("Step = %d, %v", v, err)
		}
	}
	if calls != 2 {
		t.Errorf("fn ran %d times, want 2", calls)
	}
}

// A step's outcome is journaled; its name is taken for the attempt.
func TestStepRecordsItsOutcome(t *testing.T) {
	var saved []execctx.StepRecord
	j := &execctx.Journal{Attempt: 2, Save: func(_ context.Context, s execctx.StepRecord) error { saved = append(saved, s); return nil }}
	ctx := inExecution(j)
	r, err := bifrost.Step(ctx, "charge", func(context.Context) (receipt, error) { return receipt{"ch_1", 1250}, nil })
	if err != nil || r.Charge != "ch_1" {
		t.Fatalf("Step = %+v, %v", r, err)
	}
	boom := errors.New("card declined")
	if _, err := bifrost.Step(ctx, "ticket", func(context.Context) (string, error) { return "", boom }); !errors.Is(err, boom) {
		t.Fatalf("a failing step returned %v, want its error", err)
	}
	ran := false
	_, err = bifrost.Step(ctx, "charge", func(context.Context) (receipt, error) { ran = true; return receipt{}, nil })
	if err == nil || ran || !strings.Contains(err.Error(), `step "charge" already ran`) {
		t.Errorf("a repeated name: ran %v, err %v; want an error and no run", ran, err)
	}
	if len(saved) != 2 || saved[0].Status != "succeeded" || string(saved[0].Result) != `{"charge":"ch_1","cents":1250}` ||
		saved[0].Attempt != 2 || saved[1].Status != "failed" || saved[1].Error != "card declined" || saved[1].Result != nil {
		t.Errorf("saved %+v", saved)
	}
	if steps := j.Steps(); len(steps) != 2 || steps[0].EndedAt.Before(steps[0].StartedAt) {
		t.Errorf("journal %+v", steps)
	}
}

// A step that succeeded in an earlier attempt hands back its result.
func TestStepReturnsTheRecordedResult(t *testing.T) {
	j := &execctx.Journal{Attempt: 2, Done: map[string]json.RawMessage{"charge": json.RawMessage(`{"charge":"ch_1","cents":1250}`)}}
	ctx := inExecution(j)
	r, err := bifrost.Step(ctx, "charge", func(context.Context) (receipt, error) {
		t.Error("a recorded step ran again")
		return receipt{}, nil
	})
	if err != nil || r != (receipt{"ch_1", 1250}) {
		t.Fatalf("Step = %+v, %v; want the recorded receipt", r, err)
	}
	if len(j.Steps()) != 0 {
		t.Errorf("a replayed step was journaled again: %+v", j.Steps())
	}
	// The type changed since the result was recorded: a clear error.
	j.Done["count"] = json.RawMessage(`"three"`)
	if _, err := bifrost.Step(ctx, "count", func(context.Context) (int, error) { return 3, nil }); err == nil || !strings.Contains(err.Error(), "does not decode into int") {
		t.Errorf("a recorded result of another type: %v", err)
	}
}

// The results of earlier attempts are read at the first step, once; when
// they cannot be read, the step does not run (it may have succeeded).
func TestStepLoadsEarlierResultsOnce(t *testing.T) {
	loads := 0
	j := &execctx.Journal{Attempt: 2, Load: func(context.Context) (map[string]json.RawMessage, error) {
		loads++
		return map[string]json.RawMessage{"charge": json.RawMessage(`{"charge":"ch_1","cents":1250}`)}, nil
	}}
	ctx := inExecution(j)
	r, err := bifrost.Step(ctx, "charge", func(context.Context) (receipt, error) { return receipt{}, errors.New("ran again") })
	if err != nil || r != (receipt{"ch_1", 1250}) {
		t.Fatalf("Step = %+v, %v; want the recorded receipt", r, err)
	}
	if _, err := bifrost.Step(ctx, "email", func(context.Context) (int, error) { return 1, nil }); err != nil {
		t.Fatal(err)
	}
	if loads != 1 {
		t.Errorf("earlier results read %d times, want once", loads)
	}

	failing := &execctx.Journal{Attempt: 2, Load: func(context.Context) (map[string]json.RawMessage, error) {
		return nil, errors.New("store unreachable")
	}}
	_, err = bifrost.Step(inExecution(failing), "charge", func(context.Context) (int, error) {
		t.Error("a step ran without knowing whether it had succeeded before")
		return 0, nil
	})
	if err == nil || !strings.Contains(err.Error(), "could not be read: store unreachable") {
		t.Errorf("Step = %v; want the read's error", err)
	}
}

func TestStepResultThatIsNotJSONFails(t *testing.T) {
	j := &execctx.Journal{Attempt: 1}
	ch, err := bifrost.Step(inExecution(j), "chan", func(context.Context) (chan int, error) { return make(chan int), nil })
	if ch != nil || err == nil || !strings.Contains(err.Error(), `step "chan": its result is not JSON`) {
		t.Fatalf("Step = %v, %v; want nil and a clear error", ch, err)
	}
	if s := j.Steps(); len(s) != 1 || s[0].Status != "failed" {
		t.Errorf("journal %+v; want the step failed", s)
	}
}

func TestStepWhoseRecordFailsFails(t *testing.T) {
	down := errors.New("database is down")
	j := &execctx.Journal{Attempt: 1, Save: func(context.Context, execctx.StepRecord) error { return down }}
	if v, err := bifrost.Step(inExecution(j), "charge", func(context.Context) (int, error) { return 1, nil }); v != 0 || !errors.Is(err, down) {
		t.Errorf("Step = %d, %v; want 0 and the store's error", v, err)
	}
	for _, bad := range []string{"", "a\x00b", "\xff", strings.Repeat("n", 201)} {
		if _, err := bifrost.Step(inExecution(j), bad, func(context.Context) (int, error) { return 1, nil }); err == nil || !strings.Contains(err.Error(), "expected 1 to 200 bytes") {
			t.Errorf("name %q: %v; want it refused", bad, err)
		}
	}
}
