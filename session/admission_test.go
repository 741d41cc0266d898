package session

import (
	"fmt"
	"testing"
	"time"

	"authserver/store"
)

func testAuth(i int) *Auth {
	return &Auth{Session: store.Session{Token: fmt.Sprintf("tok-%d", i), UserID: fmt.Sprintf("user-%d", i)},
		User: store.User{ID: fmt.Sprintf("user-%d", i)}}
}

// A session is cached from its second read on: a stream of sessions that each come once leaves
// the cache empty instead of filling it (and paying evictions) with entries nobody asks for
// again, while any session read twice is then served from memory.
func TestCacheAdmitsOnSecondRead(t *testing.T) {
	c := newCache(time.Minute, 1000, defaultCacheBytes)
	now := time.Now()
	for i := 0; i < 5000; i++ {
		c.put(cacheKey(fmt.Sprintf("once-%d", i)), testAuth(i), 0, now)
	}
	// The doorkeeper resets after 2*max checks; a few false positives may slip in before that.
	if n := len(c.entries); n > 50 {
		t.Errorf("5000 sessions read once each: %d cached, want (almost) none", n)
	}
	key := cacheKey("twice")
	c.put(key, testAuth(1), 0, now)
	if _, ok := c.get(key, "tok-1", now); ok {
		t.Error("a session read once is already cached")
	}
	c.put(key, testAuth(1), 0, now)
	if a, ok := c.get(key, "tok-1", now); !ok || a.User.ID != "user-1" {
		t.Error("a session read twice is not cached")
	}
	c.put(key, testAuth(1), 0, now) // a cached entry is refreshed without a new admission
	if _, ok := c.get(key, "tok-1", now); !ok {
		t.Error("re-putting a cached session dropped it")
	}
}
