// Package web is the HTTP layer: the Echo router, Better-Auth's /api/auth endpoints, the
// validate-session middleware shared with /content, CORS, request logs, health checks, and the
// single place where errors become responses.
//
// It is the only package that imports Echo. Handlers decode, call one service method, and write
// the answer; the rules live in auth, session and content.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"authserver/auth"
	"authserver/auth/openapi"
	"authserver/content"
	"authserver/session"
	"authserver/store"
)

// Config holds the HTTP-level settings.
type Config struct {
	// BaseURL is the public URL of the server (BETTER_AUTH_URL); its origin is always trusted and
	// links are built from it.
	BaseURL string
	// BasePath is where the auth API is mounted (default "/api/auth").
	BasePath string
	// TrustedOrigins are the extra origins (BETTER_AUTH_TRUSTED_ORIGINS) allowed to call with
	// cookies, to be redirected to, and to make CORS requests.
	TrustedOrigins []string
	// TrustedProxies are the networks whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Production turns on production behaviour (the /error page redirects).
	Production bool
	// DisableCSRFCheck turns off the origin checks (Better-Auth's advanced.disableCSRFCheck). Only
	// for tests and trusted server-to-server setups.
	DisableCSRFCheck bool
	// BodyLimit caps request bodies, in Echo's notation (default "1M", one million bytes).
	BodyLimit string
	// RequestTimeout bounds a request's context (default 15 s).
	RequestTimeout time.Duration
	// RateLimit is Better-Auth's rate limiting of /api/auth.
	RateLimit RateLimitConfig
	// OpenAPI, when set (the open-api plugin is on), serves the OpenAPI document of /api/auth at
	// <BasePath>/open-api/generate-schema, its reference page, and the content API's document at
	// /content/openapi.json.
	OpenAPI *openapi.Config

	// MetricsToken, when set, serves /metrics on this handler to requests bearing
	// "Authorization: Bearer <MetricsToken>" (METRICS_TOKEN). Empty leaves /metrics off this
	// handler; main may serve it on a separate listener instead (METRICS_ADDR).
	MetricsToken string
}

// Deps are the services the HTTP layer calls.
type Deps struct {
	Store    *store.Store
	Sessions *session.Manager
	Auth     *auth.Service
	// Content serves /content/*; nil leaves the content API out.
	Content *content.Service
	Logger  *slog.Logger
}

// New builds the whole HTTP handler.
func New(cfg Config, d Deps) *echo.Echo {
	if cfg.BasePath == "" {
		cfg.BasePath = "/api/auth"
	}
	if cfg.BodyLimit == "" {
		cfg.BodyLimit = "1M"
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 15 * time.Second
	}
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	baseOrigin := baseOriginOf(cfg.BaseURL)
	origins := NewOrigins(append([]string{baseOrigin}, cfg.TrustedOrigins...)...)
	refused := newRefusedOrigins(log, cfg.TrustedOrigins)

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler(log)
	e.Pre(observe(cfg.BasePath))
	var limiter *rateLimiter // nil when rate limiting is off
	if cfg.RateLimit.Enabled {
		rl := cfg.RateLimit
		if rl.Window <= 0 {
			rl.Window = 10 * time.Second
		}
		if rl.Max <= 0 {
			rl.Max = 100
		}
		if rl.Store == nil {
			rl.Store = NewMemoryRateLimitStore()
		}
		if rl.Now == nil {
			rl.Now = time.Now
		}
		limiter = &rateLimiter{cfg: rl, basePath: strings.TrimRight(cfg.BasePath, "/"), trusted: cfg.TrustedProxies, log: log}
		if d.Auth != nil {
			for _, p := range d.Auth.Plugins() {
				limiter.plugins = append(limiter.plugins, p.RateLimits...)
			}
		}
		e.Pre(limiter.middleware)
	}
	e.Use(recoverer(log))
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: func() string { return session.RandomString(16) }}))
	e.Use(requestLogger(log))
	e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOriginFunc: func(o string) (bool, error) {
			oo, okOrigin := originOf(o)
			if okOrigin && oo == o && origins.Trusted(o, false) {
				return true, nil
			}
			refused.note(context.Background(), o)
			return false, nil
		},
		AllowMethods:     []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions},
		AllowHeaders:     []string{"Content-Type", "Authorization", "X-Requested-With"},
		ExposeHeaders:    []string{session.AuthTokenHeader},
		AllowCredentials: true,
		MaxAge:           600,
	}))
	e.Use(middleware.BodyLimit(cfg.BodyLimit))
	e.Use(middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{Timeout: cfg.RequestTimeout}))

	e.GET("/healthz", func(c echo.Context) error { return ok(c, map[string]string{"status": "ok"}) })
	e.GET("/readyz", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if err := d.Store.Ping(ctx); err != nil {
			return writeJSON(c, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		}
		return ok(c, map[string]string{"status": "ready"})
	})

	if d.Auth != nil {
		installRequestSessions(d.Auth, d.Sessions)
	}
	h := &authHandler{cfg: cfg, auth: d.Auth, sessions: d.Sessions, cols: d.Sessions.Columns(), content: d.Content, origins: origins, baseOrigin: baseOrigin, limiter: limiter, log: log, refused: refused}
	h.registerAuthRoutes(e.Group(strings.TrimRight(cfg.BasePath, "/")))
	if d.Content != nil {
		registerContentRoutes(e, d.Content, d.Sessions)
		if cfg.OpenAPI != nil {
			e.GET(contentDocumentPath, func(c echo.Context) error {
				c.Response().Header().Set("Cache-Control", "no-store")
				return ok(c, contentDocument(cfg.BaseURL))
			})
		}
	}
	e.Add(settingsRoute.method, settingsRoute.path, publicSettings(d.Auth))
	if cfg.MetricsToken != "" {
		e.GET("/metrics", metricsWithToken(cfg.MetricsToken))
	}
	registerStatic(e) // the web app; Echo prefers every more specific route, so it gets only what the APIs leave
	return e
}

// authKey is where RequireSession leaves the validated session on the Echo context.
const authKey = "auth.session"

// RequireSession is the validate-session middleware for routes outside /api/auth (such as
// /content): it accepts the signed session cookie or "Authorization: Bearer <token>" (raw or
// signed), slides the session like Better-Auth does, and answers 401 {"message":"Unauthorized",
// "code":"UNAUTHORIZED"} when there is no live session. It never trusts the session_data cookie
// cache, so a revoked session is refused at once. Handlers read the result with AuthFrom.
func RequireSession(m *session.Manager) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			a, err := callerSession(c.Request().Context(), m, c, needSession)
			if err != nil {
				return err
			}
			c.Set(authKey, a)
			return next(c)
		}
	}
}

// AuthFrom returns the session RequireSession validated for this request, or nil outside it.
func AuthFrom(c echo.Context) *session.Auth {
	a, _ := c.Get(authKey).(*session.Auth)
	return a
}

// recoverer turns a panic into a logged 500 with the generic body, keeping the process up.
func recoverer(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableStackAll:   true,
		DisablePrintStack: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			log.LogAttrs(c.Request().Context(), slog.LevelError, "panic", slog.String("error", err.Error()), slog.String("stack", string(stack)))
			return errInternal
		},
	})
}

// requestLogger writes one structured line per request. It logs the route pattern (for example
// /api/auth/reset-password/:token) rather than the raw path, and never the query string, because
// reset tokens travel in paths and tokens and callback URLs in queries.
func requestLogger(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogMethod:    true,
		LogURIPath:   true,
		LogStatus:    true,
		LogLatency:   true,
		LogRequestID: true,
		LogRemoteIP:  false,
		HandleError:  true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			path := c.Path()
			if path == "" || path == "/*" {
				path = v.URIPath
			}
			log.LogAttrs(c.Request().Context(), level, "request",
				slog.String("method", v.Method),
				slog.String("path", path),
				slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency),
				slog.String("request_id", v.RequestID),
			)
			return nil
		},
	})
}
