package runtime

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDeadlineCtxExpiresWithoutDone(t *testing.T) {
	var c deadlineCtx
	c.init(context.Background(), 20*time.Millisecond)
	defer c.release()
	if c.Err() != nil {
		t.Fatal("expired at once")
	}
	time.Sleep(30 * time.Millisecond)
	if !errors.Is(c.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err = %v after the deadline", c.Err())
	}
	select {
	case <-c.Done(): // built after the deadline: closed at once
	default:
		t.Fatal("Done not closed after the deadline")
	}
}

func TestDeadlineCtxDoneClosesAtDeadline(t *testing.T) {
	var c deadlineCtx
	c.init(context.Background(), 20*time.Millisecond)
	defer c.release()
	child, cancel := context.WithCancel(&c)
	defer cancel()
	select {
	case <-child.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the child was not cancelled at the deadline")
	}
	if !errors.Is(c.Err(), context.DeadlineExceeded) || !errors.Is(child.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err = %v, child %v", c.Err(), child.Err())
	}
}

func TestDeadlineCtxFollowsParent(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	var c deadlineCtx
	c.init(parent, time.Hour)
	defer c.release()
	done := c.Done()
	if c.Err() != nil {
		t.Fatal("Err before anything ended")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("not cancelled with its parent")
	}
	if !errors.Is(c.Err(), context.Canceled) {
		t.Fatalf("Err = %v", c.Err())
	}
	if d, ok := c.Deadline(); !ok || time.Until(d) < 59*time.Minute {
		t.Fatalf("Deadline = %v %v", d, ok)
	}
}

func TestDeadlineCtxReleaseCancels(t *testing.T) {
	for _, waited := range []bool{false, true} {
		var c deadlineCtx
		c.init(context.Background(), time.Hour)
		if waited {
			_ = c.Done()
		}
		c.release()
		if !errors.Is(c.Err(), context.Canceled) {
			t.Fatalf("waited=%v: Err = %v after release", waited, c.Err())
		}
		<-c.Done()
		c.release() // twice is harmless
	}
}
