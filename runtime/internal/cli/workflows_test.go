package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/workflow"
)

// A scheduled workflow lists its schedule and its next run, in UTC; the
// others a dash (text) or nothing (JSON).
func TestWorkflowListingSchedule(t *testing.T) {
	specs := []*workflow.Spec{
		{Name: "report", Func: "Report", Schedule: "@every 10m"},
		{Name: "plain", Func: "Plain"},
	}
	var text, js bytes.Buffer
	if err := workflowListing(specs).print(&text, "text"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(text.String()), "\n")
	next := time.Now().UTC().Truncate(10 * time.Minute).Add(10 * time.Minute).Format(time.RFC3339)
	if !strings.Contains(lines[2], "@every 10m") || !strings.Contains(lines[2], next) {
		t.Errorf("the scheduled row %q, want @every 10m and %s", lines[2], next)
	}
	if err := workflowListing(specs).print(&js, "json"); err != nil {
		t.Fatal(err)
	}
	var items []map[string]any
	if err := json.Unmarshal(js.Bytes(), &items); err != nil {
		t.Fatal(err)
	}
	if items[1]["schedule"] != "@every 10m" || items[1]["next_run"] != next || items[0]["next_run"] != nil {
		t.Errorf("JSON: %v", items)
	}
}
