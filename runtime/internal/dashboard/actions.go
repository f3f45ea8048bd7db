package dashboard

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bifrost-go/bifrost/runtime/auth"
	"github.com/bifrost-go/bifrost/runtime/store"
)

// signinData is the sign-in form.
type signinData struct {
	Next    string
	Message string
}

func (d *Dashboard) signinPage(c echo.Context) error {
	return d.render(c, http.StatusOK, "signin", "Sign in", nil, signinData{Next: safeNext(c.QueryParam("next"))})
}

// signin checks the API key of the form and starts a session. Only API
// keys (and the environment key) sign in: a session token has no id the
// session could be resumed from.
func (d *Dashboard) signin(c echo.Context) error {
	ctx, now := c.Request().Context(), time.Now()
	next := safeNext(c.FormValue("next"))
	key := strings.TrimSpace(c.FormValue("key"))
	cred, err := d.cfg.Auth.Authenticate(ctx, http.Header{auth.HeaderKey: {key}}, now)
	if err == nil && cred.Kind != "key" && cred.Kind != "env" {
		err = auth.ErrInvalid
	}
	switch {
	case errors.Is(err, auth.ErrInvalid), errors.Is(err, auth.ErrNoCredential):
		d.cfg.Log.InfoContext(ctx, "dashboard sign-in refused", "reason", err.Error())
		return d.render(c, http.StatusUnauthorized, "signin", "Sign in", nil,
			signinData{Next: next, Message: "That is not a valid API key (revoked, expired, or mistyped)."})
	case err != nil:
		return d.fail(c, nil, http.StatusServiceUnavailable, "The store did not answer.")
	}
	fp, err := d.cfg.Auth.Fingerprint(ctx, cred, now)
	if err != nil {
		return d.fail(c, nil, http.StatusServiceUnavailable, "The store did not answer.")
	}
	cookie, _, err := d.sign.issue(cred.ID, fp, now, c.Request().TLS != nil)
	if err != nil {
		return d.fail(c, nil, http.StatusInternalServerError, "No session could be made.")
	}
	c.SetCookie(cookie)
	d.cfg.Log.InfoContext(ctx, "dashboard sign-in", "credential", cred.ID)
	return c.Redirect(http.StatusSeeOther, next)
}

// signout ends the session: the cookie is deleted. A form of a live
// session must carry its token; a stale session is simply cleared.
func (d *Dashboard) signout(c echo.Context) error {
	if ss, err := d.sign.read(c.Request(), time.Now()); err == nil && !d.sign.checkCSRF(ss, c.FormValue("csrf")) {
		return d.fail(c, nil, http.StatusForbidden, "The form's token is missing or stale: reload the page and try again.")
	}
	c.SetCookie(d.sign.cookie("", -1, c.Request().TLS != nil))
	return c.Redirect(http.StatusSeeOther, Prefix+"/signin")
}

// safeNext is where to go after signing in: a path of the dashboard only,
// never another site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if next == "" || err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(next, "//") ||
		strings.Contains(next, "\\") || (u.Path != Prefix && !strings.HasPrefix(u.Path, Prefix+"/")) {
		return Prefix
	}
	return next
}

// cancel cancels the execution and shows it.
func (d *Dashboard) cancel(c echo.Context, v *visitor) error {
	e, answered, err := d.visibleExecution(c, v)
	if answered {
		return err
	}
	if _, err := d.cfg.Cancel(c.Request().Context(), e.ID); err != nil {
		d.cfg.Log.ErrorContext(c.Request().Context(), "dashboard: cancel failed", "execution_id", e.ID, "error", err.Error())
		return d.showExecution(c, v, e, http.StatusServiceUnavailable, "The execution could not be cancelled: the store did not answer.")
	}
	return c.Redirect(http.StatusSeeOther, Prefix+"/executions/"+e.ID)
}

// replay starts a replay and shows it.
func (d *Dashboard) replay(c echo.Context, v *visitor) error {
	e, answered, err := d.visibleExecution(c, v)
	if answered {
		return err
	}
	r, err := d.cfg.Replay(c.Request().Context(), e, v.cred.ID)
	var ae *ActionError
	switch {
	case errors.As(err, &ae):
		return d.showExecution(c, v, e, ae.Status, "Not replayed: "+ae.Message)
	case err != nil:
		return d.showExecution(c, v, e, http.StatusServiceUnavailable, "Not replayed: "+err.Error())
	}
	return c.Redirect(http.StatusSeeOther, Prefix+"/executions/"+r.ID)
}

// visibleExecution is the execution of the path's id when the visitor may
// see it; otherwise answered is true: the not-found page (the same for a
// hidden execution as for an unknown id) was written, with err the write's.
func (d *Dashboard) visibleExecution(c echo.Context, v *visitor) (e *store.Execution, answered bool, err error) {
	id := c.Param("id")
	err = store.ErrNotFound
	if store.ValidID(id) {
		e, err = d.cfg.Store.Get(c.Request().Context(), id)
	}
	switch {
	case err == nil && v.mayCall(d, e.Workflow):
		return e, false, nil
	case err == nil, errors.Is(err, store.ErrNotFound):
		return nil, true, d.fail(c, v, http.StatusNotFound, "No execution has this id, or your key may not see it.")
	}
	d.cfg.Log.ErrorContext(c.Request().Context(), "dashboard: store failed", "error", err.Error())
	return nil, true, d.fail(c, v, http.StatusServiceUnavailable, "The store did not answer.")
}
