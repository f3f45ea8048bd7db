package execctx

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Capture limits: an execution keeps its first MaxEntries log lines, each
// message cut at MaxMessage bytes, and no more than Capture.Limit bytes of
// them (DefaultLimit when zero).
const (
	MaxEntries   = 200
	MaxMessage   = 2048
	DefaultLimit = 64 << 10
)

// Entry is one captured log line.
type Entry struct {
	Time    time.Time
	Level   string
	Message string
	Attrs   map[string]any
}

// Capture keeps the log lines of one execution. It is safe for concurrent use.
type Capture struct {
	Limit int // bytes of messages and attributes kept; 0 is DefaultLimit

	mu      sync.Mutex
	entries []Entry
	size    int
	dropped int
}

// Entries returns the lines captured and how many were dropped past the cap.
func (c *Capture) Entries() ([]Entry, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Entry(nil), c.entries...), c.dropped
}

func (c *Capture) add(e Entry) {
	size := len(e.Message)
	for k, v := range e.Attrs {
		size += len(k) + len(fmt.Sprint(v))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	limit := c.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	if len(c.entries) >= MaxEntries || c.size+size > limit {
		c.dropped++
		return
	}
	c.entries = append(c.entries, e)
	c.size += size
}

// tee writes each record to the process log and into the capture.
type tee struct {
	process slog.Handler
	capture *Capture
	attrs   []slog.Attr // added with With, captured with every line
	group   string
}

func (t *tee) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || t.process.Enabled(ctx, l)
}

func (t *tee) Handle(ctx context.Context, r slog.Record) error {
	if l := r.Level; l >= slog.LevelInfo {
		msg := r.Message
		if len(msg) > MaxMessage {
			msg = msg[:MaxMessage] + "…"
		}
		attrs := map[string]any{}
		for _, a := range t.attrs {
			putAttr(attrs, t.group, a)
		}
		r.Attrs(func(a slog.Attr) bool {
			putAttr(attrs, t.group, a)
			return true
		})
		if len(attrs) == 0 {
			attrs = nil
		}
		t.capture.add(Entry{Time: r.Time.UTC(), Level: l.String(), Message: msg, Attrs: attrs})
	}
	if t.process.Enabled(ctx, r.Level) {
		return t.process.Handle(ctx, r)
	}
	return nil
}

func (t *tee) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *t
	c.process = t.process.WithAttrs(attrs)
	c.attrs = append(append([]slog.Attr(nil), t.attrs...), attrs...)
	return &c
}

func (t *tee) WithGroup(name string) slog.Handler {
	c := *t
	c.process = t.process.WithGroup(name)
	if c.group != "" {
		name = c.group + "." + name
	}
	c.group = name
	return &c
}

// putAttr stores a as a JSON-friendly value under its (grouped) key.
func putAttr(m map[string]any, group string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	key := a.Key
	if group != "" {
		key = group + "." + key
	}
	switch v := a.Value; v.Kind() {
	case slog.KindGroup:
		for _, g := range v.Group() {
			putAttr(m, key, g)
		}
	case slog.KindString:
		m[key] = v.String()
	case slog.KindInt64:
		m[key] = v.Int64()
	case slog.KindUint64:
		m[key] = v.Uint64()
	case slog.KindFloat64:
		m[key] = v.Float64()
	case slog.KindBool:
		m[key] = v.Bool()
	case slog.KindDuration:
		m[key] = v.Duration().String()
	case slog.KindTime:
		m[key] = v.Time().UTC().Format(time.RFC3339Nano)
	default:
		m[key] = fmt.Sprint(v.Any())
	}
}
