// Package anonymous is Better-Auth's anonymous plugin: POST /sign-in/anonymous gives a visitor a
// user of their own (name "Anonymous", a placeholder e-mail address, isAnonymous true) and a
// session, without any credential; POST /delete-anonymous-user lets that visitor throw it away.
// When the browser holding an anonymous session signs in or up as a real user, the anonymous user
// is deleted with its sessions and accounts (account linking). Better-Auth also calls an
// application callback (onLinkAccount) at that moment to move data over; this server has no
// application code to call, so nothing is carried over.
//
// It imports auth/plugin, session and store; users are created, signed in and deleted through
// plugin.Host.
package anonymous

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store"
)

// ID is Better-Auth's name for the plugin, as listed in BETTER_AUTH_PLUGINS.
const ID = "anonymous"

// Name is the new user's name (Better-Auth's default; generateName is a function, not an option
// this server can read).
const Name = "Anonymous"

// placeholderDomain is the domain of the e-mail address Better-Auth 1.7.25 gives an anonymous user
// when no emailDomainName is set ("<id>@anonymous.placeholder.invalid"): .invalid can never receive
// mail.
const placeholderDomain = "anonymous.placeholder.invalid"

// Config holds the plugin's options.
type Config struct {
	// EmailDomainName (emailDomainName) makes the address "temp-<id>@<EmailDomainName>".
	EmailDomainName string
	// DisableDeleteAnonymousUser (disableDeleteAnonymousUser) keeps anonymous users: account
	// linking leaves them in place and /delete-anonymous-user answers
	// DELETE_ANONYMOUS_USER_DISABLED.
	DisableDeleteAnonymousUser bool
	// Log receives failures of the clean-up after account linking, which, as in Better-Auth, do
	// not fail the sign-in; nil is slog.Default().
	Log *slog.Logger
}

// LoadConfig reads ANONYMOUS_EMAIL_DOMAIN_NAME and ANONYMOUS_DISABLE_DELETE (true/false), as
// Better-Auth's emailDomainName and disableDeleteAnonymousUser.
func LoadConfig(getenv func(string) string) (Config, error) {
	var c Config
	var errs []error
	if v := strings.TrimSpace(getenv("ANONYMOUS_EMAIL_DOMAIN_NAME")); v != "" {
		// The address must pass the same e-mail check every other address does.
		if strings.ContainsAny(v, "@ \t") || !strings.Contains(v, ".") || strings.HasPrefix(v, ".") || strings.HasSuffix(v, ".") {
			errs = append(errs, fmt.Errorf("ANONYMOUS_EMAIL_DOMAIN_NAME: %q is not a domain name", v))
		}
		c.EmailDomainName = strings.ToLower(v)
	}
	switch v := strings.ToLower(strings.TrimSpace(getenv("ANONYMOUS_DISABLE_DELETE"))); v {
	case "", "0", "false", "no", "off":
	case "1", "true", "yes", "on":
		c.DisableDeleteAnonymousUser = true
	default:
		errs = append(errs, fmt.Errorf("ANONYMOUS_DISABLE_DELETE: %q is not true or false", v))
	}
	return c, errors.Join(errs...)
}

// Field is the user column: a boolean only the server sets (Better-Auth's input:false), false for
// every user the server creates. Better-Auth's migrate makes it nullable with no database default,
// so users created before the plugin was enabled print null, and so do they here.
var Field = store.Field{Name: "isAnonymous", Type: store.BoolField, Nullable: true, Default: store.BoolValue(false), ReadOnly: true}

// migrations add the column as Better-Auth's migrate does; a database Better-Auth migrated with
// the plugin already has it and keeps it.
var migrations = []store.PluginMigration{{
	Name: ID + "/0001_user_isAnonymous",
	SQL: map[store.Dialect]string{
		store.Postgres: `alter table "user" add column "isAnonymous" boolean;`,
		store.SQLite:   `alter table "user" add column "isAnonymous" integer;`,
	},
	Table: "user", Column: Field.Name,
}}

// Better-Auth's answers.
var (
	ErrAgain             = &plugin.Error{Status: http.StatusBadRequest, Code: "ANONYMOUS_USERS_CANNOT_SIGN_IN_AGAIN_ANONYMOUSLY", Message: "Anonymous users cannot sign in again anonymously"}
	ErrCreateUser        = &plugin.Error{Status: http.StatusInternalServerError, Code: "FAILED_TO_CREATE_USER", Message: "Failed to create user"}
	ErrNotAnonymous      = &plugin.Error{Status: http.StatusForbidden, Code: "USER_IS_NOT_ANONYMOUS", Message: "User is not anonymous"}
	ErrDeleteDisabled    = &plugin.Error{Status: http.StatusBadRequest, Code: "DELETE_ANONYMOUS_USER_DISABLED", Message: "Deleting anonymous users is disabled"}
	ErrDeleteUserFailure = &plugin.Error{Status: http.StatusInternalServerError, Code: "FAILED_TO_DELETE_ANONYMOUS_USER", Message: "Failed to delete anonymous user"}
)

// linkingPaths are the paths (prefixes, below the base path) whose sign-ins end an anonymous
// user, as Better-Auth's after-hook matches them. Sign-ins elsewhere (a two-factor verification,
// the new session of change-password) leave it alone, as in Better-Auth.
var linkingPaths = []string{
	"/sign-in", "/sign-up", "/callback", "/magic-link/verify", "/email-otp/verify-email",
	"/one-tap/callback", "/passkey/verify-authentication", "/phone-number/verify", "/verify-email",
}

type plug struct{ cfg Config }

// New returns the plugin.
func New(cfg Config) plugin.Plugin {
	p := plug{cfg}
	return plugin.Plugin{
		ID:         ID,
		UserFields: []store.Field{Field},
		Migrations: migrations,
		Hooks:      plugin.Hooks{AfterSession: p.link},
		Endpoints: []plugin.Endpoint{{
			Method: http.MethodPost, Path: "/sign-in/anonymous",
			Handle: p.signIn,
		}, {
			Method: http.MethodPost, Path: "/delete-anonymous-user",
			Session:       plugin.NeedSession,
			Authoritative: true,
			Handle:        p.deleteUser,
		}},
	}
}

// IsAnonymous reports whether u is an anonymous user; st is the store the plugin is installed in.
func IsAnonymous(st *store.Store, u *store.User) bool {
	v, ok := st.UserField(u, Field.Name)
	return ok && v.Valid && v.Int != 0
}

// email is a new anonymous user's address: a fresh random id (not the user's) under the
// placeholder domain, lower-cased as Better-Auth stores every address.
func (p plug) email() string {
	id := strings.ToLower(session.NewID())
	if p.cfg.EmailDomainName != "" {
		return "temp-" + id + "@" + p.cfg.EmailDomainName
	}
	return id + "@" + placeholderDomain
}

func (p plug) signIn(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	st := r.Host.Store()
	prior, err := r.Incoming.Session(ctx)
	if err != nil {
		return nil, err
	}
	if prior != nil && IsAnonymous(st, &prior.User) {
		return nil, ErrAgain
	}
	// Better-Auth's last-login-method names no method for this path: no cookie, no column.
	in, err := r.Host.CreateUserAndSignIn(ctx, plugin.NewUser{
		Name: Name, Email: p.email(), Values: map[string]store.Value{Field.Name: store.BoolValue(true)},
		Meta: r.Meta, Incoming: r.Incoming,
	})
	if err != nil {
		var pe *plugin.Error
		if errors.As(err, &pe) {
			return nil, err // a plugin's hook refused the sign-in
		}
		return nil, fmt.Errorf("%w: %w", ErrCreateUser, err)
	}
	return &plugin.Response{Body: struct {
		Token string          `json:"token"`
		User  json.RawMessage `json:"user"`
	}{in.Session.Token, store.AppendUserJSON(nil, &in.User, st.Columns().User)}, SignIn: in}, nil
}

func (p plug) deleteUser(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
	if p.cfg.DisableDeleteAnonymousUser {
		return nil, ErrDeleteDisabled
	}
	if !IsAnonymous(r.Host.Store(), &r.Auth.User) {
		return nil, ErrNotAnonymous
	}
	if err := r.Host.RemoveUser(ctx, nil, r.Auth.User.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %w", ErrDeleteUserFailure, err)
	}
	return &plugin.Response{Body: map[string]bool{"success": true}, ClearSession: true}, nil
}

// link is the account linking: a sign-in on one of the linking paths that gives a non-anonymous
// user a session while the request still carries an anonymous user's session deletes that
// anonymous user, unless deleting is disabled. A failure is logged and the sign-in goes on, as in
// Better-Auth.
func (p plug) link(ctx context.Context, s *plugin.SignIn) error {
	// A challenged sign-in has no session yet: the anonymous user stays until it has one.
	if p.cfg.DisableDeleteAnonymousUser || s.Challenge != nil || s.Incoming == nil || !linking(s.Incoming.Path()) {
		return nil
	}
	st := s.Host.Store()
	if IsAnonymous(st, &s.User) {
		return nil
	}
	prior, err := s.Incoming.Session(ctx)
	if err != nil || prior == nil || prior.User.ID == s.User.ID || !IsAnonymous(st, &prior.User) {
		if err != nil {
			p.logFailure(ctx, err)
		}
		return nil
	}
	if err := s.Host.RemoveUser(ctx, s.DB, prior.User.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		p.logFailure(ctx, err)
	}
	return nil
}

func (p plug) logFailure(ctx context.Context, err error) {
	log := p.cfg.Log
	if log == nil {
		log = slog.Default()
	}
	log.LogAttrs(ctx, slog.LevelError, "anonymous: could not delete the anonymous user after account linking", slog.String("error", err.Error()))
}

func linking(path string) bool {
	for _, pre := range linkingPaths {
		if strings.HasPrefix(path, pre) {
			return true
		}
	}
	return false
}
