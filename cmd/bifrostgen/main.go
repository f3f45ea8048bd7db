// Command bifrostgen generates echo bindings for Go functions marked with
// //bifrost:workflow. Run it with go generate:
//
//	//go:generate go run github.com/bifrost-go/bifrost/cmd/bifrostgen generate
//
// Commands: generate writes bifrost_gen.go in every package with workflows
// (and, with --openapi FILE, the OpenAPI document of all of them); check
// exits 1 with a diff when a generated file or the document is stale (2 on
// errors), for CI; openapi prints the document; list prints the workflows.
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
	"github.com/bifrost-go/bifrost/openapi"
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

	// --openapi FILE adds the merged document to the files generate writes
	// and check compares.
	var docFile, docVersion string
	addDocFlags := func(cmd *cobra.Command) {
		cmd.Flags().StringVar(&docFile, "openapi", "", "the OpenAPI document of the workflows, in FILE too (.json, or .yaml/.yml)")
		cmd.Flags().StringVar(&docVersion, "openapi-version", "3.1", "OpenAPI version of the document: 3.1 or 3.0")
	}
	files := func(out *generator.Output) ([]generator.File, error) {
		if docFile == "" {
			return out.Files, nil
		}
		format := openapi.JSON
		if ext := strings.ToLower(filepath.Ext(docFile)); ext == ".yaml" || ext == ".yml" {
			format = openapi.YAML
		}
		doc, err := document(out, docVersion, format)
		if err != nil {
			return nil, err
		}
		path, err := filepath.Abs(docFile)
		if err != nil {
			return nil, err
		}
		return append(out.Files, generator.File{Path: path, Content: doc}), nil
	}

	generate := &cobra.Command{
		Use:   "generate [packages]",
		Short: "Write bifrost_gen.go in every package with workflows (default ./...)",
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := generateOrReport(args, 1)
			if err != nil {
				return err
			}
			all, err := files(out)
			if err != nil {
				return err
			}
			changed, err := generator.Write(all)
			for _, path := range changed {
				fmt.Fprintln(stdout, "wrote", relative(path))
			}
			return err
		},
	}
	addDocFlags(generate)
	root.AddCommand(generate)
	check := &cobra.Command{
		Use:   "check [packages]",
		Short: "Exit 1 with a diff when generated files (or the --openapi document) are stale, 2 on errors (for CI)",
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := generateOrReport(args, 2)
			if err != nil {
				return err
			}
			all, err := files(out)
			if err != nil {
				return exitError{2}.with(stderr, err)
			}
			changes, err := generator.Stale(all)
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
	}
	addDocFlags(check)
	root.AddCommand(check)

	var printFormat, printVersion string
	printDoc := &cobra.Command{
		Use:   "openapi [packages]",
		Short: "Print the OpenAPI document of the workflows (default ./...)",
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := openapi.ParseFormat(printFormat)
			if err != nil {
				return err
			}
			out, err := generateOrReport(args, 1)
			if err != nil {
				return err
			}
			doc, err := document(out, printVersion, format)
			if err != nil {
				return err
			}
			_, err = stdout.Write(doc)
			return err
		},
	}
	// This --format is the document's; diagnostics are printed as text.
	printDoc.Flags().StringVar(&printFormat, "format", "json", "document format: json or yaml")
	printDoc.Flags().StringVar(&printVersion, "openapi-version", "3.1", "OpenAPI version: 3.1 or 3.0")
	root.AddCommand(printDoc)

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
					if wf.Endpoint {
						methods = strings.Join(wf.Methods, ",")
						access = "key"
						switch {
						case wf.Public:
							access = "public"
						case wf.DisableGlobalKey:
							access = "workflow key"
						}
					}
					mode := string(wf.Mode)
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s.%s\t%s:%d\n", wf.Name, methods, mode, access, pkg.Name, wf.Func, relative(wf.Pos.Filename), wf.Pos.Line)
				}
			}
			return w.Flush()
		},
	})
	return root
}

// document is the OpenAPI document of the generated packages.
func document(out *generator.Output, version string, format openapi.Format) ([]byte, error) {
	v, err := openapi.ParseVersion(version)
	if err != nil {
		return nil, err
	}
	return generator.OpenAPI(out.Packages, v, format)
}

// with prints err and returns e.
func (e exitError) with(w io.Writer, err error) error {
	fmt.Fprintln(w, "bifrostgen:", err)
	return e
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
