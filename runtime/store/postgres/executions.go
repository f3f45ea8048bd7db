package postgres

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/internal/sqlrow"
)

const columns = sqlrow.Columns

// numbered writes the ? placeholders of a shared statement as PostgreSQL's
// $1, $2... The statements hold no ? but their placeholders.
func numbered(query string) string {
	var b strings.Builder
	n := 0
	for {
		i := strings.IndexByte(query, '?')
		if i < 0 {
			b.WriteString(query)
			return b.String()
		}
		n++
		b.WriteString(query[:i])
		b.WriteString("$" + strconv.Itoa(n))
		query = query[i+1:]
	}
}

// Accept implements store.Store. The idempotency keys of the batch are
// locked first, so replicas accepting one key at once take turns; the
// fresh executions are inserted in one statement.
func (s *Store) Accept(ctx context.Context, execs []*store.Execution, enqueue store.EnqueueFunc) ([]store.Accepted, error) {
	var out []store.Accepted
	err := sqlrow.InTx(ctx, &s.tables, func(tx *sql.Tx) error {
		if err := lockIdempotencyKeys(ctx, tx, execs); err != nil {
			return err
		}
		var err error
		out, err = sqlrow.AcceptTx(ctx, &s.tables, tx, execs, enqueue)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AcceptTx implements store.Store: Accept in the caller's transaction, the
// idempotency keys locked until it ends.
func (s *Store) AcceptTx(ctx context.Context, tx *sql.Tx, execs []*store.Execution, enqueue store.EnqueueFunc) ([]store.Accepted, error) {
	if err := lockIdempotencyKeys(ctx, tx, execs); err != nil {
		return nil, err
	}
	return sqlrow.AcceptTx(ctx, &s.tables, tx, execs, enqueue)
}

// Start implements store.Store, grouped with concurrent starts (batch.go).
func (s *Store) Start(ctx context.Context, id string, attempt int, at time.Time) (*store.Execution, error) {
	e, err := s.writes.start.do(ctx, startCall{id: id, attempt: attempt, at: sqlrow.Micros(at)})
	if err != nil {
		return nil, err
	}
	if e == nil {
		return s.Get(ctx, id) // not runnable: cancelled, or already over
	}
	return e, nil
}

// Finish implements store.Store, grouped with concurrent finishes
// (batch.go), and announces an ended execution.
func (s *Store) Finish(ctx context.Context, e *store.Execution) error {
	if _, err := sqlrow.LogsJSON(e.Logs); err != nil {
		return err
	}
	if _, err := s.writes.finish.do(ctx, e); err != nil {
		return err
	}
	if e.Status.Terminal() {
		s.ended(e.ID)
	}
	return nil
}
