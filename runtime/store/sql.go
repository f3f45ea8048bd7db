package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SQL is the Store on a database/sql database: SQLite now, PostgreSQL with
// its own migrations and placeholders.
type SQL struct {
	db   *sql.DB
	kind string
	path string   // the SQLite file
	pg   *pgState // PostgreSQL only (postgres.go)
}

var _ Store = (*SQL)(nil)

// DB returns the database.
func (s *SQL) DB() *sql.DB { return s.db }

// Kind is "sqlite" or "postgres".
func (s *SQL) Kind() string { return s.kind }

// Close closes the database.
func (s *SQL) Close() error {
	s.closePostgres()
	return s.db.Close()
}

// now is the store's clock, in microseconds like the columns.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// q rewrites ? placeholders as $1, $2... for PostgreSQL.
func (s *SQL) q(query string) string {
	if s.kind != "postgres" {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

const columns = `id, workflow, mode, status, attempt, input, result, error, logs, credential,
	idempotency_key, job_id, created_at, started_at, finished_at`

type scanner interface{ Scan(...any) error }

func scanExecution(row scanner) (*Execution, error) {
	var (
		e                         Execution
		input, result, logs, ikey sql.NullString
		created, started, ended   int64
	)
	err := row.Scan(&e.ID, &e.Workflow, &e.Mode, &e.Status, &e.Attempt, &input, &result, &e.Error, &logs,
		&e.Credential, &ikey, &e.JobID, &created, &started, &ended)
	if err != nil {
		return nil, err
	}
	if input.Valid {
		e.Input = json.RawMessage(input.String)
	}
	if result.Valid {
		e.Result = json.RawMessage(result.String)
	}
	if logs.Valid && logs.String != "" {
		if err := json.Unmarshal([]byte(logs.String), &e.Logs); err != nil {
			return nil, fmt.Errorf("execution %s: logs: %w", e.ID, err)
		}
	}
	e.IdempotencyKey = ikey.String
	e.CreatedAt, e.StartedAt, e.FinishedAt = fromMicros(created), fromMicros(started), fromMicros(ended)
	return &e, nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func nullJSON(raw json.RawMessage) sql.NullString {
	return sql.NullString{String: string(raw), Valid: len(raw) > 0}
}

func logsJSON(logs []LogEntry) (sql.NullString, error) {
	if len(logs) == 0 {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(logs)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

func (s *SQL) insert(ctx context.Context, tx *sql.Tx, e *Execution) error {
	logs, err := logsJSON(e.Logs)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, s.q(`INSERT INTO bifrost_executions (`+columns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		e.ID, e.Workflow, e.Mode, e.Status, e.Attempt, nullJSON(e.Input), nullJSON(e.Result), e.Error, logs,
		e.Credential, nullString(e.IdempotencyKey), e.JobID, micros(e.CreatedAt), micros(e.StartedAt), micros(e.FinishedAt))
	return err
}

// Accept implements Store.
func (s *SQL) Accept(ctx context.Context, execs []*Execution, enqueue EnqueueFunc) ([]Accepted, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := s.lockIdempotencyKeys(ctx, tx, execs); err != nil {
		return nil, err
	}
	out := make([]Accepted, len(execs))
	var fresh []*Execution
	firstOfKey := map[[3]string]int{} // a key repeated within the batch
	for i, e := range execs {
		if e.IdempotencyKey != "" {
			k := [3]string{e.Workflow, e.Credential, e.IdempotencyKey}
			if j, ok := firstOfKey[k]; ok {
				out[i] = Accepted{Execution: execs[j], Duplicate: true}
				continue
			}
			prev, err := s.byKey(ctx, tx, e)
			if err != nil {
				return nil, err
			}
			if prev != nil {
				out[i] = Accepted{Execution: prev, Duplicate: true}
				continue
			}
			firstOfKey[k] = i
		}
		out[i] = Accepted{Execution: e}
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
			e.CreatedAt, e.StartedAt, e.FinishedAt = fromMicros(micros(e.CreatedAt)), fromMicros(micros(e.StartedAt)), fromMicros(micros(e.FinishedAt))
			if s.pg != nil {
				continue // inserted together below
			}
			if err := s.insert(ctx, tx, e); err != nil {
				return nil, fmt.Errorf("accept %s: %w", e.ID, err)
			}
		}
		if s.pg != nil {
			if err := s.insertMany(ctx, tx, fresh); err != nil {
				return nil, err
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
func (s *SQL) byKey(ctx context.Context, tx *sql.Tx, e *Execution) (*Execution, error) {
	since := micros(e.CreatedAt.Add(-IdempotencyWindow))
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE bifrost_executions SET idempotency_key = NULL
		WHERE workflow = ? AND credential = ? AND idempotency_key = ? AND created_at < ?`),
		e.Workflow, e.Credential, e.IdempotencyKey, since); err != nil {
		return nil, err
	}
	row := tx.QueryRowContext(ctx, s.q(`SELECT `+columns+` FROM bifrost_executions
		WHERE workflow = ? AND credential = ? AND idempotency_key = ?`), e.Workflow, e.Credential, e.IdempotencyKey)
	prev, err := scanExecution(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return prev, err
}

// Record implements Store.
func (s *SQL) Record(ctx context.Context, execs []*Execution) error {
	if len(execs) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, e := range execs {
		if err := s.insert(ctx, tx, e); err != nil {
			return fmt.Errorf("record %s: %w", e.ID, err)
		}
	}
	return tx.Commit()
}

// Start implements Store.
func (s *SQL) Start(ctx context.Context, id string, attempt int, at time.Time) (*Execution, error) {
	if s.pg != nil {
		return s.startPostgres(ctx, id, attempt, at) // grouped with concurrent starts
	}
	row := s.db.QueryRowContext(ctx, s.q(`UPDATE bifrost_executions
		SET status = ?, attempt = ?, started_at = ?, finished_at = 0
		WHERE id = ? AND status IN (?, ?)
		RETURNING `+columns), Running, attempt, micros(at), id, Pending, Running)
	e, err := scanExecution(row)
	if errors.Is(err, sql.ErrNoRows) {
		return s.Get(ctx, id) // not runnable: cancelled, or already over
	}
	return e, err
}

// Finish implements Store.
func (s *SQL) Finish(ctx context.Context, e *Execution) error {
	if s.pg != nil {
		return s.finishPostgres(ctx, e) // grouped with concurrent finishes
	}
	logs, err := logsJSON(e.Logs)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE bifrost_executions
		SET status = ?, attempt = ?, result = ?, error = ?, logs = ?, started_at = ?, finished_at = ?
		WHERE id = ?`),
		e.Status, e.Attempt, nullJSON(e.Result), e.Error, logs, micros(e.StartedAt), micros(e.FinishedAt), e.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Cancel implements Store.
func (s *SQL) Cancel(ctx context.Context, id string, at time.Time) (*Execution, error) {
	if _, err := s.db.ExecContext(ctx, s.q(`UPDATE bifrost_executions
		SET status = CASE WHEN status = ? THEN ? ELSE status END,
		    finished_at = CASE WHEN status = ? THEN ? ELSE finished_at END,
		    cancel_requested = CASE WHEN status = ? THEN 1 ELSE cancel_requested END
		WHERE id = ?`), Pending, Cancelled, Pending, micros(at), Running, id); err != nil {
		return nil, err
	}
	e, err := s.Get(ctx, id)
	if err == nil && e.Status == Cancelled {
		s.ended(id)
	}
	return e, err
}

// CancelRequested implements Store.
func (s *SQL) CancelRequested(ctx context.Context, id string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT cancel_requested FROM bifrost_executions WHERE id = ?`), id).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, ErrNotFound
	}
	return n != 0, err
}

// Get implements Store.
func (s *SQL) Get(ctx context.Context, id string) (*Execution, error) {
	e, err := scanExecution(s.db.QueryRowContext(ctx, s.q(`SELECT `+columns+` FROM bifrost_executions WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return e, err
}

// List implements Store.
func (s *SQL) List(ctx context.Context, f Filter) ([]*Execution, string, error) {
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
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*Execution
	for rows.Next() {
		e, err := scanExecution(rows)
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

// Orphans implements Store.
func (s *SQL) Orphans(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`UPDATE bifrost_executions SET status = ?
		WHERE status = ? AND mode = 'async' RETURNING id`), Pending, Running)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
