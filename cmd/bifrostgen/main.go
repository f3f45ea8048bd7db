// Command bifrostgen generates echo bindings for Go functions marked with
// //bifrost:workflow. Run it with go generate:
//
//	//go:generate go tool bifrostgen generate
//
// Commands: generate writes bifrost_gen.go in every package with workflows
// (and, with --openapi FILE, the OpenAPI document of all of them); check
// exits 1 with a diff when a generated file or the document is stale (2 on
// errors), for CI; openapi prints the document; list prints the workflows.
//
// --format says how a command prints what it prints: text (the default) or
// json for generate, check and list (diagnostics as JSON lines for CI
// annotations; list as a JSON array), json (the default) or yaml for the
// document of openapi.
//
// generate and check remember, in the user's cache directory, what
// formatting each generated file gave, so that an unchanged file is not
// formatted again: BIFROSTGEN_CACHE names another directory, or is off.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// exitError carries a process exit code through cobra.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// with prints err and returns e.
func (e exitError) with(w io.Writer, err error) error {
	fmt.Fprintln(w, "bifrostgen:", err)
	return e
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

// flags are the options every command shares.
type flags struct {
	format string // what the command prints: text, json or yaml
	stdout io.Writer
	stderr io.Writer
}

// formatIn returns --format, or def when it was not given, refusing a
// format the command cannot print.
func (f *flags) formatIn(def string, valid ...string) (string, error) {
	if f.format == "" {
		return def, nil
	}
	for _, v := range valid {
		if f.format == v {
			return v, nil
		}
	}
	return "", fmt.Errorf("--format %q: this command prints %s", f.format, strings.Join(valid, " or "))
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	f := &flags{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "bifrostgen",
		Short:         "Generate HTTP endpoints for Go functions marked //bifrost:workflow",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&f.format, "format", "",
		"how to print: text or json (generate, check, list: json for CI annotations and scripts); json or yaml (openapi)")
	root.AddCommand(initCommand(f), generateCommand(f), checkCommand(f), openAPICommand(f), listCommand(f))
	addProfileFlags(root)
	return root
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
