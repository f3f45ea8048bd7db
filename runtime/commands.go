package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/storeopen"
)

// newWorkerCommand runs async executions without serving HTTP: beside a
// `serve --workers 0`, or as extra capacity.
func newWorkerCommand(workflows []*Workflow) *cobra.Command {
	var db string
	var workers int
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run async executions from the store's queue until SIGINT or SIGTERM",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if workers < 1 {
				return usageError{fmt.Errorf("--workers must be at least 1")}
			}
			log := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
			st, err := storeopen.Open(cmd.Context(), db)
			if err != nil {
				return err
			}
			defer st.Close()
			s, err := New(Options{Workflows: workflows, Logger: log, Store: st, Workers: workers})
			if err != nil {
				return err
			}
			if err := s.Start(cmd.Context()); err != nil {
				return err
			}
			log.LogAttrs(cmd.Context(), slog.LevelInfo, "working", slog.Int("workers", workers))
			<-cmd.Context().Done()
			log.LogAttrs(context.Background(), slog.LevelInfo, "shutting down")
			ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer cancel()
			return s.Shutdown(ctx)
		},
	}
	addStoreFlags(cmd, &db, &workers)
	return cmd
}

// newMigrateCommand brings the store's schema (and the queue's) up to date.
func newMigrateCommand() *cobra.Command {
	var db string
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Create or update the store's tables",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := storeopen.Open(cmd.Context(), db) // runs the store's migrations
			if err != nil {
				return err
			}
			defer st.Close()
			if err := migrateQueue(cmd.Context(), st, slog.New(slog.DiscardHandler)); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "the store is up to date")
			return nil
		},
	}
	addStoreFlags(cmd, &db, nil)
	return cmd
}

// newExecutionsCommand reads and cancels executions in the store.
func newExecutionsCommand() *cobra.Command {
	var db string
	cmd := &cobra.Command{
		Use:   "executions",
		Short: "List, show and cancel executions",
	}
	cmd.PersistentFlags().StringVar(&db, "db", store.DefaultDB, "the store: a SQLite file path, sqlite:PATH or postgres://...")
	withStore := func(cmd *cobra.Command, do func(ctx context.Context, st store.Store) error) error {
		st, err := storeopen.Open(cmd.Context(), db)
		if err != nil {
			return err
		}
		defer st.Close()
		return do(cmd.Context(), st)
	}

	var f store.Filter
	var status string
	list := &cobra.Command{
		Use:   "list",
		Short: "List executions, newest first",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.Status = store.Status(status)
			if f.Status != "" && !f.Status.Valid() {
				return usageError{fmt.Errorf("--status %q: expected pending, running, succeeded, failed, timed_out or cancelled", status)}
			}
			return withStore(cmd, func(ctx context.Context, st store.Store) error {
				page, next, err := st.List(ctx, f)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
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
			})
		},
	}
	list.Flags().StringVar(&f.Workflow, "workflow", "", "only this workflow's executions")
	list.Flags().StringVar(&status, "status", "", "only executions in this status")
	list.Flags().IntVar(&f.Limit, "limit", 50, "executions per page (at most 500)")
	list.Flags().StringVar(&f.Cursor, "cursor", "", "the next page's cursor")

	get := &cobra.Command{
		Use:   "get ID",
		Short: "Show one execution as JSON",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, func(ctx context.Context, st store.Store) error {
				e, err := st.Get(ctx, args[0])
				if err != nil {
					return err
				}
				return printJSON(cmd, viewOf(e))
			})
		},
	}
	cancel := &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a pending execution, or ask a running one to stop",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, func(ctx context.Context, st store.Store) error {
				// Through the engine, so the queue tells the worker that runs it.
				en, err := newEngine(ctx, st, nil, 0, slog.New(slog.DiscardHandler))
				if err != nil {
					return err
				}
				e, err := en.cancel(ctx, args[0])
				if err != nil {
					return err
				}
				return printJSON(cmd, viewOf(e))
			})
		},
	}
	cmd.AddCommand(list, get, cancel)
	return cmd
}

func printJSON(cmd *cobra.Command, v any) error {
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
