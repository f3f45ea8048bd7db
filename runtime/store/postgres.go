package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// The PostgreSQL store: several `serve` replicas and `worker` processes
// share one database. It is the SQL store with $n placeholders, its own
// migrations (migrations/postgres) run under an advisory lock, idempotency
// keys locked while they are looked up, and a notification when an execution
// ends (LISTEN bifrost_execution_ended) so long-polls on other replicas wake
// at once.
//
// The notification is sent after the commit, in batches, from a goroutine of
// the store (notifier), not by a trigger in the finishing transaction: a
// NOTIFY serialises the commits that send one (PostgreSQL holds a global lock
// from before the commit until its WAL is flushed), and one per execution
// capped completions at about one per fsync.

// DefaultPoolSize is the database/sql pool's size on PostgreSQL when the URL
// does not give pool_max_conns.
const DefaultPoolSize = 32

// EndedChannel is the notification channel on which a PostgreSQL store
// announces that executions reached a terminal status: the payload is their
// ids, separated by commas.
const EndedChannel = "bifrost_execution_ended"

// migrationLockClass is the first key of the advisory lock that serialises
// migrations ("bfst"); the second is a hash of the schema, so stores in
// different schemas of one database migrate independently.
const migrationLockClass = 0x62667374

// IsPostgres reports whether dsn names a PostgreSQL store.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// pgState is what only a PostgreSQL store holds.
type pgState struct {
	config *pgxpool.Config // the connection settings, for the listener pool

	notify notifier
	writes pgWrites // grouped Start and Finish (postgres_batch.go)

	mu       sync.Mutex
	listener *pgxpool.Pool // dedicated LISTEN connections, opened on first use
	closed   bool
}

// ended announces, on PostgreSQL, that execution id reached a terminal
// status.
func (s *SQL) ended(id string) {
	if s.pg != nil {
		s.pg.notify.add(s.db, id)
	}
}

// notifier sends the ids of ended executions on EndedChannel, whatever
// accumulated while the previous NOTIFY was sent going in the next.
type notifier struct {
	mu      sync.Mutex
	db      *sql.DB
	ids     []string
	running bool
	closed  bool
	idle    chan struct{} // closed when the sender goroutine exits
}

// maxPayload keeps a NOTIFY under PostgreSQL's 8000-byte payload limit;
// maxPending bounds what waits while the database does not answer (a missed
// notification only delays a long-poll to its next poll of the store).
const (
	maxPayload = 7900
	maxPending = 100_000
)

func (n *notifier) add(db *sql.DB, id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed || len(n.ids) >= maxPending {
		return
	}
	n.db = db
	n.ids = append(n.ids, id)
	if !n.running {
		n.running = true
		n.idle = make(chan struct{})
		go n.send()
	}
}

func (n *notifier) send() {
	for {
		n.mu.Lock()
		ids := n.ids
		n.ids = nil
		if len(ids) == 0 {
			n.running = false
			close(n.idle)
			n.mu.Unlock()
			return
		}
		db := n.db
		n.mu.Unlock()
		for len(ids) > 0 {
			size, k := 0, 0
			for k < len(ids) && size+len(ids[k])+1 <= maxPayload {
				size += len(ids[k]) + 1
				k++
			}
			k = max(k, 1)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, _ = db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, EndedChannel, strings.Join(ids[:k], ","))
			cancel()
			ids = ids[k:]
		}
	}
}

// close sends what is pending (for at most a few seconds) and stops.
func (n *notifier) close() {
	n.mu.Lock()
	n.closed = true
	running, idle := n.running, n.idle
	n.mu.Unlock()
	if running {
		select {
		case <-idle:
		case <-time.After(5 * time.Second):
		}
	}
}

// openPostgres connects to PostgreSQL through pgx's database/sql driver and
// migrates. The URL may carry pool_max_conns (the database/sql pool's size,
// DefaultPoolSize without it); every other parameter is pgx's (sslmode,
// search_path, application_name, connect_timeout...).
func openPostgres(ctx context.Context, dsn string) (*SQL, error) {
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
	s := &SQL{db: db, kind: "postgres", pg: &pgState{config: cfg}}
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

// migratePostgres applies the migrations while holding the migration lock,
// so replicas starting together take turns: the first migrates, the others
// find the work done.
func (s *SQL) migratePostgres(ctx context.Context) error {
	return s.withLock(ctx, func(conn *sql.Conn) error { return s.migrate(ctx, conn) })
}

// WithMigrationLock runs fn while this process holds the lock that
// serialises migrations of the store's schema, for the queue's own
// migrations (which cannot run in one transaction). Only for PostgreSQL.
func (s *SQL) WithMigrationLock(ctx context.Context, fn func() error) error {
	if s.kind != "postgres" {
		return errors.New("store: the migration lock is PostgreSQL's")
	}
	return s.withLock(ctx, func(*sql.Conn) error { return fn() })
}

// withLock holds a session advisory lock on one connection while fn runs.
func (s *SQL) withLock(ctx context.Context, fn func(conn *sql.Conn) error) error {
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
func (s *SQL) lockIdempotencyKeys(ctx context.Context, tx *sql.Tx, execs []*Execution) error {
	if s.kind != "postgres" {
		return nil
	}
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

// ListenerPool returns a small pgx pool on the store's database for
// dedicated LISTEN connections (the queue's and ListenEnded's). It is
// opened on first use and closed with the store. Only for PostgreSQL.
func (s *SQL) ListenerPool(ctx context.Context) (*pgxpool.Pool, error) {
	if s.pg == nil {
		return nil, errors.New("store: LISTEN needs PostgreSQL")
	}
	s.pg.mu.Lock()
	defer s.pg.mu.Unlock()
	if s.pg.closed {
		return nil, errors.New("store: closed")
	}
	if s.pg.listener == nil {
		cfg := s.pg.config.Copy()
		cfg.MaxConns, cfg.MinConns = 4, 0
		p, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, err
		}
		s.pg.listener = p
	}
	return s.pg.listener, nil
}

// ListenEnded calls ended with the id of every execution that reaches a
// terminal status, in any process, until ctx ends. It listens on a
// dedicated connection and reconnects after a failure (a notification sent
// while it was disconnected is missed: callers keep polling as a fallback).
// Only for PostgreSQL.
func (s *SQL) ListenEnded(ctx context.Context, log *slog.Logger, ended func(id string)) error {
	pool, err := s.ListenerPool(ctx)
	if err != nil {
		return err
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := listenOnce(ctx, pool, ended, func() { backoff = 100 * time.Millisecond })
		if ctx.Err() != nil {
			break
		}
		log.LogAttrs(ctx, slog.LevelWarn, "execution notifications interrupted; reconnecting",
			slog.String("error", err.Error()), slog.Duration("retry_in", backoff))
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
	return nil
}

func listenOnce(ctx context.Context, pool *pgxpool.Pool, ended func(string), connected func()) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A listening connection is not handed back: closing it ends the LISTEN.
	c := conn.Hijack()
	defer c.Close(context.WithoutCancel(ctx))
	if _, err := c.Exec(ctx, "LISTEN "+EndedChannel); err != nil {
		return err
	}
	connected()
	for {
		n, err := c.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		for id := range strings.SplitSeq(n.Payload, ",") {
			ended(id)
		}
	}
}

// closePostgres closes the listener pool.
func (s *SQL) closePostgres() {
	if s.pg == nil {
		return
	}
	s.pg.notify.close()
	s.pg.mu.Lock()
	defer s.pg.mu.Unlock()
	s.pg.closed = true
	if s.pg.listener != nil {
		s.pg.listener.Close()
		s.pg.listener = nil
	}
}
