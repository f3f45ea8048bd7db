package cli

import (
	"cmp"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bifrost-go/bifrost/openapi"
	"github.com/bifrost-go/bifrost/workflow"
)

// endpointPrefix is where the server routes endpoint workflows.
const endpointPrefix = "/api/endpoints/"

func workflowsCommand(app App) *cobra.Command {
	return &cobra.Command{
		Use:   "workflows",
		Short: "List the workflows of this binary",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := app.Check(); err != nil {
				return err
			}
			return printWorkflows(cmd.OutOrStdout(), app.Specs())
		},
	}
}

// printWorkflows writes a table of the workflows, by name.
func printWorkflows(out io.Writer, specs []*workflow.Spec) error {
	sorted := slices.Clone(specs)
	slices.SortFunc(sorted, func(a, b *workflow.Spec) int { return strings.Compare(a.Name, b.Name) })
	t := newTable(out, "NAME", "METHODS", "MODE", "PUBLIC", "ENDPOINT", "FUNC")
	for _, wf := range sorted {
		methods, endpoint := "-", "-"
		if wf.Endpoint {
			methods = strings.Join(wf.Methods, ",")
			endpoint = endpointPrefix + wf.Name
		}
		public := "no"
		if wf.Public {
			public = "yes"
		}
		fn := wf.Func
		if wf.Package != "" {
			fn = wf.Package + "." + wf.Func
		}
		t.row(wf.Name, methods, string(cmp.Or(wf.Mode, workflow.Sync)), public, endpoint, fn)
	}
	return t.flush()
}

func openAPICommand(app App) *cobra.Command {
	var version, format string
	cmd := &cobra.Command{
		Use:   "openapi",
		Short: "Print the OpenAPI document this binary serves at /api/openapi.json",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := openapi.ParseVersion(version)
			if err != nil {
				return usageError{err}
			}
			f, err := openapi.ParseFormat(format)
			if err != nil {
				return usageError{err}
			}
			doc, err := app.OpenAPI(v, f)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(doc)
			return err
		},
	}
	cmd.Flags().StringVar(&version, "openapi-version", "3.1", "3.1 or 3.0")
	cmd.Flags().StringVar(&format, "format", "json", "json or yaml")
	return cmd
}
