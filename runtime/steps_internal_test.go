package runtime

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/workflow"
)

// A retry (attempt 2) hands back the steps attempt 1 completed and runs
// the one that failed again; the record shows each step's last attempt.
func TestStepsAcrossARetry(t *testing.T) {
	var charges, tickets atomic.Int32
	wf := asyncWorkflow("checkout", 1, time.Minute, func(ctx context.Context, a *jobArgs) (bind.Result, error) {
		id, err := bifrost.Step(ctx, "charge", func(context.Context) (string, error) {
			return "ch_" + string(rune('0'+charges.Add(1))), nil
		})
		if err != nil {
			return bind.Result{}, err
		}
		_, err = bifrost.Step(ctx, "ticket", func(context.Context) (int, error) {
			if tickets.Add(1) == 1 {
				return 0, errors.New("ticket desk down")
			}
			return 7, nil
		})
		if err != nil {
			return bind.Result{}, err
		}
		return bind.JSON(200, id), nil
	})
	s := newExecServer(t, wf)
	id := s.start(t, "checkout", `{}`)
	v := s.view(t, id, "30s")
	if v.Status != store.Succeeded || v.Attempt != 2 || string(v.Result) != `"ch_1"` {
		t.Fatalf("status %s, attempt %d, result %s; want succeeded on attempt 2 with the first charge", v.Status, v.Attempt, v.Result)
	}
	if charges.Load() != 1 || tickets.Load() != 2 {
		t.Errorf("charge ran %d times, ticket %d; want 1 and 2", charges.Load(), tickets.Load())
	}
	if len(v.Steps) != 2 || v.Steps[0].Name != "charge" || v.Steps[0].Attempt != 1 || v.Steps[1].Name != "ticket" ||
		v.Steps[1].Attempt != 2 || v.Steps[1].Status != store.Succeeded || v.Steps[1].Error != nil {
		t.Errorf("steps %+v", v.Steps)
	}
}

// A sync execution records its steps for the timeline; a repeated name
// fails the execution, naming the step; an anonymous view shows no steps.
func TestStepsOfASyncExecution(t *testing.T) {
	syncWF := func(name string, run argsFunc) *Workflow {
		return &Workflow{Spec: workflow.Spec{Name: name, Endpoint: true, Methods: []string{"GET"}, Timeout: time.Minute}, Decode: constant(run)}
	}
	twice := syncWF("twice", func(ctx context.Context) (bind.Result, error) {
		for range 2 {
			if _, err := bifrost.Step(ctx, "lookup", func(context.Context) (int, error) { return 1, nil }); err != nil {
				return bind.Result{}, err
			}
		}
		return bind.JSON(200, "unreachable"), nil
	})
	s := newExecServer(t, twice)
	_, h, _ := s.do(t, "GET", "/api/endpoints/twice", "")
	v := s.view(t, h.Get(HeaderExecutionID), "5s")
	if v.Status != store.Failed || v.Error == nil || !strings.Contains(*v.Error, `step "lookup" already ran`) {
		t.Fatalf("status %s, error %v; want failed on the repeated step name", v.Status, v.Error)
	}
	if len(v.Steps) != 1 || v.Steps[0].Name != "lookup" || v.Steps[0].Attempt != 1 || v.Steps[0].Status != store.Succeeded {
		t.Errorf("steps %+v; want the one lookup", v.Steps)
	}
	e := &store.Execution{ID: "x", Steps: []*store.Step{{Name: "lookup", Status: store.Failed, Error: "secret"}}}
	if got := viewFor(e, nil); got.Steps != nil {
		t.Errorf("an anonymous caller sees steps %+v", got.Steps)
	}
}
