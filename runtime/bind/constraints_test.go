package bind

import (
	"slices"
	"testing"

	"github.com/bifrost-go/bifrost/workflow"
)

// TestFormatsMatchTheGenerator: the generator accepts a format= tag when
// workflow.Formats names it, and the generated code checks it here, so the
// two lists must be the same.
func TestFormatsMatchTheGenerator(t *testing.T) {
	var here []string
	for name := range Formats {
		here = append(here, name)
	}
	slices.Sort(here)
	if want := slices.Sorted(slices.Values(workflow.Formats)); !slices.Equal(here, want) {
		t.Errorf("bind.Formats = %v, workflow.Formats = %v", here, want)
	}
}
