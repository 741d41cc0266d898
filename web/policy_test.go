package web_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"authserver/auth"
	"authserver/store"
	"authserver/store/storetest"
	"authserver/web"
)

// Lockout (off by default) refuses an email after repeated failures, whether or not an account
// exists for it, so the refusal reveals nothing; a success clears the count.
func TestLockoutAfterRepeatedFailures(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t), func(o *envOptions) {
		o.auth.Lockout = auth.LockoutConfig{Enabled: true, Threshold: 3, Base: time.Minute, Max: time.Hour}
	})
	c := e.client()
	signUp(t, c, "lock@example.com", "password123")
	for _, email := range []string{"lock@example.com", "ghost@example.com"} {
		for i := 0; i < 3; i++ {
			expect(t, c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": "wrong-password"}), 401, "INVALID_EMAIL_OR_PASSWORD")
		}
		r := c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": "password123"})
		expect(t, r, 429, "TOO_MANY_ATTEMPTS")
		if ra, _ := strconv.Atoi(r.Header.Get("X-Retry-After")); ra < 1 || ra > 60 {
			t.Errorf("%s: X-Retry-After = %q", email, r.Header.Get("X-Retry-After"))
		}
	}
	e.clock.Advance(61 * time.Second)
	expect(t, c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "lock@example.com", "password": "password123"}), 200, "")
	// The success cleared the count: one more failure does not lock again.
	expect(t, c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "lock@example.com", "password": "nope-nope"}), 401, "")
	expect(t, c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "lock@example.com", "password": "password123"}), 200, "")
}

// With its counters in the database (what replicas share), the lockout gives the same answers,
// on the test clock, on both databases.
func TestLockoutCountedInTheDatabase(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		if err := st.EnsureRateLimitTable(context.Background()); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, st, func(o *envOptions) {
			o.auth.Lockout = auth.LockoutConfig{Enabled: true, Threshold: 3, Base: time.Minute, Max: time.Hour,
				Store: web.DatabaseLockoutStore{St: st}}
		})
		c := e.client()
		signUp(t, c, "lock@example.com", "password123")
		for i := 0; i < 3; i++ {
			expect(t, c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "lock@example.com", "password": "wrong-password"}), 401, "INVALID_EMAIL_OR_PASSWORD")
		}
		r := c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "lock@example.com", "password": "password123"})
		expect(t, r, 429, "TOO_MANY_ATTEMPTS")
		if ra, _ := strconv.Atoi(r.Header.Get("X-Retry-After")); ra < 1 || ra > 60 {
			t.Errorf("X-Retry-After = %q", r.Header.Get("X-Retry-After"))
		}
		e.clock.Advance(61 * time.Second)
		expect(t, c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "lock@example.com", "password": "password123"}), 200, "")
		expect(t, c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "lock@example.com", "password": "nope-nope"}), 401, "")
		expect(t, c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "lock@example.com", "password": "password123"}), 200, "")
		// No e-mail address is written into the shared table.
		var n int
		if err := st.RawRow(context.Background(), &n, `select count(*) from "rateLimit" where "key" like '%example.com%'`); err != nil || n != 0 {
			t.Errorf("rateLimit rows naming the e-mail = %d, %v; want 0", n, err)
		}
	})
}

// brokenLockoutStore fails every call, as an unreachable Redis or database does.
type brokenLockoutStore struct{}

func (brokenLockoutStore) LockoutState(context.Context, string) (int, int64, error) {
	return 0, 0, errors.New("down")
}
func (brokenLockoutStore) LockoutFail(context.Context, string, int64, int64) (int, error) {
	return 0, errors.New("down")
}
func (brokenLockoutStore) LockoutClear(context.Context, string) error { return errors.New("down") }

// While the shared store fails, this process's counters stand in: the lockout still holds and
// nobody gets an error.
func TestLockoutStoreOutageFallsBackToTheProcess(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t), func(o *envOptions) {
		o.auth.Lockout = auth.LockoutConfig{Enabled: true, Threshold: 3, Base: time.Minute, Max: time.Hour, Store: brokenLockoutStore{}}
	})
	c := e.client()
	signUp(t, c, "lock@example.com", "password123")
	for i := 0; i < 3; i++ {
		expect(t, c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "lock@example.com", "password": "wrong-password"}), 401, "INVALID_EMAIL_OR_PASSWORD")
	}
	expect(t, c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "lock@example.com", "password": "password123"}), 429, "TOO_MANY_ATTEMPTS")
	e.clock.Advance(61 * time.Second)
	expect(t, c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "lock@example.com", "password": "password123"}), 200, "")
}

func TestCommonPasswordsRefusedWhenConfigured(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t), func(o *envOptions) { o.auth.RejectCommonPasswords = true })
	c := e.client()
	for _, pw := range []string{"password", "12345678", "Qwertyuiop", "iloveyou"} {
		expect(t, c.do("POST", "/api/auth/sign-up/email", map[string]any{"name": "C", "email": "common@example.com", "password": pw}), 400, "PASSWORD_COMPROMISED")
	}
	// No composition rules: a long passphrase of lower-case words is fine.
	signUp(t, c, "common@example.com", "correct horse battery staple")
	expect(t, c.do("POST", "/api/auth/change-password", map[string]any{"currentPassword": "correct horse battery staple", "newPassword": "password1"}), 400, "PASSWORD_COMPROMISED")

	off := newEnv(t, storetest.OpenSQLite(t))
	signUp(t, off.client(), "plain@example.com", "password") // Better-Auth's default accepts it
}
