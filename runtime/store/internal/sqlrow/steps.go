package sqlrow

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// StepColumns are bifrost_steps' columns, in the order ScanStep reads.
const StepColumns = `execution_id, name, attempt, status, result, error, started_at, ended_at`

// saveStep replaces a recorded step only when it did not succeed and no
// later attempt wrote it (store.Steps.SaveStep).
const saveStep = `INSERT INTO bifrost_steps (` + StepColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (execution_id, name) DO UPDATE SET attempt = excluded.attempt, status = excluded.status,
	    result = excluded.result, error = excluded.error, started_at = excluded.started_at, ended_at = excluded.ended_at
	WHERE bifrost_steps.status <> 'succeeded' AND bifrost_steps.attempt <= excluded.attempt`

const listSteps = `SELECT ` + StepColumns + ` FROM bifrost_steps WHERE execution_id = ? ORDER BY started_at, name`

// ScanStep reads a row of StepColumns.
func ScanStep(row Scanner) (*store.Step, error) {
	var (
		s              store.Step
		result         sql.NullString
		started, ended int64
	)
	if err := row.Scan(&s.ExecutionID, &s.Name, &s.Attempt, &s.Status, &result, &s.Error, &started, &ended); err != nil {
		return nil, err
	}
	if result.Valid {
		s.Result = []byte(result.String)
	}
	s.StartedAt, s.EndedAt = FromMicros(started), FromMicros(ended)
	return &s, nil
}

// Steps implements store.Store: one query for all the steps of an
// execution, read once when an attempt starts.
func (t *Tables) Steps(ctx context.Context, executionID string) ([]*store.Step, error) {
	return all(ctx, t.db, ScanStep, t.driver.Bind(listSteps), executionID)
}

// SaveStep implements store.Store.
func (t *Tables) SaveStep(ctx context.Context, s *store.Step) error {
	return t.driver.Write(ctx, func() error {
		_, err := t.db.ExecContext(ctx, t.driver.Bind(saveStep), stepArgs(s)...)
		return err
	})
}

// insertSteps inserts the steps of a sync execution within tx, after it.
func insertSteps(ctx context.Context, t *Tables, tx *sql.Tx, e *store.Execution) error {
	for _, s := range e.Steps {
		s.ExecutionID = e.ID
		if _, err := tx.ExecContext(ctx, t.driver.Bind(saveStep), stepArgs(s)...); err != nil {
			return fmt.Errorf("step %q: %w", s.Name, err)
		}
	}
	return nil
}

func stepArgs(s *store.Step) []any {
	return []any{s.ExecutionID, s.Name, s.Attempt, s.Status, NullJSON(s.Result), s.Error, Micros(s.StartedAt), Micros(s.EndedAt)}
}
