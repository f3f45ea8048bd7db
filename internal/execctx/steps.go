package execctx

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// StepRecord is one durable step (bifrost.Step) as it ended.
type StepRecord struct {
	Name      string
	Attempt   int
	Status    string // "succeeded" or "failed"
	Result    json.RawMessage
	Error     string
	StartedAt time.Time
	EndedAt   time.Time
}

// Step statuses, the same words as the executions'.
const (
	StepSucceeded = "succeeded"
	StepFailed    = "failed"
)

// Journal is the durable steps of one attempt of an execution: the results
// earlier attempts recorded, the names used so far in this one, and where a
// step's record goes when it ends. The runtime fills it in; package bifrost
// reads it. It is safe for concurrent use.
type Journal struct {
	Attempt int
	// Done holds the result of every step that succeeded in an earlier
	// attempt, by name; Load, when set, reads them instead, once, at the
	// first step: a run that takes no step costs the store no read.
	Done map[string]json.RawMessage
	Load func(ctx context.Context) (map[string]json.RawMessage, error)
	// Save stores a step as it ends (an async execution's store); nil keeps
	// it in Steps only, to be recorded with the execution (a sync one).
	Save func(ctx context.Context, s StepRecord) error

	mu     sync.Mutex
	seen   map[string]struct{}
	steps  []StepRecord
	loaded bool
}

// Claim reserves name for this attempt; false when a step of that name
// already ran in it.
func (j *Journal) Claim(name string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, dup := j.seen[name]; dup {
		return false
	}
	if j.seen == nil {
		j.seen = map[string]struct{}{}
	}
	j.seen[name] = struct{}{}
	return true
}

// Recorded returns the result of step name from an earlier attempt. An
// error means the earlier results could not be read: the step must not run
// (it may have succeeded before), and the attempt fails.
func (j *Journal) Recorded(ctx context.Context, name string) (json.RawMessage, bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.Load != nil && !j.loaded {
		// Under the lock: concurrent first steps read the store once.
		done, err := j.Load(ctx)
		if err != nil {
			return nil, false, err
		}
		j.Done, j.loaded = done, true
	}
	raw, ok := j.Done[name]
	return raw, ok, nil
}

// End keeps the record of a step that ended and saves it.
func (j *Journal) End(ctx context.Context, s StepRecord) error {
	s.Attempt = j.Attempt
	j.mu.Lock()
	j.steps = append(j.steps, s)
	j.mu.Unlock()
	if j.Save == nil {
		return nil
	}
	return j.Save(ctx, s)
}

// Steps returns the steps that ended in this attempt, in the order they ended.
func (j *Journal) Steps() []StepRecord {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]StepRecord(nil), j.steps...)
}
