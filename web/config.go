package web

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"authserver/env"
)

// LoadConfig reads the HTTP layer's options: BETTER_AUTH_TRUSTED_ORIGINS (comma-separated),
// TRUSTED_PROXIES (IPs or CIDRs, comma-separated) and rate limiting (see loadRateLimitConfig).
// BaseURL and Production are the server's identity, read by the caller: production turns rate
// limiting on by default, and redis (REDIS_URL is set) makes Redis the default counter store.
func LoadConfig(getenv func(string) string, production, redis bool) (Config, error) {
	r := env.New(getenv)
	c := Config{Production: production}
	for _, o := range r.List("BETTER_AUTH_TRUSTED_ORIGINS") {
		c.TrustedOrigins = append(c.TrustedOrigins, strings.TrimRight(o, "/"))
	}
	for _, p := range r.List("TRUSTED_PROXIES") {
		if !strings.Contains(p, "/") {
			if a, err := netip.ParseAddr(p); err == nil {
				p = netip.PrefixFrom(a, a.BitLen()).String()
			}
		}
		pre, err := netip.ParsePrefix(p)
		if err != nil {
			r.Fail(fmt.Errorf("TRUSTED_PROXIES: %q is not an IP or CIDR", p))
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, pre.Masked())
	}
	c.RateLimit = loadRateLimitConfig(r, production, redis)
	return c, r.Err()
}

// loadRateLimitConfig reads RATE_LIMIT_ENABLED (default: production), RATE_LIMIT_WINDOW (10 s),
// RATE_LIMIT_MAX (100), RATE_LIMIT_RULES and RATE_LIMIT_STORAGE (memory, database or redis;
// default redis when REDIS_URL is set, else memory).
func loadRateLimitConfig(r *env.Reader, production, redis bool) RateLimitConfig {
	c := RateLimitConfig{
		Enabled: r.Bool("RATE_LIMIT_ENABLED", production),
		Window:  r.Duration("RATE_LIMIT_WINDOW", 10*time.Second),
		Max:     r.Int("RATE_LIMIT_MAX", 100),
		Storage: r.String("RATE_LIMIT_STORAGE", ""),
		// Ten messages an hour to one address is more than a person retrying needs.
		SendsPerHour: r.Int("RATE_LIMIT_SENDS_PER_HOUR", 10),
	}
	if c.Storage == "" {
		c.Storage = "memory"
		if redis {
			c.Storage = "redis"
		}
	}
	switch c.Storage {
	case "memory", "database":
	case "redis":
		if !redis {
			r.Fail(errors.New("RATE_LIMIT_STORAGE=redis needs REDIS_URL"))
		}
	default:
		r.Fail(fmt.Errorf("RATE_LIMIT_STORAGE must be memory, database or redis, not %q", c.Storage))
	}
	rules, err := parseRateRules(r.Raw("RATE_LIMIT_RULES"))
	if err != nil {
		r.Fail(fmt.Errorf("RATE_LIMIT_RULES: %w", err))
	}
	c.Rules = rules
	return c
}

// parseRateRules reads "PATH=MAX/WINDOW_SECONDS" or "PATH=off" entries, comma-separated, where
// PATH is relative to /api/auth and may use * wildcards, e.g. "/sign-in/*=5/60,/get-session=off".
func parseRateRules(v string) ([]RateRule, error) {
	var out []RateRule
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		path, spec, ok := strings.Cut(item, "=")
		if !ok || !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("%q is not PATH=MAX/SECONDS or PATH=off", item)
		}
		if strings.EqualFold(spec, "off") {
			out = append(out, RateRule{Path: path, Off: true})
			continue
		}
		maxS, winS, ok := strings.Cut(spec, "/")
		max, err1 := strconv.Atoi(maxS)
		win, err2 := strconv.Atoi(winS)
		if !ok || err1 != nil || err2 != nil || max < 1 || win < 1 {
			return nil, fmt.Errorf("%q is not PATH=MAX/SECONDS or PATH=off", item)
		}
		out = append(out, RateRule{Path: path, Max: max, Window: time.Duration(win) * time.Second})
	}
	return out, nil
}
