package session

import (
	"strings"
	"testing"
	"time"

	"authserver/store"
)

// cacheAll puts a twice (a session is admitted on its second read) and reports whether the cache
// then holds it.
func cacheAll(c *cache, a *Auth, now time.Time) bool {
	k := cacheKey(a.Session.Token)
	c.put(k, a, c.epoch.Load(), now)
	c.put(k, a, c.epoch.Load(), now)
	_, ok := c.get(k, a.Session.Token, now)
	return ok
}

// The cache is bounded by bytes as well as by entries: whatever sessions arrive, its estimate
// never exceeds the budget (older entries make room), and the estimate is the sum of what it holds.
func TestCacheByteBudget(t *testing.T) {
	const budget = 32 << 10
	c := newCache(time.Minute, 10_000, budget)
	now := time.Now()
	for i := 0; i < 500; i++ {
		a := benchAuth(i)
		a.User.Name = strings.Repeat("n", i%7*200) // entries of different sizes
		if !cacheAll(c, a, now) {
			t.Fatalf("session %d (%d bytes packed) was not cached", i, packedSize(a, store.Columns{}))
		}
		if c.bytes() > budget {
			t.Fatalf("after %d sessions the cache holds an estimated %d bytes, over its budget of %d", i+1, c.bytes(), budget)
		}
	}
	if n := len(c.entries); n >= 500 || n < 20 {
		t.Errorf("%d of 500 sessions cached under a %d-byte budget", n, budget)
	}
	var sum int64
	for _, e := range c.entries {
		sum += int64(len(e.packed) + entryOverhead)
	}
	if sum != c.bytes() {
		t.Errorf("estimate %d bytes, entries add up to %d", c.bytes(), sum)
	}
}

// A session too large to be worth a slot (a 900 kB name, a header-sized user agent) is never
// cached, however much of the budget is free, and replaces no smaller copy of itself: it is read
// from the database each time instead.
func TestCacheRefusesOversizedEntries(t *testing.T) {
	c := newCache(time.Minute, 20_000, defaultCacheBytes)
	now := time.Now()
	small := benchAuth(1)
	if !cacheAll(c, small, now) {
		t.Fatal("a browser session was not cached")
	}
	before := c.bytes()
	huge := benchAuth(2)
	huge.User.Name = strings.Repeat("n", 900_000)
	if cacheAll(c, huge, now) {
		t.Error("a session with a 900 kB name was cached")
	}
	ua := strings.Repeat("u", maxEntryBytes)
	longUA := benchAuth(3)
	longUA.Session.UserAgent = &ua
	if cacheAll(c, longUA, now) {
		t.Error("a session with an 8 KiB user agent was cached")
	}
	if c.bytes() != before {
		t.Errorf("refused entries changed the estimate from %d to %d", before, c.bytes())
	}
	grown := benchAuth(1)
	grown.User.Name = strings.Repeat("n", 900_000)
	if cacheAll(c, grown, now) {
		t.Error("an oversized session replaced its cached copy")
	}
	if _, ok := c.get(cacheKey(small.Session.Token), small.Session.Token, now); ok {
		t.Error("the cache kept an older copy of a session it refused to store")
	}
}
