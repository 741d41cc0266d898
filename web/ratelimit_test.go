package web_test

import (
	"context"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	"authserver/store"
	"authserver/store/storetest"
	"authserver/web"
)

func rateLimited(store web.RateLimitStore, rules ...web.RateRule) func(*envOptions) {
	return func(o *envOptions) {
		o.web.RateLimit = web.RateLimitConfig{Enabled: true, Store: store, Rules: rules}
		o.web.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	}
}

// signInAttempts sends n sign-ins from one client address and returns the statuses.
func signInAttempts(c *client, n int, path, ip string) []int {
	var out []int
	for i := 0; i < n; i++ {
		r := c.do("POST", path, map[string]any{"email": "rl@example.com", "password": "wrong-password"}, "X-Forwarded-For", ip)
		out = append(out, r.Status)
	}
	return out
}

func checkRateLimitRules(t *testing.T, st web.RateLimitStore, db *store.Store) {
	e := newEnv(t, db, rateLimited(st))
	c := e.client()
	ip := "198.51.100." + strconv.Itoa(int(time.Now().UnixNano()%200)+1)
	got := signInAttempts(c, 3, "/api/auth/sign-in/email", ip)
	for i, s := range got {
		if s != 401 {
			t.Fatalf("attempt %d = %d, want 401 (under the limit)", i+1, s)
		}
	}
	r := c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "rl@example.com", "password": "x"}, "X-Forwarded-For", ip)
	if r.Status != 429 || string(r.Raw) != `{"message":"Too many requests. Please try again later."}` {
		t.Fatalf("4th sign-in in 10 s = %d %s, want 429 with Better-Auth's body", r.Status, r.Raw)
	}
	if ra, _ := strconv.Atoi(r.Header.Get("X-Retry-After")); ra < 1 || ra > 10 {
		t.Errorf("X-Retry-After = %q, want 1..10", r.Header.Get("X-Retry-After"))
	}
	// Spelling the path differently does not open a new budget.
	for _, variant := range []string{"/api/auth/sign-in/email/", "/api/auth//sign-in/email", "/API/AUTH/Sign-In/Email"} {
		if r := c.do("POST", variant, map[string]any{}, "X-Forwarded-For", ip); r.Status != 429 {
			t.Errorf("%s = %d, want 429", variant, r.Status)
		}
	}
	// Another address has its own budget; ordinary endpoints have the looser default.
	if r := c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "rl@example.com", "password": "x"}, "X-Forwarded-For", "203.0.113.9"); r.Status != 401 {
		t.Errorf("other address = %d, want 401", r.Status)
	}
	if r := c.do("GET", "/api/auth/get-session", nil, "X-Forwarded-For", ip); r.Status != 200 {
		t.Errorf("get-session from the limited address = %d", r.Status)
	}
}

func TestRateLimitMemory(t *testing.T) {
	checkRateLimitRules(t, web.NewMemoryRateLimitStore(), storetest.OpenSQLite(t))
}

func TestRateLimitDatabase(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		if err := st.EnsureRateLimitTable(context.Background()); err != nil {
			t.Fatal(err)
		}
		checkRateLimitRules(t, web.DatabaseRateLimitStore{St: st}, st)
	})
}

func TestRateLimitRedis(t *testing.T) {
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		t.Skip("TEST_REDIS_URL is not set")
	}
	r, err := store.OpenRedis(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checkRateLimitRules(t, web.RedisRateLimitStore{R: r}, storetest.OpenSQLite(t))
	checkRateLimitWindow(t, storetest.OpenSQLite(t), web.RedisRateLimitStore{R: r})
}

// IPv6 clients share a bucket per /64, so rotating the interface id does not escape the limit.
func TestRateLimitGroupsIPv6By64(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t), rateLimited(web.NewMemoryRateLimitStore()))
	c := e.client()
	for i := 1; i <= 3; i++ {
		c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "v6@example.com", "password": "x"}, "X-Forwarded-For", "2001:db8:1:2::"+strconv.Itoa(i))
	}
	if r := c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "v6@example.com", "password": "x"}, "X-Forwarded-For", "2001:db8:1:2:ffff::9"); r.Status != 429 {
		t.Errorf("4th sign-in from the same /64 = %d, want 429", r.Status)
	}
	if r := c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "v6@example.com", "password": "x"}, "X-Forwarded-For", "2001:db8:1:3::1"); r.Status == 429 {
		t.Error("another /64 was limited")
	}
}

// Forwarded headers from an untrusted peer are ignored: a client cannot pick a fresh address.
func TestRateLimitIgnoresSpoofedForwardedFor(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t), func(o *envOptions) {
		o.web.RateLimit = web.RateLimitConfig{Enabled: true}
	})
	c := e.client()
	for i := 1; i <= 3; i++ {
		c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "sp@example.com", "password": "x"}, "X-Forwarded-For", "192.0.2."+strconv.Itoa(i))
	}
	if r := c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "sp@example.com", "password": "x"}, "X-Forwarded-For", "192.0.2.99"); r.Status != 429 {
		t.Errorf("spoofed X-Forwarded-For escaped the limit: %d", r.Status)
	}
}

func TestRateLimitCustomRules(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t), rateLimited(web.NewMemoryRateLimitStore(),
		web.RateRule{Path: "/sign-in/*", Off: true},
		web.RateRule{Path: "/ok", Window: time.Minute, Max: 2}))
	c := e.client()
	for _, s := range signInAttempts(c, 5, "/api/auth/sign-in/email", "198.51.100.77") {
		if s == 429 {
			t.Fatal("a path whose rule is off was limited")
		}
	}
	c.do("GET", "/api/auth/ok", nil)
	c.do("GET", "/api/auth/ok", nil)
	if r := c.do("GET", "/api/auth/ok", nil); r.Status != 429 {
		t.Errorf("3rd /ok with max 2 = %d", r.Status)
	}
}
