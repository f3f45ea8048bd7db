package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/bifrost-go/bifrost/runtime/store/storetest"
)

// TestGroupedWritesUseTheKey: Start and Finish of a small group probe the
// primary key, as they are sent (batch.go), on a table of a few thousand
// rows not analyzed yet (one that grew since autovacuum last looked), where
// a prepared statement's generic plan read every row.
func TestGroupedWritesUseTheKey(t *testing.T) {
	s, err := Open(t.Context(), storetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO bifrost_executions (`+columns+`)
		SELECT g::text, 'w', 'async', 'pending', 0, NULL, NULL, '', NULL, '', NULL, 0, 0, 0, 0, '', '', ''
		FROM generate_series(1, 3000) AS g`); err != nil {
		t.Fatal(err)
	}
	ids := []string{"1", "2"}
	for name, run := range map[string][]any{
		"start":  {startQuery, ids, []int32{1, 1}, []int64{1, 1}},
		"finish": {finishQuery, ids, []string{"succeeded", "failed"}, []int32{1, 1}, []*string{nil, nil}, []string{"", "x"}, []*string{nil, nil}, []int64{1, 1}, []int64{2, 2}},
	} {
		plan := explain(ctx, t, s, run[0].(string), run[1:]...)
		if strings.Contains(plan, "Seq Scan on bifrost_executions") {
			t.Errorf("%s reads the whole table:\n%s", name, plan)
		}
	}
}

func explain(ctx context.Context, t *testing.T, s *Store, query string, args ...any) string {
	t.Helper()
	rows, err := s.DB().QueryContext(ctx, "EXPLAIN "+query, append([]any{pgx.QueryExecModeExec}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan.String()
}
