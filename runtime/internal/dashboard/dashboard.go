// Package dashboard is the executions dashboard the binary serves at /ui:
// server-rendered pages (html/template) with their stylesheet embedded, so
// it works offline and loads nothing from elsewhere. A person signs in with
// an API key and sees what that key may call: the executions, filtered and
// paged by cursor, one execution whole, a workflow's options and recent
// figures; and may cancel or replay an execution. It reads the store
// directly and reaches the runtime only through Config's functions.
package dashboard

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bifrost-go/bifrost/runtime/auth"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/workflow"
)

// Prefix is where the dashboard is mounted.
const Prefix = "/ui"

// Config is what the dashboard needs of the runtime.
type Config struct {
	Store     store.Store
	Auth      *auth.Authenticator
	Workflows []*workflow.Spec
	// Replay accepts a replay of e started by the credential id; an
	// *ActionError is shown to the person with its status.
	Replay func(ctx context.Context, e *store.Execution, credential string) (*store.Execution, error)
	// Cancel cancels an execution through the engine.
	Cancel func(ctx context.Context, id string) (*store.Execution, error)
	// SessionSecret signs the session cookies (BIFROST_SESSION_SECRET); nil:
	// a random key, sessions last as long as the process.
	SessionSecret []byte
	Log           *slog.Logger
}

// ActionError is a failed replay or cancel: the HTTP status to answer
// with, and what to tell the person.
type ActionError struct {
	Status  int
	Message string
}

func (e *ActionError) Error() string { return e.Message }

// Dashboard serves /ui.
type Dashboard struct {
	cfg       Config
	workflows map[string]*workflow.Spec
	names     []string // sorted
	sign      signer
	pages     map[string]*template.Template
	cop       *http.CrossOriginProtection
	assets    http.Handler
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// New returns the dashboard of cfg's workflows.
func New(cfg Config) (*Dashboard, error) {
	sign, err := newSigner(cfg.SessionSecret)
	if err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	d := &Dashboard{cfg: cfg, workflows: map[string]*workflow.Spec{}, sign: sign, pages: map[string]*template.Template{},
		cop: http.NewCrossOriginProtection()}
	for _, wf := range cfg.Workflows {
		d.workflows[wf.Name] = wf
		d.names = append(d.names, wf.Name)
	}
	slices.Sort(d.names)
	for _, page := range []string{"signin", "list", "execution", "workflow", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+page+".html")
		if err != nil {
			return nil, fmt.Errorf("dashboard template %s: %w", page, err)
		}
		d.pages[page] = t
	}
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		return nil, err
	}
	d.assets = http.StripPrefix(Prefix+"/assets/", http.FileServer(http.FS(sub)))
	return d, nil
}

// Register mounts the dashboard's routes on e.
func (d *Dashboard) Register(e *echo.Echo) {
	g := e.Group(Prefix, d.headers)
	g.GET("", d.signedIn(d.list))
	g.GET("/", d.signedIn(d.list))
	g.GET("/signin", d.signinPage)
	g.POST("/signin", d.signin)
	g.POST("/signout", d.signout)
	g.GET("/executions/:id", d.signedIn(d.execution))
	g.POST("/executions/:id/cancel", d.signedIn(d.cancel))
	g.POST("/executions/:id/replay", d.signedIn(d.replay))
	g.GET("/workflows/:name", d.signedIn(d.workflow))
	g.GET("/assets/*", echo.WrapHandler(d.assets))
}

// headers sets the security headers of every answer: a strict content
// security policy (only this origin's stylesheet, no script at all), no
// framing, no sniffing, no referrer, and no caching of pages.
func (d *Dashboard) headers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if c.Request().URL.Path != Prefix+"/assets/style.css" {
			h.Set("Cache-Control", "no-store")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		if c.Request().Method == http.MethodPost {
			if err := d.cop.Check(c.Request()); err != nil {
				return d.fail(c, nil, http.StatusForbidden, "This form was sent from another site: refused.")
			}
		}
		return next(c)
	}
}

// visitor is a signed-in person: the credential of the key, and the session.
type visitor struct {
	cred *auth.Credential
	ss   *session
	csrf string
}

// signedIn runs h for a valid session whose key is still live; otherwise a
// page goes to the sign-in form, and a POST (an action) also checks the
// form's CSRF token.
func (d *Dashboard) signedIn(h func(echo.Context, *visitor) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		now := time.Now()
		ss, err := d.sign.read(c.Request(), now)
		var cred *auth.Credential
		if err == nil {
			cred, err = d.cfg.Auth.Resume(c.Request().Context(), ss.Credential, ss.Fingerprint, now)
		}
		switch {
		case errors.Is(err, errNoSession), errors.Is(err, auth.ErrInvalid):
			if c.Request().Method != http.MethodGet {
				return d.fail(c, nil, http.StatusForbidden, "Your session has ended: sign in again.")
			}
			return c.Redirect(http.StatusSeeOther, Prefix+"/signin?next="+url.QueryEscape(safeNext(c.Request().URL.RequestURI())))
		case err != nil:
			d.cfg.Log.ErrorContext(c.Request().Context(), "dashboard: key not read", "error", err.Error())
			return d.fail(c, nil, http.StatusServiceUnavailable, "The store did not answer.")
		}
		v := &visitor{cred: cred, ss: ss, csrf: d.sign.csrf(ss)}
		if c.Request().Method == http.MethodPost && !d.sign.checkCSRF(ss, c.FormValue("csrf")) {
			return d.fail(c, v, http.StatusForbidden, "The form's token is missing or stale: reload the page and try again.")
		}
		return h(c, v)
	}
}

// mayCall reports whether the visitor's key may call workflow name (and
// so see its executions). An execution of a workflow this binary does not
// have is visible to global keys only.
func (v *visitor) mayCall(d *Dashboard, name string) bool {
	wf := d.workflows[name]
	if wf == nil {
		return v.cred.Global()
	}
	return v.cred.MayCall(name, wf.DisableGlobalKey)
}

// visible are the workflows the visitor may see, sorted.
func (v *visitor) visible(d *Dashboard) []string {
	var out []string
	for _, name := range d.names {
		if v.mayCall(d, name) {
			out = append(out, name)
		}
	}
	return out
}

// Who is the credential's id, for the page header.
func (v *visitor) Who() string { return v.cred.ID }

// Scoped reports whether the key is scoped to some workflows.
func (v *visitor) Scoped() bool { return !v.cred.Global() }
