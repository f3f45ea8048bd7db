package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/internal/sqlrow"
)

const columns = sqlrow.Columns

func insert(ctx context.Context, tx *sql.Tx, e *store.Execution) error {
	logs, err := sqlrow.LogsJSON(e.Logs)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO bifrost_executions (`+columns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.Workflow, e.Mode, e.Status, e.Attempt, sqlrow.NullJSON(e.Input), sqlrow.NullJSON(e.Result), e.Error, logs,
		e.Credential, sqlrow.NullString(e.IdempotencyKey), e.JobID, sqlrow.Micros(e.CreatedAt), sqlrow.Micros(e.StartedAt), sqlrow.Micros(e.FinishedAt))
	return err
}

// Accept implements store.Store. SQLite's writers take turns, so two
// accepts of one idempotency key cannot interleave.
func (s *Store) Accept(ctx context.Context, execs []*store.Execution, enqueue store.EnqueueFunc) ([]store.Accepted, error) {
	var out []store.Accepted
	err := s.write(ctx, func() error {
		var err error
		out, err = s.accept(ctx, execs, enqueue)
		return err
	})
	return out, err
}

func (s *Store) accept(ctx context.Context, execs []*store.Execution, enqueue store.EnqueueFunc) ([]store.Accepted, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	out := make([]store.Accepted, len(execs))
	var fresh []*store.Execution
	firstOfKey := map[[3]string]int{} // a key repeated within the batch
	for i, e := range execs {
		if e.IdempotencyKey != "" {
			k := [3]string{e.Workflow, e.Credential, e.IdempotencyKey}
			if j, ok := firstOfKey[k]; ok {
				out[i] = store.Accepted{Execution: execs[j], Duplicate: true}
				continue
			}
			prev, err := byKey(ctx, tx, e)
			if err != nil {
				return nil, err
			}
			if prev != nil {
				out[i] = store.Accepted{Execution: prev, Duplicate: true}
				continue
			}
			firstOfKey[k] = i
		}
		out[i] = store.Accepted{Execution: e}
		fresh = append(fresh, e)
	}
	if len(fresh) > 0 {
		ids, err := enqueue(ctx, tx, fresh)
		if err != nil {
			return nil, fmt.Errorf("enqueue: %w", err)
		}
		if len(ids) != len(fresh) {
			return nil, fmt.Errorf("enqueue: %d job ids for %d executions", len(ids), len(fresh))
		}
		for i, e := range fresh {
			// The caller's execution is returned: make it what Get will return.
			e.JobID = ids[i]
			e.CreatedAt, e.StartedAt, e.FinishedAt = sqlrow.FromMicros(sqlrow.Micros(e.CreatedAt)), sqlrow.FromMicros(sqlrow.Micros(e.StartedAt)), sqlrow.FromMicros(sqlrow.Micros(e.FinishedAt))
			if err := insert(ctx, tx, e); err != nil {
				return nil, fmt.Errorf("accept %s: %w", e.ID, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return out, nil
}

// byKey returns the execution holding e's idempotency key within the window,
// after freeing the key of an older one.
func byKey(ctx context.Context, tx *sql.Tx, e *store.Execution) (*store.Execution, error) {
	since := sqlrow.Micros(e.CreatedAt.Add(-store.IdempotencyWindow))
	if _, err := tx.ExecContext(ctx, `UPDATE bifrost_executions SET idempotency_key = NULL
		WHERE workflow = ? AND credential = ? AND idempotency_key = ? AND created_at < ?`,
		e.Workflow, e.Credential, e.IdempotencyKey, since); err != nil {
		return nil, err
	}
	row := tx.QueryRowContext(ctx, `SELECT `+columns+` FROM bifrost_executions
		WHERE workflow = ? AND credential = ? AND idempotency_key = ?`, e.Workflow, e.Credential, e.IdempotencyKey)
	prev, err := sqlrow.ScanExecution(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return prev, err
}

// Record implements store.Store.
func (s *Store) Record(ctx context.Context, execs []*store.Execution) error {
	if len(execs) == 0 {
		return nil
	}
	return s.write(ctx, func() error {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for _, e := range execs {
			if err := insert(ctx, tx, e); err != nil {
				return fmt.Errorf("record %s: %w", e.ID, err)
			}
		}
		return tx.Commit()
	})
}

// Start implements store.Store.
func (s *Store) Start(ctx context.Context, id string, attempt int, at time.Time) (*store.Execution, error) {
	var e *store.Execution
	err := s.write(ctx, func() error {
		var err error
		e, err = sqlrow.ScanExecution(s.db.QueryRowContext(ctx, `UPDATE bifrost_executions
			SET status = ?, attempt = ?, started_at = ?, finished_at = 0
			WHERE id = ? AND status IN (?, ?)
			RETURNING `+columns, store.Running, attempt, sqlrow.Micros(at), id, store.Pending, store.Running))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return s.Get(ctx, id) // not runnable: cancelled, or already over
	}
	return e, err
}

// Finish implements store.Store.
func (s *Store) Finish(ctx context.Context, e *store.Execution) error {
	logs, err := sqlrow.LogsJSON(e.Logs)
	if err != nil {
		return err
	}
	err = s.write(ctx, func() error {
		res, err := s.db.ExecContext(ctx, `UPDATE bifrost_executions
			SET status = ?, attempt = ?, result = ?, error = ?, logs = ?, started_at = ?, finished_at = ?
			WHERE id = ?`,
			e.Status, e.Attempt, sqlrow.NullJSON(e.Result), e.Error, logs, sqlrow.Micros(e.StartedAt), sqlrow.Micros(e.FinishedAt), e.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err == nil && e.Status.Terminal() {
		s.ended.announce(e.ID)
	}
	return err
}

// Cancel implements store.Store.
func (s *Store) Cancel(ctx context.Context, id string, at time.Time) (*store.Execution, error) {
	err := s.write(ctx, func() error {
		_, err := s.db.ExecContext(ctx, `UPDATE bifrost_executions
			SET status = CASE WHEN status = ? THEN ? ELSE status END,
			    finished_at = CASE WHEN status = ? THEN ? ELSE finished_at END,
			    cancel_requested = CASE WHEN status = ? THEN 1 ELSE cancel_requested END
			WHERE id = ?`, store.Pending, store.Cancelled, store.Pending, sqlrow.Micros(at), store.Running, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	e, err := s.Get(ctx, id)
	if err == nil && e.Status == store.Cancelled {
		s.ended.announce(id)
	}
	return e, err
}

// CancelRequested implements store.Store.
func (s *Store) CancelRequested(ctx context.Context, id string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT cancel_requested FROM bifrost_executions WHERE id = ?`, id).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, store.ErrNotFound
	}
	return n != 0, err
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, id string) (*store.Execution, error) {
	e, err := sqlrow.ScanExecution(s.db.QueryRowContext(ctx, `SELECT `+columns+` FROM bifrost_executions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return e, err
}

// List implements store.Store.
func (s *Store) List(ctx context.Context, f store.Filter) ([]*store.Execution, string, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	var where []string
	var args []any
	if f.Workflow != "" {
		where = append(where, "workflow = ?")
		args = append(args, f.Workflow)
	}
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, f.Status)
	}
	if f.Cursor != "" {
		where = append(where, "id < ?")
		args = append(args, f.Cursor)
	}
	query := `SELECT ` + columns + ` FROM bifrost_executions`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*store.Execution
	for rows.Next() {
		e, err := sqlrow.ScanExecution(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}
