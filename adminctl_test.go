package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"authserver/store/storetest"
)

// adminHTTP sends a JSON request to the running server and decodes the answer.
func adminHTTP(t *testing.T, base, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Origin", base)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(res.Body)
	_ = json.Unmarshal(raw, &out)
	return res.StatusCode, out
}

// The first administrator comes from the command line, on SQLite and PostgreSQL: refused without
// the admin plugin, created with a password read from standard input (never an argument), able
// to sign in and use the admin endpoints; set-role promotes a user who signed up; wrong input is
// a clear refusal.
func TestAdminCommand(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			env := map[string]string{"DATA_DIR": t.TempDir(), "LOG_LEVEL": "error", "BETTER_AUTH_PLUGINS": "username"}
			if db == "postgres" {
				env["DATABASE_URL"] = storetest.PostgresURL(t)
			}
			admin := func(stdin string, args ...string) (int, string, string) {
				var stdout, stderr bytes.Buffer
				code := adminCommand(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr, envMap(env))
				return code, stdout.String(), stderr.String()
			}

			if code, _, errs := admin("secret-password-1\n", "create", "--email", "root@example.com"); code != 1 || !strings.Contains(errs, "admin plugin is not enabled") {
				t.Fatalf("without the plugin: %d %q", code, errs)
			}
			env["BETTER_AUTH_PLUGINS"] = "admin"
			for _, bad := range [][]string{{}, {"delete"}, {"create"}, {"create", "--email", "root@example.com", "extra"}} {
				if code, _, _ := admin("", bad...); code != 2 {
					t.Errorf("admin %q: exit %d, want 2 (usage)", bad, code)
				}
			}
			if code, _, errs := admin("", "create", "--email", "not-an-address"); code != 1 || !strings.Contains(errs, "not a valid e-mail address") {
				t.Errorf("bad address: %d %q", code, errs)
			}
			if code, _, errs := admin("", "create", "--email", "root@example.com"); code != 1 || !strings.Contains(errs, "no password") {
				t.Errorf("no password: %d %q", code, errs)
			}
			if code, _, errs := admin("short\n", "create", "--email", "root@example.com"); code != 1 || !strings.Contains(errs, "password") {
				t.Errorf("short password: %d %q", code, errs)
			}
			code, out, errs := admin("secret-password-1\n", "create", "--email", "Root@Example.com", "--name", "Root")
			if code != 0 || !strings.Contains(out, "created root@example.com") || strings.Contains(out+errs, "secret-password-1") {
				t.Fatalf("create: %d %q %q", code, out, errs)
			}
			if code, _, errs := admin("secret-password-1\n", "create", "--email", "root@example.com"); code != 1 || !strings.Contains(errs, "exists already") {
				t.Errorf("second create: %d %q", code, errs)
			}

			base, _ := startServer(t, env)
			status, in := adminHTTP(t, base, "POST", "/api/auth/sign-in/email", "", map[string]any{"email": "root@example.com", "password": "secret-password-1"})
			if status != 200 || in["user"].(map[string]any)["role"] != "admin" || in["user"].(map[string]any)["emailVerified"] != true {
				t.Fatalf("the created admin's sign-in: %d %v", status, in)
			}
			rootToken, _ := in["token"].(string)
			status, up := adminHTTP(t, base, "POST", "/api/auth/sign-up/email", "", map[string]any{"name": "Bo", "email": "bo@example.com", "password": "secret-password-2"})
			if status != 200 {
				t.Fatalf("sign-up: %d %v", status, up)
			}
			boToken, _ := up["token"].(string)
			if status, _ := adminHTTP(t, base, "GET", "/api/auth/admin/list-users", boToken, nil); status != 403 {
				t.Errorf("a plain user lists users: %d, want 403", status)
			}
			if status, list := adminHTTP(t, base, "GET", "/api/auth/admin/list-users", rootToken, nil); status != 200 || list["total"] != float64(2) {
				t.Errorf("the admin lists users: %d %v", status, list)
			}

			if code, _, errs := admin("", "set-role", "--email", "nobody@example.com"); code != 1 || !strings.Contains(errs, "no user has the address") {
				t.Errorf("set-role of an unknown address: %d %q", code, errs)
			}
			if code, out, _ := admin("", "set-role", "--email", "bo@example.com"); code != 0 || !strings.Contains(out, "now has the role admin") {
				t.Fatalf("set-role: %d %q", code, out)
			}
			status, in = adminHTTP(t, base, "POST", "/api/auth/sign-in/email", "", map[string]any{"email": "bo@example.com", "password": "secret-password-2"})
			if status != 200 || in["user"].(map[string]any)["role"] != "admin" {
				t.Fatalf("the promoted user's sign-in: %d %v", status, in)
			}
			if status, _ := adminHTTP(t, base, "GET", "/api/auth/admin/list-users", in["token"].(string), nil); status != 200 {
				t.Errorf("the promoted user lists users: %d, want 200", status)
			}
		})
	}
}
