package runtime

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestNewV7(t *testing.T) {
	now := time.UnixMilli(1767225600123)
	a, err := newV7(now)
	if err != nil {
		t.Fatal(err)
	}
	u := uuid.UUID(a)
	if u.Version() != 7 || u.Variant() != uuid.RFC4122 {
		t.Fatalf("%s: version %d variant %v", u, u.Version(), u.Variant())
	}
	if got := time.Unix(u.Time().UnixTime()); !got.Equal(now.Truncate(time.Second)) && got.UnixMilli()/1000 != now.Unix() {
		t.Fatalf("%s carries %v, want %v", u, got, now)
	}
	b, _ := newV7(now.Add(time.Millisecond))
	if string(b[:6]) <= string(a[:6]) {
		t.Fatal("a later id does not sort after an earlier one")
	}
	if a == b {
		t.Fatal("two ids are equal")
	}
}
