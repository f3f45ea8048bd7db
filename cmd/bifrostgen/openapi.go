package main

import (
	"github.com/spf13/cobra"

	"github.com/bifrost-go/bifrost/openapi"
)

func openAPICommand(f *flags) *cobra.Command {
	var version string
	cmd := &cobra.Command{
		Use:   "openapi [packages]",
		Short: "Print the OpenAPI document of the workflows (default ./...)",
		Example: `  bifrostgen openapi > openapi.json
  bifrostgen openapi --format yaml --openapi-version 3.0 ./api/...`,
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := f.formatIn("json", "json", "yaml")
			if err != nil {
				return exitError{2}.with(f.stderr, err)
			}
			format, _ := openapi.ParseFormat(name)
			out, err := f.generate(args, 1)
			if err != nil {
				return err
			}
			doc, err := document(out, version, format)
			if err != nil {
				return err
			}
			_, err = f.stdout.Write(doc)
			return err
		},
	}
	cmd.Flags().StringVar(&version, "openapi-version", "3.1", "OpenAPI version: 3.1 or 3.0")
	return cmd
}
