package quickstart_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a goroutine outlives its tests: a server,
// store, worker, key writer or HTTP connection left running (issue 12).
// Nothing is ignored: database/sql's connectionOpener ends with Store.Close,
// the async workers and the key writer with Server.Shutdown, the servers'
// connections with httptest.Server.Close, and goleak retries while the
// client side of closed connections winds down. An ignore added here must
// name the goroutine's function and say why it may outlive the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
