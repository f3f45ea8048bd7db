package runtime

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/workflow"
)

// engine runs executions: it records sync ones after they answer, accepts
// async ones durably (the 202 goes out after the commit), works them on the
// queue, cancels them, and wakes the long-polls that wait for them.
//
// The execution record in the store is the truth a caller reads; the queue
// (River, on the same database) only schedules, retries and rescues the work.
type engine struct {
	store     store.Store
	log       *slog.Logger
	workflows map[string]*Workflow
	queue     *river.Client[*sql.Tx]
	workers   int

	records *batcher[*store.Execution]
	accepts *batcher[acceptRequest]
	waiters waiters
	running sync.Map // execution id → context.CancelCauseFunc, for this process's runs
	config  *configSource
	metrics *metrics // nil in the cancel command's engine
	tracing *tracing // nil without tracing

	client   Client   // the Server, for ClientFrom in the executions it runs
	workerID string   // this process's worker and River client id ("" without workers)
	cluster  *cluster // the listener, heartbeat and reaper (cluster.go)
}

type acceptRequest struct {
	execution *store.Execution
	reply     chan acceptReply
}

type acceptReply struct {
	accepted store.Accepted
	err      error
}

// errCancelled is the cause of a run's context when its execution is cancelled.
var errCancelled = errors.New("the execution was cancelled")

// retryPolicy spaces the attempts of a failed execution: 1s, 2s, 4s... up to
// five minutes. River's default (attempt⁴ seconds) suits jobs, not a caller
// polling for a result.
type retryPolicy struct{}

func (retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	wait := time.Second << min(job.Attempt-1, 9)
	return time.Now().Add(min(wait, 5*time.Minute))
}

func newEngine(ctx context.Context, st store.Store, workflows []*Workflow, workers int, log *slog.Logger) (*engine, error) {
	en := &engine{store: st, log: log, workflows: map[string]*Workflow{}, workers: workers}
	longest := defaultAsyncTimeout
	for _, wf := range workflows {
		en.workflows[wf.Name] = wf
		longest = max(longest, wf.Timeout)
	}
	if err := migrateQueue(ctx, st, log); err != nil {
		return nil, err
	}
	driver, err := st.QueueDriver(ctx, workers > 0)
	if err != nil {
		return nil, err
	}
	ws := river.NewWorkers()
	river.AddWorker(ws, &executionWorker{en: en})
	river.AddWorker(ws, &tickWorker{en: en})
	periodic, err := periodicJobs(workflows)
	if err != nil {
		return nil, err
	}
	cfg := &river.Config{
		Logger:  quietLogger(log),
		Workers: ws,
		// A job still running past the longest timeout belongs to a worker
		// that died: hand it to another. (Orphans of the embedded store are
		// re-run at start, without waiting for this.)
		RescueStuckJobsAfter: longest + time.Minute,
		// The execution record is the history; the queue's rows are only
		// needed while the work is scheduled.
		CompletedJobRetentionPeriod: time.Hour,
		CancelledJobRetentionPeriod: time.Hour,
		DiscardedJobRetentionPeriod: 24 * time.Hour,
		RetryPolicy:                 retryPolicy{},
		FetchCooldown:               10 * time.Millisecond,
		FetchPollInterval:           200 * time.Millisecond,
		JobTimeout:                  -1, // each workflow's own timeout applies
		PeriodicJobs:                periodic,
	}
	if workers > 0 {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workers}}
		// The worker's id in the store's liveness is its queue client id:
		// the queue's job then says which worker runs it.
		en.workerID = newWorkerID()
		cfg.ID = en.workerID
	}
	en.queue, err = river.NewClient(driver, cfg)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	// A sync caller has its answer before its record is written: the
	// records linger to share a transaction. An async caller waits for its
	// accept's commit: the accepts do not.
	en.records = newBatcher(4096, 256, recordLinger, en.writeRecords)
	en.accepts = newBatcher(4096, 256, 0, en.writeAccepts)
	return en, nil
}

const defaultAsyncTimeout = 15 * time.Minute

// recordLinger is how long a batch of sync records that is not full waits
// for more before it is written.
const recordLinger = 5 * time.Millisecond

// migrateQueue creates or updates the queue's tables in the store's database.
func migrateQueue(ctx context.Context, st store.Store, log *slog.Logger) error {
	return st.MigrateQueue(ctx, quietLogger(log))
}

// quietLogger passes the queue's warnings and errors to the process log.
func quietLogger(log *slog.Logger) *slog.Logger {
	return slog.New(levelFilter{Handler: log.Handler(), min: slog.LevelWarn})
}

type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}

func (f levelFilter) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFilter{Handler: f.Handler.WithAttrs(a), min: f.min}
}

func (f levelFilter) WithGroup(g string) slog.Handler {
	return levelFilter{Handler: f.Handler.WithGroup(g), min: f.min}
}

// start re-runs the orphans the store can recover, starts the listener and
// the worker's liveness, then the workers.
func (en *engine) start(ctx context.Context) error {
	if err := en.recoverOrphans(ctx); err != nil {
		return err
	}
	if err := en.startCluster(ctx); err != nil {
		return err
	}
	if en.workers == 0 {
		return nil
	}
	// Not ctx itself: River stops abruptly, cancelling running work, when
	// the context given to Start ends. A signal must drain instead (stop).
	return en.queue.Start(context.WithoutCancel(ctx))
}

// recoverOrphans re-runs at once the async executions that a process killed
// mid-run left running, where the store can tell (store.Queue). The queue's
// rescuer would wait for the longest timeout; the promise is a re-run
// within a minute.
func (en *engine) recoverOrphans(ctx context.Context) error {
	r, err := en.store.RecoverOrphans(ctx)
	if err != nil {
		return err
	}
	if r.Executions > 0 || r.Jobs > 0 {
		en.log.LogAttrs(ctx, slog.LevelWarn, "re-running executions interrupted by a crash",
			slog.Int64("executions", r.Executions), slog.Int64("jobs", r.Jobs))
	}
	return nil
}

// stop stops accepting, lets running work finish until ctx ends (then
// cancels it: the queue runs it again later), and flushes the records.
func (en *engine) stop(ctx context.Context) error {
	var errs []error
	errs = append(errs, en.accepts.close(ctx))
	if en.workers > 0 {
		if err := en.queue.Stop(ctx); err != nil {
			hard, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			errs = append(errs, en.queue.StopAndCancel(hard))
			cancel()
		}
	}
	flush, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	errs = append(errs, en.records.close(flush))
	en.stopCluster()
	return errors.Join(errs...)
}

// record stores a finished sync execution, in a batch, after its answer.
func (en *engine) record(ctx context.Context, e *store.Execution) {
	if err := en.records.add(ctx, e); err != nil {
		en.log.LogAttrs(ctx, slog.LevelError, "execution not recorded",
			slog.String("execution_id", e.ID), slog.String("error", err.Error()))
	}
}

func (en *engine) writeRecords(batch []*store.Execution) {
	var err error
	if en.metrics != nil {
		en.metrics.batchSize.Observe(float64(len(batch)))
	}
	for try := range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		began := time.Now()
		err = en.store.Record(ctx, batch)
		cancel()
		if en.metrics != nil {
			en.metrics.storeWrite.Observe(time.Since(began).Seconds())
		}
		if err == nil {
			for _, e := range batch {
				en.waiters.ended(e.ID) // a wait for a sync execution's record
			}
			return
		}
		time.Sleep(time.Duration(try+1) * 200 * time.Millisecond)
	}
	en.log.LogAttrs(context.Background(), slog.LevelError, "executions not recorded",
		slog.Int("executions", len(batch)), slog.String("error", err.Error()))
}

// accept stores an async execution and its job; it returns once both are
// committed, or the first execution of a repeated idempotency key.
func (en *engine) accept(ctx context.Context, e *store.Execution) (store.Accepted, error) {
	reply := make(chan acceptReply, 1)
	if err := en.accepts.add(ctx, acceptRequest{execution: e, reply: reply}); err != nil {
		return store.Accepted{}, err
	}
	select {
	case r := <-reply:
		return r.accepted, r.err
	case <-ctx.Done():
		return store.Accepted{}, ctx.Err()
	}
}

func (en *engine) writeAccepts(batch []acceptRequest) {
	execs := make([]*store.Execution, len(batch))
	for i, r := range batch {
		execs[i] = r.execution
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	accepted, err := en.store.Accept(ctx, execs, en.enqueue)
	for i, r := range batch {
		if err != nil {
			r.reply <- acceptReply{err: err}
			continue
		}
		r.reply <- acceptReply{accepted: accepted[i]}
	}
}

// executionArgs are the queue job of an async execution: its id. The inputs
// stay in the execution record.
type executionArgs struct {
	ExecutionID string `json:"execution_id"`
	Workflow    string `json:"workflow"`
}

func (executionArgs) Kind() string { return "bifrost_execution" }

func (en *engine) enqueue(ctx context.Context, tx *sql.Tx, fresh []*store.Execution) ([]int64, error) {
	params := make([]river.InsertManyParams, len(fresh))
	for i, e := range fresh {
		params[i] = river.InsertManyParams{
			Args:       executionArgs{ExecutionID: e.ID, Workflow: e.Workflow},
			InsertOpts: &river.InsertOpts{MaxAttempts: en.attempts(e.Workflow)},
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

// attempts is how many times the queue runs an execution of the workflow:
// once, and once more per retry.
func (en *engine) attempts(workflow string) int {
	if wf := en.workflows[workflow]; wf != nil {
		return 1 + wf.Retries
	}
	return 1
}

// cancel ends a pending execution or stops a running one, here or in
// another process, and returns it as it now is.
func (en *engine) cancel(ctx context.Context, id string) (*store.Execution, error) {
	e, err := en.store.Cancel(ctx, id, time.Now())
	if err != nil {
		return nil, err
	}
	switch e.Status {
	case store.Cancelled:
		en.waiters.ended(id)
	case store.Running:
		if stop, ok := en.running.Load(id); ok {
			stop.(context.CancelCauseFunc)(errCancelled)
		}
	}
	if e.Mode == string(workflow.Async) && e.JobID != 0 && (e.Status == store.Cancelled || e.Status == store.Running) {
		// The queue tells the worker that holds the job, in whatever process.
		if _, err := en.queue.JobCancel(ctx, e.JobID); err != nil && !errors.Is(err, river.ErrNotFound) {
			en.log.LogAttrs(ctx, slog.LevelWarn, "queue cancel failed", slog.String("execution_id", id), slog.String("error", err.Error()))
		}
	}
	return e, nil
}

// maxWait bounds ?wait= long-polls.
const maxWait = 60 * time.Second

// wait returns the execution once it has ended, or as it is when d passes.
// This process's executions wake it at once; others are seen by polling.
func (en *engine) wait(ctx context.Context, id string, d time.Duration) (*store.Execution, error) {
	deadline := time.Now().Add(min(d, maxWait))
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		ended, stop := en.waiters.wait(id)
		e, err := en.store.Get(ctx, id)
		if err != nil || e.Status.Terminal() || d <= 0 {
			stop()
			return e, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			stop()
			return e, nil
		}
		timer := time.NewTimer(left)
		select {
		case <-ended:
		case <-tick.C:
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			stop()
			return e, nil
		}
		timer.Stop()
		stop()
	}
}

// recorded waits, at most d, until the execution id is in the store: a sync
// execution's record is written just after its answer.
func (en *engine) recorded(ctx context.Context, id string, d time.Duration) {
	deadline := time.Now().Add(d)
	for {
		ended, stop := en.waiters.wait(id)
		_, err := en.store.Get(ctx, id)
		if !errors.Is(err, store.ErrNotFound) || !time.Now().Before(deadline) {
			stop()
			return
		}
		select {
		case <-ended:
		case <-time.After(min(50*time.Millisecond, time.Until(deadline))):
		case <-ctx.Done():
		}
		stop()
		if ctx.Err() != nil {
			return
		}
	}
}

// marshalResult is the stored JSON of a result.
func marshalResult(res bind.Result) (json.RawMessage, error) {
	switch {
	case res.Response != nil:
		return json.Marshal(struct {
			Status      int    `json:"status"`
			ContentType string `json:"content_type,omitempty"`
			Body        string `json:"body,omitempty"`
		}{res.Status, res.Response.ContentType, string(res.Response.Body)})
	case res.Status == 204:
		return nil, nil
	}
	return json.Marshal(res.Value)
}
