package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"authserver/auth"
	"authserver/session"
	"authserver/store"
	"authserver/web"
)

// fuzzServer is the whole handler over a fresh SQLite database, with one signed-up user whose
// session cookie it returns. Fuzz targets cannot use newEnv (it wants a *testing.T).
func fuzzServer(f *testing.F) (http.Handler, string) {
	f.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{URL: "sqlite:" + filepath.Join(f.TempDir(), "fuzz.db")})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		f.Fatal(err)
	}
	sessions := session.New(session.Config{Secret: []byte(testSecret)}, st)
	h := web.New(web.Config{BaseURL: testBaseURL, TrustedOrigins: []string{trusted}},
		web.Deps{Store: st, Sessions: sessions, Auth: auth.New(auth.Config{}, st, sessions)})
	req := httptest.NewRequest("POST", "/api/auth/sign-up/email",
		strings.NewReader(`{"name":"Fuzz","email":"fuzz@example.com","password":"`+secPassword+`"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == "better-auth.session_token" {
			return h, c.Name + "=" + c.Value
		}
	}
	f.Fatalf("sign-up set no session cookie: %d %s", rec.Code, rec.Body)
	return nil, ""
}

// FuzzRequestBody posts arbitrary bytes with arbitrary content types to sign-in and (signed in)
// to update-user through the whole handler: the answer is always one of the statuses below,
// never a 500, and always JSON; every refusal says why in "message".
func FuzzRequestBody(f *testing.F) {
	h, cookie := fuzzServer(f)
	allowed := map[int]bool{200: true, 400: true, 401: true, 403: true, 413: true, 415: true, 429: true, 503: true}
	paths := []string{"/api/auth/sign-in/email", "/api/auth/update-user"}
	f.Add(uint8(0), "application/json", []byte(`{"email":"fuzz@example.com","password":"x"}`))
	f.Fuzz(func(t *testing.T, target uint8, contentType string, body []byte) {
		path := paths[int(target)%len(paths)]
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		req.Header.Set("Origin", trusted)
		if path == "/api/auth/update-user" {
			req.Header.Set("Cookie", cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !allowed[rec.Code] {
			t.Fatalf("POST %s (%q) %q = %d %s", path, contentType, body, rec.Code, rec.Body)
		}
		var v any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("POST %s (%q) %q = %d with a body that is not JSON: %q", path, contentType, body, rec.Code, rec.Body)
		}
		if rec.Code == 200 {
			return
		}
		if m, _ := v.(map[string]any); m == nil || m["message"] == nil || m["message"] == "" {
			t.Fatalf("POST %s (%q) %q = %d without a message: %s", path, contentType, body, rec.Code, rec.Body)
		}
	})
}

// FuzzRedirectValidation: whatever web.Origins.Trusted accepts as a redirect target, resolved
// against the base URL the way a browser would, lands on a trusted origin (or this one), and
// contains nothing a browser reads differently from net/url (backslashes, tabs, line breaks, a
// non-ASCII or percent-encoded host).
func FuzzRedirectValidation(f *testing.F) {
	const wildcard = "https://*.example.org"
	origins := web.NewOrigins(testBaseURL, trusted, loginOrigin, wildcard)
	base, _ := url.Parse(testBaseURL)
	f.Add("/dashboard")
	f.Add("HTTP://APP.EXAMPLE.TEST:")
	f.Fuzz(func(t *testing.T, raw string) {
		_ = origins.Trusted(raw, false)
		if !origins.Trusted(raw, true) {
			return
		}
		if raw == "" || raw[0] <= ' ' || strings.ContainsAny(raw, "\\\t\n\r") {
			t.Fatalf("Trusted(%q): a browser strips or rewrites this before resolving it", raw)
		}
		u, err := base.Parse(raw)
		if err != nil {
			t.Fatalf("Trusted(%q) but net/url cannot resolve it: %v", raw, err)
		}
		if strings.HasPrefix(raw, "/") {
			if strings.HasPrefix(raw, "//") || u.Scheme != base.Scheme || u.Host != base.Host {
				t.Fatalf("Trusted(%q): the relative target resolves to %s", raw, u)
			}
			return
		}
		for i := 0; i < len(u.Host); i++ {
			if c := u.Host[i]; c >= 0x80 || c == '%' || c == '@' {
				t.Fatalf("Trusted(%q): host %q is IDNA-mapped by browsers into another host", raw, u.Host)
			}
		}
		scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
		// A browser drops an empty port ("host:") and the scheme's default port before it
		// compares origins, so the oracle does too.
		host = strings.TrimSuffix(host, ":")
		host = strings.TrimSuffix(host, map[string]string{"http": ":80", "https": ":443"}[scheme])
		origin := scheme + "://" + host
		switch {
		case origin == testBaseURL || origin == trusted || origin == loginOrigin:
		case scheme == "https" && strings.HasSuffix(host, ".example.org") && !strings.Contains(host, ":"):
		default:
			t.Fatalf("Trusted(%q) resolves to origin %s, which is not trusted", raw, origin)
		}
	})
}
