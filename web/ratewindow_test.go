package web_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"authserver/store"
	"authserver/store/storetest"
	"authserver/web"
)

// checkRateLimitWindow drives one key with a settable clock: max requests pass, the next is 429
// with the seconds left, and once a window has passed since the last allowed request the budget
// is whole again (Better-Auth's rule: the window slides from the most recent allowed request).
// TestRateLimitRedis runs it on Redis.
func checkRateLimitWindow(t *testing.T, db *store.Store, rs web.RateLimitStore) {
	t.Helper()
	clk := &clock{now: time.Now().UTC().Truncate(time.Millisecond)}
	e := newEnv(t, db, rateLimited(rs, web.RateRule{Path: "/ok", Window: 10 * time.Second, Max: 3}), func(o *envOptions) {
		o.web.RateLimit.Now = clk.Now
	})
	c := e.client()
	// A fresh address per run, so counters a shared store (Redis) kept from other runs do not count.
	ip := "198.51.100." + strconv.Itoa(int(time.Now().UnixNano()%250)+1)
	step := func(advance time.Duration, wantStatus int, wantRetry string) {
		t.Helper()
		clk.Advance(advance)
		r := c.do("GET", "/api/auth/ok", nil, "X-Forwarded-For", ip)
		if r.Status != wantStatus || r.Header.Get("X-Retry-After") != wantRetry {
			t.Fatalf("at +%v: %d X-Retry-After %q, want %d %q", advance, r.Status, r.Header.Get("X-Retry-After"), wantStatus, wantRetry)
		}
	}
	step(0, 200, "")
	step(time.Second, 200, "")
	step(time.Second, 200, "") // the third and last allowed: the window now runs from here
	step(time.Second, 429, "9")
	step(9*time.Second-time.Millisecond, 429, "1") // one millisecond short of the window
	step(time.Millisecond, 200, "")                // the window has passed: counting restarts
	step(0, 200, "")
	step(0, 200, "")
	step(0, 429, "10")
}

func TestRateLimitWindowResetsMemory(t *testing.T) {
	checkRateLimitWindow(t, storetest.OpenSQLite(t), web.NewMemoryRateLimitStore())
}

func TestRateLimitWindowResetsDatabase(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		if err := st.EnsureRateLimitTable(context.Background()); err != nil {
			t.Fatal(err)
		}
		checkRateLimitWindow(t, st, web.DatabaseRateLimitStore{St: st})
	})
}
