package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/internal/sqlrow"
)

// Accept implements store.Store. SQLite's writers take turns, so two
// accepts of one idempotency key cannot interleave.
func (s *Store) Accept(ctx context.Context, execs []*store.Execution, enqueue store.EnqueueFunc) ([]store.Accepted, error) {
	var out []store.Accepted
	err := sqlrow.InTx(ctx, &s.tables, func(tx *sql.Tx) error {
		var err error
		out, err = sqlrow.AcceptTx(ctx, &s.tables, tx, execs, enqueue)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AcceptTx implements store.Store: Accept in the caller's transaction. It
// does not pass the store's gate: the caller's transaction may already hold
// SQLite's write lock, and the gate's writers wait for it in busy_timeout.
func (s *Store) AcceptTx(ctx context.Context, tx *sql.Tx, execs []*store.Execution, enqueue store.EnqueueFunc) ([]store.Accepted, error) {
	return sqlrow.AcceptTx(ctx, &s.tables, tx, execs, enqueue)
}

// Start implements store.Store, in a transaction shared with concurrent
// starts and finishes (batch.go).
func (s *Store) Start(ctx context.Context, id string, attempt int, at time.Time) (*store.Execution, error) {
	var e *store.Execution
	err := s.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		e, err = sqlrow.ScanExecution(tx.QueryRowContext(ctx, `UPDATE bifrost_executions
			SET status = ?, attempt = ?, started_at = ?, finished_at = 0
			WHERE id = ? AND status IN (?, ?)
			RETURNING `+sqlrow.Columns, store.Running, attempt, sqlrow.Micros(at), id, store.Pending, store.Running))
		if errors.Is(err, sql.ErrNoRows) {
			e, err = nil, nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if e == nil {
		return s.Get(ctx, id) // not runnable: cancelled, or already over
	}
	return e, nil
}

// Finish implements store.Store, in a transaction shared with concurrent
// starts and finishes (batch.go).
func (s *Store) Finish(ctx context.Context, e *store.Execution) error {
	logs, err := sqlrow.LogsJSON(e.Logs)
	if err != nil {
		return err
	}
	var found bool
	err = s.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE bifrost_executions
			SET status = ?, attempt = ?, result = ?, error = ?, logs = ?, started_at = ?, finished_at = ?
			WHERE id = ?`,
			e.Status, e.Attempt, sqlrow.NullJSON(e.Result), e.Error, logs, sqlrow.Micros(e.StartedAt), sqlrow.Micros(e.FinishedAt), e.ID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		found = n > 0
		return err
	})
	if err != nil {
		return err
	}
	if !found {
		return store.ErrNotFound
	}
	if e.Status.Terminal() {
		s.ended.announce(e.ID)
	}
	return nil
}
