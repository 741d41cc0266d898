package main

import (
	"strings"
	"testing"
	"time"
)

// Every variable the README lists under Configuration reaches the option it names, and unset
// ones keep their documented defaults. The features read their own variables; this guards the
// wiring between them and main.
func TestLoadConfigEveryVariable(t *testing.T) {
	env := map[string]string{
		"HOST": "127.0.0.1", "PORT": "9000", "DATA_DIR": "/tmp/d", "DATABASE_URL": "postgres://x/y",
		"DATABASE_LISTEN_URL": "postgres://direct/y", "DB_MAX_CONNS": "7", "DB_SIMPLE_PROTOCOL": "true",
		"REDIS_URL": "redis://r", "CONTENT_DIR": "/c", "CONTENT_RELOAD_INTERVAL": "30", "SHUTDOWN_TIMEOUT": "5s",
		"SWEEP_INTERVAL": "5m", "SWEEP_BATCH_SIZE": "50", "AUDIT_RETENTION": "720h",
		"WEBHOOK_URLS": "https://hooks.example/a, http://10.0.0.2/b", "WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"BETTER_AUTH_URL": "https://auth.example.com/api/auth", "LOG_LEVEL": "warn", "LOG_FORMAT": "json",
		"BETTER_AUTH_TRUSTED_ORIGINS": "https://a.example/", "TRUSTED_PROXIES": "10.0.0.1",
		"RATE_LIMIT_ENABLED": "on", "RATE_LIMIT_WINDOW": "20", "RATE_LIMIT_MAX": "9", "RATE_LIMIT_RULES": "/x=1/2",
		"SESSION_EXPIRES_IN": "48h", "SESSION_UPDATE_AGE": "2h", "SESSION_FRESH_AGE": "3h", "SESSION_MAX_AGE": "96h",
		"SESSION_CACHE": "false", "SESSION_CACHE_TTL": "5", "SESSION_CACHE_SIZE": "11", "SESSION_CACHE_BYTES": "4096",
		"SESSION_COOKIE_CACHE": "yes", "SESSION_COOKIE_CACHE_MAX_AGE": "60", "SECURE_COOKIES": "false",
		"MIN_PASSWORD_LENGTH": "10", "MAX_PASSWORD_LENGTH": "64", "REJECT_COMMON_PASSWORDS": "1",
		"PASSWORD_HASH_CONCURRENCY": "3", "PASSWORD_HASH_MAX_WAIT": "1500ms", "LOCKOUT_ENABLED": "true", "LOCKOUT_THRESHOLD": "4",
		"LOCKOUT_BASE": "2m", "LOCKOUT_MAX": "2h", "DISABLE_SIGN_UP": "true", "DISABLE_AUTO_SIGN_IN": "true",
		"REQUIRE_EMAIL_VERIFICATION": "true", "SEND_VERIFICATION_ON_SIGN_UP": "false",
		"SEND_VERIFICATION_ON_SIGN_IN": "true", "AUTO_SIGN_IN_AFTER_VERIFICATION": "true",
		"VERIFICATION_TOKEN_EXPIRES_IN": "120", "RESET_PASSWORD_TOKEN_EXPIRES_IN": "180",
		"REVOKE_SESSIONS_ON_PASSWORD_RESET": "true", "CHANGE_EMAIL_ENABLED": "true",
		"CHANGE_EMAIL_WITHOUT_VERIFICATION": "true", "CHANGE_EMAIL_CONFIRMATION": "false",
		"DELETE_USER_ENABLED": "true", "DELETE_USER_VERIFICATION": "true", "DELETE_USER_TOKEN_EXPIRES_IN": "1h",
		"APP_NAME": "Acme", "SMTP_URL": "smtp://m", "MAIL_FROM": "a@b.c", "MAIL_TEMPLATES_DIR": "/t", "MAIL_SEND_TIMEOUT": "3",
		"GITHUB_CLIENT_ID": "id", "GITHUB_CLIENT_SECRET": "s",
		"METRICS_ADDR": "127.0.0.1:9464", "METRICS_TOKEN": "0123456789abcdef",
	}
	c, err := loadConfig(envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	s, a, e, w := c.Session, c.Auth, c.Auth.Email, c.Web
	checks := []struct {
		name string
		ok   bool
	}{
		{"metrics", c.MetricsAddr == "127.0.0.1:9464" && w.MetricsToken == "0123456789abcdef"},
		{"HOST/PORT/DATA_DIR", c.Host == "127.0.0.1" && c.Port == "9000" && c.DataDir == "/tmp/d"},
		{"database", c.Store.URL == "postgres://x/y" && c.Store.ListenURL == "postgres://direct/y" && c.Store.MaxOpenConns == 7 && c.Store.SimpleProtocol},
		{"REDIS_URL", c.RedisURL == "redis://r" && w.RateLimit.Storage == "redis"},
		{"content", c.Content.Dir == "/c" && c.ContentReload == 30*time.Second && c.ShutdownTimeout == 5*time.Second},
		{"logging", c.LogLevel.String() == "WARN" && c.LogFormat == "json"},
		{"sweeper", c.SweepInterval == 5*time.Minute && c.SweepBatch == 50 && c.AuditRetention == 720*time.Hour},
		{"webhooks", len(a.WebhookURLs) == 2 && a.WebhookURLs[1] == "http://10.0.0.2/b" && len(c.WebhookKey) == 24},
		{"web", w.BaseURL == "https://auth.example.com" && len(w.TrustedOrigins) == 1 && w.TrustedOrigins[0] == "https://a.example" &&
			len(w.TrustedProxies) == 1 && w.TrustedProxies[0].String() == "10.0.0.1/32" && !w.Production},
		{"rate limit", w.RateLimit.Enabled && w.RateLimit.Window == 20*time.Second && w.RateLimit.Max == 9 && len(w.RateLimit.Rules) == 1},
		{"session lifetime", s.ExpiresIn == 48*time.Hour && s.UpdateAge == 2*time.Hour && s.FreshAge == 3*time.Hour && s.MaxAge == 96*time.Hour},
		{"session cache", s.DisableCache && s.CacheTTL == 5*time.Second && s.CacheSize == 11 && s.CacheBytes == 4096},
		{"cookie cache", s.CookieCache && s.CookieCacheMaxAge == time.Minute && !s.Secure},
		{"password policy", a.MinPasswordLength == 10 && a.MaxPasswordLength == 64 && a.RejectCommonPasswords && a.Hasher.Concurrency == 3 && a.Hasher.MaxWait == 1500*time.Millisecond},
		{"lockout", a.Lockout.Enabled && a.Lockout.Threshold == 4 && a.Lockout.Base == 2*time.Minute && a.Lockout.Max == 2*time.Hour},
		{"sign-up", a.DisableSignUp && a.DisableAutoSignIn && a.RequireEmailVerification},
		{"verification", e.SendOnSignUp != nil && !*e.SendOnSignUp && e.SendOnSignIn && e.AutoSignInAfterVerification && e.VerificationExpiresIn == 2*time.Minute},
		{"reset", e.ResetPasswordExpiresIn == 3*time.Minute && e.RevokeSessionsOnPasswordReset},
		{"change email", e.ChangeEmailEnabled && e.ChangeEmailWithoutVerification && !e.ChangeEmailConfirmation},
		{"delete user", e.DeleteUserEnabled && e.DeleteUserVerification && e.DeleteTokenExpiresIn == time.Hour},
		{"mail", c.Mail.AppName == "Acme" && c.Mail.SMTPURL == "smtp://m" && c.Mail.From == "a@b.c" && c.Mail.TemplatesDir == "/t" &&
			c.Mail.Timeout == 3*time.Second && e.SendTimeout == 3*time.Second && c.Mail.OutboxDir == "/tmp/d/outbox" && c.Mail.LogLinks},
		{"links", e.APIURL == "https://auth.example.com/api/auth"},
		{"social", c.Social.Providers["github"].ClientID == "id"},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("%s not read as set", ch.name)
		}
	}

	d, err := loadConfig(envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	s, a, e, w = d.Session, d.Auth, d.Auth.Email, d.Web
	defaults := []struct {
		name string
		ok   bool
	}{
		{"rate limit", !w.RateLimit.Enabled && w.RateLimit.Window == 10*time.Second && w.RateLimit.Max == 100 && w.RateLimit.Storage == "memory"},
		{"session", s.ExpiresIn == 7*24*time.Hour && s.UpdateAge == 24*time.Hour && s.FreshAge == 24*time.Hour && !s.DisableCache &&
			s.CacheTTL == time.Minute && s.CacheSize == 20_000 && !s.CookieCache && s.CookieCacheMaxAge == 5*time.Minute},
		{"auth", a.MinPasswordLength == 8 && a.MaxPasswordLength == 128 && !a.Lockout.Enabled && a.Lockout.Threshold == 5 &&
			a.Lockout.Base == time.Minute && a.Lockout.Max == time.Hour},
		{"email", e.SendOnSignUp == nil && e.ChangeEmailConfirmation && e.VerificationExpiresIn == time.Hour &&
			e.ResetPasswordExpiresIn == time.Hour && e.DeleteTokenExpiresIn == 24*time.Hour && e.SendTimeout == 10*time.Second},
		{"audit", d.AuditRetention == 90*24*time.Hour && len(a.WebhookURLs) == 0 && d.WebhookKey == nil},
		{"server", d.ShutdownTimeout == 20*time.Second && d.LogFormat == "text" && d.Mail.OutboxDir == "data/outbox"},
		{"social", len(d.Social.Providers) == 0 && !d.Social.AccountLinking.Disabled},
	}
	for _, ch := range defaults {
		if !ch.ok {
			t.Errorf("%s defaults changed", ch.name)
		}
	}
	if p, _ := loadConfig(envMap(map[string]string{"APP_ENV": "production", "BETTER_AUTH_SECRET": strings.Repeat("s", 32),
		"BETTER_AUTH_URL": "https://a.example"})); !p.Web.RateLimit.Enabled || !p.Web.Production || p.Mail.LogLinks || !p.Session.Secure {
		t.Error("production did not turn rate limiting on, links out of logs and cookies Secure")
	}
}

// Bad values name their variable, whichever feature reads it, and all are reported together.
func TestLoadConfigNamesEveryBadVariable(t *testing.T) {
	bad := []string{"SESSION_CACHE", "RATE_LIMIT_MAX", "LOCKOUT_BASE", "CHANGE_EMAIL_CONFIRMATION", "MAIL_SEND_TIMEOUT",
		"SEND_VERIFICATION_ON_SIGN_UP", "SECURE_COOKIES", "DB_SIMPLE_PROTOCOL", "ACCOUNT_LINKING_ENABLED"}
	env := map[string]string{}
	for _, k := range bad {
		env[k] = "maybe"
	}
	_, err := loadConfig(envMap(env))
	if err == nil {
		t.Fatal("bad values accepted")
	}
	for _, k := range bad {
		if !strings.Contains(err.Error(), k+`: "maybe" is not`) {
			t.Errorf("error does not name %s: %v", k, err)
		}
	}
	for env, want := range map[string]string{
		"RATE_LIMIT_STORAGE=redis":    "RATE_LIMIT_STORAGE=redis needs REDIS_URL",
		"RATE_LIMIT_STORAGE=disk":     "RATE_LIMIT_STORAGE must be memory, database or redis",
		"RATE_LIMIT_RULES=x":          "RATE_LIMIT_RULES",
		"SESSION_EXPIRES_IN=401d":     "SESSION_EXPIRES_IN",
		"SESSION_EXPIRES_IN=9700h":    "may not exceed 400 days",
		"MIN_PASSWORD_LENGTH=0":       "MIN_PASSWORD_LENGTH must be at least 1",
		"LOG_LEVEL=loud":              "LOG_LEVEL must be",
		"SWEEP_INTERVAL=-1m":          "SWEEP_INTERVAL",
		"SWEEP_BATCH_SIZE=0":          "SWEEP_BATCH_SIZE must be between 1 and 100000",
		"METRICS_TOKEN=short":         "METRICS_TOKEN must be at least 16 characters",
		"WEBHOOK_URLS=ftp://x":        "WEBHOOK_URLS",
		"WEBHOOK_URLS=https://x/h":    "WEBHOOK_SECRET must start with whsec_",
		"APP_ENV=staging":             "APP_ENV must be development or production",
		"GOOGLE_CLIENT_ID=x":          "google",
		"BETTER_AUTH_SECRETS=abc":     "invalid BETTER_AUTH_SECRETS entry at position 1",
		"BETTER_AUTH_SECRETS=1:a,1:b": "duplicate version 1 in BETTER_AUTH_SECRETS",
	} {
		k, v, _ := strings.Cut(env, "=")
		if _, err := loadConfig(envMap(map[string]string{k: v})); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want it to mention %q", env, err, want)
		}
	}
}

// With BETTER_AUTH_SECRETS, production needs no BETTER_AUTH_SECRET but a strong current version,
// and the current version is the secret the server signs with.
func TestLoadConfigVersionedSecrets(t *testing.T) {
	strong := "2:" + strings.Repeat("n", 32) + ",1:short"
	c, err := loadConfig(envMap(map[string]string{"APP_ENV": "production", "BETTER_AUTH_URL": "https://a.example", "BETTER_AUTH_SECRETS": strong}))
	if err != nil {
		t.Fatalf("strong versioned secret refused: %v", err)
	}
	if s, generated, err := resolveSecret(c); err != nil || generated || s != strings.Repeat("n", 32) {
		t.Errorf("resolveSecret = %q, %v, %v; want the current version", s, generated, err)
	}
	_, err = loadConfig(envMap(map[string]string{"APP_ENV": "production", "BETTER_AUTH_URL": "https://a.example", "BETTER_AUTH_SECRETS": "2:short,1:" + strings.Repeat("o", 40)}))
	if err == nil || !strings.Contains(err.Error(), "current secret in BETTER_AUTH_SECRETS (version 2) must be at least 32") {
		t.Errorf("weak current version: %v", err)
	}
}
