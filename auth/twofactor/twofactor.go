// Package twofactor is Better-Auth's two-factor plugin: a user may add a second factor (an
// authenticator app by TOTP, or a code mailed at each sign-in) with backup codes, after which a
// password sign-in answers {"twoFactorRedirect":true,…} and a signed two_factor cookie instead of
// a session, and the session comes from /two-factor/verify-totp, verify-otp or verify-backup-code.
// A device may be trusted for 30 days (the trust_device cookie) and then skips the challenge.
//
// Every value it keeps (the twoFactor table, the verification rows, the cookies, the encryption
// of the TOTP secret and backup codes) has Better-Auth 1.7.25's form, so a database shared with
// Better-Auth works both ways. It imports auth/plugin, session and store; the password check,
// session rotation, mail and sign-in completion come through plugin.Host.
package twofactor

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"authserver/auth/plugin"
	"authserver/store"
)

// ID is Better-Auth's name for the plugin, as listed in BETTER_AUTH_PLUGINS.
const ID = "two-factor"

// Better-Auth's defaults.
const (
	DefaultOTPPeriod      = 3 * time.Minute
	DefaultOTPDigits      = 6
	DefaultTrustDeviceAge = 30 * 24 * 60 * 60 // seconds
	DefaultCookieMaxAge   = 600               // seconds the two_factor challenge lives
	totpDigits            = 6
	totpPeriod            = 30 // seconds
	challengeAttempts     = 5  // failed codes per challenge (TOTP, backup code) and per mailed code
	lockoutFailures       = 10 // consecutive failures across challenges that lock the account
	lockoutDuration       = 15 * time.Minute
	backupCodeCount       = 10
	maxCookieAge          = 400 * 24 * 60 * 60 // the cap better-call puts on Max-Age
)

// Config holds the plugin's options that change what a client sees.
type Config struct {
	// Issuer names the service in authenticator apps (issuer); an enable body's issuer wins.
	Issuer string
	// SkipVerificationOnEnable turns two-factor on at enable, before a first TOTP code is verified.
	SkipVerificationOnEnable bool
	// OTP lets users receive codes by e-mail (otpOptions.sendOTP configured). On by default: the
	// server can always mail (in development into DATA_DIR/outbox).
	OTP bool
	// OTPPeriod is how long a mailed code lives (otpOptions.period); OTPDigits its length.
	OTPPeriod time.Duration
	OTPDigits int
	// TrustDeviceMaxAge is the trusted-device cookie and row lifetime in seconds (trustDeviceMaxAge).
	TrustDeviceMaxAge int
	// CookieMaxAge is the two_factor challenge cookie and row lifetime in seconds
	// (twoFactorCookieMaxAge).
	CookieMaxAge int
	// AllowPasswordless lets users without a password enable, disable and manage two-factor
	// without one (allowPasswordless).
	AllowPasswordless bool
}

// LoadConfig reads the TWO_FACTOR_* variables (see README). issuer is the fallback issuer, the
// application's name.
func LoadConfig(getenv func(string) string, issuer string) (Config, error) {
	c := Config{Issuer: issuer, OTP: true, OTPPeriod: DefaultOTPPeriod, OTPDigits: DefaultOTPDigits,
		TrustDeviceMaxAge: DefaultTrustDeviceAge, CookieMaxAge: DefaultCookieMaxAge}
	var errs []error
	if v := strings.TrimSpace(getenv("TWO_FACTOR_ISSUER")); v != "" {
		c.Issuer = v
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"TWO_FACTOR_SKIP_VERIFICATION_ON_ENABLE", &c.SkipVerificationOnEnable}, {"TWO_FACTOR_OTP", &c.OTP},
		{"TWO_FACTOR_ALLOW_PASSWORDLESS", &c.AllowPasswordless}} {
		switch v := strings.ToLower(strings.TrimSpace(getenv(b.name))); v {
		case "":
		case "1", "true", "yes", "on":
			*b.dst = true
		case "0", "false", "no", "off":
			*b.dst = false
		default:
			errs = append(errs, fmt.Errorf("%s: %q is not true or false", b.name, v))
		}
	}
	for _, n := range []struct {
		name     string
		dst      *int
		min, max int
		unit     string
	}{{"TWO_FACTOR_OTP_PERIOD", nil, 1, 24 * 60, "minutes"}, {"TWO_FACTOR_OTP_DIGITS", &c.OTPDigits, 4, 10, "digits"},
		{"TWO_FACTOR_TRUST_DEVICE_MAX_AGE", &c.TrustDeviceMaxAge, 1, maxCookieAge, "seconds"},
		{"TWO_FACTOR_COOKIE_MAX_AGE", &c.CookieMaxAge, 1, maxCookieAge, "seconds"}} {
		v := strings.TrimSpace(getenv(n.name))
		if v == "" {
			continue
		}
		x, err := strconv.Atoi(v)
		if err != nil || x < n.min || x > n.max {
			errs = append(errs, fmt.Errorf("%s: %q is not a whole number of %s from %d to %d", n.name, v, n.unit, n.min, n.max))
			continue
		}
		if n.dst == nil {
			c.OTPPeriod = time.Duration(x) * time.Minute
			continue
		}
		*n.dst = x
	}
	return c, errors.Join(errs...)
}

// EnabledField is the user column: a boolean, false for new users, that only the server sets.
// Better-Auth's migrate makes it a nullable column without a database default.
var EnabledField = store.Field{Name: "twoFactorEnabled", Type: store.BoolField, Nullable: true, Default: store.BoolValue(false), ReadOnly: true}

// migrations create the column and the twoFactor table as Better-Auth 1.7.25's migrate does on
// each dialect (read back from its PostgreSQL run: nullable verified, failedVerificationCount and
// lockedUntil without defaults, the two indexes, the cascading foreign key). A database Better-Auth
// migrated with the plugin already has them: they are adopted.
var migrations = []store.PluginMigration{{
	Name: ID + "/0001_user_twoFactorEnabled",
	SQL: map[store.Dialect]string{
		store.Postgres: `alter table "user" add column "twoFactorEnabled" boolean;`,
		store.SQLite:   `alter table "user" add column "twoFactorEnabled" integer;`,
	},
	Table: "user", Column: EnabledField.Name,
}, {
	Name: ID + "/0002_twoFactor",
	SQL: map[store.Dialect]string{
		store.Postgres: `create table "twoFactor" ("id" text not null primary key, "secret" text not null, "backupCodes" text not null, "userId" text not null references "user" ("id") on delete cascade, "verified" boolean, "failedVerificationCount" integer, "lockedUntil" timestamptz);
create index "twoFactor_secret_idx" on "twoFactor" ("secret");
create index "twoFactor_userId_idx" on "twoFactor" ("userId");`,
		store.SQLite: `create table "twoFactor" ("id" text not null primary key, "secret" text not null, "backupCodes" text not null, "userId" text not null references "user" ("id") on delete cascade, "verified" integer, "failedVerificationCount" integer, "lockedUntil" date);
create index "twoFactor_secret_idx" on "twoFactor" ("secret");
create index "twoFactor_userId_idx" on "twoFactor" ("userId");`,
	},
	Table: "twoFactor", Column: "id",
}}

// Better-Auth's answers.
var (
	ErrInvalidCode        = &plugin.Error{Status: http.StatusUnauthorized, Code: "INVALID_CODE", Message: "Invalid code"}
	ErrInvalidCookie      = &plugin.Error{Status: http.StatusUnauthorized, Code: "INVALID_TWO_FACTOR_COOKIE", Message: "Invalid two factor cookie"}
	ErrTooManyAttempts    = &plugin.Error{Status: http.StatusBadRequest, Code: "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE", Message: "Too many attempts. Please request a new code."}
	ErrLocked             = &plugin.Error{Status: http.StatusTooManyRequests, Code: "ACCOUNT_TEMPORARILY_LOCKED", Message: "Too many failed verification attempts. Your account is temporarily locked. Please try again later."}
	ErrOTPExpired         = &plugin.Error{Status: http.StatusBadRequest, Code: "OTP_HAS_EXPIRED", Message: "OTP has expired"}
	ErrTOTPNotEnabled     = &plugin.Error{Status: http.StatusBadRequest, Code: "TOTP_NOT_ENABLED", Message: "TOTP not enabled"}
	ErrTOTPAlreadyEnabled = &plugin.Error{Status: http.StatusBadRequest, Code: "TOTP_ALREADY_ENABLED", Message: "TOTP is already enabled"}
	ErrNotEnabled         = &plugin.Error{Status: http.StatusBadRequest, Code: "TWO_FACTOR_NOT_ENABLED", Message: "Two factor isn't enabled"}
	ErrBackupNotEnabled   = &plugin.Error{Status: http.StatusBadRequest, Code: "BACKUP_CODES_NOT_ENABLED", Message: "Backup codes aren't enabled"}
	ErrInvalidBackupCode  = &plugin.Error{Status: http.StatusUnauthorized, Code: "INVALID_BACKUP_CODE", Message: "Invalid backup code"}
	// ErrOTPNotAvailable is enable's answer for method "otp" when codes are not mailed.
	ErrOTPNotAvailable = &plugin.Error{Status: http.StatusBadRequest, Code: "OTP_NOT_CONFIGURED", Message: "OTP is not available"}
	// ErrOTPNotConfigured is send-otp's answer for the same case, with another message.
	ErrOTPNotConfigured = &plugin.Error{Status: http.StatusBadRequest, Code: "OTP_NOT_CONFIGURED", Message: "otp isn't configured"}
	// ErrBackupCodeRace is a backup code whose list another request changed meanwhile; 1.7.25
	// answers it with a message and no code.
	ErrBackupCodeRace = &plugin.Error{Status: http.StatusConflict, Message: "Failed to verify backup code. Please try again."}
	// ErrNoSession is verify-otp's answer when a code would enable two-factor during a challenge.
	ErrNoSession = &plugin.Error{Status: http.StatusBadRequest, Code: "FAILED_TO_CREATE_SESSION", Message: "Failed to create session"}
	// ErrInvalidPassword is the core's answer for a missing password.
	ErrInvalidPassword = &plugin.Error{Status: http.StatusBadRequest, Code: "INVALID_PASSWORD", Message: "Invalid password"}
)

// The cookie names, as "<prefix>.<name>".
const (
	challengeCookie    = "two_factor"
	trustCookie        = "trust_device"
	dontRememberCookie = "dont_remember"
)

// New returns the plugin.
func New(cfg Config) plugin.Plugin {
	p := &twoFactor{cfg: cfg}
	pw := plugin.Field{Name: "password", Kind: plugin.String, Optional: cfg.AllowPasswordless, Stored: true}
	code := plugin.Field{Name: "code", Kind: plugin.String}
	trust := plugin.Field{Name: "trustDevice", Kind: plugin.Bool, Optional: true}
	return plugin.Plugin{
		ID: ID,
		// Better-Auth's rule: 3 per 10 s on every /two-factor/ path.
		RateLimits: []plugin.RateLimit{{Window: 10 * time.Second, Max: 3, Match: func(path string) bool {
			return strings.HasPrefix(path, "/two-factor/")
		}}},
		UserFields: []store.Field{EnabledField},
		Migrations: migrations,
		Hooks:      plugin.Hooks{Challenge: p.challenge},
		Endpoints: []plugin.Endpoint{
			{Method: http.MethodPost, Path: "/two-factor/enable", Session: plugin.NeedSession, Authoritative: true, Handle: p.enable,
				Body: &plugin.Schema{Fields: []plugin.Field{pw, {Name: "method", Kind: plugin.String, Optional: true},
					{Name: "issuer", Kind: plugin.String, Optional: true}}}},
			{Method: http.MethodPost, Path: "/two-factor/disable", Session: plugin.NeedSession, Authoritative: true, Handle: p.disable,
				Body: &plugin.Schema{Fields: []plugin.Field{pw}}},
			{Method: http.MethodPost, Path: "/two-factor/get-totp-uri", Session: plugin.NeedSession, Handle: p.totpURI,
				Body: &plugin.Schema{Fields: []plugin.Field{pw}}},
			{Method: http.MethodPost, Path: "/two-factor/generate-backup-codes", Session: plugin.NeedSession, Handle: p.generateBackupCodes,
				Body: &plugin.Schema{Fields: []plugin.Field{pw}}},
			{Method: http.MethodPost, Path: "/two-factor/verify-totp", Session: plugin.OptionalSession, Authoritative: true, Handle: p.verifyTOTP,
				Body: &plugin.Schema{Fields: []plugin.Field{code, trust}}},
			{Method: http.MethodPost, Path: "/two-factor/send-otp", Session: plugin.OptionalSession, Authoritative: true, Handle: p.sendOTP,
				Body: &plugin.Schema{Fields: []plugin.Field{trust}, OptionalBody: true}},
			{Method: http.MethodPost, Path: "/two-factor/verify-otp", Session: plugin.OptionalSession, Authoritative: true, Handle: p.verifyOTP,
				Body: &plugin.Schema{Fields: []plugin.Field{code, trust}}},
			{Method: http.MethodPost, Path: "/two-factor/verify-backup-code", Session: plugin.OptionalSession, Authoritative: true, Handle: p.verifyBackupCode,
				Body: &plugin.Schema{Fields: []plugin.Field{code, {Name: "disableSession", Kind: plugin.Bool, Optional: true}, trust}}},
		},
	}
}

type twoFactor struct{ cfg Config }
