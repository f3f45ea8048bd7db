package generator

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
)

// docIndex finds the doc comments of named types and struct fields, which
// become descriptions in the OpenAPI schemas. go/types keeps positions but
// not comments, and types from packages other than the ones generated come
// from export data without syntax: the index parses the source file a
// declaration is in (once per run), so a type is described the same
// whichever package is being generated.
type docIndex struct {
	files map[string]map[docKey]string // by file name
}

type docKey struct {
	line int
	name string
}

func newDocIndex() *docIndex { return &docIndex{files: map[string]map[docKey]string{}} }

// lookup returns the doc comment of the type or field called name declared
// at pos, or "".
func (d *docIndex) lookup(pos token.Position, name string) string {
	if d == nil || pos.Filename == "" || pos.Line == 0 {
		return ""
	}
	docs, ok := d.files[pos.Filename]
	if !ok {
		docs = indexFile(pos.Filename)
		d.files[pos.Filename] = docs
	}
	return docs[docKey{pos.Line, name}]
}

// indexFile collects the doc comments of a file's type declarations and
// struct fields (the line comment when a field has no doc comment).
func indexFile(filename string) map[docKey]string {
	out := map[docKey]string{}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filename, nil, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil && f == nil {
		return out
	}
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
