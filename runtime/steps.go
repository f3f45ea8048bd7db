package runtime

import (
	"context"
	"encoding/json"
	"time"

	"github.com/bifrost-go/bifrost/internal/execctx"
	"github.com/bifrost-go/bifrost/runtime/store"
)

// journal is the durable steps (bifrost.Step) of the attempt of async
// execution e that is about to run: the results of the steps earlier
// attempts completed, read in one query at the attempt's first step (most
// workflows take none, and an execution would pay a read for nothing),
// and a store write for each step that ends in this one.
func (en *engine) journal(e *store.Execution, exec *execctx.Execution) *execctx.Journal {
	j := &execctx.Journal{Attempt: e.Attempt}
	j.Load = func(ctx context.Context) (map[string]json.RawMessage, error) {
		steps, err := en.store.Steps(ctx, e.ID)
		if err != nil {
			return nil, err
		}
		done := make(map[string]json.RawMessage, len(steps))
		for _, s := range steps {
			if s.Status == store.Succeeded {
				done[s.Name] = s.Result
			}
		}
		return done, nil
	}
	j.Save = func(ctx context.Context, r execctx.StepRecord) error {
		// Recorded even when the attempt's context just ended: the step's
		// side effect happened, its result must not be lost with it.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return en.store.SaveStep(ctx, storeStep(e.ID, r, exec.Secrets()))
	}
	return j
}

// syncSteps are the steps of a sync execution, recorded with it.
func syncSteps(id string, j *execctx.Journal, secrets []string) []*store.Step {
	records := j.Steps()
	if len(records) == 0 {
		return nil
	}
	steps := make([]*store.Step, len(records))
	for i, r := range records {
		steps[i] = storeStep(id, r, secrets)
	}
	return steps
}

// storeStep is a step as the store keeps it: its error as the execution's
// is, masked and clean text. The result is kept whole: a later attempt
// decodes it, and the API never shows it.
func storeStep(id string, r execctx.StepRecord, secrets []string) *store.Step {
	return &store.Step{
		ExecutionID: id, Name: r.Name, Attempt: r.Attempt, Status: store.Status(r.Status), Result: r.Result,
		Error: execctx.MaskText(cleanText(r.Error), secrets), StartedAt: r.StartedAt, EndedAt: r.EndedAt,
	}
}

// stepView is a durable step as the executions API shows it, in the
// execution's timeline: never its result, which is the workflow's data.
type stepView struct {
	Name       string       `json:"name"`
	Status     store.Status `json:"status"`
	Attempt    int          `json:"attempt"`
	StartedAt  string       `json:"started_at"`
	EndedAt    string       `json:"ended_at"`
	DurationMS int64        `json:"duration_ms"`
	Error      *string      `json:"error,omitempty"`
}

func stepViews(steps []*store.Step) []stepView {
	if len(steps) == 0 {
		return nil
	}
	out := make([]stepView, len(steps))
	for i, s := range steps {
		out[i] = stepView{Name: s.Name, Status: s.Status, Attempt: s.Attempt, StartedAt: rfc3339(s.StartedAt),
			EndedAt: rfc3339(s.EndedAt), DurationMS: s.EndedAt.Sub(s.StartedAt).Milliseconds()}
		if s.Error != "" {
			out[i].Error = &s.Error
		}
	}
	return out
}
