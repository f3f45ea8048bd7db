package bifrost

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bifrost-go/bifrost/internal/execctx"
)

// maxStepName bounds a step's name: it is a key, stored with every step.
const maxStepName = 200

// Step runs fn as a durable step of the execution running in ctx, named
// name, and records its outcome on the execution: its result (encoded with
// encoding/json) or its error, with the attempt and the times.
//
// When the same execution runs again (a retry after a failed attempt, or a
// re-run after its process died), a step that succeeded before returns its
// recorded result, decoded into T, without calling fn. A step that failed
// is recorded too (for the execution's timeline), and runs again on the
// next attempt: a failure is not a result worth keeping.
//
// A step is at least once, not exactly once: when the process dies after
// fn's side effect and before its result is recorded, fn runs again. Make
// the side effect idempotent toward whoever receives it, e.g. with an
// idempotency key made of the execution id and the step name (see
// docs/durable.md).
//
// name must be unique within the execution: a second step of the same name
// in one attempt returns an error without running fn. A result that
// encoding/json cannot encode fails the step. Outside an execution (a unit
// test calling the workflow function) Step just calls fn.
//
//	receipt, err := bifrost.Step(ctx, "charge", func(ctx context.Context) (Receipt, error) {
//		return payments.Charge(ctx, order.Card, order.Total, bifrost.ExecutionID(ctx)+"/charge")
//	})
func Step[T any](ctx context.Context, name string, fn func(ctx context.Context) (T, error)) (T, error) {
	var zero T
	var j *execctx.Journal
	if e := execctx.From(ctx); e != nil {
		j = e.Journal()
	}
	if j == nil {
		return fn(ctx)
	}
	if name == "" || len(name) > maxStepName || !utf8.ValidString(name) || strings.ContainsRune(name, 0) {
		return zero, fmt.Errorf("bifrost: step name %q: expected 1 to %d bytes of text (UTF-8, no NUL), unique within the execution", name, maxStepName)
	}
	if !j.Claim(name) {
		return zero, fmt.Errorf("bifrost: step %q already ran in this execution: step names must be unique within an execution", name)
	}
	raw, ok, err := j.Recorded(ctx, name)
	if err != nil {
		return zero, fmt.Errorf("bifrost: step %q: the results of earlier attempts could not be read: %w", name, err)
	}
	if ok {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return zero, fmt.Errorf("bifrost: step %q: its recorded result does not decode into %T (did the step's type change?): %w", name, v, err)
		}
		return v, nil
	}
	rec := execctx.StepRecord{Name: name, StartedAt: time.Now()}
	v, err := fn(ctx)
	rec.EndedAt = time.Now()
	if err == nil {
		if rec.Result, err = json.Marshal(v); err != nil {
			v, err = zero, fmt.Errorf("bifrost: step %q: its result is not JSON, so it cannot be recorded: %w", name, err)
		}
	}
	rec.Status = execctx.StepSucceeded
	if err != nil {
		rec.Status, rec.Result, rec.Error = execctx.StepFailed, nil, err.Error()
	}
	if serr := j.End(ctx, rec); serr != nil && err == nil {
		// Handing back a result that is not recorded would promise what a
		// crash could break: the attempt fails, and the step runs again.
		return zero, fmt.Errorf("bifrost: step %q: its result could not be recorded: %w", name, serr)
	}
	return v, err
}
