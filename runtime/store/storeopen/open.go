// Package storeopen opens the store a --db value names, picking its driver:
// the one place that knows every database.
package storeopen

import (
	"context"
	"net/url"
	"path/filepath"
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
	path, _ := SQLitePath(dsn)
	s, err := sqlite.OpenWith(ctx, path, sqlite.Options{Durable: strings.HasSuffix(dsn, DurableSuffix)})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// IsPostgres reports whether dsn names a PostgreSQL store.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// SQLitePath is the file a SQLite dsn names, as given (relative to the
// working directory), and false for a PostgreSQL dsn.
func SQLitePath(dsn string) (string, bool) {
	if dsn == "" {
		dsn = store.DefaultDB
	}
	if IsPostgres(dsn) {
		return "", false
	}
	dsn = strings.TrimSuffix(dsn, DurableSuffix)
	return strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "sqlite:"), true
}

// DurableSuffix on a SQLite dsn syncs the file on every commit
// (synchronous=FULL; see sqlite.Options): bifrost.db?synchronous=full.
const DurableSuffix = "?synchronous=full"

// Describe names the database dsn opens for a log line: the absolute path
// of a SQLite file, or a PostgreSQL URL without its password.
func Describe(dsn string) string {
	if path, ok := SQLitePath(dsn); ok {
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		return "sqlite:" + path
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres (unparsable URL)"
	}
	return u.Redacted()
}
