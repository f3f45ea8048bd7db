package runtime

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/runtime/auth"
)

// authChallenge is the WWW-Authenticate of every 401.
const authChallenge = `Bearer realm="bifrost"`

// authenticate lets through a caller whose credential may call the workflow:
// 401 for a missing or invalid one (the body never says which part was
// wrong), 403 for a valid one that may not call it. A public endpoint takes
// no credential. Either way the credential headers are removed from the
// request the workflow sees and the record keeps.
func (s *Server) authenticate(x *exchange) *bifrost.Error {
	wf := x.ep.wf
	h := x.c.Request().Header
	if wf.Public {
		// Authorization may be the sender's own (a webhook's Basic auth):
		// it stays, unless it is a Bifrost credential.
		bifrostCred := false
		if h.Get("Authorization") != "" {
			_, err := s.auth.Authenticate(x.c.Request().Context(), http.Header{"Authorization": h["Authorization"]}, time.Now())
			bifrostCred = err == nil
		}
		stripCredentials(h, bifrostCred)
		return nil
	}
	cred, err := s.auth.Authenticate(x.c.Request().Context(), h, time.Now())
	stripCredentials(h, true)
	if err != nil {
		if !errors.Is(err, auth.ErrNoCredential) && !errors.Is(err, auth.ErrInvalid) {
			s.log.LogAttrs(context.Background(), slog.LevelError, "authentication failed",
				slog.String("execution_id", x.id), slog.String("error", err.Error()))
			return newProblem(http.StatusServiceUnavailable, "credentials cannot be checked right now")
		}
		if errors.Is(err, auth.ErrNoCredential) {
			s.metrics.authMissing.Inc()
		} else {
			s.metrics.authInvalid.Inc()
		}
		s.log.LogAttrs(context.Background(), slog.LevelInfo, "refused a credential",
			slog.String("workflow", wf.Name), slog.String("execution_id", x.id), slog.String("reason", err.Error()))
		return unauthorized(x.c.Response().Header())
	}
	if !cred.MayCall(wf.Name, wf.DisableGlobalKey) {
		s.metrics.authForbidden.Inc()
		detail := "this credential may not call " + wf.Name
		if wf.DisableGlobalKey && cred.Global() {
			detail += ": it accepts only keys scoped to it"
		}
		return newProblem(http.StatusForbidden, detail)
	}
	x.cred = cred
	return nil
}

func unauthorized(h http.Header) *bifrost.Error {
	h.Set("WWW-Authenticate", authChallenge)
	return newProblem(http.StatusUnauthorized, "a valid API key or session token is required")
}

// stripCredentials removes Bifrost credentials from headers a workflow sees
// and an execution record keeps. On a public endpoint Authorization may be
// meant for the workflow (a sender's own scheme): only a Bifrost key in it
// is removed.
func stripCredentials(h http.Header, authorization bool) {
	h.Del(auth.HeaderKey)
	if v := h.Get("Authorization"); authorization || strings.Contains(v, auth.KeyPrefix) {
		h.Del("Authorization")
	}
}

// rateLimit answers 429 with Retry-After when the caller is over the
// workflow's rate: per credential, or per client address when public.
func (s *Server) rateLimit(x *exchange) *bifrost.Error {
	r := x.ep.wf.Rate
	if r == nil {
		return nil
	}
	caller := "ip:" + peerHost(x.c.Request().RemoteAddr)
	if x.cred != nil {
		caller = "cred:" + x.cred.ID
	}
	ok, wait := s.limits.allow(x.ep.wf.Name+"\x00"+caller, r, time.Now())
	if ok {
		return nil
	}
	inc(x.ep.metrics.limited)
	x.c.Response().Header().Set("Retry-After", retryAfter(wait))
	return newProblem(http.StatusTooManyRequests, "the rate limit of "+x.ep.wf.Name+" is reached; retry later")
}

func (x *exchange) credentialID() string {
	if x.cred == nil {
		return ""
	}
	return x.cred.ID
}
