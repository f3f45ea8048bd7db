package runtime

import (
	"context"
	"sync"
	"time"
)

// deadlineCtx is the timeout of a sync execution, built so that it costs
// nothing until somebody waits on it. context.WithTimeout allocates a
// cancel context and a timer and registers with its parent on every request
// (4 allocations, a timer-heap insert and removal), though most workflows
// never select on Done. This context answers Err from the clock, and builds
// Done's channel and its timers only when Done is first called.
//
// It keeps context's contract: Err is sticky, and once Done exists Err is
// nil until it is closed. One difference: context.Cause on it reports its
// parent's cause (context finds the parent's cancelCtx through Value), so
// the runtime does not use Cause on a sync execution's context.
type deadlineCtx struct {
	parent   context.Context
	deadline time.Time

	mu         sync.Mutex
	err        error         // sticky once set
	done       chan struct{} // nil until Done is called
	timer      *time.Timer
	stopParent func() bool
}

// init arms c (a field of the exchange: no allocation) with parent
// and the time at which it expires.
func (c *deadlineCtx) init(parent context.Context, timeout time.Duration) {
	c.parent, c.deadline = parent, time.Now().Add(timeout)
}

// Deadline is the earlier of the parent's and the timeout's.
func (c *deadlineCtx) Deadline() (time.Time, bool) {
	if d, ok := c.parent.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

func (c *deadlineCtx) Value(key any) any { return c.parent.Value(key) }

func (c *deadlineCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && c.done == nil { // no channel to agree with: ask the clock
		c.err = c.expired()
	}
	return c.err
}

// expired is the error the context has by now, from its parent or the clock.
func (c *deadlineCtx) expired() error {
	if err := c.parent.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

func (c *deadlineCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return c.done
	}
	c.done = make(chan struct{})
	if c.err == nil {
		c.err = c.expired()
	}
	if c.err != nil {
		close(c.done)
		return c.done
	}
	c.timer = time.AfterFunc(time.Until(c.deadline), func() { c.cancel(context.DeadlineExceeded) })
	c.stopParent = context.AfterFunc(c.parent, func() { c.cancel(c.parent.Err()) })
	return c.done
}

// cancel ends the context with err unless it has ended already.
func (c *deadlineCtx) cancel(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil && c.err == nil {
		c.err = err
		close(c.done)
	}
	if c.done == nil && c.err == nil {
		c.err = err
	}
	if c.timer != nil {
		c.timer.Stop()
		c.stopParent()
		c.timer, c.stopParent = nil, nil
	}
}

// release ends the context when the execution returns, as the cancel of
// context.WithTimeout would: what the workflow started sees it cancelled.
func (c *deadlineCtx) release() { c.cancel(context.Canceled) }
