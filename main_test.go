package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func envMap(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfigDefaults(t *testing.T) {
	c, err := loadConfig(envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != "8000" || c.Web.BaseURL != "http://localhost:8000" || c.Store.URL != "sqlite:data/app.db" || c.Production {
		t.Errorf("defaults = port %s, base %s, db %s, production %v", c.Port, c.Web.BaseURL, c.Store.URL, c.Production)
	}
	if c.Session.Secure {
		t.Error("http base URL gave secure cookies")
	}
	if c.Mail.AppName != "Pathway" {
		t.Errorf("APP_NAME default = %q, want the web app's name Pathway", c.Mail.AppName)
	}
	if c.Session.MaxAge != 0 || c.Session.CacheBytes != 16<<20 {
		t.Errorf("SESSION_MAX_AGE = %v, SESSION_CACHE_BYTES = %d, want off and 16 MiB", c.Session.MaxAge, c.Session.CacheBytes)
	}
	if c, _ := loadConfig(envMap(map[string]string{"SESSION_MAX_AGE": "720h"})); c.Session.MaxAge != 30*24*time.Hour {
		t.Errorf("SESSION_MAX_AGE=720h read as %v", c.Session.MaxAge)
	}
	c, err = loadConfig(envMap(map[string]string{"BETTER_AUTH_URL": "https://auth.example.com/", "BETTER_AUTH_TRUSTED_ORIGINS": "https://a.example.com, https://b.example.com"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Session.Secure || c.Web.BaseURL != "https://auth.example.com" || len(c.Web.TrustedOrigins) != 2 || c.Web.TrustedOrigins[1] != "https://b.example.com" {
		t.Errorf("https config = %+v", c)
	}
}

func TestLoadConfigRefusesUnsafeProduction(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no secret", map[string]string{"APP_ENV": "production"}, "BETTER_AUTH_SECRET is required"},
		{"short secret", map[string]string{"APP_ENV": "production", "BETTER_AUTH_SECRET": "short"}, "at least 32 characters"},
		{"bad url", map[string]string{"BETTER_AUTH_URL": "ftp://x"}, "BETTER_AUTH_URL"},
		{"bad duration", map[string]string{"SESSION_EXPIRES_IN": "soon"}, "SESSION_EXPIRES_IN"},
		{"bad max age", map[string]string{"SESSION_MAX_AGE": "forever"}, "SESSION_MAX_AGE"},
		{"bad cache budget", map[string]string{"SESSION_CACHE_BYTES": "16MB"}, "SESSION_CACHE_BYTES"},
		{"bad proxy", map[string]string{"TRUSTED_PROXIES": "nope"}, "TRUSTED_PROXIES"},
		// Plain http means cookies without Secure: production refuses it unless told otherwise.
		{"http base url", map[string]string{"APP_ENV": "production", "BETTER_AUTH_SECRET": strings.Repeat("s", 32)}, "ALLOW_INSECURE_BASE_URL=true"},
		{"explicit http base url", map[string]string{"APP_ENV": "production", "BETTER_AUTH_SECRET": strings.Repeat("s", 32),
			"BETTER_AUTH_URL": "http://auth.example.com"}, "https://"},
		{"bad override", map[string]string{"ALLOW_INSECURE_BASE_URL": "maybe"}, "ALLOW_INSECURE_BASE_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(envMap(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("loadConfig err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	for _, env := range []map[string]string{
		{"APP_ENV": "production", "BETTER_AUTH_SECRET": strings.Repeat("s", 32), "BETTER_AUTH_URL": "https://auth.example.com"},
		{"APP_ENV": "production", "BETTER_AUTH_SECRET": strings.Repeat("s", 32), "ALLOW_INSECURE_BASE_URL": "true"},
		{"BETTER_AUTH_URL": "http://auth.example.com"}, // development on plain http is fine
	} {
		if _, err := loadConfig(envMap(env)); err != nil {
			t.Errorf("valid config %v refused: %v", env, err)
		}
	}
}

func TestDevelopmentSecretIsGeneratedOnceAndKept(t *testing.T) {
	dir := t.TempDir()
	c, _ := loadConfig(envMap(map[string]string{"DATA_DIR": dir}))
	s1, gen, err := resolveSecret(c)
	if err != nil || !gen || len(s1) < 32 {
		t.Fatalf("resolveSecret = %q, %v, %v", s1, gen, err)
	}
	info, err := os.Stat(filepath.Join(dir, "secret"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v, mode %v; want 0600", err, info.Mode())
	}
	s2, _, _ := resolveSecret(c)
	if s1 != s2 {
		t.Error("a restart generated a new secret: sessions would not survive restarts")
	}
}

// The server starts with nothing but a data folder, migrates, serves, and stops cleanly on cancel.
func TestRunServesAndShutsDown(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	env := map[string]string{"DATA_DIR": dir, "HOST": "127.0.0.1", "PORT": itoa(port), "LOG_LEVEL": "error"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	devNull, _ := os.Open(os.DevNull)
	defer devNull.Close()
	go func() { done <- run(ctx, envMap(env), devNull) }()
	base := "http://127.0.0.1:" + itoa(port)
	var res *http.Response
	for i := 0; i < 100; i++ {
		res, err = http.Get(base + "/readyz")
		if err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("server never became ready: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "ready") {
		t.Fatalf("readyz = %d %s", res.StatusCode, body)
	}
	if _, err := os.Stat(filepath.Join(dir, "app.db")); err != nil {
		t.Errorf("no SQLite database in the data folder: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run returned %v after shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// The binary's arguments: help and version print and exit 0 without starting the server; anything
// else is a usage error (exit 2) that also does not start it.
func TestCommandLine(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantServe  bool
		wantStdout string
		wantStderr string
	}{
		{"no arguments serve", nil, 0, true, "", ""},
		{"help", []string{"help"}, 0, false, "Usage:", ""},
		{"-h", []string{"-h"}, 0, false, "Production checklist", ""},
		{"--help", []string{"--help"}, 0, false, "BETTER_AUTH_URL", ""},
		{"version", []string{"version"}, 0, false, "authserver " + version + "\n", ""},
		{"--version", []string{"--version"}, 0, false, "authserver " + version + "\n", ""},
		{"unknown", []string{"serve"}, 2, false, "", `unknown argument "serve"`},
		{"extra argument", []string{"version", "now"}, 2, false, "", `unknown argument "version now"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			code, serve := command(tt.args, &stdout, &stderr, envMap(nil))
			if code != tt.wantCode || serve != tt.wantServe {
				t.Errorf("command(%q) = %d, %v; want %d, %v", tt.args, code, serve, tt.wantCode, tt.wantServe)
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) || (tt.wantStdout == "" && stdout.Len() > 0) {
				t.Errorf("command(%q) stdout = %q, want %q", tt.args, stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) || (tt.wantStderr == "" && stderr.Len() > 0) {
				t.Errorf("command(%q) stderr = %q, want %q", tt.args, stderr.String(), tt.wantStderr)
			}
			if tt.wantCode == 2 && !strings.Contains(stderr.String(), "Usage:") {
				t.Errorf("command(%q): a usage error without the usage: %q", tt.args, stderr.String())
			}
		})
	}
}
