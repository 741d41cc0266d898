package web_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"authserver/auth/onetimetoken"
	"authserver/auth/plugin"
	"authserver/store"
	"authserver/store/storetest"
)

func oneTimeTokenEnv(t *testing.T, st *store.Store, cfg onetimetoken.Config) *env {
	t.Helper()
	ps := []plugin.Plugin{onetimetoken.New(cfg)}
	if err := plugin.Install(context.Background(), st, ps); err != nil {
		t.Fatalf("plugin.Install: %v", err)
	}
	return newEnv(t, st, func(o *envOptions) { o.auth.Plugins = ps })
}

var ottPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{32}$`)

func generateOTT(t *testing.T, c *client) string {
	t.Helper()
	r := c.do("GET", "/api/auth/one-time-token/generate", nil)
	expect(t, r, 200, "")
	tok, _ := r.JSON["token"].(string)
	if !ottPattern.MatchString(tok) || len(r.JSON) != 1 {
		t.Fatalf("generate answered %s", r.Raw)
	}
	return tok
}

// messageOnly fails unless r is 400 {"message": msg} with no code, as Better-Auth answers.
func messageOnly(t *testing.T, r *response, msg string) {
	t.Helper()
	if r.Status != 400 || string(r.Raw) != `{"message":"`+msg+`"}` || len(r.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("answer %d %s cookies %v, want 400 {message:%q}", r.Status, r.Raw, r.Header.Values("Set-Cookie"), msg)
	}
}

func TestOneTimeToken(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := oneTimeTokenEnv(t, st, onetimetoken.Config{})
		expect(t, e.client().do("GET", "/api/auth/one-time-token/generate", nil), 401, "UNAUTHORIZED")
		c := e.client()
		up := signUp(t, c, "otto@example.com", "password123")
		sessTok := up.JSON["token"].(string)
		expect(t, c.do("POST", "/api/auth/one-time-token/generate", nil), 404, "")
		expect(t, c.do("GET", "/api/auth/one-time-token/verify?token=x", nil), 404, "")

		tok := generateOTT(t, c)
		if v, ok := e.verification("one-time-token:" + tok); !ok || v != sessTok {
			t.Fatalf("verification row %q %v, want the session token", v, ok)
		}
		other := e.client()
		v := other.do("POST", "/api/auth/one-time-token/verify", map[string]any{"token": tok})
		expect(t, v, 200, "")
		sess, _ := v.JSON["session"].(map[string]any)
		user, _ := v.JSON["user"].(map[string]any)
		if sess["token"] != sessTok || user["email"] != "otto@example.com" || len(v.JSON) != 2 {
			t.Fatalf("verify answered %s", v.Raw)
		}
		if v.setCookies()["better-auth.session_token"] == "" {
			t.Fatal("verify set no session cookie")
		}
		if g := other.do("GET", "/api/auth/get-session", nil); g.JSON["session"].(map[string]any)["token"] != sessTok {
			t.Fatalf("the other browser is not on the session: %s", g.Raw)
		}
		if n := e.sessionCount(user["id"].(string)); n != 1 {
			t.Fatalf("sessions %d: verify must hand over the session, not make one", n)
		}
		messageOnly(t, e.client().do("POST", "/api/auth/one-time-token/verify", map[string]any{"token": tok}), "Invalid token")
		messageOnly(t, e.client().do("POST", "/api/auth/one-time-token/verify", map[string]any{"token": "nope"}), "Invalid token")
		expect(t, e.client().do("POST", "/api/auth/one-time-token/verify", map[string]any{}), 400, "VALIDATION_ERROR")

		// A token lasts three minutes.
		tok = generateOTT(t, c)
		e.clock.Advance(3*time.Minute + time.Second)
		messageOnly(t, e.client().do("POST", "/api/auth/one-time-token/verify", map[string]any{"token": tok}), "Invalid token")
		if _, ok := e.verification("one-time-token:" + tok); ok {
			t.Error("the expired row is still there")
		}

		// The session is gone by the time the token is used.
		tok = generateOTT(t, c)
		expect(t, c.do("POST", "/api/auth/sign-out", nil), 200, "")
		messageOnly(t, e.client().do("POST", "/api/auth/one-time-token/verify", map[string]any{"token": tok}), "Session not found")
	})
}

func TestOneTimeTokenOptions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		// Tokens outliving the session: the expired session is refused.
		e := oneTimeTokenEnv(t, st, onetimetoken.Config{ExpiresIn: 8 * 24 * time.Hour, DisableSetSessionCookie: true, HashTokens: true})
		c := e.client()
		up := signUp(t, c, "opt@example.com", "password123")
		tok := generateOTT(t, c)
		if _, ok := e.verification("one-time-token:" + tok); ok {
			t.Fatal("the plain token is stored")
		}
		if v, ok := e.verification("one-time-token:" + plugin.HashToken(tok)); !ok || v != up.JSON["token"] {
			t.Fatalf("no row under the hash (%q)", v)
		}
		v := e.client().do("POST", "/api/auth/one-time-token/verify", map[string]any{"token": tok})
		expect(t, v, 200, "")
		if len(v.Header.Values("Set-Cookie")) != 0 || v.Header.Get("set-auth-token") != "" {
			t.Fatalf("disableSetSessionCookie: cookies %v", v.Header.Values("Set-Cookie"))
		}
		tok = generateOTT(t, c)
		e.clock.Advance(7*24*time.Hour + time.Minute)
		messageOnly(t, e.client().do("POST", "/api/auth/one-time-token/verify", map[string]any{"token": tok}), "Session expired")
	})
}

// disableClientRequest refuses generate (after the session check) with Better-Auth's message;
// setOttHeaderOnNewSession puts a working token for the new session in set-ott (exposed after
// set-auth-token) on sign-up and sign-in, and on the answer of a verify that hands a session
// over, but not on answers that write no session cookie.
func TestOneTimeTokenHeaderAndClientRequests(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		cfg, err := onetimetoken.LoadConfig(func(k string) string {
			return map[string]string{"OTT_DISABLE_CLIENT_REQUEST": "true", "OTT_SET_OTT_HEADER_ON_NEW_SESSION": "true"}[k]
		})
		if err != nil {
			t.Fatal(err)
		}
		e := oneTimeTokenEnv(t, st, cfg)
		expect(t, e.client().do("GET", "/api/auth/one-time-token/generate", nil), 401, "UNAUTHORIZED")
		c := e.client()
		up := signUp(t, c, "otto@example.com", "password123")
		ott := func(r *response) string {
			t.Helper()
			tok := r.Header.Get("set-ott")
			if !ottPattern.MatchString(tok) || r.Header.Get("Access-Control-Expose-Headers") != "set-auth-token, set-ott" {
				t.Fatalf("set-ott %q, exposed %q", tok, r.Header.Get("Access-Control-Expose-Headers"))
			}
			return tok
		}
		first := ott(up)
		messageOnly(t, c.do("GET", "/api/auth/one-time-token/generate", nil), "Client requests are disabled")
		in := e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "otto@example.com", "password": "password123"})
		expect(t, in, 200, "")
		second := ott(in)
		if second == first {
			t.Fatal("the same token twice")
		}
		if r := c.do("GET", "/api/auth/get-session", nil); r.Header.Get("set-ott") != "" {
			t.Fatalf("get-session without a refresh carries set-ott %q", r.Header.Get("set-ott"))
		}
		d := e.client()
		v := d.do("POST", "/api/auth/one-time-token/verify", map[string]any{"token": first})
		expect(t, v, 200, "")
		if sess, _ := v.JSON["session"].(map[string]any); sess["token"] != up.JSON["token"] {
			t.Fatalf("the first token handed over %s, want the sign-up's session", v.Raw)
		}
		third := ott(v) // verify writes the session cookie, so it carries a new token too
		expect(t, e.client().do("POST", "/api/auth/one-time-token/verify", map[string]any{"token": third}), 200, "")
		messageOnly(t, e.client().do("POST", "/api/auth/one-time-token/verify", map[string]any{"token": first}), "Invalid token")
		e.clock.Advance(25 * time.Hour) // past the update age: get-session refreshes and writes the cookie again
		refreshed := c.do("GET", "/api/auth/get-session", nil)
		expect(t, refreshed, 200, "")
		ott(refreshed)
	})
}
