package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/bifrost-go/bifrost/internal/execctx"
	"github.com/bifrost-go/bifrost/runtime/store"
)

// executionWorker runs async executions off the queue.
type executionWorker struct {
	river.WorkerDefaults[executionArgs]
	en *engine
}

// Timeout leaves the deadline to the workflow's own timeout.
func (w *executionWorker) Timeout(*river.Job[executionArgs]) time.Duration { return -1 }

// Work runs one attempt of an execution and records its outcome. An error
// returned to the queue means "run it again later": a failed attempt with
// retries left, or a run interrupted by shutdown.
func (w *executionWorker) Work(ctx context.Context, job *river.Job[executionArgs]) error {
	en := w.en
	id := job.Args.ExecutionID
	e, err := en.store.Start(ctx, id, job.Attempt, time.Now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil // its accept was rolled back: nothing to run
	case err != nil:
		return err
	case e.Status.Terminal():
		return nil // cancelled before it ran
	}
	ctx, span := en.tracing.startAttempt(ctx, e, job.Attempt)
	defer span.end(e)
	wf := en.workflows[e.Workflow]
	if wf == nil {
		e.Status, e.Error, e.FinishedAt = store.Failed, "this binary has no workflow named "+e.Workflow, time.Now()
		return en.finish(e)
	}
	args := wf.NewArgs()
	if err := json.Unmarshal(e.Input, args); err != nil {
		e.Status, e.Error, e.FinishedAt = store.Failed, "stored input does not decode: "+err.Error(), time.Now()
		return en.finish(e)
	}

	runCtx, stop := en.runContext(ctx, id, wf)
	defer stop()
	capture := &execctx.Capture{}
	exec := &execctx.Execution{ID: id, Workflow: wf.Name, Base: en.log, Capture: capture, Trace: span.trace(), Client: en.client}
	if en.config != nil {
		exec.Config = en.config
	}
	exec.Steps = en.journal(e, exec)
	res, runErr := invoke(execctx.With(runCtx, exec), args)
	e.FinishedAt = time.Now()
	e.Logs = capturedLogs(capture)
	secrets := exec.Secrets()

	cause := context.Cause(runCtx)
	cancelled := en.cancelled(ctx, runCtx, id)
	switch {
	case errors.Is(cause, errLeaseLost):
		// PostgreSQL: this worker lost its lease (cluster.go) and another may
		// run the execution now: write nothing, hand the job back.
		span.ended("handed_back")
		return handBack()
	case cancelled:
		e.Status, e.Error = store.Cancelled, "cancelled"
	case errors.Is(runCtx.Err(), context.DeadlineExceeded):
		e.Status, e.Error = store.TimedOut, "the workflow did not finish within its timeout of "+wf.Timeout.String()
	case ctx.Err() != nil:
		// The worker is shutting down: hand the execution back to run again.
		e.Status, e.Error = store.Pending, "interrupted by a shutdown; it will run again"
		mask(e, secrets)
		if err := en.finish(e); err != nil {
			return err
		}
		return ctx.Err()
	case runErr != nil:
		e.Status, e.Error = store.Failed, errorText(runErr)
		if pe, ok := runErr.(*panicError); ok {
			en.log.LogAttrs(ctx, slog.LevelError, "workflow panicked", slog.String("workflow", wf.Name),
				slog.String("execution_id", id), slog.String("panic", execctx.MaskText(panicMessage(pe.value), secrets)), slog.String("stack", string(pe.stack)))
		}
	default:
		e.Status = store.Succeeded
		if e.Result, err = marshalResult(res); err != nil {
			e.Status, e.Error = store.Failed, "the result is not JSON: "+err.Error()
		}
	}
	mask(e, secrets)
	span.ended(string(e.Status))
	return en.settle(e, job)
}

// runContext is the context an attempt of execution id runs in: cancelled
// by a cancel of the execution (en.running) and at the workflow's timeout.
// stop releases it once the attempt's outcome is stored.
func (en *engine) runContext(ctx context.Context, id string, wf *Workflow) (runCtx context.Context, stop func()) {
	runCtx, cancelRun := context.WithCancelCause(ctx)
	en.running.Store(id, cancelRun)
	cancel := context.CancelFunc(func() {})
	if wf.Timeout > 0 {
		runCtx, cancel = context.WithTimeout(runCtx, wf.Timeout)
	}
	return runCtx, func() {
		cancel()
		en.running.Delete(id)
		cancelRun(nil)
	}
}

// cancelled reports whether the attempt that ran in runCtx was cancelled:
// asked for in this process, by the queue, or recorded by another process.
func (en *engine) cancelled(ctx, runCtx context.Context, id string) bool {
	cause := context.Cause(runCtx)
	if errors.Is(cause, errCancelled) || errors.Is(cause, rivertype.ErrJobCancelledRemotely) {
		return true
	}
	if runCtx.Err() == nil || errors.Is(runCtx.Err(), context.DeadlineExceeded) {
		return false
	}
	// Not a timeout, not asked for: is it a cancel recorded by another process?
	asked, err := en.store.CancelRequested(context.WithoutCancel(ctx), id)
	return err == nil && asked
}

// settle stores the outcome of an attempt. A failure or timeout with
// attempts left goes back to pending and is returned as an error, so the
// queue runs it again.
func (en *engine) settle(e *store.Execution, job *river.Job[executionArgs]) error {
	retry := (e.Status == store.Failed || e.Status == store.TimedOut) && job.Attempt < job.MaxAttempts
	if retry {
		e.Status = store.Pending // the error stays on the record until the next attempt ends
		if err := en.finish(e); err != nil {
			return err
		}
		if m := en.workflowMetrics(e.Workflow); m != nil {
			inc(m.retries)
		}
		return errors.New(e.Error)
	}
	return en.finish(e)
}

// workflowMetrics returns the metrics of a workflow of this binary, or nil.
func (en *engine) workflowMetrics(name string) *workflowMetrics {
	if en.metrics == nil {
		return nil
	}
	return en.metrics.workflows[name]
}

// finish stores the attempt's outcome and wakes whoever waits for it.
func (en *engine) finish(e *store.Execution) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := en.store.Finish(ctx, e); err != nil {
		return err
	}
	if e.Status.Terminal() {
		en.waiters.ended(e.ID)
		if m := en.workflowMetrics(e.Workflow); m != nil {
			m.end(e.Status, e.FinishedAt.Sub(e.StartedAt))
		}
	}
	return nil
}

// errorText is the message kept on the record: the real one, for operators,
// as valid UTF-8 without NUL bytes (PostgreSQL's text refuses both, and one
// refused row would fail the batch written with it).
func errorText(err error) string {
	msg := err.Error()
	if pe, ok := err.(*panicError); ok {
		msg = "panic: " + panicMessage(pe.value)
	}
	return cleanText(msg)
}

func cleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func capturedLogs(c *execctx.Capture) []store.LogEntry {
	entries, dropped := c.Entries()
	out := make([]store.LogEntry, 0, len(entries)+1)
	for _, e := range entries {
		for k, v := range e.Attrs {
			if s, ok := v.(string); ok {
				e.Attrs[k] = cleanText(s)
			}
		}
		out = append(out, store.LogEntry{Time: e.Time, Level: e.Level, Message: cleanText(e.Message), Attrs: e.Attrs})
	}
	if dropped > 0 {
		out = append(out, store.LogEntry{Time: time.Now().UTC(), Level: "WARN", Message: "log lines past the cap were dropped",
			Attrs: map[string]any{"dropped": dropped}})
	}
	return out
}

func panicMessage(v any) string {
	if err, ok := v.(error); ok {
		return err.Error()
	}
	return fmt.Sprint(v)
}
