package runtime

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/bifrost-go/bifrost/internal/execctx"
	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/workflow"
)

// Client starts async workflows from Go code: the Start<Func> functions
// bifrostgen generates for every async workflow take one. A *Server is a
// Client (it needs its Store; Start is not required, so a process that
// serves nothing can enqueue for the servers that work); inside a workflow,
// ClientFrom(ctx) is the server running it.
type Client interface {
	// Enqueue stores an async execution of the named workflow with args as
	// its input, and its queue job, as an HTTP call to the workflow's
	// endpoint would, with trigger "enqueue". It returns the execution's id.
	Enqueue(ctx context.Context, workflow string, args bind.Args, opts ...StartOption) (string, error)
}

// ClientFrom returns the Client of the server running the execution in ctx
// (a workflow's context), or nil outside an execution.
func ClientFrom(ctx context.Context) Client {
	if e := execctx.From(ctx); e != nil {
		if c, ok := e.Client.(Client); ok {
			return c
		}
	}
	return nil
}

// StartOption changes how Enqueue starts an execution.
type StartOption func(*startOptions)

type startOptions struct {
	key   string
	runAt time.Time
	tx    *sql.Tx
}

// WithIdempotencyKey makes a second Enqueue of the workflow with the same key,
// within 24 hours, return the first execution's id and start nothing (an
// error if its input differs). Keys of Go callers never match those of
// HTTP calls.
func WithIdempotencyKey(key string) StartOption {
	return func(o *startOptions) { o.key = key }
}

// WithDelay runs the execution no sooner than d from now. It is pending
// until then.
func WithDelay(d time.Duration) StartOption {
	return func(o *startOptions) { o.runAt = time.Now().Add(d) }
}

// WithRunAt runs the execution no sooner than t.
func WithRunAt(t time.Time) StartOption {
	return func(o *startOptions) { o.runAt = t }
}

// WithTx stores the execution and its job in tx, the caller's transaction,
// as River's InsertTx does: they exist, and a worker runs them, only once
// the caller commits tx; a rollback leaves nothing. tx must be open on the
// server's own database (the same PostgreSQL database, or the same SQLite
// file), from any *sql.DB; a transaction on another database fails, or
// with the same tables there, writes the execution where no worker looks.
func WithTx(tx *sql.Tx) StartOption {
	return func(o *startOptions) { o.tx = tx }
}

// ErrNoClient is the error of a generated Start function given a nil
// Client: outside a workflow, pass the *Server.
var ErrNoClient = errors.New("runtime: no Client to enqueue with: pass the *runtime.Server, or runtime.ClientFrom(ctx) inside a workflow")

// ErrTooManyPending is Enqueue's error when the pending executions are at
// the server's cap (Options.MaxPending, MaxPendingPerWorkflow): an HTTP
// call would get 503.
var ErrTooManyPending = errors.New("too many executions are waiting to run; retry later")

// ErrIdempotencyKeyReused is Enqueue's error for a key used within 24 hours
// with another input; the id returned is the first execution's.
var ErrIdempotencyKeyReused = errors.New("this idempotency key was used with another input")

// Enqueue implements Client.
func (s *Server) Enqueue(ctx context.Context, name string, args bind.Args, opts ...StartOption) (string, error) {
	var o startOptions
	for _, opt := range opts {
		opt(&o)
	}
	wf, err := s.enqueueable(name, o.key)
	if err != nil {
		return "", err
	}
	input, err := json.Marshal(args)
	if err != nil {
		return "", fmt.Errorf("workflow %s: the input is not JSON: %w", name, err)
	}
	// As a call's: never more than a body may hold (the stored input is the
	// only copy), its credentials' headers never stored.
	if s.bodyLimit > 0 && int64(len(input)) > s.bodyLimit {
		return "", fmt.Errorf("workflow %s: the input is %d bytes, over the body limit of %d", name, len(input), s.bodyLimit)
	}
	input = s.redact.input(input)
	if s.pendingFull(ctx, name) {
		return "", ErrTooManyPending
	}
	now := time.Now()
	id, err := freshExecutionID(now)
	if err != nil {
		return "", err
	}
	e := &store.Execution{ID: id, Workflow: wf.Name, Mode: string(workflow.Async), Status: store.Pending,
		Input: input, CreatedAt: now, Trigger: store.TriggerEnqueue}
	if o.key != "" {
		e.IdempotencyKey = "enqueue:" + o.key // apart from the keys of HTTP calls and ticks
	}
	enqueue := s.engine.enqueueAt(o.runAt)
	var out []store.Accepted
	if o.tx != nil {
		out, err = s.engine.store.AcceptTx(ctx, o.tx, []*store.Execution{e}, enqueue)
	} else {
		out, err = s.engine.store.Accept(ctx, []*store.Execution{e}, enqueue)
	}
	if err != nil {
		return "", fmt.Errorf("workflow %s: not enqueued: %w", name, err)
	}
	first := out[0].Execution
	if out[0].Duplicate && !bytes.Equal(first.Input, e.Input) {
		return first.ID, ErrIdempotencyKeyReused
	}
	return first.ID, nil
}

// enqueueable is the workflow name names, when Go code may start it.
func (s *Server) enqueueable(name, key string) (*Workflow, error) {
	if s.engine == nil {
		return nil, errors.New("runtime: Enqueue needs a store (Options.Store)")
	}
	wf := s.engine.workflows[name]
	switch {
	case wf == nil:
		return nil, fmt.Errorf("runtime: this server has no workflow %q", name)
	case wf.Mode != workflow.Async:
		return nil, fmt.Errorf("runtime: workflow %s is not async: call %s directly", name, wf.Func)
	case len(key) > maxIdempotencyKey:
		return nil, errors.New("runtime: the idempotency key is longer than 255 bytes")
	case !utf8.ValidString(key) || strings.ContainsRune(key, 0):
		return nil, errors.New("runtime: the idempotency key must be UTF-8 without NUL bytes")
	}
	return wf, nil
}

// pendingFull reports whether the pending executions are at their cap.
func (s *Server) pendingFull(ctx context.Context, name string) bool {
	p := &s.pressure
	if p.maxTotal <= 0 && p.maxPerWorkflow <= 0 {
		return false
	}
	total, mine, err := p.counts(ctx, s, name)
	if err != nil {
		return false // the accept that follows reports a store that does not answer
	}
	if p.maxTotal > 0 && total >= p.maxTotal || p.maxPerWorkflow > 0 && mine >= p.maxPerWorkflow {
		return true
	}
	p.took(name)
	return false
}

// enqueueAt is en.enqueue with the jobs scheduled at runAt (now when zero).
func (en *engine) enqueueAt(runAt time.Time) store.EnqueueFunc {
	if runAt.IsZero() {
		return en.enqueue
	}
	return func(ctx context.Context, tx *sql.Tx, fresh []*store.Execution) ([]int64, error) {
		params := make([]river.InsertManyParams, len(fresh))
		for i, e := range fresh {
			params[i] = river.InsertManyParams{
				Args:       executionArgs{ExecutionID: e.ID, Workflow: e.Workflow},
				InsertOpts: &river.InsertOpts{MaxAttempts: en.attempts(e.Workflow), ScheduledAt: runAt},
			}
		}
		res, err := en.queue.InsertManyTx(ctx, tx, params)
		if err != nil {
			return nil, err
		}
		ids := make([]int64, len(res))
		for i, r := range res {
			ids[i] = r.Job.ID
		}
		return ids, nil
	}
}

// freshExecutionID is a fresh execution id, for executions no request starts.
func freshExecutionID(now time.Time) (string, error) {
	u, err := newV7(now)
	if err != nil {
		return "", err
	}
	return formatID(u), nil
}
