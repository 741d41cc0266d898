package web

import (
	"context"
	"log/slog"
	"strings"

	"github.com/labstack/echo/v4"

	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store"
)

// writeSignIn writes what every sign-in answer carries, whichever way the user signed in: the
// session cookie (a browser-session one plus dont_remember for rememberMe:false), set-auth-token,
// and the cookies the plugins' hooks added. For a sign-in a plugin challenged it writes the
// challenge's cookies instead, with the session cookies expired. The body is the caller's.
func (h *authHandler) writeSignIn(c echo.Context, s *plugin.SignIn) {
	if s.Challenge != nil {
		h.sessions.ClearForChallenge(c.Response(), s.DontRemember != nil && *s.DontRemember)
		h.writeCookies(c, s.Challenge.Cookies)
		h.writeCookies(c, s.Cookies)
		return
	}
	h.sessions.SetCookie(c.Response(), c.Request(), s.Session.Token, s.DontRemember)
	h.writeCookies(c, s.Cookies)
	h.sessionCookieHooks(c, &s.Session, &s.User)
}

// refreshHooks runs the plugins' SessionCookie hooks when reading the caller's session a has
// just re-issued its cookie (a refresh), as Better-Auth's setSessionCookie on a refresh makes the
// refreshed session ctx.context.newSession.
func (h *authHandler) refreshHooks(c echo.Context, a *session.Auth) {
	name := h.sessions.TokenCookieName() + "="
	for _, l := range c.Response().Header().Values("Set-Cookie") {
		if strings.HasPrefix(l, name) && !strings.HasPrefix(l, name+";") {
			h.sessionCookieHooks(c, &a.Session, &a.User)
			return
		}
	}
}

// sessionCookieHooks runs the plugins' SessionCookie hooks for the session the answer sets and
// writes their cookies; a failing hook is logged (without the token) and adds nothing.
func (h *authHandler) sessionCookieHooks(c echo.Context, s *store.Session, u *store.User) {
	if h.auth == nil {
		return
	}
	ctx := c.Request().Context()
	for _, p := range h.auth.Plugins() {
		f := p.Hooks.SessionCookie
		if f == nil {
			continue
		}
		cookies, err := f(ctx, h.auth, h.incoming(c), s, u)
		if err != nil {
			h.log.LogAttrs(ctx, slog.LevelError, "a plugin's session cookie hook failed", slog.String("plugin", p.ID), slog.String("error", err.Error()))
			continue
		}
		h.writeCookies(c, cookies)
	}
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

// CookieNames lists the request's cookie names as better-call's parser keys them: split at ";",
// trimmed, in order of first appearance, pairs without "=" skipped (plugin.CookieLister).
func (in incoming) CookieNames() []string {
	var names []string
	seen := map[string]bool{}
	for _, header := range in.c.Request().Header.Values("Cookie") {
		for _, part := range strings.Split(header, ";") {
			k, _, ok := strings.Cut(part, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" || seen[k] {
				continue
			}
			seen[k] = true
			names = append(names, k)
		}
	}
	return names
}

// Session reads the caller's session authoritatively (never from the cookie cache) and without
// side effects (session.Manager.Peek): hooks call it in the middle of a sign-in, possibly inside
// its transaction, where refreshing the old session or clearing its cookies would be wrong.
func (in incoming) Session(ctx context.Context) (*session.Auth, error) {
	return in.h.sessions.Peek(ctx, in.c.Request())
}

// Path is the request path below the base path.
func (in incoming) Path() string {
	return strings.TrimPrefix(in.c.Request().URL.Path, strings.TrimRight(in.h.cfg.BasePath, "/"))
}

// AllowSend counts a message to recipient against the per-recipient cap (rateLimiter.limitSend).
func (in incoming) AllowSend(ctx context.Context, recipient string) error {
	return in.h.limiter.limitSend(ctx, recipient)
}

// challengeAnswer writes a sign-in a plugin challenged: its cookies and its body, status 200.
func (h *authHandler) challengeAnswer(c echo.Context, s *plugin.SignIn) error {
	h.writeSignIn(c, s)
	return ok(c, s.Challenge.Body)
}
