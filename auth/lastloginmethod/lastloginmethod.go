// Package lastloginmethod is Better-Auth's last-login-method plugin: every sign-in whose method
// Better-Auth can name leaves a cookie saying which method it was ("email", or the social
// provider's id after an OAuth callback), so the client can highlight it on the next visit. The
// client plugin reads document.cookie, which is why the cookie is not HttpOnly.
//
// It imports auth/plugin only; the cookie reaches the answer through the sign-in path.
package lastloginmethod

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"authserver/auth/plugin"
)

// ID is Better-Auth's name for the plugin, as listed in BETTER_AUTH_PLUGINS.
const ID = "last-login-method"

// Better-Auth's defaults.
const (
	DefaultCookieName = "better-auth.last_used_login_method"
	DefaultMaxAge     = 30 * 24 * 60 * 60 // seconds
)

// maxCookieAge is the 400-day cap on Max-Age that Better-Auth (better-call) enforces.
const maxCookieAge = 400 * 24 * 60 * 60

// Config holds the plugin's options.
type Config struct {
	// CookieName is the cookie's literal name (cookieName; no prefix is added, under https either).
	CookieName string
	// MaxAge is the cookie's Max-Age in seconds (maxAge).
	MaxAge int
}

// LoadConfig reads LAST_LOGIN_METHOD_COOKIE_NAME and LAST_LOGIN_METHOD_MAX_AGE (seconds), as
// Better-Auth's cookieName and maxAge. LAST_LOGIN_METHOD_STORE_IN_DATABASE=true (storeInDatabase,
// the user.lastLoginMethod column) is refused: it is not implemented yet, and a team must not
// believe the column is written when it is not.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{CookieName: DefaultCookieName, MaxAge: DefaultMaxAge}
	var errs []error
	if v := strings.TrimSpace(getenv("LAST_LOGIN_METHOD_COOKIE_NAME")); v != "" {
		if !validCookieName(v) {
			errs = append(errs, fmt.Errorf("LAST_LOGIN_METHOD_COOKIE_NAME: %q is not a cookie name (letters, digits and !#$%%&'*+-.^_`|~ only)", v))
		}
		c.CookieName = v
	}
	if v := strings.TrimSpace(getenv("LAST_LOGIN_METHOD_MAX_AGE")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxCookieAge {
			errs = append(errs, fmt.Errorf("LAST_LOGIN_METHOD_MAX_AGE: %q is not a number of seconds from 0 to %d (400 days)", v, maxCookieAge))
		}
		c.MaxAge = n
	}
	switch strings.ToLower(strings.TrimSpace(getenv("LAST_LOGIN_METHOD_STORE_IN_DATABASE"))) {
	case "", "0", "false", "no", "off":
	default:
		errs = append(errs, errors.New("LAST_LOGIN_METHOD_STORE_IN_DATABASE is not implemented yet (the user.lastLoginMethod column); unset it"))
	}
	return c, errors.Join(errs...)
}

// validCookieName reports whether s is an RFC 6265 token.
func validCookieName(s string) bool {
	for _, r := range s {
		if r > 126 || r <= 32 || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r) {
			return false
		}
	}
	return true
}

// New returns the plugin: after a sign-in with a named method it adds the cookie to the answer,
// with the session cookie's attributes but not HttpOnly and with its own Max-Age, as Better-Auth
// does.
func New(cfg Config) plugin.Plugin {
	return plugin.Plugin{
		ID: ID,
		Hooks: plugin.Hooks{AfterSession: func(_ context.Context, s *plugin.SignIn) error {
			if s.Method != "" {
				s.Cookies = append(s.Cookies, plugin.Cookie{Name: cfg.CookieName, Value: s.Method, MaxAge: cfg.MaxAge})
			}
			return nil
		}},
	}
}
