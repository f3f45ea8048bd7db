package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/mod/modfile"
)

// toolPath is the package `go get -tool` records in the user's go.mod.
const toolPath = "github.com/bifrost-go/bifrost/cmd/bifrostgen"

// generateLine is the go:generate line init writes in the workflows package.
const generateLine = "//go:generate go tool bifrostgen generate"

func initCommand(f *flags) *cobra.Command {
	return &cobra.Command{
		Use:   "init [dir]",
		Short: "Prepare a module: the tool line, a go:generate line, a first workflow and a main.go (idempotent)",
		Long: `init prepares the module that holds dir (default .) for bifrostgen:

  - go.mod gets the tool line (go get -tool ` + toolPath + `) if it has none;
  - the package in dir gets a file with the go:generate line if none has it;
  - a package with no marked function gets hello.go, one public workflow to call;
  - the module gets a main.go serving the package's workflows if it has no
    main package calling runtime.Main (in dir for package main, else cmd/NAME).

Each step is skipped when already done, so init can be run again.`,
		Example: `  go mod init example.com/shop
  go get -tool ` + toolPath + `
  go tool bifrostgen init
  go generate ./... && go mod tidy && go run . serve`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			steps, err := initModule(dir)
			for _, s := range steps {
				fmt.Fprintln(f.stdout, s)
			}
			if err == nil && len(steps) == 0 {
				fmt.Fprintln(f.stdout, "nothing to do: the module is ready (go generate ./...)")
			}
			return err
		},
	}
}

// module is what init reads of the module around a package directory.
type module struct {
	root, path string // the folder of go.mod, the module path
	file       *modfile.File
	pkgDir     string // absolute
	pkgName    string // "" when the folder has no Go file yet
	pkgPath    string // import path of the package
}

// initModule runs the steps that are not done yet and says what it did.
func initModule(dir string) ([]string, error) {
	m, err := readModule(dir)
	if err != nil {
		return nil, err
	}
	var done []string
	for _, step := range []func(*module) (string, error){addTool, addGenerateLine, addFirstWorkflow, addMain} {
		what, err := step(m)
		if err != nil {
			return done, err
		}
		if what != "" {
			done = append(done, what)
		}
	}
	return done, nil
}

func readModule(dir string) (*module, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	m := &module{pkgDir: abs}
	for root := abs; ; root = filepath.Dir(root) {
		data, err := os.ReadFile(filepath.Join(root, "go.mod"))
		if err == nil {
			if m.file, err = modfile.Parse(filepath.Join(root, "go.mod"), data, nil); err != nil {
				return nil, err
			}
			m.root, m.path = root, m.file.Module.Mod.Path
			break
		}
		if filepath.Dir(root) == root {
			return nil, fmt.Errorf("no go.mod in %s or above it: run go mod init MODULE first", abs)
		}
	}
	rel, _ := filepath.Rel(m.root, abs)
	m.pkgPath = m.path
	if rel != "." {
		m.pkgPath += "/" + filepath.ToSlash(rel)
	}
	m.pkgName, err = packageName(abs)
	return m, err
}

// packageName is the package clause of the Go files in dir, tests aside.
func packageName(dir string) (string, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.PackageClauseOnly)
		if err != nil {
			return "", err
		}
		return f.Name.Name, nil
	}
	return "", nil
}

func addTool(m *module) (string, error) {
	for _, t := range m.file.Tool {
		if t.Path == toolPath {
			return "", nil
		}
	}
	cmd := exec.Command("go", "get", "-tool", toolPath)
	cmd.Dir = m.root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go get -tool %s: %v\n%s", toolPath, err, out)
	}
	return "go.mod: added the tool line (go get -tool " + toolPath + ")", nil
}

func addGenerateLine(m *module) (string, error) {
	files, _ := filepath.Glob(filepath.Join(m.pkgDir, "*.go"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		if bytes.Contains(data, []byte(generateLine)) {
			return "", nil
		}
	}
	if m.pkgName == "" {
		m.pkgName = "main"
	}
	src := fmt.Sprintf("package %s\n\n// go generate ./... runs bifrostgen, which writes bifrost_gen.go (and\n// bifrost_gen.openapi.json) beside this file from the marked functions.\n\n%s\n", m.pkgName, generateLine)
	return create(m, "generate.go", src)
}

func addFirstWorkflow(m *module) (string, error) {
	files, _ := filepath.Glob(filepath.Join(m.pkgDir, "*.go"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		if bytes.Contains(data, []byte("//bifrost:workflow")) {
			return "", nil
		}
	}
	src := fmt.Sprintf(`package %s

import "context"

// Hello greets: GET /api/endpoints/hello?name=ada, with an API key.
//
//bifrost:workflow endpoint methods=GET,POST default=name:world
func Hello(ctx context.Context, name string) (map[string]string, error) {
	return map[string]string{"message": "hello " + name}, nil
}
`, m.pkgName)
	return create(m, "hello.go", src)
}

func addMain(m *module) (string, error) {
	if m.pkgName == "main" {
		if hasMainFunc(m.pkgDir) {
			return "", nil
		}
		return create(m, "main.go", "package main\n\nimport \"github.com/bifrost-go/bifrost/runtime\"\n\n"+
			"// main serves the workflows of this package: go run . serve\nfunc main() { runtime.Main(Workflows()...) }\n")
	}
	name := filepath.Base(m.path)
	path := filepath.Join("cmd", name, "main.go")
	if _, err := os.Stat(filepath.Join(m.root, path)); err == nil {
		return "", nil
	}
	src := fmt.Sprintf("package main\n\nimport (\n\t\"github.com/bifrost-go/bifrost/runtime\"\n\n\t%q\n)\n\n"+
		"// main serves the workflows of package %s: go run ./cmd/%s serve\nfunc main() { runtime.Main(%s.Workflows()...) }\n",
		m.pkgPath, m.pkgName, name, m.pkgName)
	return createAt(filepath.Join(m.root, path), src)
}

// hasMainFunc reports whether a Go file of dir declares func main.
func hasMainFunc(dir string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, file := range files {
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && fn.Name.Name == "main" {
				return true
			}
		}
	}
	return false
}

// create writes a new file in the package and names it relative to the module.
func create(m *module, name, src string) (string, error) {
	if m.pkgName == "" {
		m.pkgName = "main"
	}
	return createAt(filepath.Join(m.pkgDir, name), src)
}

func createAt(path, src string) (string, error) {
	if _, err := os.Stat(path); err == nil {
		return "", fmt.Errorf("%s exists: init will not overwrite it", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		return "", err
	}
	return "wrote " + relative(path), nil
}
