package dashboard

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bifrost-go/bifrost/runtime/store"
)

// page is what every template gets: the visitor (nil on the sign-in and
// some error pages), the page's title and its own data.
type page struct {
	Title   string
	Visitor *visitor
	CSRF    string
	Refresh int // seconds; 0: none (an execution that has not ended reloads)
	Data    any
}

// render writes the named page with status.
func (d *Dashboard) render(c echo.Context, status int, name, title string, v *visitor, data any) error {
	p := page{Title: title, Visitor: v, Data: data}
	if v != nil {
		p.CSRF = v.csrf
	}
	if r, ok := data.(interface{ refresh() int }); ok {
		p.Refresh = r.refresh()
	}
	var buf bytes.Buffer
	if err := d.pages[name].Execute(&buf, p); err != nil {
		d.cfg.Log.ErrorContext(c.Request().Context(), "dashboard: page not rendered", "page", name, "error", err.Error())
		return c.String(http.StatusInternalServerError, "the page could not be rendered")
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// fail answers an error page.
func (d *Dashboard) fail(c echo.Context, v *visitor, status int, message string) error {
	return d.render(c, status, "error", http.StatusText(status), v, message)
}

var funcs = template.FuncMap{
	"ago":      ago,
	"stamp":    stamp,
	"duration": duration,
	"took": func(start, end time.Time) string {
		if start.IsZero() || end.IsZero() {
			return "–"
		}
		return duration(end.Sub(start))
	},
	"pretty":   pretty,
	"terminal": func(s store.Status) bool { return s.Terminal() },
	"percent": func(n, of int) string {
		if of == 0 {
			return "–"
		}
		return strconv.FormatFloat(100*float64(n)/float64(of), 'f', 1, 64) + "%"
	},
	"ms": func(d time.Duration) string {
		if d == 0 {
			return "–"
		}
		return duration(d)
	},
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05.000Z")
}

func ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return duration(time.Since(t).Truncate(time.Second)) + " ago"
}

// duration writes d short: 12ms, 1.5s, 3m4s.
func duration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// pretty indents stored JSON for reading; what does not parse is shown as it is.
func pretty(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if json.Indent(&buf, raw, "", "  ") != nil {
		return string(raw)
	}
	return buf.String()
}
