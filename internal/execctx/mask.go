package execctx

import (
	"context"
	"log/slog"
	"slices"
	"strings"
)

// Masked stands for a secret value wherever one would be written.
const Masked = "[secret]"

// MaskText replaces each secret in text. Secrets shorter than four bytes
// are left alone: masking them would mangle everything else.
func MaskText(text string, secrets []string) string {
	// Longest first: a secret that contains a shorter one is masked whole.
	secrets = slices.SortedFunc(slices.Values(secrets), func(a, b string) int { return len(b) - len(a) })
	for _, s := range secrets {
		if len(s) >= 4 {
			text = strings.ReplaceAll(text, s, Masked)
		}
	}
	return text
}

// masking is the process-log side of an execution's logger: the secrets the
// execution read through config.Get are masked in every line it writes to
// the process log, as they are in its record.
type masking struct {
	next slog.Handler
	exec *Execution
}

func (m *masking) Enabled(ctx context.Context, l slog.Level) bool { return m.next.Enabled(ctx, l) }

func (m *masking) Handle(ctx context.Context, r slog.Record) error {
	secrets := m.exec.Secrets()
	if len(secrets) == 0 {
		return m.next.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, MaskText(r.Message, secrets), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a, secrets))
		return true
	})
	return m.next.Handle(ctx, out)
}

// WithAttrs masks the secrets read so far: a value bound with With before
// the secret was read cannot be told apart later.
func (m *masking) WithAttrs(attrs []slog.Attr) slog.Handler {
	secrets := m.exec.Secrets()
	masked := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		masked[i] = maskAttr(a, secrets)
	}
	return &masking{next: m.next.WithAttrs(masked), exec: m.exec}
}

func (m *masking) WithGroup(name string) slog.Handler {
	return &masking{next: m.next.WithGroup(name), exec: m.exec}
}

// maskAttr masks the secrets in a's value: strings as they are, groups
// member by member, anything else as its text.
func maskAttr(a slog.Attr, secrets []string) slog.Attr {
	if len(secrets) == 0 {
		return a
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, MaskText(v.String(), secrets))
	case slog.KindGroup:
		group := v.Group()
		masked := make([]any, len(group))
		for i, g := range group {
			masked[i] = maskAttr(g, secrets)
		}
		return slog.Group(a.Key, masked...)
	case slog.KindAny:
		if text := v.String(); MaskText(text, secrets) != text {
			return slog.String(a.Key, MaskText(text, secrets))
		}
	}
	return a
}
