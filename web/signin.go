package web

import (
	"github.com/labstack/echo/v4"

	"authserver/auth/plugin"
)

// writeSignIn writes what every sign-in answer carries, whichever way the user signed in: the
// session cookie (a browser-session one plus dont_remember for rememberMe:false), set-auth-token,
// and the cookies the plugins' AfterSession hooks added. The body is the caller's.
func (h *authHandler) writeSignIn(c echo.Context, s *plugin.SignIn) {
	h.sessions.SetCookie(c.Response(), c.Request(), s.Session.Token, s.DontRemember)
	for _, ck := range s.Cookies {
		h.sessions.SetPlainCookie(c.Response(), ck.Name, ck.Value, ck.MaxAge, ck.HTTPOnly)
	}
}
