package dashboard_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a goroutine outlives its tests: the
// server, its store, or the browser's connection.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
