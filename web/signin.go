package web

import (
	"context"

	"github.com/labstack/echo/v4"

	"authserver/auth/plugin"
	"authserver/session"
)

// writeSignIn writes what every sign-in answer carries, whichever way the user signed in: the
// session cookie (a browser-session one plus dont_remember for rememberMe:false), set-auth-token,
// and the cookies the plugins' hooks added. For a sign-in a plugin challenged it writes the
// challenge's cookies instead, with the session cookies expired. The body is the caller's.
func (h *authHandler) writeSignIn(c echo.Context, s *plugin.SignIn) {
	if s.Challenge != nil {
		h.sessions.ClearForChallenge(c.Response(), s.DontRemember != nil && *s.DontRemember)
		h.writeCookies(c, s.Challenge.Cookies)
		return
	}
	h.sessions.SetCookie(c.Response(), c.Request(), s.Session.Token, s.DontRemember)
	h.writeCookies(c, s.Cookies)
}

// writeCookies sets the cookies a plugin asked for.
func (h *authHandler) writeCookies(c echo.Context, cookies []plugin.Cookie) {
	for _, ck := range cookies {
		if ck.Signed {
			h.sessions.SetSignedCookie(c.Response(), ck.Name, ck.Value, ck.MaxAge)
			continue
		}
		h.sessions.SetPlainCookie(c.Response(), ck.Name, ck.Value, ck.MaxAge, ck.HTTPOnly)
	}
}

// incoming is plugin.Incoming over an HTTP request.
type incoming struct {
	h *authHandler
	c echo.Context
}

func (h *authHandler) incoming(c echo.Context) plugin.Incoming { return incoming{h: h, c: c} }

func (in incoming) SignedCookie(name string) (string, bool) {
	return in.h.sessions.SignedCookie(in.c.Request(), name)
}

func (in incoming) Cookie(name string) (string, bool) {
	return session.ReadCookie(in.c.Request(), name)
}

// Session reads the caller's session as endpoints that need one do (never from the cookie
// cache); a vanished session is none.
func (in incoming) Session(ctx context.Context) (*session.Auth, error) {
	return callerSession(ctx, in.h.sessions, in.c, optionalSession)
}

// challengeAnswer writes a sign-in a plugin challenged: its cookies and its body, status 200.
func (h *authHandler) challengeAnswer(c echo.Context, s *plugin.SignIn) error {
	h.writeSignIn(c, s)
	return ok(c, s.Challenge.Body)
}
