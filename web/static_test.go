package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"authserver/web"
)

// newStaticServer serves web.New without services: the web app needs none, and the API routes
// only have to exist (their handlers are never reached by these tests).
func newStaticServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(web.New(web.Config{BaseURL: testBaseURL}, web.Deps{}))
	t.Cleanup(srv.Close)
	return srv
}

// rawClient does not ask for gzip by itself, so the tests see exactly what the server sends.
var rawClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

func fetch(t *testing.T, method, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

var scriptTag = regexp.MustCompile(`<script\b[^>]*>`)
var assetRef = regexp.MustCompile(`(?:src|href)="(/assets/[^"]+\.(?:js|css))"`)

func TestAppShell(t *testing.T) {
	srv := newStaticServer(t)
	_, index := fetch(t, http.MethodGet, srv.URL+"/", nil)
	if !bytes.Contains(index, []byte(`<div id="root">`)) {
		t.Fatalf("GET / body is not the app shell:\n%s", index)
	}
	tests := []struct {
		name string
		path string
	}{
		{"root", "/"},
		{"index file", "/index.html"},
		{"client route", "/feed"},
		{"nested client route", "/items/keyset-pagination"},
		{"route with token query", "/reset-password?token=abc"},
		{"unknown page", "/no/such/page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := fetch(t, http.MethodGet, srv.URL+tt.path, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s status = %d, want 200", tt.path, res.StatusCode)
			}
			if !bytes.Equal(body, index) {
				t.Errorf("GET %s did not serve index.html", tt.path)
			}
			want := map[string]string{
				"Content-Type":           "text/html; charset=utf-8",
				"Cache-Control":          "no-cache",
				"X-Frame-Options":        "DENY",
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "no-referrer",
			}
			for k, v := range want {
				if got := res.Header.Get(k); got != v {
					t.Errorf("GET %s %s = %q, want %q", tt.path, k, got, v)
				}
			}
			csp := res.Header.Get("Content-Security-Policy")
			for _, directive := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
				if !strings.Contains(csp, directive) {
					t.Errorf("GET %s Content-Security-Policy = %q, want it to contain %q", tt.path, csp, directive)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("Content-Security-Policy = %q allows inline code", csp)
			}
		})
	}
}

// TestAppShellHasNoInlineScript guards the CSP: script-src 'self' blocks inline scripts, so the
// built index.html must load every script from a file.
func TestAppShellHasNoInlineScript(t *testing.T) {
	srv := newStaticServer(t)
	_, index := fetch(t, http.MethodGet, srv.URL+"/", nil)
	tags := scriptTag.FindAll(index, -1)
	if len(tags) == 0 {
		t.Fatal("index.html loads no script")
	}
	for _, tag := range tags {
		if !bytes.Contains(tag, []byte(` src="/assets/`)) {
			t.Errorf("index.html has a script that is not a file under /assets/: %s", tag)
		}
	}
	if bytes.Contains(index, []byte(" style=")) || bytes.Contains(index, []byte("<style")) {
		t.Error("index.html has inline styles, which style-src 'self' blocks")
	}
}

func TestAssets(t *testing.T) {
	srv := newStaticServer(t)
	_, index := fetch(t, http.MethodGet, srv.URL+"/", nil)
	refs := assetRef.FindAllSubmatch(index, -1)
	if len(refs) < 2 {
		t.Fatalf("index.html references %d assets, want the script and the stylesheet", len(refs))
	}
	for _, ref := range refs {
		path := string(ref[1])
		t.Run(path, func(t *testing.T) {
			res, body := fetch(t, http.MethodGet, srv.URL+path, nil)
			if res.StatusCode != http.StatusOK || len(body) == 0 {
				t.Fatalf("GET %s = %d with %d bytes, want 200 with the file", path, res.StatusCode, len(body))
			}
			if got := res.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
				t.Errorf("Cache-Control = %q, want a year, immutable", got)
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			wantType := "text/javascript"
			if strings.HasSuffix(path, ".css") {
				wantType = "text/css"
			}
			if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, wantType) {
				t.Errorf("Content-Type = %q, want %s", got, wantType)
			}
			if res.Header.Get("Content-Security-Policy") != "" {
				t.Error("an asset carries the HTML's Content-Security-Policy")
			}

			etag := res.Header.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			again, _ := fetch(t, http.MethodGet, srv.URL+path, map[string]string{"If-None-Match": etag})
			if again.StatusCode != http.StatusNotModified {
				t.Errorf("GET with If-None-Match = %d, want 304", again.StatusCode)
			}

			zres, zbody := fetch(t, http.MethodGet, srv.URL+path, map[string]string{"Accept-Encoding": "br, gzip"})
			if zres.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("Accept-Encoding gzip: Content-Encoding = %q, want gzip", zres.Header.Get("Content-Encoding"))
			}
			if vary := strings.Join(zres.Header.Values("Vary"), ", "); !strings.Contains(vary, "Accept-Encoding") {
				t.Errorf("Vary = %q, want Accept-Encoding", vary)
			}
			if zres.Header.Get("ETag") == etag {
				t.Error("the gzip and identity bodies share an ETag")
			}
			zr, err := gzip.NewReader(bytes.NewReader(zbody))
			if err != nil {
				t.Fatal(err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(plain, body) {
				t.Errorf("gzip body does not decompress to the file (err %v)", err)
			}

			refused, _ := fetch(t, http.MethodGet, srv.URL+path, map[string]string{"Accept-Encoding": "gzip;q=0"})
			if refused.Header.Get("Content-Encoding") != "" {
				t.Error("gzip;q=0 still got a gzip body")
			}
		})
	}
}

func TestHead(t *testing.T) {
	srv := newStaticServer(t)
	for _, path := range []string{"/", "/feed", "/favicon.svg"} {
		res, body := fetch(t, http.MethodHead, srv.URL+path, nil)
		if res.StatusCode != http.StatusOK || len(body) != 0 {
			t.Errorf("HEAD %s = %d with %d bytes, want 200 and no body", path, res.StatusCode, len(body))
		}
		if res.Header.Get("Cache-Control") == "" {
			t.Errorf("HEAD %s has no Cache-Control", path)
		}
	}
}

func TestNoFallbackOutsideTheApp(t *testing.T) {
	srv := newStaticServer(t)
	tests := []struct {
		name   string
		method string
		path   string
	}{
		{"unknown auth endpoint", http.MethodGet, "/api/auth/nope"},
		{"wrong method on an auth endpoint", http.MethodGet, "/api/auth/sign-up/email"},
		{"api root", http.MethodGet, "/api"},
		{"other api path", http.MethodGet, "/api/other"},
		{"content api", http.MethodGet, "/content/x"},
		{"content api root", http.MethodGet, "/content"},
		{"missing hashed asset", http.MethodGet, "/assets/index-00000000.js"},
		{"post to a client route", http.MethodPost, "/feed"},
		{"head on an unknown auth endpoint", http.MethodHead, "/api/auth/nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := fetch(t, tt.method, srv.URL+tt.path, nil)
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s status = %d, want 404", tt.method, tt.path, res.StatusCode)
			}
			if strings.HasPrefix(tt.path, "/api/auth/") && len(body) != 0 {
				t.Errorf("%s %s body = %q, want Better-Auth's empty 404", tt.method, tt.path, body)
			}
			if bytes.Contains(body, []byte(`<div id="root">`)) || strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				t.Errorf("%s %s served the app shell", tt.method, tt.path)
			}
		})
	}
}
