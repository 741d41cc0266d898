// Package lastloginmethod is Better-Auth's last-login-method plugin: every sign-in whose method
// Better-Auth can name leaves a cookie saying which method it was ("email", or the social
// provider's id after an OAuth callback), so the client can highlight it on the next visit. The
// client plugin reads document.cookie, which is why the cookie is not HttpOnly.
//
// It imports auth/plugin and store only; the cookie and the column's value reach the answer and
// the database through the sign-in path.
package lastloginmethod

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"authserver/auth/plugin"
	"authserver/store"
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
	// StoreInDatabase (storeInDatabase) also keeps the method in the user.lastLoginMethod column,
	// printed in every user body.
	StoreInDatabase bool
}

// Field is the user column storeInDatabase adds: nullable text that only the server sets
// (Better-Auth's input:false), so a sign-up or update-user body setting it is refused.
var Field = store.Field{Name: "lastLoginMethod", Type: store.StringField, Nullable: true, ReadOnly: true}

// migrations add the column as Better-Auth's migrate does (nullable text, no default); a
// database Better-Auth migrated with storeInDatabase already has it and keeps it.
var migrations = []store.PluginMigration{{
	Name: ID + "/0001_user_lastLoginMethod",
	SQL: map[store.Dialect]string{
		store.Postgres: `alter table "user" add column "lastLoginMethod" text;`,
		store.SQLite:   `alter table "user" add column "lastLoginMethod" text;`,
	},
	Table: "user", Column: Field.Name,
}}

// LoadConfig reads LAST_LOGIN_METHOD_COOKIE_NAME and LAST_LOGIN_METHOD_MAX_AGE (seconds) and
// LAST_LOGIN_METHOD_STORE_IN_DATABASE (true/false), as Better-Auth's cookieName, maxAge and
// storeInDatabase.
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
	switch v := strings.ToLower(strings.TrimSpace(getenv("LAST_LOGIN_METHOD_STORE_IN_DATABASE"))); v {
	case "", "0", "false", "no", "off":
	case "1", "true", "yes", "on":
		c.StoreInDatabase = true
	default:
		errs = append(errs, fmt.Errorf("LAST_LOGIN_METHOD_STORE_IN_DATABASE: %q is not true or false", v))
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
// does. With StoreInDatabase it also owns the user.lastLoginMethod column: set when a sign-up or
// first social sign-in creates the user and again after each sign-in with a named method.
func New(cfg Config) plugin.Plugin {
	p := plugin.Plugin{
		ID: ID,
		Hooks: plugin.Hooks{AfterSession: func(_ context.Context, s *plugin.SignIn) error {
			if s.Method != "" {
				s.Cookies = append(s.Cookies, plugin.Cookie{Name: cfg.CookieName, Value: s.Method, MaxAge: cfg.MaxAge})
			}
			return nil
		}},
	}
	if cfg.StoreInDatabase {
		p.UserFields = []store.Field{Field}
		p.Migrations = migrations
		p.Hooks.UserValues = func(method string) map[string]store.Value {
			if method == "" {
				return nil
			}
			return map[string]store.Value{Field.Name: store.StringValue(method)}
		}
	}
	return p
}
