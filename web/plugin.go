package web

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"authserver/auth"
	"authserver/auth/plugin"
	"authserver/session"
)

// registerPluginRoutes mounts the enabled plugins' endpoints. Each passes the same stages as a
// core endpoint (see endpoint); web only adapts the request and the answer.
func (h *authHandler) registerPluginRoutes(g *echo.Group) {
	if h.auth == nil {
		return // a server without the auth service (static-only tests) has no plugins either
	}
	for _, p := range h.auth.Plugins() {
		for _, pe := range p.Endpoints {
			ep := h.pluginEndpoint(pe)
			ep.tag = pluginTag(p.ID)
			h.route(g, ep)
		}
	}
}

func (h *authHandler) pluginEndpoint(pe plugin.Endpoint) endpoint {
	ep := endpoint{method: pe.Method, path: pe.Path, session: pe.Session, authoritative: pe.Authoritative, formCSRF: pe.FormCSRF, form: pe.Form}
	if pe.Body != nil {
		ep.schema = &schema{optionalBody: pe.Body.OptionalBody, onError: pe.OnValidationError}
		for _, f := range pe.Body.Fields {
			ep.schema.fields = append(ep.schema.fields, field{name: f.Name, kind: f.Kind, optional: f.Optional, stored: f.Stored, literal: f.Literal})
		}
	}
	ep.handle = func(c *call) error {
		if pe.NoStore {
			c.Response().Header().Set("Pragma", "no-cache")
		}
		for _, name := range pe.CallbackQuery {
			if err := h.checkCallbackURL(c.QueryParam(name)); err != nil {
				return err
			}
		}
		res, err := pe.Handle(c.Request().Context(), &plugin.Request{
			Body: c.body, RawBody: c.raw, Form: c.Request().PostForm, Query: c.QueryParams(), Auth: c.auth, Meta: h.meta(c), Host: h.auth,
			Incoming: h.incoming(c),
		})
		if err != nil {
			var ce *plugin.CookieError
			if errors.As(err, &ce) {
				h.writeCookies(c, ce.Cookies)
			}
			return err
		}
		if res.SignIn != nil && res.Body == nil && res.Redirect == "" {
			return h.signInAnswer(c, res.SignIn, res.CallbackURL)
		}
		if res.ClearSession {
			h.sessions.ClearCookies(c.Response(), c.Request())
		}
		cleared := slices.Clone(c.Response().Header().Values("Set-Cookie"))
		if res.SignIn != nil {
			h.writeSignIn(c, res.SignIn)
		}
		if res.ClearSession && res.SignIn != nil {
			keepClearLines(c.Response().Header(), cleared)
		}
		h.writeCookies(c, res.Cookies)
		if res.Redirect != "" {
			return redirect(c, res.Redirect)
		}
		return ok(c, res.Body)
	}
	return ep
}

// keepClearLines puts back, ahead of the rest, the expiring Set-Cookie lines of a plugin answer
// that both clears the session and signs in (admin's impersonate-user): Better-Auth sends the
// old cookies' deletion and then the new cookies, and the session writer, which replaces earlier
// lines of a cookie it sets, would have dropped the deletions. Browsers end with the new cookies
// either way; the lines are kept for the wire's sake.
func keepClearLines(h http.Header, cleared []string) {
	now := h.Values("Set-Cookie")
	rest := slices.DeleteFunc(slices.Clone(now), func(l string) bool { return slices.Contains(cleared, l) })
	h.Del("Set-Cookie")
	for _, l := range append(cleared, rest...) {
		h.Add("Set-Cookie", l)
	}
}

// installRequestSessions hands the plugins' RequestSession hooks (the first that answers wins)
// and Invalidated observers to the session manager, so every place that reads the caller's
// session (get-session, the endpoints' session stage, RequireSession for /content) sees a
// request authenticated by, say, an API key, and the plugins' caches hear every invalidation.
func installRequestSessions(svc *auth.Service, m *session.Manager) {
	var hooks []func(ctx context.Context, h plugin.Host, r *http.Request) (*session.Auth, error)
	for _, p := range svc.Plugins() {
		if f := p.Hooks.RequestSession; f != nil {
			hooks = append(hooks, f)
		}
		if o := p.Hooks.Invalidated; o != nil {
			m.AddInvalidationObserver(o)
		}
	}
	if len(hooks) == 0 {
		return
	}
	m.SetRequestAuth(func(ctx context.Context, r *http.Request) (*session.Auth, bool, error) {
		for _, f := range hooks {
			a, err := f(ctx, svc, r)
			if a != nil || err != nil {
				return a, true, err
			}
		}
		return nil, false, nil
	})
}
