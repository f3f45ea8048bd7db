// Package generator turns Go functions marked with //bifrost:workflow into
// echo bindings: load (go/packages) → parse (directives) → analyze (the
// model) → emit (jennifer) → write. Diagnostics from every stage are
// collected and reported together; nothing is written when there is one.
package generator

import (
	"bytes"
	"go/token"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/tools/go/packages"

	"github.com/bifrost-go/bifrost/workflow"
)

// Config says what to generate.
type Config struct {
	Dir      string   // working directory for patterns; "" is the current one
	Patterns []string // package patterns; default ./...

	// CacheDir holds what formatting each generated file gave, so that an
	// unchanged one is not formatted again; "" formats every file.
	CacheDir string
}

// File is one generated file. A nil Content means the file is stale and
// should be removed (its package no longer has workflows).
type File struct {
	Path    string
	Content []byte
}

// Output is the result of a successful run.
type Output struct {
	Packages []*Package
	Files    []File
}

// Generate loads, checks and emits. On problems in the user's code it returns
// Diagnostics as the error.
func Generate(cfg Config) (*Output, error) {
	patterns := cfg.Patterns
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	pkgs, fset, err := load(cfg.Dir, patterns)
	if err != nil {
		return nil, err
	}
	var diags Diagnostics
	out := &Output{}
	docs := newDocIndex(fset, pkgs)
	for _, pkg := range pkgs {
		var marked []Marked
		for _, file := range pkg.Syntax {
			marked = append(marked, ParseFile(fset, file, &diags)...)
		}
		if len(marked) == 0 {
			if stale := staleGenerated(pkg); stale != "" {
				out.Files = append(out.Files, File{Path: stale}, File{Path: filepath.Join(filepath.Dir(stale), FragmentFile)})
			}
			continue
		}
		pkg.Errors = slices.DeleteFunc(pkg.Errors, func(e packages.Error) bool { return refersToGenerated(e, marked) })
		if len(pkg.Errors) > 0 {
			packageErrors(pkg, &diags)
			continue
		}
		model := analyzePackage(pkg, fset, marked, docs, &diags)
		if len(model.Workflows) > 0 {
			out.Packages = append(out.Packages, model)
		}
	}
	checkNames(out.Packages, &diags)
	// Emit even when there are problems elsewhere: a name the generated code
	// would collide with is one more problem to report in this run.
	cache := formatCache{cfg.CacheDir}
	results := emitAll(out.Packages, cache)
	cache.trim()
	for i, pkg := range out.Packages {
		r := results[i]
		if r.err != nil {
			return nil, r.err
		}
		checkCollisions(pkg, r.taken, fset, &diags)
		out.Files = append(out.Files,
			File{Path: filepath.Join(pkg.Dir, GeneratedFile), Content: r.src},
			File{Path: filepath.Join(pkg.Dir, FragmentFile), Content: pkg.OpenAPIFile}) // nil: none, or a stale one removed
	}
	if len(diags) > 0 {
		return nil, diags.Sorted()
	}
	slices.SortFunc(out.Files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// emitted is one package's generated file, or why there is none.
type emitted struct {
	src   []byte
	taken []string // the top-level names src declares
	err   error
}

// emitAll describes the operations of each package and emits its file,
// packages in parallel: a package's file depends on that package alone,
// and emitting is most of what generate costs (issue #14).
func emitAll(pkgs []*Package, cache formatCache) []emitted {
	out := make([]emitted, len(pkgs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(len(pkgs), runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(pkgs) {
					return
				}
				r := &out[i]
				if r.err = describeOperations(pkgs[i]); r.err == nil {
					r.src, r.taken, r.err = emit(pkgs[i], cache)
				}
			}
		})
	}
	wg.Wait()
	return out
}

// startOf reports whether a type error line is "undefined: Start<Func>"
// for an async workflow Func of marked, whose Start bifrostgen writes.
func startOf(line string, marked []Marked) bool {
	_, name, ok := strings.Cut(line, "undefined: Start")
	if !ok {
		return false
	}
	for _, m := range marked {
		if m.Func.Name.Name == name && m.Directive.Mode == workflow.Async {
			return true
		}
	}
	return false
}

// staleGenerated returns the path of a generated file left in a package that
// no longer has workflows, or "".
func staleGenerated(pkg *packages.Package) string {
	for _, f := range pkg.IgnoredFiles {
		if filepath.Base(f) != GeneratedFile {
			continue
		}
		if data, err := os.ReadFile(f); err == nil && bytes.HasPrefix(data, []byte("// "+Header)) {
			return f
		}
	}
	return ""
}

// checkNames reports two workflows with one name anywhere in the run.
func checkNames(pkgs []*Package, diags *Diagnostics) {
	first := map[string]*Workflow{}
	owner := map[*Workflow]*Package{}
	for _, pkg := range pkgs {
		for _, wf := range pkg.Workflows {
			owner[wf] = pkg
			if prev, ok := first[wf.Name]; ok {
				diags.Add(wf.Directive.Pos, "give one of them another name with name=",
					"workflow name %q is already used by %s.%s (%s:%d)", wf.Name, owner[prev].Name, prev.Func, filepath.Base(prev.Pos.Filename), prev.Pos.Line)
				continue
			}
			first[wf.Name] = wf
		}
	}
}

// checkCollisions reports generated names that the package already declares.
func checkCollisions(pkg *Package, taken []string, fset *token.FileSet, diags *Diagnostics) {
	scope := pkg.Types.Scope()
	for _, name := range taken {
		if obj := scope.Lookup(name); obj != nil {
			diags.Add(fset.Position(obj.Pos()), "rename the declaration: bifrostgen generates "+name+" in "+GeneratedFile,
				"%s collides with a name bifrostgen generates", name)
		}
	}
}

// refersToGenerated reports a type error that only says the package uses
// what bifrostgen is about to write: with the generated file left out of
// loading, a main package's runtime.Main(Workflows()...) does not compile,
// nor a webhook that calls the Start function of an async workflow of its
// own package (marked). The go command reports the same as "# pkg" and a
// compile line.
func refersToGenerated(e packages.Error, marked []Marked) bool {
	found := false
	for _, line := range strings.Split(e.Msg, "\n") {
		switch {
		case strings.HasPrefix(line, "# "):
		case strings.HasSuffix(line, "undefined: Workflows"), startOf(line, marked):
			found = true
		default:
			return false
		}
	}
	return found
}
