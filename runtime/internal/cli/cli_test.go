package cli

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestEveryCommandHasExamples: each command a user runs shows how, with
// the binary's own name.
func TestEveryCommandHasExamples(t *testing.T) {
	root := newRoot("shop", nil)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		runnable := c.Runnable() && c != root && c.Name() != "help" && !strings.HasPrefix(c.CommandPath(), "shop completion")
		if runnable && !strings.Contains(c.Example, c.CommandPath()) {
			t.Errorf("%s: no example running it as shop:\n%s", c.CommandPath(), c.Example)
		}
		if strings.Contains(c.Example, "app ") {
			t.Errorf("%s: example still says app:\n%s", c.CommandPath(), c.Example)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
