package session

import (
	"errors"
	"time"

	"authserver/env"
)

// LoadConfig reads the session options: SESSION_EXPIRES_IN (default 7 days, at most 400),
// SESSION_UPDATE_AGE and SESSION_FRESH_AGE (1 day), SESSION_MAX_AGE (off), the in-process cache
// (SESSION_CACHE, on; SESSION_CACHE_TTL, 60 s; SESSION_CACHE_SIZE, 20,000; SESSION_CACHE_BYTES,
// 16 MiB) and the cookie cache (SESSION_COOKIE_CACHE, off; SESSION_COOKIE_CACHE_MAX_AGE, 5 min).
// Secret and Secure are the caller's: they come from the server's secret and public URL.
func LoadConfig(getenv func(string) string) (Config, error) {
	r := env.New(getenv)
	c := Config{
		ExpiresIn: r.Duration("SESSION_EXPIRES_IN", 7*24*time.Hour),
		UpdateAge: r.Duration("SESSION_UPDATE_AGE", 24*time.Hour),
		FreshAge:  r.Duration("SESSION_FRESH_AGE", 24*time.Hour),
		MaxAge:    r.Duration("SESSION_MAX_AGE", 0),

		DisableCache: !r.Bool("SESSION_CACHE", true),
		CacheTTL:     r.Duration("SESSION_CACHE_TTL", time.Minute),
		CacheSize:    r.Int("SESSION_CACHE_SIZE", 20_000),
		CacheBytes:   int64(r.Int("SESSION_CACHE_BYTES", defaultCacheBytes)),

		CookieCache:       r.Bool("SESSION_COOKIE_CACHE", false),
		CookieCacheMaxAge: r.Duration("SESSION_COOKIE_CACHE_MAX_AGE", 5*time.Minute),
	}
	if c.ExpiresIn > 400*24*time.Hour {
		r.Fail(errors.New("SESSION_EXPIRES_IN may not exceed 400 days (the cookie Max-Age limit)"))
	}
	return c, r.Err()
}
