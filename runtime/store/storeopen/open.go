// Package storeopen opens the store a --db value names, picking its driver:
// the one place that knows every database.
package storeopen

import (
	"context"
	"strings"

	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/postgres"
	"github.com/bifrost-go/bifrost/runtime/store/sqlite"
)

// Open opens the store named by dsn and brings its schema up to date:
// "postgres://..." or "postgresql://..." for PostgreSQL; "sqlite:PATH",
// "sqlite://PATH" or a plain file path for SQLite (relative to the working
// directory); "" for store.DefaultDB.
func Open(ctx context.Context, dsn string) (store.Store, error) {
	if dsn == "" {
		dsn = store.DefaultDB
	}
	// Each branch returns its own nil on error: never a nil *T in a non-nil
	// interface.
	if IsPostgres(dsn) {
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	s, err := sqlite.Open(ctx, strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "sqlite:"))
	if err != nil {
		return nil, err
	}
	return s, nil
}

// IsPostgres reports whether dsn names a PostgreSQL store.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}
