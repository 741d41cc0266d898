package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"authserver/auth/multisession"
	"authserver/auth/onetimetoken"
	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store"
	"authserver/store/storetest"
)

// multiEnv serves the multi-session plugin with at most max cookies per browser, then the other
// plugins given.
func multiEnv(t *testing.T, st *store.Store, max int, others ...plugin.Plugin) *env {
	t.Helper()
	ps := append([]plugin.Plugin{multisession.New(multisession.Config{MaximumSessions: max, SessionExpiresIn: 7 * 24 * time.Hour})}, others...)
	if err := plugin.Install(context.Background(), st, ps); err != nil {
		t.Fatalf("plugin.Install: %v", err)
	}
	return newEnv(t, st, func(o *envOptions) { o.auth.Plugins = ps })
}

const sessionCookie = "better-auth.session_token"

func multiCookie(token string) string { return sessionCookie + "_multi-" + strings.ToLower(token) }

// signUpToken signs c up as email and returns the user's id and session token.
func signUpToken(t *testing.T, c *client, email string) (id, token string) {
	t.Helper()
	r := signUp(t, c, email, "password1234")
	token, _ = r.JSON["token"].(string)
	u, _ := r.JSON["user"].(map[string]any)
	id, _ = u["id"].(string)
	if token == "" || id == "" {
		t.Fatalf("sign-up answer %s", r.Raw)
	}
	return id, token
}

// listedUsers lists the browser's device sessions as "email:token" pairs, in the answer's order.
func listedUsers(t *testing.T, c *client) []string {
	t.Helper()
	r := c.do("GET", "/api/auth/multi-session/list-device-sessions", nil)
	expect(t, r, 200, "")
	if r.Array == nil {
		t.Fatalf("list answer %s, want an array", r.Raw)
	}
	var out []string
	for _, it := range r.Array {
		m, _ := it.(map[string]any)
		s, _ := m["session"].(map[string]any)
		u, _ := m["user"].(map[string]any)
		if s["userId"] != u["id"] {
			t.Fatalf("list item %v: session of another user", m)
		}
		out = append(out, u["email"].(string)+":"+s["token"].(string))
	}
	return out
}

func sessionEmail(t *testing.T, c *client) string {
	t.Helper()
	r := c.do("GET", "/api/auth/get-session", nil)
	expect(t, r, 200, "")
	if r.JSON == nil {
		return ""
	}
	u, _ := r.JSON["user"].(map[string]any)
	e, _ := u["email"].(string)
	return e
}

// Two people sign in in one browser: each sign-in sets a signed multi cookie with the session
// cookie's attributes, the list shows both, set-active switches the session cookie, revoking the
// other one leaves the active one, revoking the active one signs the browser out.
func TestMultiSessionTwoUsersOneBrowser(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := multiEnv(t, st, multisession.DefaultMaximumSessions)
		c := e.client()
		r := signUp(t, c, "alice@example.com", "password1234")
		alice, _ := r.JSON["token"].(string)
		want := multiCookie(alice) + "=" + session.EncodeURIComponent(session.Sign([]byte(testSecret), alice)) + "; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"
		if got := r.setCookies()[multiCookie(alice)]; got != want {
			t.Fatalf("multi cookie = %q, want %q", got, want)
		}
		_, bob := signUpToken(t, c, "bob@example.com")
		if got := listedUsers(t, c); strings.Join(got, ",") != "alice@example.com:"+alice+",bob@example.com:"+bob {
			t.Fatalf("list = %v", got)
		}
		if sessionEmail(t, c) != "bob@example.com" {
			t.Fatal("the last sign-in is not the active session")
		}

		r = c.do("POST", "/api/auth/multi-session/set-active", map[string]any{"sessionToken": alice})
		expect(t, r, 200, "")
		s, _ := r.JSON["session"].(map[string]any)
		u, _ := r.JSON["user"].(map[string]any)
		if s["token"] != alice || u["email"] != "alice@example.com" {
			t.Fatalf("set-active answer %s", r.Raw)
		}
		if !strings.HasPrefix(r.setCookies()[sessionCookie], sessionCookie+"="+session.EncodeURIComponent(session.Sign([]byte(testSecret), alice))+"; Max-Age=604800;") {
			t.Fatalf("set-active session cookie %q", r.setCookies()[sessionCookie])
		}
		if sessionEmail(t, c) != "alice@example.com" {
			t.Fatal("set-active did not switch the session")
		}

		// Revoking bob, who is not active: his session and cookie go, alice stays.
		r = c.do("POST", "/api/auth/multi-session/revoke", map[string]any{"sessionToken": bob})
		expect(t, r, 200, "")
		if string(r.Raw) != `{"status":true}` || !strings.HasPrefix(r.setCookies()[multiCookie(bob)], multiCookie(bob)+"=; Max-Age=0;") {
			t.Fatalf("revoke answer %s, cookies %v", r.Raw, r.Header.Values("Set-Cookie"))
		}
		if _, ok := r.setCookies()[sessionCookie]; ok {
			t.Fatal("revoking another session touched the session cookie")
		}
		if got := listedUsers(t, c); strings.Join(got, ",") != "alice@example.com:"+alice {
			t.Fatalf("list after revoke = %v", got)
		}
		if _, _, err := st.SessionByToken(context.Background(), bob); err == nil {
			t.Fatal("bob's session survived its revocation")
		}

		// Revoking the active session with no other left clears the session cookie.
		r = c.do("POST", "/api/auth/multi-session/revoke", map[string]any{"sessionToken": alice})
		expect(t, r, 200, "")
		if !strings.HasPrefix(r.setCookies()[sessionCookie], sessionCookie+"=; Max-Age=0;") {
			t.Fatalf("revoking the last session: cookies %v", r.Header.Values("Set-Cookie"))
		}
		if sessionEmail(t, c) != "" || len(listedUsers(t, c)) != 0 {
			t.Fatal("the browser is still signed in")
		}
	})
}

// Revoking the active session switches to the browser's next live session.
func TestMultiSessionRevokeActiveSwitches(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := multiEnv(t, st, multisession.DefaultMaximumSessions)
		c := e.client()
		_, alice := signUpToken(t, c, "alice@example.com")
		_, bob := signUpToken(t, c, "bob@example.com")
		r := c.do("POST", "/api/auth/multi-session/revoke", map[string]any{"sessionToken": bob})
		expect(t, r, 200, "")
		if !strings.HasPrefix(r.setCookies()[sessionCookie], sessionCookie+"="+session.EncodeURIComponent(session.Sign([]byte(testSecret), alice))) {
			t.Fatalf("revoking the active session: cookies %v", r.Header.Values("Set-Cookie"))
		}
		if sessionEmail(t, c) != "alice@example.com" {
			t.Fatal("the browser did not switch to alice")
		}
	})
}

// Signing in again as someone the browser already holds replaces that person's older session;
// once the browser holds the maximum, new sign-ins get no multi cookie.
func TestMultiSessionSameUserAndLimit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := multiEnv(t, st, 2)
		c := e.client()
		aliceID, first := signUpToken(t, c, "alice@example.com")
		r := c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "alice@example.com", "password": "password1234"})
		expect(t, r, 200, "")
		second, _ := r.JSON["token"].(string)
		if !strings.HasPrefix(r.setCookies()[multiCookie(first)], multiCookie(first)+"=; Max-Age=0;") {
			t.Fatalf("the older multi cookie was not expired: %v", r.Header.Values("Set-Cookie"))
		}
		if _, ok := r.setCookies()[multiCookie(second)]; !ok {
			t.Fatalf("no multi cookie for the new session: %v", r.Header.Values("Set-Cookie"))
		}
		if n := e.sessionCount(aliceID); n != 1 {
			t.Fatalf("alice has %d sessions, want the new one only", n)
		}

		_, bob := signUpToken(t, c, "bob@example.com")
		r = signUp(t, c, "carol@example.com", "password1234")
		carol, _ := r.JSON["token"].(string)
		if _, ok := r.setCookies()[multiCookie(carol)]; ok {
			t.Fatal("a third multi cookie beyond the maximum of 2")
		}
		if got := listedUsers(t, c); strings.Join(got, ",") != "alice@example.com:"+second+",bob@example.com:"+bob {
			t.Fatalf("list = %v", got)
		}
		// carol is signed in but cannot be switched to by token.
		expect(t, c.do("POST", "/api/auth/multi-session/set-active", map[string]any{"sessionToken": carol}), 401, "INVALID_SESSION_TOKEN")
	})
}

// Sign-out expires every multi cookie and deletes every session the browser held.
func TestMultiSessionSignOut(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := multiEnv(t, st, multisession.DefaultMaximumSessions)
		c := e.client()
		aliceID, alice := signUpToken(t, c, "alice@example.com")
		bobID, bob := signUpToken(t, c, "bob@example.com")
		r := c.do("POST", "/api/auth/sign-out", nil)
		expect(t, r, 200, "")
		for _, tok := range []string{alice, bob} {
			if !strings.HasPrefix(r.setCookies()[multiCookie(tok)], multiCookie(tok)+"=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax") {
				t.Fatalf("sign-out cookies %v", r.Header.Values("Set-Cookie"))
			}
		}
		if e.sessionCount(aliceID)+e.sessionCount(bobID) != 0 {
			t.Fatal("sessions survived sign-out")
		}
		if len(listedUsers(t, c)) != 0 {
			t.Fatal("the list is not empty after sign-out")
		}
	})
}

// Tokens the browser holds no valid multi cookie for are refused: unknown, another browser's,
// a forged cookie, a cookie whose session is gone (which is then expired); revoke needs a session.
func TestMultiSessionRefusals(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := multiEnv(t, st, multisession.DefaultMaximumSessions)
		c := e.client()
		_, alice := signUpToken(t, c, "alice@example.com")
		other := e.client()
		_, mallory := signUpToken(t, other, "mallory@example.com")

		for _, tok := range []string{"unknown", mallory, strings.ToUpper(mallory)} {
			expect(t, c.do("POST", "/api/auth/multi-session/set-active", map[string]any{"sessionToken": tok}), 401, "INVALID_SESSION_TOKEN")
			expect(t, c.do("POST", "/api/auth/multi-session/revoke", map[string]any{"sessionToken": tok}), 401, "INVALID_SESSION_TOKEN")
		}
		if _, _, err := st.SessionByToken(context.Background(), mallory); err != nil {
			t.Fatal("a refused revoke deleted another browser's session")
		}
		// A multi cookie for mallory's token with a forged signature.
		r := e.client().do("POST", "/api/auth/multi-session/set-active", map[string]any{"sessionToken": mallory},
			"Cookie", multiCookie(mallory)+"="+mallory+".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
		expect(t, r, 401, "INVALID_SESSION_TOKEN")

		expect(t, c.do("POST", "/api/auth/multi-session/set-active", map[string]any{}), 400, "VALIDATION_ERROR")
		expect(t, c.do("POST", "/api/auth/multi-session/set-active", map[string]any{"sessionToken": 5}), 400, "VALIDATION_ERROR")
		expect(t, e.client().do("POST", "/api/auth/multi-session/revoke", map[string]any{"sessionToken": alice}), 401, "UNAUTHORIZED")

		// Alice's session is deleted behind the browser's back: set-active refuses it and expires
		// its multi cookie.
		if err := e.sessions.Revoke(context.Background(), alice); err != nil {
			t.Fatal(err)
		}
		r = c.do("POST", "/api/auth/multi-session/set-active", map[string]any{"sessionToken": alice})
		expect(t, r, 401, "INVALID_SESSION_TOKEN")
		if !strings.HasPrefix(r.setCookies()[multiCookie(alice)], multiCookie(alice)+"=; Max-Age=0;") {
			t.Fatalf("the stale multi cookie was not expired: %v", r.Header.Values("Set-Cookie"))
		}
		if len(listedUsers(t, c)) != 0 {
			t.Fatal("a deleted session is listed")
		}
	})
}

// A one-time token hands another browser an existing session; that browser gets the session's
// multi cookie too, as Better-Auth's after-hook gives one to every session cookie it sets.
func TestMultiSessionOneTimeTokenHandsOverTheCookie(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := multiEnv(t, st, multisession.DefaultMaximumSessions, onetimetoken.New(onetimetoken.Config{}))
		c := e.client()
		_, alice := signUpToken(t, c, "alice@example.com")
		g := c.do("GET", "/api/auth/one-time-token/generate", nil)
		expect(t, g, 200, "")
		other := e.client()
		r := other.do("POST", "/api/auth/one-time-token/verify", map[string]any{"token": g.JSON["token"]})
		expect(t, r, 200, "")
		if _, ok := r.setCookies()[multiCookie(alice)]; !ok {
			t.Fatalf("verify set no multi cookie: %v", r.Header.Values("Set-Cookie"))
		}
		if got := listedUsers(t, other); strings.Join(got, ",") != "alice@example.com:"+alice {
			t.Fatalf("the other browser lists %v", got)
		}
		// Switching to the session the browser already holds adds no cookie.
		r = other.do("POST", "/api/auth/multi-session/set-active", map[string]any{"sessionToken": alice})
		expect(t, r, 200, "")
		if _, ok := r.setCookies()[multiCookie(alice)]; ok {
			t.Fatalf("set-active set the multi cookie again: %v", r.Header.Values("Set-Cookie"))
		}
	})
}

// A browser whose active session has no multi cookie (here: the maximum was reached when it
// signed in) gets one when the session is next refreshed, if the maximum allows it then.
func TestMultiSessionRefreshAddsTheCookie(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := multiEnv(t, st, 1)
		c := e.client()
		_, alice := signUpToken(t, c, "alice@example.com")
		r := signUp(t, c, "bob@example.com", "password1234")
		bob, _ := r.JSON["token"].(string)
		if _, ok := r.setCookies()[multiCookie(bob)]; ok {
			t.Fatal("bob got a multi cookie beyond the maximum of 1")
		}
		expect(t, c.do("POST", "/api/auth/multi-session/revoke", map[string]any{"sessionToken": alice}), 200, "")
		r = c.do("GET", "/api/auth/get-session", nil)
		if _, ok := r.setCookies()[multiCookie(bob)]; ok {
			t.Fatal("a get-session that does not refresh set a multi cookie")
		}
		// Through an endpoint's session check (list-accounts)…
		e.clock.Advance(25 * time.Hour)
		r = c.do("GET", "/api/auth/list-accounts", nil)
		expect(t, r, 200, "")
		if _, ok := r.setCookies()[sessionCookie]; !ok {
			t.Fatal("list-accounts did not refresh the session")
		}
		if _, ok := r.setCookies()[multiCookie(bob)]; !ok {
			t.Fatalf("the refresh set no multi cookie: %v", r.Header.Values("Set-Cookie"))
		}
		if got := listedUsers(t, c); strings.Join(got, ",") != "bob@example.com:"+bob {
			t.Fatalf("list = %v", got)
		}
		// …and through get-session, once the browser has lost the cookie again.
		c.jar.SetCookies(mustParse(t, e.srv.URL), []*http.Cookie{{Name: multiCookie(bob), MaxAge: -1}})
		e.clock.Advance(25 * time.Hour)
		r = c.do("GET", "/api/auth/get-session", nil)
		expect(t, r, 200, "")
		if _, ok := r.setCookies()[multiCookie(bob)]; !ok {
			t.Fatalf("the get-session refresh set no multi cookie: %v", r.Header.Values("Set-Cookie"))
		}
		// A refresh of a session whose cookie the browser holds sets it not again.
		e.clock.Advance(25 * time.Hour)
		r = c.do("GET", "/api/auth/get-session", nil)
		if _, ok := r.setCookies()[sessionCookie]; !ok {
			t.Fatal("get-session did not refresh the session")
		}
		if _, ok := r.setCookies()[multiCookie(bob)]; ok {
			t.Fatal("a refresh re-set the multi cookie the browser holds")
		}
	})
}
