package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/bifrost-go/bifrost/runtime/auth"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/storeopen"
)

// defaultWorkers is --workers when neither the flag nor BIFROST_WORKERS says.
const defaultWorkers = 8

func serveCommand(app App, db *dbFlag) *cobra.Command {
	var cfg ServeConfig
	var retain string
	cmd := &cobra.Command{
		Use: "serve",
		Example: `  app serve                                     # 127.0.0.1:8080, ./bifrost.db
  app serve --addr :8080 --db postgres://app@db/app --workers 16
  BIFROST_DB=/srv/app/bifrost.db app serve
  app serve --retain 7d --max-pending 50000 --cors-origin https://app.example.com`,
		Short: "Serve the workflows over HTTP, and run async executions, until SIGINT or SIGTERM",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.NoMetrics && cfg.MetricsAddr != "" {
				return usageError{fmt.Errorf("--no-metrics and --metrics-addr exclude each other")}
			}
			if cfg.Workers < 0 {
				return usageError{fmt.Errorf("--workers must be 0 or more")}
			}
			var err error
			if cfg.Retain, err = parseRetain(retain); err != nil {
				return usageError{err}
			}
			st, err := db.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			if err := firstKey(cmd.Context(), st, cmd.OutOrStdout(), os.Getenv("BIFROST_API_KEY")); err != nil {
				return err
			}
			log := jsonLog(cmd)
			log.Info("store opened", "db", storeopen.Describe(db.dsn))
			warnIfShared(log, db.dsn)
			return app.Serve(cmd.Context(), st, cfg, log)
		},
	}
	cmd.Flags().StringVar(&cfg.Addr, "addr", envOr("BIFROST_ADDR", "127.0.0.1:8080"), "address to listen on (port 0: any free port) (env BIFROST_ADDR)")
	workersFlag(cmd, &cfg.Workers)
	cmd.Flags().StringVar(&retain, "retain", "", "keep ended executions this long: 30d (the default), 72h; never keeps them for ever")
	cmd.Flags().IntVar(&cfg.MaxPending, "max-pending", 0, "refuse async calls (503) past this many pending executions; default 10000, -1: no cap")
	cmd.Flags().StringArrayVar(&cfg.CORSOrigins, "cors-origin", nil, "an origin browsers may call from, such as https://app.example.com (repeat for several)")
	durableFlag(cmd, db)
	cmd.Flags().StringVar(&cfg.MetricsAddr, "metrics-addr", "", "serve GET /metrics on this address (such as 127.0.0.1:9090) instead of --addr")
	cmd.Flags().BoolVar(&cfg.NoMetrics, "no-metrics", false, "do not serve GET /metrics")
	return cmd
}

// parseRetain reads --retain: days (30d), a Go duration, "never", or "" for
// the default.
func parseRetain(s string) (time.Duration, error) {
	switch s {
	case "":
		return 0, nil
	case "never":
		return -1, nil
	}
	d, err := parseExpiry(s)
	if err != nil {
		return 0, fmt.Errorf("--retain %q: expected days such as 30d, a duration such as 72h, or never", s)
	}
	return d, nil
}

// workerCommand runs async executions without serving HTTP: beside a
// `serve --workers 0`, or as extra capacity.
func workerCommand(app App, db *dbFlag) *cobra.Command {
	var workers int
	var metricsAddr string
	cmd := &cobra.Command{
		Use: "worker",
		Example: `  app serve --workers 0 --db postgres://app@db/app &   # HTTP only
  app worker --workers 32 --db postgres://app@db/app    # executions only`,
		Short: "Run async executions from the store's queue until SIGINT or SIGTERM",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if workers < 1 {
				return usageError{fmt.Errorf("--workers must be at least 1")}
			}
			return db.withNew(cmd, func(ctx context.Context, st store.Store) error {
				log := jsonLog(cmd)
				log.Info("store opened", "db", storeopen.Describe(db.dsn))
				return app.Work(ctx, st, workers, metricsAddr, log)
			})
		},
	}
	workersFlag(cmd, &workers)
	durableFlag(cmd, db)
	cmd.Flags().StringVar(&metricsAddr, "metrics-addr", "", "serve GET /metrics on this address (such as 127.0.0.1:9091); default: no metrics listener")
	return cmd
}

// durableFlag adds --durable: a SQLite store syncs its file on every commit,
// so an accepted execution survives a power loss too (docs/reliability.md
// says what it costs). PostgreSQL is durable on its own settings.
func durableFlag(cmd *cobra.Command, db *dbFlag) {
	cmd.Flags().BoolVar(&db.durable, "durable", false, "SQLite: sync the file on every commit (synchronous=FULL), to survive a power loss")
}

// workersFlag adds --workers, whose default a deployment may set with
// BIFROST_WORKERS.
func workersFlag(cmd *cobra.Command, workers *int) {
	n := defaultWorkers
	if v, err := strconv.Atoi(envOr("BIFROST_WORKERS", "")); err == nil {
		n = v
	}
	cmd.Flags().IntVar(workers, "workers", n, "async executions run at once by this process (0: none) (env BIFROST_WORKERS)")
}

// migrateCommand brings the store's schema (and the queue's) up to date.
func migrateCommand(db *dbFlag) *cobra.Command {
	return &cobra.Command{
		Use:     "migrate",
		Example: `  app migrate --db postgres://app@db/app   # before rolling out a new version`,
		Short:   "Create or update the store's tables",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return db.withNew(cmd, func(ctx context.Context, st store.Store) error { // opening migrates the store
				if err := st.MigrateQueue(ctx, slog.New(slog.DiscardHandler)); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), "the store is up to date")
				return nil
			})
		},
	}
}

// firstKey creates a global key when the store has none and no
// BIFROST_API_KEY stands in for one, and prints it once on out: a new
// deployment is usable, and never open.
func firstKey(ctx context.Context, st store.Store, out io.Writer, envKey string) error {
	if envKey != "" {
		return nil
	}
	n, err := st.CountKeys(ctx)
	if err != nil || n > 0 {
		return err
	}
	k, key, err := auth.CreateKey(ctx, st, nil, 0, "created on first start")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Created a global API key %s (shown once; keep it, revoke it with `keys revoke %s`):\n\n    %s\n\n", k.ID, k.ID, key)
	return nil
}

// warnIfShared warns when a SQLite database others on the machine may read:
// it holds every execution's input and result. A new one is created 0600.
func warnIfShared(log *slog.Logger, dsn string) {
	path, ok := storeopen.SQLitePath(dsn)
	if !ok {
		return
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
			log.Warn("the database is readable by other users of this machine",
				"file", p, "mode", fi.Mode().Perm().String(), "fix", "chmod 600 "+p)
		}
	}
}
