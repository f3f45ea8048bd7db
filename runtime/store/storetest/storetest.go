// Package storetest is the behaviour every store.Store must show: the SQLite
// and PostgreSQL stores both run this suite, so they cannot drift apart.
//
// A test file of an implementation calls Run with its Driver: a function
// that opens a new, empty, migrated store, and whether processes share the
// database:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, storetest.Driver{Open: func(t *testing.T) (store.Store, *sql.DB) { ... }})
//	}
//
// Every method of store.Store is covered: the records (executions.go), keys and
// configuration (keys.go, config.go), and the capabilities the runtime asks
// of the database (capabilities.go).
package storetest

import (
	"database/sql"
	"testing"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// Driver is a store implementation under test.
type Driver struct {
	// Open returns a new, empty, migrated store (the suite closes it) and
	// its database, where the suite's fake queue keeps its table.
	Open func(t *testing.T) (store.Store, *sql.DB)
	// Shared says several processes share the database (PostgreSQL):
	// RecoverOrphans is then a no-op and worker liveness is kept. Otherwise
	// one process owns it (SQLite): RecoverOrphans hands back everything
	// running, and liveness is a no-op.
	Shared bool
}

// Run runs the suite against stores made by d.Open.
func Run(t *testing.T, d Driver) {
	t.Helper()
	h := func(t *testing.T) *harness { return newHarness(t, d) }
	t.Run("Accept", func(t *testing.T) { t.Parallel(); testAccept(t, h) })
	t.Run("Concurrency", func(t *testing.T) { t.Parallel(); testConcurrency(t, h) })
	t.Run("Record", func(t *testing.T) { t.Parallel(); testRecord(t, h) })
	t.Run("Start", func(t *testing.T) { t.Parallel(); testStart(t, h) })
	t.Run("Finish", func(t *testing.T) { t.Parallel(); testFinish(t, h) })
	t.Run("Cancel", func(t *testing.T) { t.Parallel(); testCancel(t, h) })
	t.Run("Get", func(t *testing.T) { t.Parallel(); testGet(t, h) })
	t.Run("List", func(t *testing.T) { t.Parallel(); testList(t, h) })
	t.Run("Keys", func(t *testing.T) { t.Parallel(); testKeys(t, h) })
	t.Run("Config", func(t *testing.T) { t.Parallel(); testConfig(t, h) })
	t.Run("Ping", func(t *testing.T) { t.Parallel(); testPing(t, h) })
	t.Run("PendingMigrations", func(t *testing.T) { testPendingMigrations(t, h) })
	t.Run("Queue", func(t *testing.T) { t.Parallel(); testQueue(t, h) })
	t.Run("RecoverOrphans", func(t *testing.T) { t.Parallel(); testRecoverOrphans(t, h) })
	t.Run("ListenEnded", func(t *testing.T) { t.Parallel(); testListenEnded(t, h) })
	t.Run("Liveness", func(t *testing.T) { t.Parallel(); testLiveness(t, h) })
	t.Run("Retention", func(t *testing.T) { t.Parallel(); testRetention(t, h) })
	t.Run("Steps", func(t *testing.T) { t.Parallel(); testSteps(t, h) })
	t.Run("Stats", func(t *testing.T) { t.Parallel(); testStats(t, h) })
}

// A test is one scenario of the suite.
type test struct {
	name string
	run  func(t *testing.T, h *harness)
}

// runTests runs each test as a parallel sub-test on a new, empty store of
// its own.
func runTests(t *testing.T, newH func(*testing.T) *harness, tests ...test) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newH(t))
		})
	}
}

// runCases runs check once per case, each as a parallel sub-test (named by
// name) on a new, empty store of its own, under the parallel sub-test group.
func runCases[C any](t *testing.T, newH func(*testing.T) *harness, group string, cases []C, name func(C) string, check func(t *testing.T, h *harness, c C)) {
	t.Helper()
	t.Run(group, func(t *testing.T) {
		t.Parallel()
		for _, c := range cases {
			t.Run(name(c), func(t *testing.T) {
				t.Parallel()
				check(t, newH(t), c)
			})
		}
	})
}

// statusName names a case by its status.
func statusName(s store.Status) string { return string(s) }
