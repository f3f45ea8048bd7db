package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// Helpers for the drivers' own tests, beside the suite.

// RecordOne records a finished sync execution in s and returns its id: a
// row that proves the store can be written, and can be found again.
func RecordOne(t testing.TB, s store.Store) string {
	t.Helper()
	now := time.Now()
	e := &store.Execution{
		ID: uuid.Must(uuid.NewV7()).String(), Workflow: "orders", Mode: "sync", Status: store.Succeeded, Attempt: 1,
		Input: json.RawMessage(`{}`), Result: json.RawMessage(`1`), CreatedAt: now, StartedAt: now, FinishedAt: now,
	}
	if err := s.Record(t.Context(), []*store.Execution{e}); err != nil {
		t.Fatalf("Record: %v", err)
	}
	return e.ID
}

// WantEnded waits up to 5 seconds for ListenEnded to pass on the end of
// execution id, and fails the test if another one comes or none does.
func WantEnded(t testing.TB, ended <-chan string, id string) {
	t.Helper()
	select {
	case got := <-ended:
		if got != id {
			t.Errorf("notified %s, want %s", got, id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notification within 5s of the end")
	}
}
