package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// writeModule writes the module: go.mod replacing bifrost with root, a
// main.go holding swag's general API info, and packages p00.. each with per
// workflows, then resolves go.sum from the local module cache.
func writeModule(dir, root string, packages, per int) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	gomod := "module synth\n\ngo 1.26.8\n\nrequire github.com/bifrost-go/bifrost v0.0.0\n\nreplace github.com/bifrost-go/bifrost => " + root + "\n"
	files := map[string]string{"go.mod": gomod, "main.go": mainFile(packages)}
	for p := range packages {
		files[filepath.Join(pkgName(p), "workflows.go")] = packageFile(p, per)
	}
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			return err
		}
	}
	// The first generate makes the bindings main.go links; tidy needs none.
	tidy := exec.Command("go", "mod", "tidy")
	tidy.Dir = dir
	tidy.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if out, err := tidy.CombinedOutput(); err != nil {
		return fmt.Errorf("go mod tidy: %v\n%s", err, out)
	}
	return nil
}

func pkgName(p int) string { return fmt.Sprintf("p%02d", p) }

func mainFile(packages int) string {
	var b strings.Builder
	b.WriteString("// Command synth serves 1,000 synthetic workflows.\n//\n")
	b.WriteString("// @title synth\n// @version 1.0\n// @BasePath /\npackage main\n\nimport (\n")
	for p := range packages {
		fmt.Fprintf(&b, "\t_ \"synth/%s\"\n", pkgName(p))
	}
	b.WriteString(")\n\nfunc main() {}\n")
	return b.String()
}

// packageFile is one package: per workflows, each the examples/bench
// endpoint (four body members, one query parameter) with its own types.
func packageFile(p, per int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "// Package %s holds synthetic workflows.\npackage %s\n\nimport \"context\"\n", pkgName(p), pkgName(p))
	for w := range per {
		fmt.Fprintf(&b, workflowTemplate, w, pkgName(p))
	}
	return b.String()
}

const workflowTemplate = `
// Item%[1]d is the body of CreateItem%[1]d.
type Item%[1]d struct {
	Name  string         ` + "`json:\"name\"`" + `
	Count int            ` + "`json:\"count\"`" + `
	Tags  []string       ` + "`json:\"tags\"`" + `
	Meta  map[string]any ` + "`json:\"meta\"`" + `
}

// Created%[1]d is the answer of CreateItem%[1]d.
type Created%[1]d struct {
	Name   string ` + "`json:\"name\"`" + `
	Count  int    ` + "`json:\"count\"`" + `
	Tags   int    ` + "`json:\"tags\"`" + `
	DryRun bool   ` + "`json:\"dry_run\"`" + `
}

// CreateItem%[1]d acknowledges an item.
//
// @Summary CreateItem%[1]d acknowledges an item.
// @Accept json
// @Produce json
// @Param item body Item%[1]d true "the item"
// @Param dry_run query bool false "a dry run"
// @Success 200 {object} Created%[1]d
// @Router /api/endpoints/%[2]s_create_item%[1]d [post]
//
//bifrost:workflow endpoint public name=%[2]s_create_item%[1]d
func CreateItem%[1]d(ctx context.Context, item Item%[1]d, dryRun bool) (Created%[1]d, error) {
	return Created%[1]d{Name: item.Name, Count: item.Count, Tags: len(item.Tags), DryRun: dryRun}, nil
}
`
