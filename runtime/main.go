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
	"syscall"
	"time"

	"github.com/bifrost-go/bifrost/runtime/internal/cli"
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
	return cli.Run(ctx, args, stdout, stderr, binary{workflows})
}

// shutdownTimeout bounds the drain of in-flight requests on shutdown.
const shutdownTimeout = 30 * time.Second

// serve listens on addr, logs "listening" with the real address, and serves
// until ctx ends; then it stops accepting, lets in-flight requests finish for
// at most shutdownTimeout, lets running async executions finish (handing
// back those that do not), writes pending records, and returns. With a
// metricsAddr, GET /metrics is served there ("metrics listening"), and not
// on addr.
func serve(ctx context.Context, opts Options, addr, metricsAddr string) error {
	opts.DisableMetrics = opts.DisableMetrics || metricsAddr != ""
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
	stopMetrics, err := s.listenMetrics(ctx, metricsAddr)
	if err != nil {
		ln.Close()
		_ = s.Shutdown(context.Background())
		return err
	}
	defer stopMetrics()
	srv := s.httpServer(s.Handler())
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

// httpServer is the http.Server of a listener of s.
func (s *Server) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// A body trickling in cannot hold a connection for ever. No write
		// timeout: sync workflows and ?wait= polls have their own bounds.
		ReadTimeout: time.Minute,
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// listenMetrics serves GET /metrics alone on addr, when not "", until stop
// is called. Anything else there is a 404.
func (s *Server) listenMetrics(ctx context.Context, addr string) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+metricsPath, s.MetricsHandler())
	srv := s.httpServer(mux)
	s.log.LogAttrs(ctx, slog.LevelInfo, "metrics listening", slog.String("addr", ln.Addr().String()))
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, nil
}
