package runtime

import (
	"context"
	"errors"
	"sync"
	"time"
)

// batcher groups the items that callers hand it while the previous group is
// being written: one goroutine takes whatever is queued (up to max) and
// writes it in one go. Under load, concurrent callers share a transaction;
// alone, a caller waits for nothing but its own write, unless the batcher
// lingers.
type batcher[T any] struct {
	in    chan T
	max   int
	write func([]T)
	once  sync.Once
	done  chan struct{}
	// linger is how long a batch that is not full waits for more items
	// before it is written: for writes no caller waits for (the records),
	// fewer and larger transactions cost the store less.
	linger time.Duration

	mu     sync.RWMutex // held to send, taken to close: no send on a closed channel
	closed bool
}

// errStopped refuses an item handed over after close (a request that
// outlived the shutdown's drain).
var errStopped = errors.New("the execution engine is stopped")

func newBatcher[T any](queue, max int, linger time.Duration, write func([]T)) *batcher[T] {
	return &batcher[T]{in: make(chan T, queue), max: max, linger: linger, write: write, done: make(chan struct{})}
}

// add queues an item, starting the writer on first use. It blocks when the
// queue is full: backpressure rather than loss.
func (b *batcher[T]) add(ctx context.Context, item T) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return errStopped
	}
	b.once.Do(func() { go b.run() })
	select {
	case b.in <- item:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *batcher[T]) run() {
	defer close(b.done)
	batch := make([]T, 0, b.max)
	var timer *time.Timer
	if b.linger > 0 {
		timer = time.NewTimer(b.linger)
		timer.Stop()
	}
	for item := range b.in {
		batch = append(batch[:0], item)
	more:
		for len(batch) < b.max {
			select {
			case next, ok := <-b.in:
				if !ok {
					break more
				}
				batch = append(batch, next)
			default:
				break more
			}
		}
		if timer != nil && len(batch) < b.max {
			timer.Reset(b.linger)
		linger:
			for len(batch) < b.max {
				select {
				case next, ok := <-b.in:
					if !ok {
						break linger // closed: write what there is now
					}
					batch = append(batch, next)
				case <-timer.C:
					break linger
				}
			}
			timer.Stop()
		}
		b.write(batch)
	}
}

// close writes what is queued and stops the writer. No add may follow.
func (b *batcher[T]) close(ctx context.Context) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	started := true
	b.once.Do(func() { started = false }) // under the lock: no add can start the writer now
	close(b.in)
	b.mu.Unlock()
	if !started {
		return nil
	}
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
