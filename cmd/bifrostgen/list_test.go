package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/generator"
	"github.com/bifrost-go/bifrost/workflow"
)

// A scheduled workflow lists its schedule and next run (UTC); others a dash.
func TestListSchedule(t *testing.T) {
	out := &generator.Output{Packages: []*generator.Package{{Name: "jobs", Workflows: []*generator.Workflow{
		{Spec: workflow.Spec{Name: "report", Func: "Report", Mode: workflow.Async, Schedule: "@every 10m"}},
		{Spec: workflow.Spec{Name: "plain", Func: "Plain", Mode: workflow.Sync}},
	}}}}
	rows := listing(out)
	next := time.Now().UTC().Truncate(10 * time.Minute).Add(10 * time.Minute).Format(time.RFC3339)
	if rows[0].Schedule != "@every 10m" || rows[0].NextRun != next || rows[1].Schedule != "" || rows[1].NextRun != "" {
		t.Errorf("rows %+v, want report's next run %s", rows, next)
	}
	var b bytes.Buffer
	if err := printListing(&b, rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if !strings.Contains(lines[0], "SCHEDULE") || !strings.Contains(lines[1], "@every 10m") || !strings.Contains(lines[1], next) {
		t.Errorf("table:\n%s", b.String())
	}
}
