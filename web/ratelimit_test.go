package web_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"authserver/auth/magiclink"
	"authserver/auth/plugin"
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

// TestRateLimitPasswordChecksPerUser: an attacker holding a stolen session cannot guess the
// password through the signed-in endpoints that check it. verify-password, change-password and
// delete-user with a password share one budget per user (3 per 10 s) that rotating client
// addresses does not renew, on top of the per-address rule; other users are not affected.
func TestRateLimitPasswordChecksPerUser(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		if err := st.EnsureRateLimitTable(context.Background()); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, st, rateLimited(web.DatabaseRateLimitStore{St: st}), func(o *envOptions) { o.auth.Email.DeleteUserEnabled = true })
		// Each sign-up comes from its own address: sign-up has its own limit of 3.
		signUpFrom := func(c *client, email, addr string) {
			t.Helper()
			expect(t, c.do("POST", "/api/auth/sign-up/email", map[string]any{"name": "N", "email": email, "password": secPassword}, "X-Forwarded-For", addr), 200, "")
		}
		victim := e.client()
		signUpFrom(victim, "victim@example.com", "198.51.100.1")
		ip := func(i int) string { return "203.0.113." + strconv.Itoa(i) }
		wrong := map[string]any{"password": "wrong-password-1"}
		for i := 1; i <= 3; i++ {
			r := victim.do("POST", "/api/auth/verify-password", wrong, "X-Forwarded-For", ip(i))
			expect(t, r, 400, "INVALID_PASSWORD")
		}
		for i, g := range []struct {
			path string
			body map[string]any
		}{
			{"/api/auth/verify-password", wrong},
			{"/api/auth/verify-password", map[string]any{"password": secPassword}},
			{"/api/auth/change-password", map[string]any{"currentPassword": "wrong-password-1", "newPassword": "another-secret-1"}},
			{"/api/auth/delete-user", wrong},
		} {
			r := victim.do("POST", g.path, g.body, "X-Forwarded-For", ip(10+i))
			if r.Status != 429 || string(r.Raw) != `{"message":"Too many requests. Please try again later."}` {
				t.Errorf("%s from a fresh address after 3 guesses = %d %s, want 429", g.path, r.Status, r.Raw)
			}
			if ra, _ := strconv.Atoi(r.Header.Get("X-Retry-After")); ra < 1 || ra > 10 {
				t.Errorf("%s: X-Retry-After = %q, want 1..10", g.path, r.Header.Get("X-Retry-After"))
			}
		}
		// The session itself still works, and so does everyone else.
		if r := victim.do("GET", "/api/auth/get-session", nil, "X-Forwarded-For", ip(20)); r.Status != 200 || r.JSON == nil {
			t.Errorf("get-session of the limited user = %d %s", r.Status, r.Raw)
		}
		other := e.client()
		signUpFrom(other, "other@example.com", "198.51.100.2")
		expect(t, other.do("POST", "/api/auth/verify-password", map[string]any{"password": secPassword}, "X-Forwarded-For", ip(21)), 200, "")

		// Per address as well: one address guessing for many users is stopped at 3 too.
		shared := "192.0.2.50"
		for i := 1; i <= 4; i++ {
			c := e.client()
			signUpFrom(c, "u"+strconv.Itoa(i)+"@example.com", "198.51.100."+strconv.Itoa(10+i))
			r := c.do("POST", "/api/auth/delete-user", wrong, "X-Forwarded-For", shared)
			if want := map[bool]int{true: 400, false: 429}[i <= 3]; r.Status != want {
				t.Errorf("delete-user %d from one address = %d %s, want %d", i, r.Status, r.Raw, want)
			}
		}
	})
}

// TestRateLimitOffLeavesPasswordChecksAlone: with rate limiting off (the default outside
// production, as in Better-Auth) no password check is limited either, so clients and test suites
// see exactly what Better-Auth answers.
func TestRateLimitOffLeavesPasswordChecksAlone(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.client()
	signUp(t, c, "free@example.com", secPassword)
	for i := 0; i < 6; i++ {
		expect(t, c.do("POST", "/api/auth/verify-password", map[string]any{"password": "wrong-password-1"}), 400, "INVALID_PASSWORD")
	}
}

// The per-recipient cap: messages to one address, from any client address and through any
// endpoint that sends on request, stop at RateLimitConfig.SendsPerHour until an hour after the
// last one; an unknown address is capped the same way, and other addresses are untouched.
func TestRateLimitSendsPerRecipient(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
		e := newEnv(t, st, rateLimited(web.NewMemoryRateLimitStore()), func(o *envOptions) {
			o.web.RateLimit.SendsPerHour = 3
			o.web.RateLimit.Now = func() time.Time { return now }
		})
		signUp(t, e.client(), "victim@example.com", "password123")
		c := e.client()
		addr := 0
		send := func(path, email string) *response {
			addr++ // a new client address each time: the per-address rules never bite
			body := map[string]any{"email": email}
			return c.do("POST", path, body, "X-Forwarded-For", "198.51.100."+strconv.Itoa(addr))
		}
		for _, who := range []string{"victim@example.com", "nobody@example.com"} {
			for i := 0; i < 3; i++ {
				expect(t, send("/api/auth/request-password-reset", who), 200, "")
			}
			for _, path := range []string{"/api/auth/request-password-reset", "/api/auth/send-verification-email"} {
				r := send(path, strings.ToUpper(who))
				if r.Status != 429 || string(r.Raw) != `{"message":"Too many requests. Please try again later."}` {
					t.Errorf("%s to %s after 3 messages = %d %s, want 429", path, who, r.Status, r.Raw)
				}
			}
		}
		expect(t, send("/api/auth/request-password-reset", "other@example.com"), 200, "")
		now = now.Add(time.Hour + time.Second)
		expect(t, send("/api/auth/request-password-reset", "victim@example.com"), 200, "")
	})
}

// A plugin's rate-limit rule replaces the built-in one for its paths (magic-link: 5 per minute
// where /sign-in/* would allow 3 per 10 s), and the operator's rule still beats the plugin's.
func TestRateLimitPluginRules(t *testing.T) {
	st := storetest.OpenSQLite(t)
	cfg, err := magiclink.LoadConfig(func(string) string { return "" }, testBaseURL+"/api/auth")
	if err != nil {
		t.Fatal(err)
	}
	ps := []plugin.Plugin{magiclink.New(cfg)}
	if err := plugin.Install(context.Background(), st, ps); err != nil {
		t.Fatal(err)
	}
	send := func(e *env, n int) []int {
		var out []int
		for i := 0; i < n; i++ {
			r := e.client().do("POST", "/api/auth/sign-in/magic-link", map[string]any{"email": "ml" + strconv.Itoa(i) + "@example.com"}, "X-Forwarded-For", "198.51.100.7")
			out = append(out, r.Status)
		}
		return out
	}
	e := newEnv(t, st, rateLimited(web.NewMemoryRateLimitStore()), func(o *envOptions) { o.auth.Plugins = ps })
	if got := fmt.Sprint(send(e, 6)); got != "[200 200 200 200 200 429]" {
		t.Errorf("magic-link requests from one address: %s, want five allowed (the plugin's 5 per minute) and the sixth refused", got)
	}
	e = newEnv(t, st, rateLimited(web.NewMemoryRateLimitStore(), web.RateRule{Path: "/sign-in/magic-link", Window: time.Minute, Max: 1}),
		func(o *envOptions) { o.auth.Plugins = ps })
	if got := fmt.Sprint(send(e, 2)); got != "[200 429]" {
		t.Errorf("with an operator's rule of 1: %s, want it to win over the plugin's", got)
	}
}
