package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"authserver/auth"
	"authserver/content"
	"authserver/session"
	"authserver/store"
	"authserver/web"
)

const (
	testSecret  = "test-secret-0123456789abcdef0123456789abcdef"
	trusted     = "http://app.example.test"
	testBaseURL = "http://localhost:8000"
)

// clock is a settable time source shared by the services under test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is the whole server over one test database, served by httptest.
type env struct {
	t        *testing.T
	st       *store.Store
	srv      *httptest.Server
	clock    *clock
	sessions *session.Manager
	svc      *auth.Service
	content  *content.Service // nil unless envOptions.content is set
}

type envOptions struct {
	auth    auth.Config
	web     web.Config
	session session.Config
	logger  *slog.Logger
	extra   func(e *env, h http.Handler) http.Handler
	// content, when set, mounts the content API over a catalog synced from content.Dir.
	content *content.Config
}

func newEnv(t *testing.T, st *store.Store, opts ...func(*envOptions)) *env {
	t.Helper()
	clk := &clock{now: time.Now().UTC().Truncate(time.Millisecond)}
	o := envOptions{
		web:     web.Config{BaseURL: testBaseURL, TrustedOrigins: []string{trusted}},
		session: session.Config{Secret: []byte(testSecret)},
	}
	for _, f := range opts {
		f(&o)
	}
	o.session.Now = clk.Now
	o.auth.Now = clk.Now
	if o.auth.Hasher.Logger == nil {
		o.auth.Hasher.Logger = hashInTransactionGuard(t)
	}
	sessions := session.New(o.session, st)
	svc := auth.New(o.auth, st, sessions)
	e := &env{t: t, st: st, clock: clk, sessions: sessions, svc: svc}
	if o.content != nil {
		o.content.Now = clk.Now
		e.content = content.New(*o.content, st)
		if _, err := e.content.Sync(context.Background()); err != nil {
			t.Fatalf("Sync: %v", err)
		}
	}
	handler := web.New(o.web, web.Deps{Store: st, Sessions: sessions, Auth: svc, Content: e.content, Logger: o.logger})
	var h http.Handler = handler
	if o.extra != nil {
		h = o.extra(e, handler)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

// hashInTransactionGuard is a logger that fails t when the server hashed a password inside a
// database transaction (auth.LogHashInTransaction): on SQLite that holds the one write lock
// for the whole hash, so every web test guards every path it takes against it.
func hashInTransactionGuard(t *testing.T) *slog.Logger {
	var hits atomic.Int64
	t.Cleanup(func() {
		if n := hits.Load(); n > 0 {
			t.Errorf("the server hashed %d password(s) inside a database transaction", n)
		}
	})
	return slog.New(countHandler{msg: auth.LogHashInTransaction, n: &hits})
}

// countHandler counts the records with message msg and drops every record.
type countHandler struct {
	msg string
	n   *atomic.Int64
}

func (h countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.n.Add(1)
	}
	return nil
}
func (h countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countHandler) WithGroup(string) slog.Handler      { return h }

// response is what a test looks at: status, headers and the body, decoded when it is JSON.
type response struct {
	Status int
	Header http.Header
	Raw    []byte
	JSON   map[string]any
	Array  []any
}

func (r *response) code() string { s, _ := r.JSON["code"].(string); return s }

// setCookies returns the response's Set-Cookie lines by cookie name.
func (r *response) setCookies() map[string]string {
	out := map[string]string{}
	for _, c := range r.Header.Values("Set-Cookie") {
		name, _, _ := strings.Cut(c, "=")
		out[name] = c
	}
	return out
}

// client is a browser-like caller with its own cookie jar.
type client struct {
	e       *env
	jar     *cookiejar.Jar
	headers map[string]string
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, jar: jar, headers: map[string]string{"Origin": trusted}}
}

// do sends a request and decodes the answer. body may be nil, a string (sent as is with the
// content type from headers) or any value (sent as JSON).
func (c *client) do(method, path string, body any, headers ...string) *response {
	c.e.t.Helper()
	var rdr io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rdr = strings.NewReader(b)
		ct = "application/json"
	default:
		buf, _ := json.Marshal(b)
		rdr = bytes.NewReader(buf)
		ct = "application/json"
	}
	req, err := http.NewRequest(method, c.e.srv.URL+path, rdr)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	u, _ := url.Parse(c.e.srv.URL)
	for _, ck := range c.jar.Cookies(u) {
		req.AddCookie(ck)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	c.jar.SetCookies(u, res.Cookies())
	out := &response{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		_ = json.Unmarshal(raw, &out.JSON)
	} else if len(raw) > 0 && raw[0] == '[' {
		_ = json.Unmarshal(raw, &out.Array)
	}
	return out
}

// expect fails the test unless the response has the status and, when code is not empty, the
// Better-Auth error code.
func expect(t *testing.T, r *response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body %s", r.Status, status, r.Raw)
	}
	if code != "" && r.code() != code {
		t.Fatalf("code = %q, want %q; body %s", r.code(), code, r.Raw)
	}
}

var jsDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

func signUp(t *testing.T, c *client, email, password string, extra ...string) *response {
	t.Helper()
	body := map[string]any{"name": "Test User", "email": email, "password": password}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i]] = extra[i+1]
	}
	r := c.do("POST", "/api/auth/sign-up/email", body)
	expect(t, r, 200, "")
	return r
}

// cookieValue reads the current value of a cookie from the client's jar.
func (c *client) cookieValue(name string) string {
	u, _ := url.Parse(c.e.srv.URL)
	for _, ck := range c.jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}
