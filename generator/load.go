package generator

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"

	"golang.org/x/tools/go/packages"
)

// BuildTag excludes generated files while loading, so a stale or broken
// bifrost_gen.go never stops a regeneration.
const BuildTag = "bifrostgen"

// GeneratedFile is the name of the file written into each package.
const GeneratedFile = "bifrost_gen.go"

// load type-checks the packages matched by patterns, relative to dir: their
// syntax and types, with dependencies from export data. No types.Info is
// asked for (the generator finds what it needs in the package scope): it
// records every identifier and expression and was a fifth of the memory
// generate peaks at (issue #14).
func load(dir string, patterns []string) ([]*packages.Package, *token.FileSet, error) {
	fset := token.NewFileSet()
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax |
			packages.NeedTypes | packages.NeedModule,
		Dir:        dir,
		Fset:       fset,
		BuildFlags: []string{"-tags=" + BuildTag},
		Tests:      false,
		ParseFile: func(fset *token.FileSet, filename string, src []byte) (*ast.File, error) {
			return parser.ParseFile(fset, filename, src, parser.AllErrors|parser.ParseComments|parser.SkipObjectResolution)
		},
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, nil, fmt.Errorf("load %s: %w", strings.Join(patterns, " "), err)
	}
	return pkgs, fset, nil
}

// packageErrors turns a package's load and type errors into diagnostics.
// They are reported only for packages that hold workflows: elsewhere (a main
// package calling a Workflows() that the build tag hides) they are expected.
// The go command's own compile output repeats the type errors without a
// position, and one syntax error makes the parser report several: each
// problem is reported once.
func packageErrors(pkg *packages.Package, diags *Diagnostics) {
	const hint = "fix the package so that it compiles, then run bifrostgen again"
	positioned := false
	for _, e := range pkg.Errors {
		if parsePos(e.Pos).Line > 0 {
			positioned = true
		}
	}
	parseErrorIn := map[string]bool{}
	for _, e := range pkg.Errors {
		pos := parsePos(e.Pos)
		switch {
		case pos.Line == 0 && positioned:
			continue
		case e.Kind == packages.ParseError && parseErrorIn[pos.Filename]:
			continue
		case e.Kind == packages.ParseError:
			parseErrorIn[pos.Filename] = true
		}
		if pos.Filename == "" || pos.Filename == "-" {
			pos.Filename = pkg.PkgPath
		}
		diags.Add(pos, hint, "%s", e.Msg)
	}
}

// parsePos reads "file:line:col" as packages.Error gives it.
func parsePos(s string) token.Position {
	var pos token.Position
	parts := strings.Split(s, ":")
	if len(parts) >= 3 {
		pos.Filename = strings.Join(parts[:len(parts)-2], ":")
		pos.Line, _ = strconv.Atoi(parts[len(parts)-2])
		pos.Column, _ = strconv.Atoi(parts[len(parts)-1])
	} else if len(parts) == 2 {
		pos.Filename = parts[0]
		pos.Line, _ = strconv.Atoi(parts[1])
	} else {
		pos.Filename = s
	}
	return pos
}
