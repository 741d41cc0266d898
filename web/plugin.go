package web

import (
	"errors"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"authserver/auth/plugin"
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
	ep := endpoint{method: pe.Method, path: pe.Path, session: pe.Session, formCSRF: pe.FormCSRF}
	if pe.Body != nil {
		ep.schema = &schema{optionalBody: pe.Body.OptionalBody}
		for _, f := range pe.Body.Fields {
			ep.schema.fields = append(ep.schema.fields, field{name: f.Name, kind: f.Kind, optional: f.Optional, stored: f.Stored})
		}
	}
	ep.handle = func(c *call) error {
		for _, name := range pe.CallbackQuery {
			if err := h.checkCallbackURL(c.QueryParam(name)); err != nil {
				return err
			}
		}
		res, err := pe.Handle(c.Request().Context(), &plugin.Request{
			Body: c.body, Query: c.QueryParams(), Auth: c.auth, Meta: h.meta(c), Host: h.auth,
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
