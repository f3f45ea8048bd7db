package generator

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"

	"golang.org/x/tools/go/packages"
)

// docIndex finds the doc comments of named types and struct fields, which
// become descriptions in the OpenAPI schemas. go/types keeps positions but
// not comments, and types from packages other than the ones generated come
// from export data without syntax: the index reads the syntax of the file a
// declaration is in (once per run), the loaded one when there is one, else
// parsing the file, so a type is described the same whichever package is
// being generated.
type docIndex struct {
	files  map[string]map[docKey]string // by file name
	fset   *token.FileSet
	syntax map[string]*ast.File // the loaded files, by name
}

type docKey struct {
	line int
	name string
}

// newDocIndex makes an index that reads the files of pkgs, loaded in fset,
// without parsing them again: parsing them was half of what analysis cost
// (issue #14).
func newDocIndex(fset *token.FileSet, pkgs []*packages.Package) *docIndex {
	d := &docIndex{files: map[string]map[docKey]string{}, fset: fset, syntax: map[string]*ast.File{}}
	for _, pkg := range pkgs {
		for _, f := range pkg.Syntax {
			d.syntax[fset.File(f.FileStart).Name()] = f
		}
	}
	return d
}

// lookup returns the doc comment of the type or field called name declared
// at pos, or "".
func (d *docIndex) lookup(pos token.Position, name string) string {
	if d == nil || pos.Filename == "" || pos.Line == 0 {
		return ""
	}
	docs, ok := d.files[pos.Filename]
	if !ok {
		if f := d.syntax[pos.Filename]; f != nil {
			docs = indexFile(d.fset, f)
		} else {
			docs = parseAndIndex(pos.Filename)
		}
		d.files[pos.Filename] = docs
	}
	return docs[docKey{pos.Line, name}]
}

// parseAndIndex indexes a file that was not loaded with syntax.
func parseAndIndex(filename string) map[docKey]string {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filename, nil, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil && f == nil {
		return map[docKey]string{}
	}
	return indexFile(fset, f)
}

// indexFile collects the doc comments of a file's type declarations and
// struct fields (the line comment when a field has no doc comment).
func indexFile(fset *token.FileSet, f *ast.File) map[docKey]string {
	out := map[docKey]string{}
	add := func(id *ast.Ident, groups ...*ast.CommentGroup) {
		for _, g := range groups {
			if text := strings.TrimSpace(g.Text()); g != nil && text != "" {
				out[docKey{fset.Position(id.Pos()).Line, id.Name}] = text
				return
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GenDecl:
			if n.Tok != token.TYPE {
				return true
			}
			for _, spec := range n.Specs {
				ts := spec.(*ast.TypeSpec)
				if len(n.Specs) == 1 {
					add(ts.Name, ts.Doc, n.Doc)
				} else {
					add(ts.Name, ts.Doc)
				}
			}
		case *ast.StructType:
			for _, field := range n.Fields.List {
				for _, name := range field.Names {
					add(name, field.Doc, field.Comment)
				}
			}
		}
		return true
	})
	return out
}

// deprecated reports whether a doc comment has a paragraph starting
// "Deprecated:", the Go convention.
func deprecated(doc string) bool {
	for _, para := range strings.Split(doc, "\n\n") {
		if strings.HasPrefix(strings.TrimSpace(para), "Deprecated:") {
			return true
		}
	}
	return false
}
