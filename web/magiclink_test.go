package web_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"authserver/auth/anonymous"
	"authserver/auth/lastloginmethod"
	"authserver/auth/magiclink"
	"authserver/auth/plugin"
	"authserver/store"
	"authserver/store/storetest"
)

// magicLinkEnv serves the magic-link, anonymous and last-login-method plugins with mail going to
// an SMTP sink.
func magicLinkEnv(t *testing.T, st *store.Store, edit func(*magiclink.Config)) (*env, *smtpSink) {
	t.Helper()
	cfg, err := magiclink.LoadConfig(func(string) string { return "" }, testBaseURL+"/api/auth")
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&cfg)
	}
	llm, _ := lastloginmethod.LoadConfig(func(string) string { return "" })
	ps := []plugin.Plugin{magiclink.New(cfg), anonymous.New(anonymous.Config{}), lastloginmethod.New(llm)}
	if err := plugin.Install(context.Background(), st, ps); err != nil {
		t.Fatalf("plugin.Install: %v", err)
	}
	sink := newSMTPSink(t)
	e := newEnv(t, st, mailOptions(t, "smtp+insecure://"+sink.addr, nil, nil), func(o *envOptions) { o.auth.Plugins = ps })
	return e, sink
}

var magicTokenPattern = regexp.MustCompile(`[?&]token=([a-zA-Z]{32})(&|$)`)

// sendMagicLink asks for a link and returns the mailed link (a path on the test server) and its token.
func sendMagicLink(t *testing.T, e *env, sink *smtpSink, c *client, body map[string]any) (string, string) {
	t.Helper()
	r := c.do("POST", "/api/auth/sign-in/magic-link", body)
	expect(t, r, 200, "")
	if string(r.Raw) != `{"status":true}` || len(r.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("sign-in/magic-link answered %s, cookies %v", r.Raw, r.Header.Values("Set-Cookie"))
	}
	m := sink.next(t)
	if m.To != body["email"] {
		t.Fatalf("mail to %q, want %v", m.To, body["email"])
	}
	link := e.link(t, m)
	tok := magicTokenPattern.FindStringSubmatch(link)
	if tok == nil {
		t.Fatalf("link %q carries no 32-letter token", link)
	}
	return link, tok[1]
}

func location(t *testing.T, r *response, want string) {
	t.Helper()
	if r.Status != 302 || r.Header.Get("Location") != want {
		t.Fatalf("answer %d Location %q (body %s), want 302 to %q", r.Status, r.Header.Get("Location"), r.Raw, want)
	}
}

func TestMagicLinkNewAndExistingUser(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e, sink := magicLinkEnv(t, st, nil)
		c := e.client()
		body := map[string]any{"email": "Nia@Example.com", "name": "Nia", "callbackURL": "/dash", "newUserCallbackURL": "/welcome"}
		r := c.do("POST", "/api/auth/sign-in/magic-link", body)
		expect(t, r, 200, "")
		m := sink.next(t)
		if m.To != "Nia@Example.com" || m.Subject != "Your Test App sign-in link" || !strings.Contains(m.Text, "expires in 5 minutes") || !strings.Contains(m.Text, "as Nia@Example.com") {
			t.Fatalf("mail to %q subject %q:\n%s", m.To, m.Subject, m.Text)
		}
		link := e.link(t, m)
		if !strings.HasPrefix(link, "/api/auth/magic-link/verify?token=") || !strings.HasSuffix(link, "&callbackURL=%2Fdash&newUserCallbackURL=%2Fwelcome") {
			t.Fatalf("link %q", link)
		}
		tok := magicTokenPattern.FindStringSubmatch(link)[1]
		if v, ok := e.verification("magic-link:" + tok); !ok || v != `{"type":"magic-link","email":"Nia@Example.com","name":"Nia"}` {
			t.Fatalf("verification row %q %v", v, ok)
		}

		// Following it creates the user, signs in and goes to the new-user page.
		b := e.client()
		v := b.do("GET", link, nil)
		location(t, v, testBaseURL+"/welcome")
		ck := v.setCookies()
		if ck["better-auth.session_token"] == "" || !strings.HasPrefix(ck["better-auth.last_used_login_method"], "better-auth.last_used_login_method=magic-link;") {
			t.Fatalf("cookies %v", ck)
		}
		g := b.do("GET", "/api/auth/get-session", nil)
		user, _ := g.JSON["user"].(map[string]any)
		if user["email"] != "nia@example.com" || user["emailVerified"] != true || user["name"] != "Nia" || user["isAnonymous"] != false {
			t.Fatalf("get-session %s", g.Raw)
		}
		// Single use: the callback gets the error.
		location(t, e.client().do("GET", link, nil), testBaseURL+"/dash?error=INVALID_TOKEN")

		// An existing user: no callbackURL gives the JSON answer, the name is not changed.
		link2, _ := sendMagicLink(t, e, sink, c, map[string]any{"email": "nia@example.com", "name": "Other"})
		if !strings.HasSuffix(link2, "&callbackURL=%2F") {
			t.Fatalf("link without callbackURL %q", link2)
		}
		j := e.client().do("GET", strings.TrimSuffix(link2, "&callbackURL=%2F"), nil)
		expect(t, j, 200, "")
		if got := strings.Join(jsonKeys(t, j.Raw), ","); got != "token,user,session" {
			t.Fatalf("JSON answer keys %s: %s", got, j.Raw)
		}
		ju, _ := j.JSON["user"].(map[string]any)
		js, _ := j.JSON["session"].(map[string]any)
		if ju["id"] != user["id"] || ju["name"] != "Nia" || js["token"] != j.JSON["token"] || js["userId"] != user["id"] {
			t.Fatalf("JSON answer %s", j.Raw)
		}
		// With a callbackURL an existing user goes there, not to the new-user page.
		link3, _ := sendMagicLink(t, e, sink, c, map[string]any{"email": "nia@example.com", "callbackURL": trusted + "/in", "newUserCallbackURL": "/welcome"})
		location(t, e.client().do("GET", link3, nil), trusted+"/in")
		if n := e.sessionCount(user["id"].(string)); n != 3 {
			t.Errorf("a verified user keeps their sessions: %d, want 3", n)
		}
	})
}

func TestMagicLinkRefusals(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e, sink := magicLinkEnv(t, st, nil)
		c := e.client()

		// Bad tokens redirect with the error; a missing token is a validation error.
		location(t, c.do("GET", "/api/auth/magic-link/verify?token=nope", nil), testBaseURL+"/?error=INVALID_TOKEN")
		location(t, c.do("GET", "/api/auth/magic-link/verify?token=nope&callbackURL=%2Fd%3Fx%3Da%2Bb%26error%3Dold&errorCallbackURL="+url.QueryEscape(trusted+"/err"), nil),
			trusted+"/err?error=INVALID_TOKEN")
		location(t, c.do("GET", "/api/auth/magic-link/verify?token=nope&callbackURL=%2Fd%3Fx%3Da%2Bb%26error%3Dold", nil), testBaseURL+"/d?x=a+b&error=INVALID_TOKEN")
		expect(t, c.do("GET", "/api/auth/magic-link/verify", nil), 400, "VALIDATION_ERROR")

		// Untrusted callbacks are refused before the token is used.
		link, tok := sendMagicLink(t, e, sink, c, map[string]any{"email": "ann@example.com"})
		for _, q := range []string{"callbackURL=http://evil.test/", "newUserCallbackURL=http://evil.test/", "errorCallbackURL=//evil.test/"} {
			expect(t, c.do("GET", "/api/auth/magic-link/verify?token="+tok+"&"+q, nil), 403, "INVALID_CALLBACK_URL")
		}
		location(t, e.client().do("GET", link, nil), testBaseURL+"/")

		// Expired: the error, and the row is gone.
		_, tok = sendMagicLink(t, e, sink, c, map[string]any{"email": "ann@example.com"})
		e.clock.Advance(5*time.Minute + time.Second)
		location(t, c.do("GET", "/api/auth/magic-link/verify?token="+tok+"&callbackURL=%2Fd", nil), testBaseURL+"/d?error=INVALID_TOKEN")
		if _, ok := e.verification("magic-link:" + tok); ok {
			t.Error("the expired row is still there")
		}

		// Sending: validation, callback checks, first-login CSRF; nothing is mailed.
		for _, b := range []map[string]any{{"email": "nope"}, {"email": "ann@example.com", "name": 5}, {"email": "ann@example.com", "metadata": "x"}} {
			expect(t, c.do("POST", "/api/auth/sign-in/magic-link", b), 400, "VALIDATION_ERROR")
		}
		for field, code := range map[string]string{"callbackURL": "INVALID_CALLBACK_URL", "newUserCallbackURL": "INVALID_NEW_USER_CALLBACK_URL", "errorCallbackURL": "INVALID_ERROR_CALLBACK_URL"} {
			expect(t, c.do("POST", "/api/auth/sign-in/magic-link", map[string]any{"email": "ann@example.com", field: "http://evil.test/"}), 403, code)
		}
		send := map[string]any{"email": "ann@example.com"}
		expect(t, c.do("POST", "/api/auth/sign-in/magic-link", send, "Origin", "", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate"), 403, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED")
		expect(t, c.do("POST", "/api/auth/sign-in/magic-link", send, "Origin", "", "Sec-Fetch-Site", "same-site", "Sec-Fetch-Mode", "cors"), 403, "MISSING_OR_NULL_ORIGIN")
		expect(t, c.do("POST", "/api/auth/sign-in/magic-link", send, "Origin", "http://evil.test"), 403, "INVALID_ORIGIN")
		sink.none(t)
	})
}

func TestMagicLinkUnverifiedAccountAndAnonymous(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e, sink := magicLinkEnv(t, st, nil)
		// A password account whose address was never proved: the link strips it.
		owner := e.client()
		up := signUp(t, owner, "una@example.com", "password123")
		id := up.JSON["user"].(map[string]any)["id"].(string)
		link, _ := sendMagicLink(t, e, sink, e.client(), map[string]any{"email": "una@example.com", "callbackURL": "/d"})
		location(t, e.client().do("GET", link, nil), testBaseURL+"/d")
		if g := owner.do("GET", "/api/auth/get-session", nil); string(g.Raw) != "null" {
			t.Fatalf("the earlier session survived: %s", g.Raw)
		}
		expect(t, e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "una@example.com", "password": "password123"}), 401, "INVALID_EMAIL_OR_PASSWORD")
		var row struct{ EmailVerified bool }
		if err := st.RawRow(context.Background(), &row, `select "emailVerified" as email_verified from "user" where "id" = ?`, id); err != nil || !row.EmailVerified {
			t.Fatalf("emailVerified %v (%v)", row.EmailVerified, err)
		}

		// An anonymous browser that follows a link loses its anonymous user.
		b := e.client()
		anon := b.do("POST", "/api/auth/sign-in/anonymous", nil)
		expect(t, anon, 200, "")
		anonID := anon.JSON["user"].(map[string]any)["id"].(string)
		link, _ = sendMagicLink(t, e, sink, b, map[string]any{"email": "real@example.com", "callbackURL": "/d"})
		location(t, b.do("GET", link, nil), testBaseURL+"/d")
		if _, err := st.UserByID(context.Background(), anonID); err == nil {
			t.Fatal("the anonymous user survived the magic-link sign-in")
		}
	})
}

func TestMagicLinkSignUpDisabledHashedTokens(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e, sink := magicLinkEnv(t, st, func(c *magiclink.Config) {
			c.DisableSignUp, c.HashTokens, c.ExpiresIn = true, true, 10*time.Minute
		})
		c := e.client()
		link, _ := sendMagicLink(t, e, sink, c, map[string]any{"email": "nobody@example.com", "callbackURL": "/d", "errorCallbackURL": "/err"})
		location(t, e.client().do("GET", link, nil), testBaseURL+"/err?error=new_user_signup_disabled")
		if _, err := st.UserByEmail(context.Background(), "nobody@example.com"); err == nil {
			t.Fatal("a user was created with sign-up disabled")
		}
		signUp(t, e.client(), "known@example.com", "password123")
		c2 := e.client()
		r := c2.do("POST", "/api/auth/sign-in/magic-link", map[string]any{"email": "known@example.com"})
		expect(t, r, 200, "")
		m := sink.next(t)
		if !strings.Contains(m.Text, "expires in 10 minutes") {
			t.Errorf("mail text:\n%s", m.Text)
		}
		link = e.link(t, m)
		tok := magicTokenPattern.FindStringSubmatch(link)[1]
		if _, ok := e.verification("magic-link:" + tok); ok {
			t.Fatal("the plain token is stored")
		}
		if _, ok := e.verification("magic-link:" + plugin.HashToken(tok)); !ok {
			t.Fatal("no row under the token's hash")
		}
		e.clock.Advance(9 * time.Minute)
		location(t, e.client().do("GET", link, nil), testBaseURL+"/")
	})
}
