// Package execctx carries the running execution's identity and logger in a
// context. Package bifrost reads it for workflow code; package runtime writes it.
package execctx

import (
	"context"
	"log/slog"
	"sync"
)

type key struct{}

// Execution is what a workflow's context knows about the run it belongs to.
type Execution struct {
	ID       string
	Workflow string
	// Base is the process logger; Logger adds the workflow and execution id
	// to it on first use, so a workflow that never logs costs nothing.
	Base *slog.Logger
	// Capture, when set, also keeps the lines logged at info and above for
	// the execution's record.
	Capture *Capture

	once   sync.Once
	logger *slog.Logger
}

// Logger returns Base tagged with the workflow and execution id.
func (e *Execution) Logger() *slog.Logger {
	e.once.Do(func() {
		base := e.Base
		if base == nil {
			base = slog.Default()
		}
		h := base.Handler().WithAttrs([]slog.Attr{slog.String("workflow", e.Workflow), slog.String("execution_id", e.ID)})
		if e.Capture != nil {
			h = &tee{process: h, capture: e.Capture}
		}
		e.logger = slog.New(h)
	})
	return e.logger
}

// Context is a context carrying an execution. A server embeds one in its
// per-request state and passes its address, which costs no allocation where
// context.WithValue would.
type Context struct {
	context.Context
	Exec *Execution
}

// Value answers the execution for this package's key and defers to the
// parent for every other key.
func (c *Context) Value(k any) any {
	if _, ok := k.(key); ok {
		return c.Exec
	}
	return c.Context.Value(k)
}

// With returns ctx carrying e.
func With(ctx context.Context, e *Execution) context.Context {
	return context.WithValue(ctx, key{}, e)
}

// From returns the execution carried by ctx, or nil.
func From(ctx context.Context) *Execution {
	e, _ := ctx.Value(key{}).(*Execution)
	return e
}
