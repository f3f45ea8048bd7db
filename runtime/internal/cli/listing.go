package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// A listing is what a list command prints: a table for people, or with
// --format json the same rows as JSON objects for scripts.
type listing struct {
	header []string         // column titles, upper case
	rows   [][]string       // one cell per column
	items  []map[string]any // the rows as JSON, keys in snake_case
	next   string           // the cursor of the next page, if any
	paged  bool             // a page of a longer list: JSON is {"items", "next_cursor"} on every page
}

// add appends a row: its cells for the table and its object for JSON.
func (l *listing) add(item map[string]any, cells ...string) {
	l.rows = append(l.rows, cells)
	l.items = append(l.items, item)
}

// formatFlag adds --format to a list command.
func formatFlag(cmd *cobra.Command, format *string) {
	cmd.Flags().StringVar(format, "format", "text", "text (a table) or json (for scripts)")
}

// print writes the listing in format: text or json.
func (l *listing) print(out io.Writer, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if l.items == nil {
			l.items = []map[string]any{}
		}
		if l.paged {
			return enc.Encode(map[string]any{"items": l.items, "next_cursor": l.next})
		}
		return enc.Encode(l.items)
	case "text", "":
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(l.header, "\t"))
		for _, r := range l.rows {
			fmt.Fprintln(tw, strings.Join(r, "\t"))
		}
		if l.next != "" {
			fmt.Fprintf(tw, "next page: --cursor %s\n", l.next)
		}
		return tw.Flush()
	}
	return usageError{fmt.Errorf("--format %q: expected text or json", format)}
}
