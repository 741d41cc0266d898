package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"authserver/auth"
	"authserver/session"
	"authserver/store"
	"authserver/store/storetest"
	"authserver/web"
)

func TestSignUpSignInAndSession(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		c := e.client()
		r := signUp(t, c, "Alice@Example.com", "password123")

		user := r.JSON["user"].(map[string]any)
		if user["email"] != "alice@example.com" || user["emailVerified"] != false || user["image"] != nil {
			t.Errorf("sign-up user = %v, want lower-cased email, emailVerified false, image null", user)
		}
		if _, has := user["image"]; !has {
			t.Error("sign-up user has no image key; Better-Auth sends image: null")
		}
		for _, k := range []string{"createdAt", "updatedAt"} {
			if !jsDate.MatchString(user[k].(string)) {
				t.Errorf("user.%s = %q, want JS ISO with milliseconds", k, user[k])
			}
		}
		token, _ := r.JSON["token"].(string)
		if len(token) != 32 {
			t.Fatalf("token = %q, want 32 characters", token)
		}
		cookie := r.setCookies()["better-auth.session_token"]
		want := "better-auth.session_token=" + session.EncodeURIComponent(session.Sign([]byte(testSecret), token)) + "; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"
		if cookie != want {
			t.Errorf("Set-Cookie = %q\nwant          %q", cookie, want)
		}
		if got := r.Header.Get("set-auth-token"); got != session.Sign([]byte(testSecret), token) {
			t.Errorf("set-auth-token = %q, want the signed token", got)
		}

		g := c.do("GET", "/api/auth/get-session", nil)
		expect(t, g, 200, "")
		if g.Header.Get("Cache-Control") != "no-store" || g.Header.Get("Pragma") != "no-cache" {
			t.Errorf("get-session headers = %v, want no-store / no-cache", g.Header)
		}
		sess := g.JSON["session"].(map[string]any)
		if sess["token"] != token || sess["userId"] != user["id"] {
			t.Errorf("get-session session = %v", sess)
		}
		if g.Header.Get("Set-Cookie") != "" {
			t.Errorf("a fresh session was refreshed: %v", g.Header.Values("Set-Cookie"))
		}

		// A second client signs in with the email in other letter case.
		c2 := e.client()
		in := c2.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "ALICE@example.com", "password": "password123"})
		expect(t, in, 200, "")
		if in.JSON["redirect"] != false || in.JSON["url"] != nil {
			t.Errorf("sign-in body = %s, want redirect false and no url", in.Raw)
		}
		if _, has := in.JSON["url"]; has {
			t.Errorf("sign-in body has a url key without callbackURL: %s", in.Raw)
		}
	})
}

func TestSignUpAndSignInErrors(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		c := e.client()
		signUp(t, c, "bob@example.com", "password123")
		long := strings.Repeat("x", 129)
		tests := []struct {
			name       string
			path       string
			body       any
			wantStatus int
			wantCode   string
			wantMsg    string
		}{
			{"duplicate email in other case", "/sign-up/email", map[string]any{"name": "B", "email": "BOB@example.com", "password": "password123"}, 422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "User already exists. Use another email."},
			{"short password", "/sign-up/email", map[string]any{"name": "B", "email": "b2@example.com", "password": "1234567"}, 400, "PASSWORD_TOO_SHORT", "Password too short"},
			{"long password", "/sign-up/email", map[string]any{"name": "B", "email": "b2@example.com", "password": long}, 400, "PASSWORD_TOO_LONG", "Password too long"},
			{"bad email", "/sign-up/email", map[string]any{"name": "B", "email": "not-an-email", "password": "password123"}, 400, "VALIDATION_ERROR", "[body.email] Invalid email address"},
			{"missing fields", "/sign-up/email", map[string]any{}, 400, "VALIDATION_ERROR", "[body.name] Invalid input: expected string, received undefined; [body.email] Invalid input: expected string, received undefined; [body.password] Invalid input: expected string, received undefined"},
			{"wrong type", "/sign-up/email", map[string]any{"name": 5, "email": "b3@example.com", "password": "password123", "rememberMe": "no"}, 400, "VALIDATION_ERROR", "[body.name] Invalid input: expected string, received number; [body.rememberMe] Invalid input: expected boolean, received string"},
			{"wrong password", "/sign-in/email", map[string]any{"email": "bob@example.com", "password": "wrong-password"}, 401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password"},
			{"unknown email", "/sign-in/email", map[string]any{"email": "nobody@example.com", "password": "password123"}, 401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password"},
			{"sign-in bad email", "/sign-in/email", map[string]any{"email": "bob", "password": "password123"}, 400, "INVALID_EMAIL", "Invalid email"},
			{"sign-in long password", "/sign-in/email", map[string]any{"email": "bob@example.com", "password": long}, 400, "PASSWORD_TOO_LONG", "Password too long"},
			{"malformed JSON", "/sign-in/email", `{"email":`, 400, "BAD_REQUEST", "Invalid JSON in request body"},
			{"array body", "/sign-in/email", `[]`, 400, "VALIDATION_ERROR", "[body] Invalid input: expected object, received array"},
			{"untrusted callbackURL", "/sign-in/email", map[string]any{"email": "bob@example.com", "password": "password123", "callbackURL": "https://evil.example"}, 403, "INVALID_CALLBACK_URL", "Invalid callbackURL"},
			{"protocol-relative callbackURL", "/sign-in/email", map[string]any{"email": "bob@example.com", "password": "password123", "callbackURL": "//evil.example"}, 403, "INVALID_CALLBACK_URL", "Invalid callbackURL"},
			{"non-string callbackURL", "/sign-in/email", map[string]any{"email": "bob@example.com", "password": "password123", "callbackURL": 7}, 400, "", "Invalid callbackURL: expected a string"},
		}
		anon := e.client()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := anon.do("POST", "/api/auth"+tt.path, tt.body)
				expect(t, r, tt.wantStatus, tt.wantCode)
				if r.JSON["message"] != tt.wantMsg {
					t.Errorf("message = %q, want %q", r.JSON["message"], tt.wantMsg)
				}
				if len(r.Header.Values("Set-Cookie")) != 0 {
					t.Errorf("error response set cookies: %v", r.Header.Values("Set-Cookie"))
				}
			})
		}
		// Nothing half-written: the rejected sign-ups left no user behind.
		for _, email := range []string{"b2@example.com", "b3@example.com"} {
			if _, err := st.UserByEmail(context.Background(), email); err == nil {
				t.Errorf("rejected sign-up %s left a user row", email)
			}
		}
	})
}

func TestFramingErrors(t *testing.T) {
	st := storetest.OpenSQLite(t)
	e := newEnv(t, st)
	c := e.client()
	r := c.do("POST", "/api/auth/sign-in/email", "email=a", "Content-Type", "text/plain")
	expect(t, r, 415, "UNSUPPORTED_MEDIA_TYPE")
	if want := `Content-Type "text/plain" is not allowed. Allowed types: application/x-www-form-urlencoded, application/json`; r.JSON["message"] != want {
		t.Errorf("415 message = %q, want %q", r.JSON["message"], want)
	}
	r = c.do("POST", "/api/auth/update-user", "x", "Content-Type", "application/xml")
	expect(t, r, 415, "UNSUPPORTED_MEDIA_TYPE")
	for _, tt := range []struct{ method, path string }{
		{"GET", "/api/auth/nope"},
		{"GET", "/api/auth/sign-in/email"},
		{"POST", "/api/auth/ok"},
		{"GET", "/api/auth/ok/"},
		{"GET", "/api/auth//ok"},
	} {
		r := c.do(tt.method, tt.path, nil)
		if r.Status != 404 || len(r.Raw) != 0 || r.Header.Get("Content-Type") != "" {
			t.Errorf("%s %s = %d %q (type %q), want 404 with an empty body and no type", tt.method, tt.path, r.Status, r.Raw, r.Header.Get("Content-Type"))
		}
	}
	r = c.do("GET", "/api/auth/ok", nil)
	if r.Status != 200 || string(r.Raw) != `{"ok":true}` {
		t.Errorf("/ok = %d %s", r.Status, r.Raw)
	}
	r = c.do("POST", "/api/auth/get-session", nil)
	expect(t, r, 405, "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED")
	// Oversized bodies are refused with Better-Auth's error shape, not a bare 413.
	r = c.do("POST", "/api/auth/sign-in/email", `{"email":"`+strings.Repeat("a", 2<<20)+`"}`)
	expect(t, r, 413, "PAYLOAD_TOO_LARGE")
}

func TestSignInFormBodyAndCallback(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		c := e.client()
		signUp(t, c, "carol@example.com", "password123")
		form := url.Values{"email": {"carol@example.com"}, "password": {"password123"}, "callbackURL": {trusted + "/home"}}.Encode()
		r := e.client().do("POST", "/api/auth/sign-in/email", form, "Content-Type", "application/x-www-form-urlencoded")
		expect(t, r, 200, "")
		if r.JSON["redirect"] != true || r.JSON["url"] != trusted+"/home" || r.Header.Get("Location") != trusted+"/home" {
			t.Errorf("sign-in with callbackURL = %s (Location %q)", r.Raw, r.Header.Get("Location"))
		}
		// A relative callback is fine too.
		r = e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "carol@example.com", "password": "password123", "callbackURL": "/dashboard"})
		expect(t, r, 200, "")
	})
}

func TestOriginChecks(t *testing.T) {
	st := storetest.OpenSQLite(t)
	e := newEnv(t, st)
	c := e.client()
	signUp(t, c, "dave@example.com", "password123")
	tests := []struct {
		name     string
		headers  []string
		wantCode string
	}{
		{"untrusted origin with cookie", []string{"Origin", "https://evil.example"}, "INVALID_ORIGIN"},
		{"suffix look-alike origin", []string{"Origin", "http://app.example.test.evil.example"}, "INVALID_ORIGIN"},
		{"null origin with cookie", []string{"Origin", "null"}, "MISSING_OR_NULL_ORIGIN"},
		{"no origin with cookie", []string{"Origin", ""}, "MISSING_OR_NULL_ORIGIN"},
		{"untrusted referer", []string{"Origin", "", "Referer", "https://evil.example/page"}, "INVALID_ORIGIN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do("POST", "/api/auth/update-user", map[string]any{"name": "X"}, tt.headers...)
			expect(t, r, 403, tt.wantCode)
		})
	}
	r := c.do("POST", "/api/auth/update-user", map[string]any{"name": "X"}, "Origin", "", "Referer", trusted+"/settings")
	expect(t, r, 200, "")
	// Cross-site navigation sign-in (a form posted from another site) is blocked.
	anon := e.client()
	r = anon.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "dave@example.com", "password": "password123"},
		"Origin", "", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate")
	expect(t, r, 403, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED")
	// Without cookies and without browser headers (curl, servers) sign-in is allowed.
	r = anon.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "dave@example.com", "password": "password123"}, "Origin", "")
	expect(t, r, 200, "")
}

func TestCookieAndBearerValidation(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		c := e.client()
		token := signUp(t, c, "erin@example.com", "password123").JSON["token"].(string)
		signed := session.Sign([]byte(testSecret), token)
		other := session.Sign([]byte("another-secret-that-is-long-enough-000"), token)
		// Alter the signature's first character to one it certainly is not: replacing its tail with a
		// fixed string left it unchanged whenever the real signature already ended that way (1 in 1,024).
		dot := strings.LastIndexByte(signed, '.')
		swap := byte('A')
		if signed[dot+1] == 'A' {
			swap = 'B'
		}
		tampered := signed[:dot+1] + string(swap) + signed[dot+2:]
		tests := []struct {
			name    string
			headers []string
			valid   bool
		}{
			{"signed cookie", []string{"Cookie", "better-auth.session_token=" + session.EncodeURIComponent(signed)}, true},
			{"signed cookie not url-encoded", []string{"Cookie", "better-auth.session_token=" + signed}, true},
			{"tampered signature", []string{"Cookie", "better-auth.session_token=" + session.EncodeURIComponent(tampered)}, false},
			{"unsigned raw token cookie", []string{"Cookie", "better-auth.session_token=" + token}, false},
			{"cookie signed with another secret", []string{"Cookie", "better-auth.session_token=" + session.EncodeURIComponent(other)}, false},
			{"bearer raw token", []string{"Authorization", "Bearer " + token}, true},
			{"bearer signed token", []string{"Authorization", "Bearer " + signed}, true},
			{"bearer url-encoded signed token", []string{"Authorization", "Bearer " + session.EncodeURIComponent(signed)}, true},
			{"bearer signed with another secret", []string{"Authorization", "Bearer " + other}, false},
			{"bearer unknown token", []string{"Authorization", "Bearer " + session.NewToken()}, false},
		}
		anon := e.client()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := anon.do("GET", "/api/auth/get-session", nil, tt.headers...)
				expect(t, r, 200, "")
				if got := r.JSON != nil; got != tt.valid {
					t.Errorf("get-session gave a session = %v, want %v (body %s)", got, tt.valid, r.Raw)
				}
				if tt.valid {
					// Bearer works on every session-protected endpoint, not only get-session.
					l := anon.do("GET", "/api/auth/list-accounts", nil, tt.headers...)
					expect(t, l, 200, "")
				}
			})
		}
	})
}

func TestExpiryRefreshAndRememberMe(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		c := e.client()
		signUp(t, c, "frank@example.com", "password123")
		first := c.do("GET", "/api/auth/get-session", nil).JSON["session"].(map[string]any)["expiresAt"].(string)

		// After updateAge (1 day) the next use slides the expiry and re-issues the cookie.
		e.clock.Advance(25 * time.Hour)
		r := c.do("GET", "/api/auth/get-session", nil)
		expect(t, r, 200, "")
		exp := r.JSON["session"].(map[string]any)["expiresAt"].(string)
		if exp <= first {
			t.Errorf("expiresAt after refresh = %s, want later than %s", exp, first)
		}
		if !strings.Contains(r.setCookies()["better-auth.session_token"], "Max-Age=604800") {
			t.Errorf("refresh did not re-issue the cookie: %v", r.Header.Values("Set-Cookie"))
		}
		if r.Header.Get("set-auth-token") == "" {
			t.Error("refresh did not send set-auth-token")
		}
		// disableRefresh=false still disables refresh: Better-Auth coerces with Boolean("false").
		e.clock.Advance(25 * time.Hour)
		r = c.do("GET", "/api/auth/get-session?disableRefresh=false", nil)
		if len(r.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("disableRefresh=false refreshed: %v", r.Header.Values("Set-Cookie"))
		}

		// Past expiry the session is gone: null, cookies cleared, row deleted.
		e.clock.Advance(8 * 24 * time.Hour)
		r = c.do("GET", "/api/auth/get-session", nil)
		if string(r.Raw) != "null" {
			t.Fatalf("expired get-session = %s, want null", r.Raw)
		}
		cleared := r.setCookies()
		for _, name := range []string{"better-auth.session_token", "better-auth.session_data", "better-auth.dont_remember"} {
			if !strings.HasPrefix(cleared[name], name+"=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax") {
				t.Errorf("cookie %s not cleared: %q", name, cleared[name])
			}
		}

		// rememberMe:false gives browser-session cookies and a one-day session that never slides.
		d := e.client()
		in := d.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "frank@example.com", "password": "password123", "rememberMe": false})
		expect(t, in, 200, "")
		sc := in.setCookies()
		if strings.Contains(sc["better-auth.session_token"], "Max-Age") || !strings.HasPrefix(sc["better-auth.dont_remember"], "better-auth.dont_remember="+session.EncodeURIComponent(session.Sign([]byte(testSecret), "true"))+"; Path=/") {
			t.Errorf("rememberMe:false cookies = %v", in.Header.Values("Set-Cookie"))
		}
		g := d.do("GET", "/api/auth/get-session", nil)
		s := g.JSON["session"].(map[string]any)
		created, _ := time.Parse(time.RFC3339, s["createdAt"].(string))
		expires, _ := time.Parse(time.RFC3339, s["expiresAt"].(string))
		if expires.Sub(created) != 24*time.Hour {
			t.Errorf("don't-remember session lifetime = %v, want 24h", expires.Sub(created))
		}
		e.clock.Advance(23 * time.Hour)
		if r := d.do("GET", "/api/auth/get-session", nil); len(r.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("don't-remember session was refreshed: %v", r.Header.Values("Set-Cookie"))
		}
	})
}

func TestSessionManagement(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		a1 := e.client()
		signUp(t, a1, "gina@example.com", "password123")
		a2 := e.client()
		tok2 := a2.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "gina@example.com", "password": "password123"}).JSON["token"].(string)
		a3 := e.client()
		a3.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "gina@example.com", "password": "password123"})
		other := e.client()
		otherTok := signUp(t, other, "hank@example.com", "password123").JSON["token"].(string)

		l := a1.do("GET", "/api/auth/list-sessions", nil)
		expect(t, l, 200, "")
		if len(l.Array) != 3 {
			t.Fatalf("list-sessions = %d sessions, want 3", len(l.Array))
		}
		// Revoking someone else's token is a silent no-op.
		expect(t, a1.do("POST", "/api/auth/revoke-session", map[string]any{"token": otherTok}), 200, "")
		if r := other.do("GET", "/api/auth/get-session", nil); r.JSON == nil {
			t.Fatal("revoke-session removed another user's session")
		}
		expect(t, a1.do("POST", "/api/auth/revoke-session", map[string]any{"token": tok2}), 200, "")
		if r := a2.do("GET", "/api/auth/get-session", nil); string(r.Raw) != "null" {
			t.Errorf("revoked session still works: %s", r.Raw)
		}
		expect(t, a1.do("POST", "/api/auth/revoke-other-sessions", map[string]any{}), 200, "")
		if r := a3.do("GET", "/api/auth/get-session", nil); string(r.Raw) != "null" {
			t.Errorf("revoke-other-sessions left a session: %s", r.Raw)
		}
		if r := a1.do("GET", "/api/auth/get-session", nil); r.JSON == nil {
			t.Error("revoke-other-sessions removed the current session")
		}
		r := a1.do("POST", "/api/auth/revoke-sessions", map[string]any{})
		expect(t, r, 200, "")
		if !strings.HasPrefix(r.setCookies()["better-auth.session_token"], "better-auth.session_token=; Max-Age=0") {
			t.Errorf("revoke-sessions did not clear the cookie: %v", r.Header.Values("Set-Cookie"))
		}
		if r := a1.do("GET", "/api/auth/list-sessions", nil); r.Status != 401 {
			t.Errorf("list-sessions after revoke-sessions = %d, want 401", r.Status)
		}

		// Freshness: a day after sign-in, listing sessions needs a new sign-in.
		b := e.client()
		b.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "hank@example.com", "password": "password123"})
		e.clock.Advance(24*time.Hour + time.Minute)
		expect(t, b.do("GET", "/api/auth/list-sessions", nil), 403, "SESSION_NOT_FRESH")
	})
}

func TestUnauthenticatedEndpoints(t *testing.T) {
	st := storetest.OpenSQLite(t)
	e := newEnv(t, st)
	c := e.client()
	for _, tt := range []struct{ method, path string }{
		{"GET", "/list-sessions"}, {"GET", "/list-accounts"},
		{"POST", "/revoke-session"}, {"POST", "/revoke-sessions"}, {"POST", "/revoke-other-sessions"},
		{"POST", "/update-user"}, {"POST", "/change-password"},
	} {
		var body any
		switch tt.path {
		case "/revoke-session":
			body = map[string]any{"token": "x"}
		case "/change-password":
			body = map[string]any{"newPassword": "password456", "currentPassword": "password123"}
		case "/update-user":
			body = map[string]any{"name": "x"}
		}
		r := c.do(tt.method, "/api/auth"+tt.path, body)
		expect(t, r, 401, "UNAUTHORIZED")
		if r.JSON["message"] != "Unauthorized" {
			t.Errorf("%s message = %v", tt.path, r.JSON["message"])
		}
	}
	if r := c.do("POST", "/api/auth/sign-out", map[string]any{}); r.Status != 200 || string(r.Raw) != `{"success":true}` {
		t.Errorf("sign-out without a session = %d %s, want 200 {\"success\":true}", r.Status, r.Raw)
	}
}

func TestUpdateUserChangePasswordAccounts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		c := e.client()
		uid := signUp(t, c, "ivy@example.com", "password123").JSON["user"].(map[string]any)["id"].(string)
		r := c.do("POST", "/api/auth/update-user", map[string]any{"name": "Ivy Two", "image": "https://img.example/ivy.png"})
		expect(t, r, 200, "")
		if string(r.Raw) != `{"status":true}` {
			t.Errorf("update-user body = %s", r.Raw)
		}
		u := c.do("GET", "/api/auth/get-session", nil).JSON["user"].(map[string]any)
		if u["name"] != "Ivy Two" || u["image"] != "https://img.example/ivy.png" {
			t.Errorf("user after update = %v", u)
		}
		expect(t, c.do("POST", "/api/auth/update-user", map[string]any{"image": nil}), 200, "")
		if u := c.do("GET", "/api/auth/get-session", nil).JSON["user"].(map[string]any); u["image"] != nil {
			t.Errorf("image after clearing = %v", u["image"])
		}
		expect(t, c.do("POST", "/api/auth/update-user", map[string]any{"email": "x@example.com"}), 400, "EMAIL_CAN_NOT_BE_UPDATED")
		r = c.do("POST", "/api/auth/update-user", map[string]any{"unknown": 1})
		if r.Status != 400 || string(r.Raw) != `{"message":"No fields to update"}` {
			t.Errorf("empty update = %d %s", r.Status, r.Raw)
		}

		accts := c.do("GET", "/api/auth/list-accounts", nil)
		expect(t, accts, 200, "")
		if len(accts.Array) != 1 {
			t.Fatalf("list-accounts = %s", accts.Raw)
		}
		a := accts.Array[0].(map[string]any)
		if a["providerId"] != "credential" || a["accountId"] != uid || a["userId"] != uid || len(a["scopes"].([]any)) != 0 {
			t.Errorf("credential account = %v", a)
		}
		for _, secret := range []string{"password", "accessToken", "refreshToken", "idToken", "scope"} {
			if _, has := a[secret]; has {
				t.Errorf("list-accounts leaks %q", secret)
			}
		}

		other := e.client()
		other.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "ivy@example.com", "password": "password123"})
		expect(t, c.do("POST", "/api/auth/change-password", map[string]any{"currentPassword": "wrong-one", "newPassword": "password456"}), 400, "INVALID_PASSWORD")
		expect(t, c.do("POST", "/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": "short"}), 400, "PASSWORD_TOO_SHORT")
		r = c.do("POST", "/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": "password456"})
		expect(t, r, 200, "")
		if r.JSON["token"] != nil {
			t.Errorf("change-password without revoke returned token %v", r.JSON["token"])
		}
		r = c.do("POST", "/api/auth/change-password", map[string]any{"currentPassword": "password456", "newPassword": "password789", "revokeOtherSessions": true})
		expect(t, r, 200, "")
		newTok, _ := r.JSON["token"].(string)
		if len(newTok) != 32 || r.Header.Get("set-auth-token") == "" {
			t.Fatalf("change-password with revoke = %s", r.Raw)
		}
		if g := other.do("GET", "/api/auth/get-session", nil); string(g.Raw) != "null" {
			t.Error("other session survived revokeOtherSessions")
		}
		if g := c.do("GET", "/api/auth/get-session", nil); g.JSON == nil || g.JSON["session"].(map[string]any)["token"] != newTok {
			t.Errorf("caller does not hold the new session: %s", g.Raw)
		}
		expect(t, e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "ivy@example.com", "password": "password456"}), 401, "INVALID_EMAIL_OR_PASSWORD")
		expect(t, e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "ivy@example.com", "password": "password789"}), 200, "")

		// Sign-out deletes the session and clears cookies.
		r = c.do("POST", "/api/auth/sign-out", map[string]any{})
		expect(t, r, 200, "")
		if !strings.HasPrefix(r.setCookies()["better-auth.session_token"], "better-auth.session_token=; Max-Age=0") {
			t.Errorf("sign-out cookies = %v", r.Header.Values("Set-Cookie"))
		}
		if _, _, err := st.SessionByToken(context.Background(), newTok); err == nil {
			t.Error("sign-out left the session row")
		}
	})
}

// RequireSession guards routes outside /api/auth with the same rules, by cookie or by Bearer.
func TestRequireSessionMiddleware(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, func(o *envOptions) {
			o.extra = func(env *env, h http.Handler) http.Handler {
				ec := h.(*echo.Echo)
				ec.GET("/content/whoami", func(c echo.Context) error {
					return c.String(200, web.AuthFrom(c).User.Email)
				}, web.RequireSession(env.sessions))
				return ec
			}
		})
		c := e.client()
		token := signUp(t, c, "jack@example.com", "password123").JSON["token"].(string)
		if r := c.do("GET", "/content/whoami", nil); r.Status != 200 || string(r.Raw) != "jack@example.com" {
			t.Errorf("with cookie = %d %s", r.Status, r.Raw)
		}
		anon := e.client()
		if r := anon.do("GET", "/content/whoami", nil, "Authorization", "Bearer "+token); r.Status != 200 {
			t.Errorf("with bearer = %d %s", r.Status, r.Raw)
		}
		r := anon.do("GET", "/content/whoami", nil)
		expect(t, r, 401, "UNAUTHORIZED")
		// A revoked session is refused at once.
		c.do("POST", "/api/auth/sign-out", map[string]any{})
		expect(t, anon.do("GET", "/content/whoami", nil, "Authorization", "Bearer "+token), 401, "UNAUTHORIZED")
	})
}

// Fifty concurrent sign-ups with one email leave exactly one user and one credential account.
func TestConcurrentSignUpsCreateOneUser(t *testing.T) {
	storetest.RunSerial(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		var wg sync.WaitGroup
		statuses := make(chan int, 50)
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.client().do("POST", "/api/auth/sign-up/email", map[string]any{"name": "R", "email": "race@example.com", "password": "password123"})
				statuses <- r.Status
			}()
		}
		wg.Wait()
		close(statuses)
		okCount := 0
		for s := range statuses {
			switch s {
			case 200:
				okCount++
			case 422, 503:
			default:
				t.Errorf("concurrent sign-up status %d", s)
			}
		}
		if okCount != 1 {
			t.Errorf("%d sign-ups succeeded, want exactly 1", okCount)
		}
		u, err := st.UserByEmail(context.Background(), "race@example.com")
		if err != nil {
			t.Fatal(err)
		}
		accts, _ := st.AccountsByUser(context.Background(), u.ID)
		if len(accts) != 1 {
			t.Errorf("user has %d accounts, want 1", len(accts))
		}
	})
}

func TestHealthAndReadiness(t *testing.T) {
	st := storetest.OpenSQLite(t)
	e := newEnv(t, st)
	c := e.client()
	expect(t, c.do("GET", "/healthz", nil), 200, "")
	expect(t, c.do("GET", "/readyz", nil), 200, "")
	st.Close()
	if r := c.do("GET", "/readyz", nil); r.Status != http.StatusServiceUnavailable {
		t.Errorf("readyz with the database closed = %d, want 503", r.Status)
	}
}

// A burst of sign-ins far beyond the hashing bound is answered quickly with 503 SERVER_BUSY and a
// Retry-After in whole seconds for the excess, never a 500, while cheap requests keep being served.
// A 1 ms bound admits no line at all, so the excess is certain whatever the machine's speed.
func TestSignInBurstIsBounded(t *testing.T) {
	st := storetest.OpenSQLite(t)
	e := newEnv(t, st, func(o *envOptions) {
		o.auth.Hasher.Concurrency = 2
		o.auth.Hasher.MaxWait = time.Millisecond
	})
	c := e.client()
	signUp(t, c, "burst@example.com", "password123")
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[int]int{}
	busyBody := ""
	retryAfter := ""
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "burst@example.com", "password": "wrong-password"})
			mu.Lock()
			defer mu.Unlock()
			counts[r.Status]++
			if r.Status == 503 {
				busyBody = r.code()
				retryAfter = r.Header.Get("Retry-After")
			}
		}()
	}
	// Meanwhile a cheap endpoint stays fast.
	var slowest time.Duration
	for i := 0; i < 20; i++ {
		start := time.Now()
		r := e.client().do("GET", "/api/auth/ok", nil)
		if d := time.Since(start); d > slowest {
			slowest = d
		}
		if r.Status != 200 {
			t.Errorf("/ok during the burst = %d", r.Status)
		}
	}
	wg.Wait()
	if counts[401]+counts[503] != 200 {
		t.Errorf("burst statuses = %v, want only 401 and 503", counts)
	}
	if n, err := strconv.Atoi(retryAfter); counts[503] == 0 || busyBody != "SERVER_BUSY" || err != nil || n < 1 {
		t.Errorf("no request was refused as busy (statuses %v, code %q, Retry-After %q)", counts, busyBody, retryAfter)
	}
	if slowest > 2*time.Second {
		t.Errorf("slowest /ok during the burst took %v", slowest)
	}
}

// A burst of sign-ups beyond the hashing bound: each is either created whole (200, with its user
// and credential account) or refused with 503 SERVER_BUSY and leaves nothing behind. A 1 ms bound
// admits no line, so some are refused.
func TestSignUpBurstLosesNothing(t *testing.T) {
	st := storetest.OpenSQLite(t)
	e := newEnv(t, st, func(o *envOptions) {
		o.auth.Hasher.Concurrency = 1
		o.auth.Hasher.MaxWait = time.Millisecond
	})
	var wg sync.WaitGroup
	var mu sync.Mutex
	status := map[string]*response{}
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			email := fmt.Sprintf("burst-%d@example.com", i)
			r := e.client().do("POST", "/api/auth/sign-up/email", map[string]any{"email": email, "password": "burst-password-1", "name": "Burst"})
			mu.Lock()
			status[email] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	created, busy := 0, 0
	for email, r := range status {
		u, err := st.UserByEmail(context.Background(), email)
		switch r.Status {
		case 200:
			created++
			if err != nil {
				t.Errorf("%s: 200 but no user: %v", email, err)
				continue
			}
			if _, err := st.CredentialAccount(context.Background(), u.ID); err != nil {
				t.Errorf("%s: user without its credential account: %v", email, err)
			}
		case 503:
			busy++
			if r.code() != "SERVER_BUSY" || r.JSON["message"] == "" {
				t.Errorf("%s: 503 body %s", email, r.Raw)
			}
			if err == nil {
				t.Errorf("%s: refused as busy, yet a user was written", email)
			}
		default:
			t.Errorf("%s: status %d %s", email, r.Status, r.Raw)
		}
	}
	if created == 0 || busy == 0 {
		t.Errorf("40 sign-ups with one worker and one waiting: %d created, %d refused; want some of each", created, busy)
	}
}

// Thirty people signing up at the same moment on two hashing workers are all served: a line of 30
// is not refused for its length (issue 19: the fixed queue of 8 per worker refused 12 of them).
// The bound is a minute here, not the default 2 s, because under the race detector on a loaded
// machine the measured time per hash can truly put 30 past 2 s, and then refusing is right; the
// 2 s arithmetic is TestHasherAdmitsByExpectedWait's, on a fake clock.
func TestSignUpBurstOfThirtyIsServed(t *testing.T) {
	st := storetest.OpenSQLite(t)
	e := newEnv(t, st, func(o *envOptions) { o.auth.Hasher = auth.HasherConfig{Concurrency: 2, MaxWait: time.Minute} })
	var wg sync.WaitGroup
	results := make([]*response, 30)
	start := make(chan struct{})
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.client()
			<-start
			results[i] = c.do("POST", "/api/auth/sign-up/email", map[string]any{"email": fmt.Sprintf("class-%d@example.com", i), "password": "burst-password-1", "name": "Pupil"})
		}()
	}
	close(start)
	wg.Wait()
	for i, r := range results {
		if r.Status != 200 {
			t.Errorf("sign-up %d of 30: %d %s", i, r.Status, r.Raw)
		}
	}
}

// Request logs carry the route pattern, never a token from the path or the query.
func TestRequestLogsKeepTokensOut(t *testing.T) {
	var mu sync.Mutex
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil))
	st := storetest.OpenSQLite(t)
	e := newEnv(t, st, func(o *envOptions) { o.logger = log })
	c := e.client()
	token := signUp(t, c, "logs@example.com", "password123").JSON["token"].(string)
	c.do("GET", "/api/auth/reset-password/SECRETRESETTOKEN123?callbackURL=/reset", nil)
	c.do("GET", "/api/auth/verify-email?token=SECRETJWT.abc.def&callbackURL=/x", nil)
	c.do("GET", "/api/auth/get-session", nil, "Authorization", "Bearer "+token)
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	for _, secret := range []string{"SECRETRESETTOKEN123", "SECRETJWT", token, "password123"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "/api/auth/reset-password/:token") {
		t.Errorf("log lacks the route pattern:\n%s", out)
	}
}

// Concurrent uses of one session that is due for refresh, mixed with its revocation, leave it
// consistent: every answer is a session or null (never an error), the expiry moved forward at most
// once, and after the revocation nobody gets it back.
func TestConcurrentRefreshAndRevocation(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		c := e.client()
		token := signUp(t, c, "conc@example.com", "password123").JSON["token"].(string)
		e.clock.Advance(25 * time.Hour) // due for refresh
		var wg sync.WaitGroup
		var mu sync.Mutex
		expiries := map[string]int{}
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.client().do("GET", "/api/auth/get-session", nil, "Authorization", "Bearer "+token)
				if r.Status != 200 {
					t.Errorf("concurrent get-session = %d %s", r.Status, r.Raw)
					return
				}
				if r.JSON != nil {
					mu.Lock()
					expiries[r.JSON["session"].(map[string]any)["expiresAt"].(string)]++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(expiries) != 1 {
			t.Errorf("concurrent refreshes produced %d different expiries: %v", len(expiries), expiries)
		}
		// Now uses race a sign-out.
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				if i == 10 {
					if r := e.client().do("POST", "/api/auth/sign-out", map[string]any{}, "Authorization", "Bearer "+token); r.Status != 200 {
						t.Errorf("sign-out = %d", r.Status)
					}
					return
				}
				if r := e.client().do("GET", "/api/auth/get-session", nil, "Authorization", "Bearer "+token); r.Status != 200 {
					t.Errorf("get-session during sign-out = %d %s", r.Status, r.Raw)
				}
			}(i)
		}
		wg.Wait()
		if r := e.client().do("GET", "/api/auth/get-session", nil, "Authorization", "Bearer "+token); string(r.Raw) != "null" {
			t.Errorf("session usable after sign-out: %s", r.Raw)
		}
		if _, _, err := st.SessionByToken(context.Background(), token); err == nil {
			t.Error("session row survived sign-out")
		}
	})
}
