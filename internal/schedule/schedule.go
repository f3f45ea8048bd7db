// Package schedule reads the schedule= option of a workflow: a five-field
// cron expression or a descriptor (@every 10m, @hourly, @daily, @weekly,
// @monthly, @yearly), optionally after CRON_TZ=Zone. The generator checks it
// with Parse and the runtime fires it with Next, so both read the option the
// same way. robfig/cron's parser does the cron grammar.
package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule is a parsed schedule.
type Schedule struct {
	cron  cron.Schedule // a cron expression or a calendar descriptor
	every time.Duration // @every: a fixed interval, aligned on the Unix epoch
}

// parser reads the five standard fields (no seconds) and the descriptors.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Parse reads expr. Without CRON_TZ= (or TZ=) a cron expression runs in UTC.
func Parse(expr string) (Schedule, error) {
	body := strings.TrimSpace(expr)
	loc := time.UTC
	if zone, ok := zonePrefix(body); ok {
		rest, found := strings.CutPrefix(body[strings.IndexByte(body, '=')+1:], zone)
		if !found || strings.TrimSpace(rest) == "" {
			return Schedule{}, errors.New("a time zone must be followed by a schedule, e.g. CRON_TZ=Europe/Paris 0 9 * * *")
		}
		l, err := time.LoadLocation(zone)
		if err != nil || zone == "" || zone == "Local" {
			return Schedule{}, fmt.Errorf("unknown time zone %q: expected an IANA name such as Europe/Paris", zone)
		}
		loc, body = l, strings.TrimSpace(rest)
	}
	if d, ok := strings.CutPrefix(body, "@every "); ok {
		every, err := time.ParseDuration(strings.TrimSpace(d))
		switch {
		case err != nil:
			return Schedule{}, fmt.Errorf("@every needs a Go duration such as 10m or 1h30m: %v", err)
		case every < time.Second || every%time.Second != 0:
			return Schedule{}, errors.New("@every needs a whole number of seconds, at least 1s")
		}
		return Schedule{every: every}, nil
	}
	if strings.HasPrefix(body, "@") && !descriptor(body) {
		return Schedule{}, fmt.Errorf("unknown descriptor %q: expected @every DURATION, @hourly, @daily, @weekly, @monthly or @yearly", body)
	}
	if !strings.HasPrefix(body, "@") && len(strings.Fields(body)) != 5 {
		return Schedule{}, fmt.Errorf("expected 5 fields (minute hour day-of-month month day-of-week), found %d", len(strings.Fields(body)))
	}
	s, err := parser.Parse(body)
	if err != nil {
		return Schedule{}, err
	}
	if spec, ok := s.(*cron.SpecSchedule); ok {
		spec.Location = loc // the parser's default is the process's zone
	}
	return Schedule{cron: s}, nil
}

// zonePrefix returns the zone of a CRON_TZ= or TZ= prefix.
func zonePrefix(expr string) (string, bool) {
	for _, p := range []string{"CRON_TZ=", "TZ="} {
		if rest, ok := strings.CutPrefix(expr, p); ok {
			zone, _, _ := strings.Cut(rest, " ")
			return zone, true
		}
	}
	return "", false
}

func descriptor(s string) bool {
	switch s {
	case "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly":
		return true
	}
	return false
}

// Next is the first tick strictly after t. The ticks of @every d are the
// multiples of d since the Unix epoch (@every 10m: :00, :10, :20...), so
// every replica and every new leader computes the same ticks.
func (s Schedule) Next(t time.Time) time.Time {
	if s.every > 0 {
		secs := int64(s.every / time.Second)
		return time.Unix((t.Unix()/secs+1)*secs, 0).UTC()
	}
	return s.cron.Next(t).UTC()
}

// Every is the interval of an @every schedule, 0 for any other.
func (s Schedule) Every() time.Duration { return s.every }
