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
}

// LoadConfig reads OTT_EXPIRES_IN (minutes), OTT_DISABLE_SET_SESSION_COOKIE (true/false) and
// OTT_STORE_TOKEN (plain or hashed), Better-Auth's expiresIn, disableSetSessionCookie and
// storeToken.
func LoadConfig(getenv func(string) string) (Config, error) {
	var c Config
	var errs [3]error
	c.ExpiresIn, errs[0] = plugin.EnvDuration(getenv, "OTT_EXPIRES_IN", time.Minute, 24*60, DefaultExpiresIn)
	c.DisableSetSessionCookie, errs[1] = plugin.EnvBool(getenv, "OTT_DISABLE_SET_SESSION_COOKIE")
	c.HashTokens, errs[2] = plugin.EnvHashedTokens(getenv, "OTT_STORE_TOKEN")
	return c, errors.Join(errs[:]...)
}

// Better-Auth's answers: a message and no code.
var (
	ErrInvalidToken    = &plugin.Error{Status: http.StatusBadRequest, Message: "Invalid token"}
	ErrSessionNotFound = &plugin.Error{Status: http.StatusBadRequest, Message: "Session not found"}
	ErrSessionExpired  = &plugin.Error{Status: http.StatusBadRequest, Message: "Session expired"}
)

type plug struct{ cfg Config }

// New returns the plugin.
func New(cfg Config) plugin.Plugin {
	if cfg.ExpiresIn <= 0 {
		cfg.ExpiresIn = DefaultExpiresIn
	}
	p := plug{cfg}
	return plugin.Plugin{
		ID: ID,
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

func (p plug) generate(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	token := session.RandomFrom(tokenAlphabet, 32)
	now := r.Host.Now()
	v := &store.Verification{ID: session.NewID(), Identifier: p.identifier(token), Value: r.Auth.Session.Token,
		ExpiresAt: store.NewTime(now.Add(p.cfg.ExpiresIn)), CreatedAt: store.NewTime(now), UpdatedAt: store.NewTime(now)}
	if err := r.Host.Store().CreateVerification(ctx, v); err != nil {
		return nil, err
	}
	return &plugin.Response{Body: map[string]string{"token": token}}, nil
}

func (p plug) verify(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	token, _ := r.Body["token"].(string)
	st := r.Host.Store()
	now := r.Host.Now()
	v, err := st.ConsumeVerification(ctx, p.identifier(token), store.NewTime(now))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, err
	}
	sess, u, err := st.SessionByToken(ctx, v.Value)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrSessionNotFound
	}
	if err != nil {
		return nil, err
	}
	// Better-Auth 1.7.25 sets the cookie of an expired session before refusing it; a cookie for a
	// session no server accepts is of no use, so here the refusal comes alone.
	if !sess.ExpiresAt.After(now) {
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
