// Package emailotp is Better-Auth's email-otp plugin: one-time codes mailed to an address, to sign
// in (creating the user unless sign-up is off), to verify the address, to reset the password and,
// when enabled, to change the address. Codes are kept in the verification table exactly as
// Better-Auth 1.7.25 keeps them (identifier "<type>-otp-<email>", value "<code>:<failed tries>",
// the code plain, hashed or encrypted), so a database shared with Better-Auth works both ways. It
// imports auth (e-mail rules and errors), auth/plugin, auth/atrest and store; sessions, mail and
// password writes come through plugin.Host.
package emailotp

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"authserver/auth/plugin"
)

// ID is Better-Auth's name for the plugin, as listed in BETTER_AUTH_PLUGINS.
const ID = "email-otp"

// Better-Auth's defaults.
const (
	DefaultLength          = 6
	DefaultExpiresIn       = 5 * time.Minute
	DefaultAllowedAttempts = 3
)

// How codes are kept in the verification table (storeOTP).
const (
	StorePlain     = "plain"
	StoreHashed    = "hashed"
	StoreEncrypted = "encrypted"
)

// Config holds the plugin's options that change what a client sees.
type Config struct {
	// Length is the number of digits of a code (otpLength).
	Length int
	// ExpiresIn is how long a code lives (expiresIn).
	ExpiresIn time.Duration
	// AllowedAttempts is how many wrong codes a code survives (allowedAttempts).
	AllowedAttempts int
	// DisableSignUp refuses a sign-in code for an unknown address (disableSignUp).
	DisableSignUp bool
	// Store is StorePlain, StoreHashed or StoreEncrypted (storeOTP).
	Store string
	// OverrideEmailVerification makes the core's verification mails codes instead of links
	// (overrideDefaultEmailVerification).
	OverrideEmailVerification bool
	// ChangeEmail turns on request-email-change and change-email (changeEmail.enabled);
	// VerifyCurrentEmail also asks for a code sent to the current address
	// (changeEmail.verifyCurrentEmail).
	ChangeEmail, VerifyCurrentEmail bool
	// ResendReuse (resendStrategy:"reuse") sends a code that is still usable again, with its life
	// renewed, instead of a new one (the default "rotate"), on send-verification-otp and the
	// password-reset requests; a hashed code cannot be read back, so it is always replaced.
	ResendReuse bool
	// SendOnSignUp (sendVerificationOnSignUp) mails an email-verification code after every e-mail
	// sign-up, unless OverrideEmailVerification already turns the core's verification mail into
	// one.
	SendOnSignUp bool
}

// LoadConfig reads the EMAIL_OTP_* variables (see README).
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{Length: DefaultLength, ExpiresIn: DefaultExpiresIn, AllowedAttempts: DefaultAllowedAttempts, Store: StorePlain}
	var errs []error
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"EMAIL_OTP_DISABLE_SIGN_UP", &c.DisableSignUp}, {"EMAIL_OTP_OVERRIDE_EMAIL_VERIFICATION", &c.OverrideEmailVerification},
		{"EMAIL_OTP_CHANGE_EMAIL", &c.ChangeEmail}, {"EMAIL_OTP_CHANGE_EMAIL_VERIFY_CURRENT", &c.VerifyCurrentEmail},
		{"EMAIL_OTP_SEND_VERIFICATION_ON_SIGN_UP", &c.SendOnSignUp}} {
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
	var expires int
	for _, n := range []struct {
		name     string
		dst      *int
		min, max int
		unit     string
	}{{"EMAIL_OTP_LENGTH", &c.Length, 4, 12, "digits"}, {"EMAIL_OTP_EXPIRES_IN", &expires, 1, 24 * 60 * 60, "seconds"},
		{"EMAIL_OTP_ALLOWED_ATTEMPTS", &c.AllowedAttempts, 1, 100, "attempts"}} {
		v := strings.TrimSpace(getenv(n.name))
		if v == "" {
			continue
		}
		x, err := strconv.Atoi(v)
		if err != nil || x < n.min || x > n.max {
			errs = append(errs, fmt.Errorf("%s: %q is not a whole number of %s from %d to %d", n.name, v, n.unit, n.min, n.max))
			continue
		}
		*n.dst = x
	}
	if expires > 0 {
		c.ExpiresIn = time.Duration(expires) * time.Second
	}
	switch v := strings.ToLower(strings.TrimSpace(getenv("EMAIL_OTP_RESEND_STRATEGY"))); v {
	case "", "rotate":
	case "reuse":
		c.ResendReuse = true
	default:
		errs = append(errs, fmt.Errorf("EMAIL_OTP_RESEND_STRATEGY: %q is not rotate or reuse", v))
	}
	switch v := strings.ToLower(strings.TrimSpace(getenv("EMAIL_OTP_STORE"))); v {
	case "":
	case StorePlain, StoreHashed, StoreEncrypted:
		c.Store = v
	default:
		errs = append(errs, fmt.Errorf("EMAIL_OTP_STORE: %q is not plain, hashed or encrypted", v))
	}
	return c, errors.Join(errs...)
}

// Better-Auth's answers.
var (
	ErrInvalidOTP      = &plugin.Error{Status: http.StatusBadRequest, Code: "INVALID_OTP", Message: "Invalid OTP"}
	ErrOTPExpired      = &plugin.Error{Status: http.StatusBadRequest, Code: "OTP_EXPIRED", Message: "OTP expired"}
	ErrTooManyAttempts = &plugin.Error{Status: http.StatusForbidden, Code: "TOO_MANY_ATTEMPTS", Message: "Too many attempts"}
	// The answers 1.7.25 gives with a message and no code.
	ErrInvalidType        = &plugin.Error{Status: http.StatusBadRequest, Message: "Invalid OTP type"}
	ErrChangeDisabled     = &plugin.Error{Status: http.StatusBadRequest, Message: "Change email with OTP is disabled"}
	ErrEmailIsTheSame     = &plugin.Error{Status: http.StatusBadRequest, Message: "Email is the same"}
	ErrEmailInUse         = &plugin.Error{Status: http.StatusBadRequest, Message: "Email already in use"}
	ErrCurrentOTPRequired = &plugin.Error{Status: http.StatusBadRequest, Message: "OTP is required to verify current email"}
)

// The code types, as the body's type and the identifier's prefix name them.
const (
	TypeSignIn            = "sign-in"
	TypeEmailVerification = "email-verification"
	TypeForgetPassword    = "forget-password"
	TypeChangeEmail       = "change-email"
)

var types = []string{TypeEmailVerification, TypeSignIn, TypeForgetPassword, TypeChangeEmail}

// MailKind is the mail template kind of a code of type t ("email-otp-sign-in").
func MailKind(t string) string { return "email-otp-" + t }

// New returns the plugin.
func New(cfg Config) plugin.Plugin {
	p := &emailOTP{cfg: cfg}
	email := plugin.Field{Name: "email", Kind: plugin.String}
	otp := plugin.Field{Name: "otp", Kind: plugin.String}
	typ := plugin.Field{Name: "type", Kind: plugin.Any}
	body := func(fs ...plugin.Field) *plugin.Schema { return &plugin.Schema{Fields: fs} }
	out := plugin.Plugin{
		ID: ID,
		// Better-Auth's rule: 3 per minute on each of the plugin's paths.
		RateLimits: []plugin.RateLimit{{Window: time.Minute, Max: 3, Match: func(path string) bool {
			switch path {
			case "/email-otp/send-verification-otp", "/email-otp/check-verification-otp", "/email-otp/verify-email",
				"/sign-in/email-otp", "/email-otp/request-password-reset", "/email-otp/reset-password",
				"/forget-password/email-otp", "/email-otp/request-email-change", "/email-otp/change-email":
				return true
			}
			return false
		}}},
		Endpoints: []plugin.Endpoint{
			{Method: http.MethodPost, Path: "/email-otp/send-verification-otp", Body: body(email, typ), FormCSRF: true, Handle: p.send},
			{Method: http.MethodPost, Path: "/email-otp/check-verification-otp", Body: body(email, typ, otp), Handle: p.check},
			{Method: http.MethodPost, Path: "/email-otp/verify-email", Body: body(email, otp), Handle: p.verifyEmail},
			{Method: http.MethodPost, Path: "/sign-in/email-otp", Body: body(email, otp,
				plugin.Field{Name: "name", Kind: plugin.String, Optional: true, Stored: true},
				plugin.Field{Name: "image", Kind: plugin.String, Optional: true, Stored: true}), Handle: p.signIn},
			{Method: http.MethodPost, Path: "/email-otp/request-password-reset", Body: body(email), Handle: p.requestReset},
			{Method: http.MethodPost, Path: "/forget-password/email-otp", Body: body(email), Handle: p.requestReset},
			{Method: http.MethodPost, Path: "/email-otp/reset-password", Body: body(email, otp,
				plugin.Field{Name: "password", Kind: plugin.String, Stored: true}), Handle: p.resetPassword},
			{Method: http.MethodPost, Path: "/email-otp/request-email-change", Session: plugin.NeedSession, Authoritative: true, Handle: p.requestEmailChange,
				Body: body(plugin.Field{Name: "newEmail", Kind: plugin.String}, plugin.Field{Name: "otp", Kind: plugin.String, Optional: true})},
			{Method: http.MethodPost, Path: "/email-otp/change-email", Session: plugin.NeedSession, Authoritative: true, Handle: p.changeEmail,
				Body: body(plugin.Field{Name: "newEmail", Kind: plugin.String}, otp)},
		},
	}
	if cfg.OverrideEmailVerification {
		out.Hooks.VerificationEmail = p.verificationMail
	} else if cfg.SendOnSignUp {
		out.Hooks.SignedUp = p.signUpMail
	}
	return out
}

type emailOTP struct{ cfg Config }
