package schedule

import (
	"strings"
	"testing"
	"time"
)

func TestParseAndNext(t *testing.T) {
	at := time.Date(2026, 12, 4, 18, 7, 30, 0, time.UTC) // a Friday
	cases := []struct{ expr, next string }{
		{"0 9 * * 1-5", "2026-12-07T09:00:00Z"},
		{"*/15 * * * *", "2026-12-04T18:15:00Z"},
		{"@hourly", "2026-12-04T19:00:00Z"},
		{"@daily", "2026-12-05T00:00:00Z"},
		{"@weekly", "2026-12-06T00:00:00Z"},
		{"@monthly", "2027-01-01T00:00:00Z"},
		{"@yearly", "2027-01-01T00:00:00Z"},
		{"@every 10m", "2026-12-04T18:10:00Z"},
		{"@every 1s", "2026-12-04T18:07:31Z"},
		{"CRON_TZ=Europe/Paris 0 9 * * *", "2026-12-05T08:00:00Z"},
		{"TZ=America/New_York 30 8 * * *", "2026-12-05T13:30:00Z"},
	}
	for _, c := range cases {
		s, err := Parse(c.expr)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.expr, err)
			continue
		}
		if got := s.Next(at).Format(time.RFC3339); got != c.next {
			t.Errorf("Parse(%q).Next = %s, want %s", c.expr, got, c.next)
		}
	}
}

func TestParseRejects(t *testing.T) {
	cases := map[string]string{
		"":                               "expected 5 fields",
		"0 9 * *":                        "expected 5 fields",
		"0 0 9 * * *":                    "expected 5 fields",
		"0 25 * * *":                     "above maximum",
		"@often":                         "unknown descriptor",
		"@every 500ms":                   "at least 1s",
		"@every soon":                    "Go duration",
		"CRON_TZ=Mars/Olympus 0 9 * * *": "unknown time zone",
		"CRON_TZ=Europe/Paris":           "followed by a schedule",
	}
	for expr, want := range cases {
		if _, err := Parse(expr); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", expr, err, want)
		}
	}
}
