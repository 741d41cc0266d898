package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"authserver/auth"
	"authserver/store"
)

// registerEmailRoutes adds the account-lifecycle endpoints that work through emailed links.
func (h *authHandler) registerEmailRoutes(g *echo.Group) {
	for _, ep := range []endpoint{
		{method: http.MethodPost, path: "/send-verification-email", schema: &schema{fields: []field{
			{name: "email", kind: kEmail}, {name: "callbackURL", kind: kString, optional: true}}}, handle: h.sendVerificationEmail},
		{method: http.MethodGet, path: "/verify-email", handle: h.verifyEmail},
		{method: http.MethodPost, path: "/request-password-reset", schema: &schema{fields: []field{
			{name: "email", kind: kEmail}, {name: "redirectTo", kind: kString, optional: true}}}, handle: h.requestPasswordReset},
		{method: http.MethodGet, path: "/reset-password/:token", handle: h.resetPasswordLink},
		{method: http.MethodPost, path: "/reset-password", schema: &schema{fields: []field{
			{name: "newPassword", kind: kString}, {name: "token", kind: kString, optional: true}}}, handle: h.resetPassword},
		{method: http.MethodPost, path: "/change-email", schema: &schema{fields: []field{
			{name: "newEmail", kind: kEmail}, {name: "callbackURL", kind: kString, optional: true}}}, session: needSession, authoritative: true, handle: h.changeEmail},
		{method: http.MethodPost, path: "/delete-user", schema: &schema{fields: []field{
			{name: "callbackURL", kind: kString, optional: true}, {name: "password", kind: kString, optional: true},
			{name: "token", kind: kString, optional: true}}}, session: needSession, authoritative: true, checksPassword: sendsPassword, handle: h.deleteUser},
		{method: http.MethodGet, path: "/delete-user/callback", handle: h.deleteUserCallback},
	} {
		h.route(g, ep)
	}
}

// queryParam returns a required query parameter, or Better-Auth's validation error naming it.
func queryParam(c *call, name string) (string, error) {
	q := c.Request().URL.Query()
	if !q.Has(name) {
		return "", validationError("[query." + name + "] Invalid input: expected string, received undefined")
	}
	return q.Get(name), nil
}

// redirect answers 302 like Better-Auth's ctx.redirect: a Location, an empty body, and (an
// artefact of Better-Auth's router) a JSON content type.
func redirect(c *call, to string) error {
	c.Response().Header().Set("Location", to)
	return c.Blob(http.StatusFound, echo.MIMEApplicationJSON, nil)
}

// appendQuery adds params to a root-relative or absolute URL, keeping what is already there.
func appendQuery(target string, params url.Values) string {
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	extra := params.Encode()
	switch {
	case u.RawQuery == "":
		u.RawQuery = extra
	case strings.HasSuffix(u.RawQuery, "&"):
		u.RawQuery += extra
	default:
		u.RawQuery += "&" + extra
	}
	return u.String()
}

func (h *authHandler) sendVerificationEmail(c *call) error {
	email, _ := c.str("email")
	cb, _ := c.str("callbackURL")
	if err := h.limiter.limitSend(c.Request().Context(), email); err != nil {
		return err
	}
	a, err := callerSession(c.Request().Context(), h.sessions, c, optionalSession)
	if err != nil {
		return err
	}
	var caller *store.User
	if a != nil {
		caller = &a.User
	}
	if err := h.auth.SendVerificationEmail(c.Request().Context(), caller, email, cb); err != nil {
		return err
	}
	return ok(c, statusResponse)
}

// verifyEmail is the link in a verification email: it verifies, then sends the browser to the
// callback URL (with ?error=CODE when the token is bad or expired).
func (h *authHandler) verifyEmail(c *call) error {
	token, err := queryParam(c, "token")
	if err != nil {
		return err
	}
	cb := c.QueryParam("callbackURL")
	if err := h.checkCallbackURL(cb); err != nil {
		return err
	}
	current, err := callerSession(c.Request().Context(), h.sessions, c, optionalSession)
	if err != nil {
		return err
	}
	res, err := h.auth.VerifyEmail(c.Request().Context(), token, cb, current, h.meta(c), h.limiter.mailGate(c.Request()), h.incoming(c))
	if err != nil {
		api := lookupError(err)
		if api != nil && api.Status == http.StatusTooManyRequests {
			// The mail rule refused: the limiter's own 429, not a redirect carrying an error.
			return api
		}
		if api == nil || api.Status >= 500 {
			return err
		}
		if cb != "" {
			return redirect(c, appendQuery(cb, url.Values{"error": {api.Code}}))
		}
		return &apiError{Status: http.StatusUnauthorized, Code: api.Code, Message: api.Message}
	}
	switch {
	case res.SignIn != nil:
		h.writeSignIn(c, res.SignIn)
	case res.Refresh && current != nil:
		h.sessions.SetCookie(c.Response(), c.Request(), current.Session.Token, nil)
	}
	if cb != "" {
		return redirect(c, cb)
	}
	if res.NoUser {
		return ok(c, statusResponse)
	}
	body := map[string]any{"status": true, "user": nil}
	if res.User != nil {
		body["user"] = h.newUserResponse(res.User)
	}
	return ok(c, body)
}

func (h *authHandler) requestPasswordReset(c *call) error {
	email, _ := c.str("email")
	redirectTo, _ := c.str("redirectTo")
	if err := h.limiter.limitSend(c.Request().Context(), email); err != nil {
		return err
	}
	if err := h.auth.RequestPasswordReset(c.Request().Context(), email, redirectTo); err != nil {
		return err
	}
	return ok(c, map[string]any{"status": true, "message": auth.ResetMessage})
}

// resetPasswordLink is the link in a reset email: a live token forwards the browser to the app's
// reset form with ?token=, a dead one with ?error=INVALID_TOKEN. The token is not used up here.
func (h *authHandler) resetPasswordLink(c *call) error {
	cb, err := queryParam(c, "callbackURL")
	if err != nil {
		return err
	}
	if err := h.checkCallbackURL(cb); err != nil {
		return err
	}
	token := c.Param("token")
	if cb == "" || token == "" {
		return redirect(c, h.apiURL()+"/error?error=INVALID_TOKEN")
	}
	target := h.absolute(cb)
	if err := h.auth.CheckResetToken(c.Request().Context(), token); err != nil {
		if !errors.Is(err, auth.ErrInvalidToken) {
			return err
		}
		return redirect(c, setQuery(target, "error", "INVALID_TOKEN"))
	}
	return redirect(c, setQuery(target, "token", token))
}

func (h *authHandler) resetPassword(c *call) error {
	token, _ := c.str("token")
	if token == "" {
		token = c.QueryParam("token")
	}
	pw, _ := c.str("newPassword")
	if err := h.auth.ResetPassword(c.Request().Context(), token, pw); err != nil {
		return err
	}
	return ok(c, statusResponse)
}

func (h *authHandler) changeEmail(c *call) error {
	email, _ := c.str("newEmail")
	cb, _ := c.str("callbackURL")
	// Every request counts against the mail rule, not only those that mail: otherwise a 429
	// arriving only for free addresses would tell which addresses have accounts.
	if err := h.limiter.mailGate(c.Request()).Check(c.Request().Context()); err != nil {
		return err
	}
	if err := h.limiter.limitSend(c.Request().Context(), email); err != nil {
		return err
	}
	res, err := h.auth.ChangeEmail(c.Request().Context(), &c.auth.User, email, cb)
	if err != nil {
		return err
	}
	if res.Changed {
		h.sessions.SetCookie(c.Response(), c.Request(), c.auth.Session.Token, nil)
	}
	return ok(c, statusResponse)
}

func (h *authHandler) deleteUser(c *call) error {
	token, _ := c.str("token")
	cb, _ := c.str("callbackURL")
	out, _, err := h.auth.DeleteUser(c.Request().Context(), c.auth, auth.DeleteUserInput{
		Password: c.strPtr("password"), Token: token, CallbackURL: cb, MailGate: h.limiter.mailGate(c.Request()),
	})
	if err != nil {
		if errors.Is(err, auth.ErrInvalidToken) {
			return newAPIError(http.StatusNotFound, "INVALID_TOKEN", "Invalid token")
		}
		return err
	}
	if out == auth.DeleteEmailSent {
		return ok(c, map[string]any{"success": true, "message": "Verification email sent"})
	}
	h.sessions.ClearCookies(c.Response(), c.Request())
	return ok(c, map[string]any{"success": true, "message": "User deleted"})
}

// deleteUserCallback is the link in an account-deletion email; it needs the user's session too.
func (h *authHandler) deleteUserCallback(c *call) error {
	token, err := queryParam(c, "token")
	if err != nil {
		return err
	}
	cb := c.QueryParam("callbackURL")
	if err := h.checkCallbackURL(cb); err != nil {
		return err
	}
	if !h.auth.DeleteUserEnabled() {
		return newAPIError(http.StatusNotFound, "NOT_FOUND", "Not found")
	}
	a, err := callerSession(c.Request().Context(), h.sessions, c, optionalSession)
	if err != nil {
		return err
	}
	if a == nil {
		return newAPIError(http.StatusNotFound, "FAILED_TO_GET_USER_INFO", "Failed to get user info")
	}
	if _, err := h.auth.DeleteUserWithToken(c.Request().Context(), a.User.ID, token); err != nil {
		if errors.Is(err, auth.ErrInvalidToken) {
			return newAPIError(http.StatusNotFound, "INVALID_TOKEN", "Invalid token")
		}
		return err
	}
	h.sessions.ClearCookies(c.Response(), c.Request())
	if cb != "" {
		return redirect(c, cb)
	}
	return ok(c, map[string]any{"success": true, "message": "User deleted"})
}

// apiURL is the public base of the auth API.
func (h *authHandler) apiURL() string { return strings.TrimRight(h.cfg.BaseURL, "/") + h.cfg.BasePath }

// absolute resolves a callback against the API URL, as Better-Auth's new URL(callbackURL, baseURL).
func (h *authHandler) absolute(ref string) string {
	base, err := url.Parse(h.apiURL())
	if err != nil {
		return ref
	}
	r, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	return base.ResolveReference(r).String()
}

// setQuery sets one query parameter, replacing any earlier value, as URLSearchParams.set does.
func setQuery(target, key, value string) string {
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}
