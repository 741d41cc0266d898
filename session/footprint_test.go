package session

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"authserver/store"
)

// benchAuth is a session as a browser sign-in leaves it: every optional field set, a real
// user agent, ids and token the length Better-Auth generates.
func benchAuth(i int) *Auth {
	ip := fmt.Sprintf("203.0.113.%d", i%250)
	ua := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	img := fmt.Sprintf("https://cdn.example.com/avatars/%08d.png", i)
	now := store.NewTime(time.Now())
	uid := fmt.Sprintf("u%031d", i)
	return &Auth{
		Session: store.Session{ID: fmt.Sprintf("s%031d", i), Token: fmt.Sprintf("t%031d", i), ExpiresAt: now,
			CreatedAt: now, UpdatedAt: now, IPAddress: &ip, UserAgent: &ua, UserID: uid},
		User: store.User{ID: uid, Name: fmt.Sprintf("User Number %d", i), Email: fmt.Sprintf("user-%07d@example.com", i),
			EmailVerified: true, Image: &img, CreatedAt: now, UpdatedAt: now},
	}
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// A full cache at the default size must stay a small part of the server's memory: the bench's
// feed and get-session peaks at 100k sessions are set by it.
func TestCacheEntryFootprint(t *testing.T) {
	const n = 20_000
	auths := make([]*Auth, n)
	keys := make([]entryKey, n)
	for i := range auths {
		auths[i] = benchAuth(i)
		keys[i] = cacheKey(auths[i].Session.Token)
	}
	c := newCache(time.Minute, n, defaultCacheBytes)
	now := time.Now()
	for i := range auths {
		c.put(keys[i], auths[i], 0, now)
		c.put(keys[i], auths[i], 0, now) // admitted on the second read
	}
	cached := len(c.entries)
	// What the cache holds is whatever stays live once the inputs are gone and goes when it does,
	// as with rows scanned from the database.
	auths, keys = nil, nil
	with := liveHeap()
	runtime.KeepAlive(c)
	c = nil
	per := float64(with-liveHeap()) / n
	if cached < n*99/100 {
		t.Fatalf("%d of %d sessions cached", cached, n)
	}
	t.Logf("%.0f bytes per cached session", per)
	if per > 512 { // 928 when entries were Auth values with a per-user index
		t.Errorf("%.0f bytes per cached session", per)
	}
}

// The cache's own estimate of its size tracks what it really holds, within a quarter, and falls
// back to zero as entries leave: the collector's headroom is set from it.
func TestCacheBytesEstimate(t *testing.T) {
	const n = 20_000
	c := newCache(time.Minute, n, defaultCacheBytes)
	before := liveHeap()
	now := time.Now()
	for i := 0; i < n; i++ {
		a := benchAuth(i)
		k := cacheKey(a.Session.Token)
		c.put(k, a, 0, now)
		c.put(k, a, 0, now)
	}
	real := float64(liveHeap() - before)
	est := float64(c.bytes())
	if est < real*0.75 || est > real*1.25 {
		t.Errorf("estimated %.0f bytes, the heap grew by %.0f", est, real)
	}
	for i := 0; i < n; i += 2 {
		c.dropKey(cacheKey(benchAuth(i).Session.Token))
	}
	half := c.bytes()
	if half < int64(est*0.4) || half > int64(est*0.6) {
		t.Errorf("half the entries dropped: estimate went from %.0f to %d", est, half)
	}
	c.clear()
	if c.bytes() != 0 {
		t.Errorf("cleared cache estimated at %d bytes", c.bytes())
	}
	runtime.KeepAlive(c)
}
