package sqlrow

import (
	"context"
	"database/sql"
	"strings"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// PruneQuery is the DELETE of store.Store.Prune, with its arguments;
// placeholder writes the n-th placeholder of the database (? or $n).
func PruneQuery(f store.PruneFilter, placeholder func(n int) string) (string, []any) {
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	args := []any{Micros(f.Before)}
	// Age counts from the end: an execution that waited or ran long is kept
	// its whole window after it finished.
	where := []string{"CASE WHEN finished_at > 0 THEN finished_at ELSE created_at END < " + placeholder(1),
		"status IN ('succeeded', 'failed', 'timed_out', 'cancelled')"}
	switch {
	case f.Workflow != "":
		args = append(args, f.Workflow)
		where = append(where, "workflow = "+placeholder(len(args)))
	case len(f.Except) > 0:
		marks := make([]string, len(f.Except))
		for i, w := range f.Except {
			args = append(args, w)
			marks[i] = placeholder(len(args))
		}
		where = append(where, "workflow NOT IN ("+strings.Join(marks, ", ")+")")
	}
	args = append(args, limit)
	return `DELETE FROM bifrost_executions WHERE id IN (SELECT id FROM bifrost_executions WHERE ` +
		strings.Join(where, " AND ") + ` ORDER BY id LIMIT ` + placeholder(len(args)) + `)`, args
}

// CountPending counts pending executions, in all and by workflow: the
// statement and its scan are the same on every database.
func CountPending(ctx context.Context, db *sql.DB) (int, map[string]int, error) {
	rows, err := db.QueryContext(ctx, `SELECT workflow, COUNT(*) FROM bifrost_executions WHERE status = 'pending' GROUP BY workflow`)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	total, by := 0, map[string]int{}
	for rows.Next() {
		var workflow string
		var n int
		if err := rows.Scan(&workflow, &n); err != nil {
			return 0, nil, err
		}
		by[workflow] = n
		total += n
	}
	return total, by, rows.Err()
}

// CountActive counts pending and running executions in one statement, the
// same on every database; the (status, id) index answers it.
func CountActive(ctx context.Context, db *sql.DB) (pending, running int, err error) {
	rows, err := db.QueryContext(ctx, `SELECT status, COUNT(*) FROM bifrost_executions WHERE status IN ('pending', 'running') GROUP BY status`)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return 0, 0, err
		}
		if status == string(store.Pending) {
			pending = n
		} else {
			running = n
		}
	}
	return pending, running, rows.Err()
}
