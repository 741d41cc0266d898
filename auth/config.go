package auth

import (
	"errors"
	"time"

	"authserver/env"
)

// LoadConfig reads the email-and-password options from the environment: the password policy, the
// per-account lockout, sign-up and the email lifecycle (see loadEmailConfig). Plugins, the clock
// and the email's runtime parts (link base, secret, sender, templates, logger, send timeout) are
// the caller's to fill in.
func LoadConfig(getenv func(string) string) (Config, error) {
	r := env.New(getenv)
	c := Config{
		// Password policy.
		MinPasswordLength:     r.Int("MIN_PASSWORD_LENGTH", 8),
		MaxPasswordLength:     r.Int("MAX_PASSWORD_LENGTH", 128),
		RejectCommonPasswords: r.Bool("REJECT_COMMON_PASSWORDS", false),
		Hasher: HasherConfig{
			Concurrency: r.Int("PASSWORD_HASH_CONCURRENCY", 0),
			MaxWait:     r.Duration("PASSWORD_HASH_MAX_WAIT", 2*time.Second),
		},
		Lockout: LockoutConfig{
			Enabled:   r.Bool("LOCKOUT_ENABLED", false),
			Threshold: r.Int("LOCKOUT_THRESHOLD", 5),
			Base:      r.Duration("LOCKOUT_BASE", time.Minute),
			Max:       r.Duration("LOCKOUT_MAX", time.Hour),
		},

		// Sign-up.
		DisableSignUp:            r.Bool("DISABLE_SIGN_UP", false),
		DisableAutoSignIn:        r.Bool("DISABLE_AUTO_SIGN_IN", false),
		RequireEmailVerification: r.Bool("REQUIRE_EMAIL_VERIFICATION", false),

		Email: loadEmailConfig(r),
	}
	if c.MinPasswordLength < 1 || c.MaxPasswordLength < c.MinPasswordLength {
		r.Fail(errors.New("MIN_PASSWORD_LENGTH must be at least 1 and at most MAX_PASSWORD_LENGTH"))
	}
	return c, r.Err()
}

// loadEmailConfig reads the email lifecycle: verification (SEND_VERIFICATION_ON_SIGN_UP, default
// REQUIRE_EMAIL_VERIFICATION; SEND_VERIFICATION_ON_SIGN_IN; AUTO_SIGN_IN_AFTER_VERIFICATION;
// VERIFICATION_TOKEN_EXPIRES_IN, 1 h), password reset (RESET_PASSWORD_TOKEN_EXPIRES_IN, 1 h;
// REVOKE_SESSIONS_ON_PASSWORD_RESET), change-email (CHANGE_EMAIL_ENABLED,
// CHANGE_EMAIL_WITHOUT_VERIFICATION, CHANGE_EMAIL_CONFIRMATION, default on) and delete-user
// (DELETE_USER_ENABLED, DELETE_USER_VERIFICATION, DELETE_USER_TOKEN_EXPIRES_IN, 24 h).
func loadEmailConfig(r *env.Reader) EmailConfig {
	return EmailConfig{
		SendOnSignUp:                r.OptionalBool("SEND_VERIFICATION_ON_SIGN_UP"),
		SendOnSignIn:                r.Bool("SEND_VERIFICATION_ON_SIGN_IN", false),
		AutoSignInAfterVerification: r.Bool("AUTO_SIGN_IN_AFTER_VERIFICATION", false),
		VerificationExpiresIn:       r.Duration("VERIFICATION_TOKEN_EXPIRES_IN", time.Hour),

		ResetPasswordExpiresIn:        r.Duration("RESET_PASSWORD_TOKEN_EXPIRES_IN", time.Hour),
		RevokeSessionsOnPasswordReset: r.Bool("REVOKE_SESSIONS_ON_PASSWORD_RESET", false),

		ChangeEmailEnabled:             r.Bool("CHANGE_EMAIL_ENABLED", false),
		ChangeEmailWithoutVerification: r.Bool("CHANGE_EMAIL_WITHOUT_VERIFICATION", false),
		ChangeEmailConfirmation:        r.Bool("CHANGE_EMAIL_CONFIRMATION", true),

		DeleteUserEnabled:      r.Bool("DELETE_USER_ENABLED", false),
		DeleteUserVerification: r.Bool("DELETE_USER_VERIFICATION", false),
		DeleteTokenExpiresIn:   r.Duration("DELETE_USER_TOKEN_EXPIRES_IN", 24*time.Hour),
	}
}
