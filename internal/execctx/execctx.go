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
	// Config answers config.Get after the environment: the store.
	Config ConfigSource
	// Trace, when the run is traced (its span recorded), adds trace_id to
	// every line Logger writes: in the process log and in the lines the
	// record keeps. The runtime sets it; this package knows no tracing
	// library. A pointer, not a string: the runtime embeds an Execution in
	// every request's state, which must not grow for untraced requests.
	Trace *Trace
	// Steps journals the durable steps (bifrost.Step); nil where nothing
	// records them, and a step just runs.
	Steps *Journal
	// KeepSteps makes Journal start an in-memory journal of attempt 1 on
	// the first step: a sync run's, recorded with it. A run that takes no
	// step allocates nothing for them.
	KeepSteps bool
	// Client is the runtime's server running the execution, which
	// runtime.ClientFrom hands to the generated Start functions.
	Client any

	secretsMu sync.Mutex
	secrets   []string

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
		var h slog.Handler = &masking{next: base.Handler(), exec: e}
		tags := []slog.Attr{slog.String("workflow", e.Workflow), slog.String("execution_id", e.ID)}
		var traced []slog.Attr
		if e.Trace != nil {
			traced = []slog.Attr{slog.String("trace_id", e.Trace.ID)}
			tags = append(tags, traced...)
		}
		h = h.WithAttrs(tags)
		if e.Capture != nil {
			// The record knows its workflow and id; the trace id is kept on
			// each captured line too, as the process log has it.
			h = &tee{process: h, capture: e.Capture, attrs: traced}
		}
		e.logger = slog.New(h)
	})
	return e.logger
}

// Trace is what a traced run's log lines carry of its trace.
type Trace struct {
	ID string // the trace id, 32 hex digits
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

// ConfigSource looks up a configuration value that the environment does not set.
type ConfigSource interface {
	Lookup(ctx context.Context, name string) (value string, secret, found bool, err error)
}

// AddSecret remembers a secret value the execution read, so its record can
// mask it.
func (e *Execution) AddSecret(value string) {
	e.secretsMu.Lock()
	defer e.secretsMu.Unlock()
	for _, s := range e.secrets {
		if s == value {
			return
		}
	}
	e.secrets = append(e.secrets, value)
}

// Secrets returns the secret values the execution read.
func (e *Execution) Secrets() []string {
	e.secretsMu.Lock()
	defer e.secretsMu.Unlock()
	return append([]string(nil), e.secrets...)
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

// Journal returns the execution's journal of durable steps, made on first
// use when KeepSteps is set; nil when nothing records them.
func (e *Execution) Journal() *Journal {
	e.secretsMu.Lock() // a short lock the execution has anyway
	defer e.secretsMu.Unlock()
	if e.Steps == nil && e.KeepSteps {
		e.Steps = &Journal{Attempt: 1}
	}
	return e.Steps
}
