package sqlite

import (
	"context"

	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/internal/sqlrow"
)

// Prune implements store.Store.
func (s *Store) Prune(ctx context.Context, f store.PruneFilter) (int, error) {
	query, args := sqlrow.PruneQuery(f, func(int) string { return "?" })
	var n int64
	err := s.write(ctx, func() error {
		res, err := s.db.ExecContext(ctx, query, args...)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	return int(n), err
}

// CountPending implements store.Store.
func (s *Store) CountPending(ctx context.Context) (int, map[string]int, error) {
	return sqlrow.CountPending(ctx, s.db)
}

// CountActive implements store.Store.
func (s *Store) CountActive(ctx context.Context) (int, int, error) {
	return sqlrow.CountActive(ctx, s.db)
}
