package web_test

import (
	"context"
	"testing"

	"authserver/auth"
	"authserver/store"
	"authserver/store/storetest"
)

// With the cookie cache on, session_data answers get-session only (the documented trade-off).
// Every write and every /content call reads the session from the database or the in-process
// cache, which revocations reach at once: a revoked session, or the session of a deleted user,
// gets 401 UNAUTHORIZED there, and nothing is written.
func TestCookieCacheServesOnlyGetSession(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ce := newContentEnv(t, st, 50, mailOptions(t, "smtp+insecure://127.0.0.1:1", nil, func(c *auth.Config) {
			c.Email.DeleteUserEnabled = true
		}), func(o *envOptions) { o.session.CookieCache = true })
		a, uid := ce.reader(t, "cc-writer@example.com")
		b := ce.client()
		expect(t, b.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "cc-writer@example.com", "password": "password123"}), 200, "")
		if b.cookieValue("better-auth.session_data") == "" {
			t.Fatal("sign-in set no session_data cookie")
		}
		for i := 0; i < 2; i++ { // warm the in-process cache, which must not matter either
			expect(t, b.do("GET", "/content/profile", nil), 200, "")
		}
		bToken := b.do("GET", "/api/auth/get-session", nil).JSON["session"].(map[string]any)["token"].(string)
		expect(t, a.do("POST", "/api/auth/revoke-session", map[string]any{"token": bToken}), 200, "")

		// The trade-off the README states: get-session still answers from the cookie.
		if g := b.do("GET", "/api/auth/get-session", nil); g.JSON == nil {
			t.Errorf("get-session no longer answers from the cookie cache: %s", g.Raw)
		}
		writes := []struct {
			method, path string
			body         map[string]any
		}{
			{"PUT", "/content/profile", map[string]any{"goals": "revoked"}},
			{"GET", "/content/profile", nil},
			{"GET", "/content/feed", nil},
			{"PUT", "/content/items/a/progress", map[string]any{"percent": 10}},
			{"PUT", "/content/items/a/bookmark", nil},
			{"POST", "/api/auth/update-user", map[string]any{"name": "Renamed by a revoked session"}},
			{"GET", "/api/auth/list-accounts", nil},
			{"POST", "/api/auth/update-session", map[string]any{"x": 1}},
		}
		for _, w := range writes {
			r := b.do(w.method, w.path, w.body)
			expect(t, r, 401, "UNAUTHORIZED")
			if r.JSON["message"] != "Unauthorized" {
				t.Errorf("%s %s message = %v", w.method, w.path, r.JSON["message"])
			}
		}
		if u, err := st.UserByID(context.Background(), uid); err != nil || u.Name != "Test User" {
			t.Errorf("user after the revoked session's writes = %+v, %v", u, err)
		}
		if n, _ := st.CountContentRows(context.Background(), uid); n != 0 {
			t.Errorf("the revoked session wrote %d content rows", n)
		}

		// A deleted user's other browser: 401 on every write, never a 500.
		c, _ := ce.reader(t, "cc-deleted@example.com")
		d := ce.client()
		expect(t, d.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "cc-deleted@example.com", "password": "password123"}), 200, "")
		expect(t, d.do("GET", "/content/profile", nil), 200, "")
		expect(t, c.do("POST", "/api/auth/delete-user", map[string]any{"password": "password123"}), 200, "")
		for _, w := range writes {
			expect(t, d.do(w.method, w.path, w.body), 401, "UNAUTHORIZED")
		}
	})
}

// A write that passed the session check while the user was being deleted finds no user row: a
// 401 UNAUTHORIZED, as if the check had come a moment later, never a 500 from the foreign key.
// The in-process cache hears of no deletion made straight in the database here (no listener),
// which makes the race deterministic.
func TestWriteRacingUserDeletion(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ce := newContentEnv(t, st, 50)
		c, uid := ce.reader(t, "race@example.com")
		for i := 0; i < 2; i++ { // cached from its second read
			expect(t, c.do("GET", "/content/profile", nil), 200, "")
		}
		if err := st.ExecAdmin(context.Background(), `delete from "user" where "id" = '`+uid+`'`); err != nil {
			t.Fatal(err)
		}
		for _, w := range []struct {
			method, path string
			body         map[string]any
		}{
			{"PUT", "/content/profile", map[string]any{"goals": "too late"}},
			{"PUT", "/content/items/a/progress", map[string]any{"percent": 10}},
			{"PUT", "/content/items/a/bookmark", nil},
			{"POST", "/api/auth/update-user", map[string]any{"name": "too late"}},
		} {
			r := c.do(w.method, w.path, w.body)
			if r.Status != 401 || r.code() != "UNAUTHORIZED" {
				t.Errorf("%s %s after the user was deleted = %d %s, want 401 UNAUTHORIZED", w.method, w.path, r.Status, r.Raw)
			}
		}
	})
}
