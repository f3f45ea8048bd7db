package cli

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bifrost-go/bifrost/internal/schedule"
	"github.com/bifrost-go/bifrost/openapi"
	"github.com/bifrost-go/bifrost/workflow"
)

// endpointPrefix is where the server routes endpoint workflows.
const endpointPrefix = "/api/endpoints/"

func workflowsCommand(app App) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use: "workflows",
		Example: `  app workflows
  app workflows --format json | jq '.[] | select(.public)'`,
		Short: "List the workflows of this binary and every option they were given",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := app.Check(); err != nil {
				return err
			}
			return workflowListing(app.Specs()).print(cmd.OutOrStdout(), format)
		},
	}
	formatFlag(cmd, &format)
	return cmd
}

// workflowListing lists the workflows by name with every option.
func workflowListing(specs []*workflow.Spec) *listing {
	sorted := slices.Clone(specs)
	slices.SortFunc(sorted, func(a, b *workflow.Spec) int { return strings.Compare(a.Name, b.Name) })
	l := &listing{header: []string{"NAME", "METHODS", "MODE", "ACCESS", "VERIFY", "RATE", "TIMEOUT", "SCHEDULE", "NEXT RUN", "ENDPOINT", "FUNC"}}
	now := time.Now()
	for _, wf := range sorted {
		methods, endpoint, access := "-", "-", "-"
		if wf.Endpoint {
			methods, endpoint, access = strings.Join(wf.Methods, ","), endpointPrefix+wf.Name, "key"
			switch {
			case wf.Public:
				access = "public"
			case wf.DisableGlobalKey:
				access = "workflow key"
			}
		}
		verify, rate := "-", "-"
		if v := wf.Verify; v != nil {
			verify = v.Kind + " secret=" + v.Secret
		}
		if r := wf.Rate; r != nil {
			rate = fmt.Sprintf("%d/%s", r.N, perUnit(r.Per))
		}
		fn := wf.Func
		if wf.Package != "" {
			fn = wf.Package + "." + wf.Func
		}
		mode := cmp.Or(wf.Mode, workflow.Sync)
		sched, next := cmp.Or(wf.Schedule, "-"), nextRun(wf.Schedule, now)
		item := map[string]any{"name": wf.Name, "endpoint": wf.Endpoint, "methods": wf.Methods, "public": wf.Public,
			"disable_global_key": wf.DisableGlobalKey, "mode": mode, "timeout": wf.Timeout.String(), "retries": wf.Retries,
			"verify": nilIfDash(verify), "rate": nilIfDash(rate), "tags": wf.Tags, "func": fn,
			"schedule": nilIfDash(sched), "next_run": nilIfDash(next)}
		l.add(item, wf.Name, methods, string(mode), access, verify, rate, wf.Timeout.String(), sched, next, endpoint, fn)
	}
	return l
}

func openAPICommand(app App) *cobra.Command {
	var version, format string
	cmd := &cobra.Command{
		Use: "openapi",
		Example: `  app openapi > openapi.json
  app openapi --format yaml --openapi-version 3.0`,
		Short: "Print the OpenAPI document this binary serves at /api/openapi.json",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := openapi.ParseVersion(version)
			if err != nil {
				return usageError{err}
			}
			f, err := openapi.ParseFormat(format)
			if err != nil {
				return usageError{err}
			}
			doc, err := app.OpenAPI(v, f)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(doc)
			return err
		},
	}
	cmd.Flags().StringVar(&version, "openapi-version", "3.1", "3.1 or 3.0")
	cmd.Flags().StringVar(&format, "format", "json", "json or yaml")
	return cmd
}

// nextRun is when schedule next fires after now, in UTC, or "-" without
// one (or with one the runtime refuses at start).
func nextRun(expr string, now time.Time) string {
	if expr == "" {
		return "-"
	}
	s, err := schedule.Parse(expr)
	if err != nil {
		return "-"
	}
	return s.Next(now).Format(time.RFC3339)
}

func nilIfDash(s string) any {
	if s == "-" {
		return nil
	}
	return s
}

// perUnit writes the period of rate= as the directive does: s, m or h.
func perUnit(d time.Duration) string {
	switch d {
	case time.Second:
		return "s"
	case time.Minute:
		return "m"
	case time.Hour:
		return "h"
	}
	return d.String()
}
