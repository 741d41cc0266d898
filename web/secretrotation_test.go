package web_test

import (
	"context"
	"strings"
	"testing"

	"authserver/auth/plugin"
	"authserver/auth/twofactor"
	"authserver/auth/username"
	"authserver/session"
	"authserver/store"
	"authserver/store/storetest"
)

// rotatedSecret is the new secret of the rotation tests (BETTER_AUTH_SECRETS="2:<it>").
const rotatedSecret = "rotated-secret-0123456789abcdef0123456789"

// restartWith serves st again, as a restart with another secret configuration would: the same
// database, a new process (session manager, plugins, handler) keyed by keys. The client c moves to
// the new server with its cookies (the jar matches 127.0.0.1 whatever the port).
func restartWith(t *testing.T, st *store.Store, keys session.Keys, clients ...*client) *env {
	t.Helper()
	ps := []plugin.Plugin{twofactor.New(defaultTwoFactor()), username.New(defaultUsernames)}
	e := newEnv(t, st, func(o *envOptions) {
		o.auth.Plugins = ps
		o.session = session.Config{Keys: keys}
	})
	for _, c := range clients {
		c.e = e
	}
	return e
}

// A secret rotation signs nobody out: with BETTER_AUTH_SECRETS="2:new" and the old
// BETTER_AUTH_SECRET kept, cookies signed and two-factor secrets sealed under the old secret still
// work, while everything new is signed and sealed with version 2; removing the old secret then
// refuses what only it had signed.
func TestSecretRotationSignsNobodyOut(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e1, _ := twoFactorEnv(t, st, defaultTwoFactor())
		alice, id, totpSecret, _ := enableTOTP(t, e1)
		oldCookie := alice.cookieValue("better-auth.session_token")
		var before struct{ Secret string }
		if err := st.RawRow(ctx, &before, `select "secret" from "twoFactor" where "userId" = ?`, id); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(before.Secret, "$ba$") {
			t.Fatalf("single-secret server wrote an envelope: %.12s…", before.Secret)
		}

		keys, err := session.ParseSecrets("2:"+rotatedSecret, []byte(testSecret))
		if err != nil {
			t.Fatal(err)
		}
		e2 := restartWith(t, st, keys, alice)
		e2.clock.Advance(e1.clock.Now().Sub(e2.clock.Now()) + 60e9) // a later TOTP step than enable used

		// Still signed in with the cookie the old secret signed.
		g := alice.do("GET", "/api/auth/get-session", nil)
		expect(t, g, 200, "")
		if u, _ := g.JSON["user"].(map[string]any); u == nil || u["id"] != id {
			t.Fatalf("old cookie after rotation: get-session %s", g.Raw)
		}

		// A new sign-in is challenged, the TOTP secret sealed under the old secret still opens,
		// and the new session cookie is signed with version 2.
		bob := e2.client()
		in := bob.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "alice@example.com", "password": "password123"})
		expect(t, in, 200, "")
		if in.JSON["twoFactorRedirect"] != true {
			t.Fatalf("sign-in after rotation: %s", in.Raw)
		}
		if _, ok := session.Unsign([]byte(rotatedSecret), mustUnescape(t, bob.cookieValue("better-auth.two_factor"))); !ok {
			t.Error("two_factor cookie not signed with the current secret")
		}
		v := bob.do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e2.totpCode(totpSecret)})
		expect(t, v, 200, "")
		fresh := mustUnescape(t, bob.cookieValue("better-auth.session_token"))
		if _, ok := session.Unsign([]byte(rotatedSecret), fresh); !ok {
			t.Errorf("new session cookie %q is not signed with the current secret", fresh)
		}
		if _, ok := session.Unsign([]byte(testSecret), fresh); ok {
			t.Error("new session cookie signed with the old secret")
		}

		// New values at rest are sealed with version 2 in Better-Auth's envelope.
		expect(t, bob.do("POST", "/api/auth/two-factor/generate-backup-codes", map[string]any{"password": "password123"}), 200, "")
		var after struct{ BackupCodes string }
		if err := st.RawRow(ctx, &after, `select "backupCodes" from "twoFactor" where "userId" = ?`, id); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(after.BackupCodes, "$ba$2$") {
			t.Errorf("backup codes stored as %.12s…, want the $ba$2$ envelope", after.BackupCodes)
		}

		// The old secret removed: its cookie no longer signs anyone in; the new one still does.
		newest, _ := session.ParseSecrets("2:"+rotatedSecret, nil)
		restartWith(t, st, newest, alice, bob)
		if g := alice.do("GET", "/api/auth/get-session", nil); string(g.Raw) != "null" {
			t.Errorf("cookie signed with the removed secret still accepted (%q): %s", oldCookie, g.Raw)
		}
		if g := bob.do("GET", "/api/auth/get-session", nil); g.JSON["user"] == nil {
			t.Errorf("cookie signed with the current secret refused: %s", g.Raw)
		}
	})
}
