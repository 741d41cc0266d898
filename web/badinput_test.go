package web_test

// Hostile and malformed input: oversized and deeply nested bodies, strings no database column
// should hold, huge headers, and clients that send their request slowly. The server must answer
// each with a 4xx in Better-Auth's error shape (never a 500), write nothing by halves, and keep
// serving everyone else.

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"authserver/session"
	"authserver/store"
	"authserver/store/storetest"
)

// send posts body to path with the content type and no Content-Length when chunked is set (the
// body then arrives in chunks of unknown total size), and decodes the answer.
func send(t *testing.T, c *client, path, contentType, body string, chunked bool, headers ...string) *response {
	t.Helper()
	var rdr io.Reader = strings.NewReader(body)
	if chunked {
		rdr = io.MultiReader(rdr) // hides the length from net/http
	}
	req, err := http.NewRequest("POST", c.e.srv.URL+path, rdr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Origin", trusted)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	u, _ := url.Parse(c.e.srv.URL)
	for _, ck := range c.jar.Cookies(u) {
		req.AddCookie(ck)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := &response{Status: res.StatusCode, Header: res.Header, Raw: raw}
	_ = json.Unmarshal(raw, &out.JSON)
	return out
}

// wantErrorShape fails unless r is status with Better-Auth's {"code","message"} body.
func wantErrorShape(t *testing.T, what string, r *response, status int, code string) {
	t.Helper()
	if r.Status != status || r.code() != code || r.JSON["message"] == "" || r.JSON["message"] == nil {
		t.Errorf("%s = %d %.200s, want %d {code %s, message}", what, r.Status, r.Raw, status, code)
	}
}

// TestBadInputOversizedBodies: a body over the limit (BodyLimit "1M", which Echo reads as
// 1,000,000 bytes) is a 413 in Better-Auth's error shape,
// whether its length is announced or it arrives chunked.
func TestBadInputOversizedBodies(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.client()
	signUp(t, c, "big@example.com", secPassword)
	bigJSON := `{"email":"` + strings.Repeat("a", 2<<20) + `@example.com","password":"x"}`
	bigForm := "email=" + strings.Repeat("a", 2<<20) + "&password=x"
	for _, tt := range []struct {
		name, path, ct, body string
		chunked              bool
	}{
		{"JSON with Content-Length", "/api/auth/sign-in/email", "application/json", bigJSON, false},
		{"JSON, chunked", "/api/auth/sign-in/email", "application/json", bigJSON, true},
		{"form with Content-Length", "/api/auth/sign-up/email", "application/x-www-form-urlencoded", bigForm, false},
		{"form, chunked", "/api/auth/sign-up/email", "application/x-www-form-urlencoded", bigForm, true},
		{"signed-in update, chunked", "/api/auth/update-user", "application/json", `{"name":"` + strings.Repeat("n", 2<<20) + `"}`, true},
		{"just over the limit, chunked", "/api/auth/sign-in/email", "application/json", `{"email":"` + strings.Repeat("a", 1_000_000) + `"}`, true},
	} {
		wantErrorShape(t, tt.name, send(t, c, tt.path, tt.ct, tt.body, tt.chunked), 413, "PAYLOAD_TOO_LARGE")
	}
	// Just under the limit is read and judged on its content.
	under := `{"email":"x@example.com","password":"` + strings.Repeat("p", 1_000_000-100) + `"}`
	wantErrorShape(t, "just under the limit", send(t, c, "/api/auth/sign-in/email", "application/json", under, true), 400, "PASSWORD_TOO_LONG")
	if g := c.do("GET", "/api/auth/get-session", nil); g.JSON == nil {
		t.Errorf("the session did not survive: %s", g.Raw)
	}
}

// TestBadInputDeeplyNestedJSON: nesting far past any sane depth is a quick 400, not a stack
// overflow or a 500.
func TestBadInputDeeplyNestedJSON(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite(t))
	c := e.client()
	signUp(t, c, "nested@example.com", secPassword)
	const depth = 100_000
	bodies := map[string]string{
		"unclosed arrays":          strings.Repeat("[", depth),
		"closed arrays":            strings.Repeat("[", depth) + strings.Repeat("]", depth),
		"objects":                  strings.Repeat(`{"a":`, depth/2) + "1" + strings.Repeat("}", depth/2),
		"inside a field":           `{"email":"nested@example.com","password":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`,
		"inside a field, unclosed": `{"name":` + strings.Repeat("[", depth),
	}
	for name, body := range bodies {
		for _, path := range []string{"/api/auth/sign-in/email", "/api/auth/sign-up/email", "/api/auth/update-user"} {
			start := time.Now()
			r := send(t, c, path, "application/json", body, false)
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("%s to %s took %v", name, path, took)
			}
			wantErrorShape(t, name+" to "+path, r, 400, "BAD_REQUEST")
		}
	}
}

// TestBadInputHugeJSONArrays: large but well-formed bodies under the limit are rejected by the
// schema, quickly, with the fields named.
func TestBadInputHugeJSONArrays(t *testing.T) {
	st := storetest.OpenSQLite(t)
	e := newEnv(t, st)
	c := e.client()
	signUp(t, c, "arrays@example.com", secPassword)
	zeros := "[" + strings.Repeat("0,", 400_000) + "0]"
	strs := "[" + strings.Repeat(`"a",`, 200_000) + `"a"]`
	var keys strings.Builder
	keys.WriteString(`{"name":"K","email":"keys@example.com","password":"` + secPassword + `"`)
	for i := 0; i < 50_000; i++ {
		keys.WriteString(`,"k` + strconv.Itoa(i) + `":0`)
	}
	keys.WriteString("}")
	for _, tt := range []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"top-level array of numbers", "/api/auth/sign-in/email", zeros, 400, "VALIDATION_ERROR"},
		{"top-level array of strings", "/api/auth/sign-up/email", strs, 400, "VALIDATION_ERROR"},
		{"array as the email", "/api/auth/sign-in/email", `{"email":` + zeros + `,"password":"x"}`, 400, "VALIDATION_ERROR"},
		{"array as the name", "/api/auth/update-user", `{"name":` + strs + `}`, 400, "VALIDATION_ERROR"},
		{"array as the image", "/api/auth/update-user", `{"image":` + zeros + `}`, 400, "VALIDATION_ERROR"},
		{"top-level array to update-user", "/api/auth/update-user", zeros, 400, "VALIDATION_ERROR"},
	} {
		start := time.Now()
		r := send(t, c, tt.path, "application/json", tt.body, false)
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("%s took %v", tt.name, took)
		}
		wantErrorShape(t, tt.name, r, tt.status, tt.code)
	}
	// Fifty thousand unknown keys are ignored, as Better-Auth's passthrough schema ignores them.
	r := send(t, e.client(), "/api/auth/sign-up/email", "application/json", keys.String(), false)
	if r.Status != 200 {
		t.Errorf("sign-up with 50k extra keys = %d %.200s", r.Status, r.Raw)
	}
	if g := c.do("GET", "/api/auth/get-session", nil); g.JSON == nil || g.JSON["user"].(map[string]any)["name"] != "Test User" {
		t.Errorf("user after rejected updates: %.300s", g.Raw)
	}
}

// jsonString writes s as a JSON string literal, escaping only what JSON requires: bytes that are
// not valid UTF-8 stay raw, so the server's decoder sees them as a client would send them.
func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// jsonObject builds an object from fields in a fixed order.
func jsonObject(fields [][2]string) string {
	parts := make([]string, 0, len(fields))
	for _, f := range fields {
		parts = append(parts, jsonString(f[0])+":"+jsonString(f[1]))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// weirdStrings are values no text column should choke on.
var weirdStrings = []struct{ name, v string }{
	{"NUL inside", "a\x00b"},
	{"only NUL", "\x00"},
	{"invalid UTF-8", "a\xff\xfeb"},
	{"overlong UTF-8 slash", "\xc0\xaf"},
	{"lone surrogate escape", "\xed\xa0\x80"},
	{"control characters", "\x01\x1b[31m\x7f"},
	{"BOM, zero-width and RTL override", "\ufeff\u200b\u202eevil"},
	{"CRLF header injection", "x\r\nBcc: victim@example.com"},
	{"long", strings.Repeat("é", 20_000)},
}

// orphanUsers counts users without any account: a user half-written by a failed sign-up.
func orphanUsers(t *testing.T, st *store.Store) int {
	t.Helper()
	var n int
	if err := st.RawRow(context.Background(), &n, `select count(*) from "user" u where not exists (select 1 from "account" a where a."userId" = u."id")`); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBadInputStringFields puts NUL bytes, invalid UTF-8 and other hostile strings into every
// string field of sign-up, sign-in and update-user, as JSON and as a form: never a 500, and
// never a user without its account.
func TestBadInputStringFields(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		c := e.client()
		signUp(t, c, "strings@example.com", secPassword)
		ctx := context.Background()
		n := 0
		type encoded struct{ ct, body string }
		encode := func(fields [][2]string) []encoded {
			form := url.Values{}
			for _, f := range fields {
				form.Set(f[0], f[1])
			}
			return []encoded{{"application/json", jsonObject(fields)}, {"application/x-www-form-urlencoded", form.Encode()}}
		}

		for _, field := range []string{"name", "email", "password", "image", "callbackURL"} {
			for _, w := range weirdStrings {
				for _, enc := range []int{0, 1} {
					n++
					email := "su" + strconv.Itoa(n) + "@example.com"
					fields := [][2]string{{"name", "N"}, {"email", email}, {"password", secPassword}}
					value := w.v
					if field == "password" {
						value = secPassword + w.v // long enough to be hashed, not refused for length
					}
					replaced := false
					for i := range fields {
						if fields[i][0] == field {
							fields[i][1], replaced = value, true
						}
					}
					if !replaced {
						fields = append(fields, [2]string{field, value})
					}
					b := encode(fields)[enc]
					r := send(t, e.client(), "/api/auth/sign-up/email", b.ct, b.body, false)
					what := "sign-up " + field + " " + w.name + " as " + b.ct
					if r.Status >= 500 {
						t.Errorf("%s = %d %.200s", what, r.Status, r.Raw)
						continue
					}
					if field == "email" {
						continue
					}
					u, err := st.UserByEmail(ctx, email)
					switch {
					case r.Status == 200 && err != nil:
						t.Errorf("%s = 200 but the user is not readable: %v", what, err)
					case r.Status != 200 && err == nil:
						t.Errorf("%s = %d but a user was written", what, r.Status)
					case r.Status == 200:
						if accts, _ := st.AccountsByUser(ctx, u.ID); len(accts) != 1 {
							t.Errorf("%s: user has %d accounts, want 1", what, len(accts))
						}
					}
				}
			}
		}

		for _, field := range []string{"email", "password", "callbackURL"} {
			for _, w := range weirdStrings {
				for _, b := range encode([][2]string{{"email", "strings@example.com"}, {"password", secPassword}, {field, w.v}}) {
					r := send(t, e.client(), "/api/auth/sign-in/email", b.ct, b.body, false)
					if r.Status >= 500 || r.Status == 200 && field != "callbackURL" {
						t.Errorf("sign-in %s %s as %s = %d %.200s", field, w.name, b.ct, r.Status, r.Raw)
					}
				}
			}
		}

		for _, field := range []string{"name", "image"} {
			for _, w := range weirdStrings {
				r := send(t, c, "/api/auth/update-user", "application/json", jsonObject([][2]string{{field, w.v}}), false)
				if r.Status >= 500 {
					t.Errorf("update-user %s %s = %d %.200s", field, w.name, r.Status, r.Raw)
				}
				if g := c.do("GET", "/api/auth/get-session", nil); g.Status != 200 || g.JSON == nil {
					t.Errorf("after update-user %s %s, get-session = %d %.200s", field, w.name, g.Status, g.Raw)
				}
			}
		}
		if n := orphanUsers(t, st); n != 0 {
			t.Errorf("%d users were left without an account", n)
		}
	})
}

// TestBadInputTokensAndHeaders: bytes a database text column cannot hold, arriving where the
// server looks something up (a bearer token, a reset or deletion token) or stores a header
// (User-Agent), are an ordinary miss or an ordinary success, never a 500.
func TestBadInputTokensAndHeaders(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, func(o *envOptions) {
			o.auth.Email.DeleteUserEnabled = true
			o.web.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
		})
		c := e.client()
		signUp(t, c, "tokens@example.com", secPassword)

		// A browser or library that sends a Latin-1 User-Agent can still sign up and sign in.
		const latin1UA = "Mozilla/5.0 (X11; Linux) Navigateur-\xe9t\xe9 \xff"
		r := e.client().do("POST", "/api/auth/sign-up/email", map[string]any{"name": "UA", "email": "ua@example.com", "password": secPassword}, "User-Agent", latin1UA)
		if r.Status != 200 {
			t.Errorf("sign-up with a non-UTF-8 User-Agent = %d %s, want 200", r.Status, r.Raw)
		}
		r = e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "tokens@example.com", "password": secPassword}, "User-Agent", latin1UA)
		if r.Status != 200 {
			t.Errorf("sign-in with a non-UTF-8 User-Agent = %d %s, want 200", r.Status, r.Raw)
		}

		for _, tok := range []string{"\xff\xfe", "tok\xe9n", strings.Repeat("\xff", 200)} {
			q := strconv.Quote(tok)
			if len(q) > 40 {
				q = q[:40] + "..."
			}
			if r := e.client().do("GET", "/api/auth/get-session", nil, "Authorization", "Bearer "+tok); r.Status != 200 || string(r.Raw) != "null" {
				t.Errorf("get-session with bearer %s = %d %s, want 200 null", q, r.Status, r.Raw)
			}
			if r := e.client().do("GET", "/api/auth/list-accounts", nil, "Authorization", "Bearer "+tok); r.Status != 401 {
				t.Errorf("list-accounts with bearer %s = %d %s, want 401", q, r.Status, r.Raw)
			}
		}
		for _, tok := range []string{"%00", "a%00b", "%FF%FE", "tok%E9n", "%C0%AF"} {
			r := e.client().do("GET", "/api/auth/reset-password/"+tok+"?callbackURL=/reset", nil)
			if r.Status != 302 || !strings.Contains(r.Header.Get("Location"), "error=INVALID_TOKEN") {
				t.Errorf("reset link with token %s = %d %q %s, want 302 ?error=INVALID_TOKEN", tok, r.Status, r.Header.Get("Location"), r.Raw)
			}
			if r := e.client().do("GET", "/api/auth/verify-email?token="+tok, nil); r.Status != 401 {
				t.Errorf("verify-email with token %s = %d %s, want 401", tok, r.Status, r.Raw)
			}
		}
		for _, tok := range []string{"a\x00b", "\x00"} {
			body := jsonObject([][2]string{{"token", tok}, {"newPassword", "another-long-secret-1"}})
			if r := send(t, e.client(), "/api/auth/reset-password", "application/json", body, false); r.Status != 400 || r.code() != "INVALID_TOKEN" {
				t.Errorf("reset-password with token %q = %d %s, want 400 INVALID_TOKEN", tok, r.Status, r.Raw)
			}
			if r := send(t, c, "/api/auth/delete-user", "application/json", jsonObject([][2]string{{"token", tok}}), false); r.Status != 404 || r.code() != "INVALID_TOKEN" {
				t.Errorf("delete-user with token %q = %d %s, want 404 INVALID_TOKEN", tok, r.Status, r.Raw)
			}
			if r := send(t, c, "/api/auth/revoke-session", "application/json", jsonObject([][2]string{{"token", tok}}), false); r.Status != 200 {
				t.Errorf("revoke-session with token %q = %d %s, want 200", tok, r.Status, r.Raw)
			}
		}
		// Forwarded addresses that are not addresses fall back to the peer, and sign-in works.
		for _, xff := range []string{"\xff\xfe", "not-an-ip, also not", "[2001:db8::1]", "1.2.3.4%00", strings.Repeat("1.1.1.1,", 2000)} {
			r := e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "tokens@example.com", "password": "wrong-password-1"}, "X-Forwarded-For", xff)
			if r.Status != 401 {
				t.Errorf("sign-in with X-Forwarded-For %.40q = %d %s, want 401", xff, r.Status, r.Raw)
			}
		}
		if g := c.do("GET", "/api/auth/get-session", nil); g.JSON == nil {
			t.Errorf("the session did not survive: %s", g.Raw)
		}
	})
}

// mainLikeServer serves h from a real http.Server with main.go's settings, except that the
// timeouts are scaled down (main.go: ReadHeaderTimeout 5 s, ReadTimeout 15 s, WriteTimeout 30 s,
// IdleTimeout 60 s) so the test does not wait for them. It returns the listening address.
func mainLikeServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 300 * time.Millisecond,
		ReadTimeout:       time.Second,
		WriteTimeout:      2 * time.Second,
		IdleTimeout:       2 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// handlerOf builds a server like newEnv does and returns its handler too.
func handlerOf(t *testing.T, opts ...func(*envOptions)) (*env, http.Handler) {
	t.Helper()
	var h http.Handler
	e := newEnv(t, storetest.OpenSQLite(t), append(opts, func(o *envOptions) {
		o.extra = func(_ *env, handler http.Handler) http.Handler { h = handler; return handler }
	})...)
	return e, h
}

// TestBadInputLongHeaders: past 64 KiB of headers net/http answers 431 itself; below it, huge
// values in the headers the server reads are handled without a 500.
func TestBadInputLongHeaders(t *testing.T) {
	e, h := handlerOf(t, func(o *envOptions) {
		o.web.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	token := signUp(t, e.client(), "headers@example.com", secPassword).JSON["token"].(string)
	base := "http://" + mainLikeServer(t, h)
	do := func(method, path string, body string, headers ...string) (int, string) {
		t.Helper()
		var rdr io.Reader
		if body != "" {
			rdr = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, base+path, rdr)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(raw)
	}
	if status, _ := do("GET", "/api/auth/get-session", "", "X-Padding", strings.Repeat("a", 100<<10)); status != 431 {
		t.Errorf("100 KiB header = %d, want 431", status)
	}
	long := strings.Repeat("a", 60<<10)
	var manyCookies strings.Builder
	for i := 0; i < 1500; i++ {
		manyCookies.WriteString("better-auth.session_data." + strconv.Itoa(i) + "=x; ")
	}
	signed := session.EncodeURIComponent(session.Sign([]byte(testSecret), token)) // the cookie's value
	for _, tt := range []struct {
		name, method, path, body string
		headers                  []string
		want                     int
	}{
		{"huge bearer", "GET", "/api/auth/get-session", "", []string{"Authorization", "Bearer " + long}, 200},
		{"huge signed-looking bearer", "GET", "/api/auth/get-session", "", []string{"Authorization", "Bearer " + long + "." + long[:44]}, 200},
		{"huge session cookie", "GET", "/api/auth/get-session", "", []string{"Cookie", "better-auth.session_token=" + long}, 200},
		{"many session_data chunks", "GET", "/api/auth/get-session", "", []string{"Cookie", manyCookies.String() + "better-auth.session_token=" + signed}, 200},
		{"huge origin with a cookie", "POST", "/api/auth/update-user", `{"name":"x"}`, []string{"Cookie", "better-auth.session_token=" + signed, "Origin", "http://" + long}, 403},
		{"huge referer with a cookie", "POST", "/api/auth/update-user", `{"name":"x"}`, []string{"Cookie", "better-auth.session_token=" + signed, "Referer", trusted + "/" + long}, 200},
		{"huge user agent at sign-in", "POST", "/api/auth/sign-in/email", `{"email":"headers@example.com","password":"` + secPassword + `"}`, []string{"User-Agent", long}, 200},
		{"huge forwarded-for", "POST", "/api/auth/sign-in/email", `{"email":"headers@example.com","password":"wrong-password-1"}`, []string{"X-Forwarded-For", strings.Repeat("203.0.113.7, ", 4000)}, 401},
		{"huge content type", "POST", "/api/auth/sign-in/email", `{}`, []string{"Content-Type", "application/json; " + long}, 400},
		{"huge fetch metadata", "POST", "/api/auth/sign-in/email", `{}`, []string{"Sec-Fetch-Site", long, "Origin", trusted}, 400},
	} {
		status, body := do(tt.method, tt.path, tt.body, tt.headers...)
		if status != tt.want {
			t.Errorf("%s = %d %.200s, want %d", tt.name, status, body, tt.want)
		}
	}
}

// TestBadInputSlowClients: clients that trickle their headers are cut off by the header timeout,
// clients that trickle a body by the read timeout, and neither kind stops the server from
// answering everyone else promptly.
func TestBadInputSlowClients(t *testing.T) {
	_, h := handlerOf(t)
	addr := mainLikeServer(t, h)

	// closedAfter writes first, then one more line every 50 ms, until the server hangs up.
	closedAfter := func(first, drip string) (time.Duration, error) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return 0, err
		}
		defer conn.Close()
		start := time.Now()
		if _, err := conn.Write([]byte(first)); err != nil {
			return 0, err
		}
		done := make(chan error, 1)
		go func() {
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, err := bufio.NewReader(conn).ReadString('\n')
			done <- err
		}()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case err := <-done:
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					return 0, errors.New("the server never hung up")
				}
				return time.Since(start), nil
			case <-tick.C:
				_, _ = conn.Write([]byte(drip))
			}
		}
	}

	var wg sync.WaitGroup
	type result struct {
		kind string
		took time.Duration
		err  error
	}
	results := make(chan result, 20)
	for i := 0; i < 10; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			d, err := closedAfter("GET /api/auth/ok HTTP/1.1\r\nHost: x\r\n", "X-Slow: a\r\n")
			results <- result{"slow headers", d, err}
		}()
		go func() {
			defer wg.Done()
			d, err := closedAfter("POST /api/auth/sign-in/email HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{", `"a`)
			results <- result{"slow body", d, err}
		}()
	}

	// Meanwhile everyone else is served.
	client := &http.Client{Timeout: 2 * time.Second}
	for i := 0; i < 20; i++ {
		start := time.Now()
		res, err := client.Get("http://" + addr + "/api/auth/ok")
		if err != nil {
			t.Fatalf("request %d during the slow clients: %v", i, err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || time.Since(start) > time.Second {
			t.Errorf("request %d during the slow clients = %d after %v", i, res.StatusCode, time.Since(start))
		}
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()
	close(results)
	for r := range results {
		limit := 300*time.Millisecond + time.Second // ReadHeaderTimeout plus slack
		if r.kind == "slow body" {
			limit = time.Second + time.Second // ReadTimeout plus slack
		}
		if r.err != nil || r.took > limit {
			t.Errorf("%s client: hung up after %v (err %v), want within %v", r.kind, r.took, r.err, limit)
		}
	}
	res, err := client.Get("http://" + addr + "/api/auth/ok")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("after the slow clients: %v %v", res, err)
	}
	res.Body.Close()
}

// TestBadInputSQLInjection: SQL in any field is data. Every query binds its arguments, so the
// payloads are stored, compared and looked up literally, on both databases.
func TestBadInputSQLInjection(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		c := e.client()
		signUp(t, c, "sqli@example.com", secPassword)
		payloads := []string{
			`x'); DROP TABLE "user"; --`,
			`' OR '1'='1`,
			`" OR ""="`,
			`1; UPDATE "account" SET "password" = NULL; --`,
			`'; SELECT pg_sleep(5); --`,
			`%' OR "email" LIKE '%`,
		}
		for i, p := range payloads {
			q := strconv.Quote(p)
			expect(t, c.do("POST", "/api/auth/update-user", map[string]any{"name": p}), 200, "")
			if g := c.do("GET", "/api/auth/get-session", nil); g.JSON == nil || g.JSON["user"].(map[string]any)["name"] != p {
				t.Errorf("name %s did not round-trip: %s", q, g.Raw)
			}
			email := "sqli" + strconv.Itoa(i) + "@example.com"
			r := e.client().do("POST", "/api/auth/sign-up/email", map[string]any{"name": p, "email": email, "password": secPassword, "image": p})
			if u, err := st.UserByEmail(context.Background(), email); r.Status != 200 || err != nil || u.Name != p || u.Image == nil || *u.Image != p {
				t.Errorf("sign-up with name %s = %d %s", q, r.Status, r.Raw)
			}
			if r := e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "sqli@example.com", "password": p}); r.Status != 401 {
				t.Errorf("sign-in with password %s = %d %s", q, r.Status, r.Raw)
			}
			if r := e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": p, "password": secPassword}); r.Status != 400 {
				t.Errorf("sign-in with email %s = %d %s", q, r.Status, r.Raw)
			}
			if r := e.client().do("GET", "/api/auth/get-session", nil, "Authorization", "Bearer "+p); string(r.Raw) != "null" {
				t.Errorf("bearer %s = %s", q, r.Raw)
			}
			expect(t, e.client().do("POST", "/api/auth/reset-password", map[string]any{"token": p, "newPassword": "hijacked-password-1"}), 400, "INVALID_TOKEN")
			expect(t, c.do("POST", "/api/auth/revoke-session", map[string]any{"token": p}), 200, "")
		}
		if g := c.do("GET", "/api/auth/get-session", nil); g.JSON == nil {
			t.Errorf("the session did not survive: %s", g.Raw)
		}
		expect(t, e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "sqli@example.com", "password": secPassword}), 200, "")
		var users int
		if err := st.RawRow(context.Background(), &users, `select count(*) from "user"`); err != nil || users != 1+len(payloads) {
			t.Errorf("%d users (err %v), want %d", users, err, 1+len(payloads))
		}
	})
}

// cursorOf encodes a content cursor as the server hands them out: base64url of its JSON.
func cursorOf(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }

// TestBadInputContentText: bytes no database text column can hold (NUL, invalid UTF-8) and
// numbers no column type can hold, arriving in a content slug, query, cursor or body, get the
// answer any other impossible value gets (404 for a slug, 400 for a query, cursor or field),
// never a 500, on both databases, signed in or not.
func TestBadInputContentText(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ce := newContentEnv(t, st, 50)
		c, _ := ce.reader(t, "badtext@example.com")
		anon := ce.client()
		expect(t, c.do("PUT", "/content/items/a/progress", map[string]any{"percent": 40}), 200, "")
		expect(t, c.do("PUT", "/content/items/a/bookmark", nil), 200, "")

		for _, slug := range []string{"a%00", "%00", "%ff", "a%C0%AF", "%ED%A0%80", "a%00%ff"} {
			for _, rt := range []struct {
				who          *client
				method, path string
				body         any
			}{
				{anon, "GET", "/content/public/items/" + slug, nil},
				{c, "GET", "/content/items/" + slug, nil},
				{c, "PUT", "/content/items/" + slug + "/progress", map[string]any{"percent": 10}},
				{c, "PUT", "/content/items/" + slug + "/bookmark", nil},
				{c, "DELETE", "/content/items/" + slug + "/bookmark", nil},
			} {
				r := rt.who.do(rt.method, rt.path, rt.body)
				if r.Status != 404 || r.code() != "NOT_FOUND" || r.JSON["message"] != "Content not found" {
					t.Errorf("%s %s = %d %s, want 404 NOT_FOUND Content not found", rt.method, rt.path, r.Status, r.Raw)
				}
			}
		}

		for _, tag := range []string{"security%00", "%00", "%ff", "secur%C0%AFity"} {
			path := "/content/public/items?tag=" + tag
			r := anon.do("GET", path, nil)
			wantErrorShape(t, "GET "+path, r, 400, "VALIDATION_ERROR")
			if r.JSON["message"] != "[query.tag] must not contain NUL characters or invalid UTF-8" {
				t.Errorf("GET %s message = %v", path, r.JSON["message"])
			}
		}

		at := `"t":"2025-01-01T00:00:00.000Z"`
		for _, cur := range []struct{ name, lists, json string }{
			{"huge score", "feed", `{"l":"feed","s":4611686018427387904,` + at + `,"k":"a"}`},
			{"score past int64", "feed", `{"l":"feed","s":18446744073709551616,` + at + `,"k":"a"}`},
			{"negative score", "feed", `{"l":"feed","s":-4611686018427387904,` + at + `,"k":"a"}`},
			{"NUL slug", "feed items progress bookmarks", `{"l":"%s",` + at + `,"k":"a\u0000"}`},
			{"NUL in time", "feed items progress bookmarks", `{"l":"%s","t":"2025-01-01T00:00:00.000Z\u0000","k":"a"}`},
		} {
			for _, list := range strings.Fields(cur.lists) {
				raw := strings.ReplaceAll(cur.json, "%s", list)
				path := map[string]string{"feed": "/content/feed", "items": "/content/public/items", "progress": "/content/progress", "bookmarks": "/content/bookmarks"}[list]
				r := c.do("GET", path+"?cursor="+cursorOf(raw), nil)
				wantErrorShape(t, "GET "+path+" with a "+cur.name+" cursor "+raw, r, 400, "INVALID_CURSOR")
			}
		}
		for _, raw := range []string{"%00", "%ff%fe", "a%00b"} {
			wantErrorShape(t, "GET /content/feed?cursor="+raw, c.do("GET", "/content/feed?cursor="+raw, nil), 400, "INVALID_CURSOR")
			wantErrorShape(t, "GET /content/feed?limit="+raw, c.do("GET", "/content/feed?limit="+raw, nil), 400, "VALIDATION_ERROR")
		}

		for _, field := range []string{"goals", "background", "level", "language"} {
			for _, v := range []string{"a\x00b", "\x00"} {
				r := c.do("PUT", "/content/profile", map[string]any{field: v})
				wantErrorShape(t, "PUT /content/profile "+field+" "+strconv.Quote(v), r, 400, "VALIDATION_ERROR")
				if want := "[body." + field + "] must not contain NUL characters or invalid UTF-8"; r.JSON["message"] != want {
					t.Errorf("PUT /content/profile %s %q message = %v, want %s", field, v, r.JSON["message"], want)
				}
			}
		}
		wantErrorShape(t, "PUT /content/profile topics with NUL", c.do("PUT", "/content/profile", map[string]any{"topics": []string{"sql\x00"}}), 400, "VALIDATION_ERROR")
		for _, pct := range []string{"4611686018427387904", "9223372036854775808", "-9223372036854775809", "1e400"} {
			r := c.do("PUT", "/content/items/a/progress", `{"percent":`+pct+`}`)
			if r.Status != 400 || r.JSON["message"] == nil {
				t.Errorf("PUT progress percent %s = %d %s, want 400", pct, r.Status, r.Raw)
			}
		}

		// Nothing was half-written and the reader's state is intact.
		r := c.do("GET", "/content/profile", nil)
		expect(t, r, 200, "")
		if r.JSON["goals"] != "" || r.JSON["background"] != "" {
			t.Errorf("profile changed: %s", r.Raw)
		}
		if r := c.do("GET", "/content/items/a", nil); r.Status != 200 || r.JSON["bookmarked"] != true {
			t.Errorf("item a = %d %s, want 200 bookmarked", r.Status, r.Raw)
		}
	})
}

// TestBadInputAuthText sends text no database column can hold (NUL, invalid UTF-8) in every
// string a /api/auth endpoint reads from a body, query, path or header, signed in and with social
// sign-in configured, so each reaches as deep as it can: never a 500, always Better-Auth's error
// shape when refused, on both databases.
func TestBadInputAuthText(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		se := newSocialEnv(t, st, func(o *socialOptions) {
			o.auth.Email.DeleteUserEnabled = true
			o.auth.Email.ChangeEmailEnabled = true
		})
		c := se.client()
		signUp(t, c, "authtext@example.com", secPassword)
		bad := []string{"a\x00b", "\x00", "a\xffb", "\xc0\xaf"}
		escaped := []string{"a%00b", "%00", "a%FFb", "%C0%AF"}
		bodies := []struct {
			path   string
			fields []string
			fixed  map[string]any
		}{
			{"/api/auth/change-password", []string{"currentPassword", "newPassword"}, map[string]any{"currentPassword": secPassword, "newPassword": "another-secret-1"}},
			{"/api/auth/verify-password", []string{"password"}, nil},
			{"/api/auth/change-email", []string{"newEmail", "callbackURL"}, map[string]any{"newEmail": "new@example.com"}},
			{"/api/auth/send-verification-email", []string{"email", "callbackURL"}, map[string]any{"email": "authtext@example.com"}},
			{"/api/auth/request-password-reset", []string{"email", "redirectTo"}, map[string]any{"email": "authtext@example.com"}},
			{"/api/auth/reset-password", []string{"newPassword", "token"}, map[string]any{"newPassword": "another-secret-1", "token": "x"}},
			{"/api/auth/revoke-session", []string{"token"}, nil},
			{"/api/auth/unlink-account", []string{"accountId"}, nil},
			{"/api/auth/update-session", []string{"name"}, nil},
			{"/api/auth/sign-out", []string{"callbackURL", "state"}, nil},
			{"/api/auth/sign-in/social", []string{"provider", "callbackURL", "errorCallbackURL", "newUserCallbackURL", "loginHint"}, map[string]any{"provider": "idp"}},
			{"/api/auth/link-social", []string{"provider", "callbackURL", "loginHint"}, map[string]any{"provider": "idp"}},
			{"/api/auth/get-access-token", []string{"providerId", "accountId", "userId"}, map[string]any{"providerId": "idp"}},
			{"/api/auth/refresh-token", []string{"providerId", "accountId", "userId"}, map[string]any{"providerId": "idp"}},
			{"/api/auth/callback/idp", []string{"state", "code", "error", "user"}, nil},
		}
		for _, b := range bodies {
			for _, f := range b.fields {
				for _, v := range bad {
					body := map[string]any{}
					for k, x := range b.fixed {
						body[k] = x
					}
					body[f] = v
					raw, _ := json.Marshal(body)
					// Go's encoder turns invalid UTF-8 into U+FFFD; put the raw bytes back.
					r := send(t, c, b.path, "application/json", strings.ReplaceAll(string(raw), `\ufffd`, v), false)
					if r.Status >= 500 || (r.Status >= 400 && r.JSON["message"] == nil && len(r.Raw) > 0) {
						t.Errorf("POST %s %s=%q = %d %.200s", b.path, f, v, r.Status, r.Raw)
					}
				}
			}
		}
		// An ID token sign-in stores the provider's tokens and the user's name as sent.
		se.idp.addUser("textuser", "textuser@example.com", true)
		for _, v := range bad {
			for _, f := range []string{"accessToken", "refreshToken", "nonce"} {
				tok := se.idp.directIDToken(t, idpClientID, idpClientSecret, "textuser", "")
				idt := map[string]any{"token": tok, f: v, "expiresAt": 1e300,
					"user": map[string]any{"name": map[string]any{"firstName": v, "lastName": v}, "email": v}}
				raw, _ := json.Marshal(map[string]any{"provider": "idp", "idToken": idt})
				r := send(t, se.client(), "/api/auth/sign-in/social", "application/json", strings.ReplaceAll(string(raw), `\ufffd`, v), false)
				if r.Status >= 500 {
					t.Errorf("sign-in/social with idToken.%s=%q = %d %.200s", f, v, r.Status, r.Raw)
				}
			}
		}
		for _, q := range escaped {
			for _, path := range []string{
				"/api/auth/verify-email?token=" + q,
				"/api/auth/verify-email?token=x&callbackURL=" + q,
				"/api/auth/reset-password/" + q + "?callbackURL=/x",
				"/api/auth/reset-password/x?callbackURL=" + q,
				"/api/auth/delete-user/callback?token=" + q,
				"/api/auth/delete-user/callback?token=x&callbackURL=" + q,
				"/api/auth/callback/" + q + "?state=x&code=y",
				"/api/auth/callback/idp?state=" + q + "&code=y",
				"/api/auth/callback/idp?state=x&code=" + q,
				"/api/auth/account-info?accountId=" + q,
				"/api/auth/get-session?disableCookieCache=" + q,
				"/api/auth/error?error=" + q + "&error_description=" + q,
				"/api/auth/" + q,
			} {
				if r := c.do("GET", path, nil); r.Status >= 500 {
					t.Errorf("GET %s = %d %.200s", path, r.Status, r.Raw)
				}
			}
		}
		for _, v := range []string{"a\xffb", "\xc0\xaf"} {
			for _, h := range []string{"User-Agent", "X-Forwarded-For", "Origin", "Referer", "Authorization", "Sec-Fetch-Site"} {
				r := se.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "authtext@example.com", "password": secPassword}, h, v)
				if r.Status >= 500 {
					t.Errorf("sign-in with %s %q = %d %.200s", h, v, r.Status, r.Raw)
				}
				if r := c.do("GET", "/api/auth/list-sessions", nil, h, v); r.Status >= 500 {
					t.Errorf("list-sessions with %s %q = %d %.200s", h, v, r.Status, r.Raw)
				}
			}
		}
	})
}
