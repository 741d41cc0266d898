// Package multisession is Better-Auth's multi-session plugin: one browser keeps a signed cookie
// per session it signed in (one per user), lists them, switches the active session among them
// and revokes them one by one.
//
// Every answer that sets the session cookie (a sign-in, a session handed over or refreshed; the
// plugin.Hooks.SessionCookie hook) adds "<session cookie name>_multi-<token lowercased>" unless
// the browser holds it, signed like the session cookie and with its attributes and lifetime
// (Max-Age is always the session lifetime, even for rememberMe:false). Before that, the browser's
// other sessions of the same user are deleted and their cookies expired; no cookie is added once
// the browser would hold more than MaximumSessions. Sign-out expires every multi cookie and deletes their sessions. The plugin
// adds no table and no column.
package multisession

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store"
)

// ID is Better-Auth's name for the plugin.
const ID = "multi-session"

// DefaultMaximumSessions is Better-Auth's maximumSessions default.
const DefaultMaximumSessions = 5

// cookieInfix is what Better-Auth's test for a multi-session cookie looks for in a cookie name.
const cookieInfix = "_multi-"

// cookieStem is the auth cookie name (below the prefix) of the session cookie; a multi cookie
// is named after it.
const cookieStem = "session_token" + cookieInfix

// ErrInvalidSessionToken is the answer when the browser holds no valid signed multi cookie for
// the token asked for, or its session is gone or expired.
var ErrInvalidSessionToken = &plugin.Error{Status: http.StatusUnauthorized, Code: "INVALID_SESSION_TOKEN", Message: "Invalid session token"}

// Config is the plugin's options.
type Config struct {
	// MaximumSessions is how many multi cookies one browser may hold (Better-Auth's
	// maximumSessions, MULTI_SESSION_MAXIMUM_SESSIONS, default 5).
	MaximumSessions int
	// SessionExpiresIn is the session lifetime, the multi cookies' Max-Age as the session
	// cookie's.
	SessionExpiresIn time.Duration
}

// LoadConfig reads MULTI_SESSION_MAXIMUM_SESSIONS (a positive whole number, default 5);
// sessionExpiresIn is the server's session lifetime (SESSION_EXPIRES_IN).
func LoadConfig(getenv func(string) string, sessionExpiresIn time.Duration) (Config, error) {
	c := Config{MaximumSessions: DefaultMaximumSessions, SessionExpiresIn: sessionExpiresIn}
	if c.SessionExpiresIn <= 0 {
		c.SessionExpiresIn = 7 * 24 * time.Hour
	}
	if v := strings.TrimSpace(getenv("MULTI_SESSION_MAXIMUM_SESSIONS")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return c, fmt.Errorf("MULTI_SESSION_MAXIMUM_SESSIONS: %q is not a whole number from 1 to 100", v)
		}
		c.MaximumSessions = n
	}
	return c, nil
}

type multi struct {
	cfg Config
}

// New builds the plugin.
func New(cfg Config) plugin.Plugin {
	if cfg.MaximumSessions <= 0 {
		cfg.MaximumSessions = DefaultMaximumSessions
	}
	if cfg.SessionExpiresIn <= 0 {
		cfg.SessionExpiresIn = 7 * 24 * time.Hour
	}
	m := &multi{cfg: cfg}
	token := &plugin.Schema{Fields: []plugin.Field{{Name: "sessionToken", Kind: plugin.String}}}
	return plugin.Plugin{
		ID: ID,
		Endpoints: []plugin.Endpoint{
			{Method: http.MethodGet, Path: "/multi-session/list-device-sessions", Handle: m.list},
			{Method: http.MethodPost, Path: "/multi-session/set-active", Body: token, Handle: m.setActive},
			{Method: http.MethodPost, Path: "/multi-session/revoke", Body: token, Session: plugin.NeedSession, Handle: m.revoke},
		},
		Hooks: plugin.Hooks{SessionCookie: m.sessionCookie, SignOut: m.signOut},
	}
}

// held is one verified multi cookie of the request.
type held struct {
	name  string // as the browser sent it
	token string
}

// heldCookies returns the request's multi cookies whose signature verifies, in Cookie header
// order (signed with any secret the keyring accepts), and how many multi cookies it has in all
// (verified or not), which is what the limit
// counts.
func heldCookies(in plugin.Incoming, keys session.Keys) (out []held, all int) {
	if in == nil {
		return nil, 0
	}
	for _, name := range plugin.CookieNames(in) {
		if !strings.Contains(name, cookieInfix) {
			continue
		}
		all++
		raw, ok := in.Cookie(name)
		if !ok {
			continue
		}
		if token, ok := keys.UnsignAny(raw); ok {
			out = append(out, held{name: name, token: token})
		}
	}
	return out, all
}

// cookieName is the multi cookie of token, as the auth cookie name below the prefix.
func cookieName(token string) string { return cookieStem + strings.ToLower(token) }

// expireHeld expires a cookie the browser sent under its own name, with the session cookie's
// attributes.
func expireHeld(name string) plugin.Cookie {
	return plugin.Cookie{Name: name, MaxAge: 0, HTTPOnly: true}
}

// sessionCookie gives the session an answer sets its multi cookie, unless the browser holds it
// already: first the browser's other sessions of the same user are deleted and their cookies
// expired, then the cookie is added unless the browser would hold more than the maximum.
func (m *multi) sessionCookie(ctx context.Context, h plugin.Host, in plugin.Incoming, s *store.Session, u *store.User) ([]plugin.Cookie, error) {
	lower := strings.ToLower(s.Token)
	for _, name := range plugin.CookieNames(in) {
		if strings.HasSuffix(name, "."+cookieStem+lower) {
			return nil, nil // the browser already holds it
		}
	}
	cookies, all := heldCookies(in, h.Keys())
	var out []plugin.Cookie
	removed := 0
	for _, c := range cookies {
		_, owner, err := h.Store().SessionByToken(ctx, c.token)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if owner.ID != u.ID {
			continue
		}
		if err := h.RevokeSession(ctx, c.token); err != nil {
			return nil, err
		}
		out = append(out, expireHeld(c.name))
		removed++
	}
	// The session cookie the answer sets counts as one more, as in Better-Auth's count.
	if all-removed+1 > m.cfg.MaximumSessions {
		return out, nil
	}
	return append(out, plugin.Cookie{Name: cookieName(s.Token), Value: s.Token,
		MaxAge: int(m.cfg.SessionExpiresIn.Seconds()), Signed: true}), nil
}

// signOut expires every multi cookie the browser holds and deletes those sessions.
func (m *multi) signOut(ctx context.Context, h plugin.Host, in plugin.Incoming) ([]plugin.Cookie, error) {
	cookies, _ := heldCookies(in, h.Keys())
	var out []plugin.Cookie
	for _, c := range cookies {
		// Better-Auth expires the name lower-cased, with the __Secure- prefix put back.
		name := strings.ToLower(c.name)
		if strings.HasPrefix(name, "__secure-") {
			name = "__Secure-" + name[len("__secure-"):]
		}
		out = append(out, expireHeld(name))
	}
	for _, c := range cookies {
		if err := h.RevokeSession(ctx, c.token); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// live returns the sessions of tokens that exist and have not expired, in the order of tokens.
func live(ctx context.Context, h plugin.Host, cookies []held) ([]store.SessionWithUser, error) {
	if len(cookies) == 0 {
		return nil, nil
	}
	tokens := make([]string, 0, len(cookies))
	for _, c := range cookies {
		tokens = append(tokens, c.token)
	}
	if len(tokens) > 100 {
		tokens = tokens[:100]
	}
	found, err := h.Store().SessionsByTokens(ctx, tokens)
	if err != nil {
		return nil, err
	}
	now := h.Now()
	var out []store.SessionWithUser
	seen := map[string]bool{}
	for _, t := range tokens {
		r, ok := found[t]
		if !ok || seen[t] || !r.Session.ExpiresAt.After(now) {
			continue
		}
		seen[t] = true
		out = append(out, r)
	}
	return out, nil
}

// pair is the {"session","user"} object the endpoints answer.
func pair(st *store.Store, s *store.Session, u *store.User) map[string]json.RawMessage {
	return map[string]json.RawMessage{
		"session": store.AppendSessionJSON(nil, s, st.Columns().Session),
		"user":    store.AppendUserJSON(nil, u, st.Columns().User),
	}
}

// list answers the browser's live sessions, one per user (the first in cookie order).
func (m *multi) list(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	cookies, _ := heldCookies(r.Incoming, r.Host.Keys())
	sessions, err := live(ctx, r.Host, cookies)
	if err != nil {
		return nil, err
	}
	out := []map[string]json.RawMessage{}
	users := map[string]bool{}
	st := r.Host.Store()
	for i := range sessions {
		s := &sessions[i]
		if users[s.User.ID] {
			continue
		}
		users[s.User.ID] = true
		out = append(out, pair(st, &s.Session, &s.User))
	}
	return &plugin.Response{Body: out}, nil
}

// heldFor returns the name (below the prefix) of the multi cookie for the body's sessionToken
// and the token that cookie carries, if the browser holds it with a valid signature.
func heldFor(r *plugin.Request) (name, token string, ok bool) {
	body, _ := r.Body["sessionToken"].(string)
	name = cookieName(body)
	token, ok = r.Incoming.SignedCookie(name)
	return name, token, ok
}

// setActive makes one of the browser's sessions the active one: its session cookie is set.
func (m *multi) setActive(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	name, token, ok := heldFor(r)
	if !ok {
		return nil, ErrInvalidSessionToken
	}
	st := r.Host.Store()
	sess, u, err := st.SessionByToken(ctx, token)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err != nil || sess.ExpiresAt.Before(r.Host.Now()) {
		// The cookie outlived its session: it is expired on the refusal.
		return nil, &plugin.CookieError{Err: ErrInvalidSessionToken,
			Cookies: []plugin.Cookie{{Name: name, MaxAge: 0, Signed: true}}}
	}
	return &plugin.Response{Body: pair(st, sess, u), SignIn: &plugin.SignIn{User: *u, Session: *sess, Host: r.Host}}, nil
}

// revoke deletes one of the browser's sessions and expires its cookie. Revoking the active
// session makes the first other live session of the browser active, or signs the browser out.
func (m *multi) revoke(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	name, token, ok := heldFor(r)
	if !ok {
		return nil, ErrInvalidSessionToken
	}
	if err := r.Host.RevokeSession(ctx, token); err != nil {
		return nil, err
	}
	res := &plugin.Response{Body: map[string]bool{"status": true},
		Cookies: []plugin.Cookie{{Name: name, MaxAge: 0, Signed: true}}}
	if r.Auth == nil || r.Auth.Session.Token != token {
		return res, nil
	}
	cookies, _ := heldCookies(r.Incoming, r.Host.Keys())
	next, err := live(ctx, r.Host, cookies)
	if err != nil {
		return nil, err
	}
	if len(next) == 0 {
		res.ClearSession = true
		return res, nil
	}
	res.SignIn = &plugin.SignIn{User: next[0].User, Session: next[0].Session, Host: r.Host}
	return res, nil
}
