package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/runtime/store"
)

func checkConfig(t *testing.T, what string, got, want *store.ConfigValue) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: nil, want %+v", what, want)
		return
	}
	if got.Name != want.Name || got.Value != want.Value || got.Secret != want.Secret || got.KeyID != want.KeyID {
		t.Errorf("%s = %q %q secret=%v key %q, want %q %q secret=%v key %q", what,
			got.Name, got.Value, got.Secret, got.KeyID, want.Name, want.Value, want.Secret, want.KeyID)
	}
	if d := timeDiff(got.UpdatedAt, want.UpdatedAt); d != "" {
		t.Errorf("%s: updated_at: %s", what, d)
	}
}

func (h *harness) setConfig(c *store.ConfigValue) {
	h.t.Helper()
	if err := h.s.SetConfig(h.ctx, c); err != nil {
		h.t.Fatalf("SetConfig(%s): %v", c.Name, err)
	}
}

func testConfig(t *testing.T, newH func(*testing.T) *harness) {
	runTests(t, newH,
		test{"set_get_round_trip", configSetGetRoundTrip},
		test{"set_replaces_every_field", configSetReplacesEveryField},
		test{"get_unknown_is_not_found", configGetUnknownIsNotFound},
		test{"list_by_name", configListByName},
		test{"delete", configDelete},
		test{"updated_at_keeps_microseconds", configUpdatedAtKeepsMicroseconds},
	)
}

func configSetGetRoundTrip(t *testing.T, h *harness) {
	for _, c := range []*store.ConfigValue{
		{Name: "greeting", Value: "hello", UpdatedAt: at(0)},
		{Name: "api_token", Value: "c2VhbGVk", Secret: true, KeyID: "k1", UpdatedAt: at(1)},
		{Name: "empty", Value: "", UpdatedAt: at(2)},
		{Name: "quotes", Value: "it's \"quoted\" and ünïcode\nwith a newline", UpdatedAt: at(3)},
	} {
		h.setConfig(c)
		got, err := h.s.GetConfig(h.ctx, c.Name)
		if err != nil {
			t.Fatalf("GetConfig(%s): %v", c.Name, err)
		}
		checkConfig(t, "GetConfig("+c.Name+")", got, c)
	}
}

func configSetReplacesEveryField(t *testing.T, h *harness) {
	h.setConfig(&store.ConfigValue{Name: "token", Value: "sealed", Secret: true, KeyID: "k1", UpdatedAt: at(0)})
	plain := &store.ConfigValue{Name: "token", Value: "plain now", UpdatedAt: at(5)}
	h.setConfig(plain)
	got, err := h.s.GetConfig(h.ctx, "token")
	if err != nil {
		t.Fatal(err)
	}
	checkConfig(t, "GetConfig after a second SetConfig", got, plain)
}

func configGetUnknownIsNotFound(t *testing.T, h *harness) {
	h.setConfig(&store.ConfigValue{Name: "known", Value: "v", UpdatedAt: at(0)})
	for _, name := range []string{"unknown", "KNOWN", "known ", ""} {
		c, err := h.s.GetConfig(h.ctx, name)
		wantNotFound(t, fmt.Sprintf("GetConfig(%q)", name), err)
		if c != nil {
			t.Errorf("GetConfig(%q) = %+v, want nil", name, c)
		}
	}
}

func configListByName(t *testing.T, h *harness) {
	if list, err := h.s.ListConfig(h.ctx); err != nil || len(list) != 0 {
		t.Fatalf("ListConfig of an empty store = %v, %v", list, err)
	}
	want := []*store.ConfigValue{
		{Name: "a", Value: "1", UpdatedAt: at(3)},
		{Name: "b", Value: "c2VhbGVk", Secret: true, KeyID: "k2", UpdatedAt: at(1)},
		{Name: "c", Value: "3", UpdatedAt: at(2)},
	}
	for _, i := range []int{2, 0, 1} {
		h.setConfig(want[i])
	}
	got, err := h.s.ListConfig(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("ListConfig returned %d values, want %d", len(got), len(want))
	}
	for i := range want {
		checkConfig(t, fmt.Sprintf("ListConfig[%d]", i), got[i], want[i])
	}
}

func configDelete(t *testing.T, h *harness) {
	keep := &store.ConfigValue{Name: "keep", Value: "k", UpdatedAt: at(0)}
	h.setConfig(keep)
	h.setConfig(&store.ConfigValue{Name: "gone", Value: "g", UpdatedAt: at(0)})
	if err := h.s.DeleteConfig(h.ctx, "gone"); err != nil {
		t.Fatalf("DeleteConfig: %v", err)
	}
	_, err := h.s.GetConfig(h.ctx, "gone")
	wantNotFound(t, "GetConfig after DeleteConfig", err)
	wantNotFound(t, "DeleteConfig twice", h.s.DeleteConfig(h.ctx, "gone"))
	wantNotFound(t, "DeleteConfig of an unknown name", h.s.DeleteConfig(h.ctx, "unknown"))
	list, err := h.s.ListConfig(h.ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("ListConfig after DeleteConfig = %v, %v; want only keep", list, err)
	}
	checkConfig(t, "the value left", list[0], keep)
}

func configUpdatedAtKeepsMicroseconds(t *testing.T, h *harness) {
	when := time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.FixedZone("x", 3600))
	h.setConfig(&store.ConfigValue{Name: "n", Value: "v", UpdatedAt: when})
	got, err := h.s.GetConfig(h.ctx, "n")
	if err != nil {
		t.Fatal(err)
	}
	if want := when.UTC().Truncate(time.Microsecond); !got.UpdatedAt.Equal(want) || got.UpdatedAt.Location() != time.UTC {
		t.Errorf("updated_at = %v, want %v in UTC", got.UpdatedAt, want)
	}
}
