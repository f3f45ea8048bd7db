package sqlite

import (
	"context"
	"database/sql"
	"slices"
	"sync"
	"time"
)

// Grouped writes. An async execution's Start and Finish were a commit
// each, one at a time through the gate: with the queue's own writes
// between them, that bounded the store to a couple of thousand executions a
// second however many workers ran. So the Starts and Finishes that arrive
// while a transaction is on its way share the next one, and each caller
// returns once the transaction that carries its write is committed: the
// same promise as a commit of its own. A lone caller waits for nothing
// but its own write.

// maxGroup bounds the writes of one transaction.
const maxGroup = 256

// group is the queue of writes waiting for a transaction.
type group struct {
	mu      sync.Mutex
	queue   []*groupCall
	running bool
}

type groupCall struct {
	ctx context.Context
	// run makes the write within tx; an error is the database's, and
	// rolls the transaction back (run keeps answers such as "not found"
	// for its caller).
	run  func(ctx context.Context, tx *sql.Tx) error
	done chan error
}

// grouped runs the write run in the next grouped transaction, and returns
// once that transaction has committed (or failed).
func (s *Store) grouped(ctx context.Context, run func(ctx context.Context, tx *sql.Tx) error) error {
	c := &groupCall{ctx: ctx, run: run, done: make(chan error, 1)}
	g := &s.group
	g.mu.Lock()
	g.queue = append(g.queue, c)
	if !g.running {
		g.running = true
		go s.runGroups()
	}
	g.mu.Unlock()
	select {
	case err := <-c.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) runGroups() {
	g := &s.group
	for {
		g.mu.Lock()
		n := min(len(g.queue), maxGroup)
		if n == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		batch := slices.Clone(g.queue[:n])
		g.queue = slices.Delete(g.queue, 0, n)
		g.mu.Unlock()
		s.writeGroup(batch)
	}
}

// writeGroup writes batch in one transaction. A write that fails gets its
// error and the transaction is rolled back; the others are written again
// without it: a statement's failure may have ended SQLite's transaction,
// and what followed it must not commit on its own.
func (s *Store) writeGroup(batch []*groupCall) {
	for len(batch) > 0 {
		live := batch[:0]
		for _, c := range batch {
			if err := c.ctx.Err(); err != nil {
				c.done <- err // its caller has gone: the write is not made
				continue
			}
			live = append(live, c)
		}
		batch = live
		if len(batch) == 0 {
			return
		}
		failed := -1
		var failure error
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := s.write(ctx, func() error {
			tx, err := s.db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			for i, c := range batch {
				if err := c.run(ctx, tx); err != nil {
					failed, failure = i, err
					return err
				}
			}
			return tx.Commit()
		})
		cancel()
		if failed < 0 {
			for _, c := range batch {
				c.done <- err
			}
			return
		}
		batch[failed].done <- failure
		batch = slices.Delete(batch, failed, failed+1)
	}
}
