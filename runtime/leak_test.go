package runtime

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a goroutine outlives its tests: a server,
// an engine, a retention loop, a key writer, a store or a connection left
// running. Nothing is ignored; an ignore added here must name the
// goroutine's function and say why it may outlive the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
