// Package deviceauth is Better-Auth 1.7.25's device-authorization plugin (RFC 8628): a device
// without a browser (a CLI, a TV) asks for a device code and a short user code, the person types
// the user code on the web app's /device page while signed in and approves or denies, and the
// device, polling /device/token, gets a session token to use as a bearer token.
package deviceauth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"authserver/auth/plugin"
	"authserver/store"
)

// ID is Better-Auth's name for the plugin.
const ID = "device-authorization"

// GrantType is the only grant_type /device/token accepts.
const GrantType = "urn:ietf:params:oauth:grant-type:device_code"

// Better-Auth's defaults.
const (
	DefaultExpiresIn        = 30 * time.Minute
	DefaultInterval         = 5 * time.Second
	DefaultUserCodeLength   = 8
	DefaultDeviceCodeLength = 40
	// maxCodeLength is Better-Auth's bound on both code lengths (an indexed text column).
	maxCodeLength = 191
)

// Config is the plugin's options, Better-Auth's deviceAuthorization({...}) as far as they can
// be written in the environment.
type Config struct {
	// ExpiresIn is the life of a device code, Interval the least time between two polls.
	ExpiresIn, Interval time.Duration
	// UserCodeLength and DeviceCodeLength are the generated codes' lengths (1..191).
	UserCodeLength, DeviceCodeLength int
	// VerificationURI is verification_uri as configured: absolute, or resolved against the auth
	// base URL as Better-Auth resolves it ("/device", the default, is the web app's page at the
	// server's origin).
	VerificationURI string
	// ClientIDs, when not empty, are the only client ids accepted (Better-Auth's validateClient);
	// empty accepts any, as Better-Auth does without validateClient.
	ClientIDs []string
	// AuthBaseURL is the server's auth base URL (BETTER_AUTH_URL + "/api/auth"), Better-Auth's
	// ctx.context.baseURL that a relative VerificationURI is resolved against.
	AuthBaseURL string
}

// LoadConfig reads DEVICE_AUTHORIZATION_* for a server whose auth base URL is authBaseURL. Times
// are Better-Auth's strings ("30m", "5s", "1h", "500ms", "2d"), so the same value means the same
// thing on both servers.
func LoadConfig(getenv func(string) string, authBaseURL string) (Config, error) {
	c := Config{ExpiresIn: DefaultExpiresIn, Interval: DefaultInterval, UserCodeLength: DefaultUserCodeLength,
		DeviceCodeLength: DefaultDeviceCodeLength, AuthBaseURL: authBaseURL}
	var err error
	if c.ExpiresIn, err = envTime(getenv, "DEVICE_AUTHORIZATION_EXPIRES_IN", DefaultExpiresIn); err != nil {
		return c, err
	}
	if c.Interval, err = envTime(getenv, "DEVICE_AUTHORIZATION_INTERVAL", DefaultInterval); err != nil {
		return c, err
	}
	if c.UserCodeLength, err = envLength(getenv, "DEVICE_AUTHORIZATION_USER_CODE_LENGTH", DefaultUserCodeLength); err != nil {
		return c, err
	}
	if c.DeviceCodeLength, err = envLength(getenv, "DEVICE_AUTHORIZATION_DEVICE_CODE_LENGTH", DefaultDeviceCodeLength); err != nil {
		return c, err
	}
	c.VerificationURI = strings.TrimSpace(getenv("DEVICE_AUTHORIZATION_VERIFICATION_URI"))
	if _, _, err := c.verificationURIs("X"); err != nil {
		return c, fmt.Errorf("DEVICE_AUTHORIZATION_VERIFICATION_URI: %q is not a URL or path", c.VerificationURI)
	}
	for _, id := range strings.Split(getenv("DEVICE_AUTHORIZATION_CLIENT_IDS"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			c.ClientIDs = append(c.ClientIDs, id)
		}
	}
	return c, nil
}

var timeString = regexp.MustCompile(`^(\d+)\s*(ms|s|m|h|d)$`)

// envTime reads a positive time string with a unit. Better-Auth's ms() reads a bare number as
// milliseconds, a trap for a setting named in seconds elsewhere, so a unit is required here.
func envTime(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	bad := fmt.Errorf("%s: %q is not a time such as 30m, 5s, 1h, 500ms or 2d", name, v)
	m := timeString.FindStringSubmatch(strings.ToLower(v))
	if m == nil {
		return def, bad
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 || n > 1_000_000 {
		return def, bad
	}
	unit := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[2]]
	return time.Duration(n) * unit, nil
}

func envLength(getenv func(string) string, name string, def int) (int, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxCodeLength {
		return def, fmt.Errorf("%s: %q is not a length between 1 and %d", name, v, maxCodeLength)
	}
	return n, nil
}

// verificationURIs gives verification_uri and verification_uri_complete for a user code as
// Better-Auth builds them: the configured URI (default "/device") read as an absolute URL, or
// else resolved against the auth base URL, and the complete one with user_code set in its query.
func (c Config) verificationURIs(userCode string) (string, string, error) {
	raw := c.VerificationURI
	if raw == "" {
		raw = "/device"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		base, berr := url.Parse(c.AuthBaseURL)
		if berr != nil {
			return "", "", berr
		}
		ref, rerr := url.Parse(raw)
		if rerr != nil {
			return "", "", rerr
		}
		u = base.ResolveReference(ref)
	}
	if u.Path == "" && u.Opaque == "" {
		u.Path = "/" // WHATWG's URL serializes a bare origin with its slash
	}
	plain := u.String()
	// URLSearchParams.set replaces every user_code and keeps the other parameters in order.
	var kept []string
	for _, kv := range strings.Split(u.RawQuery, "&") {
		if kv != "" && kv != "user_code" && !strings.HasPrefix(kv, "user_code=") {
			kept = append(kept, kv)
		}
	}
	u.RawQuery = strings.Join(append(kept, "user_code="+url.QueryEscape(userCode)), "&")
	return plain, u.String(), nil
}

func (c Config) clientAllowed(id string) bool {
	return len(c.ClientIDs) == 0 || slices.Contains(c.ClientIDs, id)
}

// Better-Auth's error answers ({"error","error_description"}), by the message of its error code.
const (
	msgInvalidDeviceCode  = "Invalid device code"
	msgExpiredDeviceCode  = "Device code has expired"
	msgExpiredUserCode    = "User code has expired"
	msgPending            = "Authorization pending"
	msgAccessDenied       = "Access denied"
	msgInvalidUserCode    = "Invalid user code"
	msgAlreadyProcessed   = "Device code already processed"
	msgNotClaimed         = "Device code has not been claimed by a verifying session; call `GET /device` with the `user_code` while signed in before approving or denying"
	msgTooFrequent        = "Polling too frequently"
	msgUserNotFound       = "User not found"
	msgInvalidStatus      = "Invalid device code status"
	msgAuthRequired       = "Authentication required"
	msgInvalidClient      = "Invalid client ID"
	msgClientRequired     = "client_id is required"
	msgClientMismatch     = "Client ID mismatch"
	msgGenerationExceeded = "Failed to generate a unique device code"
)

func oauthErr(status int, code, desc string) *plugin.OAuthError {
	return &plugin.OAuthError{Status: status, Code: code, Description: desc}
}

func badRequest(code, desc string) *plugin.OAuthError {
	return oauthErr(http.StatusBadRequest, code, desc)
}

// New returns the plugin.
func New(cfg Config) plugin.Plugin {
	p := &device{cfg: cfg}
	str := func(name string, optional bool) plugin.Field {
		return plugin.Field{Name: name, Kind: plugin.String, Optional: optional, Stored: true}
	}
	return plugin.Plugin{
		ID: ID,
		Endpoints: []plugin.Endpoint{{
			Method: http.MethodPost, Path: "/device/code", Form: true, NoStore: true,
			Body:              &plugin.Schema{Fields: []plugin.Field{str("client_id", false), str("user_id", true), str("scope", true)}},
			OnValidationError: func(msg string, _ map[string]any) error { return badRequest("invalid_request", msg) },
			Handle:            p.code,
		}, {
			Method: http.MethodPost, Path: "/device/token", NoStore: true,
			Body:   &plugin.Schema{Fields: []plugin.Field{{Name: "grant_type", Literal: GrantType}, str("device_code", false), str("client_id", false)}},
			Handle: p.token,
		}, {
			Method: http.MethodGet, Path: "/device", Session: plugin.OptionalSession, Authoritative: true,
			Handle: p.verify,
		}, {
			Method: http.MethodPost, Path: "/device/approve", Session: plugin.OptionalSession, Authoritative: true,
			Body: &plugin.Schema{Fields: []plugin.Field{str("userCode", false)}},
			Handle: func(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
				return p.decide(ctx, r, "approved")
			},
		}, {
			Method: http.MethodPost, Path: "/device/deny", Session: plugin.OptionalSession, Authoritative: true,
			Body: &plugin.Schema{Fields: []plugin.Field{str("userCode", false)}},
			Handle: func(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
				return p.decide(ctx, r, "denied")
			},
		}},
		// Better-Auth: 5 verification lookups per client address per code lifetime, so user codes
		// cannot be guessed by trying.
		RateLimits: []plugin.RateLimit{{
			Match:  func(path string) bool { return path == "/device" },
			Window: cfg.ExpiresIn, Max: 5,
		}},
		Migrations: migrations,
	}
}

// migrations create the deviceCode table as Better-Auth 1.7.25's migrate does (read back from its
// PostgreSQL run; SQLite has its types for the same schema). A database Better-Auth migrated with
// the plugin already has it: it is adopted.
var migrations = []store.PluginMigration{{
	Name: ID + "/0001_deviceCode",
	SQL: map[store.Dialect]string{
		store.Postgres: `create table "deviceCode" ("id" text not null primary key, "deviceCode" text not null, "userCode" text not null, "userId" text, "expiresAt" timestamptz not null, "status" text not null, "lastPolledAt" timestamptz, "pollingInterval" integer, "clientId" text, "scope" text);
create unique index "deviceCode_deviceCode_uidx" on "deviceCode" ("deviceCode");
create unique index "deviceCode_userCode_uidx" on "deviceCode" ("userCode");`,
		store.SQLite: `create table "deviceCode" ("id" text not null primary key, "deviceCode" text not null, "userCode" text not null, "userId" text, "expiresAt" date not null, "status" text not null, "lastPolledAt" date, "pollingInterval" integer, "clientId" text, "scope" text);
create unique index "deviceCode_deviceCode_uidx" on "deviceCode" ("deviceCode");
create unique index "deviceCode_userCode_uidx" on "deviceCode" ("userCode");`,
	},
	Table: "deviceCode", Column: "id",
}}
