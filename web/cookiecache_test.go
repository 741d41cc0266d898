package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"authserver/store"
	"authserver/store/storetest"
)

// With Better-Auth's cookie cache on, get-session answers from the signed session_data cookie
// without the database, which is also its trade-off: a session revoked behind the cookie's back
// stays usable there until the cookie expires. Sensitive endpoints and ?disableCookieCache always
// read the database.
func TestCookieCacheTradeOff(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, func(o *envOptions) {
			o.session.CookieCache = true
			o.session.DisableCache = true
		})
		c := e.client()
		r := signUp(t, c, "cc@example.com", "password123")
		if !strings.Contains(r.setCookies()["better-auth.session_data"], "Max-Age=300") {
			t.Fatalf("sign-up did not set the cookie cache: %v", r.Header.Values("Set-Cookie"))
		}
		if err := st.ExecAdmin(context.Background(), `delete from "session"`); err != nil {
			t.Fatal(err)
		}
		if g := c.do("GET", "/api/auth/get-session", nil); g.JSON == nil {
			t.Errorf("cookie cache did not answer get-session: %s", g.Raw)
		}
		if g := c.do("GET", "/api/auth/get-session?disableCookieCache=true", nil); string(g.Raw) != "null" {
			t.Errorf("disableCookieCache still used the cookie: %s", g.Raw)
		}
		c2 := e.client()
		signUp(t, c2, "cc2@example.com", "password123")
		_ = st.ExecAdmin(context.Background(), `delete from "session"`)
		expect(t, c2.do("POST", "/api/auth/revoke-sessions", map[string]any{}), 401, "UNAUTHORIZED")

		// After maxAge the cookie no longer answers.
		c3 := e.client()
		signUp(t, c3, "cc3@example.com", "password123")
		_ = st.ExecAdmin(context.Background(), `delete from "session"`)
		e.clock.Advance(301 * time.Second)
		if g := c3.do("GET", "/api/auth/get-session", nil); string(g.Raw) != "null" {
			t.Errorf("an expired cookie cache answered: %s", g.Raw)
		}
	})
}
