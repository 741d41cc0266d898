package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"authserver/store"
)

func openTestRedis(t *testing.T, rawURL string) *store.Redis {
	t.Helper()
	r, err := store.OpenRedis(context.Background(), rawURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func liveRedisURL(t *testing.T) string {
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		t.Skip("TEST_REDIS_URL is not set")
	}
	return u
}

func uniqueKey(prefix string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// A bad REDIS_URL stops the server at start; a good one opens without touching the network.
func TestOpenRedisURL(t *testing.T) {
	for _, bad := range []string{
		"http://127.0.0.1:6379",
		"127.0.0.1:6379",
		"redis://127.0.0.1:6379/zero",
		"redis://127.0.0.1:6379/0/1",
		"redis://127.0.0.1:6379/0?db=2",
		"rediss://%zz@host/0",
		"redis://user:hunter2-secret@host:port/0",
		"ftp://user:hunter2-secret@host/0",
	} {
		_, err := store.OpenRedis(context.Background(), bad)
		if err == nil {
			t.Errorf("OpenRedis(%q) accepted a bad URL", bad)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("OpenRedis(%q) error repeats the password, which would reach the log: %v", bad, err)
		}
	}
	for _, good := range []string{
		"redis://",
		"redis://host.invalid",
		"redis://:secret@host.invalid:6380/2",
		"rediss://user:secret@host.invalid:6380/15",
	} {
		r, err := store.OpenRedis(context.Background(), good)
		if err != nil {
			t.Errorf("OpenRedis(%q) = %v", good, err)
			continue
		}
		r.Close()
	}
}

// checkFails asserts that every operation reports an error, within bound, instead of hanging or
// pretending a key is absent.
func checkFails(t *testing.T, r *store.Redis, bound time.Duration) {
	t.Helper()
	ctx := context.Background()
	ops := map[string]func() error{
		"Get": func() error {
			_, found, err := r.Get(ctx, "k")
			if found {
				t.Error("Get found a value on a failed Redis")
			}
			return err
		},
		"Set":          func() error { return r.Set(ctx, "k", []byte("v"), time.Second) },
		"Del":          func() error { return r.Del(ctx, "k") },
		"RateLimit":    func() error { _, _, err := r.RateLimit(ctx, "k", 1, 1000, 3); return err },
		"SessionEpoch": func() error { _, err := r.SessionEpoch(ctx); return err },
		"SaveSession": func() error {
			return r.SaveSession(ctx, "h", "u", []byte("{}"), time.Second, "0")
		},
		"DropSession":      func() error { return r.DropSession(ctx, "h") },
		"DropUserSessions": func() error { return r.DropUserSessions(ctx, "u") },
	}
	for name, op := range ops {
		start := time.Now()
		err := op()
		if err == nil {
			t.Errorf("%s succeeded on a failed Redis", name)
		}
		if d := time.Since(start); d > bound {
			t.Errorf("%s took %v, want under %v", name, d, bound)
		}
	}
}

// A Redis that refuses connections is not an error at start, but Ping and every call report it.
func TestRedisDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there any more
	r := openTestRedis(t, "redis://"+addr+"/0")
	if err := r.Ping(context.Background()); err == nil {
		t.Error("Ping succeeded with Redis down")
	}
	checkFails(t, r, time.Second)
}

// A Redis that accepts connections but never answers (plain or TLS) costs a call its 300 ms
// timeout, not a hang; Ping gives up after 2 s.
func TestRedisUnresponsive(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() }) // not defer: the parallel subtests run after this function returns
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	for _, scheme := range []string{"redis", "rediss"} {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			r := openTestRedis(t, scheme+"://"+l.Addr().String()+"/0")
			checkFails(t, r, time.Second)
			start := time.Now()
			if err := r.Ping(context.Background()); err == nil {
				t.Error("Ping succeeded on a silent server")
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Ping took %v", d)
			}
		})
	}
}

func TestRedisKeys(t *testing.T) {
	r := openTestRedis(t, liveRedisURL(t))
	ctx := context.Background()
	if err := r.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	key := uniqueKey("authserver-test:")
	if v, found, err := r.Get(ctx, key); err != nil || found || v != nil {
		t.Fatalf("Get(missing) = %q, %v, %v; want nil, false, nil", v, found, err)
	}
	if err := r.Set(ctx, key, []byte("v1"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, found, err := r.Get(ctx, key); err != nil || !found || string(v) != "v1" {
		t.Fatalf("Get = %q, %v, %v; want v1", v, found, err)
	}
	if err := r.Del(ctx, key, uniqueKey("authserver-test:")); err != nil {
		t.Fatal(err)
	}
	if _, found, err := r.Get(ctx, key); err != nil || found {
		t.Fatalf("Get after Del: found=%v err=%v", found, err)
	}
	if err := r.Del(ctx); err != nil {
		t.Fatal(err)
	}

	// The ttl applies, below a second too.
	if err := r.Set(ctx, key, []byte("v2"), 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	if _, found, err := r.Get(ctx, key); err != nil || found {
		t.Fatalf("Get after the ttl: found=%v err=%v", found, err)
	}
}

// The database number and the password of the URL are used.
func TestRedisURLOptions(t *testing.T) {
	raw := liveRedisURL(t)
	ctx := context.Background()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	other := *u
	other.Path = "/1"
	if u.Path == "/1" {
		other.Path = "/2"
	}
	a, b := openTestRedis(t, raw), openTestRedis(t, other.String())
	key := uniqueKey("authserver-test:")
	if err := b.Set(ctx, key, []byte("x"), time.Minute); err != nil {
		t.Fatal(err)
	}
	defer b.Del(ctx, key)
	if _, found, err := a.Get(ctx, key); err != nil || found {
		t.Errorf("a key set in database %s is visible in %q (found=%v err=%v)", other.Path, u.Path, found, err)
	}
	if _, found, err := b.Get(ctx, key); err != nil || !found {
		t.Errorf("a key set in database %s is not found there (err=%v)", other.Path, err)
	}

	if u.User == nil { // a server without a password refuses AUTH
		wrong := *u
		wrong.User = url.UserPassword("", "not-the-password")
		if err := openTestRedis(t, wrong.String()).Ping(ctx); err == nil {
			t.Error("the URL's password was not sent")
		}
	}
}

// Sessions are shared only while the epoch read before the database read still holds; every drop
// advances it.
func TestRedisSessions(t *testing.T) {
	r := openTestRedis(t, liveRedisURL(t))
	ctx := context.Background()
	hash, user := uniqueKey(""), uniqueKey("user-")
	epoch, err := r.SessionEpoch(ctx)
	if err != nil || epoch == "" {
		t.Fatalf("SessionEpoch = %q, %v", epoch, err)
	}
	if err := r.SaveSession(ctx, hash, user, []byte(`{"a":1}`), time.Minute, epoch); err != nil {
		t.Fatal(err)
	}
	if v, found, err := r.LoadSession(ctx, hash); err != nil || !found || string(v) != `{"a":1}` {
		t.Fatalf("LoadSession = %q, %v, %v", v, found, err)
	}

	if err := r.DropSession(ctx, hash); err != nil {
		t.Fatal(err)
	}
	if _, found, err := r.LoadSession(ctx, hash); err != nil || found {
		t.Fatalf("LoadSession after DropSession: found=%v err=%v", found, err)
	}
	if e, _ := r.SessionEpoch(ctx); e == epoch {
		t.Fatal("DropSession did not advance the epoch")
	}
	// A save that read the epoch before the drop is refused, silently.
	if err := r.SaveSession(ctx, hash, user, []byte(`{"a":2}`), time.Minute, epoch); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := r.LoadSession(ctx, hash); found {
		t.Fatal("a stale save overwrote a drop")
	}

	epoch, _ = r.SessionEpoch(ctx)
	hash2 := uniqueKey("")
	for _, h := range []string{hash, hash2} {
		if err := r.SaveSession(ctx, h, user, []byte(`{}`), time.Minute, epoch); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.DropUserSessions(ctx, user); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{hash, hash2} {
		if _, found, err := r.LoadSession(ctx, h); err != nil || found {
			t.Errorf("LoadSession after DropUserSessions: found=%v err=%v", found, err)
		}
	}
	if e, _ := r.SessionEpoch(ctx); e == epoch {
		t.Error("DropUserSessions did not advance the epoch")
	}

	// After Close, calls fail instead of panicking or hanging.
	r.Close()
	checkFails(t, r, time.Second)
}
