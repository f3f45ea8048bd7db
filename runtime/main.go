package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/storeopen"
)

// Main runs the binary's command line: `serve`, `workflows` and, as the
// runtime grows, the rest of the commands. It exits the process with the
// command's code: 0 on success, 1 on an error, 2 on a usage error.
//
//	func main() { runtime.Main(workflows.Workflows()...) }
func Main(workflows ...*Workflow) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal the default behaviour returns: a second Ctrl-C
	// kills a process that is draining.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args, os.Stdout, os.Stderr, workflows)
	stop()
	os.Exit(code)
}

// run executes the command line args (args[0] is the program) and returns
// the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, workflows []*Workflow) int {
	root := newRootCommand(filepath.Base(args[0]), workflows)
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

func newRootCommand(name string, workflows []*Workflow) *cobra.Command {
	root := &cobra.Command{
		Use:           name,
		Short:         "Serve and manage this binary's workflows",
		SilenceErrors: true,
		SilenceUsage:  true,
		// Every flag has an environment twin: --addr and BIFROST_ADDR. The
		// flag wins when both are given.
		PersistentPreRunE:          func(cmd *cobra.Command, _ []string) error { return applyEnv(cmd.Flags()) },
		Args:                       cobra.ArbitraryArgs,
		SuggestionsMinimumDistance: 2,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			err := fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				err = fmt.Errorf("%w; did you mean %s?", err, strings.Join(s, " or "))
			}
			return usageError{err}
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newServeCommand(workflows),
		newWorkerCommand(workflows),
		newMigrateCommand(),
		newExecutionsCommand(),
		newKeysCommand(workflows),
		newConfigCommand(),
		newWorkflowsCommand(workflows),
		newOpenAPICommand(workflows),
	)
	documentEnv(root)
	return root
}

// envName is the environment twin of a flag: BIFROST_ and the flag's name
// upper-cased, dashes as underscores.
func envName(flag string) string {
	return "BIFROST_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// applyEnv sets every flag not given on the command line from its
// environment twin, when that is set.
func applyEnv(flags *pflag.FlagSet) error {
	var errs []error
	flags.VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "help" {
			return
		}
		v, ok := os.LookupEnv(envName(f.Name))
		if !ok {
			return
		}
		if err := flags.Set(f.Name, v); err != nil {
			errs = append(errs, usageError{fmt.Errorf("%s: %w", envName(f.Name), err)})
		}
	})
	return errors.Join(errs...)
}

// documentEnv names each flag's environment twin in its help.
func documentEnv(cmd *cobra.Command) {
	add := func(f *pflag.Flag) {
		if f.Name != "help" && !strings.Contains(f.Usage, "BIFROST_") {
			f.Usage += " (env " + envName(f.Name) + ")"
		}
	}
	cmd.LocalFlags().VisitAll(add)
	cmd.PersistentFlags().VisitAll(add)
	for _, sub := range cmd.Commands() {
		documentEnv(sub)
	}
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

// shutdownTimeout bounds the drain of in-flight requests on shutdown.
const shutdownTimeout = 30 * time.Second

func newServeCommand(workflows []*Workflow) *cobra.Command {
	var addr, db string
	var workers int
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the workflows over HTTP, and run async executions, until SIGINT or SIGTERM",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
			st, err := storeopen.Open(cmd.Context(), db)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := firstKey(cmd.Context(), st, cmd.OutOrStdout(), os.Getenv("BIFROST_API_KEY")); err != nil {
				return err
			}
			opts := Options{Workflows: workflows, Logger: log, Store: st, Workers: workers}
			return serve(cmd.Context(), opts, addr)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on (port 0: any free port)")
	addStoreFlags(cmd, &db, &workers)
	return cmd
}

// addStoreFlags adds --db and --workers, shared by serve and worker.
func addStoreFlags(cmd *cobra.Command, db *string, workers *int) {
	cmd.Flags().StringVar(db, "db", store.DefaultDB, "the store: a SQLite file path, sqlite:PATH or postgres://...")
	if workers != nil {
		cmd.Flags().IntVar(workers, "workers", 8, "async executions run at once by this process (0: none)")
	}
}

// serve listens on addr, logs "listening" with the real address, and serves
// until ctx ends; then it stops accepting, lets in-flight requests finish for
// at most shutdownTimeout, lets running async executions finish (handing
// back those that do not), writes pending records, and returns.
func serve(ctx context.Context, opts Options, addr string) error {
	s, err := New(opts)
	if err != nil {
		return err
	}
	if err := s.Start(ctx); err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		_ = s.Shutdown(context.Background())
		return err
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// A body trickling in cannot hold a connection for ever. No write
		// timeout: sync workflows and ?wait= polls have their own bounds.
		ReadTimeout: time.Minute,
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "listening", slog.String("addr", ln.Addr().String()))

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		_ = s.Shutdown(context.Background())
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	s.log.LogAttrs(context.Background(), slog.LevelInfo, "shutting down", slog.String("drain_timeout", shutdownTimeout.String()))
	drain, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	var errs []error
	if err := srv.Shutdown(drain); err != nil {
		_ = srv.Close()
		errs = append(errs, fmt.Errorf("shutdown: in-flight requests did not finish within %s", shutdownTimeout))
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("serve %s: %w", ln.Addr(), err))
	}
	if err := s.Shutdown(drain); err != nil {
		errs = append(errs, fmt.Errorf("shutdown: %w", err))
	}
	s.log.LogAttrs(context.Background(), slog.LevelInfo, "stopped")
	return errors.Join(errs...)
}

func newWorkflowsCommand(workflows []*Workflow) *cobra.Command {
	return &cobra.Command{
		Use:   "workflows",
		Short: "List the workflows of this binary",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, errs := validWorkflows(workflows); len(errs) > 0 {
				return errors.Join(errs...)
			}
			return printWorkflows(cmd.OutOrStdout(), workflows)
		},
	}
}

// printWorkflows writes a table of the workflows, by name.
func printWorkflows(out io.Writer, workflows []*Workflow) error {
	sorted := slices.Clone(workflows)
	slices.SortFunc(sorted, func(a, b *Workflow) int { return strings.Compare(a.Name, b.Name) })
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tMETHODS\tMODE\tPUBLIC\tENDPOINT\tFUNC")
	for _, wf := range sorted {
		methods, endpoint := "-", "-"
		if wf.Endpoint {
			methods = strings.Join(wf.Methods, ",")
			endpoint = endpointPrefix + wf.Name
		}
		mode := wf.Mode
		if mode == "" {
			mode = Sync
		}
		public := "no"
		if wf.Public {
			public = "yes"
		}
		fn := wf.Func
		if wf.Package != "" {
			fn = wf.Package + "." + wf.Func
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", wf.Name, methods, mode, public, endpoint, fn)
	}
	return tw.Flush()
}
