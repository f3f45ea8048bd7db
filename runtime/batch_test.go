package runtime

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// writes records what a batcher writes, and when.
type writes struct {
	mu      sync.Mutex
	batches [][]int
	at      []time.Time
	wrote   chan struct{}
}

func newWrites() *writes { return &writes{wrote: make(chan struct{}, 100)} }

func (w *writes) write(batch []int) {
	w.mu.Lock()
	w.batches = append(w.batches, slices.Clone(batch))
	w.at = append(w.at, time.Now())
	w.mu.Unlock()
	w.wrote <- struct{}{}
}

func (w *writes) got() [][]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.batches)
}

// TestBatcherWithoutLingerWritesAtOnce: a lone item is written without
// waiting for company.
func TestBatcherWithoutLingerWritesAtOnce(t *testing.T) {
	w := newWrites()
	b := newBatcher(16, 4, 0, w.write)
	start := time.Now()
	if err := b.add(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	<-w.wrote
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("a lone item waited %s", d)
	}
	if err := b.close(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestBatcherLingers: items that arrive within the linger share the batch
// of the first; the batch is written once the linger passes.
func TestBatcherLingers(t *testing.T) {
	w := newWrites()
	const linger = 500 * time.Millisecond // long beside the adds, even on a loaded machine
	b := newBatcher(16, 8, linger, w.write)
	start := time.Now()
	for i := range 3 {
		if err := b.add(t.Context(), i); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	<-w.wrote
	if d := w.at[0].Sub(start); d < linger {
		t.Errorf("written after %s, before the linger of %s", d, linger)
	}
	if got := w.got(); len(got) != 1 || !slices.Equal(got[0], []int{0, 1, 2}) {
		t.Errorf("batches %v, want [[0 1 2]]", got)
	}
	if err := b.close(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestBatcherFullDoesNotLinger: a batch that fills up is written at once,
// lingering or not.
func TestBatcherFullDoesNotLinger(t *testing.T) {
	w := newWrites()
	b := newBatcher(16, 4, time.Hour, w.write)
	for i := range 4 {
		if err := b.add(t.Context(), i); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-w.wrote:
	case <-time.After(5 * time.Second):
		t.Fatal("a full batch was not written")
	}
	if got := w.got(); len(got) != 1 || len(got[0]) != 4 {
		t.Errorf("batches %v, want one of 4", got)
	}
	if err := b.add(t.Context(), 9); err != nil {
		t.Fatal(err)
	}
	// Close ends the linger: what is queued is written now.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := b.close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	if got := w.got(); len(got) != 2 || !slices.Equal(got[1], []int{9}) {
		t.Errorf("batches %v, want [9] last", got)
	}
	if err := b.add(t.Context(), 10); err != errStopped {
		t.Errorf("add after close: %v, want errStopped", err)
	}
}
