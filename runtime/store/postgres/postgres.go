// Package postgres is the store on PostgreSQL, where several `serve`
// replicas and `worker` processes share one database (docs/deploy.md): the
// statements it shares with SQLite (sqlrow.Tables) given $n placeholders,
// its migrations run under an advisory lock, idempotency keys locked while
// they are looked up, grouped writes (batch.go), the queue on River's
// database/sql driver with a pgx LISTEN connection (queue.go), a
// notification when an execution ends (notify.go), and worker liveness:
// heartbeats and the reaping of dead workers' jobs (workers.go).
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/internal/sqlrow"
)

//go:embed migrations
var migrations embed.FS

// DefaultPoolSize is the database/sql pool's size when the URL does not
// give pool_max_conns.
const DefaultPoolSize = 32

// migrationLockClass is the first key of the advisory lock that serialises
// migrations ("bfst"); the second is a hash of the schema, so stores in
// different schemas of one database migrate independently.
const migrationLockClass = 0x62667374

// Store is the store on a PostgreSQL database.
type Store struct {
	tables // configuration, keys, and the executions' reads, Record and Cancel

	db     *sql.DB
	config *pgxpool.Config // the connection settings, for the listener pool

	notify notifier
	writes writes // grouped Start and Finish (batch.go)

	mu       sync.Mutex
	listener *pgxpool.Pool // dedicated LISTEN connections, opened on first use
	closed   bool
}

var _ store.Store = (*Store)(nil)

// tables names sqlrow.Tables for embedding: an unexported field, so the
// store exports only its store.Store methods.
type tables = sqlrow.Tables

// Open connects to PostgreSQL (a postgres:// or postgresql:// URL) through
// pgx's database/sql driver and migrates. The URL may carry pool_max_conns (the database/sql pool's size,
// DefaultPoolSize without it); every other parameter is pgx's (sslmode,
// search_path, application_name, connect_timeout...).
func Open(ctx context.Context, dsn string) (*Store, error) {
	rest, size, err := poolSize(dsn)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", redact(dsn), err)
	}
	cfg, err := pgxpool.ParseConfig(rest)
	if err != nil {
		return nil, fmt.Errorf("store %s: %s", redact(dsn), redactErr(err, dsn))
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "bifrost"
	}
	db := stdlib.OpenDB(*cfg.ConnConfig)
	db.SetMaxOpenConns(size)
	db.SetMaxIdleConns(size)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{db: db, config: cfg}
	s.tables = sqlrow.NewTables(db, sqlrow.Driver{Bind: numbered, Ended: s.ended, Insert: insertMany})
	s.initWrites()
	ping, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.PingContext(ping); err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: %s", redact(dsn), redactErr(err, dsn))
	}
	if err := s.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: %w", redact(dsn), err)
	}
	return s, nil
}

// poolSize takes pool_max_conns out of a PostgreSQL URL.
func poolSize(dsn string) (string, int, error) {
	authority := dsn[strings.Index(dsn, "://")+3:]
	if i := strings.IndexAny(authority, "/?#"); i >= 0 {
		authority = authority[:i]
	}
	if strings.Count(authority, "@") > 1 {
		// url and pgx would not agree on where the password ends.
		return "", 0, errors.New("the user or password holds a raw @: percent-encode it (%40)")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", 0, errors.New("not a valid postgres:// URL")
	}
	q := u.Query()
	v := q.Get("pool_max_conns")
	if v == "" {
		return dsn, DefaultPoolSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 2 {
		return "", 0, fmt.Errorf("pool_max_conns=%q: expected an integer of at least 2", v)
	}
	q.Del("pool_max_conns")
	u.RawQuery = q.Encode()
	return u.String(), n, nil
}

// redactErr is err's message without the URL's password, should a driver
// quote it.
func redactErr(err error, dsn string) string {
	msg := err.Error()
	if u, perr := url.Parse(dsn); perr == nil {
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
		if p := u.Query().Get("password"); p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
	}
	return msg
}

// Migrate applies the embedded migrations not yet applied while holding
// the migration lock, so replicas starting together take turns: the first
// migrates, the others find the work done.
func (s *Store) Migrate(ctx context.Context) error {
	return s.withLock(ctx, func(conn *sql.Conn) error { return sqlrow.Migrate(ctx, conn, migrations, "migrations") })
}

// PendingMigrations implements store.Store. The table is looked up on the
// search path, as the migrations create it.
func (s *Store) PendingMigrations(ctx context.Context) ([]string, error) {
	return sqlrow.PendingMigrations(ctx, s.db, migrations, "migrations",
		`SELECT CASE WHEN to_regclass('bifrost_migrations') IS NULL THEN 0 ELSE 1 END`)
}

// withLock holds a session advisory lock on one connection while fn runs.
func (s *Store) withLock(ctx context.Context, fn func(conn *sql.Conn) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, hashtext(current_schema()))`, migrationLockClass); err != nil {
		return fmt.Errorf("migrate: take the migration lock: %w", err)
	}
	defer func() {
		unlock, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(unlock, `SELECT pg_advisory_unlock($1, hashtext(current_schema()))`, migrationLockClass); err != nil {
			// A session lock must not outlive the migration: drop the connection.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return fn(conn)
}

// lockIdempotencyKeys takes, inside an Accept transaction on PostgreSQL, a
// transaction lock per idempotency key of the batch, in one order, before
// the keys are looked up: two replicas accepting the same key at once take
// turns, and the second finds the first's execution instead of failing on
// the unique index. SQLite needs none: its writers already take turns.
func lockIdempotencyKeys(ctx context.Context, tx *sql.Tx, execs []*store.Execution) error {
	var keys []int64
	for _, e := range execs {
		if e.IdempotencyKey == "" {
			continue
		}
		h := fnv.New64a()
		for _, part := range []string{e.Workflow, e.Credential, e.IdempotencyKey} {
			h.Write([]byte(part))
			h.Write([]byte{0})
		}
		keys = append(keys, int64(h.Sum64()))
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = strconv.FormatInt(k, 10)
	}
	// The sorted subquery fixes the order the locks are taken in: no deadlock
	// between two batches that share keys.
	_, err := tx.ExecContext(ctx, `SELECT count(pg_advisory_xact_lock(k))
		FROM (SELECT k FROM unnest($1::bigint[]) AS k ORDER BY k) AS sorted`, "{"+strings.Join(parts, ",")+"}")
	return err
}

// DB returns the database, for tests that look under the store.
func (s *Store) DB() *sql.DB { return s.db }

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close implements store.Store: it sends the pending notifications, closes
// the listener pool, then the database.
func (s *Store) Close() error {
	s.notify.close()
	s.mu.Lock()
	s.closed = true
	if s.listener != nil {
		s.listener.Close()
		s.listener = nil
	}
	s.mu.Unlock()
	return s.db.Close()
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
