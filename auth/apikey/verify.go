package apikey

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store"
)

// keyCache keeps verified keys with their owners by stored hash, so a request by a key seen in
// the last TTL reads nothing from the database unless the key counts its uses. It is trusted only
// while invalidations arrive (CacheHealthy), and an epoch guards against caching a row read
// before an invalidation that arrived while it was read.
type keyCache struct {
	ttl     time.Duration
	max     int
	on      bool
	healthy atomic.Bool
	epoch   atomic.Uint64

	mu      sync.Mutex
	entries map[string]cachedKey
}

type cachedKey struct {
	key     store.APIKey
	user    *store.User // nil: the owner does not exist
	expires time.Time
}

func newKeyCache(ttl time.Duration, max int, on bool) *keyCache {
	return &keyCache{ttl: ttl, max: max, on: on, entries: map[string]cachedKey{}}
}

func (c *keyCache) get(hash string, now time.Time) (cachedKey, bool) {
	if !c.on || !c.healthy.Load() {
		return cachedKey{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[hash]
	if ok && now.After(e.expires) {
		delete(c.entries, hash)
		ok = false
	}
	return e, ok
}

func (c *keyCache) put(hash string, e cachedKey, epoch uint64, now time.Time) {
	if !c.on || !c.healthy.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch.Load() != epoch {
		return
	}
	if len(c.entries) >= c.max {
		c.entries = map[string]cachedKey{} // a rare bound: starting over is simpler than choosing
	}
	e.expires = now.Add(c.ttl)
	c.entries[hash] = e
}

func (c *keyCache) clear() {
	c.epoch.Add(1)
	c.mu.Lock()
	c.entries = map[string]cachedKey{}
	c.mu.Unlock()
}

// Invalidate implements session.InvalidationObserver: "k:<hash>" drops a key (the triggers and
// this instance's own writes), "u:<id>" every key of a user (a ban, a deletion, any change of the
// row the cached session shows), "*" everything.
func (c *keyCache) Invalidate(msg string) {
	switch {
	case strings.HasPrefix(msg, keyMessage):
		hash := strings.TrimPrefix(msg, keyMessage)
		c.epoch.Add(1)
		c.mu.Lock()
		delete(c.entries, hash)
		c.mu.Unlock()
	case strings.HasPrefix(msg, "u:"):
		id := strings.TrimPrefix(msg, "u:")
		c.epoch.Add(1)
		c.mu.Lock()
		for h, e := range c.entries {
			if e.key.ReferenceID == id {
				delete(c.entries, h)
			}
		}
		c.mu.Unlock()
	case msg == "*":
		c.clear()
	}
}

// CacheHealthy implements session.InvalidationObserver: the cache starts empty whenever trust
// changes, since messages may have been missed.
func (c *keyCache) CacheHealthy(ok bool) {
	c.clear()
	c.healthy.Store(ok)
}

// requestSession is the RequestSession hook: a request with the key header acts as the key's
// owner, with a session made from the key as Better-Auth's before-hook makes it.
func (p *plug) requestSession(ctx context.Context, h plugin.Host, r *http.Request) (*session.Auth, error) {
	raw := r.Header.Get(p.cfg.Header)
	if raw == "" {
		return nil, nil
	}
	if len(raw) < p.cfg.KeyLength {
		return nil, ErrShortKey
	}
	k, u, err := p.verify(ctx, h, raw)
	if err != nil {
		return nil, err
	}
	now := store.NewTime(h.Now())
	// Better-Auth 1.7.5 gives a key without expiry getDate(session.expiresIn, "ms"): the session
	// life in seconds read as milliseconds (10 minutes and 4.8 s for the default 7 days), kept
	// so both servers print the same.
	exp := store.NewTime(now.Add(h.SessionExpiresIn() / 1000))
	if k.ExpiresAt != nil {
		exp = *k.ExpiresAt
	}
	var ua, ip *string
	if v := r.UserAgent(); v != "" {
		ua = &v
	}
	if v := clientIP(r); v != "" {
		ip = &v
	}
	return &session.Auth{
		Session: store.Session{ID: k.ID, Token: raw, UserID: k.ReferenceID, UserAgent: ua, IPAddress: ip, CreatedAt: now, UpdatedAt: now, ExpiresAt: exp},
		User:    *u,
		Via:     ID,
	}, nil
}

// clientIP is the request's peer address without the port (the server's trusted-proxy rules
// apply to rate limits, not here: the address only labels the key's session).
func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 && !strings.HasSuffix(host, "]") {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

// verify checks a presented key as Better-Auth's validateApiKey does and claims one use of it:
// INVALID_API_KEY for an unknown key, KEY_DISABLED, KEY_EXPIRED (the key is deleted), 429
// USAGE_EXCEEDED when no use is left (deleted when it never refills), 429 RATE_LIMITED in a full
// window, INVALID_REFERENCE_ID_FROM_API_KEY when the owner is gone. It returns the key as it was
// read and its owner.
func (p *plug) verify(ctx context.Context, h plugin.Host, raw string) (*store.APIKey, *store.User, error) {
	st := h.Store()
	hash := plugin.HashToken(raw)
	now := h.Now()
	e, hit := p.cache.get(hash, now)
	if !hit {
		epoch := p.cache.epoch.Load()
		k, err := st.APIKeyByHash(ctx, hash)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, ErrInvalidKey
		}
		if err != nil {
			return nil, nil, err
		}
		u, err := st.UserByID(ctx, k.ReferenceID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, nil, err
		}
		e = cachedKey{key: *k, user: u}
		if u != nil {
			p.cache.put(hash, e, epoch, now)
		}
	}
	k := e.key
	if !configMatches(k.ConfigID, defaultConfigID) {
		return nil, nil, ErrInvalidKey
	}
	if k.Enabled != nil && !*k.Enabled {
		return nil, nil, ErrKeyDisabled
	}
	if k.ExpiresAt != nil && now.After(k.ExpiresAt.Time) {
		if err := st.DeleteAPIKey(ctx, k.ID); err != nil {
			return nil, nil, err
		}
		p.forget(hash)
		return nil, nil, ErrKeyExpired
	}
	if p.counts(&k) {
		fresh, err := st.APIKeyByID(ctx, k.ID)
		if errors.Is(err, store.ErrNotFound) {
			p.forget(hash)
			return nil, nil, ErrInvalidKey
		}
		if err != nil {
			return nil, nil, err
		}
		if err := p.claim(ctx, st, fresh, hash, now); err != nil {
			return nil, nil, err
		}
	} else if err := p.touch(ctx, st, &k, now); err != nil {
		return nil, nil, err
	}
	if e.user == nil {
		return nil, nil, ErrInvalidOwner
	}
	return &k, e.user, nil
}

// rateLimits reports whether the per-key rate limit applies to k (Better-Auth's
// evaluateRateLimit before its "skip" answers).
func (p *plug) rateLimits(k *store.APIKey) bool {
	return p.cfg.RateLimit && (k.RateLimitEnabled == nil || *k.RateLimitEnabled) && k.RateLimitTimeWindow != nil && k.RateLimitMax != nil
}

// writesLastRequest reports whether a use of k without a rate limit records lastRequest: when
// rate limiting is off for the server or the key, not when the key merely lacks a window.
func (p *plug) writesLastRequest(k *store.APIKey) bool {
	return !p.cfg.RateLimit || (k.RateLimitEnabled != nil && !*k.RateLimitEnabled)
}

// counts reports whether using k changes a counter that must be claimed against its row.
func (p *plug) counts(k *store.APIKey) bool { return k.Remaining != nil || p.rateLimits(k) }

// touch records a use of a key without counters: lastRequest (when rate limiting is off for it,
// as Better-Auth's "skip" answer writes it) and updatedAt, at most once per lastRequestEvery per
// key on this instance, so such a key is checked without a database write on most requests.
func (p *plug) touch(ctx context.Context, st *store.Store, k *store.APIKey, now time.Time) error {
	n := now.UnixNano()
	if last, ok := p.lastWrites.Load(k.ID); ok && n-last.(int64) < int64(lastRequestEvery) && n >= last.(int64) {
		return nil
	}
	p.lastWrites.Store(k.ID, n)
	t := store.NewTime(now)
	cols := map[string]any{"updatedAt": t}
	if p.writesLastRequest(k) {
		cols["lastRequest"] = t
	}
	wrote, err := st.UpdateAPIKey(ctx, k.ID, cols, "")
	if err != nil {
		return err
	}
	if !wrote {
		p.forget(k.Key)
		return ErrInvalidKey
	}
	return nil
}

// claim takes one use of k against its row with guarded writes, as Better-Auth's
// claimUsageInDatabase: the remaining count (refilled first when its interval has passed), then
// a slot of the rate-limit window.
func (p *plug) claim(ctx context.Context, st *store.Store, k *store.APIKey, hash string, now time.Time) error {
	t := store.NewTime(now)
	if k.Remaining != nil {
		if *k.Remaining == 0 && k.RefillAmount == nil {
			if err := st.DeleteAPIKey(ctx, k.ID); err != nil {
				return err
			}
			p.forget(hash)
			return ErrUsageExceeded
		}
		refilled := false
		if k.RefillInterval != nil && k.RefillAmount != nil && *k.RefillInterval != 0 && *k.RefillAmount != 0 {
			last := k.CreatedAt.Time
			if k.LastRefillAt != nil {
				last = k.LastRefillAt.Time
			}
			if now.Sub(last) > msDuration(*k.RefillInterval) {
				cond, args := `"lastRefillAt" is null`, []any(nil)
				if k.LastRefillAt != nil {
					cond, args = `"lastRefillAt" = ?`, []any{*k.LastRefillAt}
				}
				ok, err := st.UpdateAPIKey(ctx, k.ID, map[string]any{"remaining": *k.RefillAmount - 1, "lastRefillAt": t}, cond, args...)
				if err != nil {
					return err
				}
				refilled = ok
			}
		}
		if !refilled {
			ok, err := st.TakeAPIKeyUse(ctx, k.ID)
			if err != nil {
				return err
			}
			if !ok {
				return ErrUsageExceeded
			}
		}
	}
	for range 5 {
		done, err := p.claimWindow(ctx, st, k, t)
		if err != nil || done {
			return err
		}
		fresh, err := st.APIKeyByID(ctx, k.ID)
		if errors.Is(err, store.ErrNotFound) {
			return ErrInvalidKey
		}
		if err != nil {
			return err
		}
		k = fresh
	}
	return rateLimited(0)
}

// claimWindow applies Better-Auth's rate-limit decision for k at now; done false means a
// concurrent request changed the window first and the caller must decide again on a fresh row.
func (p *plug) claimWindow(ctx context.Context, st *store.Store, k *store.APIKey, now store.Time) (bool, error) {
	final := func() (bool, error) {
		ok, err := st.UpdateAPIKey(ctx, k.ID, map[string]any{"updatedAt": now}, "")
		if err == nil && !ok {
			err = ErrInvalidKey
		}
		return true, err
	}
	if !p.rateLimits(k) {
		if p.writesLastRequest(k) {
			if _, err := st.UpdateAPIKey(ctx, k.ID, map[string]any{"lastRequest": now}, ""); err != nil {
				return true, err
			}
		}
		return final()
	}
	window := msDuration(*k.RateLimitTimeWindow)
	windowStart := store.NewTime(now.Add(-window))
	var ok bool
	var err error
	switch {
	case k.LastRequest == nil:
		ok, err = st.UpdateAPIKey(ctx, k.ID, map[string]any{"requestCount": 1, "lastRequest": now}, `"lastRequest" is null`)
	case now.Sub(k.LastRequest.Time) > window:
		ok, err = st.UpdateAPIKey(ctx, k.ID, map[string]any{"requestCount": 1, "lastRequest": now}, `"lastRequest" <= ?`, windowStart)
	default:
		count := int64(0)
		if k.RequestCount != nil {
			count = *k.RequestCount
		}
		if count >= *k.RateLimitMax {
			since := now.Sub(k.LastRequest.Time)
			return true, rateLimited(int64(math.Ceil(float64((window - since).Milliseconds()))))
		}
		ok, err = st.CountAPIKeyRequest(ctx, k.ID, now, windowStart, *k.RateLimitMax)
	}
	if err != nil || !ok {
		return false, err
	}
	return final()
}
