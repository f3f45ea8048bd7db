package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/internal/sqlrow"
)

// Grouped writes on PostgreSQL. Each Start and Finish is a commit, and each
// commit waits for its WAL to be flushed: on a disk that syncs in a
// millisecond or two, executions started and finished one commit at a time
// cap a store at a few thousand a second whatever the number of workers.
// So the calls that arrive while a write is on its way are written together,
// in one statement and one commit, and each caller returns once its own row
// is committed: the same promise as a write of its own.

// maxGroup bounds the rows of one grouped statement.
const maxGroup = 512

// group runs grouped writes of items of type T with results R.
type group[T, R any] struct {
	key   func(T) string                                   // rows written once per statement: a repeated key waits for the next
	write func(ctx context.Context, items []T) []result[R] // one result per item, in order

	mu      sync.Mutex
	queue   []*groupCall[T, R]
	running bool
}

type result[R any] struct {
	val R
	err error
}

type groupCall[T, R any] struct {
	ctx   context.Context
	item  T
	reply chan result[R]
}

// do queues item and waits for the write that carries it.
func (g *group[T, R]) do(ctx context.Context, item T) (R, error) {
	c := &groupCall[T, R]{ctx: ctx, item: item, reply: make(chan result[R], 1)}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	if !g.running {
		g.running = true
		go g.run()
	}
	g.mu.Unlock()
	select {
	case r := <-c.reply:
		return r.val, r.err
	case <-ctx.Done():
		var zero R
		return zero, ctx.Err()
	}
}

func (g *group[T, R]) run() {
	for {
		g.mu.Lock()
		var batch []*groupCall[T, R]
		seen := map[string]bool{}
		rest := g.queue[:0:0]
		for _, c := range g.queue {
			switch k := g.key(c.item); {
			case c.ctx.Err() != nil:
				var zero R
				c.reply <- result[R]{zero, c.ctx.Err()}
			case len(batch) < maxGroup && !seen[k]:
				seen[k] = true
				batch = append(batch, c)
			default:
				rest = append(rest, c)
			}
		}
		g.queue = rest
		if len(batch) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		items := make([]T, len(batch))
		for i, c := range batch {
			items[i] = c.item
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		results := g.write(ctx, items)
		cancel()
		for i, c := range batch {
			c.reply <- results[i]
		}
	}
}

// writes are the store's grouped writes.
type writes struct {
	start  group[startCall, *store.Execution]
	finish group[*store.Execution, struct{}]
}

type startCall struct {
	id      string
	attempt int
	at      int64
}

func (s *Store) initWrites() {
	s.writes.start = group[startCall, *store.Execution]{key: func(c startCall) string { return c.id }, write: s.startMany}
	s.writes.finish = group[*store.Execution, struct{}]{key: func(e *store.Execution) string { return e.ID }, write: s.finishMany}
}

// The grouped UPDATEs below join the table with unnest() of their
// parameters. Prepared (pgx's default), PostgreSQL plans them generically
// after five runs, counting ten rows in the unnest whatever it holds;
// against a table of a few thousand rows that is cheaper to scan whole
// than to probe, so every Start and Finish read the whole table until it
// grew large enough to flip the plan (0.3-0.5 ms a statement in the
// benchmark). QueryExecModeExec sends them unnamed: planned for their
// actual arrays each time, on the primary key.

// prefixed is columns with each column qualified by alias.
func prefixed(alias string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = alias + "." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

var startReturning = prefixed("x")

var startQuery = `UPDATE bifrost_executions AS x
	SET status = 'running', attempt = v.attempt, started_at = v.started_at, finished_at = 0
	FROM unnest($1::text[], $2::int[], $3::bigint[]) AS v(id, attempt, started_at)
	WHERE x.id = v.id AND x.status IN ('pending', 'running')
	RETURNING ` + startReturning

const finishQuery = `UPDATE bifrost_executions AS x
	SET status = v.status, attempt = v.attempt, result = v.result, error = v.error, logs = v.logs,
	    started_at = v.started_at, finished_at = v.finished_at
	FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[])
	     AS v(id, status, attempt, result, error, logs, started_at, finished_at)
	WHERE x.id = v.id AND x.attempt <= v.attempt
	RETURNING x.id`

func (s *Store) startMany(ctx context.Context, calls []startCall) []result[*store.Execution] {
	out := make([]result[*store.Execution], len(calls))
	ids := make([]string, len(calls))
	attempts := make([]int32, len(calls))
	ats := make([]int64, len(calls))
	for i, c := range calls {
		ids[i], attempts[i], ats[i] = c.id, int32(c.attempt), c.at
	}
	fail := func(err error) []result[*store.Execution] {
		for i := range out {
			out[i].err = err
		}
		return out
	}
	rows, err := s.db.QueryContext(ctx, startQuery, pgx.QueryExecModeExec, ids, attempts, ats)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	started := make(map[string]*store.Execution, len(calls))
	for rows.Next() {
		e, err := sqlrow.ScanExecution(rows)
		if err != nil {
			return fail(err)
		}
		started[e.ID] = e
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	for i, c := range calls {
		out[i].val = started[c.id] // nil: not runnable, the caller reads it as it is
	}
	return out
}

func textOrNull(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	return &v.String
}

func (s *Store) finishMany(ctx context.Context, execs []*store.Execution) []result[struct{}] {
	out := make([]result[struct{}], len(execs))
	n := len(execs)
	var (
		ids, statuses, errs = make([]string, n), make([]string, n), make([]string, n)
		results, logs       = make([]*string, n), make([]*string, n)
		attempts            = make([]int32, n)
		starts, ends        = make([]int64, n), make([]int64, n)
	)
	for i, e := range execs {
		l, _ := sqlrow.LogsJSON(e.Logs) // checked by Finish
		ids[i], statuses[i], errs[i] = e.ID, string(e.Status), e.Error
		results[i], logs[i] = textOrNull(sqlrow.NullJSON(e.Result)), textOrNull(l)
		attempts[i], starts[i], ends[i] = int32(e.Attempt), sqlrow.Micros(e.StartedAt), sqlrow.Micros(e.FinishedAt)
	}
	rows, err := s.db.QueryContext(ctx, finishQuery, pgx.QueryExecModeExec, ids, statuses, attempts, results, errs, logs, starts, ends)
	if err == nil {
		found := make(map[string]bool, n)
		for rows.Next() {
			var id string
			if err = rows.Scan(&id); err != nil {
				break
			}
			found[id] = true
		}
		if err == nil {
			err = rows.Err()
		}
		rows.Close()
		if err == nil && len(found) < n {
			// Unknown, or a later attempt has started (this one's worker was
			// taken for dead): it must not overwrite that attempt's record.
			err = s.whyNotFinished(ctx, execs, found, out)
		}
		if err == nil {
			return out
		}
	}
	for i := range out {
		out[i].err = err
	}
	return out
}

func (s *Store) whyNotFinished(ctx context.Context, execs []*store.Execution, found map[string]bool, out []result[struct{}]) error {
	var missing []string
	for _, e := range execs {
		if !found[e.ID] {
			missing = append(missing, e.ID)
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM bifrost_executions WHERE id = ANY($1::text[])`, missing)
	if err != nil {
		return err
	}
	defer rows.Close()
	exists := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		exists[id] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i, e := range execs {
		switch {
		case found[e.ID]:
		case exists[e.ID]:
			out[i].err = store.ErrStaleAttempt
		default:
			out[i].err = store.ErrNotFound
		}
	}
	return nil
}

// insertMany inserts executions in one statement, whatever their number
// (sqlrow.Driver.Insert).
func insertMany(ctx context.Context, tx *sql.Tx, execs []*store.Execution) error {
	n := len(execs)
	var (
		ids, workflows, modes, statuses = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		errs, credentials               = make([]string, n), make([]string, n)
		triggers, replays, traces       = make([]string, n), make([]string, n), make([]string, n)
		inputs, results, logs, keys     = make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n)
		attempts                        = make([]int32, n)
		jobs, created, started, ended   = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	)
	for i, e := range execs {
		l, err := sqlrow.LogsJSON(e.Logs)
		if err != nil {
			return fmt.Errorf("execution %s: %w", e.ID, err)
		}
		ids[i], workflows[i], modes[i], statuses[i] = e.ID, e.Workflow, e.Mode, string(e.Status)
		errs[i], credentials[i] = e.Error, e.Credential
		inputs[i], results[i], logs[i] = textOrNull(sqlrow.NullJSON(e.Input)), textOrNull(sqlrow.NullJSON(e.Result)), textOrNull(l)
		keys[i] = textOrNull(sqlrow.NullString(e.IdempotencyKey))
		triggers[i], replays[i], traces[i] = sqlrow.Trigger(e), e.ReplayOf, e.TraceParent
		attempts[i] = int32(e.Attempt)
		jobs[i], created[i], started[i], ended[i] = e.JobID, sqlrow.Micros(e.CreatedAt), sqlrow.Micros(e.StartedAt), sqlrow.Micros(e.FinishedAt)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO bifrost_executions (`+columns+`)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[],
		                     $9::text[], $10::text[], $11::text[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[],
		                     $16::text[], $17::text[], $18::text[])`,
		ids, workflows, modes, statuses, attempts, inputs, results, errs, logs, credentials, keys, jobs, created, started, ended,
		triggers, replays, traces)
	return err
}
