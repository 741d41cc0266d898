package web_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"authserver/auth"
	"authserver/auth/anonymous"
	"authserver/auth/lastloginmethod"
	"authserver/auth/plugin"
	"authserver/store"
	"authserver/store/storetest"
)

var anonymousUserKeys = []string{"name", "email", "emailVerified", "image", "createdAt", "updatedAt", "isAnonymous", "id"}

// anonymousEnv installs the anonymous plugin (with cfg) and last-login-method on st and serves
// them, so the tests also see which sign-ins name a method.
func anonymousEnv(t *testing.T, st *store.Store, cfg anonymous.Config, opts ...func(*envOptions)) *env {
	t.Helper()
	ps := []plugin.Plugin{anonymous.New(cfg), lastloginmethod.New(lastloginmethod.Config{CookieName: lastloginmethod.DefaultCookieName, MaxAge: lastloginmethod.DefaultMaxAge})}
	if err := plugin.Install(context.Background(), st, ps); err != nil {
		t.Fatalf("plugin.Install: %v", err)
	}
	return newEnv(t, st, append([]func(*envOptions){func(o *envOptions) { o.auth.Plugins = ps }}, opts...)...)
}

// signInAnonymously signs c in as a new anonymous user and returns the user's id and the token.
func signInAnonymously(t *testing.T, c *client) (id, token string) {
	t.Helper()
	r := c.do("POST", "/api/auth/sign-in/anonymous", nil)
	expect(t, r, 200, "")
	u, _ := r.JSON["user"].(map[string]any)
	id, _ = u["id"].(string)
	token, _ = r.JSON["token"].(string)
	if id == "" || token == "" {
		t.Fatalf("anonymous sign-in answer %s", r.Raw)
	}
	return id, token
}

// userRows counts the user's row and its sessions and accounts, to see what a deletion removed.
func userRows(t *testing.T, st *store.Store, id string) (users, sessions, accounts int) {
	t.Helper()
	var n struct{ U, S, A int }
	err := st.RawRow(context.Background(), &n, `select (select count(*) from "user" where "id" = ?) as u,
 (select count(*) from "session" where "userId" = ?) as s, (select count(*) from "account" where "userId" = ?) as a`, id, id, id)
	if err != nil {
		t.Fatal(err)
	}
	return n.U, n.S, n.A
}

var anonymousEmail = regexp.MustCompile(`^[a-z0-9]{32}@anonymous\.placeholder\.invalid$`)

// Sign-in without credentials creates a user of its own and answers {"token","user"} with the
// session cookie and set-auth-token, as Better-Auth 1.7.25 does; last-login-method names no method
// for it. A caller who already holds an anonymous session (cookie or bearer) is refused, one with
// a real user's session is not.
func TestAnonymousSignIn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := anonymousEnv(t, st, anonymous.Config{})
		c := e.client()
		r := c.do("POST", "/api/auth/sign-in/anonymous", nil)
		expect(t, r, 200, "")
		if got := strings.Join(jsonKeys(t, r.Raw), ","); got != "token,user" {
			t.Errorf("answer keys = %s", got)
		}
		u := userOf(t, r.Raw)
		pluginObject(t, "anonymous user", u, anonymousUserKeys, map[string]any{"name": "Anonymous", "emailVerified": false, "image": nil, "isAnonymous": true})
		id := r.JSON["user"].(map[string]any)["id"].(string)
		email := r.JSON["user"].(map[string]any)["email"].(string)
		if !anonymousEmail.MatchString(email) || strings.HasPrefix(email, strings.ToLower(id)) {
			t.Errorf("email %q for user %s: want a fresh lower-case id at anonymous.placeholder.invalid", email, id)
		}
		cookies := r.setCookies()
		if !strings.Contains(cookies["better-auth.session_token"], "Max-Age=604800") {
			t.Errorf("session cookie %q", cookies["better-auth.session_token"])
		}
		if _, ok := cookies[lastloginmethod.DefaultCookieName]; ok {
			t.Errorf("anonymous sign-in set the last-login-method cookie: %v", r.Header.Values("Set-Cookie"))
		}
		if tok := r.Header.Get("set-auth-token"); !strings.HasPrefix(tok, r.JSON["token"].(string)+".") {
			t.Errorf("set-auth-token %q for token %v", tok, r.JSON["token"])
		}
		g := c.do("GET", "/api/auth/get-session", nil)
		expect(t, g, 200, "")
		pluginObject(t, "get-session user", userOf(t, g.Raw), anonymousUserKeys, map[string]any{"id": id, "isAnonymous": true, "email": email})

		again := c.do("POST", "/api/auth/sign-in/anonymous", nil)
		expect(t, again, 400, "ANONYMOUS_USERS_CANNOT_SIGN_IN_AGAIN_ANONYMOUSLY")
		if again.JSON["message"] != "Anonymous users cannot sign in again anonymously" || len(again.setCookies()) != 0 {
			t.Errorf("second anonymous sign-in: %s, cookies %v", again.Raw, again.Header.Values("Set-Cookie"))
		}
		bearer := e.client().do("POST", "/api/auth/sign-in/anonymous", nil, "Authorization", "Bearer "+r.JSON["token"].(string))
		expect(t, bearer, 400, "ANONYMOUS_USERS_CANNOT_SIGN_IN_AGAIN_ANONYMOUSLY")

		// A body is ignored; a different anonymous user each time.
		other := e.client().do("POST", "/api/auth/sign-in/anonymous", map[string]any{"name": "Mallory", "isAnonymous": false})
		expect(t, other, 200, "")
		pluginObject(t, "second anonymous user", userOf(t, other.Raw), anonymousUserKeys, map[string]any{"name": "Anonymous", "isAnonymous": true})
		if other.JSON["user"].(map[string]any)["email"] == email {
			t.Error("two anonymous users share an e-mail address")
		}

		// emailDomainName: temp-<id>@<domain>.
		dom := anonymousEnv(t, storetest.OpenSQLite(t), anonymous.Config{EmailDomainName: "guests.example.org"})
		dr := dom.client().do("POST", "/api/auth/sign-in/anonymous", nil)
		expect(t, dr, 200, "")
		if got, _ := dr.JSON["user"].(map[string]any)["email"].(string); !regexp.MustCompile(`^temp-[a-z0-9]{32}@guests\.example\.org$`).MatchString(got) {
			t.Errorf("email with a domain name: %q", got)
		}

		// A real user's session does not stop an anonymous sign-in, and the real user stays.
		real := e.client()
		up := signUp(t, real, "real@example.com", "password123")
		pluginObject(t, "sign-up user", userOf(t, up.Raw), anonymousUserKeys, map[string]any{"isAnonymous": false})
		realID := up.JSON["user"].(map[string]any)["id"].(string)
		expect(t, real.do("POST", "/api/auth/sign-in/anonymous", nil), 200, "")
		if n, _, _ := userRows(t, st, realID); n != 1 {
			t.Error("an anonymous sign-in over a real user's session deleted the real user")
		}
	})
}

// isAnonymous is set by the server only: sign-up stores false whatever the body says (Better-Auth
// writes the default of an input:false field), update-user refuses a truthy value.
func TestAnonymousFieldIsServerOnly(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := anonymousEnv(t, st, anonymous.Config{})
		up := e.client().do("POST", "/api/auth/sign-up/email", map[string]any{"name": "V", "email": "v@example.com", "password": "password123", "isAnonymous": true})
		expect(t, up, 200, "")
		pluginObject(t, "sign-up user", userOf(t, up.Raw), anonymousUserKeys, map[string]any{"isAnonymous": false})

		c := e.client()
		signInAnonymously(t, c)
		r := c.do("POST", "/api/auth/update-user", map[string]any{"isAnonymous": false, "name": "Still anonymous"})
		expect(t, r, 200, "")
		r = c.do("POST", "/api/auth/update-user", map[string]any{"isAnonymous": true, "name": "x"})
		expect(t, r, 400, "FIELD_NOT_ALLOWED")
		if r.JSON["message"] != "isAnonymous is not allowed to be set" {
			t.Errorf("message %v", r.JSON["message"])
		}
		g := c.do("GET", "/api/auth/get-session", nil)
		pluginObject(t, "after update-user", userOf(t, g.Raw), anonymousUserKeys, map[string]any{"name": "Still anonymous", "isAnonymous": true})
	})
}

// delete-anonymous-user deletes the caller's anonymous user with its sessions and clears the
// session cookies; a real user is refused with 403, a caller without a session with 401, and
// with the option set every caller gets DELETE_ANONYMOUS_USER_DISABLED.
func TestAnonymousDeleteUser(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := anonymousEnv(t, st, anonymous.Config{})
		c := e.client()
		id, token := signInAnonymously(t, c)
		r := c.do("POST", "/api/auth/delete-anonymous-user", nil)
		expect(t, r, 200, "")
		if string(r.Raw) != `{"success":true}` {
			t.Errorf("body %s", r.Raw)
		}
		for _, name := range []string{"better-auth.session_token", "better-auth.session_data", "better-auth.dont_remember"} {
			if !strings.HasPrefix(r.setCookies()[name], name+"=; Max-Age=0") {
				t.Errorf("%s not cleared: %v", name, r.Header.Values("Set-Cookie"))
			}
		}
		if u, s, _ := userRows(t, st, id); u != 0 || s != 0 {
			t.Errorf("after delete: %d users, %d sessions", u, s)
		}
		g := e.client().do("GET", "/api/auth/get-session", nil, "Authorization", "Bearer "+token)
		if g.Status != 200 || string(g.Raw) != "null" {
			t.Errorf("get-session with the deleted user's token: %d %s", g.Status, g.Raw)
		}

		real := e.client()
		up := signUp(t, real, "real@example.com", "password123")
		r = real.do("POST", "/api/auth/delete-anonymous-user", nil)
		expect(t, r, 403, "USER_IS_NOT_ANONYMOUS")
		if r.JSON["message"] != "User is not anonymous" || len(r.setCookies()) != 0 {
			t.Errorf("real user: %s %v", r.Raw, r.Header.Values("Set-Cookie"))
		}
		if u, _, _ := userRows(t, st, up.JSON["user"].(map[string]any)["id"].(string)); u != 1 {
			t.Error("the real user was deleted")
		}
		expect(t, e.client().do("POST", "/api/auth/delete-anonymous-user", nil), 401, "UNAUTHORIZED")

		off := anonymousEnv(t, storetest.OpenSQLite(t), anonymous.Config{DisableDeleteAnonymousUser: true})
		oc := off.client()
		oid, _ := signInAnonymously(t, oc)
		r = oc.do("POST", "/api/auth/delete-anonymous-user", nil)
		expect(t, r, 400, "DELETE_ANONYMOUS_USER_DISABLED")
		if r.JSON["message"] != "Deleting anonymous users is disabled" {
			t.Errorf("message %v", r.JSON["message"])
		}
		if u, s, _ := userRows(t, off.st, oid); u != 1 || s != 1 {
			t.Errorf("disabled delete removed something: %d users, %d sessions", u, s)
		}
	})
}

// Signing up or in by e-mail from a browser holding an anonymous session (cookie or bearer)
// deletes the anonymous user with its sessions, and the browser ends up signed in as the real
// user. A refused sign-in or sign-up leaves the anonymous user alone, and so does the option.
func TestAnonymousAccountLinking(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := anonymousEnv(t, st, anonymous.Config{})
		gone := func(what, id string) {
			t.Helper()
			if u, s, a := userRows(t, st, id); u+s+a != 0 {
				t.Errorf("%s: anonymous user left %d users, %d sessions, %d accounts", what, u, s, a)
			}
		}
		kept := func(what, id string) {
			t.Helper()
			if u, s, _ := userRows(t, st, id); u != 1 || s != 1 {
				t.Errorf("%s: anonymous user has %d rows, %d sessions; want it kept", what, u, s)
			}
		}

		c := e.client()
		anonID, _ := signInAnonymously(t, c)
		up := signUp(t, c, "alice@example.com", "password123")
		pluginObject(t, "linked sign-up user", userOf(t, up.Raw), anonymousUserKeys, map[string]any{"email": "alice@example.com", "isAnonymous": false})
		gone("sign-up", anonID)
		g := c.do("GET", "/api/auth/get-session", nil)
		pluginObject(t, "session after sign-up", userOf(t, g.Raw), anonymousUserKeys, map[string]any{"email": "alice@example.com"})

		c = e.client()
		anonID, _ = signInAnonymously(t, c)
		expect(t, c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "alice@example.com", "password": "wrong-password"}), 401, "INVALID_EMAIL_OR_PASSWORD")
		kept("wrong password", anonID)
		expect(t, c.do("POST", "/api/auth/sign-up/email", map[string]any{"name": "A", "email": "alice@example.com", "password": "password123"}), 422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL")
		kept("duplicate sign-up", anonID)
		in := c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "alice@example.com", "password": "password123"})
		expect(t, in, 200, "")
		gone("sign-in", anonID)
		g = c.do("GET", "/api/auth/get-session", nil)
		pluginObject(t, "session after sign-in", userOf(t, g.Raw), anonymousUserKeys, map[string]any{"email": "alice@example.com", "isAnonymous": false})

		anonID, anonToken := signInAnonymously(t, e.client())
		expect(t, e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "alice@example.com", "password": "password123"},
			"Authorization", "Bearer "+anonToken), 200, "")
		gone("sign-in with the anonymous bearer token", anonID)

		// An anonymous user with more than one session loses them all.
		c = e.client()
		anonID, _ = signInAnonymously(t, c)
		c2 := e.client()
		c2.jar.SetCookies(mustParse(t, e.srv.URL), c.jar.Cookies(mustParse(t, e.srv.URL)))
		expect(t, c.do("POST", "/api/auth/sign-up/email", map[string]any{"name": "B", "email": "bob@example.com", "password": "password123"}), 200, "")
		gone("sign-up with two anonymous sessions", anonID)
		g = c2.do("GET", "/api/auth/get-session", nil)
		if string(g.Raw) != "null" {
			t.Errorf("the anonymous user's other browser still has a session: %s", g.Raw)
		}

		keep := anonymousEnv(t, storetest.OpenSQLite(t), anonymous.Config{DisableDeleteAnonymousUser: true})
		kc := keep.client()
		kid, _ := signInAnonymously(t, kc)
		signUp(t, kc, "carol@example.com", "password123")
		if u, _, _ := userRows(t, keep.st, kid); u != 1 {
			t.Error("disableDeleteAnonymousUser: the anonymous user was deleted on sign-up")
		}
		kc = keep.client()
		kid, _ = signInAnonymously(t, kc)
		expect(t, kc.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "carol@example.com", "password": "password123"}), 200, "")
		if u, _, _ := userRows(t, keep.st, kid); u != 1 {
			t.Error("disableDeleteAnonymousUser: the anonymous user was deleted on sign-in")
		}
	})
}

// The auto sign-in after e-mail verification links too: the anonymous user of the browser that
// follows the link is deleted and the browser is signed in as the verified user.
func TestAnonymousLinkingOnVerifyEmail(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		sink := newSMTPSink(t)
		e := anonymousEnv(t, st, anonymous.Config{}, mailOptions(t, "smtp+insecure://"+sink.addr, nil, func(c *auth.Config) {
			yes := true
			c.Email.SendOnSignUp = &yes
			c.Email.AutoSignInAfterVerification = true
		}))
		signUp(t, e.client(), "dana@example.com", "password123")
		link := e.link(t, sink.next(t))
		c := e.client()
		anonID, _ := signInAnonymously(t, c)
		r := c.do("GET", link, nil)
		expect(t, r, 302, "")
		if u, s, _ := userRows(t, st, anonID); u+s != 0 {
			t.Errorf("verify-email left the anonymous user: %d users, %d sessions", u, s)
		}
		g := c.do("GET", "/api/auth/get-session", nil)
		pluginObject(t, "session after verify-email", userOf(t, g.Raw), anonymousUserKeys, map[string]any{"email": "dana@example.com", "emailVerified": true, "isAnonymous": false})
	})
}

// An anonymous user has no password: the password paths answer as for any user without one.
func TestAnonymousHasNoPassword(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := anonymousEnv(t, st, anonymous.Config{})
		c := e.client()
		signInAnonymously(t, c)
		g := c.do("GET", "/api/auth/get-session", nil)
		email := g.JSON["user"].(map[string]any)["email"].(string)
		expect(t, c.do("POST", "/api/auth/change-password", map[string]any{"currentPassword": "anything1", "newPassword": "password123"}), 400, "CREDENTIAL_ACCOUNT_NOT_FOUND")
		l := c.do("GET", "/api/auth/list-accounts", nil)
		expect(t, l, 200, "")
		if string(l.Raw) != "[]" {
			t.Errorf("list-accounts %s", l.Raw)
		}
		expect(t, e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": "password123"}), 401, "INVALID_EMAIL_OR_PASSWORD")
	})
}

// The column is created as Better-Auth's migrate creates it (nullable, no default), so users
// from before the plugin print null; a column Better-Auth already added is adopted.
func TestAnonymousColumn(t *testing.T) {
	restartable(t, func(t *testing.T, open func(ps ...plugin.Plugin) *store.Store) {
		ctx := context.Background()
		st := open()
		old := plainClient(t, st)
		signUp(t, old, "before@example.com", "password123")
		_ = st.Close()
		st = open()
		e := anonymousEnv(t, st, anonymous.Config{})
		in := e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "before@example.com", "password": "password123"})
		expect(t, in, 200, "")
		pluginObject(t, "user from before the plugin", userOf(t, in.Raw), anonymousUserKeys, map[string]any{"isAnonymous": nil})
		q := `select count(*) as n from information_schema.columns where table_schema = current_schema() and table_name = 'user' and column_name = 'isAnonymous' and is_nullable = 'YES' and column_default is null and data_type = 'boolean'`
		if st.Dialect() == store.SQLite {
			q = `select count(*) as n from pragma_table_info('user') where name = 'isAnonymous' and "notnull" = 0 and dflt_value is null`
		}
		var n struct{ N int }
		if err := st.RawRow(ctx, &n, q); err != nil || n.N != 1 {
			t.Errorf("isAnonymous column: %v, %d", err, n.N)
		}
	})
	restartable(t, func(t *testing.T, open func(ps ...plugin.Plugin) *store.Store) {
		ctx := context.Background()
		st := open()
		signUp(t, plainClient(t, st), "ba@example.com", "password123")
		typ, yes := "integer", "1"
		if st.Dialect() == store.Postgres {
			typ, yes = "boolean", "true"
		}
		for _, stmt := range []string{`alter table "user" add column "isAnonymous" ` + typ, `update "user" set "isAnonymous" = ` + yes} {
			if err := st.ExecAdmin(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
		_ = st.Close()
		st = open()
		e := anonymousEnv(t, st, anonymous.Config{})
		in := e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "ba@example.com", "password": "password123"})
		expect(t, in, 200, "")
		pluginObject(t, "adopted user", userOf(t, in.Raw), anonymousUserKeys, map[string]any{"isAnonymous": true})
		var n struct{ N int }
		if err := st.RawRow(ctx, &n, `select count(*) as n from "authserver_plugin_migrations" where "name" like 'anonymous/%'`); err != nil || n.N != 1 {
			t.Errorf("migration records: %v, %d", err, n.N)
		}
	})
}

// plainClient serves st without plugins, for rows written before a plugin is enabled.
func plainClient(t *testing.T, st *store.Store) *client {
	t.Helper()
	return newEnv(t, st).client()
}
