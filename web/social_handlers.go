package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"authserver/auth"
	"authserver/session"
	"authserver/store"
)

// registerSocialRoutes adds Better-Auth's social sign-in endpoints: the redirect flow and its
// callback, sign-in and linking with ID tokens, and the provider-token endpoints. The providers
// come from auth.Service.Social(); with none configured every provider is "not found", as in a
// Better-Auth server without socialProviders.
func (h *authHandler) registerSocialRoutes(g *echo.Group) {
	for _, ep := range []endpoint{
		{method: http.MethodPost, path: "/sign-in/social", schema: &schema{tree: socialSignInFields}, handle: h.signInSocial},
		{method: http.MethodGet, path: "/callback/:id", handle: h.oauthCallback},
		{method: http.MethodPost, path: "/callback/:id", form: true, handle: h.oauthCallbackPost},
		{method: http.MethodPost, path: "/link-social", schema: &schema{tree: linkSocialFields}, session: needSession, authoritative: true, handle: h.linkSocial},
		{method: http.MethodPost, path: "/get-access-token", handle: h.getAccessToken},
		{method: http.MethodPost, path: "/refresh-token", handle: h.refreshToken},
		{method: http.MethodGet, path: "/account-info", handle: h.accountInfo},
	} {
		h.route(g, ep)
	}
}

// The social bodies nest objects, arrays and records: their schemas are field trees (see zfield).

var (
	additionalParamsField = zfield{name: "additionalParams", kind: zStringMap, optional: true, reserved: auth.IsReservedAuthParam,
		refineMsg: "additionalParams cannot include reserved OAuth parameters: state, client_id, redirect_uri, response_type, code_challenge, code_challenge_method, nonce, scope"}

	// socialSignInFields is Better-Auth's socialSignInBodySchema.
	socialSignInFields = []zfield{
		{name: "callbackURL", kind: zString, optional: true},
		{name: "newUserCallbackURL", kind: zString, optional: true},
		{name: "errorCallbackURL", kind: zString, optional: true},
		{name: "provider", kind: zUnion},
		{name: "disableRedirect", kind: zBool, optional: true},
		{name: "idToken", kind: zObject, optional: true, fields: []zfield{
			{name: "token", kind: zString},
			{name: "nonce", kind: zString, optional: true},
			{name: "accessToken", kind: zString, optional: true},
			{name: "refreshToken", kind: zString, optional: true},
			{name: "expiresAt", kind: zNumber, optional: true},
			{name: "user", kind: zObject, optional: true, fields: []zfield{
				{name: "name", kind: zObject, optional: true, fields: []zfield{
					{name: "firstName", kind: zString, optional: true},
					{name: "lastName", kind: zString, optional: true},
				}},
				{name: "email", kind: zString, optional: true},
			}},
		}},
		{name: "scopes", kind: zStrings, optional: true},
		{name: "requestSignUp", kind: zBool, optional: true},
		{name: "loginHint", kind: zString, optional: true},
		additionalParamsField,
		{name: "additionalData", kind: zAnyMap, optional: true},
	}

	// linkSocialFields is link-social's body schema.
	linkSocialFields = []zfield{
		{name: "callbackURL", kind: zString, optional: true},
		{name: "provider", kind: zUnion},
		{name: "idToken", kind: zObject, optional: true, fields: []zfield{
			{name: "token", kind: zString},
			{name: "nonce", kind: zString, optional: true},
			{name: "accessToken", kind: zString, optional: true},
			{name: "refreshToken", kind: zString, optional: true},
		}},
		{name: "requestSignUp", kind: zBool, optional: true},
		{name: "scopes", kind: zStrings, optional: true},
		{name: "errorCallbackURL", kind: zString, optional: true},
		{name: "disableRedirect", kind: zBool, optional: true},
		{name: "loginHint", kind: zString, optional: true},
		additionalParamsField,
		{name: "additionalData", kind: zAnyMap, optional: true},
	}

	// callbackFields are the callback's parameters, all optional strings.
	callbackParamNames = []string{"code", "error", "device_id", "error_description", "state", "user", "iss"}
)

// accountSelection validates get-access-token's, refresh-token's and account-info's strict union
// {accountId, userId?} | {useAccountCookie: true, userId?} the way zod reports it: when exactly
// one alternative fails only on unknown keys, those keys are named ("[body] Unrecognized key:
// \"foo\""); otherwise the union fails as a whole ("[body] Invalid input").
func accountSelection(where string, m map[string]any) (accountID string, err error) {
	invalid := validationError("[" + where + "] Invalid input")
	if m == nil {
		return "", invalid
	}
	userOK := true
	if uid, present := m["userId"]; present {
		_, userOK = uid.(string)
	}
	unknown := func(allowed string) []string {
		var out []string
		for _, k := range sortedMapKeys(m) {
			if k != allowed && k != "userId" {
				out = append(out, k)
			}
		}
		return out
	}
	id, idOK := m["accountId"].(string)
	byID := struct {
		fatal   bool
		unknown []string
	}{!idOK || !userOK, unknown("accountId")}
	byCookie := struct {
		fatal   bool
		unknown []string
	}{m["useAccountCookie"] != true || !userOK, unknown("useAccountCookie")}
	switch {
	case !byID.fatal && len(byID.unknown) == 0:
		return id, nil
	case !byCookie.fatal && len(byCookie.unknown) == 0:
		// The account cookie is only kept by database-less deployments, so there is never
		// one to select (Better-Auth answers ACCOUNT_NOT_FOUND too).
		return "", nil
	case !byID.fatal && byCookie.fatal:
		return "", unrecognizedKeys(where, byID.unknown)
	case byID.fatal && !byCookie.fatal:
		return "", unrecognizedKeys(where, byCookie.unknown)
	}
	return "", invalid
}

func unrecognizedKeys(where string, keys []string) error {
	quoted := make([]string, len(keys))
	for i, k := range keys {
		quoted[i] = strconv.Quote(k)
	}
	label := "Unrecognized key"
	if len(keys) > 1 {
		label += "s"
	}
	return validationError("[" + where + "] " + label + ": " + strings.Join(quoted, ", "))
}

// --- handlers ----------------------------------------------------------------------------------

func idTokenInput(m map[string]any) *auth.IDTokenInput {
	if m == nil {
		return nil
	}
	in := &auth.IDTokenInput{}
	in.Token, _ = m["token"].(string)
	in.Nonce, _ = m["nonce"].(string)
	in.AccessToken, _ = m["accessToken"].(string)
	in.RefreshToken, _ = m["refreshToken"].(string)
	if u, ok := m["user"].(map[string]any); ok {
		in.User = &auth.IDTokenUser{}
		in.User.Email, _ = u["email"].(string)
		if n, ok := u["name"].(map[string]any); ok {
			in.User.HasName = true
			in.User.FirstName, _ = n["firstName"].(string)
			in.User.LastName, _ = n["lastName"].(string)
		}
	}
	return in
}

func stringSlice(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func stringMap(v any) map[string]string {
	m, _ := v.(map[string]any)
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, e := range m {
		if s, ok := e.(string); ok {
			out[k] = s
		}
	}
	return out
}

// redirectResponse is the {url, redirect} answer of a flow that sends the browser to the
// provider; Location is set too unless disableRedirect, as Better-Auth does.
func (h *authHandler) redirectResponse(c *call, authURL, state string) error {
	h.sessions.SetStateCookie(c.Response(), state)
	disable := c.boolPtr("disableRedirect")
	redirect := disable == nil || !*disable
	if redirect {
		c.Response().Header().Set("Location", authURL)
	}
	return ok(c, struct {
		URL      string `json:"url"`
		Redirect bool   `json:"redirect"`
	}{authURL, redirect})
}

// signInSocial starts a social sign-in (answering with the provider's authorization URL) or,
// with an ID token, signs in at once.
func (h *authHandler) signInSocial(c *call) error {
	provider, _ := c.str("provider")
	idt, _ := c.body["idToken"].(map[string]any)
	ad, _ := c.body["additionalData"].(map[string]any)
	loginHint, _ := c.str("loginHint")
	res, err := h.auth.Social().SignIn(c.Request().Context(), auth.SocialSignInInput{
		Provider: provider, CallbackURL: c.strPtr("callbackURL"), NewUserCallbackURL: c.strPtr("newUserCallbackURL"),
		ErrorCallbackURL: c.strPtr("errorCallbackURL"), Scopes: stringSlice(c.body["scopes"]), LoginHint: loginHint,
		RequestSignUp: c.boolPtr("requestSignUp"), AdditionalParams: stringMap(c.body["additionalParams"]), AdditionalData: ad,
		IDToken: idTokenInput(idt), Meta: h.meta(c), Incoming: h.incoming(c),
	})
	if err != nil {
		return err
	}
	if res.SignIn == nil {
		return h.redirectResponse(c, res.URL, res.State)
	}
	h.writeSignIn(c, res.SignIn)
	return ok(c, struct {
		Redirect bool         `json:"redirect"`
		Token    string       `json:"token"`
		User     userResponse `json:"user"`
	}{false, res.SignIn.Session.Token, h.newUserResponse(&res.SignIn.User)})
}

// callbackQuery reads the callback parameters from the query; a repeated parameter is a
// validation error, as better-call parses repeats into arrays.
func callbackQuery(q url.Values) (map[string]string, error) {
	out := map[string]string{}
	for _, k := range callbackParamNames {
		vs, ok := q[k]
		if !ok {
			continue
		}
		if len(vs) > 1 {
			return nil, validationError("[query." + k + "] Invalid input: expected string, received array")
		}
		out[k] = vs[0]
	}
	return out, nil
}

// oauthCallback is where providers send the browser back. It always answers 302: to the
// callback URL when signed in (or linked), else to the error URL with Better-Auth's code.
func (h *authHandler) oauthCallback(c *call) error {
	q, err := callbackQuery(c.Request().URL.Query())
	if err != nil {
		return err
	}
	cookieState, _ := h.sessions.StateFromCookie(c.Request())
	res := h.auth.Social().Callback(c.Request().Context(), auth.CallbackInput{
		ProviderID: c.Param("id"),
		Params: auth.CallbackParams{Code: q["code"], State: q["state"], Error: q["error"], ErrorDescription: q["error_description"],
			DeviceID: q["device_id"], User: q["user"], Iss: q["iss"]},
		StateCookie: cookieState,
		Meta:        h.meta(c),
		Incoming:    h.incoming(c),
	})
	if res.ClearStateCookie {
		h.sessions.ClearStateCookie(c.Response())
	}
	if res.SignIn != nil {
		h.writeSignIn(c, res.SignIn)
	}
	return redirect(c, res.Location)
}

// oauthCallbackPost turns a form_post callback (Apple) into a top-level GET of the same
// callback with the parameters in the query, so the browser sends its SameSite=Lax cookies.
func (h *authHandler) oauthCallbackPost(c *call) error {
	if c.kind != bodyAbsent {
		if c.kind != "object" {
			return validationError("[body] Invalid input: expected object, received " + string(c.kind))
		}
		var issues []string
		for _, k := range callbackParamNames {
			if v, present := c.body[k]; present {
				if kind := jsKind(v); kind != "string" {
					issues = append(issues, "[body."+k+"] Invalid input: expected string, received "+string(kind))
				}
			}
		}
		if len(issues) > 0 {
			return validationError(strings.Join(issues, "; "))
		}
	}
	q, err := callbackQuery(c.Request().URL.Query())
	if err != nil {
		return err
	}
	var pairs []string
	for _, k := range callbackParamNames {
		v, fromQuery := q[k]
		if !fromQuery {
			s, isStr := c.body[k].(string)
			if !isStr {
				continue
			}
			v = s
		}
		pairs = append(pairs, formEncode(k)+"="+formEncode(v))
	}
	target := h.apiURL() + "/callback/" + c.Param("id") + "?" + strings.Join(pairs, "&")
	return redirect(c, target)
}

// formEncode escapes like URLSearchParams: spaces as "+", only [A-Za-z0-9*-._] kept.
func formEncode(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(url.QueryEscape(s), "~", "%7E"), "%2A", "*")
}

// linkSocial links a provider account to the signed-in user, by redirect or with an ID token.
func (h *authHandler) linkSocial(c *call) error {
	a := c.auth
	provider, _ := c.str("provider")
	idt, _ := c.body["idToken"].(map[string]any)
	ad, _ := c.body["additionalData"].(map[string]any)
	loginHint, _ := c.str("loginHint")
	res, err := h.auth.Social().Link(c.Request().Context(), a, auth.LinkSocialInput{
		Provider: provider, CallbackURL: c.strPtr("callbackURL"), ErrorCallbackURL: c.strPtr("errorCallbackURL"),
		Scopes: stringSlice(c.body["scopes"]), LoginHint: loginHint, RequestSignUp: c.boolPtr("requestSignUp"),
		AdditionalParams: stringMap(c.body["additionalParams"]), AdditionalData: ad, IDToken: idTokenInput(idt),
	})
	if err != nil {
		return err
	}
	if res.Linked {
		return ok(c, struct {
			URL      string `json:"url"`
			Status   bool   `json:"status"`
			Redirect bool   `json:"redirect"`
		}{"", true, false})
	}
	return h.redirectResponse(c, res.URL, res.State)
}

// tokenSession is the session check of the provider-token endpoints: without a session
// Better-Auth answers 401 with an empty body (and a JSON content type).
func (h *authHandler) tokenSession(c *call) (*session.Auth, error) {
	a, err := callerSession(c.Request().Context(), h.sessions, c, needSession)
	if err == errUnauthorized {
		return nil, &apiError{Status: http.StatusUnauthorized, Empty: true}
	}
	return a, err
}

// tokenAccount is the common start of get-access-token and refresh-token: the account chosen in
// the body (checked before the session, as Better-Auth does), then the caller's session, then
// an account to act on. It returns the caller's user ID and the account ID.
func (h *authHandler) tokenAccount(c *call) (string, string, error) {
	accountID, err := accountSelection("body", c.body)
	if err != nil {
		return "", "", err
	}
	a, err := h.tokenSession(c)
	if err != nil {
		return "", "", err
	}
	if accountID == "" {
		return "", "", auth.ErrAccountNotFound
	}
	return a.User.ID, accountID, nil
}

// getAccessToken returns a valid provider access token for one of the caller's accounts.
func (h *authHandler) getAccessToken(c *call) error {
	userID, accountID, err := h.tokenAccount(c)
	if err != nil {
		return err
	}
	res, err := h.auth.Social().AccessToken(c.Request().Context(), userID, accountID)
	if err != nil {
		return err
	}
	return ok(c, accessTokenResponse{AccessToken: res.AccessToken, AccessTokenExpiresAt: optJSTime(res.AccessTokenExpiresAt),
		Scopes: res.Scopes, IDToken: res.IDToken})
}

// accessTokenResponse is get-access-token's body; absent values are left out, as undefined is
// in Better-Auth's JSON.
type accessTokenResponse struct {
	AccessToken          string   `json:"accessToken"`
	AccessTokenExpiresAt *jsTime  `json:"accessTokenExpiresAt,omitempty"`
	Scopes               []string `json:"scopes"`
	IDToken              *string  `json:"idToken,omitempty"`
}

// refreshTokenResponse is refresh-token's body: accessTokenExpiresAt is left out when the
// provider gave none; the stored values are null when the row has none.
type refreshTokenResponse struct {
	AccessToken           string  `json:"accessToken"`
	RefreshToken          string  `json:"refreshToken"`
	AccessTokenExpiresAt  *jsTime `json:"accessTokenExpiresAt,omitempty"`
	RefreshTokenExpiresAt *jsTime `json:"refreshTokenExpiresAt"`
	Scope                 *string `json:"scope"`
	IDToken               *string `json:"idToken"`
	ProviderID            string  `json:"providerId"`
	AccountID             string  `json:"accountId"`
}

// refreshToken refreshes a provider account's tokens now.
func (h *authHandler) refreshToken(c *call) error {
	userID, accountID, err := h.tokenAccount(c)
	if err != nil {
		return err
	}
	res, err := h.auth.Social().RefreshToken(c.Request().Context(), userID, accountID)
	if err != nil {
		return err
	}
	return ok(c, refreshTokenResponse{AccessToken: res.AccessToken, RefreshToken: res.RefreshToken,
		AccessTokenExpiresAt: optJSTime(res.AccessTokenExpiresAt), RefreshTokenExpiresAt: optJSTime(res.RefreshTokenExpiresAt),
		Scope: res.Scope, IDToken: res.IDToken, ProviderID: res.ProviderID, AccountID: res.AccountID})
}

// accountInfo asks the provider who the account is.
func (h *authHandler) accountInfo(c *call) error {
	q := map[string]any{}
	for k, vs := range c.Request().URL.Query() {
		if len(vs) == 1 {
			q[k] = vs[0]
		} else {
			q[k] = vs
		}
	}
	accountID, err := accountSelection("query", q)
	if err != nil {
		return err
	}
	a, err := h.tokenSession(c)
	if err != nil {
		return err
	}
	res, err := h.auth.Social().AccountInfo(c.Request().Context(), a.User.ID, accountID)
	if err != nil {
		return err
	}
	data := res.Data
	if data == nil {
		data = map[string]any{}
	}
	return ok(c, struct {
		User    accountInfoUser    `json:"user"`
		Data    map[string]any     `json:"data"`
		Account accountInfoAccount `json:"account"`
	}{
		User:    accountInfoUser{Name: res.User.Name, Email: res.User.Email, Image: res.User.Image, EmailVerified: res.User.EmailVerified},
		Data:    data,
		Account: accountInfoAccount{ID: res.Account.ID, ProviderID: res.Account.ProviderID, AccountID: res.Account.AccountID},
	})
}

type accountInfoUser struct {
	Name          *string `json:"name,omitempty"`
	Email         *string `json:"email,omitempty"`
	Image         *string `json:"image,omitempty"`
	EmailVerified bool    `json:"emailVerified"`
}

type accountInfoAccount struct {
	ID         string `json:"id"`
	ProviderID string `json:"providerId"`
	AccountID  string `json:"accountId"`
}

func jsTimeOf(t time.Time) jsTime { return jsTime(store.NewTime(t)) }

// optJSTime is jsTimeOf for an optional time: nil stays nil (null, or left out with omitempty).
func optJSTime(t *time.Time) *jsTime {
	if t == nil {
		return nil
	}
	v := jsTimeOf(*t)
	return &v
}
