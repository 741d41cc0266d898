package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"authserver/auth"
	"authserver/auth/lastloginmethod"
	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store"
	"authserver/store/storetest"
)

var errTestBanned = &plugin.Error{Status: http.StatusForbidden, Code: "BANNED_USER", Message: "You have been banned from this application"}

// testPlugin exercises every seam of the plugin contract: an endpoint that needs a session, one
// that signs in, a BeforeSession refusal with the plugin's own error, and an AfterSession cookie.
func testPlugin(e **env) plugin.Plugin {
	return plugin.Plugin{
		ID: "test",
		Endpoints: []plugin.Endpoint{
			{Method: http.MethodGet, Path: "/test/whoami", Session: plugin.NeedSession,
				Handle: func(_ context.Context, r *plugin.Request) (*plugin.Response, error) {
					return &plugin.Response{Body: map[string]any{"email": r.Auth.User.Email, "q": r.Query.Get("q")}}, nil
				}},
			{Method: http.MethodPost, Path: "/test/sign-in", Body: &plugin.Schema{Fields: []plugin.Field{{Name: "email", Kind: plugin.Email}}},
				Handle: func(ctx context.Context, r *plugin.Request) (*plugin.Response, error) {
					u, err := (*e).st.UserByEmail(ctx, r.Body["email"].(string))
					if err != nil {
						return nil, auth.ErrInvalidCredentials
					}
					in, err := (*e).svc.CompleteSignIn(ctx, nil, auth.SignInRequest{User: *u, Method: "test", Meta: r.Meta})
					if err != nil {
						return nil, err
					}
					return &plugin.Response{Body: map[string]any{"token": in.Session.Token}, SignIn: in}, nil
				}},
		},
		Hooks: plugin.Hooks{
			BeforeSession: func(_ context.Context, _ *store.Store, u *store.User, _ string) error {
				if strings.HasPrefix(u.Email, "banned") {
					return errTestBanned
				}
				return nil
			},
			AfterSession: func(_ context.Context, s *plugin.SignIn) error {
				s.Cookies = append(s.Cookies, plugin.Cookie{Name: "test.method", Value: s.Method + "/" + s.User.Email, MaxAge: 60, HTTPOnly: true})
				return nil
			},
		},
	}
}

func TestPluginContractThroughTheHTTPStack(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		var e *env
		e = newEnv(t, st, func(o *envOptions) { o.auth.Plugins = []plugin.Plugin{testPlugin(&e)} })

		t.Run("endpoint needs a session like a core one", func(t *testing.T) {
			expect(t, e.client().do("GET", "/api/auth/test/whoami", nil), 401, "UNAUTHORIZED")
			c := e.client()
			signUp(t, c, "ada@example.com", "password123")
			r := c.do("GET", "/api/auth/test/whoami?q=1", nil)
			expect(t, r, 200, "")
			if r.JSON["email"] != "ada@example.com" || r.JSON["q"] != "1" {
				t.Fatalf("whoami = %s", r.Raw)
			}
		})
		t.Run("endpoint body is validated like a core one", func(t *testing.T) {
			r := e.client().do("POST", "/api/auth/test/sign-in", map[string]any{"email": 42})
			expect(t, r, 400, "VALIDATION_ERROR")
			if r.JSON["message"] != "[body.email] Invalid input: expected string, received number" {
				t.Fatalf("message = %v", r.JSON["message"])
			}
		})
		t.Run("endpoint sign-in is answered like any sign-in", func(t *testing.T) {
			c := e.client()
			r := c.do("POST", "/api/auth/test/sign-in", map[string]any{"email": "ada@example.com"})
			expect(t, r, 200, "")
			tok, _ := r.JSON["token"].(string)
			if !strings.HasPrefix(r.setCookies()["better-auth.session_token"], "better-auth.session_token="+tok+".") || r.Header.Get(session.AuthTokenHeader) == "" {
				t.Fatalf("no session cookie or set-auth-token: %v", r.Header)
			}
			if got := r.setCookies()["test.method"]; got != "test.method=test%2Fada%40example.com; Max-Age=60; Path=/; HttpOnly; SameSite=Lax" {
				t.Fatalf("plugin cookie = %q", got)
			}
			if s := sessionOf(t, c); s["user"].(map[string]any)["email"] != "ada@example.com" {
				t.Fatalf("get-session = %v", s)
			}
		})
		t.Run("hooks run on core e-mail sign-in", func(t *testing.T) {
			c := e.client()
			r := c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "ada@example.com", "password": "password123"})
			expect(t, r, 200, "")
			if got := r.setCookies()["test.method"]; !strings.HasPrefix(got, "test.method=email%2Fada%40example.com;") {
				t.Fatalf("plugin cookie = %q", got)
			}
		})
		t.Run("BeforeSession refuses with the plugin's error and no session", func(t *testing.T) {
			r := e.client().do("POST", "/api/auth/sign-up/email", map[string]any{"name": "B", "email": "banned@example.com", "password": "password123"})
			expect(t, r, 403, "BANNED_USER")
			if r.JSON["message"] != errTestBanned.Message || len(r.Header.Values("Set-Cookie")) != 0 {
				t.Fatalf("refused sign-up = %s, cookies %v", r.Raw, r.Header.Values("Set-Cookie"))
			}
			// The refusal rolled the sign-up back: the e-mail is still free.
			if _, err := st.UserByEmail(context.Background(), "banned@example.com"); err == nil {
				t.Fatal("the refused sign-up left a user behind")
			}
		})
	})
}

func TestLastLoginMethodCookie(t *testing.T) {
	const want = "better-auth.last_used_login_method=email; Max-Age=2592000; Path=/; SameSite=Lax"
	on := func(o *envOptions) {
		o.auth.Plugins = []plugin.Plugin{lastloginmethod.New(lastloginmethod.Config{CookieName: lastloginmethod.DefaultCookieName, MaxAge: lastloginmethod.DefaultMaxAge})}
	}
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		t.Run("set on sign-up and sign-in, kept by sign-out", func(t *testing.T) {
			e := newEnv(t, st, on)
			c := e.client()
			r := signUp(t, c, "ada@example.com", "password123")
			if got := r.setCookies()["better-auth.last_used_login_method"]; got != want {
				t.Fatalf("sign-up cookie = %q, want %q", got, want)
			}
			// rememberMe:false changes the session cookie, not this one
			r = c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "ada@example.com", "password": "password123", "rememberMe": false})
			expect(t, r, 200, "")
			if got := r.setCookies()["better-auth.last_used_login_method"]; got != want {
				t.Fatalf("sign-in cookie = %q, want %q", got, want)
			}
			r = c.do("POST", "/api/auth/sign-out", nil)
			expect(t, r, 200, "")
			if got, has := r.setCookies()["better-auth.last_used_login_method"]; has {
				t.Fatalf("sign-out touched the cookie: %q", got)
			}
			if c.cookieValue("better-auth.last_used_login_method") != "email" {
				t.Fatal("the browser lost the cookie")
			}
		})
		t.Run("not set when no session is created", func(t *testing.T) {
			e := newEnv(t, st, on)
			c := e.client()
			r := c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "nobody@example.com", "password": "password123"})
			expect(t, r, 401, "INVALID_EMAIL_OR_PASSWORD")
			if len(r.Header.Values("Set-Cookie")) != 0 {
				t.Fatalf("failed sign-in set cookies: %v", r.Header.Values("Set-Cookie"))
			}
			e2 := newEnv(t, st, on, func(o *envOptions) { o.auth.RequireEmailVerification = true })
			r = signUp(t, e2.client(), "bob@example.com", "password123")
			if len(r.Header.Values("Set-Cookie")) != 0 {
				t.Fatalf("sign-up without a session set cookies: %v", r.Header.Values("Set-Cookie"))
			}
		})
		t.Run("https: Secure, still no prefix and not HttpOnly", func(t *testing.T) {
			e := newEnv(t, st, on, func(o *envOptions) { o.session.Secure = true })
			r := signUp(t, e.client(), "cy@example.com", "password123")
			if got := r.setCookies()["better-auth.last_used_login_method"]; got != "better-auth.last_used_login_method=email; Max-Age=2592000; Path=/; Secure; SameSite=Lax" {
				t.Fatalf("cookie under https = %q (all: %v)", got, r.Header.Values("Set-Cookie"))
			}
		})
		t.Run("options", func(t *testing.T) {
			e := newEnv(t, st, func(o *envOptions) {
				o.auth.Plugins = []plugin.Plugin{lastloginmethod.New(lastloginmethod.Config{CookieName: "llm", MaxAge: 600})}
			})
			r := signUp(t, e.client(), "di@example.com", "password123")
			if got := r.setCookies()["llm"]; got != "llm=email; Max-Age=600; Path=/; SameSite=Lax" {
				t.Fatalf("cookie with options = %q", got)
			}
		})
		t.Run("plugin off: no cookie", func(t *testing.T) {
			e := newEnv(t, st)
			r := signUp(t, e.client(), "ed@example.com", "password123")
			if got, has := r.setCookies()["better-auth.last_used_login_method"]; has {
				t.Fatalf("cookie without the plugin: %q", got)
			}
		})
	})
}

func TestLastLoginMethodSocial(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		se := newSocialEnv(t, st, func(o *socialOptions) {
			o.auth.Plugins = []plugin.Plugin{lastloginmethod.New(lastloginmethod.Config{CookieName: lastloginmethod.DefaultCookieName, MaxAge: lastloginmethod.DefaultMaxAge})}
		})
		se.idp.addUser("ada", "ada@example.com", true)
		c := se.browser()
		wantLanding(t, se.signInVia(t, c, "ada", map[string]any{"callbackURL": appURL("/dashboard")}), appURL("/dashboard"))
		if got := c.cookieValue("better-auth.last_used_login_method"); got != "idp" {
			t.Fatalf("after the OAuth callback the cookie = %q, want the provider id", got)
		}
		// Better-Auth names no method for an ID token sent to /sign-in/social.
		tok := se.idp.directIDToken(t, idpClientID, idpClientSecret, "ada", "n")
		r := se.browser().do("POST", "/api/auth/sign-in/social", map[string]any{"provider": "idp", "idToken": map[string]any{"token": tok, "nonce": "n"}})
		expect(t, r, 200, "")
		if got, has := r.setCookies()["better-auth.last_used_login_method"]; has {
			t.Fatalf("ID-token sign-in set %q", got)
		}
	})
}
