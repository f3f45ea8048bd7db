package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // the embedded store: pure Go, no cgo
)

// DefaultDB is the store used when --db is not given: a SQLite file in the
// working directory.
const DefaultDB = "bifrost.db"

//go:embed migrations
var migrations embed.FS

// Open opens the store named by dsn and brings its schema up to date:
// "sqlite:PATH", "sqlite://PATH" or a plain file path for SQLite (relative to
// the working directory); "postgres://..." for PostgreSQL.
func Open(ctx context.Context, dsn string) (*SQL, error) {
	if dsn == "" {
		dsn = DefaultDB
	}
	if IsPostgres(dsn) {
		return openPostgres(ctx, dsn)
	}
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "sqlite:")
	return openSQLite(ctx, path)
}

// openSQLite opens a SQLite file in WAL mode with a busy timeout, and begins
// every transaction IMMEDIATE so concurrent writers queue up instead of
// failing to upgrade a read lock. (modernc takes pragmas as _pragma=;
// the mattn spelling is silently ignored.)
func openSQLite(ctx context.Context, path string) (*SQL, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	dsn := "file:" + abs + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	// One writer at a time is all SQLite has; a few connections let reads
	// (polls, GETs) go on beside it.
	db.SetMaxOpenConns(8)
	// Keep them: the default keeps 2 idle and closes the rest after each
	// use, and opening a SQLite connection is not cheap.
	db.SetMaxIdleConns(8)
	s := &SQL{db: db, kind: "sqlite", path: abs}
	if err := s.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	return s, nil
}

// Migrate applies the embedded migrations not yet applied, each in its own
// transaction, recording them in bifrost_migrations. On PostgreSQL it holds
// an advisory lock meanwhile, so replicas that start together take turns.
func (s *SQL) Migrate(ctx context.Context) error {
	if s.kind == "postgres" {
		return s.migratePostgres(ctx)
	}
	return s.migrate(ctx, s.db)
}

// conn is what migrate runs on: the pool, or one connection holding a lock.
type conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

func (s *SQL) migrate(ctx context.Context, db conn) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS bifrost_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	dir := "migrations/" + s.kind
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	for _, name := range names {
		version, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migrate: bad migration name %s", name)
		}
		body, err := fs.ReadFile(migrations, dir+"/"+name)
		if err != nil {
			return err
		}
		if err := s.apply(ctx, db, version, string(body)); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	return nil
}

func (s *SQL) apply(ctx context.Context, db conn, version int, body string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM bifrost_migrations WHERE version = ?`), version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO bifrost_migrations (version, applied_at) VALUES (?, ?)`), version, micros(now())); err != nil {
		return err
	}
	return tx.Commit()
}

// redact hides the password of a database URL for messages.
func redact(dsn string) string {
	if q := strings.IndexByte(dsn, '?'); q >= 0 { // ?password=... is a password too
		params := strings.Split(dsn[q+1:], "&")
		for i, p := range params {
			if k, _, ok := strings.Cut(p, "="); ok && strings.EqualFold(k, "password") {
				params[i] = k + "=xxxxx"
			}
		}
		dsn = dsn[:q+1] + strings.Join(params, "&")
	}
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return dsn[:scheme+3] + user + ":xxxxx" + dsn[at:]
	}
	return dsn
}
