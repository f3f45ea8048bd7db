package generator

import (
	"cmp"
	"fmt"
	"go/token"
	"slices"
	"strings"
)

// Diagnostic is one problem found in the user's code, at a source position.
type Diagnostic struct {
	Pos     token.Position `json:"-"`
	File    string         `json:"file"`
	Line    int            `json:"line"`
	Column  int            `json:"column"`
	Message string         `json:"message"`
	Hint    string         `json:"hint,omitempty"`
}

// String formats d as "file:line:col: message" with the hint on the next line.
func (d Diagnostic) String() string {
	s := fmt.Sprintf("%s:%d:%d: %s", d.File, d.Line, d.Column, d.Message)
	if d.Hint != "" {
		s += "\n\thint: " + strings.ReplaceAll(d.Hint, "\n", "\n\t")
	}
	return s
}

// Diagnostics collects the problems of one run across all stages.
type Diagnostics []Diagnostic

// Add records a problem at pos.
func (ds *Diagnostics) Add(pos token.Position, hint, format string, args ...any) {
	*ds = append(*ds, Diagnostic{Pos: pos, File: pos.Filename, Line: pos.Line, Column: pos.Column,
		Message: fmt.Sprintf(format, args...), Hint: hint})
}

// Sorted returns the diagnostics ordered by file, line and column.
func (ds Diagnostics) Sorted() Diagnostics {
	out := slices.Clone(ds)
	slices.SortStableFunc(out, func(a, b Diagnostic) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	// A type shared by two workflows is checked for each: say it once.
	return slices.CompactFunc(out, func(a, b Diagnostic) bool { return a == b })
}

// Error makes the diagnostics usable as one error.
func (ds Diagnostics) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds.Sorted() {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}
