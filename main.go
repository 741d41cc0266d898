// Command authserver is a Better-Auth-compatible authentication server with a personalized
// content API, in one binary. With no configuration it listens on :8000 and keeps its data in an
// embedded SQLite database under ./data.
package main

import (
	"authserver/obs"

	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"authserver/auth"
	"authserver/auth/plugin"
	"authserver/content"
	"authserver/mail"
	"authserver/session"
	"authserver/store"
	"authserver/web"
	"authserver/webhook"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if code, serve := command(os.Args[1:], os.Stdout, os.Stderr, os.Getenv); !serve {
		os.Exit(code)
	}
	if err := run(context.Background(), os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "authserver:", err)
		os.Exit(1)
	}
}

const usage = `authserver: a Better-Auth-compatible authentication server (the /api/auth protocol of
Better-Auth 1.7.25), a personalized content API (/content) and the Pathway web app, in one binary.

Usage:
  authserver               start the server
  authserver healthcheck   ask the running server's /healthz on $PORT; exit 0 when it answers 200
  authserver admin ...     make or promote an administrator (admin plugin; "authserver admin" for help)
  authserver migrate ...   apply, status, print (the SQL for a plugin list and dialect)
  authserver user ...      create, set-password, set-role, ban, unban, list
  authserver sessions ...  revoke --user (end every session of a user)
  authserver secret ...    generate (a value for BETTER_AUTH_SECRET)
  authserver audit ...     tail (the latest audit-log rows, of everyone or one user)
  authserver webhooks ...  status (the deliveries waiting in the queue), retry (make them due now)
  authserver version       print the version
  authserver help          print this help (also -h, --help)

The server is configured by environment variables only (PORT, DATA_DIR, DATABASE_URL,
BETTER_AUTH_SECRET, BETTER_AUTH_URL, APP_ENV, SMTP_URL, ...). With none set it serves
http://localhost:8000 with SQLite in ./data. README.md lists every variable under
"Configuration" and what to set before going live under "Production checklist".
"authserver GROUP --help" describes a group's commands; each takes --json for JSON output.
Exit status: 0 done, 1 refused or failed, 2 wrong arguments, 3 not available in this build.
`

// command handles the command-line arguments. serve is true when there are none, and the caller
// starts the server; otherwise the command has run and code is the process's exit status (2 for
// an argument it does not know, after printing the usage).
func command(args []string, stdout, stderr io.Writer, getenv func(string) string) (code int, serve bool) {
	if len(args) == 0 {
		return 0, true
	}
	if args[0] == "admin" {
		return adminCommand(context.Background(), args[1:], os.Stdin, stdout, stderr, getenv), false
	}
	if _, ok := operatorCommands[args[0]]; ok {
		return operatorCommand(context.Background(), args[0], args[1:], os.Stdin, stdout, stderr, getenv), false
	}
	if len(args) == 1 {
		switch args[0] {
		case "healthcheck":
			// The container image has no shell or curl; the binary checks itself.
			return healthcheck(getenv), false
		case "version", "-version", "--version":
			fmt.Fprintln(stdout, "authserver", version)
			return 0, false
		case "help", "-h", "-help", "--help":
			fmt.Fprint(stdout, usage)
			return 0, false
		}
	}
	fmt.Fprintf(stderr, "authserver: unknown argument %q\n\n%s", strings.Join(args, " "), usage)
	return 2, false
}

// run starts the server and blocks until SIGINT/SIGTERM (or ctx ends), then drains in-flight
// requests before returning.
func run(ctx context.Context, getenv func(string) string, stderr *os.File) error {
	if stderr == nil {
		stderr = os.Stderr
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	started := time.Now()
	setMemoryLimit(cfg)
	if cfg.Production && !cfg.Session.Secure {
		log.Warn("production without Secure cookies: session cookies can travel over plain http; set BETTER_AUTH_URL to the public https:// URL",
			slog.String("base_url", cfg.Web.BaseURL))
	}

	stopTracing, tracing, err := obs.StartTracing(getenv)
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := stopTracing(flushCtx); err != nil {
			log.Warn("tracing: spans not flushed", slog.String("error", err.Error()))
		}
	}()
	if tracing {
		log.Info("tracing: exporting spans over OTLP/HTTP")
	}

	secret, generated, err := resolveSecret(cfg)
	if err != nil {
		return err
	}
	if generated {
		log.Warn("no BETTER_AUTH_SECRET set: using a generated development secret kept in the data folder; set BETTER_AUTH_SECRET (32+ characters) before production",
			slog.String("file", secretFile(cfg)))
	}

	cfg.Store.Logger = log
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	warnOpenFolders(log, cfg)

	cfg.Mail.Logger = log
	sender, err := mail.New(cfg.Mail)
	if err != nil {
		return err
	}
	templates, err := mail.LoadTemplates(cfg.Mail.TemplatesDir, cfg.Mail.AppName)
	if err != nil {
		return err
	}
	if cfg.Mail.SMTPURL == "" {
		level := slog.LevelInfo
		if cfg.Production {
			level = slog.LevelWarn
		}
		log.Log(ctx, level, "no SMTP_URL: mail is not delivered, messages are written to the outbox folder",
			slog.String("outbox", cfg.Mail.OutboxDir))
	}

	cfg.Session.Secret = []byte(secret)
	// With BETTER_AUTH_SECRETS the newest version signs and seals; older ones (and
	// BETTER_AUTH_SECRET) are still accepted, so a rotation signs nobody out.
	keys, err := session.ParseSecrets(cfg.Secrets, []byte(cfg.Secret))
	if err != nil {
		return err
	}
	if keys.Versioned() {
		cfg.Session.Keys = keys
	}
	sessions := session.New(cfg.Session, st)
	// Other instances (and Better-Auth servers) sharing a PostgreSQL database announce session and
	// user changes through triggers; until this instance hears them its cache stands aside.
	sessions.SetCacheHealthy(st.Dialect() != store.Postgres)
	go st.Listen(ctx, store.SessionChannel, sessions.HandleInvalidation, sessions.SetCacheHealthy)
	var cacheBytes func() int64
	if !cfg.Session.DisableCache {
		cacheBytes = sessions.CacheBytes
	}
	gc := newGCTuner(os.Getenv, cacheBytes)
	go gc.run(ctx, time.Second)
	if gc != nil {
		cfg.Auth.Hasher.OnOverloaded = gc.SetOverloaded
	}
	var rdb *store.Redis
	if cfg.RedisURL != "" {
		if rdb, err = store.OpenRedis(ctx, cfg.RedisURL); err != nil {
			return err
		}
		defer rdb.Close()
		if err := rdb.Ping(ctx); err != nil {
			log.Warn("redis is not reachable; serving from the database until it is", slog.String("error", err.Error()))
		}
		if st.Dialect() == store.Postgres {
			sessions.SetSharedStore(rdb)
		} else {
			log.Warn("REDIS_URL is ignored for sessions on SQLite: a SQLite database serves one instance")
		}
	}
	cfg.Auth.Email.Secret, cfg.Auth.Email.Sender, cfg.Auth.Email.Templates = []byte(secret), sender, templates
	cfg.Auth.Email.Logger = log
	if cfg.Auth.Lockout.Enabled {
		// Lockout counters live where every replica counts them: Redis when configured, else the
		// database's rateLimit table.
		if rdb != nil {
			cfg.Auth.Lockout.Store = rdb
		} else {
			if err := st.EnsureRateLimitTable(ctx); err != nil {
				return err
			}
			cfg.Auth.Lockout.Store = web.DatabaseLockoutStore{St: st}
		}
	}
	authSvc := auth.New(cfg.Auth, st, sessions)
	sweeper := &store.Sweeper{St: st, Interval: cfg.SweepInterval, Log: log, Options: store.SweepOptions{
		SessionMargin: time.Minute, RateLimitAge: rateLimitRetention(cfg), Batch: cfg.SweepBatch,
		AuditRetention: cfg.AuditRetention}}
	go sweeper.Run(ctx)
	if len(cfg.Auth.WebhookURLs) > 0 {
		d := &webhook.Deliverer{St: st, Key: cfg.WebhookKey, Log: log}
		go d.Run(ctx, time.Second)
	}

	cfg.Social.Logger = log
	social, err := authSvc.EnableSocial(cfg.Social)
	if err != nil {
		return err
	}
	go social.Warm(ctx) // fetch OIDC discovery documents now rather than on the first sign-in

	contentSvc := content.New(cfg.Content, st)
	loaded, err := contentSvc.Sync(ctx)
	if err != nil {
		return fmt.Errorf("content: %w", err)
	}
	log.Info("content loaded", slog.String("source", loaded.Source), slog.Int("items", loaded.Items),
		slog.Int("added", loaded.Added), slog.Int("updated", loaded.Updated), slog.Int("removed", loaded.Removed))
	go reloadContent(ctx, contentSvc, cfg.ContentReload, log)

	switch cfg.Web.RateLimit.Storage {
	case "database":
		if err := st.EnsureRateLimitTable(ctx); err != nil {
			return err
		}
		cfg.Web.RateLimit.Store = web.DatabaseRateLimitStore{St: st}
	case "redis":
		cfg.Web.RateLimit.Store = web.RedisRateLimitStore{R: rdb}
	}
	if !cfg.Production {
		// A separate frontend (a Vite dev server on another port) fails with a bare "Failed to
		// fetch" when its origin is not here; say up front which ones are.
		log.Info("trusted origins; add others to BETTER_AUTH_TRUSTED_ORIGINS (comma-separated)",
			slog.String("origins", strings.Join(append([]string{cfg.Web.BaseURL}, cfg.Web.TrustedOrigins...), ",")))
	}
	e := web.New(cfg.Web, web.Deps{Store: st, Sessions: sessions, Auth: authSvc, Content: contentSvc, Logger: log})

	srv := &http.Server{
		Addr:              net.JoinHostPort(cfg.Host, cfg.Port),
		Handler:           e,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return err
	}
	log.Info("server ready",
		slog.String("addr", ln.Addr().String()), slog.String("version", version),
		slog.String("database", string(st.Dialect())), slog.String("base_url", cfg.Web.BaseURL),
		slog.Bool("production", cfg.Production), slog.String("plugins", pluginIDs(cfg.Auth.Plugins)),
		slog.Duration("startup", time.Since(started)))

	// Start-up (migrations, rendering the catalog, compiling templates and sanitizer rules) leaves
	// garbage behind; hand it back to the OS now rather than whenever the scavenger gets to it.
	debug.FreeOSMemory()

	serveErr := make(chan error, 1)
	if cfg.MetricsAddr != "" {
		msrv, err := serveMetrics(cfg.MetricsAddr, log, serveErr)
		if err != nil {
			return err
		}
		defer msrv.Close()
	}
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := authSvc.WaitForMail(shutdownCtx); err != nil {
		log.Warn("shutdown: some mail was still being sent", slog.String("error", err.Error()))
	}
	log.Info("stopped")
	return nil
}

// serveMetrics serves /metrics (and only that) on addr, the METRICS_ADDR listener, reporting a
// failure to serve on errs.
func serveMetrics(addr string, log *slog.Logger, errs chan<- error) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", web.MetricsHandler())
	msrv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR: %w", err)
	}
	log.Info("metrics listening", slog.String("addr", ln.Addr().String()))
	go func() {
		if err := msrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			select {
			case errs <- fmt.Errorf("metrics: %w", err):
			default:
			}
		}
	}()
	return msrv, nil
}

// setMemoryLimit gives the garbage collector a soft memory limit unless GOMEMLIMIT sets one, so a
// burst of traffic cannot let the heap double past what the server needs before collecting. The
// limit is 64 MiB for everything but hashing plus each hashing worker's share of the heap (two
// hashes per worker where they are computed in pairs; on Linux their tables are mapped outside
// the heap and count only as small buffers). It is soft: the server never fails for it, it only
// collects sooner.
func setMemoryLimit(cfg Config) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	n := cfg.Auth.Hasher.Concurrency
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	debug.SetMemoryLimit(int64(64<<20) + int64(2*n)*auth.HeapPerHash)
}

// reloadContent re-reads the catalog on SIGHUP and, when interval is set, periodically. A reload
// that fails (a file that does not parse) changes nothing: the catalog in use keeps serving.
func reloadContent(ctx context.Context, svc *content.Service, interval time.Duration, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		case <-tick:
		}
		res, err := svc.Sync(ctx)
		if err != nil {
			log.Warn("content reload failed; the previous catalog stays", slog.String("error", err.Error()))
			continue
		}
		if res.Added+res.Updated+res.Removed > 0 {
			log.Info("content reloaded", slog.Int("items", res.Items), slog.Int("added", res.Added),
				slog.Int("updated", res.Updated), slog.Int("removed", res.Removed))
		}
	}
}

// warnOpenFolders warns about a data folder (DATA_DIR, and the SQLite database's folder) that
// other local users may enter or list. The server creates its own files there 0600, but a folder
// the operator made 0755 (as Docker volumes and mkdir usually are) still exposes their names and
// anything else put there, such as backups.
func warnOpenFolders(log *slog.Logger, cfg Config) {
	dirs := []string{filepath.Clean(cfg.DataDir)}
	if p, ok := store.SQLiteFile(cfg.Store.URL); ok {
		if d := filepath.Clean(filepath.Dir(p)); d != dirs[0] {
			dirs = append(dirs, d)
		}
	}
	for _, d := range dirs {
		info, err := os.Stat(d)
		if err != nil || info.Mode().Perm()&0o007 == 0 {
			continue
		}
		log.Warn("data folder is open to other local users; restrict it with chmod 700",
			slog.String("folder", d), slog.String("mode", fmt.Sprintf("%04o", info.Mode().Perm())))
	}
}

func newLogger(cfg Config, w *os.File) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// healthcheck asks the running server's /healthz on the configured port and returns the process
// exit code: 0 when it answers 200.
func healthcheck(getenv func(string) string) int {
	port := getenv("PORT")
	if port == "" {
		port = "8000"
	}
	client := &http.Client{Timeout: 2 * time.Second}
	res, err := client.Get("http://127.0.0.1:" + port + "/healthz")
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		return 1
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "healthcheck: status", res.StatusCode)
		return 1
	}
	return 0
}

// openStore opens the database, runs the core migrations and installs the enabled plugins (their
// migrations and fields): the store every command of the binary works on. The caller closes it.
func openStore(ctx context.Context, cfg Config) (*store.Store, error) {
	st, err := store.Open(ctx, cfg.Store)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if err := plugin.Install(ctx, st, cfg.Auth.Plugins); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// rateLimitRetention is how long the sweeper keeps a rateLimit row after its last request: a day,
// or longer when a rate-limit window or the lockout's longest lock is, so a sweep never resets a
// counter that still counts.
func rateLimitRetention(cfg Config) time.Duration {
	d := max(24*time.Hour, cfg.Auth.Lockout.Max, cfg.Web.RateLimit.Window)
	for _, r := range cfg.Web.RateLimit.Rules {
		d = max(d, r.Window)
	}
	return d
}
