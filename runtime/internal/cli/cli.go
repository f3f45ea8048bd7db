// Package cli is the command line runtime.Main gives a binary: serve,
// worker, migrate, executions, keys, config, workflows and openapi. Each
// command is one function; they reach the store through its interface and
// the runtime through App, which runtime.Main provides, so this package
// imports no server code and the runtime none of its flags.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/bifrost-go/bifrost/openapi"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/storeopen"
	"github.com/bifrost-go/bifrost/workflow"
)

// App is what the commands need of the runtime beside the store.
type App interface {
	// Specs describes the binary's workflows.
	Specs() []*workflow.Spec
	// Check reports what is wrong with the workflows (two with one name…).
	Check() error
	// Serve serves the workflows on addr, running async executions with
	// workers goroutines, until ctx ends; then it drains and returns.
	Serve(ctx context.Context, st store.Store, addr string, workers int, log *slog.Logger) error
	// Work runs async executions without serving HTTP until ctx ends.
	Work(ctx context.Context, st store.Store, workers int, log *slog.Logger) error
	// Cancel cancels an execution through the queue, so a worker running it stops.
	Cancel(ctx context.Context, st store.Store, id string) (*store.Execution, error)
	// View is an execution as GET /api/executions/{id} shows it.
	View(e *store.Execution) any
	// OpenAPI is the document the server answers /api/openapi.json with.
	OpenAPI(version openapi.Version, format openapi.Format) ([]byte, error)
}

// Run executes the command line args (args[0] is the program) and returns
// the exit code: 0 on success, 1 on an error, 2 on a usage error.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, app App) int {
	root := newRoot(filepath.Base(args[0]), app)
	root.SetArgs(args[1:])
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "Error: %v\n", err)
	if errors.As(err, new(usageError)) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", root.Name())
		return 2
	}
	return 1
}

// usageError is a mistake in the command line rather than a failure.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// dbFlag is --db, defined once on the root for every command that opens
// the store.
type dbFlag struct{ dsn string }

// open opens the store --db names.
func (f *dbFlag) open(ctx context.Context) (store.Store, error) {
	return storeopen.Open(ctx, f.dsn)
}

// with opens the store, runs do, and closes the store.
func (f *dbFlag) with(cmd *cobra.Command, do func(ctx context.Context, st store.Store) error) error {
	st, err := f.open(cmd.Context())
	if err != nil {
		return err
	}
	defer st.Close()
	return do(cmd.Context(), st)
}

func newRoot(name string, app App) *cobra.Command {
	root := &cobra.Command{
		Use:                        name,
		Short:                      "Serve and manage this binary's workflows",
		SilenceErrors:              true,
		SilenceUsage:               true,
		Args:                       cobra.ArbitraryArgs,
		SuggestionsMinimumDistance: 2,
		RunE:                       unknownCommand,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	db := &dbFlag{}
	root.PersistentFlags().StringVar(&db.dsn, "db", envOr("BIFROST_DB", store.DefaultDB),
		"the store: a SQLite file path, sqlite:PATH or postgres://... (env BIFROST_DB)")
	root.AddCommand(
		serveCommand(app, db),
		workerCommand(app, db),
		migrateCommand(db),
		executionsCommand(app, db),
		keysCommand(app, db),
		configCommand(db),
		workflowsCommand(app),
		openAPICommand(app),
	)
	return root
}

// unknownCommand answers the root called with no command (help) or an
// unknown one (a usage error with suggestions).
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	err := fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		err = fmt.Errorf("%w; did you mean %s?", err, strings.Join(s, " or "))
	}
	return usageError{err}
}

// envOr is the environment variable name when set, else fallback: the
// default of the few flags a deployment sets from its environment.
func envOr(name, fallback string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return fallback
}

// noArgs refuses positional arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args)}
	}
	return nil
}

// exactArgs requires n positional arguments, as a usage error (exit 2).
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// jsonLog is the process log of serve and worker: JSON lines on stderr.
func jsonLog(cmd *cobra.Command) *slog.Logger {
	return slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
}

// table writes what the list commands print: a header and rows, in
// columns two spaces apart.
type table struct{ tw *tabwriter.Writer }

func newTable(out io.Writer, header ...string) table {
	t := table{tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)}
	t.row(header...)
	return t
}

func (t table) row(cells ...string) { fmt.Fprintln(t.tw, strings.Join(cells, "\t")) }

// flush writes the table out, its columns as wide as their widest cell.
func (t table) flush() error { return t.tw.Flush() }
