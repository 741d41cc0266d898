package web_test

import (
	"context"
	"testing"
	"time"

	"authserver/store"
	"authserver/store/storetest"
)

// SESSION_MAX_AGE caps a session's life from its creation: sliding refreshes never carry the
// expiry past createdAt+max age, and at that moment the session is gone for get-session and
// /content alike, even when it was just served from the in-process cache, and its row is deleted.
func TestSessionMaxAge(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		const maxAge = 10 * 24 * time.Hour // beyond SESSION_EXPIRES_IN (7 days), so refreshes meet the cap
		ce := newContentEnv(t, st, 50, func(o *envOptions) { o.session.MaxAge = maxAge })
		c := ce.client()
		token := signUp(t, c, "capped@example.com", "password123").JSON["token"].(string)
		g := c.do("GET", "/api/auth/get-session", nil)
		created, _ := time.Parse(time.RFC3339, g.JSON["session"].(map[string]any)["createdAt"].(string))
		limit := created.Add(maxAge)
		expiresAt := func(r *response) time.Time {
			t.Helper()
			if r.JSON == nil {
				t.Fatalf("get-session = %s, want a session", r.Raw)
			}
			at, _ := time.Parse(time.RFC3339, r.JSON["session"].(map[string]any)["expiresAt"].(string))
			return at
		}
		// Used daily, the session slides until it meets the cap and never past it; once capped, a
		// use writes nothing (no refresh, no cookie).
		last := expiresAt(g)
		for day := 1; day <= 9; day++ {
			ce.clock.Advance(25 * time.Hour)
			r := c.do("GET", "/api/auth/get-session", nil)
			got := expiresAt(r)
			if got.After(limit) {
				t.Errorf("day %d: refresh moved expiresAt to %v, past the cap %v", day, got, limit)
			}
			if sc := r.Header.Values("Set-Cookie"); last.Equal(limit) && len(sc) != 0 {
				t.Errorf("day %d: a capped session was refreshed again: %v", day, sc)
			}
			last = got
		}
		if !last.Equal(limit) {
			t.Errorf("after nine days of use expiresAt = %v, want the cap %v", last, limit)
		}
		// A row whose expiry lies past the cap (written before SESSION_MAX_AGE was set, or by
		// Better-Auth) is held to it all the same.
		ctx := context.Background()
		if wrote, err := st.ExtendSession(ctx, token, store.NewTime(limit), store.NewTime(limit.Add(7*24*time.Hour)), store.NewTime(ce.clock.Now())); !wrote || err != nil {
			t.Fatalf("moving the expiry past the cap: %v, %v", wrote, err)
		}
		// Just before the cap, served twice so the in-process cache holds it.
		ce.clock.Advance(limit.Sub(ce.clock.Now()) - 10*time.Second)
		for i := 0; i < 2; i++ {
			expect(t, c.do("GET", "/content/feed", nil), 200, "")
		}
		other := ce.client()
		expect(t, other.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "capped@example.com", "password": "password123"}), 200, "")
		ce.clock.Advance(20 * time.Second)
		// Listed by another session before anything touched it, the old session is already gone.
		if l := other.do("GET", "/api/auth/list-sessions", nil); l.Status != 200 || len(l.Array) != 1 {
			t.Errorf("list-sessions past the first session's max age = %d %s, want only the new session", l.Status, l.Raw)
		}
		expect(t, c.do("GET", "/content/feed", nil, "Authorization", "Bearer "+token), 401, "UNAUTHORIZED")
		if r := c.do("GET", "/api/auth/get-session", nil); string(r.Raw) != "null" {
			t.Errorf("get-session past max age = %s, want null", r.Raw)
		}
		if _, _, err := st.SessionByToken(ctx, token); err == nil {
			t.Error("the session row outlived its max age")
		}
	})
}
