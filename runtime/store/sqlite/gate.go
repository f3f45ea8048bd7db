package sqlite

import "context"

// gate lets the store's writers in one at a time, in the order they came.
//
// SQLite has one write lock, and a writer that finds it taken sleeps in its
// busy handler and tries again: while another writer takes the lock back to
// back (the record batcher under load), a waiter can lose every race for
// seconds, past busy_timeout. A key revocation must not wait behind a
// stream of record batches, so the store's writes queue here first: a
// channel's blocked senders are served first come, first served, and a
// writer waits behind at most the writes that arrived before it.
//
// The busy timeout still covers what the gate cannot see: the queue's own
// writes (River uses the pool directly) and other processes (a CLI command).
type gate chan struct{}

func newGate() gate { return make(gate, 1) }

// write runs fn holding the gate.
func (s *Store) write(ctx context.Context, fn func() error) error {
	select {
	case s.gate <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.gate }()
	return fn()
}
