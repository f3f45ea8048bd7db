// Package sqlite is the store on an embedded SQLite file (modernc.org/sqlite:
// pure Go, no cgo), the default: one process owns the file, runs the queue
// (River's SQLite driver) in it, and recovers its own orphans at start.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	msqlite "modernc.org/sqlite"

	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/internal/sqlrow"
)

//go:embed migrations
var migrations embed.FS

// Store is the store on one SQLite file.
type Store struct {
	tables // configuration, keys, and the executions' reads, Record and Cancel

	db    *sql.DB
	path  string
	gate  gate  // the store's writers, one at a time, in arrival order (gate.go)
	ended hub   // ListenEnded's listeners (notify.go)
	group group // Start's and Finish's writes waiting for a transaction (batch.go)
}

var _ store.Store = (*Store)(nil)

// tables names sqlrow.Tables for embedding: an unexported field, so the
// store exports only its store.Store methods.
type tables = sqlrow.Tables

// Open opens the SQLite file at path (relative to the working directory),
// creating it (and its folder) readable by its owner only, in WAL mode with
// a busy timeout, and brings its schema up to date. Every transaction begins IMMEDIATE so concurrent writers queue up
// instead of failing to upgrade a read lock. (modernc takes pragmas as
// _pragma=; the mattn spelling is silently ignored.)
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenWith(ctx, path, Options{})
}

// Options are the choices a deployment makes about its SQLite file.
type Options struct {
	// Durable syncs the file on every commit (synchronous=FULL): an accepted
	// execution survives a power loss, not only a crash of the process, at
	// the cost docs/reliability.md measures. The default, NORMAL, may lose
	// the commits since the last checkpoint on a power loss.
	Durable bool
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, path string, opts Options) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := create(abs); err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	sync := "NORMAL"
	if opts.Durable {
		sync = "FULL"
	}
	dsn := "file:" + abs + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(" + sync + ")&_pragma=foreign_keys(ON)&_txlock=immediate"
	connector, err := msqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	// Statements stay prepared on each connection (stmtcache.go).
	db := sql.OpenDB(cachingConnector{Connector: connector, size: stmtCacheSize})
	// One writer at a time is all SQLite has; a few connections let reads
	// (polls, GETs) go on beside it.
	db.SetMaxOpenConns(8)
	// Keep them: the default keeps 2 idle and closes the rest after each
	// use, and opening a SQLite connection is not cheap.
	db.SetMaxIdleConns(8)
	s := &Store{db: db, path: abs, gate: newGate()}
	s.tables = sqlrow.NewTables(db, sqlrow.Driver{Write: s.write, Ended: s.ended.announce})
	if err := s.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	return s, nil
}

// create makes the database file, if it is missing, with mode 0600 (and
// its missing folders with 0700): it holds API key hashes, configuration
// and every execution's input. SQLite would create it 0644; its -wal and
// -shm files take the main file's mode, so they are private too. An
// existing file keeps its mode.
func create(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// Migrate applies the embedded migrations not yet applied.
func (s *Store) Migrate(ctx context.Context) error {
	return s.write(ctx, func() error { return sqlrow.Migrate(ctx, s.db, migrations, "migrations") })
}

// PendingMigrations implements store.Store.
func (s *Store) PendingMigrations(ctx context.Context) ([]string, error) {
	return sqlrow.PendingMigrations(ctx, s.db, migrations, "migrations",
		`SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'bifrost_migrations'`)
}

// DB returns the database, for tests that look under the store.
func (s *Store) DB() *sql.DB { return s.db }

// Path is the absolute path of the file.
func (s *Store) Path() string { return s.path }

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close implements store.Store.
func (s *Store) Close() error { return s.db.Close() }
