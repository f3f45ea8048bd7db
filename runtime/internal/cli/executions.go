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
	cmd := &cobra.Command{Use: "executions", Short: "List, show and cancel executions"}
	cmd.AddCommand(executionsList(db), executionsGet(app, db), executionsCancel(app, db))
	return cmd
}

func executionsList(db *dbFlag) *cobra.Command {
	var f store.Filter
	var status string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List executions, newest first",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.Status = store.Status(status)
			if f.Status != "" && !f.Status.Valid() {
				return usageError{fmt.Errorf("--status %q: expected pending, running, succeeded, failed, timed_out or cancelled", status)}
			}
			return db.with(cmd, func(ctx context.Context, st store.Store) error {
				page, next, err := st.List(ctx, f)
				if err != nil {
					return err
				}
				return printExecutions(cmd.OutOrStdout(), page, next)
			})
		},
	}
	cmd.Flags().StringVar(&f.Workflow, "workflow", "", "only this workflow's executions")
	cmd.Flags().StringVar(&status, "status", "", "only executions in this status")
	cmd.Flags().IntVar(&f.Limit, "limit", 50, "executions per page (at most 500)")
	cmd.Flags().StringVar(&f.Cursor, "cursor", "", "the next page's cursor")
	return cmd
}

// printExecutions writes a page of executions as a table, and the cursor of
// the next page when there is one.
func printExecutions(out io.Writer, page []*store.Execution, next string) error {
	t := newTable(out, "ID", "WORKFLOW", "MODE", "STATUS", "ATTEMPT", "CREATED", "DURATION")
	for _, e := range page {
		duration := "-"
		if !e.StartedAt.IsZero() && !e.FinishedAt.IsZero() {
			duration = e.FinishedAt.Sub(e.StartedAt).Round(time.Millisecond).String()
		}
		t.row(e.ID, e.Workflow, e.Mode, string(e.Status), strconv.Itoa(e.Attempt), e.CreatedAt.Format(time.RFC3339), duration)
	}
	if next != "" {
		t.row("next page: --cursor " + next) // one cell: it ends the columns
	}
	return t.flush()
}

func executionsGet(app App, db *dbFlag) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show one execution as JSON",
		Args:  exactArgs(1),
		RunE: showExecution(app, db, func(ctx context.Context, st store.Store, id string) (*store.Execution, error) {
			return st.Get(ctx, id)
		}),
	}
}

func executionsCancel(app App, db *dbFlag) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a pending execution, or ask a running one to stop",
		Args:  exactArgs(1),
		RunE:  showExecution(app, db, app.Cancel),
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
