package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// executionsCommand reads and cancels executions in the store.
func executionsCommand(app App, db *dbFlag) *cobra.Command {
	cmd := &cobra.Command{Use: "executions", Short: "List, show, cancel and replay executions"}
	cmd.AddCommand(executionsList(db), executionsGet(app, db), executionsCancel(app, db), executionsReplay(app, db), executionsPrune(db))
	return cmd
}

func executionsList(db *dbFlag) *cobra.Command {
	var f store.Filter
	var status, format string
	cmd := &cobra.Command{
		Use: "list",
		Example: `  app executions list --status failed --limit 20
  app executions list --workflow charge_card --cursor 0190a0b2-...`,
		Short: "List executions, newest first",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.Status = store.Status(status)
			if f.Status != "" && !f.Status.Valid() {
				return usageError{fmt.Errorf("--status %q: expected pending, running, succeeded, failed, timed_out or cancelled", status)}
			}
			return db.with(cmd, func(ctx context.Context, st store.Store) error {
				f.Summary = true
				page, next, err := st.List(ctx, f)
				if err != nil {
					return err
				}
				return executionListing(page, next).print(cmd.OutOrStdout(), format)
			})
		},
	}
	cmd.Flags().StringVar(&f.Workflow, "workflow", "", "only this workflow's executions")
	cmd.Flags().StringVar(&status, "status", "", "only executions in this status")
	cmd.Flags().IntVar(&f.Limit, "limit", 50, "executions per page (at most 500)")
	cmd.Flags().StringVar(&f.Cursor, "cursor", "", "the next page's cursor")
	formatFlag(cmd, &format)
	return cmd
}

// executionListing is a page of executions, and the cursor of the next
// page when there is one.
func executionListing(page []*store.Execution, next string) *listing {
	l := &listing{header: []string{"ID", "WORKFLOW", "MODE", "STATUS", "ATTEMPT", "CREATED", "DURATION"}, next: next, paged: true}
	for _, e := range page {
		duration, ms := "-", any(nil)
		if !e.StartedAt.IsZero() && !e.FinishedAt.IsZero() {
			d := e.FinishedAt.Sub(e.StartedAt)
			duration, ms = d.Round(time.Millisecond).String(), d.Milliseconds()
		}
		item := map[string]any{"id": e.ID, "workflow": e.Workflow, "mode": e.Mode, "status": e.Status, "attempt": e.Attempt,
			"created_at": stamp(e.CreatedAt), "duration_ms": ms}
		l.add(item, e.ID, e.Workflow, e.Mode, string(e.Status), strconv.Itoa(e.Attempt), e.CreatedAt.Format(time.RFC3339), duration)
	}
	return l
}

func executionsGet(app App, db *dbFlag) *cobra.Command {
	return &cobra.Command{
		Use:     "get ID",
		Example: `  app executions get 0190a0b2-7c1e-7d3a-9f00-1b2c3d4e5f60 | jq .error`,
		Short:   "Show one execution as JSON",
		Args:    exactArgs(1),
		RunE: showExecution(app, db, func(ctx context.Context, st store.Store, id string) (*store.Execution, error) {
			e, err := st.Get(ctx, id)
			if err == nil {
				e.Steps, err = st.Steps(ctx, id) // its durable steps, as the API shows them
			}
			return e, err
		}),
	}
}

func executionsCancel(app App, db *dbFlag) *cobra.Command {
	return &cobra.Command{
		Use:     "cancel ID",
		Example: `  app executions cancel 0190a0b2-7c1e-7d3a-9f00-1b2c3d4e5f60`,
		Short:   "Cancel a pending execution, or ask a running one to stop",
		Args:    exactArgs(1),
		RunE: showExecution(app, db, func(ctx context.Context, st store.Store, id string) (*store.Execution, error) {
			return app.Cancel(ctx, st, id) // through the engine: the worker running it stops
		}),
	}
}

func executionsReplay(app App, db *dbFlag) *cobra.Command {
	return &cobra.Command{
		Use:     "replay ID",
		Example: `  app executions replay 0190a0b2-7c1e-7d3a-9f00-1b2c3d4e5f60 | jq -r .id`,
		Short:   "Run an execution again with its stored input: prints the new, pending execution",
		Long: `Replay starts a new async execution with the stored input of execution ID,
linked to it (replay_of), and prints it. A serve or worker process on the same
database runs it, whatever the original's mode. An input cut at the store limit
cannot be replayed.`,
		Args: exactArgs(1),
		RunE: showExecution(app, db, func(ctx context.Context, st store.Store, id string) (*store.Execution, error) {
			return app.Replay(ctx, st, id) // through the engine: the job goes on the queue with the record
		}),
	}
}

// showExecution is the RunE of a command that finds (or changes) the
// execution its argument names and prints it as the API shows it.
func showExecution(app App, db *dbFlag, find func(ctx context.Context, st store.Store, id string) (*store.Execution, error)) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		return db.with(cmd, func(ctx context.Context, st store.Store) error {
			e, err := find(ctx, st, args[0])
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), app.View(e))
		})
	}
}

func printJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func executionsPrune(db *dbFlag) *cobra.Command {
	var before, workflow string
	cmd := &cobra.Command{
		Use: "prune",
		Example: `  app executions prune --before 30d
  app executions prune --before 2026-01-01T00:00:00Z --workflow github_push`,
		Short: "Delete ended executions created before a time (pending and running ones stay)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cut, err := parseBefore(before, time.Now())
			if err != nil {
				return usageError{err}
			}
			return db.with(cmd, func(ctx context.Context, st store.Store) error {
				total := 0
				for { // in batches, so a running server's writes are never held for long
					n, err := st.Prune(ctx, store.PruneFilter{Before: cut, Workflow: workflow, Limit: 500})
					total += n
					if err != nil {
						return err
					}
					if n < 500 {
						break
					}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "deleted %d execution(s) created before %s\n", total, cut.UTC().Format(time.RFC3339))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&before, "before", "", "an age such as 30d or 72h, or an RFC 3339 time (required)")
	cmd.Flags().StringVar(&workflow, "workflow", "", "only this workflow's executions")
	return cmd
}

// parseBefore reads --before: an age (30d, 72h) back from now, or a time.
func parseBefore(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("--before is required: an age such as 30d, or an RFC 3339 time")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := parseExpiry(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--before %q: expected an age such as 30d or 72h, or an RFC 3339 time", s)
	}
	return now.Add(-d), nil
}
