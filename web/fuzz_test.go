package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"authserver/auth"
	"authserver/content"
	"authserver/session"
	"authserver/store/storetest"
	"authserver/web"
)

// fuzzServer is the whole handler, the content API over testCatalog included, with one
// signed-up user whose session cookie it returns. It runs on PostgreSQL when TEST_DATABASE_URL is
// set (each fuzz worker gets its own database), otherwise on SQLite: PostgreSQL refuses text that
// SQLite stores, so both must be fuzzed. Fuzz targets cannot use newEnv (it wants a *testing.T).
func fuzzServer(f *testing.F) (http.Handler, string) {
	f.Helper()
	st := storetest.Open(f)
	sessions := session.New(session.Config{Secret: []byte(testSecret)}, st)
	svc := content.New(content.Config{Dir: writeCatalog(f, testCatalog)}, st)
	if _, err := svc.Sync(context.Background()); err != nil {
		f.Fatal(err)
	}
	h := web.New(web.Config{BaseURL: testBaseURL, TrustedOrigins: []string{trusted}},
		web.Deps{Store: st, Sessions: sessions, Auth: auth.New(auth.Config{}, st, sessions), Content: svc})
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

// contentFuzzRoutes are the content endpoints FuzzContentInput reaches; %s is the slug.
var contentFuzzRoutes = []struct{ method, pattern string }{
	{"GET", "/content/public/items/%s"},
	{"GET", "/content/items/%s"},
	{"PUT", "/content/items/%s/progress"},
	{"PUT", "/content/items/%s/bookmark"},
	{"DELETE", "/content/items/%s/bookmark"},
	{"GET", "/content/public/items"},
	{"GET", "/content/feed"},
	{"GET", "/content/progress"},
	{"GET", "/content/bookmarks"},
	{"PUT", "/content/profile"},
}

// FuzzContentInput sends arbitrary slugs, query values (tag, limit), cursors (the JSON inside the
// base64url) and JSON bodies to the content API, signed in, through the whole handler: the answer
// is 200, or 400/404 in Better-Auth's error shape, never a 500, whatever the bytes (NUL, invalid
// UTF-8, numbers past any column). Only a path the router cannot match (an empty slug, or one
// with a slash) may be the router's bare 404.
func FuzzContentInput(f *testing.F) {
	h, cookie := fuzzServer(f)
	f.Add(uint8(0), "a", "", "", []byte(nil), []byte(nil))
	f.Fuzz(func(t *testing.T, route uint8, slug, tag, limit string, cursorJSON, body []byte) {
		rt := contentFuzzRoutes[int(route)%len(contentFuzzRoutes)]
		target := strings.Replace(rt.pattern, "%s", url.PathEscape(slug), 1)
		q := url.Values{}
		if tag != "" {
			q.Set("tag", tag)
		}
		if limit != "" {
			q.Set("limit", limit)
		}
		if len(cursorJSON) > 0 {
			q.Set("cursor", base64.RawURLEncoding.EncodeToString(cursorJSON))
		}
		if len(q) > 0 {
			target += "?" + q.Encode()
		}
		req := httptest.NewRequest(rt.method, target, bytes.NewReader(body))
		if len(body) > 0 {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Origin", trusted)
		req.Header.Set("Cookie", cookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		what := fmt.Sprintf("%s %s %q", rt.method, target, body)
		if rec.Code == 404 && rec.Body.Len() == 0 && strings.Contains(rt.pattern, "%s") && (slug == "" || strings.Contains(slug, "/")) {
			return
		}
		if rec.Code != 200 && rec.Code != 400 && rec.Code != 404 {
			t.Fatalf("%s = %d %s", what, rec.Code, rec.Body)
		}
		var v any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("%s = %d with a body that is not JSON: %q", what, rec.Code, rec.Body)
		}
		if rec.Code == 200 {
			return
		}
		if m, _ := v.(map[string]any); m == nil || m["message"] == nil || m["message"] == "" || m["code"] == nil || m["code"] == "" {
			t.Fatalf("%s = %d without a message and code: %s", what, rec.Code, rec.Body)
		}
	})
}
