package postgres

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Ended executions are announced on a channel that every process LISTENs
// to, so long-polls on other replicas wake at once.
//
// The notification is sent after the commit, in batches, from a goroutine of
// the store (notifier), not by a trigger in the finishing transaction: a
// NOTIFY serialises the commits that send one (PostgreSQL holds a global lock
// from before the commit until its WAL is flushed), and one per execution
// capped completions at about one per fsync.

// EndedChannel is the notification channel on which the store announces
// that executions reached a terminal status: the payload is their ids,
// separated by commas.
const EndedChannel = "bifrost_execution_ended"

// ended announces that execution id reached a terminal status.
func (s *Store) ended(id string) { s.notify.add(s.db, id) }

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

// listenerPool returns a small pgx pool on the store's database for
// dedicated LISTEN connections (the queue's and ListenEnded's). It is
// opened on first use and closed with the store.
func (s *Store) listenerPool(ctx context.Context) (*pgxpool.Pool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("store: closed")
	}
	if s.listener == nil {
		cfg := s.config.Copy()
		cfg.MaxConns, cfg.MinConns = 4, 0
		p, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, err
		}
		s.listener = p
	}
	return s.listener, nil
}

// ListenEnded implements store.Store: it listens on a dedicated connection
// and reconnects after a failure.
func (s *Store) ListenEnded(ctx context.Context, log *slog.Logger, ended func(id string)) error {
	pool, err := s.listenerPool(ctx)
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
