package generator_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/bifrost-go/bifrost/generator"
	"github.com/bifrost-go/bifrost/openapi"
	"github.com/bifrost-go/bifrost/openapi/openapitest"
)

var update = flag.Bool("update", false, "rewrite the golden files in ../testdata")

// repoRoot is the module root, where testdata/ lives.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// newModule makes a module that uses this repository through a replace
// directive, so generated code is built exactly as a user's would be.
func newModule(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	gomod := "module example.com/cases\n\ngo 1.26\n\nrequire github.com/bifrost-go/bifrost v0.0.0\n\nreplace github.com/bifrost-go/bifrost => " + root + "\n"
	writeFile(t, filepath.Join(dir, "go.mod"), []byte(gomod))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "go.sum"), sum)
	harness, err := os.ReadFile(filepath.Join(root, "testdata", "harness", "harness.go"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "harness", "harness.go"), harness)
	// The module lists only this repository; let the go command fill in the rest.
	t.Setenv("GOFLAGS", "-mod=mod")
	return dir
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// caseFiles reads the txtar cases of a testdata folder.
func caseFiles(t *testing.T, folder string) map[string]*txtar.Archive {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot(t), "testdata", folder, "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*txtar.Archive{}
	for _, p := range paths {
		a, err := txtar.ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = a
	}
	if len(out) == 0 {
		t.Fatalf("no cases in testdata/%s", folder)
	}
	return out
}

func caseName(path string) string { return strings.TrimSuffix(filepath.Base(path), ".txtar") }

// TestCases generates every case of testdata/cases, compares the output with
// the case's golden file, then builds the cases and runs their HTTP
// exchanges against the real runtime.
func TestCases(t *testing.T) {
	if testing.Short() {
		t.Skip("builds generated code with the go command")
	}
	dir := newModule(t)
	cases := caseFiles(t, "cases")
	for path, a := range cases {
		name := caseName(path)
		for _, f := range a.Files {
			if strings.HasPrefix(f.Name, "want/") {
				continue
			}
			writeFile(t, filepath.Join(dir, name, f.Name), f.Data)
		}
		pkg := strings.ReplaceAll(name, "-", "_")
		writeFile(t, filepath.Join(dir, name, "exchanges_test.go"), []byte("package "+pkg+"\n\n"+
			"import (\n\t\"testing\"\n\n\t\"example.com/cases/harness\"\n)\n\n"+
			"func TestExchanges(t *testing.T) { harness.Run(t, Workflows(), \"exchanges.txt\") }\n\n"+
			"func TestOpenAPI(t *testing.T) { harness.OpenAPI(t, Workflows(), \"openapi.json\") }\n"))
	}

	out, err := generator.Generate(generator.Config{Dir: dir, Patterns: []string{"./..."}})
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	generated := map[string][]byte{} // by path in the module: case/bifrost_gen.go
	for _, f := range out.Files {
		rel, _ := filepath.Rel(dir, f.Path)
		generated[filepath.ToSlash(rel)] = f.Content
	}
	packages := map[string]*generator.Package{}
	for _, pkg := range out.Packages {
		rel, _ := filepath.Rel(dir, pkg.Dir)
		packages[rel] = pkg
	}
	for path, a := range cases {
		name := caseName(path)
		t.Run(name, func(t *testing.T) {
			got, ok := generated[name+"/"+generator.GeneratedFile]
			if !ok {
				t.Fatalf("no file generated for %s", name)
			}
			golden(t, path, a, "want/"+generator.GeneratedFile, got)
			if fragment := generated[name+"/"+generator.FragmentFile]; fragment != nil {
				golden(t, path, a, "want/"+generator.FragmentFile, fragment)
			}

			// The case's OpenAPI document: golden, valid for two validators
			// in both versions, and what the case's server must serve.
			docs := documents(t, []*generator.Package{packages[name]})
			golden(t, path, a, "want/openapi.json", docs[0].data)
			for _, d := range docs {
				openapitest.Validate(t, name+" "+d.name, d.data)
			}
			writeFile(t, filepath.Join(dir, name, "openapi.json"), docs[0].data)
		})
	}
	// All the cases in one binary: one document, component names qualified
	// where the cases' types collide, served as generated.
	all := documents(t, out.Packages)
	for _, d := range all {
		openapitest.Validate(t, "all cases "+d.name, d.data)
	}
	var doc struct {
		Components struct{ Schemas map[string]any }
	}
	if err := json.Unmarshal(all[0].data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"BodyStructItem", "SchemasItem", "Tree", "PageEntry"} { // Item is in two cases
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("the document of all the cases has no schema %s", name)
		}
	}
	writeFile(t, filepath.Join(dir, "all", "openapi.json"), all[0].data)
	var imports, lists []string
	for path := range cases {
		pkg := strings.ReplaceAll(caseName(path), "-", "_")
		imports = append(imports, "\t"+pkg+" \"example.com/cases/"+caseName(path)+"\"\n")
		lists = append(lists, pkg+".Workflows()")
	}
	slices.Sort(imports)
	writeFile(t, filepath.Join(dir, "all", "all_test.go"), []byte("package all\n\nimport (\n\t\"slices\"\n\t\"testing\"\n\n\t\"example.com/cases/harness\"\n"+
		strings.Join(imports, "")+")\n\n"+
		"func TestOpenAPI(t *testing.T) {\n\tharness.OpenAPI(t, slices.Concat("+strings.Join(lists, ", ")+"), \"openapi.json\")\n}\n"))

	if _, err := generator.Write(out.Files); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "test", "-count=1", "./...")
	cmd.Dir = dir
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the generated cases fail to build or answer as expected:\n%s", output)
	}
}

// TestDiagnostics runs the generator on every case of testdata/diagnostics
// and compares what it reports, position by position, with the case's want.
func TestDiagnostics(t *testing.T) {
	dir := newModule(t)
	cases := caseFiles(t, "diagnostics")
	for path, a := range cases {
		name := caseName(path)
		for _, f := range a.Files {
			if f.Name != "want" {
				writeFile(t, filepath.Join(dir, name, f.Name), f.Data)
			}
		}
	}
	for path, a := range cases {
		name := caseName(path)
		t.Run(name, func(t *testing.T) {
			_, err := generator.Generate(generator.Config{Dir: dir, Patterns: []string{"./" + name}})
			var diags generator.Diagnostics
			if !errors.As(err, &diags) {
				t.Fatalf("want diagnostics, got %v", err)
			}
			var b bytes.Buffer
			for _, d := range diags {
				d.File, _ = filepath.Rel(filepath.Join(dir, name), d.File)
				b.WriteString(d.String() + "\n")
			}
			golden(t, path, a, "want", b.Bytes())
		})
	}
}

// golden compares got with the archive's file name, or rewrites it with -update.
func golden(t *testing.T, path string, a *txtar.Archive, name string, got []byte) {
	t.Helper()
	for i, f := range a.Files {
		if f.Name != name {
			continue
		}
		if *update {
			a.Files[i].Data = got
			if err := os.WriteFile(path, txtar.Format(a), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		if !bytes.Equal(f.Data, got) {
			t.Errorf("%s differs from %s in %s (go test ./generator -update rewrites it):\n--- got ---\n%s", name, name, filepath.Base(path), got)
		}
		return
	}
	if !*update {
		t.Fatalf("%s has no %s (go test ./generator -update adds it)", filepath.Base(path), name)
	}
	a.Files = append(a.Files, txtar.File{Name: name, Data: got})
	if err := os.WriteFile(path, txtar.Format(a), 0o644); err != nil {
		t.Fatal(err)
	}
}

type document struct {
	name string
	data []byte
}

// documents are the OpenAPI document of pkgs in every version and format,
// the 3.1 JSON one first.
func documents(t *testing.T, pkgs []*generator.Package) []document {
	t.Helper()
	var out []document
	for _, v := range []openapi.Version{openapi.V31, openapi.V30} {
		for _, f := range []openapi.Format{openapi.JSON, openapi.YAML} {
			data, err := generator.OpenAPI(pkgs, v, f)
			if err != nil {
				t.Fatalf("openapi %s %s: %v", v, f, err)
			}
			out = append(out, document{name: "openapi " + string(v) + " " + string(f), data: data})
		}
	}
	return out
}
