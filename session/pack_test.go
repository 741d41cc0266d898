package session

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"authserver/store"
)

// A packed session comes back field for field: optional fields set or nil, zero and far times,
// strings long enough for multi-byte lengths, any bytes in them.
func TestPackRoundTrip(t *testing.T) {
	full := benchAuth(7)
	long := strings.Repeat("é", 300)
	full.User.Name = long
	full.User.CreatedAt = store.Time{Time: time.Date(1969, 7, 20, 20, 17, 40, 123456789, time.UTC)}
	full.Session.ExpiresAt = store.Time{Time: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)}

	bare := benchAuth(8)
	bare.Session.IPAddress, bare.Session.UserAgent, bare.User.Image = nil, nil, nil
	bare.User.EmailVerified = false
	bare.User.UpdatedAt = store.Time{}
	empty := ""
	bare.Session.IPAddress = &empty // set but empty is not the same as absent

	for name, a := range map[string]*Auth{"full": full, "bare": bare} {
		p, ok := pack(a, store.Columns{})
		if !ok {
			t.Fatalf("%s: not packed", name)
		}
		got := unpack(p, a.Session.Token, store.Columns{})
		if !reflect.DeepEqual(got, a) {
			t.Errorf("%s: round trip changed the session:\n got %+v\nwant %+v", name, got, a)
		}
		if packedUserID(p) != a.User.ID {
			t.Errorf("%s: packed user id %q", name, packedUserID(p))
		}
	}
}

// A session whose user is not the cached user is not packed (it would come back wrong).
func TestPackRefusesMismatchedUser(t *testing.T) {
	a := benchAuth(1)
	a.Session.UserID = "someone-else"
	if _, ok := pack(a, store.Columns{}); ok {
		t.Error("packed a session of another user")
	}
	c := newCache(time.Minute, 10, defaultCacheBytes)
	key := cacheKey(a.Session.Token)
	c.put(key, a, 0, time.Now())
	c.put(key, a, 0, time.Now())
	if _, ok := c.get(key, a.Session.Token, time.Now()); ok {
		t.Error("cached a session it cannot pack")
	}
}

// Dropping a user removes that user's sessions and no one else's, without an index.
func TestCacheDropUser(t *testing.T) {
	c := newCache(time.Minute, 100, defaultCacheBytes)
	now := time.Now()
	var keys []entryKey
	for i := 0; i < 6; i++ {
		a := benchAuth(i % 2) // two users, three sessions each
		a.Session.Token = a.Session.Token + string(rune('a'+i))
		k := cacheKey(a.Session.Token)
		keys = append(keys, k)
		c.put(k, a, 0, now)
		c.put(k, a, 0, now)
	}
	c.dropUser(benchAuth(0).User.ID)
	for i, k := range keys {
		_, ok := c.get(k, "t", now)
		if want := i%2 == 1; ok != want {
			t.Errorf("session %d of user %d cached=%v after dropping user 0", i, i%2, ok)
		}
	}
}

// An invalidation message whose key is not one this server makes (too long, not hex, empty) must
// neither crash the listener nor leave a possibly revoked session cached: the cache is emptied.
func TestMalformedInvalidationKeyEmptiesCache(t *testing.T) {
	for _, msg := range []string{"t:" + strings.Repeat("ab", 32), "t:" + strings.Repeat("zz", 16), "t:", "t:abc:user-1"} {
		m := &Manager{cache: newCache(time.Minute, 10, defaultCacheBytes)}
		a := benchAuth(3)
		key := cacheKey(a.Session.Token)
		m.cache.put(key, a, 0, time.Now())
		m.cache.put(key, a, 0, time.Now())
		if _, ok := m.cache.get(key, a.Session.Token, time.Now()); !ok {
			t.Fatal("session not cached")
		}
		m.HandleInvalidation(msg)
		if _, ok := m.cache.get(key, a.Session.Token, time.Now()); ok {
			t.Errorf("%q: the cache still serves a session after an invalidation it could not read", msg)
		}
	}
}

// The fields plugins add come back from the cache too, set or not, of every type.
func TestPackRoundTripWithFields(t *testing.T) {
	cols := store.Columns{
		User: []store.Field{{Name: "s", Type: store.StringField, Nullable: true}, {Name: "b", Type: store.BoolField, Nullable: true},
			{Name: "unset", Type: store.StringField, Nullable: true}},
		Session: []store.Field{{Name: "n", Type: store.IntField, Nullable: true}, {Name: "t", Type: store.TimeField, Nullable: true},
			{Name: "h", Type: store.StringField, Nullable: true, Hidden: true}},
	}
	a := benchAuth(3)
	a.User.Extra = []store.Value{store.StringValue(strings.Repeat("ü", 200)), store.BoolValue(true), {}}
	a.Session.Extra = []store.Value{store.IntValue(-1 << 40), store.TimeValue(time.Date(2030, 5, 6, 7, 8, 9, 10_000_000, time.UTC)), store.StringValue("")}
	p, ok := pack(a, cols)
	if !ok {
		t.Fatal("not packed")
	}
	if max := packedSize(a, cols); len(p) > max {
		t.Errorf("packed %d bytes, packedSize said at most %d", len(p), max)
	}
	if got := unpack(p, a.Session.Token, cols); !reflect.DeepEqual(got, a) {
		t.Errorf("round trip changed the session:\n got %+v\nwant %+v", got, a)
	}
	a.Session.Extra = append(a.Session.Extra, store.Value{})
	if _, ok := pack(a, cols); ok {
		t.Error("packed more values than fields")
	}
}
