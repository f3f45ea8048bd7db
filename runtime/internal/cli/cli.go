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
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

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
	Serve(ctx context.Context, st store.Store, cfg ServeConfig, log *slog.Logger) error
	// Work runs async executions without serving HTTP until ctx ends,
	// serving GET /metrics on metricsAddr unless it is "".
	Work(ctx context.Context, st store.Store, workers int, metricsAddr string, log *slog.Logger) error
	// Cancel cancels an execution through the queue, so a worker running it stops.
	Cancel(ctx context.Context, st store.Store, id string) (*store.Execution, error)
	// Replay starts a new async execution with the stored input of
	// execution id, linked to it; a serve or worker process runs it.
	Replay(ctx context.Context, st store.Store, id string) (*store.Execution, error)
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
type dbFlag struct {
	dsn     string
	durable bool // --durable on serve and worker
}

// open opens the store --db names, creating a SQLite file that is not there.
func (f *dbFlag) open(ctx context.Context) (store.Store, error) {
	dsn := f.dsn
	if _, sqlite := storeopen.SQLitePath(dsn); sqlite && f.durable && !strings.HasSuffix(dsn, storeopen.DurableSuffix) {
		dsn += storeopen.DurableSuffix
	}
	return storeopen.Open(ctx, dsn)
}

// existing is open for a command that works on what a store holds: a SQLite
// file that is not there is an error naming the absolute path looked at,
// where opening would create an empty database and show nothing.
func (f *dbFlag) existing(ctx context.Context) (store.Store, error) {
	if path, ok := storeopen.SQLitePath(f.dsn); ok {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			abs, _ := filepath.Abs(path)
			return nil, fmt.Errorf("no database at %s: point --db (or BIFROST_DB) at the one serve uses, "+
				"such as --db /srv/app/bifrost.db or --db postgres://USER@HOST/DB", abs)
		}
	}
	return f.open(ctx)
}

// with opens the existing store, runs do, and closes the store.
func (f *dbFlag) with(cmd *cobra.Command, do func(ctx context.Context, st store.Store) error) error {
	return f.run(cmd, f.existing, do)
}

// withNew is with for a command that may start a store: keys create,
// config set, migrate, worker.
func (f *dbFlag) withNew(cmd *cobra.Command, do func(ctx context.Context, st store.Store) error) error {
	return f.run(cmd, f.open, do)
}

func (f *dbFlag) run(cmd *cobra.Command, open func(context.Context) (store.Store, error), do func(ctx context.Context, st store.Store) error) error {
	st, err := open(cmd.Context())
	if err != nil {
		return err
	}
	defer st.Close()
	return do(cmd.Context(), st)
}

func newRoot(name string, app App) *cobra.Command {
	root := &cobra.Command{
		Use:   name,
		Short: "Serve and manage this binary's workflows",
		Long: "Serve and manage this binary's workflows.\n\n" +
			"Shell completion: source <(app completion bash), or zsh, fish, powershell (app completion --help).",
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
	nameExamples(root, name)
	return root
}

// nameExamples writes the binary's own name into every command's examples,
// written with "app", so they can be pasted as they are.
func nameExamples(cmd *cobra.Command, name string) {
	cmd.Example = strings.ReplaceAll(cmd.Example, "app ", name+" ")
	cmd.Long = strings.ReplaceAll(cmd.Long, "app ", name+" ")
	for _, sub := range cmd.Commands() {
		nameExamples(sub, name)
	}
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

// ServeConfig is what serve's flags say of the server.
type ServeConfig struct {
	Addr        string
	Workers     int
	Retain      time.Duration // 0: the runtime's default; negative: for ever
	MaxPending  int           // 0: the runtime's default; negative: no cap
	CORSOrigins []string
	MetricsAddr string // serve GET /metrics on this address, not on Addr; "": on Addr
	NoMetrics   bool   // no GET /metrics on Addr
}
