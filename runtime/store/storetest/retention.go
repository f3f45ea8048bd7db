package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// testRetention: Prune deletes ended executions older than the cut, in
// batches, of one workflow or of all but some; never a pending or running
// one; CountPending counts the pending by workflow, CountActive the
// pending and the running. Workflow names are the test's own: other tests
// may share the database.
func testRetention(t *testing.T, h func(t *testing.T) *harness) {
	s := h(t)
	ctx := context.Background()
	old, recent := time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour)
	var oldIDs []string
	for i := range 5 {
		e := syncExec("ret_a", store.Succeeded, old.Add(time.Duration(i)*time.Second))
		oldIDs = append(oldIDs, e.ID)
		s.record(e)
	}
	keptRecent := syncExec("ret_a", store.Failed, recent)
	otherOld := syncExec("ret_b", store.Succeeded, old)
	keptOwnWindow := syncExec("ret_c", store.Succeeded, old)
	s.record(keptRecent, otherOld, keptOwnWindow)
	pending := async("ret_a", "", "")
	pending.CreatedAt = old
	s.accept(pending)
	running := async("ret_a", "", "")
	running.CreatedAt = old
	s.accept(running)
	s.start(running.ID, 1, old)

	cut := time.Now().Add(-24 * time.Hour)
	if n, err := s.s.Prune(ctx, store.PruneFilter{Before: cut, Workflow: "ret_a", Limit: 2}); err != nil || n != 2 {
		t.Fatalf("Prune ret_a, limit 2: %d, %v; want 2 (a batch)", n, err)
	}
	if n, err := s.s.Prune(ctx, store.PruneFilter{Before: cut, Workflow: "ret_a"}); err != nil || n != 3 {
		t.Fatalf("Prune ret_a again: %d, %v; want the 3 left", n, err)
	}
	for _, id := range oldIDs {
		if _, err := s.s.Get(ctx, id); err != store.ErrNotFound {
			t.Errorf("pruned %s: Get = %v, want ErrNotFound", id, err)
		}
	}
	for _, e := range []*store.Execution{keptRecent, pending, running, otherOld, keptOwnWindow} {
		if _, err := s.s.Get(ctx, e.ID); err != nil {
			t.Errorf("%s (%s, %s) was pruned: %v", e.ID, e.Workflow, e.Status, err)
		}
	}
	if _, err := s.s.Prune(ctx, store.PruneFilter{Before: cut, Except: []string{"ret_a", "ret_c"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.s.Get(ctx, otherOld.ID); err != store.ErrNotFound {
		t.Errorf("the other workflow's old execution: %v, want pruned", err)
	}
	if _, err := s.s.Get(ctx, keptOwnWindow.ID); err != nil {
		t.Errorf("an excepted workflow's execution was pruned: %v", err)
	}

	_, by, err := s.s.CountPending(ctx)
	if err != nil || by["ret_a"] != 1 || by["ret_c"] != 0 {
		t.Fatalf("CountPending: %v %v; want ret_a: 1", by, err)
	}
	if pending, running, err := s.s.CountActive(ctx); err != nil || pending != 1 || running != 1 {
		t.Fatalf("CountActive: %d pending, %d running, %v; want 1 and 1", pending, running, err)
	}
}
