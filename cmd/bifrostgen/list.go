package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bifrost-go/bifrost/generator"
	"github.com/bifrost-go/bifrost/internal/schedule"
)

func listCommand(f *flags) *cobra.Command {
	return &cobra.Command{
		Use:   "list [packages]",
		Short: "Print the workflows and every option they were given",
		Example: `  bifrostgen list ./...
  bifrostgen list --format json ./... | jq '.[] | select(.public)'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := f.formatIn("text", "text", "json")
			if err != nil {
				return exitError{2}.with(f.stderr, err)
			}
			out, err := f.generate(args, 1)
			if err != nil {
				return err
			}
			rows := listing(out)
			if format == "json" {
				enc := json.NewEncoder(f.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			return printListing(f.stdout, rows)
		},
	}
}

// listed is one workflow as list prints it.
type listed struct {
	Name             string   `json:"name"`
	Func             string   `json:"func"` // package.Func
	Position         string   `json:"position"`
	Endpoint         bool     `json:"endpoint"`
	Methods          []string `json:"methods,omitempty"`
	Public           bool     `json:"public"`
	DisableGlobalKey bool     `json:"disable_global_key"`
	Mode             string   `json:"mode"`
	Timeout          string   `json:"timeout"`
	Retries          int      `json:"retries"`
	Verify           string   `json:"verify,omitempty"` // scheme and secret key
	Rate             string   `json:"rate,omitempty"`   // N/s, N/m or N/h
	Tags             []string `json:"tags,omitempty"`
	Schedule         string   `json:"schedule,omitempty"`
	NextRun          string   `json:"next_run,omitempty"` // RFC 3339, UTC
}

func listing(out *generator.Output) []listed {
	var rows []listed
	for _, pkg := range out.Packages {
		for _, wf := range pkg.Workflows {
			row := listed{
				Name: wf.Name, Func: pkg.Name + "." + wf.Func,
				Position: fmt.Sprintf("%s:%d", relative(wf.Pos.Filename), wf.Pos.Line),
				Endpoint: wf.Endpoint, Methods: wf.Methods, Public: wf.Public, DisableGlobalKey: wf.DisableGlobalKey,
				Mode: string(wf.Mode), Timeout: wf.Timeout.String(), Retries: wf.Retries, Tags: wf.Tags,
			}
			if v := wf.Verify; v != nil {
				row.Verify = v.Kind + " secret=" + v.Secret
			}
			if wf.Schedule != "" {
				// The generator parsed it already: a bad one is a diagnostic.
				s, _ := schedule.Parse(wf.Schedule)
				row.Schedule, row.NextRun = wf.Schedule, s.Next(time.Now()).Format(time.RFC3339)
			}
			if r := wf.Rate; r != nil {
				row.Rate = fmt.Sprintf("%d/%s", r.N, map[string]string{"1s": "s", "1m0s": "m", "1h0m0s": "h"}[r.Per.String()])
			}
			rows = append(rows, row)
		}
	}
	return rows
}

func printListing(w io.Writer, rows []listed) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tMETHODS\tMODE\tACCESS\tVERIFY\tRATE\tSCHEDULE\tNEXT RUN\tFUNC\tPOSITION")
	for _, r := range rows {
		methods, access := "-", "-"
		if r.Endpoint {
			methods = strings.Join(r.Methods, ",")
			switch {
			case r.Public:
				access = "public"
			case r.DisableGlobalKey:
				access = "workflow key"
			default:
				access = "key"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, methods, r.Mode, access,
			dash(r.Verify), dash(r.Rate), dash(r.Schedule), dash(r.NextRun), r.Func, r.Position)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
