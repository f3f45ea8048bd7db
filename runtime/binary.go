package runtime

import (
	"context"
	"errors"
	"log/slog"

	"go.opentelemetry.io/otel/trace"

	"github.com/bifrost-go/bifrost/openapi"
	"github.com/bifrost-go/bifrost/runtime/internal/cli"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/workflow"
)

// binary is what the command line (runtime/internal/cli) runs: the
// workflows runtime.Main was given, served through the runtime's public
// face.
type binary struct{ workflows []*Workflow }

func (b binary) Specs() []*workflow.Spec {
	specs := make([]*workflow.Spec, 0, len(b.workflows))
	for _, wf := range b.workflows {
		if wf != nil {
			specs = append(specs, &wf.Spec)
		}
	}
	return specs
}

func (b binary) Check() error {
	_, errs := validWorkflows(b.workflows)
	return errors.Join(errs...)
}

func (b binary) Serve(ctx context.Context, st store.Store, cfg cli.ServeConfig, log *slog.Logger) error {
	tp, stopTraces, err := b.traces(ctx, log)
	if err != nil {
		return err
	}
	defer stopTraces() // after the drain: the last attempts' spans are flushed too
	return serve(ctx, Options{Workflows: b.workflows, Logger: log, Store: st, Workers: cfg.Workers,
		Retain: cfg.Retain, MaxPending: cfg.MaxPending, CORSOrigins: cfg.CORSOrigins,
		DisableMetrics: cfg.NoMetrics, TracerProvider: tp}, cfg.Addr, cfg.MetricsAddr)
}

// traces is the tracer provider the OTEL_* variables configure (otelenv.go),
// or nil, never a nil pointer in the interface.
func (b binary) traces(ctx context.Context, log *slog.Logger) (trace.TracerProvider, func(), error) {
	tp, stop, err := startTraces(ctx, log)
	if tp == nil {
		return nil, stop, err
	}
	return tp, stop, err
}

func (b binary) Work(ctx context.Context, st store.Store, workers int, metricsAddr string, log *slog.Logger) error {
	tp, stopTraces, err := b.traces(ctx, log)
	if err != nil {
		return err
	}
	defer stopTraces()
	// Retain -1: the default window is serve's (--retain); a worker applies
	// only its workflows' own retain=.
	s, err := New(Options{Workflows: b.workflows, Logger: log, Store: st, Workers: workers, Retain: -1, TracerProvider: tp})
	if err != nil {
		return err
	}
	if err := s.Start(ctx); err != nil {
		return err
	}
	stopMetrics, err := s.listenMetrics(ctx, metricsAddr)
	if err != nil {
		_ = s.Shutdown(context.Background())
		return err
	}
	defer stopMetrics()
	log.LogAttrs(ctx, slog.LevelInfo, "working", slog.Int("workers", workers))
	<-ctx.Done()
	log.LogAttrs(context.Background(), slog.LevelInfo, "shutting down")
	drain, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	return s.Shutdown(drain)
}

// Cancel goes through the engine, so the queue tells the worker that runs
// the execution.
func (b binary) Cancel(ctx context.Context, st store.Store, id string) (*store.Execution, error) {
	en, err := newEngine(ctx, st, nil, 0, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	return en.cancel(ctx, id)
}

// Replay accepts a replay on the queue, to be run by a serve or worker
// process. The pending cap is not applied: an operator at the command line
// is not a flood of callers. The credential recorded is "cli".
func (b binary) Replay(ctx context.Context, st store.Store, id string) (*store.Execution, error) {
	orig, err := st.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	valid, _ := validWorkflows(b.workflows)
	en, err := newEngine(ctx, st, valid, 0, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	return en.replay(ctx, orig, "cli")
}

func (b binary) View(e *store.Execution) any { return viewOf(e) }

func (b binary) OpenAPI(version openapi.Version, format openapi.Format) ([]byte, error) {
	return OpenAPI(b.workflows, version, format)
}
