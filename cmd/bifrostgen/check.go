package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bifrost-go/bifrost/generator"
)

func checkCommand(f *flags) *cobra.Command {
	var doc docFlags
	cmd := &cobra.Command{
		Use:   "check [packages]",
		Short: "Exit 1 with a diff when generated files (or the --openapi document) are stale, 2 on errors (for CI)",
		Example: `  bifrostgen check ./...
  bifrostgen check --openapi api/openapi.json ./...
  bifrostgen check --format json ./...   # diagnostics as JSON lines`,
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := f.generate(args, 2)
			if err != nil {
				return err
			}
			all, err := doc.files(out)
			if err != nil {
				return exitError{2}.with(f.stderr, err)
			}
			changes, err := generator.Stale(all)
			if err != nil {
				return err
			}
			if len(changes) == 0 {
				fmt.Fprintln(f.stdout, summary(out)+": up to date")
				return nil
			}
			for _, c := range changes {
				fmt.Fprint(f.stdout, c.Diff)
			}
			fmt.Fprintf(f.stderr, "stale generated files (run bifrostgen generate):\n")
			for _, c := range changes {
				fmt.Fprintln(f.stderr, "\t"+relative(c.Path))
			}
			return exitError{1}
		},
	}
	doc.add(cmd)
	return cmd
}

// summary counts what was checked: "12 workflows in 3 packages".
func summary(out *generator.Output) string {
	n := 0
	for _, pkg := range out.Packages {
		n += len(pkg.Workflows)
	}
	return fmt.Sprintf("%d %s in %d %s", n, plural(n, "workflow"), len(out.Packages), plural(len(out.Packages), "package"))
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
