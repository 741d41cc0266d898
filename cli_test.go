package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"authserver/store/storetest"
)

var (
	cliBinMu sync.Mutex
	cliBins  = map[string]string{} // top-level test name → the binary it built
)

// buildBinary builds the binary for a top-level test (removed when it ends); runBinary in it and
// its subtests runs that build.
func buildBinary(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped under -short")
	}
	bin := filepath.Join(t.TempDir(), "authserver")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cliBinMu.Lock()
	defer cliBinMu.Unlock()
	cliBins[t.Name()] = bin
}

func builtBinary(t *testing.T) string {
	t.Helper()
	cliBinMu.Lock()
	defer cliBinMu.Unlock()
	bin, ok := cliBins[strings.Split(t.Name(), "/")[0]]
	if !ok {
		t.Fatal("buildBinary was not called by the test")
	}
	return bin
}

// runBinary runs the built binary with exactly env as its environment and stdin as its input.
func runBinary(t *testing.T, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, builtBinary(t), args...)
	cmd.Env = []string{}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errs.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, out.String(), errs.String()
}

// runJSON runs a command with --json, wants exit 0 and decodes its output.
func runJSON(t *testing.T, env map[string]string, stdin string, args ...string) map[string]any {
	t.Helper()
	code, out, errs := runBinary(t, env, stdin, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("%q: exit %d\n%s%s", args, code, out, errs)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%q: output is not JSON: %v\n%s", args, err, out)
	}
	return v
}

// The operator commands, run as the built binary on SQLite and PostgreSQL: help, usage errors
// (exit 2), refusals (exit 1), JSON output, and each
// change seen by a running server: revoked sessions end, a ban refuses sign-in, a new password
// signs in, a role takes effect. On PostgreSQL the server's session cache is on and learns of the
// command's changes through the database; on SQLite it is off (a server there keeps its cache to
// itself, documented).
func TestOperatorCommands(t *testing.T) {
	buildBinary(t)
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			env := map[string]string{"DATA_DIR": t.TempDir(), "LOG_LEVEL": "error", "BETTER_AUTH_PLUGINS": "admin,username"}
			if db == "postgres" {
				env["DATABASE_URL"] = storetest.PostgresURL(t)
			} else {
				env["SESSION_CACHE"] = "false"
			}

			for _, group := range []string{"migrate", "user", "sessions", "secret", "audit"} {
				if code, out, _ := runBinary(t, env, "", group, "--help"); code != 0 || !strings.Contains(out, "authserver "+group+" ") || !strings.Contains(out, "Exit status") {
					t.Errorf("%s --help: %d %q", group, code, out)
				}
			}
			if code, out, _ := runBinary(t, env, "", "user", "ban", "--help"); code != 0 || !strings.Contains(out, "--reason") {
				t.Errorf("user ban --help: %d %q", code, out)
			}
			if code, out, _ := runBinary(t, env, "", "--help"); code != 0 || !strings.Contains(out, "authserver sessions") {
				t.Errorf("--help does not list the commands: %d %q", code, out)
			}
			for _, bad := range [][]string{{"user"}, {"user", "frobnicate"}, {"user", "create"}, {"user", "create", "--email"},
				{"user", "ban", "--email", "a@example.com", "--id", "x"}, {"user", "set-role", "--email", "a@example.com"},
				{"user", "list", "--limit", "0"}, {"user", "list", "extra"}, {"sessions", "revoke"}, {"secret", "generate", "--length", "9"},
				{"migrate", "print", "--dialect", "oracle"}, {"migrate", "drop"}, {"audit", "tail", "--bogus"}} {
				if code, _, errs := runBinary(t, env, "", bad...); code != 2 || !strings.Contains(errs, "Usage:") {
					t.Errorf("%q: exit %d, want 2 with the usage\n%s", bad, code, errs)
				}
			}

			s1 := runJSON(t, env, "", "secret", "generate")["secret"].(string)
			s2 := runJSON(t, env, "", "secret", "generate")["secret"].(string)
			if len(s1) < 32 || s1 == s2 {
				t.Errorf("secret generate: %q %q", s1, s2)
			}

			st := runJSON(t, env, "", "migrate", "status")
			var names []any
			for _, group := range []string{"core", "plugins"} {
				for _, m := range st[group].([]any) {
					if m.(map[string]any)["applied"] != false {
						t.Errorf("status of an empty database: %v applied", m)
					}
					names = append(names, m.(map[string]any)["name"])
				}
			}
			if len(st["core"].([]any)) != 5 || len(st["plugins"].([]any)) == 0 || st["pending"] != float64(len(names)) {
				t.Fatalf("status of an empty database: %v", st)
			}
			if applied := runJSON(t, env, "", "migrate", "apply")["applied"].([]any); !slices.Equal(applied, names) {
				t.Errorf("migrate apply: %v, want %v", applied, names)
			}
			if st := runJSON(t, env, "", "migrate", "status"); st["pending"] != float64(0) {
				t.Errorf("status after apply: %v", st)
			}
			if again := runJSON(t, env, "", "migrate", "apply")["applied"].([]any); len(again) != 0 {
				t.Errorf("second apply: %v", again)
			}

			if code, _, errs := runBinary(t, env, "", "user", "create", "--email", "root@example.com"); code != 1 || !strings.Contains(errs, "no password") {
				t.Errorf("create without a password: %d %q", code, errs)
			}
			if code, _, errs := runBinary(t, env, "short\n", "user", "create", "--email", "root@example.com"); code != 1 || !strings.Contains(errs, "password") {
				t.Errorf("create with a short password: %d %q", code, errs)
			}
			created := runJSON(t, env, "root-password-1\n", "user", "create", "--email", "Root@Example.com", "--role", "admin")
			root := created["user"].(map[string]any)
			if root["email"] != "root@example.com" || root["role"] != "admin" || root["emailVerified"] != true || root["banned"] != false {
				t.Fatalf("user create: %v", created)
			}
			if code, out, errs := runBinary(t, env, "root-password-1\n", "user", "create", "--email", "root@example.com", "--json"); code != 1 || !strings.Contains(errs, "exists already") || !strings.Contains(out, `"error"`) {
				t.Errorf("second create: %d %q %q", code, out, errs)
			}
			// The old admin command keeps working.
			compat := map[string]string{"AUTHSERVER_ADMIN_PASSWORD": "ops-password-1"}
			for k, v := range env {
				compat[k] = v
			}
			if code, out, errs := runBinary(t, compat, "", "admin", "create", "--email", "ops@example.com"); code != 0 || !strings.Contains(out, "created ops@example.com") {
				t.Errorf("admin create: %d %q %q", code, out, errs)
			}

			base, _ := startServer(t, env)
			signIn := func(email, password string) (int, map[string]any) {
				return adminHTTP(t, base, "POST", "/api/auth/sign-in/email", "", map[string]any{"email": email, "password": password})
			}
			// alive polls get-session until it answers want (the cache hears of a change shortly
			// after on PostgreSQL).
			alive := func(token string, want bool) {
				t.Helper()
				for i := 0; ; i++ {
					status, body := adminHTTP(t, base, "GET", "/api/auth/get-session", token, nil)
					if status == 200 && (body != nil) == want {
						return
					}
					if i == 100 {
						t.Fatalf("get-session: %d %v, want a session: %v", status, body, want)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			if status, in := signIn("root@example.com", "root-password-1"); status != 200 || in["user"].(map[string]any)["role"] != "admin" {
				t.Fatalf("the created user's sign-in: %d %v", status, in)
			}
			status, up := adminHTTP(t, base, "POST", "/api/auth/sign-up/email", "", map[string]any{"name": "Bo", "email": "bo@example.com", "password": "bo-password-1"})
			if status != 200 {
				t.Fatalf("sign-up: %d %v", status, up)
			}
			boID := up["user"].(map[string]any)["id"].(string)
			tok1 := up["token"].(string)
			_, in := signIn("bo@example.com", "bo-password-1")
			tok2 := in["token"].(string)
			alive(tok1, true)
			alive(tok2, true)

			rev := runJSON(t, env, "", "sessions", "revoke", "--user", "bo@example.com")
			if rev["revokedSessions"] != float64(2) || rev["userId"] != boID {
				t.Errorf("sessions revoke: %v", rev)
			}
			alive(tok1, false)
			alive(tok2, false)
			if code, _, errs := runBinary(t, env, "", "sessions", "revoke", "--user", "nobody@example.com"); code != 1 || !strings.Contains(errs, "no user has the address") {
				t.Errorf("revoke of an unknown user: %d %q", code, errs)
			}

			pwEnv := map[string]string{userPasswordEnv: "bo-password-2"}
			for k, v := range env {
				pwEnv[k] = v
			}
			if out := runJSON(t, pwEnv, "", "user", "set-password", "--id", boID); out["userId"] != boID {
				t.Errorf("set-password: %v", out)
			}
			if status, _ := signIn("bo@example.com", "bo-password-1"); status != 401 {
				t.Errorf("the old password: %d, want 401", status)
			}
			status, in = signIn("bo@example.com", "bo-password-2")
			if status != 200 {
				t.Fatalf("the new password: %d %v", status, in)
			}
			tok3 := in["token"].(string)

			ban := runJSON(t, env, "", "user", "ban", "--email", "bo@example.com", "--reason", "spam", "--expires-in", "24h")
			bu := ban["user"].(map[string]any)
			if bu["banned"] != true || bu["banReason"] != "spam" || bu["banExpires"] == nil || ban["revokedSessions"] != float64(1) {
				t.Errorf("user ban: %v", ban)
			}
			alive(tok3, false)
			if status, body := signIn("bo@example.com", "bo-password-2"); status != 403 || body["code"] != "BANNED_USER" {
				t.Errorf("a banned user's sign-in: %d %v", status, body)
			}
			if un := runJSON(t, env, "", "user", "unban", "--email", "bo@example.com"); un["user"].(map[string]any)["banned"] != false {
				t.Errorf("user unban: %v", un)
			}
			if status, _ := signIn("bo@example.com", "bo-password-2"); status != 200 {
				t.Errorf("sign-in after unban: %d", status)
			}

			if r := runJSON(t, env, "", "user", "set-role", "--email", "bo@example.com", "--role", "admin"); r["user"].(map[string]any)["role"] != "admin" {
				t.Errorf("set-role: %v", r)
			}
			if status, in := signIn("bo@example.com", "bo-password-2"); status != 200 || in["user"].(map[string]any)["role"] != "admin" {
				t.Errorf("sign-in after set-role: %d %v", status, in)
			}

			list := runJSON(t, env, "", "user", "list")
			users := list["users"].([]any)
			if list["total"] != float64(3) || len(users) != 3 || users[0].(map[string]any)["email"] != "root@example.com" {
				t.Errorf("user list: %v", list)
			}
			if l := runJSON(t, env, "", "user", "list", "--email-contains", "bo@"); l["total"] != float64(1) {
				t.Errorf("user list --email-contains: %v", l)
			}
			if code, out, _ := runBinary(t, env, "", "user", "list", "--limit", "1"); code != 0 || !strings.Contains(out, "1 of 3 users") {
				t.Errorf("user list text: %d %q", code, out)
			}

			// The server's sign-ins above are in the audit log, the banned one as a failure.
			tail := runJSON(t, env, "", "audit", "tail", "--user", "bo@example.com", "-n", "1000")["entries"].([]any)
			var failed, signedIn int
			for _, r := range tail {
				m := r.(map[string]any)
				if m["event"] != "sign-in" {
					continue
				}
				if m["outcome"] == "failure" && m["detail"].(map[string]any)["reason"] == "BANNED_USER" {
					failed++
				} else if m["outcome"] == "success" {
					signedIn++
				}
			}
			if failed != 1 || signedIn < 2 {
				t.Errorf("audit tail --user: %d banned failures, %d sign-ins: %v", failed, signedIn, tail)
			}
			if code, out, _ := runBinary(t, env, "", "audit", "tail", "-n", "2"); code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, "sign-in") {
				t.Errorf("audit tail text: %d %q", code, out)
			}

			noAdmin := map[string]string{}
			for k, v := range env {
				noAdmin[k] = v
			}
			noAdmin["BETTER_AUTH_PLUGINS"] = "username"
			if code, _, errs := runBinary(t, noAdmin, "", "user", "ban", "--email", "bo@example.com"); code != 1 || !strings.Contains(errs, "admin plugin is not enabled") {
				t.Errorf("ban without the admin plugin: %d %q", code, errs)
			}
		})
	}
}

// schemaOf describes a database's schema in a form two databases can be compared by: sqlite3's
// catalogue, or pg_dump --schema-only.
func schemaOf(t *testing.T, dialect, target string) string {
	t.Helper()
	var cmd *exec.Cmd
	if dialect == "sqlite" {
		cmd = exec.Command("sqlite3", target, `select type, name, tbl_name, sql from sqlite_master where name not like 'sqlite_%' order by type, name`)
	} else {
		cmd = exec.Command("pg_dump", "--schema-only", "--no-owner", target)
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	var keep []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, `\restrict`) || strings.HasPrefix(line, `\unrestrict`) {
			continue // pg_dump's random per-dump key
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}

// migrate print's SQL, applied by hand (sqlite3, psql) to an empty database, gives the schema the
// server's own migrate gives, with every plugin on; a server pointed at it finds nothing to run.
func TestMigratePrintMatchesServer(t *testing.T) {
	buildBinary(t)
	all := strings.Join(func() []string {
		var ns []string
		for n := range pluginBuilders {
			ns = append(ns, n)
		}
		slices.Sort(ns)
		return ns
	}(), ",")
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dir := t.TempDir()
			var byHand, byServer string
			if db == "postgres" {
				byHand, byServer = storetest.PostgresURL(t), storetest.PostgresURL(t)
			} else {
				byHand, byServer = filepath.Join(dir, "hand.db"), filepath.Join(dir, "server.db")
			}
			if _, err := exec.LookPath(map[string]string{"sqlite": "sqlite3", "postgres": "psql"}[db]); err != nil {
				t.Skipf("no client: %v", err)
			}

			code, script, errs := runBinary(t, map[string]string{"DATA_DIR": dir}, "", "migrate", "print", "--plugins", all, "--dialect", db)
			if code != 0 || !strings.Contains(script, `create table "user"`) || !strings.Contains(script, `"banned"`) {
				t.Fatalf("migrate print: %d %q", code, errs)
			}
			if j := runJSON(t, map[string]string{"DATA_DIR": dir}, "", "migrate", "print", "--plugins", all, "--dialect", db); j["sql"] != script {
				t.Errorf("migrate print --json differs from the text")
			}
			var apply *exec.Cmd
			if db == "postgres" {
				apply = exec.Command("psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", byHand)
			} else {
				apply = exec.Command("sqlite3", "-bail", byHand)
			}
			apply.Stdin = strings.NewReader(script)
			if out, err := apply.CombinedOutput(); err != nil {
				t.Fatalf("applying the printed SQL: %v\n%s", err, out)
			}

			serverEnv := map[string]string{"DATA_DIR": dir, "LOG_LEVEL": "error", "BETTER_AUTH_PLUGINS": all, "DATABASE_URL": byServer}
			handEnv := map[string]string{"DATA_DIR": dir, "LOG_LEVEL": "error", "BETTER_AUTH_PLUGINS": all, "DATABASE_URL": byHand}
			if db == "sqlite" {
				serverEnv["DATABASE_URL"], handEnv["DATABASE_URL"] = "sqlite:"+byServer, "sqlite:"+byHand
			}
			runJSON(t, serverEnv, "", "migrate", "apply")
			if hand, server := schemaOf(t, db, byHand), schemaOf(t, db, byServer); hand != server || !strings.Contains(server, "banExpires") {
				t.Errorf("the schemas differ\n--- by hand\n%s\n--- by the server\n%s", hand, server)
			}
			if st := runJSON(t, handEnv, "", "migrate", "status"); st["pending"] != float64(0) {
				t.Errorf("status of the database made by hand: %v", st)
			}
			if a := runJSON(t, handEnv, "", "migrate", "apply")["applied"].([]any); len(a) != 0 {
				t.Errorf("the server would still run %v on the database made by hand", a)
			}
		})
	}

}
