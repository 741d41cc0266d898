package web

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"authserver/auth"
	"authserver/auth/plugin"
	"authserver/obs"
	"authserver/session"
	"authserver/store"
)

// RateRule limits requests to paths matching Path (exact, or with * wildcards) to Max per Window.
// Off exempts the paths from limiting.
type RateRule struct {
	Path   string
	Window time.Duration
	Max    int
	Off    bool
}

// RateLimitStore counts requests. Consume records one request for key under Better-Auth's rule:
// allowed when the window since the last allowed request has passed (the count restarts) or the
// count is below max; only allowed requests change the state. retryAfter is in whole seconds.
type RateLimitStore interface {
	Consume(ctx context.Context, key string, window time.Duration, max int, now time.Time) (allowed bool, retryAfter int, err error)
}

// RateLimitConfig is Better-Auth's rateLimit option.
type RateLimitConfig struct {
	Enabled bool
	// Window and Max are the default rule (10 s and 100 when zero).
	Window time.Duration
	Max    int
	// Rules override the defaults and Better-Auth's built-in stricter rules for matching paths.
	Rules []RateRule
	// Store holds the counters; nil means in this process's memory.
	Store RateLimitStore
	// Storage names the store RATE_LIMIT_STORAGE chose ("memory", "database" or "redis"), for the
	// caller that builds Store; New reads only Store.
	Storage string
	// Now is the clock windows are measured with; nil means time.Now. Tests set it to move time
	// past a window without waiting.
	Now func() time.Time
	// SendsPerHour caps the messages (e-mails, text messages) the endpoints that send on request
	// send to one address or number, whoever asks (RATE_LIMIT_SENDS_PER_HOUR; 0: no cap). Not in
	// Better-Auth, whose limits are per client address only: without it anyone could keep
	// someone's inbox or phone busy by rotating addresses.
	SendsPerHour int
}

// The mail rule: Better-Auth's limit on the endpoints that send email, which mailGate also applies
// to every other request that mails.
const (
	mailWindow = time.Minute
	mailMax    = 3
)

// tooManyRequests is the 429 body Better-Auth's limiter answers with (no code).
const tooManyRequests = "Too many requests. Please try again later."

// builtinRules are Better-Auth 1.7.25's special rules: credential endpoints get 3 requests per
// 10 s, and endpoints that send email 3 per minute. verify-password and delete-user are added to
// the credential rule (Better-Auth leaves them at the default 100), because each checks the
// password: with the default rule a stolen session could guess it 100 times per 10 s.
var builtinRules = []struct {
	match  func(path string) bool
	window time.Duration
	max    int
}{
	{func(p string) bool {
		return strings.HasPrefix(p, "/sign-in") || strings.HasPrefix(p, "/sign-up") ||
			strings.HasPrefix(p, "/change-password") || strings.HasPrefix(p, "/change-email") ||
			p == "/verify-password" || p == "/delete-user" || strings.HasPrefix(p, "/two-factor/")
	}, 10 * time.Second, 3},
	{func(p string) bool {
		return p == "/request-password-reset" || p == "/send-verification-email" || strings.HasPrefix(p, "/forget-password") ||
			p == "/email-otp/send-verification-otp" || p == "/email-otp/request-password-reset"
	}, mailWindow, mailMax},
}

// rateLimiter is the middleware state.
type rateLimiter struct {
	cfg      RateLimitConfig
	basePath string
	trusted  []netip.Prefix
	log      *slog.Logger
	// plugins are the enabled plugins' rules (plugin.Plugin.RateLimits), in their order.
	plugins []plugin.RateLimit
}

// normalizeRatePath strips the base path and normalises the rest so that case, doubled slashes
// and a trailing slash cannot make a request count against a different key.
func normalizeRatePath(p, basePath string) string {
	p = strings.ToLower(p)
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	p = strings.TrimRight(p, "/")
	bp := strings.ToLower(strings.TrimRight(basePath, "/"))
	switch {
	case p == bp:
		return "/"
	case strings.HasPrefix(p, bp+"/"):
		p = p[len(bp):]
	}
	if p == "" {
		return "/"
	}
	return p
}

// rateKeyIP groups IPv6 clients by their /64, since one subscriber usually holds a whole /64
// and could otherwise rotate addresses to escape the limit.
func rateKeyIP(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

func (rl *rateLimiter) rule(path string) (time.Duration, int, bool) {
	window, max := rl.cfg.Window, rl.cfg.Max
	for _, b := range builtinRules {
		if b.match(path) {
			window, max = b.window, b.max
			break
		}
	}
	// The enabled plugins' rules come next and the operator's last, in Better-Auth's order.
	for _, p := range rl.plugins {
		if p.Match(path) {
			window, max = p.Window, p.Max
			break
		}
	}
	if r, ok := rl.customRule(path); ok {
		return r.Window, r.Max, !r.Off
	}
	return window, max, true
}

// customRule is the operator's rule for path (RATE_LIMIT_RULES), if one matches.
func (rl *rateLimiter) customRule(path string) (RateRule, bool) {
	for _, r := range rl.cfg.Rules {
		if r.Path == path || (strings.Contains(r.Path, "*") && wildcardMatch(r.Path, path)) {
			return r, true
		}
	}
	return RateRule{}, false
}

// mailGate returns the check a handler runs right before r sends mail: one request of r's client
// counted against the mail rule (3 per minute, or the operator's rule for the path), in a counter
// of its own beside the path's. So an endpoint that mails only sometimes (verify-email,
// delete-user) or sits under another rule (change-email) sends no more mail than the email
// endpoints do. Over the limit the check answers the limiter's 429 with X-Retry-After. It is nil
// when rate limiting is off.
func (rl *rateLimiter) mailGate(r *http.Request) auth.MailGate {
	if rl == nil {
		return nil
	}
	path := normalizeRatePath(r.URL.Path, rl.basePath)
	window, limit := mailWindow, mailMax
	if cr, ok := rl.customRule(path); ok {
		if cr.Off {
			return nil
		}
		window, limit = cr.Window, cr.Max
	}
	key := rateKeyIP(ClientIP(r, rl.trusted)) + "|mail|" + path
	return func(ctx context.Context) error { return rl.consume(ctx, key, window, limit) }
}

// middleware runs before routing, as Better-Auth's limiter does, so unknown paths count too.
func (rl *rateLimiter) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !strings.HasPrefix(strings.ToLower(r.URL.Path), strings.ToLower(rl.basePath)+"/") && !strings.HasPrefix(r.URL.Path, "//") {
			return next(c)
		}
		if r.Method == http.MethodOptions {
			return next(c)
		}
		path := normalizeRatePath(r.URL.Path, rl.basePath)
		window, max, on := rl.rule(path)
		if !on {
			return next(c)
		}
		if err := rl.consume(r.Context(), rateKeyIP(ClientIP(r, rl.trusted))+"|"+path, window, max); err != nil {
			return err
		}
		return next(c)
	}
}

// limitPasswordCheck counts a check of userID's password, made through the endpoint at path,
// against a budget of the user's own under that path's rule. The budget is shared by every
// endpoint that checks the password, and is kept on top of the per-address one, so an attacker
// holding a stolen session gets no more guesses by rotating addresses or endpoints.
func (rl *rateLimiter) limitPasswordCheck(ctx context.Context, path, userID string) error {
	window, max, on := rl.rule(path)
	if !on {
		return nil
	}
	return rl.consume(ctx, "user:"+userID+"|password-check", window, max)
}

// sendWindow is the period of RateLimitConfig.SendsPerHour.
const sendWindow = time.Hour

// limitSend counts one message to recipient (an e-mail address or a phone number; case and
// surrounding spaces do not make another one) against the per-recipient cap, and answers the
// limiter's 429 when it is spent. It counts whether or not the endpoint then sends (an unknown
// address counts like a known one), so the 429 tells nothing about who has an account. A nil
// limiter (rate limiting off) and an empty recipient pass.
func (rl *rateLimiter) limitSend(ctx context.Context, recipient string) error {
	recipient = strings.ToLower(strings.TrimSpace(recipient))
	if rl == nil || rl.cfg.SendsPerHour <= 0 || recipient == "" {
		return nil
	}
	return rl.consume(ctx, "send|"+recipient, sendWindow, rl.cfg.SendsPerHour)
}

// consume records one request under key and returns nil when it is allowed, or Better-Auth's
// 429: {"message":"Too many requests. Please try again later."} (no code) with X-Retry-After.
func (rl *rateLimiter) consume(ctx context.Context, key string, window time.Duration, limit int) error {
	allowed, retry, err := rl.cfg.Store.Consume(ctx, key, window, limit, rl.cfg.Now())
	if err != nil {
		// A broken counter store must not take sign-in down with it: let the request through.
		rl.log.LogAttrs(ctx, slog.LevelWarn, "rate limit store failed; request allowed", slog.String("error", err.Error()))
		return nil
	}
	if allowed {
		return nil
	}
	obs.RateLimited(rateRuleOf(key))
	// A 429 never says "retry after 0 seconds".
	return &apiError{Status: http.StatusTooManyRequests, Message: tooManyRequests, retryAfter: max(retry, 1)}
}

// rateRuleOf names the budget a limiter key counts against, for the rule label of
// rate_limit_refusals_total: the key itself holds addresses and user ids, which must not become
// label values.
func rateRuleOf(key string) string {
	switch {
	case strings.HasPrefix(key, "user:"):
		return "password-check"
	case strings.HasPrefix(key, "send|"):
		return "sends"
	case strings.Contains(key, "|mail|"):
		return "mail"
	default:
		return "client"
	}
}

// MemoryRateLimitStore keeps counters in this process. It is bounded: expired entries are pruned,
// and past maxEntries the oldest-inserted are dropped.
type MemoryRateLimitStore struct {
	mu      sync.Mutex // guards entries
	entries map[string]memoryRate
}

type memoryRate struct {
	count   int
	last    time.Time
	expires time.Time
}

const maxRateEntries = 100_000

// NewMemoryRateLimitStore returns an empty in-memory store.
func NewMemoryRateLimitStore() *MemoryRateLimitStore {
	return &MemoryRateLimitStore{entries: map[string]memoryRate{}}
}

// Consume implements RateLimitStore.
func (m *MemoryRateLimitStore) Consume(_ context.Context, key string, window time.Duration, max int, now time.Time) (bool, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.entries) >= maxRateEntries {
		for k, e := range m.entries {
			if !now.Before(e.expires) {
				delete(m.entries, k)
			}
		}
		for k := range m.entries {
			if len(m.entries) < maxRateEntries {
				break
			}
			delete(m.entries, k)
		}
	}
	e, ok := m.entries[key]
	switch {
	case !ok || !now.Before(e.expires) || now.Sub(e.last) >= window:
		m.entries[key] = memoryRate{count: 1, last: now, expires: now.Add(window)}
		return true, 0, nil
	case e.count >= max:
		return false, retryAfter(e.last, window, now), nil
	}
	m.entries[key] = memoryRate{count: e.count + 1, last: now, expires: now.Add(window)}
	return true, 0, nil
}

// retryAfter is Better-Auth's ceil((lastRequest + window - now) / 1 s).
func retryAfter(last time.Time, window time.Duration, now time.Time) int {
	return int(math.Ceil(last.Add(window).Sub(now).Seconds()))
}

// DatabaseRateLimitStore keeps counters in Better-Auth's rateLimit table, so limits hold across
// replicas sharing the database.
type DatabaseRateLimitStore struct{ St *store.Store }

// Consume implements RateLimitStore.
func (d DatabaseRateLimitStore) Consume(ctx context.Context, key string, window time.Duration, max int, now time.Time) (bool, int, error) {
	ok, last, err := d.St.RateLimitConsume(ctx, session.NewID(), key, now.UnixMilli(), window.Milliseconds(), max)
	if err != nil || ok {
		return ok, 0, err
	}
	return false, retryAfter(time.UnixMilli(last), window, now), nil
}

// RedisRateLimitStore keeps counters in Redis (the secondary storage), shared by replicas.
type RedisRateLimitStore struct{ R *store.Redis }

// Consume implements RateLimitStore.
func (s RedisRateLimitStore) Consume(ctx context.Context, key string, window time.Duration, max int, now time.Time) (bool, int, error) {
	ok, last, err := s.R.RateLimit(ctx, key, now.UnixMilli(), window.Milliseconds(), max)
	if err != nil || ok {
		return ok, 0, err
	}
	return false, retryAfter(time.UnixMilli(last), window, now), nil
}

// DatabaseLockoutStore keeps the sign-in lockout's counters (auth.LockoutStore) in the database's
// rateLimit table, beside the rate limiter's, so every replica sharing the database counts them.
type DatabaseLockoutStore struct{ St *store.Store }

// LockoutState implements auth.LockoutStore.
func (d DatabaseLockoutStore) LockoutState(ctx context.Context, key string) (int, int64, error) {
	return d.St.LockoutState(ctx, key)
}

// LockoutFail implements auth.LockoutStore; a new row gets a fresh id.
func (d DatabaseLockoutStore) LockoutFail(ctx context.Context, key string, nowMs, resetMs int64) (int, error) {
	return d.St.LockoutFail(ctx, session.NewID(), key, nowMs, resetMs)
}

// LockoutClear implements auth.LockoutStore.
func (d DatabaseLockoutStore) LockoutClear(ctx context.Context, key string) error {
	return d.St.LockoutClear(ctx, key)
}
