package sqlrow

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// Driver is what Tables needs to know of a store's database beyond the
// statements both databases accept.
type Driver struct {
	// Bind puts a statement written with ? placeholders into the
	// database's syntax (PostgreSQL's $1, $2...); nil keeps the ?.
	Bind func(query string) string
	// Write runs fn as one of the store's writes: SQLite's take turns
	// through a gate (sqlite/gate.go); nil runs fn at once.
	Write func(ctx context.Context, fn func() error) error
	// Ended announces that an execution reached a terminal status.
	Ended func(id string)
	// Insert inserts executions within tx, for Accept and Record: the
	// database's fastest form of a multi-row insert (PostgreSQL's unnest);
	// nil inserts a statement each (insertEach).
	Insert func(ctx context.Context, tx *sql.Tx, execs []*store.Execution) error
}

// Tables implements the store.Store methods whose SQL is the same on SQLite
// and PostgreSQL but for placeholders: configuration, keys, and the
// executions' reads, Record and Cancel. A store embeds it and writes the
// rest (Start, Finish, Accept's transaction, the queue) in its own SQL,
// with the help of InTx and AcceptTx: functions rather than methods, so
// that what the store exports stays store.Store.
type Tables struct {
	db     *sql.DB
	driver Driver
	q      statements
}

// statements are the fixed queries of Tables, in the driver's placeholders.
type statements struct {
	insertExecution, freeKey, byKey, getExecution, cancel, cancelRequested string
	createKey, getKey, listKeys, revokeKey, touchKey, countKeys            string
	setConfig, getConfig, listConfig, deleteConfig                         string
}

// NewTables is Tables on db.
func NewTables(db *sql.DB, d Driver) Tables {
	if d.Bind == nil {
		d.Bind = func(query string) string { return query }
	}
	if d.Write == nil {
		d.Write = func(_ context.Context, fn func() error) error { return fn() }
	}
	b := d.Bind
	return Tables{db: db, driver: d, q: statements{
		insertExecution: b(`INSERT INTO bifrost_executions (` + Columns + `)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		freeKey: b(`UPDATE bifrost_executions SET idempotency_key = NULL
			WHERE workflow = ? AND credential = ? AND idempotency_key = ? AND created_at < ?`),
		byKey: b(`SELECT ` + Columns + ` FROM bifrost_executions
			WHERE workflow = ? AND credential = ? AND idempotency_key = ?`),
		getExecution: b(`SELECT ` + Columns + ` FROM bifrost_executions WHERE id = ?`),
		cancel: b(`UPDATE bifrost_executions
			SET status = CASE WHEN status = ? THEN ? ELSE status END,
			    finished_at = CASE WHEN status = ? THEN ? ELSE finished_at END,
			    cancel_requested = CASE WHEN status = ? THEN 1 ELSE cancel_requested END
			WHERE id = ?`),
		cancelRequested: b(`SELECT cancel_requested FROM bifrost_executions WHERE id = ?`),

		createKey: b(`INSERT INTO bifrost_keys (` + KeyColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		getKey:    b(`SELECT ` + KeyColumns + ` FROM bifrost_keys WHERE id = ?`),
		listKeys:  `SELECT ` + KeyColumns + ` FROM bifrost_keys ORDER BY created_at, id`,
		revokeKey: b(`UPDATE bifrost_keys SET revoked_at = ? WHERE id = ? AND revoked_at = 0`),
		touchKey:  b(`UPDATE bifrost_keys SET last_used_at = ? WHERE id = ? AND last_used_at < ?`),
		countKeys: `SELECT COUNT(*) FROM bifrost_keys`,
		setConfig: b(`INSERT INTO bifrost_config (` + ConfigColumns + `) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, secret = excluded.secret, key_id = excluded.key_id, updated_at = excluded.updated_at`),
		getConfig:    b(`SELECT ` + ConfigColumns + ` FROM bifrost_config WHERE name = ?`),
		listConfig:   `SELECT ` + ConfigColumns + ` FROM bifrost_config ORDER BY name`,
		deleteConfig: b(`DELETE FROM bifrost_config WHERE name = ?`),
	}}
}

// one scans row, store.ErrNotFound when there is none.
func one[T any](row *sql.Row, scan func(Scanner) (*T, error)) (*T, error) {
	v, err := scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return v, err
}

// all reads every row of query.
func all[T any](ctx context.Context, db *sql.DB, scan func(Scanner) (*T, error), query string, args ...any) ([]*T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// insertEach inserts execs within tx, one statement each: the
// default Driver.Insert. (Several rows a statement measured no faster on
// SQLite once its statements stay prepared: the B-tree inserts dominate.)
func (t *Tables) insertEach(ctx context.Context, tx *sql.Tx, execs []*store.Execution) error {
	var args []any
	for _, e := range execs {
		var err error
		if args, err = appendExecution(args[:0], e); err != nil {
			return fmt.Errorf("execution %s: %w", e.ID, err)
		}
		if _, err := tx.ExecContext(ctx, t.q.insertExecution, args...); err != nil {
			return fmt.Errorf("execution %s: %w", e.ID, err)
		}
	}
	return nil
}

// insert inserts execs within tx with the driver's Insert, or
// insertEach.
func (t *Tables) insert(ctx context.Context, tx *sql.Tx, execs []*store.Execution) error {
	if t.driver.Insert != nil {
		return t.driver.Insert(ctx, tx, execs)
	}
	return t.insertEach(ctx, tx, execs)
}

// appendExecution appends e's values in the order of Columns.
func appendExecution(args []any, e *store.Execution) ([]any, error) {
	logs, err := LogsJSON(e.Logs)
	if err != nil {
		return nil, err
	}
	return append(args,
		e.ID, e.Workflow, e.Mode, e.Status, e.Attempt, NullJSON(e.Input), NullJSON(e.Result), e.Error, logs,
		e.Credential, NullString(e.IdempotencyKey), e.JobID, Micros(e.CreatedAt), Micros(e.StartedAt), Micros(e.FinishedAt),
		Trigger(e), e.ReplayOf, e.TraceParent), nil
}

// AcceptTx is store.Store.Accept within tx, which the store begins (after
// whatever locking its database needs) and commits: an execution whose
// idempotency key is held, within the batch or by a stored execution,
// is a duplicate of that one; the others are enqueued, then inserted
// (unless there are none).
func AcceptTx(ctx context.Context, t *Tables, tx *sql.Tx, execs []*store.Execution, enqueue store.EnqueueFunc) ([]store.Accepted, error) {
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
			prev, err := t.byKey(ctx, tx, e)
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
	if len(fresh) == 0 {
		return out, nil
	}
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
		e.CreatedAt, e.StartedAt, e.FinishedAt = FromMicros(Micros(e.CreatedAt)), FromMicros(Micros(e.StartedAt)), FromMicros(Micros(e.FinishedAt))
	}
	if err := t.insert(ctx, tx, fresh); err != nil {
		return nil, fmt.Errorf("accept: %w", err)
	}
	return out, nil
}

// byKey returns the execution holding e's idempotency key within the window,
// after freeing the key of an older one.
func (t *Tables) byKey(ctx context.Context, tx *sql.Tx, e *store.Execution) (*store.Execution, error) {
	since := Micros(e.CreatedAt.Add(-store.IdempotencyWindow))
	if _, err := tx.ExecContext(ctx, t.q.freeKey, e.Workflow, e.Credential, e.IdempotencyKey, since); err != nil {
		return nil, err
	}
	prev, err := ScanExecution(tx.QueryRowContext(ctx, t.q.byKey, e.Workflow, e.Credential, e.IdempotencyKey))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return prev, err
}

// Record implements store.Store.
func (t *Tables) Record(ctx context.Context, execs []*store.Execution) error {
	if len(execs) == 0 {
		return nil
	}
	return InTx(ctx, t, func(tx *sql.Tx) error {
		if err := t.insert(ctx, tx, execs); err != nil {
			return fmt.Errorf("record: %w", err)
		}
		for _, e := range execs {
			if err := insertSteps(ctx, t, tx, e); err != nil {
				return fmt.Errorf("record %s: %w", e.ID, err)
			}
		}
		return nil
	})
}

// InTx runs fn in a transaction, as one of the store's writes, and commits
// when fn succeeds.
func InTx(ctx context.Context, t *Tables, fn func(tx *sql.Tx) error) error {
	return t.driver.Write(ctx, func() error {
		tx, err := t.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := fn(tx); err != nil {
			return err
		}
		return tx.Commit()
	})
}

// Cancel implements store.Store.
func (t *Tables) Cancel(ctx context.Context, id string, at time.Time) (*store.Execution, error) {
	err := t.driver.Write(ctx, func() error {
		_, err := t.db.ExecContext(ctx, t.q.cancel, store.Pending, store.Cancelled, store.Pending, Micros(at), store.Running, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	e, err := t.Get(ctx, id)
	if err == nil && e.Status == store.Cancelled && t.driver.Ended != nil {
		t.driver.Ended(id)
	}
	return e, err
}

// CancelRequested implements store.Store.
func (t *Tables) CancelRequested(ctx context.Context, id string) (bool, error) {
	var n int
	err := t.db.QueryRowContext(ctx, t.q.cancelRequested, id).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, store.ErrNotFound
	}
	return n != 0, err
}

// Get implements store.Store.
func (t *Tables) Get(ctx context.Context, id string) (*store.Execution, error) {
	return one(t.db.QueryRowContext(ctx, t.q.getExecution, id), ScanExecution)
}

// List implements store.Store: newest first, a page of f.Limit (50 when
// unset, 500 at most), and the cursor of the next page when there is one.
func (t *Tables) List(ctx context.Context, f store.Filter) ([]*store.Execution, string, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	var where []string
	var args []any
	for _, c := range []struct {
		cond  string
		value string
	}{{"workflow = ?", f.Workflow}, {"status = ?", string(f.Status)}, {"id < ?", f.Cursor},
		{"id >= ?", timeID(f.After)}, {"id < ?", timeID(f.Before)},
		// replay_of <> '' lets the planner use the partial index.
		{"replay_of = ? AND replay_of <> ''", f.ReplayOf}} {
		if c.value != "" {
			where = append(where, c.cond)
			args = append(args, c.value)
		}
	}
	columns := Columns
	if f.Summary {
		columns = SummaryColumns
	}
	query := `SELECT ` + columns + ` FROM bifrost_executions`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit+1)
	out, err := all(ctx, t.db, ScanExecution, t.driver.Bind(query), args...)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// Stats implements store.Store: two statements both databases accept. The
// counts read the (workflow, id) index over the window; the percentiles
// sort at most StatsSample durations (nearest rank).
func (t *Tables) Stats(ctx context.Context, workflow string, since time.Time) (store.WorkflowStats, error) {
	var st store.WorkflowStats
	lower := timeID(since)
	err := t.db.QueryRowContext(ctx, t.driver.Bind(`SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN status IN ('succeeded', 'failed', 'timed_out', 'cancelled') THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status IN ('failed', 'timed_out') THEN 1 ELSE 0 END), 0)
		FROM bifrost_executions WHERE workflow = ? AND id >= ?`), workflow, lower).Scan(&st.Calls, &st.Ended, &st.Failed)
	if err != nil {
		return st, err
	}
	var p50, p95 sql.NullInt64
	err = t.db.QueryRowContext(ctx, t.driver.Bind(`WITH d AS (
		SELECT finished_at - started_at AS us FROM bifrost_executions
		WHERE workflow = ? AND id >= ? AND finished_at > 0 AND started_at > 0
		ORDER BY id DESC LIMIT `+fmt.Sprint(store.StatsSample)+`)
		SELECT (SELECT us FROM d ORDER BY us LIMIT 1 OFFSET (SELECT CASE WHEN COUNT(*) = 0 THEN 0 ELSE (COUNT(*) * 50 + 99) / 100 - 1 END FROM d)),
		       (SELECT us FROM d ORDER BY us LIMIT 1 OFFSET (SELECT CASE WHEN COUNT(*) = 0 THEN 0 ELSE (COUNT(*) * 95 + 99) / 100 - 1 END FROM d))`),
		workflow, lower).Scan(&p50, &p95)
	if err != nil {
		return st, err
	}
	st.P50, st.P95 = time.Duration(p50.Int64)*time.Microsecond, time.Duration(p95.Int64)*time.Microsecond
	return st, nil
}

// timeID is the smallest UUIDv7 of the millisecond t, as text: ids sort
// by creation time, so a time bound is an id bound. "" for a zero t.
func timeID(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	ms := max(t.UnixMilli(), 0)
	hex := fmt.Sprintf("%012x", ms)
	return hex[:8] + "-" + hex[8:] + "-0000-0000-000000000000"
}

// CreateKey implements store.Store.
func (t *Tables) CreateKey(ctx context.Context, k *store.Key) error {
	workflows, err := KeyWorkflows(k)
	if err != nil {
		return err
	}
	return t.driver.Write(ctx, func() error {
		_, err := t.db.ExecContext(ctx, t.q.createKey,
			k.ID, k.Hash, workflows, k.Description, Micros(k.CreatedAt), Micros(k.ExpiresAt), Micros(k.RevokedAt), Micros(k.LastUsedAt))
		return err
	})
}

// GetKey implements store.Store.
func (t *Tables) GetKey(ctx context.Context, id string) (*store.Key, error) {
	return one(t.db.QueryRowContext(ctx, t.q.getKey, id), ScanKey)
}

// ListKeys implements store.Store.
func (t *Tables) ListKeys(ctx context.Context) ([]*store.Key, error) {
	return all(ctx, t.db, ScanKey, t.q.listKeys)
}

// RevokeKey implements store.Store.
func (t *Tables) RevokeKey(ctx context.Context, id string, at time.Time) error {
	var n int64
	err := t.driver.Write(ctx, func() error {
		res, err := t.db.ExecContext(ctx, t.q.revokeKey, Micros(at), id)
		if err == nil {
			n, _ = res.RowsAffected()
		}
		return err
	})
	if err != nil {
		return err
	}
	if n == 0 {
		if _, err := t.GetKey(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// TouchKeys implements store.Store.
func (t *Tables) TouchKeys(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	return InTx(ctx, t, func(tx *sql.Tx) error {
		// In id order: replicas touching the same keys at once lock their
		// rows in one order, so PostgreSQL sees no deadlock.
		for _, id := range slices.Sorted(maps.Keys(used)) {
			at := Micros(used[id])
			if _, err := tx.ExecContext(ctx, t.q.touchKey, at, id, at); err != nil {
				return err
			}
		}
		return nil
	})
}

// CountKeys implements store.Store.
func (t *Tables) CountKeys(ctx context.Context) (int, error) {
	var n int
	err := t.db.QueryRowContext(ctx, t.q.countKeys).Scan(&n)
	return n, err
}

// SetConfig implements store.Store.
func (t *Tables) SetConfig(ctx context.Context, c *store.ConfigValue) error {
	return t.driver.Write(ctx, func() error {
		_, err := t.db.ExecContext(ctx, t.q.setConfig, c.Name, c.Value, Bool(c.Secret), c.KeyID, Micros(c.UpdatedAt))
		return err
	})
}

// GetConfig implements store.Store.
func (t *Tables) GetConfig(ctx context.Context, name string) (*store.ConfigValue, error) {
	return one(t.db.QueryRowContext(ctx, t.q.getConfig, name), ScanConfig)
}

// ListConfig implements store.Store.
func (t *Tables) ListConfig(ctx context.Context) ([]*store.ConfigValue, error) {
	return all(ctx, t.db, ScanConfig, t.q.listConfig)
}

// DeleteConfig implements store.Store.
func (t *Tables) DeleteConfig(ctx context.Context, name string) error {
	return t.driver.Write(ctx, func() error {
		res, err := t.db.ExecContext(ctx, t.q.deleteConfig, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}
