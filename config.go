package main

import (
	"authserver/webhook"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"authserver/auth"
	"authserver/auth/openapi"
	"authserver/content"
	"authserver/env"
	"authserver/mail"
	"authserver/session"
	"authserver/store"
	"authserver/web"
)

// Config is everything the server reads from the environment. Every field has a default that
// works, so the server starts with no configuration at all.
//
// Each feature's options live in the struct of the package that uses them and are read by that
// package's LoadConfig; this file reads only what belongs to the server as a whole (where it
// listens and keeps data, its secret, public URL, environment and logging) and hands those to the
// features that need them. run wires the results together without copying fields.
type Config struct {
	Host, Port string
	DataDir    string
	RedisURL   string
	Secret     string
	// Secrets is BETTER_AUTH_SECRETS ("<version>:<secret>,…", newest first), Better-Auth 1.7's
	// versioned secrets for rotation; empty when unset. Secret, when also set, stays accepted
	// for cookies and values made before versioning.
	Secrets    string
	Production bool
	LogLevel   slog.Level
	LogFormat  string
	// ShutdownTimeout bounds draining in-flight requests on SIGTERM.
	ShutdownTimeout time.Duration
	// ContentReload re-reads CONTENT_DIR this often (0: only at start and on SIGHUP).
	ContentReload time.Duration
	// SweepInterval is how often expired sessions, verification rows and stale rate-limit rows
	// are deleted (0: never); SweepBatch bounds the rows one delete statement removes.
	SweepInterval time.Duration
	// AuditRetention is how long audit-log rows are kept before the sweeper deletes them
	// (AUDIT_RETENTION, default 90 days; 0 keeps them forever).
	AuditRetention time.Duration
	// WebhookKey is WEBHOOK_SECRET's key, which signs the deliveries to WEBHOOK_URLS
	// (c.Auth.WebhookURLs); it is required when there are any.
	WebhookKey []byte
	SweepBatch int
	// AllowInsecureBaseURL lets production start with an http:// BETTER_AUTH_URL (with a warning).
	AllowInsecureBaseURL bool
	// MetricsAddr, when set (METRICS_ADDR, e.g. "127.0.0.1:9090"), serves /metrics on a listener
	// of its own, without authentication, for a network only the scraper reaches. Off by default,
	// as is METRICS_TOKEN (Web.MetricsToken) for /metrics on the public port.
	MetricsAddr string

	// The features' own options. Fields set at run time (the resolved secret, the logger, the
	// mail sender) are filled in by run.
	Store   store.Config   // DATABASE_URL, DATABASE_LISTEN_URL, DB_MAX_CONNS, DB_SIMPLE_PROTOCOL
	Web     web.Config     // BETTER_AUTH_URL, trusted origins and proxies, rate limiting
	Session session.Config // session lifetime, caches, SECURE_COOKIES
	Auth    auth.Config    // password policy, lockout, sign-up, email lifecycle, plugins
	Social  auth.SocialConfig
	Mail    mail.Config
	Content content.Config
}

// defaultAppName is the name of the web app in web/dist, which the binary serves at "/". Mail
// names the app the person signed up in (APP_NAME) rather than the auth library.
const defaultAppName = "Pathway"

// minMetricsTokenLen is the shortest METRICS_TOKEN accepted.
const minMetricsTokenLen = 16

// minSecretLen is the shortest secret accepted in production, as Better-Auth recommends.
const minSecretLen = 32

// loadConfig reads the configuration through getenv (os.Getenv in main, a map in tests) and
// checks combinations of values. Every problem is reported, not just the first.
func loadConfig(getenv func(string) string) (Config, error) {
	r := env.New(getenv)
	var errs []error
	c := Config{
		Host:      r.String("HOST", ""),
		Port:      r.String("PORT", "8000"),
		DataDir:   r.String("DATA_DIR", "./data"),
		Secret:    r.Raw("BETTER_AUTH_SECRET"),
		LogFormat: r.String("LOG_FORMAT", "text"),
		RedisURL:  r.String("REDIS_URL", ""),
		Store: store.Config{
			URL:            r.String("DATABASE_URL", ""),
			ListenURL:      r.String("DATABASE_LISTEN_URL", ""),
			MaxOpenConns:   r.Int("DB_MAX_CONNS", 0),
			SimpleProtocol: r.Bool("DB_SIMPLE_PROTOCOL", false),
		},
		Content: content.Config{Dir: r.String("CONTENT_DIR", "")},

		ShutdownTimeout: r.Duration("SHUTDOWN_TIMEOUT", 20*time.Second),
		ContentReload:   r.Duration("CONTENT_RELOAD_INTERVAL", 0),
		SweepInterval:   r.Duration("SWEEP_INTERVAL", 10*time.Minute),
		AuditRetention:  r.Duration("AUDIT_RETENTION", 90*24*time.Hour),
		SweepBatch:      r.Int("SWEEP_BATCH_SIZE", 500),
	}
	if c.SweepBatch < 1 || c.SweepBatch > 100_000 {
		r.Fail(fmt.Errorf("SWEEP_BATCH_SIZE must be between 1 and 100000"))
	}
	if c.Secret == "" {
		c.Secret = r.Raw("AUTH_SECRET")
	}
	c.Secrets = r.Raw("BETTER_AUTH_SECRETS")
	keys, keysErr := session.ParseSecrets(c.Secrets, []byte(c.Secret))
	if keysErr != nil {
		r.Fail(keysErr)
	}
	switch strings.ToLower(r.String("APP_ENV", "development")) {
	case "production", "prod":
		c.Production = true
	case "development", "dev", "test":
	default:
		r.Fail(fmt.Errorf("APP_ENV must be development or production, not %q", getenv("APP_ENV")))
	}
	if c.Store.URL == "" {
		c.Store.URL = "sqlite:" + filepath.Join(c.DataDir, "app.db")
	}
	if c.Production {
		c.LogFormat = r.String("LOG_FORMAT", "json")
	}
	switch strings.ToLower(r.String("LOG_LEVEL", "info")) {
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "info":
		c.LogLevel = slog.LevelInfo
	case "warn", "warning":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		r.Fail(fmt.Errorf("LOG_LEVEL must be debug, info, warn or error"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		r.Fail(fmt.Errorf("LOG_FORMAT must be text or json"))
	}

	var err error
	c.Web, err = web.LoadConfig(getenv, c.Production, c.RedisURL != "")
	errs = append(errs, err)
	c.Web.BaseURL = strings.TrimRight(r.String("BETTER_AUTH_URL", "http://localhost:"+c.Port), "/")
	if u, err := url.Parse(c.Web.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.Fail(fmt.Errorf("BETTER_AUTH_URL must be an http(s) URL, not %q", c.Web.BaseURL))
	} else if u.Path != "" && u.Path != "/" && u.Path != "/api/auth" {
		r.Fail(fmt.Errorf("BETTER_AUTH_URL must be the server's origin (the auth API is served at /api/auth), not %q", c.Web.BaseURL))
	} else {
		c.Web.BaseURL = u.Scheme + "://" + u.Host
	}
	c.AllowInsecureBaseURL = r.Bool("ALLOW_INSECURE_BASE_URL", false)
	c.MetricsAddr = r.String("METRICS_ADDR", "")
	c.Web.MetricsToken = r.Raw("METRICS_TOKEN")
	if t := c.Web.MetricsToken; t != "" && len(t) < minMetricsTokenLen {
		// Metrics tell an outsider the sign-in rate and failures; a short token is guessable.
		r.Fail(fmt.Errorf("METRICS_TOKEN must be at least %d characters", minMetricsTokenLen))
	}
	if c.Production && strings.HasPrefix(c.Web.BaseURL, "http://") && !c.AllowInsecureBaseURL {
		// An http:// base URL means cookies without Secure or the __Secure- prefix and links in
		// mail that travel in the clear; behind a TLS proxy the public URL is still https://.
		r.Fail(fmt.Errorf("BETTER_AUTH_URL is %q: production needs the public https:// URL (cookies are Secure only then); set ALLOW_INSECURE_BASE_URL=true to run on plain http anyway", c.Web.BaseURL))
	}

	c.Session, err = session.LoadConfig(getenv)
	errs = append(errs, err)
	// Better-Auth's rule: an explicit SECURE_COOKIES wins, otherwise cookies are Secure (and
	// __Secure- prefixed) exactly when the base URL is https.
	c.Session.Secure = strings.HasPrefix(c.Web.BaseURL, "https://")
	if v := r.OptionalBool("SECURE_COOKIES"); v != nil {
		c.Session.Secure = *v
	}

	c.Auth, err = auth.LoadConfig(getenv)
	errs = append(errs, err)
	c.Auth.Email.APIURL = c.Web.BaseURL + "/api/auth"
	if c.Auth.Plugins, err = loadPlugins(getenv, site{AppName: getenv("APP_NAME"), BaseURL: c.Web.BaseURL, TrustedOrigins: c.Web.TrustedOrigins,
		OutboxDir: filepath.Join(c.DataDir, "outbox"), Production: c.Production, SessionExpiresIn: c.Session.ExpiresIn}); err != nil {
		errs = append(errs, err)
	}
	for _, p := range c.Auth.Plugins {
		if p.ID == openapi.ID {
			// The document describes web's route table, so web serves it (openapi's package comment).
			oc, _ := openapi.LoadConfig(getenv) // its errors were reported by loadPlugins
			c.Web.OpenAPI = &oc
		}
	}
	c.Social, err = auth.LoadProvidersFromEnv(getenv)
	errs = append(errs, err)
	c.Mail, err = mail.LoadConfig(getenv, defaultAppName)
	errs = append(errs, err)
	c.Mail.OutboxDir = filepath.Join(c.DataDir, "outbox")
	c.Mail.LogLinks = !c.Production // in production a link in a log is a credential anyone reading logs could use
	c.Auth.Email.SendTimeout = c.Mail.Timeout

	c.Auth.WebhookURLs = r.List("WEBHOOK_URLS")
	for _, u := range c.Auth.WebhookURLs {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			r.Fail(fmt.Errorf("WEBHOOK_URLS: %q is not an http(s) URL", u))
		}
	}
	if len(c.Auth.WebhookURLs) > 0 {
		if c.WebhookKey, err = webhook.ParseSecret(r.Raw("WEBHOOK_SECRET")); err != nil {
			r.Fail(err)
		}
	}

	if c.Production {
		switch {
		case keysErr != nil: // already reported
		case keys.Versioned():
			if len(keys.Current) < minSecretLen {
				r.Fail(fmt.Errorf("the current secret in BETTER_AUTH_SECRETS (version %d) must be at least %d characters when APP_ENV=production", keys.Version, minSecretLen))
			}
		case c.Secret == "":
			r.Fail(errors.New("BETTER_AUTH_SECRET is required when APP_ENV=production"))
		case len(c.Secret) < minSecretLen:
			r.Fail(fmt.Errorf("BETTER_AUTH_SECRET must be at least %d characters when APP_ENV=production", minSecretLen))
		}
	}
	return c, errors.Join(append([]error{r.Err()}, errs...)...)
}

func secretFile(c Config) string { return filepath.Join(c.DataDir, "secret") }

// resolveSecret returns the configured secret or, in development only, one generated once and kept
// in the data folder so sessions survive restarts. generated reports the latter.
func resolveSecret(c Config) (secret string, generated bool, err error) {
	if keys, err := session.ParseSecrets(c.Secrets, []byte(c.Secret)); err == nil && keys.Versioned() {
		return string(keys.Current), false, nil
	}
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
