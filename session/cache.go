package session

import (
	"authserver/obs"

	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"authserver/store"
)

// cache keeps validated sessions in memory so most authenticated requests touch no database. It
// is bounded by entries and by estimated bytes, entries expire after ttl, and it is only trusted while the invalidation channel to
// other instances is known to work: without that signal a revocation elsewhere could go unseen,
// so the cache then stands aside and every request reads the database.
type cache struct {
	ttl      time.Duration
	max      int
	maxBytes int64
	cols     store.Columns // the fields plugins added, packed after the core ones

	mu      sync.Mutex // guards entries and size
	entries map[entryKey]cacheEntry
	size    atomic.Int64 // estimated heap bytes of entries; written under mu

	// epoch counts invalidations. A request records it before reading the database and caches what
	// it read only if no invalidation happened meanwhile, so a revocation that commits during a
	// read can never be overwritten by the stale row.
	epoch   atomic.Uint64
	healthy atomic.Bool

	// seen is a Bloom filter of the sessions read since it was last reset; guarded by mu. A
	// session is cached from its second read on, so a stream of sessions that each come once
	// (100k users each loading one page) neither fills the cache with entries nobody asks for
	// again nor makes every request pay for evictions. Reset after 2*max admissions checks, so
	// its false positives stay under about 1%.
	seen      []uint64
	seenSeed  maphash.Seed
	seenCount int
}

// entryKey is the binary form of a cache key (16 bytes of the token's SHA-256).
type entryKey [16]byte

// cacheEntry is one cached session, packed (see pack.go). There is no per-user index: dropping a
// user's sessions scans the entries, which is rare (a password change, a deleted user) and takes
// well under a millisecond at the default size, while an index would cost a map per user.
type cacheEntry struct {
	packed  string
	expires int64 // unix nanoseconds
}

func newCache(ttl time.Duration, max int, maxBytes int64) *cache {
	c := &cache{ttl: ttl, max: max, maxBytes: maxBytes, entries: map[entryKey]cacheEntry{}, seenSeed: maphash.MakeSeed()}
	// 32 bits per key it may hold before a reset (2*max): with two probes, about 0.4% false
	// positives; 256 KiB at the default size.
	bits := 1 << 16
	for bits < 64*max && bits < 1<<30 {
		bits <<= 1
	}
	c.seen = make([]uint64, bits/64)
	c.healthy.Store(true)
	return c
}

// entryOverhead estimates what an entry costs beyond its packed bytes: its map slot and the
// size-class rounding of its string (measured: about 85 bytes of map per entry at 20k).
const entryOverhead = 96

// defaultCacheBytes is the default byte budget: twice what 20,000 browser sessions (the default
// entry bound, about 450 bytes each) take, so the entry bound is what normally applies.
const defaultCacheBytes = 16 << 20

// maxEntryBytes is the largest entry the cache (and the shared cache) keeps. A browser session
// with the longest name and image URL a user may set is about 3 KiB; only an oversized user agent
// or a row written by another program gets past this, and such a session is simply read from the
// database each time, so no one account can fill the cache.
const maxEntryBytes = 8 << 10

// entrySize bounds what caching a would cost, before anything is built.
func entrySize(a *Auth, cols store.Columns) int { return packedSize(a, cols) + entryOverhead }

// bytes estimates the heap the cached entries hold.
func (c *cache) bytes() int64 {
	if c == nil {
		return 0
	}
	return c.size.Load()
}

// setLocked stores e under k, keeping size current.
func (c *cache) setLocked(k entryKey, e cacheEntry) {
	if old, ok := c.entries[k]; ok {
		c.size.Add(-int64(len(old.packed) + entryOverhead))
	}
	c.entries[k] = e
	c.size.Add(int64(len(e.packed) + entryOverhead))
}

// deleteLocked removes k, keeping size current.
func (c *cache) deleteLocked(k entryKey) {
	if old, ok := c.entries[k]; ok {
		delete(c.entries, k)
		c.size.Add(-int64(len(old.packed) + entryOverhead))
	}
}

// cacheKey hashes a token so raw tokens are neither kept as map keys nor sent to other instances.
// Computed once per request; the hex form (String) is made only where a key leaves the process.
func cacheKey(token string) entryKey {
	sum := sha256.Sum256([]byte(token))
	return entryKey(sum[:16])
}

// String is the key as other instances and the shared store know it: 32 hex digits.
func (k entryKey) String() string { return hex.EncodeToString(k[:]) }

// parseKey reads a key in String's form; ok is false for anything else, such as the key of an
// invalidation message from a foreign or newer sender.
func parseKey(s string) (k entryKey, ok bool) {
	if len(s) != 2*len(k) {
		return k, false
	}
	if _, err := hex.Decode(k[:], []byte(s)); err != nil {
		return k, false
	}
	return k, true
}

// get returns the cached session of token, whose cacheKey is k.
func (c *cache) get(k entryKey, token string, now time.Time) (*Auth, bool) {
	if c == nil || !c.healthy.Load() {
		return nil, false
	}
	c.mu.Lock()
	e, ok := c.entries[k]
	if ok && now.UnixNano() > e.expires {
		c.deleteLocked(k)
		ok = false
	}
	c.mu.Unlock()
	obs.SessionCache(ok)
	if !ok {
		return nil, false
	}
	return unpack(e.packed, token, c.cols), true
}

// put caches a, read after the invalidation epoch was epoch, under k.
func (c *cache) put(k entryKey, a *Auth, epoch uint64, now time.Time) {
	if c == nil || !c.healthy.Load() || c.epoch.Load() != epoch {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch.Load() != epoch {
		return
	}
	if size := entrySize(a, c.cols); size > maxEntryBytes || int64(size) > c.maxBytes {
		c.deleteLocked(k) // nor may an older, smaller copy stay behind
		return
	}
	if _, cached := c.entries[k]; !cached && !c.admitLocked(k) {
		return
	}
	p, ok := pack(a, c.cols)
	if !ok {
		return
	}
	need := int64(len(p) + entryOverhead)
	if len(c.entries) >= c.max || c.size.Load()+need > c.maxBytes {
		c.evictLocked(now, need)
	}
	c.setLocked(k, cacheEntry{packed: p, expires: now.Add(c.ttl).UnixNano()})
}

// admitLocked reports whether key was seen before since the doorkeeper's last reset, and marks
// it seen.
func (c *cache) admitLocked(key entryKey) bool {
	h := maphash.Bytes(c.seenSeed, key[:])
	n := uint32(len(c.seen) * 64) // a power of two
	b1, b2 := uint32(h)&(n-1), uint32(h>>32)&(n-1)
	was := c.seen[b1/64]&(1<<(b1%64)) != 0 && c.seen[b2/64]&(1<<(b2%64)) != 0
	c.seen[b1/64] |= 1 << (b1 % 64)
	c.seen[b2/64] |= 1 << (b2 % 64)
	if c.seenCount++; c.seenCount > 2*c.max {
		clear(c.seen)
		c.seenCount = 0
	}
	return was
}

// evictLocked makes room for an entry of incoming bytes: it drops expired entries, then, if still
// over either bound, arbitrary entries until a tenth of each bound is free (map iteration order is
// random, which is good enough for a bound that should rarely be reached).
func (c *cache) evictLocked(now time.Time, incoming int64) {
	t := now.UnixNano()
	for k, e := range c.entries {
		if t > e.expires {
			c.deleteLocked(k)
		}
	}
	keepEntries := c.max - c.max/10 - 1
	keepBytes := c.maxBytes - c.maxBytes/10 - incoming
	for k := range c.entries {
		if len(c.entries) <= keepEntries && c.size.Load() <= keepBytes {
			break
		}
		c.deleteLocked(k)
	}
}

func (c *cache) dropKey(k entryKey) {
	if c == nil {
		return
	}
	obs.SessionInvalidation("token")
	c.epoch.Add(1)
	c.mu.Lock()
	c.deleteLocked(k)
	c.mu.Unlock()
}

func (c *cache) dropUser(userID string) {
	if c == nil {
		return
	}
	obs.SessionInvalidation("user")
	c.epoch.Add(1)
	c.mu.Lock()
	for k, e := range c.entries {
		if packedUserID(e.packed) == userID {
			c.deleteLocked(k)
		}
	}
	c.mu.Unlock()
}

func (c *cache) clear() {
	if c == nil {
		return
	}
	obs.SessionInvalidation("all")
	c.epoch.Add(1)
	c.mu.Lock()
	c.entries = map[entryKey]cacheEntry{}
	c.size.Store(0)
	c.mu.Unlock()
}

// Invalidation messages: "t:<token hash>" for one session, "u:<user id>" for all of a user's.
const (
	msgToken = "t:"
	msgUser  = "u:"
)

// HandleInvalidation applies a message published by any instance (this one included).
func (m *Manager) HandleInvalidation(msg string) {
	m.tellInvalidate(msg)
	switch {
	case strings.HasPrefix(msg, msgToken):
		key := tokenMessageKey(msg)
		k, ok := parseKey(key)
		if !ok {
			// A revocation this instance cannot map to an entry: forget everything rather than
			// risk serving the revoked session.
			m.cache.clear()
			return
		}
		m.cache.dropKey(k)
		m.sharedDrop(key)
	case strings.HasPrefix(msg, msgUser):
		id := strings.TrimPrefix(msg, msgUser)
		m.cache.dropUser(id)
		m.sharedDropUser(id)
	case msg == "*":
		m.cache.clear()
	}
}

// SetCacheHealthy tells the manager whether invalidations from other instances are being received.
// While they are not, the cache is bypassed; when they resume it starts empty, since messages may
// have been missed in between.
func (m *Manager) SetCacheHealthy(ok bool) {
	if m.cache == nil {
		return
	}
	m.tellHealthy(ok)
	if ok && !m.cache.healthy.Load() {
		m.cache.clear()
	}
	m.cache.healthy.Store(ok)
	if !ok {
		m.cache.clear()
	}
}

// CacheBytes estimates the heap memory the in-process session cache holds (0 with the cache off).
// It is long-lived data, cheap for the collector to mark (pointer-free entries), so main keeps it
// out of the garbage collector's headroom.
func (m *Manager) CacheBytes() int64 { return m.cache.bytes() }

// invalidateToken forgets one session in this process and in the shared cache. Other processes
// hear of it from the database (the triggers of migration 3).
func (m *Manager) invalidateToken(token string) {
	k := cacheKey(token)
	m.cache.dropKey(k)
	m.sharedDrop(k.String())
}

// InvalidateToken forgets one session in this process and in the shared cache, after a change to
// the session row made outside the Manager (a plugin's session field); other processes hear of
// the change from the database.
func (m *Manager) InvalidateToken(token string) { m.invalidateToken(token) }

// InvalidateUser forgets every cached session of the user in this process and in the shared
// cache. Call it after any committed change to the user or to their sessions made outside the
// Manager; other processes hear of the change from the database.
func (m *Manager) InvalidateUser(userID string) {
	m.tellInvalidate(msgUser + userID)
	m.cache.dropUser(userID)
	m.sharedDropUser(userID)
}

// ForgetUser is InvalidateUser once the transaction ctx carries (store.Atomic) commits, or now
// when there is none: told earlier, a request reading the still-uncommitted old row could cache
// it again.
func (m *Manager) ForgetUser(ctx context.Context, userID string) {
	store.AfterCommit(ctx, func() { m.InvalidateUser(userID) })
}

// ForgetToken is InvalidateToken after the commit, as ForgetUser.
func (m *Manager) ForgetToken(ctx context.Context, token string) {
	store.AfterCommit(ctx, func() { m.invalidateToken(token) })
}
