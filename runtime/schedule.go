package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/bifrost-go/bifrost/internal/schedule"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/workflow"
)

// Schedules run on River's periodic jobs: the elected leader of the
// processes sharing the database (one at a time) inserts a tick job at each
// tick of a workflow's schedule; whichever worker takes the tick accepts the
// tick's execution (trigger "schedule") and its job, as a call would.
//
// A tick runs once even when it is inserted twice (a new leader elected
// around a tick, a tick job retried after a crash): its execution is
// accepted under the idempotency key "schedule:<tick time>", so a second
// accept of the same tick returns the first execution and starts nothing.
// A tick no leader was there to insert (every process down, or a leader
// election in progress) is skipped, not caught up.

// tickArgs are the queue job of one tick of a workflow's schedule.
type tickArgs struct {
	Workflow string `json:"workflow"`
}

func (tickArgs) Kind() string { return "bifrost_schedule_tick" }

// periodicSchedule is a parsed schedule as River's periodic jobs ask for it.
type periodicSchedule struct{ schedule.Schedule }

// periodicJobs are the periodic jobs of the scheduled workflows. A schedule
// the runtime cannot read (a hand-written Spec) is an error of New.
func periodicJobs(workflows []*Workflow) ([]*river.PeriodicJob, error) {
	var jobs []*river.PeriodicJob
	for _, wf := range workflows {
		if wf.Schedule == "" {
			continue
		}
		sched, err := schedule.Parse(wf.Schedule)
		if err != nil {
			return nil, fmt.Errorf("workflow %s: schedule %q: %w", wf.Name, wf.Schedule, err)
		}
		name := wf.Name
		jobs = append(jobs, river.NewPeriodicJob(periodicSchedule{sched}, func() (river.JobArgs, *river.InsertOpts) {
			return tickArgs{Workflow: name}, &river.InsertOpts{MaxAttempts: 5}
		}, &river.PeriodicJobOpts{ID: "bifrost_schedule_" + name}))
	}
	return jobs, nil
}

// tickWorker turns a tick into an execution of its workflow.
type tickWorker struct {
	river.WorkerDefaults[tickArgs]
	en *engine
}

// Work accepts the tick's execution. The tick's time is the job's scheduled
// time, which the leader set to the tick (River's periodic enqueuer).
func (w *tickWorker) Work(ctx context.Context, job *river.Job[tickArgs]) error {
	en := w.en
	wf := en.workflows[job.Args.Workflow]
	if wf == nil || wf.Schedule == "" {
		return nil // a tick of a schedule this binary no longer has
	}
	tick := job.ScheduledAt.UTC().Truncate(time.Second)
	input, err := json.Marshal(wf.NewArgs())
	if err != nil {
		return err
	}
	now := time.Now()
	id, err := freshExecutionID(now)
	if err != nil {
		return err
	}
	e := &store.Execution{
		ID: id, Workflow: wf.Name, Mode: string(workflow.Async), Status: store.Pending, Input: input,
		IdempotencyKey: "schedule:" + tick.Format(time.RFC3339), CreatedAt: now, Trigger: store.TriggerSchedule,
	}
	_, err = en.store.Accept(ctx, []*store.Execution{e}, en.enqueue)
	return err
}

// NextRun is when the workflow's schedule next fires after t, or the zero
// time for a workflow without a schedule (or with one the runtime cannot
// read: New refuses it).
func (wf *Workflow) NextRun(t time.Time) time.Time {
	if wf.Schedule == "" {
		return time.Time{}
	}
	s, err := schedule.Parse(wf.Schedule)
	if err != nil {
		return time.Time{}
	}
	return s.Next(t)
}
