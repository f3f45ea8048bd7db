package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestObjectWalk(t *testing.T) {
	raw := []byte(` { "name" : "a\"b", "items": [1, {"x": "]"}], "n\u0061me2": null, "deep": {"a": {"b": [ ]}} } `)
	var keys []string
	var values []string
	for it := Members(raw); it.Next(); {
		keys = append(keys, string(it.Key()))
		values = append(values, string(it.Value()))
	}
	wantKeys := []string{"name", "items", `n\u0061me2`, "deep"}
	wantValues := []string{`"a\"b"`, `[1, {"x": "]"}]`, "null", `{"a": {"b": [ ]}}`}
	if len(keys) != len(wantKeys) {
		t.Fatalf("keys = %q, want %q", keys, wantKeys)
	}
	for i := range keys {
		if keys[i] != wantKeys[i] || values[i] != wantValues[i] {
			t.Errorf("member %d = %q: %q, want %q: %q", i, keys[i], values[i], wantKeys[i], wantValues[i])
		}
	}
}

func TestKeyIsFoldsLikeEncodingJSON(t *testing.T) {
	it := Members([]byte(`{"NAME": 1, "n\u0061me": 2, "other": 3}`))
	var matched int
	for it.Next() {
		if it.KeyIs("name") {
			matched++
		}
	}
	if matched != 2 {
		t.Fatalf("matched %d keys, want 2", matched)
	}
}

func TestArrayWalk(t *testing.T) {
	it := Elements([]byte(`[ 1, "two", [3], {"four": 4}, true, null ]`))
	var kinds []Kind
	for it.Next() {
		if it.Index() != len(kinds) {
			t.Fatalf("index %d, want %d", it.Index(), len(kinds))
		}
		kinds = append(kinds, KindOf(it.Value()))
	}
	want := []Kind{Number, String, Array, Object, Bool, Null}
	if len(kinds) != len(want) {
		t.Fatalf("kinds = %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Errorf("element %d: %v, want %v", i, kinds[i], want[i])
		}
	}
}

func TestIsIntegerAndUnquote(t *testing.T) {
	for raw, want := range map[string]bool{"12": true, "-3": true, "1.5": false, "1e3": false, `"1"`: false} {
		if got := IsInteger([]byte(raw)); got != want {
			t.Errorf("IsInteger(%s) = %v", raw, got)
		}
	}
	if s, ok := Unquote([]byte(`"a\u00e9\n"`)); !ok || s != "aé\n" {
		t.Errorf("Unquote = %q, %v", s, ok)
	}
}

func TestWalkAllocatesNothing(t *testing.T) {
	raw := []byte(`{"name":"x","count":3,"tags":["a","b"],"meta":{"k":"v"}}`)
	allocs := testing.AllocsPerRun(100, func() {
		for it := Members(raw); it.Next(); {
			_ = it.KeyIs("tags")
			for a := Elements(it.Value()); a.Next(); {
				_ = KindOf(a.Value())
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("walk allocated %v times", allocs)
	}
}

// FuzzWalk checks that walking any text that encoding/json accepts visits
// exactly the members it decodes, and that no text makes the walk panic.
func FuzzWalk(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":[1,{"b":"]"}],"c":"\""}`, `[1,2]`, `{"a":`, `"x"`, `{"a" 1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		n := 0
		for it := Members(raw); it.Next(); {
			n++
			for a := Elements(it.Value()); a.Next(); {
				_ = KindOf(a.Value())
			}
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil || m == nil {
			return
		}
		if n < len(m) { // duplicate keys make n larger, never smaller
			t.Fatalf("walk saw %d members, encoding/json decoded %d", n, len(m))
		}
	})
}

func FuzzEqualFold(f *testing.F) {
	f.Add([]byte("Name"), "name")
	f.Add([]byte("ſ"), "S")
	f.Fuzz(func(t *testing.T, b []byte, s string) {
		if got, want := equalFold(b, s), strings.EqualFold(string(b), s); got != want {
			t.Fatalf("equalFold(%q, %q) = %v, strings.EqualFold says %v", b, s, got, want)
		}
	})
}

func TestDeeperThan(t *testing.T) {
	deep := func(n int) []byte {
		return []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
	}
	for _, c := range []struct {
		raw  []byte
		max  int
		want bool
	}{
		{deep(128), 128, false},
		{deep(129), 128, true},
		{[]byte(`{"a":{"b":[1,{"c":"[[[[[[[[[["}]}}`), 4, false},
		{[]byte(`{"a":{"b":[1,{"c":"x"}]}}`), 3, true},
		{[]byte(`"\"[[["`), 1, false},
		{[]byte(`{"a":"unterminated`), 0, true},
		{[]byte(`42`), 0, false},
	} {
		if got := DeeperThan(c.raw, c.max); got != c.want {
			t.Errorf("DeeperThan(%s, %d) = %v, want %v", c.raw, c.max, got, c.want)
		}
	}
	if DeeperThan(deep(10000), 128) != true {
		t.Error("10,000 levels are not deeper than 128")
	}
}
