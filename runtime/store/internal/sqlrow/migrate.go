package sqlrow

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

// Conn is what Migrate runs on: a pool, or one connection holding a lock.
type Conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// Migrate applies the migrations in dir of fsys (files NNNN_name.sql, in
// order) that bifrost_migrations does not list, each in its own
// transaction with its row there.
func Migrate(ctx context.Context, db Conn, fsys fs.FS, dir string) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS bifrost_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	files, err := migrationFiles(fsys, dir)
	if err != nil {
		return err
	}
	for _, f := range files {
		body, err := fs.ReadFile(fsys, dir+"/"+f.name)
		if err != nil {
			return err
		}
		if err := apply(ctx, db, f.version, string(body)); err != nil {
			return fmt.Errorf("migrate %s: %w", f.name, err)
		}
	}
	return nil
}

// migrationFile is one file of a migrations folder: NNNN_name.sql.
type migrationFile struct {
	version int
	name    string
}

// migrationFiles lists the migrations in dir of fsys, in order.
func migrationFiles(fsys fs.FS, dir string) ([]migrationFile, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	files := make([]migrationFile, 0, len(names))
	for _, name := range names {
		version, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migrate: bad migration name %s", name)
		}
		files = append(files, migrationFile{version, name})
	}
	return files, nil
}

// PendingMigrations lists, by name without .sql ("0004_links"), the
// migrations in dir of fsys that bifrost_migrations does not list: all of
// them when the table is missing. exists is the database's query of how
// many tables named bifrost_migrations the store sees (0 or 1). It only
// reads, so a readiness probe may call it.
func PendingMigrations(ctx context.Context, db *sql.DB, fsys fs.FS, dir, exists string) ([]string, error) {
	files, err := migrationFiles(fsys, dir)
	if err != nil {
		return nil, err
	}
	applied := map[int]bool{}
	var n int
	if err := db.QueryRowContext(ctx, exists).Scan(&n); err != nil {
		return nil, err
	}
	if n > 0 {
		rows, err := db.QueryContext(ctx, `SELECT version FROM bifrost_migrations`)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				return nil, err
			}
			applied[v] = true
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	var pending []string
	for _, f := range files {
		if !applied[f.version] {
			pending = append(pending, strings.TrimSuffix(f.name, ".sql"))
		}
	}
	return pending, nil
}

func apply(ctx context.Context, db Conn, version int, body string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// The version is an integer: a literal, so the query is every dialect's.
	var n int
	if err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT COUNT(*) FROM bifrost_migrations WHERE version = %d`, version)).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO bifrost_migrations (version, applied_at) VALUES (%d, %d)`, version, Micros(Now()))); err != nil {
		return err
	}
	return tx.Commit()
}
