package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// The dashboard's list filters: the replays of one execution, and bounds
// on the creation time (read from the UUIDv7 ids).

func listReplaysOfOneExecution(t *testing.T, h *harness) {
	original := syncExec("orders", store.Succeeded, at(0))
	other := syncExec("orders", store.Succeeded, at(1))
	var replays []*store.Execution
	for i := range 3 {
		r := syncExec("orders", store.Succeeded, at(2+i))
		r.Trigger, r.ReplayOf = store.TriggerReplay, original.ID
		replays = append(replays, r)
	}
	stray := syncExec("orders", store.Succeeded, at(9))
	stray.Trigger, stray.ReplayOf = store.TriggerReplay, other.ID
	h.record(append([]*store.Execution{original, other, stray}, replays...)...)

	page, next := listPage(t, h, store.Filter{ReplayOf: original.ID})
	want := []string{replays[2].ID, replays[1].ID, replays[0].ID}
	if got := ids(page); !slices.Equal(got, want) || next != "" {
		t.Errorf("List(ReplayOf) = %v next %q, want %v", got, next, want)
	}
	if page, _ := listPage(t, h, store.Filter{ReplayOf: replays[0].ID}); len(page) != 0 {
		t.Errorf("List(ReplayOf a replay with none) = %v, want none", ids(page))
	}
}

// idAt is a UUIDv7 made at t, as the runtime makes ids.
func idAt(t time.Time) string {
	u := uuid.Must(uuid.NewV7())
	ms := uint64(t.UnixMilli())
	for i := range 6 {
		u[i] = byte(ms >> (40 - 8*i))
	}
	return u.String()
}

func listTimeBounds(t *testing.T, h *harness) {
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	var all []*store.Execution
	for i := range 10 {
		e := syncExec("orders", store.Succeeded, start.Add(time.Duration(i)*time.Minute))
		e.ID = idAt(e.CreatedAt)
		all = append(all, e)
	}
	h.record(all...)
	minute := func(i int) time.Time { return start.Add(time.Duration(i) * time.Minute) }
	for _, tc := range []struct {
		name     string
		f        store.Filter
		from, to int // the executions selected: all[from:to]
	}{
		{"after", store.Filter{After: minute(7)}, 7, 10},
		{"before", store.Filter{Before: minute(3)}, 0, 3},
		{"between", store.Filter{After: minute(2), Before: minute(5)}, 2, 5},
		{"between_paged", store.Filter{After: minute(2), Before: minute(5), Limit: 2}, 3, 5},
		{"empty", store.Filter{After: minute(5), Before: minute(5)}, 0, 0},
	} {
		page, _ := listPage(t, h, tc.f)
		var want []string
		for _, e := range slices.Backward(all[tc.from:tc.to]) {
			want = append(want, e.ID)
		}
		if got := ids(page); !slices.Equal(got, want) {
			t.Errorf("%s: List(%+v) = %v, want %v", tc.name, tc.f, got, want)
		}
	}
}
