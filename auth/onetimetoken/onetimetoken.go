// Package onetimetoken is Better-Auth's one-time-token plugin: GET /one-time-token/generate gives
// a signed-in caller a short-lived single-use token for their session, and POST
// /one-time-token/verify exchanges it, anywhere, for that same session (no new session is made):
// a way to hand a session to another origin or app.
//
// Tokens are kept in the verification table as Better-Auth 1.7.25 keeps them (identifier
// "one-time-token:<token or its hash>", value the session token), so a token made by either
// server is accepted by the other over a shared database.
//
// It imports auth/plugin, session and store.
package onetimetoken

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store"
)

// ID is Better-Auth's name for the plugin, as listed in BETTER_AUTH_PLUGINS.
const ID = "one-time-token"

// DefaultExpiresIn is Better-Auth's default life of a token.
const DefaultExpiresIn = 3 * time.Minute

// tokenAlphabet is the alphabet of Better-Auth's generateRandomString without a range given.
const tokenAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_"

// Config holds the plugin's options.
type Config struct {
	// ExpiresIn (expiresIn, in minutes in Better-Auth) is how long a token works.
	ExpiresIn time.Duration
	// DisableSetSessionCookie (disableSetSessionCookie): verify answers the session without
	// setting the session cookie.
	DisableSetSessionCookie bool
	// HashTokens (storeToken:"hashed") keeps only the token's hash in the database.
	HashTokens bool
	// DisableClientRequest (disableClientRequest) refuses GET /one-time-token/generate: in
	// Better-Auth only the server's own code may then make tokens, and every HTTP request is a
	// client's, so tokens come only from SetOttHeaderOnNewSession.
	DisableClientRequest bool
	// SetOttHeaderOnNewSession (setOttHeaderOnNewSession) gives every answer that writes the
	// session cookie a fresh token for that session in the set-ott header (exposed to scripts),
	// so an app can hand the new session on without asking for a token.
	SetOttHeaderOnNewSession bool
}

// OttHeader is the header SetOttHeaderOnNewSession writes, as Better-Auth names it.
const OttHeader = "set-ott"

// LoadConfig reads OTT_EXPIRES_IN (minutes), OTT_DISABLE_SET_SESSION_COOKIE (true/false),
// OTT_STORE_TOKEN (plain or hashed), OTT_DISABLE_CLIENT_REQUEST and
// OTT_SET_OTT_HEADER_ON_NEW_SESSION (true/false), Better-Auth's expiresIn,
// disableSetSessionCookie, storeToken, disableClientRequest and setOttHeaderOnNewSession.
func LoadConfig(getenv func(string) string) (Config, error) {
	var c Config
	var errs [5]error
	c.ExpiresIn, errs[0] = plugin.EnvDuration(getenv, "OTT_EXPIRES_IN", time.Minute, 24*60, DefaultExpiresIn)
	c.DisableSetSessionCookie, errs[1] = plugin.EnvBool(getenv, "OTT_DISABLE_SET_SESSION_COOKIE")
	c.HashTokens, errs[2] = plugin.EnvHashedTokens(getenv, "OTT_STORE_TOKEN")
	c.DisableClientRequest, errs[3] = plugin.EnvBool(getenv, "OTT_DISABLE_CLIENT_REQUEST")
	c.SetOttHeaderOnNewSession, errs[4] = plugin.EnvBool(getenv, "OTT_SET_OTT_HEADER_ON_NEW_SESSION")
	return c, errors.Join(errs[:]...)
}

// Better-Auth's answers: a message and no code.
var (
	ErrInvalidToken    = &plugin.Error{Status: http.StatusBadRequest, Message: "Invalid token"}
	ErrSessionNotFound = &plugin.Error{Status: http.StatusBadRequest, Message: "Session not found"}
	ErrSessionExpired  = &plugin.Error{Status: http.StatusBadRequest, Message: "Session expired"}
	// ErrClientRequestsDisabled is generate with DisableClientRequest (after the session check).
	ErrClientRequestsDisabled = &plugin.Error{Status: http.StatusBadRequest, Message: "Client requests are disabled"}
)

type plug struct{ cfg Config }

// New returns the plugin.
func New(cfg Config) plugin.Plugin {
	if cfg.ExpiresIn <= 0 {
		cfg.ExpiresIn = DefaultExpiresIn
	}
	p := plug{cfg}
	var hooks plugin.Hooks
	if cfg.SetOttHeaderOnNewSession {
		hooks.SessionCookieHeaders = p.ottHeader
	}
	return plugin.Plugin{
		ID:    ID,
		Hooks: hooks,
		Endpoints: []plugin.Endpoint{{
			Method: http.MethodGet, Path: "/one-time-token/generate", Session: plugin.NeedSession,
			Handle: p.generate,
		}, {
			Method: http.MethodPost, Path: "/one-time-token/verify",
			Body:   &plugin.Schema{Fields: []plugin.Field{{Name: "token", Kind: plugin.String}}},
			Handle: p.verify,
		}},
	}
}

func (p plug) identifier(token string) string {
	if p.cfg.HashTokens {
		token = plugin.HashToken(token)
	}
	return "one-time-token:" + token
}

// issue stores a new token for the session and returns it.
func (p plug) issue(ctx context.Context, h plugin.Host, sessionToken string) (string, error) {
	token := session.RandomFrom(tokenAlphabet, 32)
	now := h.Now()
	v := &store.Verification{ID: session.NewID(), Identifier: p.identifier(token), Value: sessionToken,
		ExpiresAt: store.NewTime(now.Add(p.cfg.ExpiresIn)), CreatedAt: store.NewTime(now), UpdatedAt: store.NewTime(now)}
	if err := h.Store().CreateVerification(ctx, v); err != nil {
		return "", err
	}
	return token, nil
}

func (p plug) generate(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	if p.cfg.DisableClientRequest {
		return nil, ErrClientRequestsDisabled
	}
	token, err := p.issue(ctx, r.Host, r.Auth.Session.Token)
	if err != nil {
		return nil, err
	}
	return &plugin.Response{Body: map[string]string{"token": token}}, nil
}

// ottHeader is the SessionCookieHeaders hook of SetOttHeaderOnNewSession: a new token for the
// session whose cookie the answer writes. The write outlives a client gone meanwhile, so the
// token handed out always exists.
func (p plug) ottHeader(ctx context.Context, h plugin.Host, sessionToken string) ([]plugin.Header, error) {
	token, err := p.issue(context.WithoutCancel(ctx), h, sessionToken)
	if err != nil {
		return nil, err
	}
	return []plugin.Header{{Name: OttHeader, Value: token}}, nil
}

func (p plug) verify(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	token, _ := r.Body["token"].(string)
	st := r.Host.Store()
	now := r.Host.Now()
	v, err := st.ConsumeVerification(ctx, p.identifier(token), store.NewTime(now))
	if errors.Is(err, store.ErrNotFound) {
		plugin.SignInFailed(ctx, r.Host, ID, "", "invalid-token") // never the token
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, err
	}
	sess, u, err := st.SessionByToken(ctx, v.Value)
	if errors.Is(err, store.ErrNotFound) {
		plugin.SignInFailed(ctx, r.Host, ID, "", "session-not-found")
		return nil, ErrSessionNotFound
	}
	if err != nil {
		return nil, err
	}
	// Better-Auth 1.7.25 sets the cookie of an expired session before refusing it; a cookie for a
	// session no server accepts is of no use, so here the refusal comes alone.
	if !sess.ExpiresAt.After(now) {
		plugin.SignInFailed(ctx, r.Host, ID, u.ID, "session-expired")
		return nil, ErrSessionExpired
	}
	cols := st.Columns()
	res := &plugin.Response{Body: struct {
		Session json.RawMessage `json:"session"`
		User    json.RawMessage `json:"user"`
	}{store.AppendSessionJSON(nil, sess, cols.Session), store.AppendUserJSON(nil, u, cols.User)}}
	if !p.cfg.DisableSetSessionCookie {
		// The same session, handed over: its cookie is set as after a sign-in, but nothing is
		// created and no sign-in hook runs.
		res.SignIn = &plugin.SignIn{User: *u, Session: *sess}
	}
	return res, nil
}
