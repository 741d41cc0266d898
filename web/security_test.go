package web_test

// Named regression tests, one per attack class, for the classes Better-Auth's advisories fall into
// (docs: /work/shared/reference/anchors.md §3.4): open redirects, origin checks (CSRF), the purpose
// of cookies and tokens, rate-limit keys, and user enumeration. Every test goes through the whole
// HTTP stack.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"hash"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"authserver/auth"
	"authserver/session"
	"authserver/store"
	"authserver/store/storetest"
	"authserver/web"
)

// secPassword is a password no common-password list holds, so these tests do not depend on
// whether that check is switched on.
const secPassword = "vellum-orbit-kettle-42"

// loginOrigin is a trusted origin with an "i" in its host: Unicode case folding maps "İ" (U+0130)
// onto "i", IDNA does not.
const loginOrigin = "https://login.example.test"

// redirectOrigins are where the redirect-test servers may send a browser.
var redirectOrigins = []string{testBaseURL, trusted, loginOrigin}

// locationTrusted reports whether a browser that follows loc (a Location header, or a URL the
// client assigns to window.location) stays on one of origins. It reads loc the way a browser does
// rather than the way net/url does: "\" is "/", tabs and newlines are dropped, leading spaces and
// controls are stripped, and a non-ASCII or percent-encoded host is IDNA-mapped into another host.
func locationTrusted(loc string, origins []string) bool {
	if loc == "" || strings.ContainsAny(loc, "\\\t\r\n") || loc[0] <= ' ' {
		return false
	}
	if strings.HasPrefix(loc, "/") {
		return !strings.HasPrefix(loc, "//")
	}
	u, err := url.Parse(loc)
	if err != nil || u.Opaque != "" || u.Host == "" {
		return false
	}
	host := u.Host
	for i := 0; i < len(host); i++ {
		if host[i] >= 0x80 || host[i] == '%' || host[i] == '@' {
			return false
		}
	}
	scheme := strings.ToLower(u.Scheme)
	host = strings.ToLower(host)
	host = strings.TrimSuffix(host, map[string]string{"http": ":80", "https": ":443"}[scheme])
	return slices.Contains(origins, scheme+"://"+host)
}

// locationLog records the Location header of every response a server sends.
type locationLog struct {
	mu   sync.Mutex
	seen []string // "status Location"
}

func (l *locationLog) wrap(_ *env, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&locationWriter{ResponseWriter: w, log: l}, r)
	})
}

// check fails the test for every recorded Location a browser would follow off origins.
func (l *locationLog) check(t *testing.T, origins []string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.seen) == 0 {
		t.Error("no response carried a Location header; the log is not wired")
	}
	for _, s := range l.seen {
		status, loc, _ := strings.Cut(s, " ")
		if !locationTrusted(loc, origins) {
			t.Errorf("a %s response sent Location %q, off the trusted list", status, loc)
		}
	}
}

type locationWriter struct {
	http.ResponseWriter
	log   *locationLog
	wrote bool
}

func (w *locationWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		if loc := w.Header().Get("Location"); loc != "" {
			w.log.mu.Lock()
			w.log.seen = append(w.log.seen, strconv.Itoa(code)+" "+loc)
			w.log.mu.Unlock()
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *locationWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// redirectEnv is a server with every redirecting feature on, loginOrigin trusted too, and its
// Location headers recorded in locs.
func redirectEnv(t *testing.T, locs *locationLog, smtpURL string, opts ...func(*envOptions)) *env {
	t.Helper()
	all := append([]func(*envOptions){
		mailOptions(t, smtpURL, nil, func(c *auth.Config) {
			c.Email.DeleteUserEnabled = true
			c.Email.DeleteUserVerification = true
			c.Email.ChangeEmailEnabled = true
		}),
		func(o *envOptions) {
			o.web.TrustedOrigins = append(o.web.TrustedOrigins, loginOrigin)
			o.extra = locs.wrap
		},
	}, opts...)
	return newEnv(t, storetest.OpenSQLite(t), all...)
}

// offSiteTargets are redirect targets that must never be accepted: each one, read by a browser,
// leaves the trusted origins or runs script.
var offSiteTargets = []string{
	"https://evil.example",
	"https://evil.example/api/auth/callback",
	"HTTPS://EVIL.EXAMPLE/",
	"http://EvIl.ExAmPlE",
	"//evil.example",
	"//evil.example/%2e%2e",
	"///evil.example",
	"////evil.example",
	`/\evil.example`,
	`\/evil.example`,
	`\\evil.example`,
	`/\/evil.example`,
	"javascript:alert(1)",
	"JaVaScRiPt:alert(document.cookie)",
	"javascript://app.example.test/%0aalert(1)",
	" javascript:alert(1)",
	"data:text/html,<script>alert(1)</script>",
	"DATA:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
	"vbscript:msgbox(1)",
	"file:///etc/passwd",
	"/%2F%2Fevil.example",
	"/%2f%2fevil.example",
	"%2f%2fevil.example",
	"%2F%2Fevil.example",
	"/%5Cevil.example",
	"/%5c%5cevil.example",
	"http://app.example.test@evil.example",
	"http://app.example.test:80@evil.example",
	"http://evil.example#@app.example.test",
	"http://evil.example?@app.example.test",
	`http://evil.example\@app.example.test`,
	"http://app.example.test.evil.example",
	"http://App.Example.Test.evil.example/",
	"http://evilapp.example.test",
	"http://app-example.test",
	"http://app.example.test:8080",
	"https://app.example.test",
	"/\t/evil.example",
	"/\n/evil.example",
	"/\r\n/evil.example",
	"\t//evil.example",
	"/\x00/evil.example",
	"https:evil.example",
	"https:/evil.example",
	`https:\\evil.example`,
	// Unicode case folding turns "İ" into "i"; a browser's IDNA mapping turns it into "i̇" and
	// the host into xn--..., which is someone else's domain.
	"https://logİn.example.test/cb",
	"https://LOGİN.EXAMPLE.TEST",
	"https://log%C4%B0n.example.test/cb",
}

// onSiteTargets are targets that must keep working.
var onSiteTargets = []string{
	"/dashboard",
	"/welcome?tab=security#top",
	trusted,
	trusted + "/home",
	"http://APP.example.test/home",
	testBaseURL + "/settings",
	loginOrigin + "/done",
}

// TestOpenRedirectRefused sends every off-site target through every field and link the server
// redirects with (CVE-2024-56734, CVE-2025-27143, CVE-2025-71403): bodies get 403 with the field's
// own code, GET links never redirect off-site, and no response anywhere carries an off-site
// Location.
func TestOpenRedirectRefused(t *testing.T) {
	locs := &locationLog{}
	e := redirectEnv(t, locs, "smtp+insecure://127.0.0.1:1")
	user := e.client()
	signUp(t, user, "redirect@example.com", secPassword)
	anon := e.client()

	type post struct {
		name, path, field, code string
		c                       *client
		body                    map[string]any
	}
	signIn := map[string]any{"email": "redirect@example.com", "password": secPassword}
	posts := []post{
		{"sign-in callbackURL", "/sign-in/email", "callbackURL", "INVALID_CALLBACK_URL", anon, signIn},
		{"sign-in callbackURL in the query", "/sign-in/email?callbackURL=", "", "INVALID_CALLBACK_URL", anon, signIn},
		{"sign-in errorCallbackURL", "/sign-in/email", "errorCallbackURL", "INVALID_ERROR_CALLBACK_URL", anon, signIn},
		{"sign-in newUserCallbackURL", "/sign-in/email", "newUserCallbackURL", "INVALID_NEW_USER_CALLBACK_URL", anon, signIn},
		{"sign-up callbackURL", "/sign-up/email", "callbackURL", "INVALID_CALLBACK_URL", anon, map[string]any{"name": "R", "email": "redirect-new@example.com", "password": secPassword}},
		{"send-verification-email callbackURL", "/send-verification-email", "callbackURL", "INVALID_CALLBACK_URL", anon, map[string]any{"email": "redirect@example.com"}},
		{"request-password-reset redirectTo", "/request-password-reset", "redirectTo", "INVALID_REDIRECT_URL", anon, map[string]any{"email": "redirect@example.com"}},
		{"change-email callbackURL", "/change-email", "callbackURL", "INVALID_CALLBACK_URL", user, map[string]any{"newEmail": "redirect2@example.com"}},
		{"delete-user callbackURL", "/delete-user", "callbackURL", "INVALID_CALLBACK_URL", user, map[string]any{}},
		{"sign-in/social callbackURL", "/sign-in/social", "callbackURL", "INVALID_CALLBACK_URL", anon, map[string]any{"provider": "github"}},
		{"sign-in/social errorCallbackURL", "/sign-in/social", "errorCallbackURL", "INVALID_ERROR_CALLBACK_URL", anon, map[string]any{"provider": "github"}},
		{"sign-in/social newUserCallbackURL", "/sign-in/social", "newUserCallbackURL", "INVALID_NEW_USER_CALLBACK_URL", anon, map[string]any{"provider": "github"}},
		{"link-social callbackURL", "/link-social", "callbackURL", "INVALID_CALLBACK_URL", user, map[string]any{"provider": "github"}},
	}
	for _, p := range posts {
		t.Run(p.name, func(t *testing.T) {
			for _, target := range offSiteTargets {
				body := map[string]any{}
				for k, v := range p.body {
					body[k] = v
				}
				path := p.path
				if p.field == "" {
					path += url.QueryEscape(target)
				} else {
					body[p.field] = target
				}
				r := p.c.do("POST", "/api/auth"+path, body)
				if r.Status != 403 || r.code() != p.code {
					t.Errorf("%s = %d %s, want 403 %s", strconv.Quote(target), r.Status, r.Raw, p.code)
				}
				if loc := r.Header.Get("Location"); loc != "" {
					t.Errorf("%s: refused request still sent Location %q", strconv.Quote(target), loc)
				}
			}
		})
	}

	links := []struct {
		name string
		c    *client
		path func(target string) string
	}{
		{"GET verify-email", anon, func(s string) string { return "/api/auth/verify-email?token=x&callbackURL=" + url.QueryEscape(s) }},
		{"GET reset-password/:token", anon, func(s string) string {
			return "/api/auth/reset-password/" + session.NewToken() + "?callbackURL=" + url.QueryEscape(s)
		}},
		{"GET delete-user/callback", user, func(s string) string {
			return "/api/auth/delete-user/callback?token=x&callbackURL=" + url.QueryEscape(s)
		}},
	}
	for _, l := range links {
		t.Run(l.name, func(t *testing.T) {
			for _, target := range offSiteTargets {
				r := l.c.do("GET", l.path(target), nil)
				switch {
				case r.Status >= 300 && r.Status < 400:
					if loc := r.Header.Get("Location"); !locationTrusted(loc, redirectOrigins) {
						t.Errorf("%s: redirected to %q", strconv.Quote(target), loc)
					}
				case r.Status != 403 || r.code() != "INVALID_CALLBACK_URL":
					t.Errorf("%s = %d %s, want 403 INVALID_CALLBACK_URL or a redirect on-site", strconv.Quote(target), r.Status, r.Raw)
				}
			}
		})
	}
	// The refusals took effect: the account is untouched.
	if g := user.do("GET", "/api/auth/get-session", nil); g.JSON == nil || g.JSON["user"].(map[string]any)["email"] != "redirect@example.com" {
		t.Errorf("the user changed under refused requests: %s", g.Raw)
	}
	// The OAuth callbacks always redirect; whatever comes in, they stay on this site.
	for _, path := range []string{
		"/api/auth/callback/github?code=x&state=y",
		"/api/auth/callback/github?error=access_denied&error_description=//evil.example",
		"/api/auth/callback/%2F%2Fevil.example?state=y",
	} {
		if r := anon.do("GET", path, nil); r.Status != 302 {
			t.Errorf("GET %s = %d %s, want 302", path, r.Status, r.Raw)
		}
	}
	for _, id := range []string{"apple", "%2F%2Fevil.example", "..%2F..%2F..%2F%2Fevil.example", "x%0d%0aLocation:%20https:%2F%2Fevil.example"} {
		r := anon.do("POST", "/api/auth/callback/"+id, "state=y&code=x", "Content-Type", "application/x-www-form-urlencoded")
		if r.Status != 302 {
			t.Errorf("POST /callback/%s = %d %s, want 302", id, r.Status, r.Raw)
		}
	}
	// The production /error page redirects too; it must stay on this site.
	prod := redirectEnv(t, locs, "smtp+insecure://127.0.0.1:1", func(o *envOptions) { o.web.Production = true })
	r := prod.client().do("GET", "/api/auth/error?error=x&error_description="+url.QueryEscape("//evil.example"), nil)
	if r.Status != 302 {
		t.Errorf("production /error = %d, want 302", r.Status)
	}
	locs.check(t, redirectOrigins)
}

// TestOpenRedirectAllowsTrustedTargets checks the other side: trusted origins and safe relative
// paths keep working in every field, and the emailed links land exactly there.
func TestOpenRedirectAllowsTrustedTargets(t *testing.T) {
	locs := &locationLog{}
	sink := newSMTPSink(t)
	e := redirectEnv(t, locs, "smtp+insecure://"+sink.addr)
	user := e.client()
	signUp(t, user, "ontarget@example.com", secPassword)
	anon := e.client()
	for _, target := range onSiteTargets {
		q := strconv.Quote(target)
		r := anon.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "ontarget@example.com", "password": secPassword,
			"callbackURL": target, "errorCallbackURL": target, "newUserCallbackURL": target})
		expect(t, r, 200, "")
		if r.JSON["url"] != target || r.Header.Get("Location") != target {
			t.Errorf("sign-in with %s: url %v, Location %q", q, r.JSON["url"], r.Header.Get("Location"))
		}
		if r := anon.do("POST", "/api/auth/request-password-reset", map[string]any{"email": "nobody@example.com", "redirectTo": target}); r.Status != 200 {
			t.Errorf("request-password-reset with %s = %d %s", q, r.Status, r.Raw)
		}
		if r := user.do("POST", "/api/auth/send-verification-email", map[string]any{"email": "ontarget@example.com", "callbackURL": target}); r.Status != 200 {
			t.Errorf("send-verification-email with %s = %d %s", q, r.Status, r.Raw)
		}
		sink.next(t)
		r = anon.do("GET", "/api/auth/verify-email?token=x&callbackURL="+url.QueryEscape(target), nil)
		if r.Status != 302 || !strings.Contains(r.Header.Get("Location"), "error=INVALID_TOKEN") {
			t.Errorf("verify-email with %s = %d %q", q, r.Status, r.Header.Get("Location"))
		}
		r = anon.do("GET", "/api/auth/reset-password/"+session.NewToken()+"?callbackURL="+url.QueryEscape(target), nil)
		if r.Status != 302 || !strings.Contains(r.Header.Get("Location"), "error=INVALID_TOKEN") {
			t.Errorf("reset-password link with %s = %d %q", q, r.Status, r.Header.Get("Location"))
		}
	}

	// The emailed links carry the trusted target all the way to the browser.
	// Forwarded headers do not move the links elsewhere: they are built from the configured base
	// URL only (GHSA-569q-mpph-wgww); e.link fails on a link to any other host.
	r := anon.do("POST", "/api/auth/request-password-reset", map[string]any{"email": "ontarget@example.com", "redirectTo": loginOrigin + "/reset"},
		"X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "https", "Forwarded", "host=evil.example;proto=https")
	expect(t, r, 200, "")
	r = anon.do("GET", e.link(t, sink.next(t)), nil)
	if loc := r.Header.Get("Location"); r.Status != 302 || !strings.HasPrefix(loc, loginOrigin+"/reset?token=") {
		t.Errorf("reset link = %d %q, want %s/reset?token=...", r.Status, loc, loginOrigin)
	}
	expect(t, user.do("POST", "/api/auth/delete-user", map[string]any{"callbackURL": "/goodbye"}), 200, "")
	r = user.do("GET", e.link(t, sink.next(t)), nil)
	if r.Status != 302 || r.Header.Get("Location") != "/goodbye" {
		t.Errorf("delete link = %d %q, want 302 /goodbye", r.Status, r.Header.Get("Location"))
	}
	locs.check(t, redirectOrigins)
}

// TestOriginCheckCookieBearingRequests sends the signed-in user's cookies to every state-changing
// endpoint from places that are not a trusted origin, as a page on another site would: every one
// is refused with 403 and changes nothing.
func TestOriginCheckCookieBearingRequests(t *testing.T) {
	st := storetest.OpenSQLite(t)
	e := newEnv(t, st, func(o *envOptions) { o.auth.Email.ChangeEmailEnabled = true; o.auth.Email.DeleteUserEnabled = true })
	victim := e.client()
	reg := signUp(t, victim, "victim@example.com", secPassword)
	token := reg.JSON["token"].(string)
	uid := reg.JSON["user"].(map[string]any)["id"].(string)

	endpoints := []struct {
		path string
		body map[string]any
	}{
		{"/sign-up/email", map[string]any{"name": "X", "email": "csrf-new@example.com", "password": secPassword}},
		{"/sign-in/email", map[string]any{"email": "victim@example.com", "password": secPassword}},
		{"/sign-out", map[string]any{}},
		{"/revoke-session", map[string]any{"token": token}},
		{"/revoke-sessions", map[string]any{}},
		{"/revoke-other-sessions", map[string]any{}},
		{"/update-user", map[string]any{"name": "Pwned"}},
		{"/change-password", map[string]any{"currentPassword": secPassword, "newPassword": "attacker-chosen-9"}},
		{"/unlink-account", map[string]any{"accountId": uid}},
		{"/verify-password", map[string]any{"password": secPassword}},
		{"/update-session", map[string]any{"x": 1}},
		{"/send-verification-email", map[string]any{"email": "victim@example.com"}},
		{"/request-password-reset", map[string]any{"email": "victim@example.com"}},
		{"/reset-password", map[string]any{"token": "x", "newPassword": "attacker-chosen-9"}},
		{"/change-email", map[string]any{"newEmail": "attacker@evil.example"}},
		{"/delete-user", map[string]any{}},
		{"/sign-in/social", map[string]any{"provider": "github", "callbackURL": "/"}},
		{"/link-social", map[string]any{"provider": "github"}},
		{"/get-access-token", map[string]any{"providerId": "github"}},
		{"/refresh-token", map[string]any{"providerId": "github"}},
	}
	attacks := []struct {
		name    string
		headers []string
		code    string
	}{
		{"no origin and no referer", []string{"Origin", ""}, "MISSING_OR_NULL_ORIGIN"},
		{"null origin", []string{"Origin", "null"}, "MISSING_OR_NULL_ORIGIN"},
		{"null origin from a cross-site context", []string{"Origin", "null", "Sec-Fetch-Site", "cross-site"}, "MISSING_OR_NULL_ORIGIN"},
		{"foreign origin", []string{"Origin", "https://evil.example"}, "INVALID_ORIGIN"},
		{"foreign origin claiming same-origin", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "same-origin"}, "INVALID_ORIGIN"},
		{"suffix look-alike", []string{"Origin", "http://app.example.test.evil.example"}, "INVALID_ORIGIN"},
		{"prefix look-alike", []string{"Origin", "http://evilapp.example.test"}, "INVALID_ORIGIN"},
		{"sibling subdomain", []string{"Origin", "http://evil.app.example.test"}, "INVALID_ORIGIN"},
		{"hyphen look-alike", []string{"Origin", "http://app-example.test"}, "INVALID_ORIGIN"},
		{"longer TLD", []string{"Origin", "http://app.example.tests"}, "INVALID_ORIGIN"},
		{"other port", []string{"Origin", "http://app.example.test:8443"}, "INVALID_ORIGIN"},
		{"other scheme", []string{"Origin", "https://app.example.test"}, "INVALID_ORIGIN"},
		{"userinfo trick", []string{"Origin", "http://app.example.test@evil.example"}, "INVALID_ORIGIN"},
		{"foreign referer", []string{"Origin", "", "Referer", "https://evil.example/page"}, "INVALID_ORIGIN"},
		{"look-alike referer", []string{"Origin", "", "Referer", "http://app.example.test.evil.example/settings"}, "INVALID_ORIGIN"},
		{"trusted origin inside a foreign referer", []string{"Origin", "", "Referer", "https://evil.example/?r=http://app.example.test"}, "INVALID_ORIGIN"},
		{"relative referer", []string{"Origin", "", "Referer", "/settings"}, "INVALID_ORIGIN"},
		{"foreign origin with a trusted referer", []string{"Origin", "https://evil.example", "Referer", trusted + "/settings"}, "INVALID_ORIGIN"},
	}
	for _, ep := range endpoints {
		t.Run(strings.TrimPrefix(ep.path, "/"), func(t *testing.T) {
			for _, a := range attacks {
				r := victim.do("POST", "/api/auth"+ep.path, ep.body, a.headers...)
				if r.Status != 403 || r.code() != a.code {
					t.Errorf("%s: %d %s, want 403 %s", a.name, r.Status, r.Raw, a.code)
				}
				if len(r.Header.Values("Set-Cookie")) != 0 {
					t.Errorf("%s: a refused request set cookies: %v", a.name, r.Header.Values("Set-Cookie"))
				}
			}
		})
	}
	// Nothing happened: same session, same name, same email, same password, one session.
	g := victim.do("GET", "/api/auth/get-session", nil)
	if g.JSON == nil || g.JSON["session"].(map[string]any)["token"] != token {
		t.Fatalf("the victim's session did not survive: %s", g.Raw)
	}
	if u := g.JSON["user"].(map[string]any); u["name"] != "Test User" || u["email"] != "victim@example.com" {
		t.Errorf("the victim's profile changed: %v", u)
	}
	if list, _ := st.SessionsByUser(context.Background(), uid, store.NewTime(time.Unix(0, 0))); len(list) != 1 {
		t.Errorf("the victim has %d sessions, want 1", len(list))
	}
	if _, err := st.UserByEmail(context.Background(), "csrf-new@example.com"); err == nil {
		t.Error("a cross-site sign-up created a user")
	}
	expect(t, e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "victim@example.com", "password": secPassword}), 200, "")

	// What a browser sends from the trusted site still works: Referer without Origin, and an opaque
	// (null) origin that the browser itself reports as same-origin.
	expect(t, victim.do("POST", "/api/auth/update-user", map[string]any{"name": "Via Referer"}, "Origin", "", "Referer", trusted+"/settings"), 200, "")
	expect(t, victim.do("POST", "/api/auth/update-user", map[string]any{"name": "Via Null"}, "Origin", "null", "Sec-Fetch-Site", "same-origin"), 200, "")
}

// TestOriginCheckSignInWithoutCookies covers login CSRF: sign-in and sign-up carry no cookie the
// first time, so fetch metadata and Origin decide. A form posted from another site (a cross-site
// navigation) is refused, and so is any browser request from an untrusted origin.
func TestOriginCheckSignInWithoutCookies(t *testing.T) {
	st := storetest.OpenSQLite(t)
	e := newEnv(t, st)
	signUp(t, e.client(), "login-csrf@example.com", secPassword)
	form := func(email string) string {
		return url.Values{"name": {"F"}, "email": {email}, "password": {secPassword}}.Encode()
	}
	n := 0
	for _, path := range []string{"/api/auth/sign-in/email", "/api/auth/sign-up/email"} {
		refused := []struct {
			name    string
			headers []string
			code    string
		}{
			{"cross-site navigation (form post)", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Dest", "document"}, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED"},
			{"cross-site navigation without Origin", []string{"Origin", "", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate"}, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED"},
			{"cross-site fetch", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "cors"}, "INVALID_ORIGIN"},
			{"same-site navigation from a sibling", []string{"Origin", "http://evil.app.example.test", "Sec-Fetch-Site", "same-site", "Sec-Fetch-Mode", "navigate"}, "INVALID_ORIGIN"},
			{"fetch metadata without Origin", []string{"Origin", "", "Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "cors"}, "MISSING_OR_NULL_ORIGIN"},
			{"null origin from a cross-site context", []string{"Origin", "null", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate"}, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED"},
			{"null origin without fetch metadata", []string{"Origin", "null"}, "MISSING_OR_NULL_ORIGIN"},
			{"foreign origin, no fetch metadata", []string{"Origin", "https://evil.example"}, "INVALID_ORIGIN"},
			{"look-alike origin", []string{"Origin", "http://app.example.test.evil.example"}, "INVALID_ORIGIN"},
			{"foreign referer only", []string{"Origin", "", "Referer", "https://evil.example/login"}, "INVALID_ORIGIN"},
		}
		for _, a := range refused {
			n++
			email := "csrf" + strconv.Itoa(n) + "@example.com"
			if strings.Contains(path, "sign-in") {
				email = "login-csrf@example.com"
			}
			h := append([]string{"Content-Type", "application/x-www-form-urlencoded"}, a.headers...)
			r := e.client().do("POST", path, form(email), h...)
			if r.Status != 403 || r.code() != a.code {
				t.Errorf("%s %s: %d %s, want 403 %s", path, a.name, r.Status, r.Raw, a.code)
			}
			if len(r.Header.Values("Set-Cookie")) != 0 {
				t.Errorf("%s %s: refused request set cookies", path, a.name)
			}
		}
	}
	if _, err := st.UserByEmail(context.Background(), "csrf1@example.com"); err == nil {
		t.Error("a refused cross-site sign-up created a user")
	}
	// The same endpoints from the app, from an opaque same-origin context, and from a server.
	for _, h := range [][]string{
		{"Origin", trusted, "Sec-Fetch-Site", "same-site", "Sec-Fetch-Mode", "cors"},
		{"Origin", "null", "Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "navigate"},
		{"Origin", ""},
	} {
		r := e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "login-csrf@example.com", "password": secPassword}, h...)
		if r.Status != 200 {
			t.Errorf("sign-in with %v = %d %s, want 200", h, r.Status, r.Raw)
		}
	}
}

// TestOriginCheckCORSPreflight: only trusted origins are allowed to read answers or send
// credentialed cross-origin requests; look-alikes and null get no CORS grant at all.
func TestOriginCheckCORSPreflight(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	for _, tt := range []struct {
		origin string
		allow  bool
	}{
		{trusted, true},
		{testBaseURL, true},
		{"https://evil.example", false},
		{"http://app.example.test.evil.example", false},
		{"http://evilapp.example.test", false},
		{"http://app.example.test:8443", false},
		{"null", false},
		{"http://app.example.test/", false},
	} {
		r := e.client().do("OPTIONS", "/api/auth/update-user", nil, "Origin", tt.origin,
			"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
		got := r.Header.Get("Access-Control-Allow-Origin")
		if tt.allow && (got != tt.origin || r.Header.Get("Access-Control-Allow-Credentials") != "true") {
			t.Errorf("preflight from %s: allow-origin %q, credentials %q", tt.origin, got, r.Header.Get("Access-Control-Allow-Credentials"))
		}
		if !tt.allow && got != "" {
			t.Errorf("preflight from %s was granted %q", tt.origin, got)
		}
	}
}

// TestCookieAndTokenPurposeSessionCredentials: only a session token signed with this server's
// secret, or the raw token as a bearer, is a session. Tampered, unsigned, truncated and foreign
// values, and other signed values of this server (the dont_remember cookie, a verification JWT
// re-shaped as a signed cookie), are not (CVE-2025-71402).
func TestCookieAndTokenPurposeSessionCredentials(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		c := e.client()
		token := signUp(t, c, "purpose@example.com", secPassword).JSON["token"].(string)
		dr := e.client()
		expect(t, dr.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "purpose@example.com", "password": secPassword, "rememberMe": false}), 200, "")
		secret := []byte(testSecret)
		dontRemember, _ := url.PathUnescape(dr.cookieValue("better-auth.dont_remember"))
		if dontRemember != session.Sign(secret, "true") {
			t.Fatalf("dont_remember cookie = %q", dontRemember)
		}

		signed := session.Sign(secret, token)
		value, sig, _ := strings.Cut(signed, ".")
		flip := func(s string) string {
			b := []byte(s)
			if b[0] == 'A' {
				b[0] = 'B'
			} else {
				b[0] = 'A'
			}
			return string(b)
		}
		// A verification JWT h.p.s carries HMAC-SHA256(secret, "h.p"): the same MAC a signed cookie
		// with value "h.p" has, only in another base64 alphabet.
		jwt := mintJWT(t, "HS256", secret, `{"alg":"HS256"}`, map[string]any{"email": "purpose@example.com", "iat": 1, "exp": 4102444800})
		parts := strings.Split(jwt, ".")
		mac, _ := base64.RawURLEncoding.DecodeString(parts[2])
		jwtAsCookie := parts[0] + "." + parts[1] + "." + base64.StdEncoding.EncodeToString(mac)

		bad := []struct {
			name, v    string
			cookieOnly bool // a raw token is a valid bearer by design (Better-Auth's bearer plugin)
		}{
			{"tampered token", flip(value) + "." + sig, false},
			{"tampered signature", value + "." + flip(sig), false},
			{"unsigned token", token, true},
			{"token and a dot", token + ".", false},
			{"truncated signature", value + "." + sig[:40], false},
			{"signature without padding", value + "." + strings.TrimSuffix(sig, "="), false},
			{"truncated token", value[:16] + "." + sig, false},
			{"signature only", "." + sig, false},
			{"signed with another secret", session.Sign([]byte("another-secret-0123456789abcdef0123456789"), token), false},
			{"signed twice", session.Sign(secret, signed), false},
			{"empty", "", false},
			{"the dont_remember cookie's value", dontRemember, false},
			{"a verification JWT re-shaped as a signed value", jwtAsCookie, false},
		}
		check := func(t *testing.T, what string, headers ...string) {
			t.Helper()
			anon := e.client() // a fresh jar each time: an accepted value would leave a cookie behind
			if r := anon.do("GET", "/api/auth/get-session", nil, headers...); r.Status != 200 || string(r.Raw) != "null" {
				t.Errorf("%s: get-session = %d %s, want null", what, r.Status, r.Raw)
			}
			if r := anon.do("POST", "/api/auth/update-user", map[string]any{"name": "Hijacked"}, headers...); r.Status != 401 && r.Status != 403 {
				t.Errorf("%s: update-user = %d %s, want 401", what, r.Status, r.Raw)
			}
		}
		for _, b := range bad {
			check(t, "cookie: "+b.name, "Cookie", "better-auth.session_token="+session.EncodeURIComponent(b.v))
			if b.v != "" && !b.cookieOnly {
				check(t, "bearer: "+b.name, "Authorization", "Bearer "+b.v)
			}
		}
		check(t, "cookie: undecodable percent escapes", "Cookie", "better-auth.session_token=%zz"+session.EncodeURIComponent(signed))
		for _, h := range []string{"Basic " + base64.StdEncoding.EncodeToString([]byte("purpose@example.com:"+secPassword)), "Bearer", "Bearer ", "Token " + token, "Bearer " + token + "x", "Bearer " + strings.Repeat("a", 300)} {
			check(t, "authorization "+strconv.Quote(h), "Authorization", h)
		}
		// A session cookie is not a dont_remember cookie's stand-in either way round: the real
		// session still works and is still refreshed.
		for _, h := range [][]string{
			{"Cookie", "better-auth.session_token=" + session.EncodeURIComponent(signed)},
			{"Authorization", "Bearer " + token},
			{"Authorization", "bearer  " + signed},
		} {
			if r := e.client().do("GET", "/api/auth/get-session", nil, h...); r.JSON == nil {
				t.Errorf("control %v: get-session = %s, want the session", h, r.Raw)
			}
		}
		if u := c.do("GET", "/api/auth/get-session", nil).JSON["user"].(map[string]any); u["name"] != "Test User" {
			t.Errorf("user renamed to %v", u["name"])
		}
	})
}

// TestCookieAndTokenPurposeEmailTokens: each emailed token works for its own purpose and its own
// user only, and once (CVE-2026-110862, the 1.7.16 note on links working for another account).
func TestCookieAndTokenPurposeEmailTokens(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		sink := newSMTPSink(t)
		e := newEnv(t, st, mailOptions(t, "smtp+insecure://"+sink.addr, nil, func(c *auth.Config) {
			c.Email.DeleteUserEnabled = true
			c.Email.DeleteUserVerification = true
			c.Email.ChangeEmailEnabled = true
		}))
		ctx := context.Background()
		a, b := e.client(), e.client()
		tokA := signUp(t, a, "owner@example.com", secPassword).JSON["token"].(string)
		signUp(t, b, "other@example.com", secPassword)
		anon := e.client()
		invalidReset := func(what, token string) {
			t.Helper()
			expect(t, anon.do("POST", "/api/auth/reset-password", map[string]any{"token": token, "newPassword": "hijacked-password-1"}), 400, "INVALID_TOKEN")
			r := anon.do("GET", "/api/auth/reset-password/"+url.PathEscape(token)+"?callbackURL=/reset", nil)
			if loc := r.Header.Get("Location"); r.Status != 302 || !strings.Contains(loc, "error=INVALID_TOKEN") || strings.Contains(loc, "token=") {
				t.Errorf("%s as a reset link: %d %q", what, r.Status, loc)
			}
		}
		notVerification := func(what, token string) {
			t.Helper()
			if r := anon.do("GET", "/api/auth/verify-email?token="+url.QueryEscape(token), nil); r.Status != 401 || r.code() != "INVALID_TOKEN" {
				t.Errorf("%s as a verification token: %d %s", what, r.Status, r.Raw)
			}
		}
		notSession := func(what, token string) {
			t.Helper()
			if r := anon.do("GET", "/api/auth/get-session", nil, "Authorization", "Bearer "+token); string(r.Raw) != "null" {
				t.Errorf("%s as a bearer token: %s", what, r.Raw)
			}
		}
		notDeletion := func(what, token string) {
			t.Helper()
			expect(t, a.do("POST", "/api/auth/delete-user", map[string]any{"token": token}), 404, "INVALID_TOKEN")
			expect(t, a.do("GET", "/api/auth/delete-user/callback?token="+url.QueryEscape(token), nil), 404, "INVALID_TOKEN")
		}

		// A session token is no reset, verification or deletion token.
		invalidReset("session token", tokA)
		notVerification("session token", tokA)
		notDeletion("session token", tokA)

		// The reset token.
		expect(t, anon.do("POST", "/api/auth/request-password-reset", map[string]any{"email": "owner@example.com", "redirectTo": "/reset"}), 200, "")
		r := anon.do("GET", e.link(t, sink.next(t)), nil)
		reset := strings.TrimPrefix(r.Header.Get("Location"), testBaseURL+"/reset?token=")
		if r.Status != 302 || reset == "" || strings.Contains(reset, "/") {
			t.Fatalf("reset link = %d %q", r.Status, r.Header.Get("Location"))
		}
		notVerification("reset token", reset)
		notSession("reset token", reset)
		notDeletion("reset token", reset)

		// The verification JWT.
		expect(t, a.do("POST", "/api/auth/send-verification-email", map[string]any{"email": "owner@example.com"}), 200, "")
		vlink := e.link(t, sink.next(t))
		vu, _ := url.Parse(vlink)
		jwt := vu.Query().Get("token")
		if strings.Count(jwt, ".") != 2 {
			t.Fatalf("verification link %q has no JWT", vlink)
		}
		invalidReset("verification JWT", jwt)
		notSession("verification JWT", jwt)
		notDeletion("verification JWT", jwt)

		// The deletion token: not for another user, and not for a reset.
		expect(t, a.do("POST", "/api/auth/delete-user", map[string]any{"callbackURL": "/bye"}), 200, "")
		dlink := e.link(t, sink.next(t))
		du, _ := url.Parse(dlink)
		del := du.Query().Get("token")
		invalidReset("deletion token", del)
		notVerification("deletion token", del)
		notSession("deletion token", del)
		expect(t, b.do("GET", dlink, nil), 404, "INVALID_TOKEN")
		expect(t, b.do("POST", "/api/auth/delete-user", map[string]any{"token": del}), 404, "INVALID_TOKEN")
		for _, email := range []string{"owner@example.com", "other@example.com"} {
			if _, err := st.UserByEmail(ctx, email); err != nil {
				t.Fatalf("%s was deleted by another user's token: %v", email, err)
			}
		}

		// An email-change link of one account, opened in another account's session, does nothing.
		expect(t, a.do("POST", "/api/auth/change-email", map[string]any{"newEmail": "owner-new@example.com"}), 200, "")
		clink := e.link(t, sink.next(t))
		r = b.do("GET", clink, nil)
		if loc := r.Header.Get("Location"); r.Status < 400 && !strings.Contains(loc, "error=") {
			t.Errorf("another account's change-email link = %d %q %s, want an error", r.Status, loc, r.Raw)
		}
		if u, err := st.UserByEmail(ctx, "owner@example.com"); err != nil || u.Email != "owner@example.com" {
			t.Errorf("owner's email changed through another session's visit: %v", err)
		}

		// Reset tokens are single-use.
		expect(t, anon.do("POST", "/api/auth/reset-password", map[string]any{"token": reset, "newPassword": "brand-new-secret-7"}), 200, "")
		invalidReset("used reset token", reset)
		expect(t, e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "owner@example.com", "password": "brand-new-secret-7"}), 200, "")

		// The other user's attempt spent the link (as in Better-Auth: a leaked link cannot be
		// probed first and used afterwards), and deleted nobody; a fresh link works for its owner.
		expect(t, a.do("GET", dlink, nil), 404, "INVALID_TOKEN")
		expect(t, a.do("POST", "/api/auth/delete-user", map[string]any{"callbackURL": "/bye"}), 200, "")
		r = a.do("GET", e.link(t, sink.next(t)), nil)
		if r.Status != 302 || r.Header.Get("Location") != "/bye" {
			t.Errorf("owner's deletion link = %d %q %s", r.Status, r.Header.Get("Location"), r.Raw)
		}
		if _, err := st.UserByEmail(ctx, "owner@example.com"); err == nil {
			t.Error("owner not deleted by their own link")
		}
		if _, err := st.UserByEmail(ctx, "other@example.com"); err != nil {
			t.Errorf("the other user went too: %v", err)
		}
	})
}

// TestCookieAndTokenPurposeResetTokenRace: a reset token is consumed atomically, so of ten
// simultaneous uses exactly one succeeds (the single-use race of Better-Auth 1.6.11's notes).
func TestCookieAndTokenPurposeResetTokenRace(t *testing.T) {
	storetest.RunSerial(t, func(t *testing.T, st *store.Store) {
		sink := newSMTPSink(t)
		e := newEnv(t, st, mailOptions(t, "smtp+insecure://"+sink.addr, nil, nil), func(o *envOptions) {
			// Room for all ten hashes at once, so the requests reach the token together.
			o.auth.Hasher = auth.HasherConfig{Concurrency: 10, MaxWait: time.Minute}
		})
		signUp(t, e.client(), "race@example.com", secPassword)
		expect(t, e.client().do("POST", "/api/auth/request-password-reset", map[string]any{"email": "race@example.com", "redirectTo": "/reset"}), 200, "")
		r := e.client().do("GET", e.link(t, sink.next(t)), nil)
		token := strings.TrimPrefix(r.Header.Get("Location"), testBaseURL+"/reset?token=")
		var wg sync.WaitGroup
		var mu sync.Mutex
		winners := []int{}
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.client().do("POST", "/api/auth/reset-password", map[string]any{"token": token, "newPassword": "race-password-" + strconv.Itoa(i)})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case r.Status == 200:
					winners = append(winners, i)
				case r.Status != 400 || r.code() != "INVALID_TOKEN":
					t.Errorf("concurrent reset %d = %d %s", i, r.Status, r.Raw)
				}
			}()
		}
		wg.Wait()
		if len(winners) != 1 {
			t.Fatalf("%d concurrent resets succeeded (%v), want exactly 1", len(winners), winners)
		}
		expect(t, e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "race@example.com", "password": "race-password-" + strconv.Itoa(winners[0])}), 200, "")
	})
}

// TestIdentityNeverFromBody: no endpoint takes the acting user from the request. A userId (or a
// user or session object) naming someone else is ignored, whether the caller has no session or
// one of their own (CVE-2025-61928).
func TestIdentityNeverFromBody(t *testing.T) {
	st := storetest.OpenSQLite(t)
	e := newEnv(t, st, func(o *envOptions) {
		o.auth.Email.DeleteUserEnabled = true
		o.auth.Email.ChangeEmailEnabled = true
	})
	victim := e.client()
	vr := signUp(t, victim, "victim-id@example.com", secPassword)
	vid, vtok := vr.JSON["user"].(map[string]any)["id"].(string), vr.JSON["token"].(string)
	claim := map[string]any{"userId": vid, "user": map[string]any{"id": vid, "email": "victim-id@example.com"},
		"session": map[string]any{"userId": vid, "token": vtok}}
	with := func(body map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range claim {
			out[k] = v
		}
		for k, v := range body {
			out[k] = v
		}
		return out
	}
	endpoints := []struct {
		method, path string
		body         map[string]any
	}{
		{"POST", "/update-user", map[string]any{"name": "Pwned"}},
		{"POST", "/change-password", map[string]any{"currentPassword": secPassword, "newPassword": "attacker-chosen-9"}},
		{"POST", "/change-email", map[string]any{"newEmail": "attacker@evil.example"}},
		{"POST", "/delete-user", map[string]any{"password": secPassword}},
		{"POST", "/revoke-sessions", map[string]any{}},
		{"POST", "/revoke-other-sessions", map[string]any{}},
		{"POST", "/revoke-session", map[string]any{"token": vtok}},
		{"POST", "/unlink-account", map[string]any{"accountId": vid}},
		{"POST", "/verify-password", map[string]any{"password": secPassword}},
		{"POST", "/update-session", map[string]any{}},
		{"POST", "/link-social", map[string]any{"provider": "github"}},
		{"POST", "/get-access-token", map[string]any{"providerId": "credential"}},
		{"POST", "/refresh-token", map[string]any{"providerId": "credential"}},
		{"GET", "/list-sessions?userId=" + vid, nil},
		{"GET", "/list-accounts?userId=" + vid, nil},
		{"GET", "/account-info?userId=" + vid + "&accountId=" + vid, nil},
	}
	anon := e.client()
	for _, ep := range endpoints {
		var body any
		if ep.body != nil {
			body = with(ep.body)
		}
		if r := anon.do(ep.method, "/api/auth"+ep.path, body); r.Status < 400 {
			t.Errorf("signed out %s %s naming the victim = %d %s", ep.method, ep.path, r.Status, r.Raw)
		}
	}
	attacker := e.client()
	signUp(t, attacker, "attacker-id@example.com", secPassword)
	expect(t, attacker.do("POST", "/api/auth/update-user", with(map[string]any{"name": "Renamed"})), 200, "")
	expect(t, attacker.do("POST", "/api/auth/revoke-sessions", with(map[string]any{})), 200, "")
	g := victim.do("GET", "/api/auth/get-session", nil)
	if g.JSON == nil || g.JSON["user"].(map[string]any)["name"] != "Test User" || g.JSON["session"].(map[string]any)["token"] != vtok {
		t.Errorf("the victim was touched: %s", g.Raw)
	}
	expect(t, e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "victim-id@example.com", "password": secPassword}), 200, "")
	if u, _ := st.UserByEmail(context.Background(), "attacker-id@example.com"); u == nil || u.Name != "Renamed" {
		t.Errorf("the attacker's own update went elsewhere: %+v", u)
	}
}

// mintJWT signs header.claims with alg ("HS256", "HS384", "HS512" or "none") and key.
func mintJWT(t *testing.T, alg string, key []byte, header string, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	signing := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString(payload)
	var h func() hash.Hash
	switch alg {
	case "HS256":
		h = sha256.New
	case "HS384":
		h = sha512.New384
	case "HS512":
		h = sha512.New
	default:
		return signing + "."
	}
	mac := hmac.New(h, key)
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// TestCookieAndTokenPurposeVerificationJWT: the verification link's JWT is HS256 with this
// server's secret and nothing else (ASVS 9.1.1-9.1.3, 9.2.1): no alg none, no other HMAC, no
// edited payload, no expired token.
func TestCookieAndTokenPurposeVerificationJWT(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		sink := newSMTPSink(t)
		e := newEnv(t, st, mailOptions(t, "smtp+insecure://"+sink.addr, nil, nil))
		uid := signUp(t, e.client(), "jwt@example.com", secPassword).JSON["user"].(map[string]any)["id"].(string)
		signUp(t, e.client(), "jwt-other@example.com", secPassword)
		secret := []byte(testSecret)
		now := e.clock.Now().Unix()
		claims := map[string]any{"email": "jwt@example.com", "userId": uid, "iat": now, "exp": now + 3600}
		good := mintJWT(t, "HS256", secret, `{"alg":"HS256"}`, claims)
		gp := strings.Split(good, ".")
		other := mintJWT(t, "HS256", secret, `{"alg":"HS256"}`, map[string]any{"email": "jwt-other@example.com", "iat": now, "exp": now + 3600})
		op := strings.Split(other, ".")
		anon := e.client()
		verified := func(email string) bool {
			u, err := st.UserByEmail(context.Background(), email)
			if err != nil {
				t.Fatal(err)
			}
			return u.EmailVerified
		}

		forged := []struct{ name, token string }{
			{"alg none", mintJWT(t, "none", nil, `{"alg":"none"}`, claims)},
			{"alg None", mintJWT(t, "none", nil, `{"alg":"None"}`, claims)},
			{"alg none with the real signature", mintJWT(t, "none", nil, `{"alg":"none"}`, claims) + gp[2]},
			{"HS512 with the real secret", mintJWT(t, "HS512", secret, `{"alg":"HS512"}`, claims)},
			{"HS384 with the real secret", mintJWT(t, "HS384", secret, `{"alg":"HS384"}`, claims)},
			{"HS256 with another secret", mintJWT(t, "HS256", []byte("another-secret-0123456789abcdef0123456789"), `{"alg":"HS256"}`, claims)},
			{"critical header", mintJWT(t, "HS256", secret, `{"alg":"HS256","crit":["exp"]}`, claims)},
			{"payload of another token, signature kept", gp[0] + "." + op[1] + "." + gp[2]},
			{"edited payload, signature kept", gp[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"email":"jwt-other@example.com","iat":1,"exp":4102444800}`)) + "." + gp[2]},
			{"signature dropped", gp[0] + "." + gp[1] + "."},
			{"two parts", gp[0] + "." + gp[1]},
			{"four parts", good + "." + gp[2]},
			{"padded base64", good + "="},
		}
		for _, f := range forged {
			r := anon.do("GET", "/api/auth/verify-email?token="+url.QueryEscape(f.token), nil)
			if r.Status != 401 || r.code() != "INVALID_TOKEN" {
				t.Errorf("%s: %d %s, want 401 INVALID_TOKEN", f.name, r.Status, r.Raw)
			}
		}
		if verified("jwt@example.com") || verified("jwt-other@example.com") {
			t.Fatal("a forged token verified an email")
		}

		// Expired: minted with a past exp, and a real emailed link after its hour.
		expired := mintJWT(t, "HS256", secret, `{"alg":"HS256"}`, map[string]any{"email": "jwt@example.com", "userId": uid, "iat": now - 7200, "exp": now - 3600})
		expect(t, anon.do("GET", "/api/auth/verify-email?token="+expired, nil), 401, "TOKEN_EXPIRED")
		r := anon.do("GET", "/api/auth/verify-email?token="+expired+"&callbackURL=/verified", nil)
		if r.Status != 302 || r.Header.Get("Location") != "/verified?error=TOKEN_EXPIRED" {
			t.Errorf("expired token with callback = %d %q", r.Status, r.Header.Get("Location"))
		}
		expect(t, anon.do("POST", "/api/auth/send-verification-email", map[string]any{"email": "jwt-other@example.com"}), 200, "")
		link := e.link(t, sink.next(t))
		e.clock.Advance(time.Hour + time.Second)
		if r := anon.do("GET", link, nil); r.Status != 302 || !strings.Contains(r.Header.Get("Location"), "error=TOKEN_EXPIRED") {
			t.Errorf("emailed link after an hour = %d %q", r.Status, r.Header.Get("Location"))
		}
		if verified("jwt@example.com") || verified("jwt-other@example.com") {
			t.Fatal("an expired token verified an email")
		}

		// Control: the same claims, correctly signed and in date, do verify.
		e.clock.Advance(-time.Hour - time.Second)
		expect(t, anon.do("GET", "/api/auth/verify-email?token="+good, nil), 200, "")
		if !verified("jwt@example.com") {
			t.Error("a valid token did not verify")
		}
	})
}

// TestRateLimitKeyEvasion: spelling a path differently, claiming another address, or rotating
// through an IPv6 /64 does not buy more attempts (CVE-2025-71399, CVE-2026-45364). A variant
// either shares the canonical budget or never reaches a handler (404).
func TestRateLimitKeyEvasion(t *testing.T) {
	const canonical = "/api/auth/sign-in/email"
	// A malformed email is answered by the sign-in handler (400) without the cost of a hash.
	creds := map[string]any{"email": "not-an-email", "password": "wrong-password-1"}
	variants := []string{
		"/API/AUTH/SIGN-IN/EMAIL",
		"/api/auth/Sign-In/Email",
		"/api/auth//sign-in/email",
		"//api/auth/sign-in/email",
		"/api//auth/sign-in//email",
		"/api/auth/sign-in/email/",
		"/api/auth/sign-in/email//",
		"/api/auth/sign-in/email?x=1",
		"/api/auth/sign-in/email?callbackURL=/a&b=c",
		"/api/auth/./sign-in/email",
		"/api/auth/sign-in/./email",
		"/api/auth/x/../sign-in/email",
		"/api/auth/sign%2Din/email",
		"/api/auth/sign-in%2Femail",
		"/api/auth/%73ign-in/email",
		"/api/auth/sign-in/email%20",
		"/api/auth/sign-in/email;x=1",
		"/api/auth/sign-in/email%00",
	}
	handled := func(r *response) bool { return r.Status != 429 && !(r.Status == 404 && len(r.Raw) == 0) }

	t.Run("path variants", func(t *testing.T) {
		e := newEnv(t, storetest.OpenSQLite(t), rateLimited(web.NewMemoryRateLimitStore()))
		c := e.client()
		for i, v := range variants {
			ip := "198.51.100." + strconv.Itoa(i+1)
			// The canonical budget spent, the variant gets nothing more.
			for j := 0; j < 3; j++ {
				expect(t, c.do("POST", canonical, creds, "X-Forwarded-For", ip), 400, "INVALID_EMAIL")
			}
			if r := c.do("POST", v, creds, "X-Forwarded-For", ip); handled(r) {
				t.Errorf("%s after the budget = %d %s, want 429 (or an unhandled 404)", v, r.Status, r.Raw)
			}
			// The other way round: attempts through the variant count against the canonical path.
			ip2 := "203.0.113." + strconv.Itoa(i+1)
			n := 0
			for j := 0; j < 4; j++ {
				r := c.do("POST", v, creds, "X-Forwarded-For", ip2)
				if handled(r) {
					n++
				}
			}
			if n > 3 {
				t.Errorf("%s: %d attempts in one window, want at most 3", v, n)
			}
			if r := c.do("POST", canonical, creds, "X-Forwarded-For", ip2); n > 0 && r.Status != 429 {
				t.Errorf("%s reached the handler but did not count: canonical then = %d", v, r.Status)
			}
		}
	})

	t.Run("spoofed client address without trusted proxies", func(t *testing.T) {
		e := newEnv(t, storetest.OpenSQLite(t), func(o *envOptions) {
			o.web.RateLimit = web.RateLimitConfig{Enabled: true, Store: web.NewMemoryRateLimitStore()}
		})
		c := e.client()
		spoofs := [][]string{
			{"X-Forwarded-For", "192.0.2.1"},
			{"X-Real-IP", "192.0.2.2"},
			{"Forwarded", "for=192.0.2.3"},
			{"True-Client-IP", "192.0.2.4"},
			{"CF-Connecting-IP", "192.0.2.5"},
			{"X-Client-IP", "192.0.2.6", "X-Forwarded-For", "192.0.2.7, 192.0.2.8"},
		}
		allowed := 0
		for _, h := range spoofs {
			if r := c.do("POST", canonical, creds, h...); r.Status != 429 {
				allowed++
			}
		}
		if allowed != 3 {
			t.Errorf("%d of %d sign-ins with spoofed addresses got through, want 3", allowed, len(spoofs))
		}
	})

	t.Run("spoofed hops before the trusted proxy", func(t *testing.T) {
		e := newEnv(t, storetest.OpenSQLite(t), rateLimited(web.NewMemoryRateLimitStore()))
		c := e.client()
		allowed := 0
		for i := 0; i < 6; i++ {
			// The client invents the left part; the proxy (loopback, trusted) appends the real address.
			xff := "10.0.0." + strconv.Itoa(i) + ", 203.0.113." + strconv.Itoa(100+i) + ", 198.51.100.200"
			if r := c.do("POST", canonical, creds, "X-Forwarded-For", xff); r.Status != 429 {
				allowed++
			}
		}
		if allowed != 3 {
			t.Errorf("%d of 6 sign-ins with rotated forged hops got through, want 3", allowed)
		}
	})

	t.Run("IPv6 rotation and aliasing inside a /64", func(t *testing.T) {
		e := newEnv(t, storetest.OpenSQLite(t), rateLimited(web.NewMemoryRateLimitStore()))
		c := e.client()
		addrs := []string{
			"2001:db8:abcd:12::1",
			"2001:DB8:ABCD:12::2",
			"2001:0db8:abcd:0012:0000:0000:0000:0003",
			"2001:db8:abcd:12:ffff:ffff:ffff:ffff",
			"2001:db8:abcd:12:1234:5678:9abc:def0",
		}
		allowed := 0
		for _, a := range addrs {
			if r := c.do("POST", canonical, creds, "X-Forwarded-For", a); r.Status != 429 {
				allowed++
			}
		}
		if allowed != 3 {
			t.Errorf("%d of %d sign-ins from one /64 got through, want 3", allowed, len(addrs))
		}
		// An IPv4 address and its IPv4-mapped IPv6 form are one client.
		allowed = 0
		for _, a := range []string{"198.51.100.50", "::ffff:198.51.100.50", "::ffff:c633:6432", "198.51.100.50"} {
			if r := c.do("POST", canonical, creds, "X-Forwarded-For", a); r.Status != 429 {
				allowed++
			}
		}
		if allowed != 3 {
			t.Errorf("%d of 4 sign-ins from one IPv4 address in two spellings got through, want 3", allowed)
		}
		if r := c.do("POST", canonical, creds, "X-Forwarded-For", "2001:db8:abcd:13::1"); r.Status == 429 {
			t.Error("the neighbouring /64 was limited too")
		}
	})
}

// median returns the middle of ds (sorted in place).
func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

// timeBoth alternates a and b n times and returns the median duration of each.
func timeBoth(n int, a, b func(i int)) (time.Duration, time.Duration) {
	var da, db []time.Duration
	for i := 0; i < n; i++ {
		start := time.Now()
		a(i)
		da = append(da, time.Since(start))
		start = time.Now()
		b(i)
		db = append(db, time.Since(start))
	}
	return median(da), median(db)
}

// similar reports whether two medians are within 2x of each other, or so close in absolute terms
// (10 ms, below a network's jitter for a handful of samples) that the ratio of two sub-millisecond
// figures means nothing.
func similar(a, b time.Duration) bool {
	if a < b {
		a, b = b, a
	}
	return a <= 2*b || a-b < 10*time.Millisecond
}

// bodyShape replaces every leaf of a decoded JSON value with its type, so two answers about
// different users can be compared for shape.
func bodyShape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = bodyShape(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = bodyShape(e)
		}
		return out
	case nil:
		return "null"
	}
	return reflect.TypeOf(v).String()
}

// TestUserEnumeration: no answer, and no timing, tells whether an email has an account
// (ASVS 6.3.8, Better-Auth issue #7972).
func TestUserEnumeration(t *testing.T) {
	t.Run("sign-up in generic mode", func(t *testing.T) {
		for _, mode := range []struct {
			name string
			edit func(*auth.Config)
		}{
			{"autoSignIn off", func(c *auth.Config) { c.DisableAutoSignIn = true }},
			{"email verification required", func(c *auth.Config) { c.RequireEmailVerification = true }},
		} {
			t.Run(mode.name, func(t *testing.T) {
				st := storetest.OpenSQLite(t)
				e := newEnv(t, st, mailOptions(t, "smtp+insecure://127.0.0.1:1", nil, mode.edit))
				c := e.client()
				expect(t, c.do("POST", "/api/auth/sign-up/email", map[string]any{"name": "Taken", "email": "taken@example.com", "password": secPassword}), 200, "")
				var known, fresh *response
				tk, tf := timeBoth(5, func(int) {
					known = e.client().do("POST", "/api/auth/sign-up/email", map[string]any{"name": "Taken", "email": "taken@example.com", "password": secPassword})
				}, func(i int) {
					fresh = e.client().do("POST", "/api/auth/sign-up/email", map[string]any{"name": "Taken", "email": "fresh" + strconv.Itoa(i) + "@example.com", "password": secPassword})
				})
				if known.Status != fresh.Status || known.Status != 200 {
					t.Fatalf("existing email = %d %s, new email = %d %s", known.Status, known.Raw, fresh.Status, fresh.Raw)
				}
				if !reflect.DeepEqual(bodyShape(known.JSON), bodyShape(fresh.JSON)) {
					t.Errorf("body shapes differ:\nexisting %s\nnew      %s", known.Raw, fresh.Raw)
				}
				ku, fu := known.JSON["user"].(map[string]any), fresh.JSON["user"].(map[string]any)
				for _, k := range []string{"name", "emailVerified", "image"} {
					if ku[k] != fu[k] {
						t.Errorf("user.%s: existing %v, new %v", k, ku[k], fu[k])
					}
				}
				if len(known.Header.Values("Set-Cookie")) != len(fresh.Header.Values("Set-Cookie")) {
					t.Errorf("Set-Cookie differs: %v vs %v", known.Header.Values("Set-Cookie"), fresh.Header.Values("Set-Cookie"))
				}
				if !similar(tk, tf) {
					t.Errorf("sign-up timing: existing email %v, new email %v", tk, tf)
				}
				if u, _ := st.UserByEmail(context.Background(), "taken@example.com"); u == nil || u.Name != "Taken" {
					t.Error("a duplicate sign-up touched the existing user")
				}
			})
		}
	})

	t.Run("sign-in", func(t *testing.T) {
		st := storetest.OpenSQLite(t)
		e := newEnv(t, st)
		signUp(t, e.client(), "member@example.com", secPassword)
		// A user without a password (as after a social sign-in) answers like everyone else.
		now := store.NewTime(time.Now())
		if err := st.CreateUser(context.Background(), &store.User{ID: session.NewID(), Name: "S", Email: "social@example.com", CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		attempt := func(email string) *response {
			return e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": "not-the-password-1"})
		}
		wrong, unknown, social := attempt("member@example.com"), attempt("nobody@example.com"), attempt("social@example.com")
		for name, r := range map[string]*response{"unknown email": unknown, "user without password": social} {
			if r.Status != wrong.Status || string(r.Raw) != string(wrong.Raw) || len(r.Header.Values("Set-Cookie")) != 0 {
				t.Errorf("%s = %d %s, wrong password = %d %s", name, r.Status, r.Raw, wrong.Status, wrong.Raw)
			}
		}
		tw, tu := timeBoth(7, func(int) { attempt("member@example.com") }, func(int) { attempt("nobody@example.com") })
		if ratio := float64(tu) / float64(tw); ratio < 0.5 || ratio > 2 {
			t.Errorf("sign-in timing: wrong password %v, unknown email %v (ratio %.2f, want 0.5-2)", tw, tu, ratio)
		}
	})

	t.Run("sign-in with lockout", func(t *testing.T) {
		e := newEnv(t, storetest.OpenSQLite(t), func(o *envOptions) {
			o.auth.Lockout = auth.LockoutConfig{Enabled: true, Threshold: 3}
		})
		signUp(t, e.client(), "locked@example.com", secPassword)
		var known, unknown *response
		for i := 0; i < 4; i++ {
			known = e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "locked@example.com", "password": "not-the-password-1"})
			unknown = e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "nobody@example.com", "password": "not-the-password-1"})
			if known.Status != unknown.Status || string(known.Raw) != string(unknown.Raw) || known.Header.Get("X-Retry-After") != unknown.Header.Get("X-Retry-After") {
				t.Errorf("attempt %d: known = %d %s (retry %q), unknown = %d %s (retry %q)", i+1,
					known.Status, known.Raw, known.Header.Get("X-Retry-After"), unknown.Status, unknown.Raw, unknown.Header.Get("X-Retry-After"))
			}
		}
		if known.Status != 429 {
			t.Errorf("after the threshold sign-in = %d %s, want 429", known.Status, known.Raw)
		}
	})

	t.Run("request-password-reset", func(t *testing.T) {
		sink := newSMTPSink(t)
		go func() {
			for range sink.msgs {
			}
		}()
		e := newEnv(t, storetest.OpenSQLite(t), mailOptions(t, "smtp+insecure://"+sink.addr, nil, nil))
		signUp(t, e.client(), "resetme@example.com", secPassword)
		var known, unknown *response
		tk, tu := timeBoth(7, func(int) {
			known = e.client().do("POST", "/api/auth/request-password-reset", map[string]any{"email": "resetme@example.com", "redirectTo": "/reset"})
		}, func(int) {
			unknown = e.client().do("POST", "/api/auth/request-password-reset", map[string]any{"email": "nobody@example.com", "redirectTo": "/reset"})
		})
		if known.Status != 200 || unknown.Status != known.Status || string(known.Raw) != string(unknown.Raw) {
			t.Errorf("known = %d %s, unknown = %d %s", known.Status, known.Raw, unknown.Status, unknown.Raw)
		}
		t.Logf("request-password-reset medians: known %v, unknown %v", tk, tu)
		if !similar(tk, tu) {
			t.Errorf("request-password-reset timing: known %v, unknown %v", tk, tu)
		}
	})

	t.Run("send-verification-email signed out", func(t *testing.T) {
		st := storetest.OpenSQLite(t)
		e := newEnv(t, st, mailOptions(t, "smtp+insecure://127.0.0.1:1", nil, nil))
		signUp(t, e.client(), "unverified@example.com", secPassword)
		signUp(t, e.client(), "verified@example.com", secPassword)
		u, _ := st.UserByEmail(context.Background(), "verified@example.com")
		if _, err := st.UpdateUser(context.Background(), u.ID, map[string]any{"emailVerified": true}, store.NewTime(time.Now())); err != nil {
			t.Fatal(err)
		}
		var first *response
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, email := range []string{"unverified@example.com", "verified@example.com", "nobody@example.com"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := time.Now()
				r := e.client().do("POST", "/api/auth/send-verification-email", map[string]any{"email": email})
				took := time.Since(start)
				mu.Lock()
				defer mu.Unlock()
				if first == nil {
					first = r
				}
				if r.Status != 200 || string(r.Raw) != string(first.Raw) || took < 500*time.Millisecond {
					t.Errorf("send-verification-email(%s) = %d %s after %v, want 200 %s after >= 500ms", email, r.Status, r.Raw, took, first.Raw)
				}
			}()
		}
		wg.Wait()
	})
}

// TestErrorPageReflectsNoMarkup: /error shows the code and description as text only
// (CVE-2025-71404).
func TestErrorPageReflectsNoMarkup(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	payload := `"><script>alert(1)</script><img src=x onerror=alert(1)>`
	r := e.client().do("GET", "/api/auth/error?error="+url.QueryEscape(payload)+"&error_description="+url.QueryEscape(payload), nil)
	if r.Status != 200 || strings.Contains(string(r.Raw), "<script>alert") || strings.Contains(string(r.Raw), "<img") {
		t.Errorf("/error reflected markup: %d %s", r.Status, r.Raw)
	}
}

// TestNoStoreOnAuthAnswers: every /api/auth answer, above all those carrying a session token,
// provider tokens or personal data, says Cache-Control: no-store, so no shared or browser cache
// keeps it. (Better-Auth sends it on get-session only; the header is invisible to its client.)
func TestNoStoreOnAuthAnswers(t *testing.T) {
	se := newSocialEnv(t, storetest.OpenSQLite(t), func(o *socialOptions) { o.auth.Email.DeleteUserEnabled = true })
	type answer struct {
		name   string
		r      *response
		status int
	}
	var got []answer
	add := func(name string, r *response, status int) { got = append(got, answer{name, r, status}) }

	c := se.browser()
	add("sign-up", c.do("POST", "/api/auth/sign-up/email", map[string]any{"name": "N", "email": "nostore@example.com", "password": secPassword}), 200)
	add("sign-in", se.browser().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "nostore@example.com", "password": secPassword}), 200)
	add("sign-in refused", se.browser().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "nostore@example.com", "password": "wrong-password-1"}), 401)
	add("get-session", c.do("GET", "/api/auth/get-session", nil), 200)
	add("list-sessions", c.do("GET", "/api/auth/list-sessions", nil), 200)
	add("list-accounts", c.do("GET", "/api/auth/list-accounts", nil), 200)
	add("update-user", c.do("POST", "/api/auth/update-user", map[string]any{"name": "M"}), 200)
	add("verify-password", c.do("POST", "/api/auth/verify-password", map[string]any{"password": secPassword}), 200)
	add("change-password", c.do("POST", "/api/auth/change-password", map[string]any{"currentPassword": secPassword, "newPassword": "another-" + secPassword, "revokeOtherSessions": true}), 200)
	add("list-sessions signed out", se.browser().do("GET", "/api/auth/list-sessions", nil), 401)

	user := "nostore" + session.RandomString(4)
	se.idp.addUser(user, user+"@example.com", true)
	s := se.browser()
	wantLanding(t, se.signInVia(t, s, user, map[string]any{"callbackURL": appURL("/dashboard")}), appURL("/dashboard"))
	accts := s.do("GET", "/api/auth/list-accounts", nil)
	if len(accts.Array) != 1 {
		t.Fatalf("list-accounts = %s", accts.Raw)
	}
	id := accts.Array[0].(map[string]any)["id"].(string)
	add("get-access-token", s.do("POST", "/api/auth/get-access-token", map[string]any{"accountId": id}), 200)
	add("refresh-token", s.do("POST", "/api/auth/refresh-token", map[string]any{"accountId": id}), 200)
	add("account-info", s.do("GET", "/api/auth/account-info?accountId="+id, nil), 200)
	add("delete-user", c.do("POST", "/api/auth/delete-user", map[string]any{"password": "another-" + secPassword}), 200)

	for _, a := range got {
		if a.r.Status != a.status {
			t.Errorf("%s = %d %.200s, want %d", a.name, a.r.Status, a.r.Raw, a.status)
		}
		if cc := a.r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control = %q, want no-store", a.name, cc)
		}
	}
}
