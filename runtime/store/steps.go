package store

import (
	"context"
	"encoding/json"
	"time"
)

// Step is one durable step of an execution (bifrost.Step): the record of
// the last attempt that ran it. A succeeded step's Result is what a later
// attempt of the execution returns in place of running the step again.
type Step struct {
	ExecutionID string
	Name        string
	Attempt     int
	Status      Status // Succeeded or Failed
	Result      json.RawMessage
	Error       string
	StartedAt   time.Time
	EndedAt     time.Time
}

// Steps are the durable steps of executions.
type Steps interface {
	// Steps returns the steps recorded for an execution, in the order they
	// started; none for an unknown execution.
	Steps(ctx context.Context, executionID string) ([]*Step, error)
	// SaveStep records a step that ended. A step already recorded under the
	// same execution and name is replaced, unless it succeeded or was run by
	// a later attempt: a recorded result never changes once an attempt may
	// have relied on it, and a worker taken for dead cannot overwrite the
	// attempt that replaced it. The execution must exist.
	SaveStep(ctx context.Context, s *Step) error
}
