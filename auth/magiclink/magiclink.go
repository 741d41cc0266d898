// Package magiclink is Better-Auth's magic-link plugin: POST /sign-in/magic-link mails a
// single-use sign-in link to an address, and GET /magic-link/verify, the link itself, signs its
// holder in (creating the user on first use unless sign-up is disabled) and sends the browser on
// to the callback URL the link carries.
//
// The token is kept in the verification table exactly as Better-Auth 1.7.25 keeps it (identifier
// "magic-link:<token or its hash>", value {"type":"magic-link","email":…,"name":…}), so a link
// mailed by either server works on the other over a shared database.
//
// It imports auth (the URL encoding), auth/plugin, mail (the message kind), session and store; users are created and
// signed in through plugin.Host.
package magiclink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"authserver/auth"
	"authserver/auth/plugin"
	"authserver/mail"
	"authserver/session"
	"authserver/store"
)

// ID is Better-Auth's name for the plugin, as listed in BETTER_AUTH_PLUGINS.
const ID = "magic-link"

// Method is the sign-in method Better-Auth's last-login-method records for the link.
const Method = "magic-link"

// DefaultExpiresIn is Better-Auth's default life of a link.
const DefaultExpiresIn = 5 * time.Minute

// tokenAlphabet is the alphabet of Better-Auth's link tokens (letters only, 32 of them).
const tokenAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// Config holds the plugin's options.
type Config struct {
	// ExpiresIn (expiresIn) is how long a link works.
	ExpiresIn time.Duration
	// DisableSignUp (disableSignUp) refuses links for addresses without an account: the link is
	// still mailed, and following it redirects with error=new_user_signup_disabled.
	DisableSignUp bool
	// HashTokens (storeToken:"hashed") keeps only the token's hash in the database.
	HashTokens bool
	// APIURL is the public base of the auth API (BETTER_AUTH_URL + "/api/auth"): the links point
	// there and relative callback URLs are resolved against it, as against Better-Auth's baseURL.
	APIURL string
}

// LoadConfig reads MAGIC_LINK_EXPIRES_IN (seconds), MAGIC_LINK_DISABLE_SIGN_UP (true/false) and
// MAGIC_LINK_STORE_TOKEN (plain or hashed), Better-Auth's expiresIn, disableSignUp and
// storeToken. apiURL is the public base of the auth API.
func LoadConfig(getenv func(string) string, apiURL string) (Config, error) {
	c := Config{APIURL: strings.TrimRight(apiURL, "/")}
	var errs [3]error
	c.ExpiresIn, errs[0] = plugin.EnvDuration(getenv, "MAGIC_LINK_EXPIRES_IN", time.Second, 7*24*3600, DefaultExpiresIn)
	c.DisableSignUp, errs[1] = plugin.EnvBool(getenv, "MAGIC_LINK_DISABLE_SIGN_UP")
	c.HashTokens, errs[2] = plugin.EnvHashedTokens(getenv, "MAGIC_LINK_STORE_TOKEN")
	return c, errors.Join(errs[:]...)
}

// Better-Auth's answers that are not redirects.
var (
	errNoToken = &plugin.Error{Status: http.StatusBadRequest, Code: "VALIDATION_ERROR", Message: "[query.token] Invalid input: expected string, received undefined"}
)

// The error codes the verify redirect carries, as Better-Auth's.
const (
	codeInvalidToken   = "INVALID_TOKEN"
	codeSignUpDisabled = "new_user_signup_disabled"
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
		// Better-Auth's rule for both paths: 5 per minute.
		RateLimits: []plugin.RateLimit{{Window: time.Minute, Max: 5, Match: func(path string) bool {
			return strings.HasPrefix(path, "/sign-in/magic-link") || strings.HasPrefix(path, "/magic-link/verify")
		}}},
		Endpoints: []plugin.Endpoint{{
			Method: http.MethodPost, Path: "/sign-in/magic-link", FormCSRF: true,
			Body: &plugin.Schema{Fields: []plugin.Field{
				{Name: "email", Kind: plugin.Email, Stored: true},
				{Name: "name", Kind: plugin.String, Optional: true, Stored: true},
				{Name: "callbackURL", Kind: plugin.String, Optional: true},
				{Name: "newUserCallbackURL", Kind: plugin.String, Optional: true},
				{Name: "errorCallbackURL", Kind: plugin.String, Optional: true},
				{Name: "metadata", Kind: plugin.Record, Optional: true},
			}},
			Handle: p.send,
		}, {
			Method: http.MethodGet, Path: "/magic-link/verify",
			CallbackQuery: []string{"callbackURL", "newUserCallbackURL", "errorCallbackURL"},
			Handle:        p.verify,
		}},
	}
}

// record is the verification row's value.
type record struct {
	Type  string  `json:"type"`
	Email string  `json:"email"`
	Name  *string `json:"name,omitempty"`
}

func (p plug) identifier(token string) string {
	if p.cfg.HashTokens {
		token = plugin.HashToken(token)
	}
	return "magic-link:" + token
}

func (p plug) send(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	email, _ := r.Body["email"].(string)
	rec := record{Type: "magic-link", Email: email}
	if n, ok := r.Body["name"].(string); ok {
		rec.Name = &n
	}
	// JSON.stringify leaves <, > and & as they are; so does this, so both servers write one value.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return nil, err
	}
	if err := r.Incoming.AllowSend(ctx, email); err != nil {
		return nil, err
	}
	token := session.RandomFrom(tokenAlphabet, 32)
	now := r.Host.Now()
	v := &store.Verification{ID: session.NewID(), Identifier: p.identifier(token), Value: strings.TrimSuffix(buf.String(), "\n"),
		ExpiresAt: store.NewTime(now.Add(p.cfg.ExpiresIn)), CreatedAt: store.NewTime(now), UpdatedAt: store.NewTime(now)}
	if err := r.Host.Store().CreateVerification(ctx, v); err != nil {
		return nil, err
	}
	cb, _ := r.Body["callbackURL"].(string)
	if cb == "" {
		cb = "/"
	}
	params := [][2]string{{"token", token}, {"callbackURL", cb}}
	for _, k := range []string{"newUserCallbackURL", "errorCallbackURL"} {
		if s, _ := r.Body[k].(string); s != "" {
			params = append(params, [2]string{k, s})
		}
	}
	// metadata goes to Better-Auth's sendMagicLink callback; the mail template has no use for it.
	// Better-Auth awaits sendMagicLink and lets its failure through (500, no body); every address
	// gets a link, so the failure says nothing about who has an account. The link nobody received
	// is withdrawn, even when the client has gone.
	if err := r.Host.DeliverLink(ctx, mail.KindMagicLink, email, p.cfg.APIURL+"/magic-link/verify?"+auth.FormEncode(params), p.cfg.ExpiresIn); err != nil {
		if _, werr := r.Host.Store().TakeVerification(context.WithoutCancel(ctx), v.Identifier); werr != nil && !errors.Is(werr, store.ErrNotFound) {
			return nil, werr
		}
		return nil, plugin.ErrDeliveryFailed
	}
	return &plugin.Response{Body: map[string]bool{"status": true}}, nil
}

func (p plug) verify(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	if !r.Query.Has("token") {
		return nil, errNoToken
	}
	token := r.Query.Get("token")
	callback := p.resolve(r.Query.Get("callbackURL"), "/")
	errorCallback := p.resolve(r.Query.Get("errorCallbackURL"), callback)
	newUserCallback := p.resolve(r.Query.Get("newUserCallbackURL"), callback)
	toError := func(code, description string) (*plugin.Response, error) {
		params := [][2]string{{"error", code}}
		if description != "" {
			params = append(params, [2]string{"error_description", description})
		}
		return &plugin.Response{Redirect: setParams(errorCallback, params)}, nil
	}
	// fail answers a refused link on the error page and records the refusal with reason
	// (never the link).
	fail := func(code, reason string) (*plugin.Response, error) {
		plugin.SignInFailed(ctx, r.Host, Method, "", reason)
		return toError(code, "")
	}

	st := r.Host.Store()
	id := p.identifier(token)
	now := store.NewTime(r.Host.Now())
	// A row that is there but holds no magic-link record is left alone, as Better-Auth leaves it.
	if pending, err := st.FindVerification(ctx, id, now); err == nil && parseRecord(pending.Value) == nil {
		return fail(codeInvalidToken, "invalid-token")
	}
	v, err := st.ConsumeVerification(ctx, id, now)
	if errors.Is(err, store.ErrNotFound) {
		return fail(codeInvalidToken, "invalid-token")
	}
	if err != nil {
		return nil, err
	}
	rec := parseRecord(v.Value)
	if rec == nil {
		return fail(codeInvalidToken, "invalid-token")
	}
	email := strings.ToLower(rec.Email)
	var in *plugin.SignIn
	isNew := false
	u, err := st.UserByEmail(ctx, email)
	switch {
	case errors.Is(err, store.ErrNotFound) && p.cfg.DisableSignUp:
		return fail(codeSignUpDisabled, "signup-disabled")
	case errors.Is(err, store.ErrNotFound):
		name := ""
		if rec.Name != nil {
			name = *rec.Name
		}
		in, err = r.Host.CreateUserAndSignIn(ctx, plugin.NewUser{Name: name, Email: email, EmailVerified: true,
			Method: Method, Meta: r.Meta, Incoming: r.Incoming})
		var pe *plugin.Error
		if errors.As(err, &pe) && pe.Code != "" {
			return toError(pe.Code, pe.Message) // a sign-in hook's refusal: the sign-in recorded it
		}
		if err != nil {
			return nil, err
		}
		isNew = true
	case err != nil:
		return nil, err
	default:
		if !u.EmailVerified {
			// Whoever made this account never proved the address; the link does.
			if u, err = r.Host.ProveEmail(ctx, u.ID); err != nil {
				return nil, err
			}
		}
		if in, err = r.Host.FinishSignIn(ctx, plugin.Finish{User: *u, Method: Method, Meta: r.Meta, Incoming: r.Incoming}); err != nil {
			return nil, err
		}
	}
	if r.Query.Get("callbackURL") == "" {
		// The link opened by a script (magicLink.verify without a callback): the session as JSON.
		cols := st.Columns()
		return &plugin.Response{SignIn: in, Body: struct {
			Token   string          `json:"token"`
			User    json.RawMessage `json:"user"`
			Session json.RawMessage `json:"session"`
		}{in.Session.Token, store.AppendUserJSON(nil, &in.User, cols.User), store.AppendSessionJSON(nil, &in.Session, cols.Session)}}, nil
	}
	to := callback
	if isNew {
		to = newUserCallback
	}
	return &plugin.Response{SignIn: in, Redirect: to}, nil
}

// parseRecord reads a verification value as Better-Auth's strict schema does: nil unless it is
// exactly {"type":"magic-link","email":<address>,"name"?:<string>}.
func parseRecord(value string) *record {
	var raw map[string]json.RawMessage
	if json.Unmarshal([]byte(value), &raw) != nil {
		return nil
	}
	for k := range raw {
		if k != "type" && k != "email" && k != "name" {
			return nil
		}
	}
	var rec record
	if json.Unmarshal([]byte(value), &rec) != nil || rec.Type != "magic-link" || !strings.Contains(rec.Email, "@") {
		return nil
	}
	if n, ok := raw["name"]; ok && string(n) == "null" {
		return nil // z.string().optional() takes no null
	}
	return &rec
}

// resolve makes target (fallback when empty) absolute against the API URL, as new URL(target,
// baseURL) does; the callback check has already refused anything untrusted.
func (p plug) resolve(target, fallback string) string {
	if target == "" {
		target = fallback
	}
	base, err := url.Parse(p.cfg.APIURL)
	if err != nil {
		return target
	}
	ref, err := url.Parse(target)
	if err != nil {
		return target
	}
	u := base.ResolveReference(ref)
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String()
}

// setParams sets query parameters on an absolute URL as URLSearchParams.set does: an existing
// parameter of the name is replaced in place (its repeats dropped), a new one is appended, and the
// whole query is written form-encoded again.
func setParams(target string, set [][2]string) string {
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	var pairs [][2]string
	if u.RawQuery != "" {
		for _, part := range strings.Split(u.RawQuery, "&") {
			if part == "" {
				continue
			}
			k, v, _ := strings.Cut(part, "=")
			k, _ = url.QueryUnescape(k)
			v, _ = url.QueryUnescape(v)
			pairs = append(pairs, [2]string{k, v})
		}
	}
	for _, s := range set {
		found := false
		out := pairs[:0:0]
		for _, kv := range pairs {
			if kv[0] != s[0] {
				out = append(out, kv)
			} else if !found {
				out = append(out, s)
				found = true
			}
		}
		if !found {
			out = append(out, s)
		}
		pairs = out
	}
	u.RawQuery = auth.FormEncode(pairs)
	u.ForceQuery = false
	return u.String()
}
