package web_test

import (
	"context"
	"strings"
	"testing"

	"authserver/auth/anonymous"
	"authserver/auth/lastloginmethod"
	"authserver/auth/plugin"
	"authserver/auth/twofactor"
	"authserver/auth/username"
	"authserver/store"
	"authserver/store/storetest"
)

// The four plugins of part 1 at once, where their hooks meet on one sign-in: a challenged sign-in
// still carries the last-login-method cookie and keeps the browser's anonymous user, and a
// username sign-in links (deletes) the anonymous user as an e-mail one does.
func TestPluginsTogetherOnOneSignIn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ps := []plugin.Plugin{
			username.New(defaultUsernames), anonymous.New(anonymous.Config{}), twofactor.New(defaultTwoFactor()),
			lastloginmethod.New(lastloginmethod.Config{CookieName: lastloginmethod.DefaultCookieName, MaxAge: lastloginmethod.DefaultMaxAge}),
		}
		if err := plugin.Install(context.Background(), st, ps); err != nil {
			t.Fatalf("plugin.Install: %v", err)
		}
		e := newEnv(t, st, func(o *envOptions) { o.auth.Plugins = ps })

		alice := e.client()
		signUp(t, alice, "alice@example.com", "password123", "username", "alice")
		en := alice.do("POST", "/api/auth/two-factor/enable", map[string]any{"password": "password123"})
		expect(t, en, 200, "")
		m := totpURIPattern.FindStringSubmatch(en.JSON["totpURI"].(string))
		if m == nil {
			t.Fatalf("enable answer %s", en.Raw)
		}
		expect(t, alice.do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.totpCode(m[1])}), 200, "")
		signUp(t, e.client(), "bob@example.com", "password123", "username", "bob")

		// An anonymous browser signs in as alice: challenged, the anonymous user stays.
		browser := e.client()
		anonID, _ := signInAnonymously(t, browser)
		for _, byUsername := range []bool{false, true} {
			_, r := e.challenge(browser, byUsername)
			lastUsed := r.setCookies()[lastloginmethod.DefaultCookieName]
			if want := !byUsername; strings.HasPrefix(lastUsed, lastloginmethod.DefaultCookieName+"=email;") != want {
				t.Errorf("challenged sign-in (by username %v): last-login-method cookie %q", byUsername, lastUsed)
			}
			if u, s, _ := userRows(t, st, anonID); u != 1 || s != 1 {
				t.Fatalf("a challenged sign-in removed the anonymous user: %d users, %d sessions", u, s)
			}
		}

		// Signing in by username as bob (no second factor) links like e-mail sign-in does. (The
		// challenge expired the first browser's session cookie, so a second browser.)
		browser = e.client()
		anonID, _ = signInAnonymously(t, browser)
		in := browser.do("POST", "/api/auth/sign-in/username", map[string]any{"username": "bob", "password": "password123"})
		expect(t, in, 200, "")
		if u, s, a := userRows(t, st, anonID); u+s+a != 0 {
			t.Errorf("sign-in by username kept the anonymous user: %d users, %d sessions, %d accounts", u, s, a)
		}
	})
}
