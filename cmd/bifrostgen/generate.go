package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bifrost-go/bifrost/generator"
	"github.com/bifrost-go/bifrost/openapi"
)

// docFlags are --openapi and --openapi-version of generate and check.
type docFlags struct {
	file, version string
}

func (d *docFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&d.file, "openapi", "", "the OpenAPI document of the workflows, in FILE too (.json, or .yaml/.yml)")
	cmd.Flags().StringVar(&d.version, "openapi-version", "3.1", "OpenAPI version of the document: 3.1 or 3.0")
}

// files are the generated files, and the document when --openapi names one.
func (d *docFlags) files(out *generator.Output) ([]generator.File, error) {
	if d.file == "" {
		return out.Files, nil
	}
	format := openapi.JSON
	if ext := strings.ToLower(filepath.Ext(d.file)); ext == ".yaml" || ext == ".yml" {
		format = openapi.YAML
	}
	doc, err := document(out, d.version, format)
	if err != nil {
		return nil, err
	}
	path, err := filepath.Abs(d.file)
	if err != nil {
		return nil, err
	}
	return append(out.Files, generator.File{Path: path, Content: doc}), nil
}

func generateCommand(f *flags) *cobra.Command {
	var doc docFlags
	cmd := &cobra.Command{
		Use:   "generate [packages]",
		Short: "Write bifrost_gen.go in every package with workflows (default ./...)",
		Example: `  //go:generate go tool bifrostgen generate
  bifrostgen generate ./...
  bifrostgen generate --openapi api/openapi.json ./...`,
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := f.generate(args, 1)
			if err != nil {
				return err
			}
			all, err := doc.files(out)
			if err != nil {
				return err
			}
			changed, err := generator.Write(all)
			for _, path := range changed {
				fmt.Fprintln(f.stdout, "wrote", relative(path))
			}
			return err
		},
	}
	doc.add(cmd)
	return cmd
}

// generate runs the generator and prints its diagnostics, failing with
// failCode when there are any.
func (f *flags) generate(patterns []string, failCode int) (*generator.Output, error) {
	format, err := f.formatIn("text", "text", "json", "yaml")
	if err != nil {
		return nil, exitError{2}.with(f.stderr, err)
	}
	out, err := generator.Generate(generator.Config{Patterns: patterns, CacheDir: cacheDir()})
	var diags generator.Diagnostics
	if errors.As(err, &diags) {
		printDiagnostics(f.stderr, diags, format == "json")
		return nil, exitError{failCode}
	}
	return out, err
}

// cacheDir is where the generator remembers what formatting each file gave
// (generator.Config.CacheDir): $BIFROSTGEN_CACHE, or bifrostgen in the
// user's cache directory; BIFROSTGEN_CACHE=off formats every file.
func cacheDir() string {
	switch dir := os.Getenv("BIFROSTGEN_CACHE"); dir {
	case "off":
		return ""
	case "":
		user, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		return filepath.Join(user, "bifrostgen")
	default:
		return dir
	}
}

func printDiagnostics(w io.Writer, diags generator.Diagnostics, asJSON bool) {
	if asJSON {
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

// document is the OpenAPI document of the generated packages.
func document(out *generator.Output, version string, format openapi.Format) ([]byte, error) {
	v, err := openapi.ParseVersion(version)
	if err != nil {
		return nil, err
	}
	return generator.OpenAPI(out.Packages, v, format)
}
