package runtime

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// DefaultRetain is Options.Retain when zero: executions are kept 30 days.
const DefaultRetain = 30 * 24 * time.Hour

// Retention deletes ended executions past their window, in small batches,
// beside the requests: each workflow's retain= window, and Options.Retain
// for the others (those of other binaries sharing the store included).
// Every process that serves or works runs it; deletes of several at once
// are harmless.
type retention struct {
	store   store.Store
	log     *slog.Logger
	every   time.Duration
	retain  time.Duration            // the default window
	windows map[string]time.Duration // workflows with a window of their own

	stop chan struct{}
	done sync.WaitGroup
}

// pruneBatch is how many executions one delete removes: small enough that
// a SQLite writer waits on it for milliseconds, not seconds.
const pruneBatch = 500

func newRetention(st store.Store, log *slog.Logger, retain time.Duration, workflows []*Workflow) *retention {
	r := &retention{store: st, log: log, every: time.Minute, retain: retain, windows: map[string]time.Duration{}}
	for _, wf := range workflows {
		if wf.Retain > 0 {
			r.windows[wf.Name] = wf.Retain
		}
	}
	return r
}

func (r *retention) start() {
	r.stop = make(chan struct{})
	r.done.Go(func() {
		t := time.NewTicker(r.every)
		defer t.Stop()
		for {
			r.prune(context.Background(), time.Now())
			select {
			case <-r.stop:
				return
			case <-t.C:
			}
		}
	})
}

func (r *retention) close() {
	if r.stop != nil {
		close(r.stop)
		r.done.Wait()
	}
}

// prune runs one pass: every window, batch after batch, until a batch
// comes back short or the retention stops.
func (r *retention) prune(ctx context.Context, now time.Time) {
	var except []string
	for name, window := range r.windows {
		except = append(except, name)
		r.pruneAll(ctx, store.PruneFilter{Before: now.Add(-window), Workflow: name, Limit: pruneBatch})
	}
	if r.retain > 0 {
		r.pruneAll(ctx, store.PruneFilter{Before: now.Add(-r.retain), Except: except, Limit: pruneBatch})
	}
}

func (r *retention) pruneAll(ctx context.Context, f store.PruneFilter) {
	total := 0
	for {
		n, err := r.store.Prune(ctx, f)
		if err != nil {
			r.log.LogAttrs(ctx, slog.LevelWarn, "pruning old executions failed", slog.String("error", err.Error()))
			return
		}
		total += n
		select {
		case <-r.stop:
			n = 0
		default:
		}
		if n < f.Limit {
			break
		}
	}
	if total > 0 {
		r.log.LogAttrs(ctx, slog.LevelInfo, "pruned old executions", slog.Int("deleted", total),
			slog.String("workflow", f.Workflow), slog.Time("before", f.Before))
	}
}
