package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
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
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tWORKFLOW\tMODE\tSTATUS\tATTEMPT\tCREATED\tDURATION")
	for _, e := range page {
		duration := "-"
		if !e.StartedAt.IsZero() && !e.FinishedAt.IsZero() {
			duration = e.FinishedAt.Sub(e.StartedAt).Round(time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", e.ID, e.Workflow, e.Mode, e.Status, e.Attempt,
			e.CreatedAt.Format(time.RFC3339), duration)
	}
	if next != "" {
		fmt.Fprintf(tw, "next page: --cursor %s\n", next)
	}
	return tw.Flush()
}

func executionsGet(app App, db *dbFlag) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show one execution as JSON",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return db.with(cmd, func(ctx context.Context, st store.Store) error {
				e, err := st.Get(ctx, args[0])
				if err != nil {
					return err
				}
				return printJSON(cmd.OutOrStdout(), app.View(e))
			})
		},
	}
}

func executionsCancel(app App, db *dbFlag) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a pending execution, or ask a running one to stop",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return db.with(cmd, func(ctx context.Context, st store.Store) error {
				e, err := app.Cancel(ctx, st, args[0])
				if err != nil {
					return err
				}
				return printJSON(cmd.OutOrStdout(), app.View(e))
			})
		},
	}
}

func printJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
