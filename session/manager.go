// Package session owns session tokens and ids, the signed session cookies, and the session
// lifecycle (create, validate, slide the expiry, revoke), all exactly as Better-Auth 1.7.25 does
// them so that either server accepts the other's cookies.
//
// It works on net/http requests and responses, never on a web framework, and imports only store.
package session

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"authserver/store"
)

// ErrVanished means the session disappeared while it was being refreshed (revoked concurrently);
// Better-Auth answers that with 401 FAILED_TO_GET_SESSION and clears the cookies.
var ErrVanished = errors.New("session: vanished during refresh")

// Config holds the session settings; zero durations take Better-Auth's defaults.
type Config struct {
	// Secret signs cookies (HMAC-SHA256), as Better-Auth's BETTER_AUTH_SECRET does. With Keys
	// set it is ignored: the current key signs.
	Secret []byte
	// Keys, when its Current is set, is the keyring of a secret rotation (BETTER_AUTH_SECRETS):
	// the current secret signs, every one it accepts verifies.
	Keys Keys
	// ExpiresIn is a session's lifetime and the session cookie's Max-Age (default 7 days).
	ExpiresIn time.Duration
	// UpdateAge is how old the last refresh must be before a use extends the session (default 1 day).
	// Set DisableRefresh to never extend; a zero UpdateAge with RefreshEveryUse extends on every use.
	UpdateAge time.Duration
	// RefreshEveryUse makes UpdateAge zero (Better-Auth's updateAge: 0).
	RefreshEveryUse bool
	// DisableRefresh never extends sessions (session.disableSessionRefresh).
	DisableRefresh bool
	// FreshAge is how long after sign-in a session counts as fresh (default 1 day). Set NoFreshCheck
	// to disable the check (Better-Auth's freshAge: 0).
	FreshAge     time.Duration
	NoFreshCheck bool
	// CookiePrefix is the cookie name prefix (default "better-auth").
	CookiePrefix string
	// Secure adds the __Secure- prefix and the Secure attribute (Better-Auth does so when the base
	// URL is https).
	Secure bool
	// CookieDomain sets Domain on every auth cookie (cross-subdomain cookies); empty omits it.
	CookieDomain string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// CacheTTL is how long a validated session is served from memory (default 60 s); DisableCache
	// turns the in-process cache off. CacheSize bounds its entries (default 20,000 sessions, about
	// 9 MB) and CacheBytes its estimated memory (default 16 MiB), whichever is reached first; a
	// session whose entry would take more than 8 KiB is never cached.
	CacheTTL     time.Duration
	CacheSize    int
	CacheBytes   int64
	DisableCache bool
	// CookieCache turns on Better-Auth's session_data cookie cache (compact strategy), valid for
	// CookieCacheMaxAge (default 5 minutes). Off by default: see cookiecache.go for the trade-off.
	CookieCache       bool
	CookieCacheMaxAge time.Duration
	// MaxAge, when positive, is an absolute lifetime counted from a session's creation: refreshes
	// never extend a session past createdAt+MaxAge, and there it expires however recently it was
	// used. Zero keeps Better-Auth's sliding sessions, which never end while used within ExpiresIn.
	MaxAge time.Duration
}

// Manager creates, reads, refreshes and revokes sessions. It is safe for concurrent use.
type Manager struct {
	cfg     Config
	st      *store.Store
	cols    store.Columns // the fields plugins added to the rows (fixed from New on)
	names   cookieNames
	cache   *cache      // nil when disabled
	shared  SharedStore // nil without Redis
	refresh singleflight.Group
	lookups *lookups
	// onCookie, when set, adds response headers wherever the session cookie is written.
	onCookie func(ctx context.Context, token string) [][2]string
	// requestAuth and observers are plugins' hooks (external.go), set before serving.
	requestAuth RequestAuth
	observers   []InvalidationObserver
}

type cookieNames struct {
	token, data, dontRemember string
}

// Auth is a validated session and the user it belongs to.
type Auth struct {
	Session store.Session
	User    store.User
	// Via names the plugin whose RequestAuth made this session from another credential (an API
	// key), empty for a session row; such a session is answered as Better-Auth answers it from a
	// plugin's before-hook. Never cached or shared.
	Via string `json:"-"`
}

// New returns a Manager over st with cfg's defaults filled in.
func New(cfg Config, st *store.Store) *Manager {
	if len(cfg.Keys.Current) == 0 {
		cfg.Keys = SingleKey(cfg.Secret)
	} else {
		cfg.Secret = cfg.Keys.Current
	}
	if cfg.ExpiresIn <= 0 {
		cfg.ExpiresIn = 7 * 24 * time.Hour
	}
	if cfg.UpdateAge <= 0 && !cfg.RefreshEveryUse {
		cfg.UpdateAge = 24 * time.Hour
	}
	if cfg.RefreshEveryUse {
		cfg.UpdateAge = 0
	}
	if cfg.FreshAge <= 0 {
		cfg.FreshAge = 24 * time.Hour
	}
	if cfg.CookiePrefix == "" {
		cfg.CookiePrefix = "better-auth"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = time.Minute
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 20_000
	}
	if cfg.CacheBytes <= 0 {
		cfg.CacheBytes = defaultCacheBytes
	}
	if cfg.CookieCacheMaxAge <= 0 {
		cfg.CookieCacheMaxAge = 5 * time.Minute
	}
	pre := ""
	if cfg.Secure {
		pre = "__Secure-"
	}
	var c *cache
	if !cfg.DisableCache {
		c = newCache(cfg.CacheTTL, cfg.CacheSize, cfg.CacheBytes)
	}
	cols := st.Columns()
	if c != nil {
		c.cols = cols
	}
	return &Manager{cfg: cfg, st: st, cols: cols, cache: c, lookups: newLookups(st, max(2, runtime.GOMAXPROCS(0)/2)), names: cookieNames{
		token:        pre + cfg.CookiePrefix + ".session_token",
		data:         pre + cfg.CookiePrefix + ".session_data",
		dontRemember: pre + cfg.CookiePrefix + ".dont_remember",
	}}
}

// Columns is the list of fields plugins added to the user and session rows, as the store had it
// when the manager was made (none for a nil Manager); every Auth the manager returns carries their
// values in that order.
func (m *Manager) Columns() store.Columns {
	if m == nil {
		return store.Columns{}
	}
	return m.cols
}

// TokenCookieName is the session cookie's full name, including any __Secure- prefix.
func (m *Manager) TokenCookieName() string { return m.names.token }

// ExpiresIn is the configured session lifetime.
func (m *Manager) ExpiresIn() time.Duration { return m.cfg.ExpiresIn }

func (m *Manager) now() time.Time { return m.cfg.Now() }

// NewToken returns a session token: 32 characters of [a-zA-Z0-9] from the system CSPRNG, as
// Better-Auth generates them.
func NewToken() string { return RandomString(32) }

// NewID returns a row id in Better-Auth's default form (32 characters of [a-zA-Z0-9]).
func NewID() string { return RandomString(32) }

const alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// RandomString returns n characters drawn uniformly from [A-Za-z0-9] with rejection sampling, so
// no character is likelier than another.
func RandomString(n int) string { return RandomFrom(alphanumeric, n) }

// RandomFrom returns n characters drawn uniformly from alphabet (at most 256 distinct bytes) with
// the system CSPRNG, rejecting the bytes that would make the first characters likelier, as
// Better-Auth's generateRandomString draws from the alphabets its plugins name.
func RandomFrom(alphabet string, n int) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n*2)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic("session: system random source failed: " + err.Error())
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out = append(out, alphabet[int(b)%len(alphabet)])
			if len(out) == n {
				break
			}
		}
	}
	return string(out)
}

// Meta is what the server records about the client that created a session.
type Meta struct {
	IPAddress string
	UserAgent string
}

// Create stores a new session for the user. A don't-remember session (rememberMe: false) lives one
// day, whatever ExpiresIn says, as in Better-Auth.
func (m *Manager) Create(ctx context.Context, db *store.Store, userID string, meta Meta, dontRemember bool) (*store.Session, error) {
	life := m.cfg.ExpiresIn
	if dontRemember {
		life = 24 * time.Hour
	}
	return m.CreateWith(ctx, db, userID, meta, life, nil)
}

// CreateWith stores a new session for the user that lives life (capped by MaxAge like any
// session), with the plugins' session field values extra (in registration order; nil: defaults).
func (m *Manager) CreateWith(ctx context.Context, db *store.Store, userID string, meta Meta, life time.Duration, extra []store.Value) (*store.Session, error) {
	if db == nil {
		db = m.st
	}
	now := store.NewTime(m.now())
	ip, ua := meta.IPAddress, meta.UserAgent
	s := &store.Session{
		ID:        NewID(),
		Token:     NewToken(),
		UserID:    userID,
		CreatedAt: now,
		UpdatedAt: now,
		ExpiresAt: store.NewTime(m.capExpiry(now.Time, now.Add(life))),
		IPAddress: &ip,
		UserAgent: &ua,
		Extra:     extra,
	}
	if err := db.CreateSession(ctx, s); err != nil {
		return nil, fmt.Errorf("session: create: %w", err)
	}
	return s, nil
}

// TokenFrom returns the raw session token a request presents, if its signature is valid:
// "Authorization: Bearer <token>" (raw or signed, as Better-Auth's bearer plugin accepts) first,
// then the signed session cookie. An invalid bearer falls back to the cookie.
func (m *Manager) TokenFrom(r *http.Request) (string, bool) {
	if tok, ok := m.bearerToken(r); ok {
		return tok, true
	}
	v, ok := ReadCookie(r, m.names.token)
	if !ok || v == "" {
		return "", false
	}
	return m.cfg.Keys.UnsignAny(v)
}

func (m *Manager) bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	tok := strings.TrimSpace(h[7:])
	if tok == "" {
		return "", false
	}
	if !strings.Contains(tok, ".") {
		// A raw token is accepted as is: the bearer plugin signs it with our own secret and then
		// verifies it, which always passes, so only the database lookup decides.
		if len(tok) > 255 {
			return "", false
		}
		return tok, true
	}
	return m.cfg.Keys.UnsignAny(tryDecode(tok))
}

// dontRemember reports whether the request carries a validly signed dont_remember cookie.
func (m *Manager) dontRemember(r *http.Request) bool {
	v, ok := ReadCookie(r, m.names.dontRemember)
	if !ok || v == "" {
		return false
	}
	_, ok = m.cfg.Keys.UnsignAny(v)
	return ok
}

// GetOptions change how Get treats a session.
type GetOptions struct {
	// DisableRefresh never extends the session (get-session's ?disableRefresh).
	DisableRefresh bool
	// DisableCookieCache ignores the session_data cookie and reads the session authoritatively
	// (get-session's ?disableCookieCache, and every sensitive endpoint).
	DisableCookieCache bool
	// SkipRequestAuth reads only the session cookie and bearer token, never a RequestAuth's
	// credential: Better-Auth's sensitive endpoints re-read the session from those alone
	// (getAuthoritativeSessionFromCtx), ignoring the session an api-key hook set.
	SkipRequestAuth bool
}

// Get validates the session a request presents, the way Better-Auth's get-session does with the
// cookie cache off, writing any cookie changes to w. A RequestAuth (SetRequestAuth) that answers
// the request decides alone, with no cookie touched. Otherwise:
//   - no token, or a bad signature: (nil, nil) and no cookie is touched;
//   - a token with no live session: the cookies are cleared, an expired row is deleted, (nil, nil);
//   - a live session due for refresh (older than UpdateAge since the last one, not don't-remember):
//     the expiry slides to now+ExpiresIn and the cookie is re-issued.
//
// A database failure returns the error; ErrVanished means the row went away mid-refresh.
func (m *Manager) Get(ctx context.Context, w http.ResponseWriter, r *http.Request, opt GetOptions) (*Auth, error) {
	if !opt.SkipRequestAuth {
		if a, ok, err := m.external(ctx, r); ok {
			return a, err
		}
	}
	if !m.cfg.CookieCache {
		m.cleanDataCookies(w, r)
	}
	token, ok := m.TokenFrom(r)
	if !ok || token == "" {
		return nil, nil
	}
	now := m.now()
	if m.cfg.CookieCache && !opt.DisableCookieCache {
		if raw, has := readChunked(r, m.names.data); has {
			if a, valid := m.readCacheCookie(raw, token, now); valid {
				return a, nil
			}
			m.expire(w, m.names.data)
		}
	}
	noRefresh := m.dontRemember(r) || opt.DisableRefresh || m.cfg.DisableRefresh
	key := cacheKey(token)
	if hit, ok := m.cache.get(key, token, now); ok && m.live(&hit.Session, now) && (noRefresh || !m.refreshDue(&hit.Session, now)) {
		if m.cfg.CookieCache {
			m.writeCacheCookie(w, hit, m.dontRemember(r), now)
		}
		return hit, nil
	}
	var epoch uint64
	if m.cache != nil {
		epoch = m.cache.epoch.Load()
	}
	if hit, ok := m.sharedLoad(ctx, key, token); ok && m.live(&hit.Session, now) && (noRefresh || !m.refreshDue(&hit.Session, now)) {
		m.cache.put(key, hit, epoch, now)
		return hit, nil
	}
	sharedEpoch := m.sharedEpoch(ctx)
	sess, user, err := m.lookups.get(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		m.ClearCookies(w, r)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !m.live(sess, now) {
		m.ClearCookies(w, r)
		if err := m.st.DeleteSession(ctx, sess.Token); err != nil {
			return nil, err
		}
		m.invalidateToken(sess.Token)
		return nil, nil
	}
	auth := &Auth{Session: *sess, User: *user}
	if noRefresh || !m.refreshDue(sess, now) {
		m.cache.put(key, auth, epoch, now)
		m.sharedSave(ctx, key, auth, sharedEpoch, now)
		if m.cfg.CookieCache {
			m.writeCacheCookie(w, auth, m.dontRemember(r), now)
		}
		return auth, nil
	}
	// Several requests may find the same session due at once: one of them writes.
	v, err, _ := m.refresh.Do(key.String(), func() (any, error) { return m.extend(ctx, token, sess, now) })
	if err != nil {
		if errors.Is(err, ErrVanished) {
			m.ClearCookies(w, r)
		}
		return nil, err
	}
	auth = &Auth{Session: v.(*Auth).Session, User: v.(*Auth).User}
	m.cache.put(key, auth, epoch, now)
	m.sharedSave(ctx, key, auth, sharedEpoch, now)
	dr := false
	m.setCookie(w, r, auth.Session.Token, &dr, auth)
	return auth, nil
}

// live reports whether s is valid at now: not expired and, with MaxAge, not older than that.
func (m *Manager) live(s *store.Session, now time.Time) bool {
	return s.ExpiresAt.After(now) && (m.cfg.MaxAge <= 0 || now.Before(s.CreatedAt.Add(m.cfg.MaxAge)))
}

// capExpiry returns exp, or createdAt+MaxAge when that comes first.
func (m *Manager) capExpiry(createdAt, exp time.Time) time.Time {
	if m.cfg.MaxAge > 0 {
		if end := createdAt.Add(m.cfg.MaxAge); exp.After(end) {
			return end
		}
	}
	return exp
}

// refreshDue reports whether the last refresh (or creation) is at least UpdateAge ago and a
// refresh could still move the expiry (it cannot once it has reached createdAt+MaxAge).
func (m *Manager) refreshDue(s *store.Session, now time.Time) bool {
	if m.cfg.MaxAge > 0 && !s.ExpiresAt.Before(s.CreatedAt.Add(m.cfg.MaxAge)) {
		return false
	}
	lastRefresh := s.ExpiresAt.Add(-m.cfg.ExpiresIn)
	return !now.Before(lastRefresh.Add(m.cfg.UpdateAge))
}

// extend slides a session's expiry with a conditional write; if another instance already did,
// it returns what is stored now.
func (m *Manager) extend(ctx context.Context, token string, sess *store.Session, now time.Time) (*Auth, error) {
	nowT := store.NewTime(now)
	newExp := store.NewTime(m.capExpiry(sess.CreatedAt.Time, now.Add(m.cfg.ExpiresIn)))
	wrote, err := m.st.ExtendSession(ctx, token, sess.ExpiresAt, newExp, nowT)
	if err != nil {
		return nil, err
	}
	fresh, freshUser, err := m.st.SessionByToken(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrVanished
	}
	if err != nil {
		return nil, err
	}
	_ = wrote
	return &Auth{Session: *fresh, User: *freshUser}, nil
}

// Peek returns the live session the request presents (session cookie or bearer token), from the
// in-process cache or the database, nil when there is none. Unlike Get it has no side effects: it
// never refreshes the session, writes no cookie and deletes no expired row, so a sign-in's hooks
// may call it inside the sign-in's transaction.
//
// A credential of a plugin's RequestAuth (an API key) is not read here: checking one spends a
// use of it, which is a write.
func (m *Manager) Peek(ctx context.Context, r *http.Request) (*Auth, error) {
	token, ok := m.TokenFrom(r)
	if !ok || token == "" {
		return nil, nil
	}
	now := m.now()
	if hit, ok := m.cache.get(cacheKey(token), token, now); ok && m.live(&hit.Session, now) {
		return hit, nil
	}
	a, err := m.Lookup(ctx, token)
	if err != nil || a == nil || !m.live(&a.Session, now) {
		return nil, err
	}
	return a, nil
}

// Lookup returns the live session for a raw token, without touching cookies or refreshing it;
// nil when there is none.
func (m *Manager) Lookup(ctx context.Context, token string) (*Auth, error) {
	sess, u, err := m.st.SessionByToken(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &Auth{Session: *sess, User: *u}, nil
}

// IsFresh reports whether the session was created recently enough for endpoints that demand a
// fresh sign-in (Better-Auth's freshAge, measured from creation, not from the last refresh).
func (m *Manager) IsFresh(s *store.Session) bool {
	if m.cfg.NoFreshCheck {
		return true
	}
	return m.now().Sub(s.CreatedAt.Time) < m.cfg.FreshAge
}

// List returns the user's sessions that have not expired (nor outlived MaxAge).
func (m *Manager) List(ctx context.Context, userID string) ([]store.Session, error) {
	now := m.now()
	list, err := m.st.SessionsByUser(ctx, userID, store.NewTime(now))
	if err != nil || m.cfg.MaxAge <= 0 {
		return list, err
	}
	live := list[:0]
	for i := range list {
		if m.live(&list[i], now) {
			live = append(live, list[i])
		}
	}
	return live, nil
}

// Revoke deletes one session by token; every instance stops accepting it.
func (m *Manager) Revoke(ctx context.Context, token string) error {
	if err := m.st.DeleteSession(ctx, token); err != nil {
		return err
	}
	m.ForgetToken(ctx, token)
	return nil
}

// RevokeAll deletes every session of the user. Inside a transaction (db not nil) the caller must
// call InvalidateUser after the commit; outside one it is done here.
func (m *Manager) RevokeAll(ctx context.Context, db *store.Store, userID string) error {
	if db != nil {
		_, err := db.DeleteUserSessions(ctx, userID)
		return err
	}
	if _, err := m.st.DeleteUserSessions(ctx, userID); err != nil {
		return err
	}
	m.ForgetUser(ctx, userID)
	return nil
}

// RevokeOthers deletes the user's unexpired sessions other than keepToken.
func (m *Manager) RevokeOthers(ctx context.Context, userID, keepToken string) error {
	if _, err := m.st.DeleteOtherSessions(ctx, userID, keepToken, store.NewTime(m.now())); err != nil {
		return err
	}
	m.ForgetUser(ctx, userID)
	return nil
}
