package generator

import (
	"bytes"
	"cmp"
	goformat "go/format"
	"slices"
	"strconv"
	"strings"
)

// format gofmts a file that jennifer rendered without formatting, its
// imports grouped as goimports groups them (standard library first), so the
// file reads like one a person wrote. It is one parse and one print of the
// file: goimports itself (imports.Process) prints the file, then formats
// that again, and formatting is most of what generate costs (issue #14).
func format(src []byte) ([]byte, error) {
	return goformat.Source(groupImports(src))
}

// groupImports splits the import block jennifer renders (one block, sorted
// by path) into goimports' groups, a blank line between two.
func groupImports(src []byte) []byte {
	const open = "\nimport (\n"
	start := bytes.Index(src, []byte(open))
	if start < 0 {
		return src // no import, or a single one
	}
	start += len(open)
	n := bytes.Index(src[start:], []byte("\n)\n"))
	if n < 0 {
		return src
	}
	lines := strings.Split(string(src[start:start+n]), "\n")
	// Stable: within a group the lines keep jennifer's order, by path.
	slices.SortStableFunc(lines, func(a, b string) int { return cmp.Compare(importGroup(a), importGroup(b)) })
	out := make([]byte, 0, len(src)+len(lines))
	out = append(out, src[:start]...)
	for i, line := range lines {
		if i > 0 && importGroup(line) != importGroup(lines[i-1]) {
			out = append(out, '\n')
		}
		out = append(out, line...)
		out = append(out, '\n')
	}
	return append(out, src[start+n+1:]...)
}

// importGroup is the goimports group of an import line (name "path", or
// "path"), without a local prefix: 0 the standard library, 1 a path whose
// first element has a dot, 2 appengine's.
func importGroup(line string) int {
	path := line
	if i := strings.IndexByte(line, '"'); i >= 0 {
		path = line[i:]
	}
	path, _ = strconv.Unquote(path)
	first, _, _ := strings.Cut(path, "/")
	switch {
	case strings.HasPrefix(path, "appengine"):
		return 2
	case strings.Contains(first, "."):
		return 1
	}
	return 0
}
