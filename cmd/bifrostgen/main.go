// Command bifrostgen generates echo bindings for Go functions marked with
// //bifrost:workflow. Run it with go generate:
//
//	//go:generate go run github.com/bifrost-go/bifrost/cmd/bifrostgen generate
//
// Commands: generate writes bifrost_gen.go in every package with workflows;
// check exits 1 with a diff when a generated file is stale (2 on errors), for
// CI; list prints the workflows.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/bifrost-go/bifrost/generator"
)

// exitError carries a process exit code through cobra.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	var exit exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.code
	default:
		fmt.Fprintln(stderr, "bifrostgen:", err)
		return 2
	}
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	var format string
	root := &cobra.Command{
		Use:           "bifrostgen",
		Short:         "Generate HTTP endpoints for Go functions marked //bifrost:workflow",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&format, "format", "text", "diagnostics format: text or json (for CI annotations)")

	// generateOrReport runs the generator and prints diagnostics, returning
	// the exit code failing commands should use.
	generateOrReport := func(args []string, failCode int) (*generator.Output, error) {
		out, err := generator.Generate(generator.Config{Patterns: args})
		var diags generator.Diagnostics
		if errors.As(err, &diags) {
			printDiagnostics(stderr, diags, format)
			return nil, exitError{failCode}
		}
		return out, err
	}

	root.AddCommand(&cobra.Command{
		Use:   "generate [packages]",
		Short: "Write bifrost_gen.go in every package with workflows (default ./...)",
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := generateOrReport(args, 1)
			if err != nil {
				return err
			}
			changed, err := generator.Write(out.Files)
			for _, path := range changed {
				fmt.Fprintln(stdout, "wrote", relative(path))
			}
			return err
		},
	})
	root.AddCommand(&cobra.Command{
		Use:   "check [packages]",
		Short: "Exit 1 with a diff when generated files are stale, 2 on errors (for CI)",
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := generateOrReport(args, 2)
			if err != nil {
				return err
			}
			changes, err := generator.Stale(out.Files)
			if err != nil {
				return err
			}
			if len(changes) == 0 {
				return nil
			}
			for _, c := range changes {
				fmt.Fprint(stdout, c.Diff)
			}
			fmt.Fprintf(stderr, "stale generated files (run bifrostgen generate):\n")
			for _, c := range changes {
				fmt.Fprintln(stderr, "\t"+relative(c.Path))
			}
			return exitError{1}
		},
	})
	root.AddCommand(&cobra.Command{
		Use:   "list [packages]",
		Short: "Print a table of the workflows",
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := generateOrReport(args, 1)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tMETHODS\tMODE\tACCESS\tFUNC\tPOSITION")
			for _, pkg := range out.Packages {
				for _, wf := range pkg.Workflows {
					methods, access := "-", "-"
					if wf.Directive.Endpoint {
						methods = strings.Join(wf.Directive.Methods, ",")
						access = "key"
						switch {
						case wf.Directive.Public:
							access = "public"
						case wf.Directive.DisableGlobalKey:
							access = "workflow key"
						}
					}
					mode := "sync"
					if wf.Async {
						mode = "async"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s.%s\t%s:%d\n", wf.Name, methods, mode, access, pkg.Name, wf.Func, relative(wf.Pos.Filename), wf.Pos.Line)
				}
			}
			return w.Flush()
		},
	})
	return root
}

func printDiagnostics(w io.Writer, diags generator.Diagnostics, format string) {
	if format == "json" {
		enc := json.NewEncoder(w)
		for _, d := range diags {
			d.File = relative(d.File)
			_ = enc.Encode(d)
		}
		return
	}
	for _, d := range diags {
		d.File = relative(d.File)
		fmt.Fprintln(w, d.String())
	}
	fmt.Fprintf(w, "bifrostgen: %d problem(s); nothing was written\n", len(diags))
}

// relative shortens a path to the working directory when it is inside it.
func relative(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}
