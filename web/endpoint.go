package web

import (
	"authserver/auth"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"authserver/auth/plugin"
	"authserver/session"
)

// sessionNeed says what an endpoint requires of the caller's session; plugin endpoints declare
// the same needs.
type sessionNeed = plugin.Need

const (
	noSession = plugin.NoSession
	// needSession reads the session from the database or the in-process cache, which every
	// revocation reaches at once, never from the session_data cookie cache: that cookie answers
	// get-session only, so a revoked session can at worst be displayed, never used.
	needSession = plugin.NeedSession
	// needFreshSession also demands a recent sign-in (SESSION_FRESH_AGE).
	needFreshSession = plugin.NeedFreshSession
	// optionalSession reads the session as needSession does, but its absence is no error.
	optionalSession = plugin.OptionalSession
)

// endpoint describes one Better-Auth route. Every answer is Cache-Control: no-store. Its request
// passes the same stages, in the same order, as in Better-Auth's router, because the order
// decides which error a bad request gets: body parsing (415, 400), the origin and callback-URL
// check (403), schema validation (400 VALIDATION_ERROR), the sign-in CSRF check (403), the
// session check (401/403), then (not in Better-Auth, and only with rate limiting on) the user's
// budget of password checks (429), then the handler.
type endpoint struct {
	method   string
	path     string
	form     bool    // also accepts application/x-www-form-urlencoded
	noBody   bool    // the body is never read (get-session)
	schema   *schema // nil: no body validation
	formCSRF bool    // fetch-metadata CSRF check of sign-in and sign-up
	session  sessionNeed
	// authoritative ignores a session a plugin's RequestSession hook made (an API key's), as
	// Better-Auth's sensitiveSessionMiddleware and getAuthoritativeSessionFromCtx do
	// (plugin.Endpoint.Authoritative).
	authoritative bool
	// checksPassword reports whether the request has the signed-in user's password checked; such
	// requests also count against the user's own rate-limit budget (rateLimiter.limitPasswordCheck).
	checksPassword func(c *call) bool
	handle         func(c *call) error
	// tag names the endpoint's group in the OpenAPI document: empty for the core, the plugin's
	// tag (pluginTag) for a plugin's endpoint.
	tag string
}

// always is checksPassword for endpoints whose schema requires the password.
func always(*call) bool { return true }

// sendsPassword is checksPassword for delete-user, which checks a password only when one is sent.
func sendsPassword(c *call) bool {
	pw, _ := c.str("password")
	return pw != ""
}

// call is one request on its way through an endpoint.
type call struct {
	echo.Context
	h    *authHandler
	body map[string]any // the decoded body; nil when the request had none or it was no object
	kind bodyKind       // the JSON type of the body as sent ("undefined" when absent)
	raw  []byte         // the JSON body as sent (nil for a form body or none), for plugin.Request.RawBody
	auth *session.Auth  // set when the endpoint needs a session
}

// str returns a string field of the body and whether it was present as a string.
func (c *call) str(key string) (string, bool) {
	v, ok := c.body[key].(string)
	return v, ok
}

// strPtr returns a string field as a pointer, nil when absent.
func (c *call) strPtr(key string) *string {
	if v, ok := c.str(key); ok {
		return &v
	}
	return nil
}

// boolPtr returns a boolean field as a pointer, nil when absent.
func (c *call) boolPtr(key string) *bool {
	if v, ok := c.body[key].(bool); ok {
		return &v
	}
	return nil
}

// route mounts ep and records it for the OpenAPI document (authHandler.documented), so every
// endpoint mounted here is described from the declaration that mounts it.
func (h *authHandler) route(g *echo.Group, ep endpoint) {
	h.documented = append(h.documented, ep)
	g.Add(ep.method, ep.path, func(ec echo.Context) error {
		c := &call{Context: ec, h: h}
		// Audit rows written while serving this request record its client details.
		ec.SetRequest(ec.Request().WithContext(auth.WithClient(ec.Request().Context(), h.meta(ec), ep.path)))
		r := ec.Request()
		// Answers here carry session tokens, provider tokens and personal data (and redirects set
		// cookies), so no cache may keep one. Better-Auth marks only get-session; its client
		// cannot tell the difference.
		ec.Response().Header().Set("Cache-Control", "no-store")
		c.kind = bodyAbsent
		if !ep.noBody {
			body, kind, err := readBody(r, ep.form)
			if err != nil {
				return err
			}
			c.body, c.kind = body, kind
			if kind == "object" && r.PostForm == nil {
				c.raw = rawBody(r)
			}
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions {
			if err := h.checkOrigin(r, false); err != nil {
				return err
			}
			if err := h.checkCallbackURLs(r, c.body); err != nil {
				return err
			}
		}
		if ep.schema != nil {
			if err := ep.schema.validate(c.body, c.kind); err != nil {
				var api *apiError
				if ep.schema.onError != nil && errors.As(err, &api) {
					return ep.schema.onError(api.Message, c.body)
				}
				return err
			}
		}
		if ep.formCSRF {
			if err := h.checkFormCSRF(r); err != nil {
				return err
			}
		}
		if ep.session != noSession {
			a, err := callerSessionOf(r.Context(), h.sessions, ec, ep.session, ep.authoritative)
			if err != nil {
				return err
			}
			c.auth = a
			if a != nil {
				h.refreshHooks(ec, a)
			}
		}
		if h.limiter != nil && ep.checksPassword != nil && ep.checksPassword(c) {
			if err := h.limiter.limitPasswordCheck(r.Context(), ep.path, c.auth.User.ID); err != nil {
				return err
			}
		}
		return ep.handle(c)
	})
}

// callerSession is the one check of a caller's session, for every route but get-session: the
// endpoints' session stage, the handlers that must check their query or body first, plugins
// (Incoming.Session) and /content (RequireSession). It reads authoritatively, from the database
// or the in-process cache that every revocation reaches at once, never from the session_data
// cookie cache, which only get-session trusts (so a revoked session can at worst be displayed,
// never used). It slides the session when due, like any read. A session that vanished while
// being read counts as none: OptionalSession then gives nil, NeedSession 401 UNAUTHORIZED, and
// NeedFreshSession additionally 403 SESSION_NOT_FRESH for a sign-in older than SESSION_FRESH_AGE.
func callerSession(ctx context.Context, m *session.Manager, c echo.Context, need sessionNeed) (*session.Auth, error) {
	return callerSessionOf(ctx, m, c, need, false)
}

// callerSessionOf is callerSession; with authoritative, a session from a plugin's credential
// (Auth.Via set) is dropped and the cookie or bearer token read instead, as Better-Auth's
// getAuthoritativeSessionFromCtx does. The credential is still checked first, so an invalid
// key is refused and a valid one spends a use, as Better-Auth's before-hook does.
func callerSessionOf(ctx context.Context, m *session.Manager, c echo.Context, need sessionNeed, authoritative bool) (*session.Auth, error) {
	a, err := m.Get(ctx, c.Response(), c.Request(), session.GetOptions{DisableCookieCache: true})
	if err == nil && authoritative && a != nil && a.Via != "" {
		a, err = m.Get(ctx, c.Response(), c.Request(), session.GetOptions{DisableCookieCache: true, SkipRequestAuth: true})
	}
	if errors.Is(err, session.ErrVanished) {
		a, err = nil, nil
	}
	switch {
	case err != nil:
		return nil, err
	case a == nil && need == optionalSession:
		return nil, nil
	case a == nil:
		return nil, errUnauthorized
	case need == needFreshSession && !m.IsFresh(&a.Session):
		return nil, errSessionNotFresh
	}
	return a, nil
}

// bodyKind is the JSON type of a request body, for zod-style messages.
type bodyKind string

const bodyAbsent bodyKind = "undefined"

// readBody decodes a request body into a map, as better-call does. Like its Node adapter, a
// request without a Content-Type or with an empty body has no body at all. Any other media type
// than the endpoint accepts is a 415; malformed JSON is a 400. A JSON body that is not an object
// (an array, a string, null) is kept aside for the schema to reject.
func readBody(r *http.Request, form bool) (map[string]any, bodyKind, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" || r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return nil, bodyAbsent, nil
	}
	allowed := []string{"application/json"}
	if form {
		allowed = []string{"application/x-www-form-urlencoded", "application/json"}
	}
	media := strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	match := false
	for _, a := range allowed {
		if media == a {
			match = true
		}
	}
	if !match {
		return nil, "", newAPIError(http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
			fmt.Sprintf("Content-Type %q is not allowed. Allowed types: %s", ct, strings.Join(allowed, ", ")))
	}
	raw, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(raw)) // kept for rawBody
	if err != nil {
		var maxErr *http.MaxBytesError
		var he *echo.HTTPError
		if errors.As(err, &maxErr) || (errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge) {
			return nil, "", errTooLarge
		}
		return nil, "", errBadJSON
	}
	if media == "application/x-www-form-urlencoded" {
		vals, err := url.ParseQuery(string(raw))
		if err != nil {
			return nil, "", newAPIError(http.StatusBadRequest, "BAD_REQUEST", "Invalid form body")
		}
		// The values as sent, repeats included, for endpoints that refuse repeated parameters
		// (plugin.Request.Form).
		r.PostForm = vals
		out := make(map[string]any, len(vals))
		for k, v := range vals {
			// FormData.forEach keeps the last value of a repeated key; invalid UTF-8 becomes
			// U+FFFD as it does in JSON bodies.
			out[strings.ToValidUTF8(k, "\uFFFD")] = strings.ToValidUTF8(v[len(v)-1], "\uFFFD")
		}
		return out, "object", nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&v); err != nil {
		return nil, "", errBadJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "", errBadJSON
	}
	kind := jsKind(v)
	if m, ok := v.(map[string]any); ok {
		return m, kind, nil
	}
	return nil, kind, nil
}

// rawBody returns the body readBody read (and put back), for endpoints that keep a client's JSON
// verbatim: JSON.stringify keeps an object's key order, a decoded Go map does not.
func rawBody(r *http.Request) []byte {
	if r.Body == nil {
		return nil
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	return raw
}

// jsKind names a decoded JSON value's type as zod's messages do.
func jsKind(v any) bodyKind { return bodyKind(plugin.JSType(v)) }
