package web_test

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"authserver/store/storetest"
)

// capturedLog is a logger whose text output a test can read while the server runs.
func capturedLog(t *testing.T) (*slog.Logger, func() string) {
	t.Helper()
	var mu sync.Mutex
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil))
	return log, func() string {
		mu.Lock()
		defer mu.Unlock()
		return buf.String()
	}
}

// A browser app on an origin the server does not trust sees only "Failed to fetch"; the server's
// log must say which origin was refused and what to set, once per origin, and never the rest of a
// Referer (paths and queries can carry tokens).
func TestRefusedOriginIsLoggedOnce(t *testing.T) {
	log, logs := capturedLog(t)
	e := newEnv(t, storetest.OpenSQLite(t), func(o *envOptions) { o.logger = log })
	const vite = "http://localhost:5173"
	preflight := func(origin string) *response {
		return e.client().do("OPTIONS", "/api/auth/get-session", nil, "Origin", origin, "Access-Control-Request-Method", "GET")
	}
	for range 2 {
		if r := preflight(vite); r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("untrusted preflight granted %q", r.Header.Get("Access-Control-Allow-Origin"))
		}
	}
	c := e.client()
	signUp(t, c, "origin-log@example.com", "password123")
	expect(t, c.do("POST", "/api/auth/update-user", map[string]any{"name": "X"}, "Origin", vite), 403, "INVALID_ORIGIN")
	expect(t, c.do("POST", "/api/auth/update-user", map[string]any{"name": "X"}, "Origin", "",
		"Referer", "http://other.example:3000/reset?token=SECRETREFERER"), 403, "INVALID_ORIGIN")
	preflight(trusted)
	preflight("null")

	out := logs()
	line := func(origin string) []string {
		var found []string
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "origin not trusted") && strings.Contains(l, "origin="+origin+" ") {
				found = append(found, l)
			}
		}
		return found
	}
	if got := line(vite); len(got) != 1 || !strings.Contains(got[0], "BETTER_AUTH_TRUSTED_ORIGINS="+trusted+","+vite) {
		t.Errorf("log lines for %s = %q, want one naming BETTER_AUTH_TRUSTED_ORIGINS=%s,%s\n%s", vite, got, trusted, vite, out)
	}
	if got := line("http://other.example:3000"); len(got) != 1 {
		t.Errorf("the Referer's origin was not logged once:\n%s", out)
	}
	if strings.Contains(out, "SECRETREFERER") || strings.Contains(out, "/reset?") {
		t.Errorf("the Referer's path or query reached the log:\n%s", out)
	}
	if len(line(trusted)) != 0 || strings.Count(out, "origin not trusted") != 2 {
		t.Errorf("want exactly the two refused origins logged:\n%s", out)
	}
}

// Each new Origin header costs memory only up to a cap: past it the server says so once and
// stops logging (and remembering) refused origins.
func TestRefusedOriginsAreBounded(t *testing.T) {
	log, logs := capturedLog(t)
	e := newEnv(t, storetest.OpenSQLite(t), func(o *envOptions) { o.logger = log })
	for i := range 150 {
		e.client().do("OPTIONS", "/api/auth/get-session", nil, "Origin", fmt.Sprintf("http://site%d.example", i), "Access-Control-Request-Method", "GET")
	}
	out := logs()
	if n := strings.Count(out, "origin not trusted"); n != 100 {
		t.Errorf("%d refused origins logged, want the cap of 100", n)
	}
	if n := strings.Count(out, "no further ones are logged"); n != 1 {
		t.Errorf("cap notice logged %d times, want once:\n%s", n, out)
	}
}
