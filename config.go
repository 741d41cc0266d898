package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"authserver/auth/plugin"
	"authserver/web"
)

// Config is everything the server reads from the environment. Every field has a default that
// works, so the server starts with no configuration at all.
type Config struct {
	Host, Port  string
	DataDir     string
	DatabaseURL string
	RedisURL    string
	ContentDir  string
	// ContentReload re-reads CONTENT_DIR this often (0: only at start and on SIGHUP).
	ContentReload time.Duration
	ListenURL     string
	Secret        string
	BaseURL       string
	Production    bool
	// TrustedOrigins come from BETTER_AUTH_TRUSTED_ORIGINS (comma-separated).
	TrustedOrigins []string
	TrustedProxies []netip.Prefix
	LogLevel       slog.Level
	LogFormat      string

	SessionExpiresIn  time.Duration
	SessionUpdateAge  time.Duration
	SessionFreshAge   time.Duration
	SessionMaxAge     time.Duration
	MinPasswordLength int
	MaxPasswordLength int
	DisableSignUp     bool
	DisableAutoSignIn bool
	HashConcurrency   int
	DBMaxConns        int
	DBSimpleProtocol  bool
	ShutdownTimeout   time.Duration
	SecureCookies     *bool
	SessionCache      bool
	SessionCacheSize  int
	SessionCacheBytes int
	CookieCache       bool
	CookieCacheMaxAge time.Duration
	RejectCommon      bool
	LockoutEnabled    bool
	LockoutThreshold  int
	LockoutBase       time.Duration
	LockoutMax        time.Duration
	RateLimitEnabled  bool
	RateLimitWindow   time.Duration
	RateLimitMax      int
	RateLimitStorage  string
	RateLimitRules    []web.RateRule
	SessionCacheTTL   time.Duration

	// AllowInsecureBaseURL lets production start with an http:// BETTER_AUTH_URL (with a warning).
	AllowInsecureBaseURL bool

	// AppName names the application in emails (APP_NAME). The default is the web app this binary
	// serves, so mail names the app the person signed up in rather than the auth library.
	AppName          string
	SMTPURL          string
	MailFrom         string
	MailTemplatesDir string
	MailSendTimeout  time.Duration

	RequireEmailVerification      bool
	SendVerificationOnSignUp      *bool
	SendVerificationOnSignIn      bool
	AutoSignInAfterVerification   bool
	RevokeSessionsOnPasswordReset bool
	VerificationExpiresIn         time.Duration
	ResetPasswordExpiresIn        time.Duration
	DeleteTokenExpiresIn          time.Duration
	ChangeEmailEnabled            bool
	ChangeEmailWithoutVerify      bool
	ChangeEmailConfirmation       bool
	DeleteUserEnabled             bool
	DeleteUserVerification        bool

	// Plugins are the Better-Auth plugins named in BETTER_AUTH_PLUGINS, built with their options.
	Plugins []plugin.Plugin
}

// defaultAppName is the name of the web app in web/dist, which the binary serves at "/".
const defaultAppName = "Pathway"

// minSecretLen is the shortest secret accepted in production, as Better-Auth recommends.
const minSecretLen = 32

// loadConfig reads the configuration through getenv (os.Getenv in main, a map in tests) and
// checks combinations of values.
func loadConfig(getenv func(string) string) (Config, error) {
	env := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	var errs []error
	c := Config{
		Host:        env("HOST", ""),
		Port:        env("PORT", "8000"),
		DataDir:     env("DATA_DIR", "./data"),
		Secret:      getenv("BETTER_AUTH_SECRET"),
		LogFormat:   env("LOG_FORMAT", "text"),
		DatabaseURL: env("DATABASE_URL", ""),
		RedisURL:    env("REDIS_URL", ""),
		ContentDir:  env("CONTENT_DIR", ""),
		ListenURL:   env("DATABASE_LISTEN_URL", ""),
		AppName:     env("APP_NAME", defaultAppName),
		SMTPURL:     env("SMTP_URL", ""),
		MailFrom:    env("MAIL_FROM", ""),

		MailTemplatesDir: env("MAIL_TEMPLATES_DIR", ""),
	}
	if c.Secret == "" {
		c.Secret = getenv("AUTH_SECRET")
	}
	switch strings.ToLower(env("APP_ENV", "development")) {
	case "production", "prod":
		c.Production = true
	case "development", "dev", "test":
	default:
		errs = append(errs, fmt.Errorf("APP_ENV must be development or production, not %q", getenv("APP_ENV")))
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite:" + filepath.Join(c.DataDir, "app.db")
	}
	if c.Production {
		c.LogFormat = env("LOG_FORMAT", "json")
	}
	c.BaseURL = strings.TrimRight(env("BETTER_AUTH_URL", "http://localhost:"+c.Port), "/")
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("BETTER_AUTH_URL must be an http(s) URL, not %q", c.BaseURL))
	} else if u.Path != "" && u.Path != "/" && u.Path != "/api/auth" {
		errs = append(errs, fmt.Errorf("BETTER_AUTH_URL must be the server's origin (the auth API is served at /api/auth), not %q", c.BaseURL))
	} else {
		c.BaseURL = u.Scheme + "://" + u.Host
	}
	for _, o := range strings.Split(getenv("BETTER_AUTH_TRUSTED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.TrustedOrigins = append(c.TrustedOrigins, strings.TrimRight(o, "/"))
		}
	}
	for _, p := range strings.Split(getenv("TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			if a, err := netip.ParseAddr(p); err == nil {
				p = netip.PrefixFrom(a, a.BitLen()).String()
			}
		}
		pre, err := netip.ParsePrefix(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("TRUSTED_PROXIES: %q is not an IP or CIDR", p))
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, pre.Masked())
	}
	switch strings.ToLower(env("LOG_LEVEL", "info")) {
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "info":
		c.LogLevel = slog.LevelInfo
	case "warn", "warning":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		errs = append(errs, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("LOG_FORMAT must be text or json"))
	}
	durations := []struct {
		key string
		def time.Duration
		dst *time.Duration
	}{
		{"SESSION_EXPIRES_IN", 7 * 24 * time.Hour, &c.SessionExpiresIn},
		{"SESSION_UPDATE_AGE", 24 * time.Hour, &c.SessionUpdateAge},
		{"SESSION_FRESH_AGE", 24 * time.Hour, &c.SessionFreshAge},
		{"SESSION_MAX_AGE", 0, &c.SessionMaxAge},
		{"SHUTDOWN_TIMEOUT", 20 * time.Second, &c.ShutdownTimeout},
		{"MAIL_SEND_TIMEOUT", 10 * time.Second, &c.MailSendTimeout},
		{"SESSION_CACHE_TTL", time.Minute, &c.SessionCacheTTL},
		{"CONTENT_RELOAD_INTERVAL", 0, &c.ContentReload},
		{"RATE_LIMIT_WINDOW", 10 * time.Second, &c.RateLimitWindow},
		{"LOCKOUT_BASE", time.Minute, &c.LockoutBase},
		{"SESSION_COOKIE_CACHE_MAX_AGE", 5 * time.Minute, &c.CookieCacheMaxAge},
		{"LOCKOUT_MAX", time.Hour, &c.LockoutMax},
		{"VERIFICATION_TOKEN_EXPIRES_IN", time.Hour, &c.VerificationExpiresIn},
		{"RESET_PASSWORD_TOKEN_EXPIRES_IN", time.Hour, &c.ResetPasswordExpiresIn},
		{"DELETE_USER_TOKEN_EXPIRES_IN", 24 * time.Hour, &c.DeleteTokenExpiresIn},
	}
	for _, d := range durations {
		v, err := parseDuration(env(d.key, ""), d.def)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.key, err))
		}
		*d.dst = v
	}
	if c.SessionExpiresIn > 400*24*time.Hour {
		errs = append(errs, errors.New("SESSION_EXPIRES_IN may not exceed 400 days (the cookie Max-Age limit)"))
	}
	ints := []struct {
		key string
		def int
		dst *int
	}{
		{"MIN_PASSWORD_LENGTH", 8, &c.MinPasswordLength},
		{"MAX_PASSWORD_LENGTH", 128, &c.MaxPasswordLength},
		{"PASSWORD_HASH_CONCURRENCY", 0, &c.HashConcurrency},
		{"DB_MAX_CONNS", 0, &c.DBMaxConns},
		{"RATE_LIMIT_MAX", 100, &c.RateLimitMax},
		{"LOCKOUT_THRESHOLD", 5, &c.LockoutThreshold},
		{"SESSION_CACHE_SIZE", 20_000, &c.SessionCacheSize},
		{"SESSION_CACHE_BYTES", 16 << 20, &c.SessionCacheBytes},
	}
	for _, n := range ints {
		v, err := parseInt(env(n.key, ""), n.def)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n.key, err))
		}
		*n.dst = v
	}
	if c.MinPasswordLength < 1 || c.MaxPasswordLength < c.MinPasswordLength {
		errs = append(errs, errors.New("MIN_PASSWORD_LENGTH must be at least 1 and at most MAX_PASSWORD_LENGTH"))
	}
	bools := []struct {
		key string
		dst *bool
	}{
		{"DISABLE_SIGN_UP", &c.DisableSignUp},
		{"DISABLE_AUTO_SIGN_IN", &c.DisableAutoSignIn},
		{"DB_SIMPLE_PROTOCOL", &c.DBSimpleProtocol},
		{"REQUIRE_EMAIL_VERIFICATION", &c.RequireEmailVerification},
		{"SEND_VERIFICATION_ON_SIGN_IN", &c.SendVerificationOnSignIn},
		{"AUTO_SIGN_IN_AFTER_VERIFICATION", &c.AutoSignInAfterVerification},
		{"REVOKE_SESSIONS_ON_PASSWORD_RESET", &c.RevokeSessionsOnPasswordReset},
		{"CHANGE_EMAIL_ENABLED", &c.ChangeEmailEnabled},
		{"CHANGE_EMAIL_WITHOUT_VERIFICATION", &c.ChangeEmailWithoutVerify},
		{"DELETE_USER_ENABLED", &c.DeleteUserEnabled},
		{"DELETE_USER_VERIFICATION", &c.DeleteUserVerification},
		{"REJECT_COMMON_PASSWORDS", &c.RejectCommon},
		{"LOCKOUT_ENABLED", &c.LockoutEnabled},
		{"SESSION_COOKIE_CACHE", &c.CookieCache},
	}
	for _, b := range bools {
		v, err := parseBool(env(b.key, ""))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", b.key, err))
		}
		*b.dst = v
	}
	c.RateLimitEnabled = c.Production
	if v := env("RATE_LIMIT_ENABLED", ""); v != "" {
		b, err := parseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("RATE_LIMIT_ENABLED: %w", err))
		}
		c.RateLimitEnabled = b
	}
	c.RateLimitStorage = env("RATE_LIMIT_STORAGE", "")
	if c.RateLimitStorage == "" {
		c.RateLimitStorage = "memory"
		if c.RedisURL != "" {
			c.RateLimitStorage = "redis"
		}
	}
	switch c.RateLimitStorage {
	case "memory", "database":
	case "redis":
		if c.RedisURL == "" {
			errs = append(errs, errors.New("RATE_LIMIT_STORAGE=redis needs REDIS_URL"))
		}
	default:
		errs = append(errs, fmt.Errorf("RATE_LIMIT_STORAGE must be memory, database or redis, not %q", c.RateLimitStorage))
	}
	rules, err := parseRateRules(getenv("RATE_LIMIT_RULES"))
	if err != nil {
		errs = append(errs, fmt.Errorf("RATE_LIMIT_RULES: %w", err))
	}
	c.RateLimitRules = rules
	c.SessionCache = true
	if v := env("SESSION_CACHE", ""); v != "" {
		b, err := parseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("SESSION_CACHE: %w", err))
		}
		c.SessionCache = b
	}
	c.ChangeEmailConfirmation = true
	if v := env("CHANGE_EMAIL_CONFIRMATION", ""); v != "" {
		b, err := parseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("CHANGE_EMAIL_CONFIRMATION: %w", err))
		}
		c.ChangeEmailConfirmation = b
	}
	if v := env("SEND_VERIFICATION_ON_SIGN_UP", ""); v != "" {
		b, err := parseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("SEND_VERIFICATION_ON_SIGN_UP: %w", err))
		}
		c.SendVerificationOnSignUp = &b
	}
	if v := env("SECURE_COOKIES", ""); v != "" {
		b, err := parseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("SECURE_COOKIES: %w", err))
		}
		c.SecureCookies = &b
	}
	c.AllowInsecureBaseURL, err = parseBool(env("ALLOW_INSECURE_BASE_URL", ""))
	if err != nil {
		errs = append(errs, fmt.Errorf("ALLOW_INSECURE_BASE_URL: %w", err))
	}
	if c.Production && strings.HasPrefix(c.BaseURL, "http://") && !c.AllowInsecureBaseURL {
		// An http:// base URL means cookies without Secure or the __Secure- prefix and links in
		// mail that travel in the clear; behind a TLS proxy the public URL is still https://.
		errs = append(errs, fmt.Errorf("BETTER_AUTH_URL is %q: production needs the public https:// URL (cookies are Secure only then); set ALLOW_INSECURE_BASE_URL=true to run on plain http anyway", c.BaseURL))
	}
	if c.Plugins, err = loadPlugins(getenv); err != nil {
		errs = append(errs, err)
	}
	if c.Production {
		switch {
		case c.Secret == "":
			errs = append(errs, errors.New("BETTER_AUTH_SECRET is required when APP_ENV=production"))
		case len(c.Secret) < minSecretLen:
			errs = append(errs, fmt.Errorf("BETTER_AUTH_SECRET must be at least %d characters when APP_ENV=production", minSecretLen))
		}
	}
	return c, errors.Join(errs...)
}

// parseRateRules reads "PATH=MAX/WINDOW_SECONDS" or "PATH=off" entries, comma-separated, where
// PATH is relative to /api/auth and may use * wildcards, e.g. "/sign-in/*=5/60,/get-session=off".
func parseRateRules(v string) ([]web.RateRule, error) {
	var out []web.RateRule
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		path, spec, ok := strings.Cut(item, "=")
		if !ok || !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("%q is not PATH=MAX/SECONDS or PATH=off", item)
		}
		if strings.EqualFold(spec, "off") {
			out = append(out, web.RateRule{Path: path, Off: true})
			continue
		}
		maxS, winS, ok := strings.Cut(spec, "/")
		max, err1 := strconv.Atoi(maxS)
		win, err2 := strconv.Atoi(winS)
		if !ok || err1 != nil || err2 != nil || max < 1 || win < 1 {
			return nil, fmt.Errorf("%q is not PATH=MAX/SECONDS or PATH=off", item)
		}
		out = append(out, web.RateRule{Path: path, Max: max, Window: time.Duration(win) * time.Second})
	}
	return out, nil
}

// secureCookies follows Better-Auth: an explicit setting wins, otherwise cookies are Secure (and
// __Secure- prefixed) exactly when the base URL is https.
func (c Config) secureCookies() bool {
	if c.SecureCookies != nil {
		return *c.SecureCookies
	}
	return strings.HasPrefix(c.BaseURL, "https://")
}

// parseDuration accepts Go durations ("36h") or a plain number of seconds, as Better-Auth's options
// are given in seconds.
func parseDuration(v string, def time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return def, errors.New("must not be negative")
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return def, fmt.Errorf("%q is not a duration (use seconds or a form like 36h)", v)
	}
	return d, nil
}

func parseInt(v string, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return def, fmt.Errorf("%q is not a non-negative whole number", v)
	}
	return n, nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "0", "false", "no", "off":
		return false, nil
	case "1", "true", "yes", "on":
		return true, nil
	}
	return false, fmt.Errorf("%q is not a boolean", v)
}

func secretFile(c Config) string { return filepath.Join(c.DataDir, "secret") }

// resolveSecret returns the configured secret or, in development only, one generated once and kept
// in the data folder so sessions survive restarts. generated reports the latter.
func resolveSecret(c Config) (secret string, generated bool, err error) {
	if c.Secret != "" {
		return c.Secret, false, nil
	}
	if c.Production {
		return "", false, errors.New("BETTER_AUTH_SECRET is required when APP_ENV=production")
	}
	path := secretFile(c)
	if b, err := os.ReadFile(path); err == nil {
		if s := strings.TrimSpace(string(b)); len(s) >= minSecretLen {
			return s, true, nil
		}
		return "", false, fmt.Errorf("%s holds a secret shorter than %d characters; delete it or set BETTER_AUTH_SECRET", path, minSecretLen)
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("read %s: %w", path, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", false, err
	}
	s := base64.RawURLEncoding.EncodeToString(raw)
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return "", false, fmt.Errorf("create data folder: %w", err)
	}
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("write %s: %w", path, err)
	}
	return s, true, nil
}
