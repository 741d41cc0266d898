// Package passkey is Better-Auth's passkey plugin (@better-auth/passkey 1.7.x): a signed-in user
// registers WebAuthn credentials (passkeys), lists, renames and deletes them, and anyone signs in
// with one, with or without typing an e-mail first (discoverable credentials).
//
// The ceremonies themselves (client data, authenticator data, attestation formats, signatures) are
// checked by github.com/go-webauthn/webauthn; this package writes the JSON Better-Auth's client
// expects around them and keeps its state as Better-Auth does: the passkey table, the challenge in
// a verification row named by the signed better-auth-passkey cookie. A database shared with
// Better-Auth works both ways.
package passkey

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"authserver/auth/plugin"
	"authserver/store"
)

// ID is Better-Auth's name for the plugin, as listed in BETTER_AUTH_PLUGINS.
const ID = "passkey"

// Better-Auth's fixed values.
const (
	challengeCookie = "better-auth-passkey" // advanced.webAuthnChallengeCookie
	challengeMaxAge = 300                   // seconds the challenge cookie and row live
	timeoutMillis   = 60000                 // the options' timeout
	method          = "passkey"             // last-login-method's name for a passkey sign-in
)

// Config holds the relying party the ceremonies are bound to.
type Config struct {
	// RPID is the WebAuthn relying party id: the domain credentials are scoped to.
	RPID string
	// RPName is shown by authenticators when a passkey is created.
	RPName string
	// Origins are the web origins whose ceremonies are accepted (clientDataJSON.origin).
	Origins []string
}

// LoadConfig reads PASSKEY_RP_ID, PASSKEY_RP_NAME and PASSKEY_ORIGINS (see README). baseURL is
// the server's origin (BETTER_AUTH_URL), trusted its trusted origins and appName the
// application's name, which give the defaults: the base URL's host name, the application's name,
// and the base URL with every trusted origin on the relying party's domain.
//
// Better-Auth without its origin option accepts whatever the request's Origin header says; the
// header is the caller's to choose, so here the accepted origins are always configured ones.
func LoadConfig(getenv func(string) string, baseURL string, trusted []string, appName string) (Config, error) {
	c := Config{RPName: appName}
	var errs []error
	base, err := url.Parse(baseURL)
	if err != nil || base.Hostname() == "" {
		return c, fmt.Errorf("passkey: the base URL %q has no host name", baseURL)
	}
	c.RPID = base.Hostname()
	if v := strings.TrimSpace(getenv("PASSKEY_RP_ID")); v != "" {
		if strings.ContainsAny(v, ":/ ") || strings.Trim(v, ".") != v {
			errs = append(errs, fmt.Errorf("PASSKEY_RP_ID: %q is not a domain name (no scheme, port or path)", v))
		}
		c.RPID = strings.ToLower(v)
	}
	if v := strings.TrimSpace(getenv("PASSKEY_RP_NAME")); v != "" {
		c.RPName = v
	}
	if v := strings.TrimSpace(getenv("PASSKEY_ORIGINS")); v != "" {
		for _, o := range strings.Split(v, ",") {
			o = strings.TrimRight(strings.TrimSpace(o), "/")
			if o == "" {
				continue
			}
			host, ok := originHost(o)
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("PASSKEY_ORIGINS: %q is not an origin like https://app.example.com", o))
			case !onDomain(host, c.RPID):
				errs = append(errs, fmt.Errorf("PASSKEY_ORIGINS: %q is not on the relying party's domain %q (PASSKEY_RP_ID)", o, c.RPID))
			default:
				c.Origins = append(c.Origins, o)
			}
		}
		if len(c.Origins) == 0 && len(errs) == 0 {
			errs = append(errs, errors.New("PASSKEY_ORIGINS: no origin given"))
		}
		return c, errors.Join(errs...)
	}
	for _, o := range append([]string{baseURL}, trusted...) {
		if host, ok := originHost(o); ok && onDomain(host, c.RPID) {
			c.Origins = append(c.Origins, o)
		}
	}
	if len(c.Origins) == 0 {
		errs = append(errs, fmt.Errorf("PASSKEY_RP_ID: %q is not the domain of the base URL %q or of a trusted origin; set PASSKEY_ORIGINS", c.RPID, baseURL))
	}
	return c, errors.Join(errs...)
}

// originHost returns the host name of an origin "scheme://host[:port]"; wildcard trusted origins
// are not origins.
func originHost(o string) (string, bool) {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" || strings.Contains(o, "*") ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", false
	}
	return strings.ToLower(u.Hostname()), true
}

// onDomain reports whether host may use the relying party id rpID: it is rpID or below it, as
// browsers require.
func onDomain(host, rpID string) bool { return host == rpID || strings.HasSuffix(host, "."+rpID) }

// migrations create the passkey table as Better-Auth 1.7.25's migrate does with
// @better-auth/passkey 1.7.6 (read back from its PostgreSQL run; SQLite has its types for the
// same schema). A database Better-Auth migrated with the plugin already has it: it is adopted.
var migrations = []store.PluginMigration{{
	Name: ID + "/0001_passkey",
	SQL: map[store.Dialect]string{
		store.Postgres: `create table "passkey" ("id" text not null primary key, "name" text, "publicKey" text not null, "userId" text not null references "user" ("id") on delete cascade, "credentialID" text not null, "counter" integer not null, "deviceType" text not null, "backedUp" boolean not null, "transports" text, "createdAt" timestamptz, "aaguid" text);
create index "passkey_userId_idx" on "passkey" ("userId");
create index "passkey_credentialID_idx" on "passkey" ("credentialID");`,
		store.SQLite: `create table "passkey" ("id" text not null primary key, "name" text, "publicKey" text not null, "userId" text not null references "user" ("id") on delete cascade, "credentialID" text not null, "counter" integer not null, "deviceType" text not null, "backedUp" integer not null, "transports" text, "createdAt" date, "aaguid" text);
create index "passkey_userId_idx" on "passkey" ("userId");
create index "passkey_credentialID_idx" on "passkey" ("credentialID");`,
	},
	Table: "passkey", Column: "id",
}}

// Better-Auth's answers (@better-auth/passkey 1.7.6, as observed on 1.7.25).
var (
	ErrChallengeNotFound = &plugin.Error{Status: http.StatusBadRequest, Code: "CHALLENGE_NOT_FOUND", Message: "Challenge not found"}
	// ErrNotAllowed answers a registration challenge of another user and a rename of another
	// user's passkey.
	ErrNotAllowed = &plugin.Error{Status: http.StatusUnauthorized, Code: "YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY", Message: "You are not allowed to register this passkey"}
	// ErrRegistration is every failed registration check; 1.7.6 answers it with 500.
	ErrRegistration = &plugin.Error{Status: http.StatusInternalServerError, Code: "FAILED_TO_VERIFY_REGISTRATION", Message: "Failed to verify registration"}
	// ErrUnknownCredential is verify-authentication's answer for a credential no passkey has.
	ErrUnknownCredential = &plugin.Error{Status: http.StatusUnauthorized, Code: "PASSKEY_NOT_FOUND", Message: "Passkey not found"}
	// ErrPasskeyNotFound is update-passkey's and delete-passkey's answer for an unknown id.
	ErrPasskeyNotFound = &plugin.Error{Status: http.StatusNotFound, Code: "PASSKEY_NOT_FOUND", Message: "Passkey not found"}
	// ErrBadSignature is an assertion whose well-formed signature does not verify.
	ErrBadSignature = &plugin.Error{Status: http.StatusUnauthorized, Code: "AUTHENTICATION_FAILED", Message: "Authentication failed"}
	// ErrAuthentication is every other failed assertion check (challenge, origin, RP id, flags,
	// counter, malformed signature).
	ErrAuthentication = &plugin.Error{Status: http.StatusBadRequest, Code: "AUTHENTICATION_FAILED", Message: "Authentication failed"}
	// ErrNotOwner is delete-passkey's answer for another user's passkey: 401 without a body.
	ErrNotOwner = &plugin.Error{Status: http.StatusUnauthorized}
)

// New returns the plugin.
func New(cfg Config) plugin.Plugin {
	p := &passkeys{cfg: cfg}
	id := plugin.Field{Name: "id", Kind: plugin.String}
	return plugin.Plugin{
		ID:         ID,
		Migrations: migrations,
		Endpoints: []plugin.Endpoint{
			{Method: http.MethodGet, Path: "/passkey/generate-register-options", Session: plugin.NeedFreshSession, Handle: p.registerOptions},
			{Method: http.MethodPost, Path: "/passkey/verify-registration", Session: plugin.NeedFreshSession, Handle: p.verifyRegistration,
				Body: &plugin.Schema{Fields: []plugin.Field{{Name: "response", Kind: plugin.Any, Optional: true},
					{Name: "name", Kind: plugin.String, Optional: true, Stored: true}, {Name: "createSession", Kind: plugin.Bool, Optional: true}}}},
			{Method: http.MethodGet, Path: "/passkey/generate-authenticate-options", Session: plugin.OptionalSession, Handle: p.authenticateOptions},
			{Method: http.MethodPost, Path: "/passkey/verify-authentication", Handle: p.verifyAuthentication,
				Body: &plugin.Schema{Fields: []plugin.Field{{Name: "response", Kind: plugin.Record}}}},
			{Method: http.MethodGet, Path: "/passkey/list-user-passkeys", Session: plugin.NeedSession, Handle: p.list},
			{Method: http.MethodPost, Path: "/passkey/delete-passkey", Session: plugin.NeedSession, Handle: p.delete,
				Body: &plugin.Schema{Fields: []plugin.Field{id}}},
			{Method: http.MethodPost, Path: "/passkey/update-passkey", Session: plugin.NeedSession, Handle: p.update,
				Body: &plugin.Schema{Fields: []plugin.Field{id, {Name: "name", Kind: plugin.String, Stored: true}}}},
		},
	}
}

type passkeys struct{ cfg Config }
