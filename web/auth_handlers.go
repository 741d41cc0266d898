package web

import (
	"context"
	"errors"
	"html"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"authserver/auth"
	"authserver/auth/plugin"
	"authserver/content"
	"authserver/session"
	"authserver/store"
)

// authHandler serves Better-Auth's core endpoints under the base path.
type authHandler struct {
	cfg        Config
	auth       *auth.Service
	sessions   *session.Manager
	content    *content.Service // nil without the content API
	origins    Origins
	baseOrigin string
	// limiter also keeps each user's budget of password checks; nil when rate limiting is off.
	limiter *rateLimiter
	log     *slog.Logger
	refused *refusedOrigins
	// cols are the fields plugins added to the user and session rows, printed in every body.
	cols store.Columns
	// documented are the endpoints route mounted, in order, for the OpenAPI document.
	documented []endpoint
}

// registerAuthRoutes is the route table of /api/auth; each entry's stages are described on
// endpoint.
func (h *authHandler) registerAuthRoutes(g *echo.Group) {
	signUp := &schema{fields: []field{
		{name: "name", kind: kString, stored: true, max: auth.MaxNameLength},
		{name: "email", kind: kEmail},
		{name: "password", kind: kNonEmptyString, stored: true},
		{name: "image", kind: kString, optional: true, stored: true, max: auth.MaxImageLength},
		{name: "callbackURL", kind: kString, optional: true},
		{name: "rememberMe", kind: kBool, optional: true},
	}, andRecord: true}
	signIn := &schema{fields: []field{
		{name: "email", kind: kString},
		{name: "password", kind: kString, stored: true},
		{name: "callbackURL", kind: kString, optional: true},
		{name: "rememberMe", kind: kBool, optional: true},
	}}
	changePassword := &schema{fields: []field{
		{name: "newPassword", kind: kString, stored: true},
		{name: "currentPassword", kind: kString, stored: true},
		{name: "revokeOtherSessions", kind: kBool, optional: true},
	}}
	record := &schema{record: true}
	for _, ep := range []endpoint{
		{method: http.MethodGet, path: "/ok", handle: h.ok},
		{method: http.MethodGet, path: "/error", handle: h.errorPage},
		{method: http.MethodPost, path: "/sign-up/email", form: true, schema: signUp, formCSRF: true, handle: h.signUpEmail},
		{method: http.MethodPost, path: "/sign-in/email", form: true, schema: signIn, formCSRF: true, handle: h.signInEmail},
		{method: http.MethodPost, path: "/sign-out", schema: &schema{optionalBody: true}, handle: h.signOut},
		{method: http.MethodGet, path: "/get-session", noBody: true, handle: h.getSession},
		{method: http.MethodPost, path: "/get-session", noBody: true, handle: h.postGetSession},
		{method: http.MethodGet, path: "/list-sessions", session: needFreshSession, handle: h.listSessions},
		{method: http.MethodGet, path: "/security-events", session: needSession, handle: h.securityEvents},
		{method: http.MethodPost, path: "/revoke-session", schema: &schema{fields: []field{{name: "token", kind: kString}}}, session: needSession, authoritative: true, handle: h.revokeSession},
		{method: http.MethodPost, path: "/revoke-sessions", session: needSession, authoritative: true, handle: h.revokeSessions},
		{method: http.MethodPost, path: "/revoke-other-sessions", session: needSession, authoritative: true, handle: h.revokeOtherSessions},
		{method: http.MethodPost, path: "/update-user", schema: record, session: needSession, handle: h.updateUser},
		{method: http.MethodPost, path: "/change-password", schema: changePassword, session: needSession, authoritative: true, checksPassword: always, handle: h.changePassword},
		{method: http.MethodGet, path: "/list-accounts", session: needSession, handle: h.listAccounts},
		{method: http.MethodPost, path: "/unlink-account", schema: &schema{fields: []field{{name: "accountId", kind: kString}}}, session: needFreshSession, handle: h.unlinkAccount},
		{method: http.MethodPost, path: "/verify-password", schema: &schema{fields: []field{{name: "password", kind: kString}}}, session: needSession, authoritative: true, checksPassword: always, handle: h.verifyPassword},
		{method: http.MethodPost, path: "/update-session", schema: record, session: needSession, handle: h.updateSession},
	} {
		h.route(g, ep)
	}
	h.registerEmailRoutes(g)
	h.registerSocialRoutes(g)
	h.registerPluginRoutes(g)
	h.registerOpenAPIRoutes(g)
}

func (h *authHandler) meta(c echo.Context) session.Meta {
	// Headers are bytes; the database wants valid UTF-8 without NUL (Node reads headers as Latin-1).
	ua := strings.ReplaceAll(strings.ToValidUTF8(c.Request().UserAgent(), "\uFFFD"), "\x00", "")
	return session.Meta{IPAddress: storedIP(ClientIP(c.Request(), h.cfg.TrustedProxies)), UserAgent: ua}
}

// storedIP is the form Better-Auth records in session.ipAddress: IPv4 as is (IPv4-mapped IPv6
// unwrapped), IPv6 fully expanded and masked to its /64, like its rate-limit keys.
func storedIP(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if !a.Is6() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.Addr().StringExpanded()
}

func (h *authHandler) ok(c *call) error { return ok(c, map[string]bool{"ok": true}) }

var errorCodePattern = regexp.MustCompile(`^['A-Za-z0-9_-]+$`)

// errorPage is where Better-Auth sends browsers when a flow fails. In production it redirects to
// the site root with the code, as Better-Auth does; otherwise it shows a small page.
func (h *authHandler) errorPage(c *call) error {
	code := c.QueryParam("error")
	if !errorCodePattern.MatchString(code) {
		code = "UNKNOWN"
	}
	desc := c.QueryParam("error_description")
	if h.cfg.Production {
		q := url.Values{"error": {code}}
		if desc != "" {
			q.Set("error_description", desc)
		}
		return c.Redirect(http.StatusFound, "/?"+q.Encode())
	}
	page := "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error</title></head>" +
		"<body><h1>Something went wrong</h1><p><code>" + html.EscapeString(code) + "</code></p>"
	if desc != "" {
		page += "<p>" + html.EscapeString(desc) + "</p>"
	}
	page += "<p><a href=\"/\">Back to the application</a></p></body></html>"
	return c.HTML(http.StatusOK, page)
}

func (h *authHandler) signUpEmail(c *call) error {
	name, _ := c.str("name")
	email, _ := c.str("email")
	password, _ := c.str("password")
	// Plugins check their fields first, as Better-Auth's before-hooks run ahead of the endpoint.
	values, err := h.auth.UserInput(c.Request().Context(), plugin.UserInput{Body: c.body})
	if err != nil {
		return err
	}
	onCreate, err := h.signUpProfile(c)
	if err != nil {
		return err
	}
	res, err := h.auth.SignUpEmail(c.Request().Context(), auth.SignUpInput{
		Name: name, Email: email, Password: password, Image: c.strPtr("image"),
		RememberMe: c.boolPtr("rememberMe"), CallbackURL: strOr(c.strPtr("callbackURL")), Meta: h.meta(c),
		OnCreate: onCreate, Refused: h.fieldNotAllowed(c.body, true), Values: values, Incoming: h.incoming(c),
	})
	if err != nil {
		return err
	}
	body := struct {
		Token *string      `json:"token"`
		User  userResponse `json:"user"`
	}{User: h.newUserResponse(&res.User)}
	if res.SignIn != nil {
		h.writeSignIn(c, res.SignIn)
		body.Token = &res.SignIn.Session.Token
	}
	return ok(c, body)
}

// fieldNotAllowed is Better-Auth's answer to a body that sets a user field only the server sets
// (store.Field.ReadOnly, such as lastLoginMethod): 400 FIELD_NOT_ALLOWED naming the first such
// field in column order. A falsy value is let through and ignored, as Better-Auth does; so is any
// value on sign-up (create) of a field with a schema default, which Better-Auth stores instead
// (not one a hook writes, store.Field.DefaultByHook).
func (h *authHandler) fieldNotAllowed(body map[string]any, create bool) error {
	for _, f := range h.cols.User {
		if create && f.Default.Valid && !f.DefaultByHook {
			continue
		}
		if v, present := body[f.Name]; f.ReadOnly && present && truthy(v) {
			return &plugin.Error{Status: http.StatusBadRequest, Code: "FIELD_NOT_ALLOWED", Message: f.Name + " is not allowed to be set"}
		}
	}
	return nil
}

// signUpProfileField is our own sign-up body field (Better-Auth ignores fields it does not
// know): the reading profile chosen on the sign-up form. Stored with the new user, it survives an
// email verification that the sign-up answer cannot sign in past, even on another device.
const signUpProfileField = "contentProfile"

// signUpProfile checks the optional reading profile of a sign-up body before anything is written,
// so a bad profile is a 400 VALIDATION_ERROR naming the field ("[body.contentProfile.level] ...")
// and no half-made account. It returns what saves the profile inside the sign-up transaction, or
// nil when there is no profile (absent or null) or no content API.
func (h *authHandler) signUpProfile(c *call) (func(context.Context, *store.Store, string) error, error) {
	raw, present := c.body[signUpProfileField]
	if !present || raw == nil || h.content == nil {
		return nil, nil
	}
	path := "body." + signUpProfileField
	obj, isObject := raw.(map[string]any)
	if !isObject {
		return nil, validationError("[" + path + "] Invalid input: expected object, received " + string(jsKind(raw)))
	}
	var req profileRequest
	if err := decodeObject(obj, &req, path); err != nil {
		return nil, err
	}
	p, err := h.content.NewProfile(c.Request().Context(), req.toUpdate(), path+".")
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, tx *store.Store, userID string) error {
		return h.content.SaveNewProfile(ctx, tx, userID, p)
	}, nil
}

func (h *authHandler) signInEmail(c *call) error {
	email, _ := c.str("email")
	password, _ := c.str("password")
	res, err := h.auth.SignInEmail(c.Request().Context(), auth.SignInInput{
		Email: email, Password: password, RememberMe: c.boolPtr("rememberMe"), CallbackURL: strOr(c.strPtr("callbackURL")), Meta: h.meta(c),
		Incoming: h.incoming(c),
	})
	if err != nil {
		return err
	}
	return h.signInAnswer(c, res, c.strPtr("callbackURL"))
}

// signInAnswer is the answer of a password sign-in (e-mail, or a plugin's): the sign-in's cookies,
// {"redirect","token","url","user"} with url only when callbackURL was sent, and a Location header
// for a non-empty callbackURL; or, when a plugin challenged the sign-in, the challenge.
func (h *authHandler) signInAnswer(c *call, res *plugin.SignIn, callback *string) error {
	if res.Challenge != nil {
		return h.challengeAnswer(c, res)
	}
	h.writeSignIn(c, res)
	if callback != nil && *callback != "" {
		c.Response().Header().Set("Location", *callback)
	}
	return ok(c, struct {
		Redirect bool         `json:"redirect"`
		Token    string       `json:"token"`
		URL      *string      `json:"url,omitempty"`
		User     userResponse `json:"user"`
	}{Redirect: callback != nil && *callback != "", Token: res.Session.Token, URL: callback, User: h.newUserResponse(&res.User)})
}

// signOut deletes the caller's session, if any, and always clears the cookies. When the user
// signed in through an OpenID provider that offers logout, the answer (like Better-Auth's) also
// sends the browser there: {"success":true,"url":…,"redirect":true} and a Location header.
func (h *authHandler) signOut(c *call) error {
	ctx := c.Request().Context()
	var current *session.Auth
	if token, ok := h.sessions.TokenFrom(c.Request()); ok {
		current, _ = h.sessions.Lookup(ctx, token)
		revoke := func(ctx context.Context) error { return h.sessions.Revoke(ctx, token) }
		var err error
		if current != nil {
			err = h.audited(ctx, plugin.AuditEvent{Event: "sign-out", UserID: current.User.ID, SessionID: current.Session.ID}, revoke)
		}
		if err != nil {
			// A session its user asked to end must not outlive a failure to record that they did.
			h.log.LogAttrs(ctx, slog.LevelError, "sign-out: audited revocation failed; revoking without the audit row",
				slog.String("error", err.Error()))
		}
		if current == nil || err != nil {
			err = revoke(ctx)
		}
		if err != nil {
			// Better-Auth logs and carries on: the cookies are cleared either way.
			h.log.LogAttrs(ctx, slog.LevelWarn, "sign-out could not delete the session", slog.String("error", err.Error()))
		}
	}
	h.sessions.ClearCookies(c.Response(), c.Request())
	if err := h.signOutHooks(c); err != nil {
		return err
	}
	if current != nil {
		if accts, err := h.auth.ListAccounts(ctx, current.User.ID); err == nil {
			cb, _ := c.str("callbackURL")
			state, _ := c.str("state")
			if to, found := h.auth.Social().EndSessionURL(ctx, accts, cb, state); found {
				redirect := c.body["disableRedirect"] != true
				if redirect {
					c.Response().Header().Set("Location", to)
				}
				return ok(c, map[string]any{"success": true, "url": to, "redirect": redirect})
			}
		}
	}
	return ok(c, map[string]bool{"success": true})
}

// signOutHooks runs the plugins' SignOut hooks and sets the cookies they return.
func (h *authHandler) signOutHooks(c *call) error {
	if h.auth == nil {
		return nil
	}
	for _, p := range h.auth.Plugins() {
		if f := p.Hooks.SignOut; f != nil {
			cookies, err := f(c.Request().Context(), h.auth, h.incoming(c))
			if err != nil {
				return err
			}
			h.writeCookies(c, cookies)
		}
	}
	return nil
}

// getSession answers the client's session poll: the session and user, or null when signed out.
// It is the one route that does not go through callerSession, for Better-Auth's reasons: it may
// answer from the session_data cookie cache, its query can turn refresh and that cache off, it
// answers null rather than 401 without a session, and its failures are FAILED_TO_GET_SESSION.
func (h *authHandler) getSession(c *call) error {
	c.Response().Header().Set("Pragma", "no-cache") // Better-Auth's; Cache-Control is set for every endpoint
	q := c.Request().URL.Query()
	// Better-Auth coerces with JS Boolean(): any non-empty value, "false" included, is true.
	opts := session.GetOptions{DisableRefresh: q.Get("disableRefresh") != "", DisableCookieCache: q.Get("disableCookieCache") != ""}
	a, err := h.sessions.Get(c.Request().Context(), c.Response(), c.Request(), opts)
	switch {
	case errors.Is(err, session.ErrVanished):
		return errFailedGetSess
	case err != nil:
		// A plugin's refusal of the request's credential (an invalid x-api-key) is answered as
		// the plugin says, as Better-Auth's before-hook error is.
		var pe *plugin.Error
		if errors.As(err, &pe) {
			c.Response().Header().Del("Pragma")
			return err
		}
		if errors.Is(err, store.ErrUnavailable) {
			return err
		}
		h.log.LogAttrs(c.Request().Context(), slog.LevelError, "get-session failed", slog.String("error", err.Error()))
		return errGetSessInternal
	case a == nil:
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, []byte("null"))
	}
	if a.Via != "" {
		// Better-Auth answers a plugin's session (an API key's) from the plugin's before-hook,
		// which ends the request there: without the endpoint's Pragma and without the after-hooks
		// (no set-auth-jwt from jwt, nothing from a refresh).
		c.Response().Header().Del("Pragma")
		return ok(c, sessionUserResponse{Session: h.newSessionResponse(&a.Session), User: h.newUserResponse(&a.User)})
	}
	h.refreshHooks(c, a)
	if err := h.sessionHeaders(c, a); err != nil {
		return err
	}
	return ok(c, sessionUserResponse{Session: h.newSessionResponse(&a.Session), User: h.newUserResponse(&a.User)})
}

// sessionHeaders sets the headers the plugins add to a get-session answer that carries a session
// (jwt's set-auth-jwt), each exposed to browser scripts.
func (h *authHandler) sessionHeaders(c *call, a *session.Auth) error {
	if h.auth == nil {
		return nil
	}
	for _, p := range h.auth.Plugins() {
		f := p.Hooks.SessionHeaders
		if f == nil {
			continue
		}
		hs, err := f(c.Request().Context(), h.auth, a)
		if err != nil {
			return err
		}
		rh := c.Response().Header()
		for _, x := range hs {
			rh.Set(x.Name, x.Value)
			session.ExposeHeader(rh, x.Name)
		}
	}
	return nil
}

// postGetSession exists because Better-Auth routes POST /get-session only to refuse it unless
// deferred refresh is on (it is not, here).
func (h *authHandler) postGetSession(c *call) error {
	c.Response().Header().Set("Pragma", "no-cache")
	return errPostGetSession
}

func (h *authHandler) listSessions(c *call) error {
	list, err := h.sessions.List(c.Request().Context(), c.auth.User.ID)
	if err != nil {
		return err
	}
	for _, p := range h.auth.Plugins() {
		if f := p.Hooks.ListSessions; f != nil {
			list = f(h.auth.Store(), list)
		}
	}
	out := make([]sessionResponse, 0, len(list))
	for i := range list {
		out = append(out, h.newSessionResponse(&list[i]))
	}
	return ok(c, out)
}

// revokeSession deletes one of the caller's own sessions; a token of someone else's session is
// silently ignored so the endpoint cannot probe other users' tokens.
func (h *authHandler) revokeSession(c *call) error {
	token, _ := c.str("token")
	ctx := c.Request().Context()
	if list, err := h.sessions.List(ctx, c.auth.User.ID); err != nil {
		return err
	} else {
		for _, s := range list {
			if s.Token == token {
				ev := plugin.AuditEvent{Event: "session-revoked", UserID: c.auth.User.ID, SessionID: s.ID,
					Detail: map[string]any{"scope": "one"}}
				if err := h.audited(ctx, ev, func(ctx context.Context) error { return h.sessions.Revoke(ctx, token) }); err != nil {
					return err
				}
				break
			}
		}
	}
	if token == c.auth.Session.Token {
		h.sessions.ClearCookies(c.Response(), c.Request())
	}
	return ok(c, statusResponse)
}

func (h *authHandler) revokeSessions(c *call) error {
	ev := plugin.AuditEvent{Event: "session-revoked", UserID: c.auth.User.ID, SessionID: c.auth.Session.ID,
		Detail: map[string]any{"scope": "all"}}
	if err := h.audited(c.Request().Context(), ev, func(ctx context.Context) error {
		return h.sessions.RevokeAll(ctx, nil, c.auth.User.ID)
	}); err != nil {
		return err
	}
	h.sessions.ClearCookies(c.Response(), c.Request())
	return ok(c, statusResponse)
}

func (h *authHandler) revokeOtherSessions(c *call) error {
	ev := plugin.AuditEvent{Event: "session-revoked", UserID: c.auth.User.ID, SessionID: c.auth.Session.ID,
		Detail: map[string]any{"scope": "others"}}
	if err := h.audited(c.Request().Context(), ev, func(ctx context.Context) error {
		return h.sessions.RevokeOthers(ctx, c.auth.User.ID, c.auth.Session.Token)
	}); err != nil {
		return err
	}
	return ok(c, statusResponse)
}

// updateUser changes the name and image. Email changes have their own verified flow, so any email
// in the body is refused.
func (h *authHandler) updateUser(c *call) error {
	values, err := h.auth.UserInput(c.Request().Context(), plugin.UserInput{Body: c.body, UserID: c.auth.User.ID})
	if err != nil {
		return err
	}
	if truthy(c.body["email"]) {
		return auth.ErrEmailCannotBeUpdated
	}
	in := auth.UpdateUserInput{Values: values}
	if v, present := c.body["name"]; present && v != nil {
		s, isText := jsString(v)
		if !isText {
			return validationError("[body.name] Invalid input: expected string, received " + string(jsKind(v)))
		}
		if !store.ValidText(s) {
			return validationError("[body.name] " + nulMessage)
		}
		if msg := lengthIssue(s, auth.MaxNameLength); msg != "" {
			return validationError("[body.name] " + msg)
		}
		in.Name = &s
	}
	if v, present := c.body["image"]; present {
		if v == nil {
			in.ClearImage = true
		} else if s, isText := jsString(v); isText {
			if !store.ValidText(s) {
				return validationError("[body.image] " + nulMessage)
			}
			if msg := lengthIssue(s, auth.MaxImageLength); msg != "" {
				return validationError("[body.image] " + msg)
			}
			in.Image = &s
		} else {
			return validationError("[body.image] Invalid input: expected string, received " + string(jsKind(v)))
		}
	}
	if err := h.fieldNotAllowed(c.body, false); err != nil {
		return err
	}
	if _, err := h.auth.UpdateUser(c.Request().Context(), c.auth.User.ID, in); err != nil {
		if errors.Is(err, auth.ErrUserNotFound) {
			return errUnauthorized // deleted after its session was checked: its session is gone too
		}
		if errors.Is(err, store.ErrConflict) {
			// A unique plugin field (a username) was taken by a request that committed between
			// the plugin's check and this write. Run now, the check names the refusal.
			if _, err := h.auth.UserInput(c.Request().Context(), plugin.UserInput{Body: c.body, UserID: c.auth.User.ID}); err != nil {
				return err
			}
			return errUpdateConflict
		}
		return err
	}
	h.sessions.SetCookie(c.Response(), c.Request(), c.auth.Session.Token, nil)
	return ok(c, statusResponse)
}

func (h *authHandler) changePassword(c *call) error {
	cur, _ := c.str("currentPassword")
	next, _ := c.str("newPassword")
	revoke := c.boolPtr("revokeOtherSessions")
	created, err := h.auth.ChangePassword(c.Request().Context(), &c.auth.User, auth.ChangePasswordInput{
		CurrentPassword: cur, NewPassword: next, RevokeOtherSessions: revoke != nil && *revoke, Meta: h.meta(c),
	})
	if err != nil {
		return err
	}
	body := struct {
		Token *string      `json:"token"`
		User  userResponse `json:"user"`
	}{User: h.newUserResponse(&c.auth.User)}
	if created != nil {
		h.writeSignIn(c, created)
		body.Token = &created.Session.Token
	}
	return ok(c, body)
}

func (h *authHandler) listAccounts(c *call) error {
	accts, err := h.auth.ListAccounts(c.Request().Context(), c.auth.User.ID)
	if err != nil {
		return err
	}
	out := make([]accountResponse, 0, len(accts))
	for i := range accts {
		out = append(out, newAccountResponse(&accts[i]))
	}
	return ok(c, out)
}

func strOr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// jsString converts a scalar JSON value to the text a SQL text column receives from Better-Auth,
// which passes numbers and booleans through unvalidated (update-user {"name": 42} stores "42").
func jsString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}

// unlinkAccount removes one of the caller's sign-in methods, never the last one.
func (h *authHandler) unlinkAccount(c *call) error {
	id, _ := c.str("accountId")
	if err := h.auth.UnlinkAccount(c.Request().Context(), c.auth.User.ID, id); err != nil {
		return err
	}
	return ok(c, statusResponse)
}

// verifyPassword checks the caller's password without changing anything.
func (h *authHandler) verifyPassword(c *call) error {
	pw, _ := c.str("password")
	if err := h.auth.VerifyPassword(c.Request().Context(), c.auth.User.ID, pw); err != nil {
		return err
	}
	return ok(c, statusResponse)
}

// updateSession would set session additional fields; this server declares none, so, as in
// Better-Auth with none declared, every body has "No fields to update".
func (h *authHandler) updateSession(c *call) error {
	return auth.ErrNoFieldsToUpdate
}

// audited makes the change and its audit row in one transaction (auth.Service.Audited); a
// server without the auth service, as some tests build, makes the change and records nothing.
func (h *authHandler) audited(ctx context.Context, ev plugin.AuditEvent, change func(ctx context.Context) error) error {
	if h.auth == nil {
		return change(ctx)
	}
	return h.auth.Audited(ctx, ev, change)
}

// securityEvents is GET /security-events?limit= (our own endpoint; Better-Auth has none): the
// caller's own recent audit-log rows, newest first ({"events":[...]}), at most limit (default 50,
// at most 200) so a user can spot a sign-in or change they did not make.
func (h *authHandler) securityEvents(c *call) error {
	limit := 50
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return validationError("[query.limit] Invalid input: expected a whole number from 1 to 200")
		}
		limit = n
	}
	rows, _, err := h.auth.Store().AuditLog(c.Request().Context(), store.AuditFilter{UserID: c.auth.User.ID, Limit: limit})
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []store.AuditEntry{}
	}
	return ok(c, map[string]any{"events": rows})
}
