package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"authserver/store"
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

// `webhooks status` shows an operator the deliveries still waiting: each one's webhook-id, event
// type, URL, attempts, next attempt and last failure (never the body), with the count and the
// oldest's age; `webhooks retry` makes them due now, and a running server then delivers them
// without waiting out the backoff.
func TestWebhooksCommand(t *testing.T) {
	buildBinary(t)
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dbURL := func() string {
				if db == "postgres" {
					return storetest.PostgresURL(t)
				}
				return "sqlite:" + filepath.Join(t.TempDir(), "app.db")
			}
			env := map[string]string{"DATA_DIR": t.TempDir(), "LOG_LEVEL": "error", "DATABASE_URL": dbURL()}
			ctx := context.Background()

			if code, out, _ := runBinary(t, env, "", "webhooks", "--help"); code != 0 || !strings.Contains(out, "authserver webhooks status") ||
				!strings.Contains(out, "authserver webhooks retry") || !strings.Contains(out, "Exit status") {
				t.Errorf("webhooks --help: %d %q", code, out)
			}
			if code, out, _ := runBinary(t, env, "", "--help"); code != 0 || !strings.Contains(out, "authserver webhooks ...") {
				t.Errorf("--help does not list the webhooks commands: %d %q", code, out)
			}
			for _, bad := range [][]string{{"webhooks"}, {"webhooks", "frobnicate"}, {"webhooks", "status", "--limit", "0"},
				{"webhooks", "status", "extra"}, {"webhooks", "retry", "--id"}, {"webhooks", "retry", "msg_x"}} {
				if code, _, errs := runBinary(t, env, "", bad...); code != 2 || !strings.Contains(errs, "Usage:") {
					t.Errorf("%q: exit %d, want 2 with the usage\n%s", bad, code, errs)
				}
			}
			if code, out, _ := runBinary(t, env, "", "webhooks", "status"); code != 0 || out != "0 pending\n" {
				t.Errorf("status of an empty queue: %d %q", code, out)
			}

			// Two queued deliveries, as the server leaves them when a receiver is down: one failed
			// three times, one not yet attempted. No server runs, so they stay.
			st, err := store.Open(ctx, store.Config{URL: env["DATABASE_URL"]})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			now := time.Now()
			lastErr := "receiver answered 503"
			for _, d := range []store.WebhookDelivery{
				{ID: "msg_a", CreatedAt: store.NewTime(now.Add(-2 * time.Minute)), URL: "https://hooks.example/a",
					Payload: `{"type":"auth.sign-in","data":{"ipAddress":"203.0.113.9"}}`, Attempts: 3,
					NextAttemptAt: store.NewTime(now.Add(time.Hour)), LastError: &lastErr},
				{ID: "msg_b", CreatedAt: store.NewTime(now.Add(-time.Minute)), URL: "http://10.0.0.2/b",
					Payload: `{"type":"auth.sign-up","data":{"ipAddress":"203.0.113.9"}}`, NextAttemptAt: store.NewTime(now.Add(-time.Minute))},
			} {
				if err := st.EnqueueWebhook(ctx, &d); err != nil {
					t.Fatal(err)
				}
			}

			s := runJSON(t, env, "", "webhooks", "status")
			ds := s["deliveries"].([]any)
			if s["pending"] != float64(2) || len(ds) != 2 {
				t.Fatalf("status: %v", s)
			}
			a, b := ds[0].(map[string]any), ds[1].(map[string]any)
			if a["id"] != "msg_a" || a["type"] != "auth.sign-in" || a["url"] != "https://hooks.example/a" || a["attempts"] != float64(3) ||
				a["lastError"] != lastErr || a["nextAttemptAt"] != store.NewTime(now.Add(time.Hour)).String() {
				t.Errorf("status: the failed delivery = %v", a)
			}
			if b["id"] != "msg_b" || b["type"] != "auth.sign-up" || b["attempts"] != float64(0) || b["lastError"] != nil {
				t.Errorf("status: the new delivery = %v", b)
			}
			if age := s["oldestAgeSeconds"].(float64); age < 120 || age > 180 || s["oldestCreatedAt"] != store.NewTime(now.Add(-2*time.Minute)).String() {
				t.Errorf("status: oldest %v, %v s ago; want msg_a's, 120 s ago", s["oldestCreatedAt"], age)
			}
			code, out, _ := runBinary(t, env, "", "webhooks", "status")
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "msg_a  auth.sign-in  https://hooks.example/a  queued ") ||
				!regexp.MustCompile(`  attempts 3  next in (59m\d+s|1h0m0s)  `).MatchString(lines[0]) || !strings.HasSuffix(lines[0], "last error: receiver answered 503") ||
				!strings.Contains(lines[1], "attempts 0  due now  last error: -") || !strings.HasPrefix(lines[2], "2 pending, the oldest queued 2m") {
				t.Errorf("status text: %d\n%s", code, out)
			}
			if strings.Contains(out, "203.0.113.9") {
				t.Errorf("status printed a payload:\n%s", out)
			}
			if code, out, _ := runBinary(t, env, "", "webhooks", "status", "--limit", "1"); code != 0 || strings.Count(out, "msg_") != 1 || !strings.Contains(out, "(1 shown)\n2 pending") {
				t.Errorf("status --limit 1: %d %q", code, out)
			}

			if code, out, errs := runBinary(t, env, "", "webhooks", "retry", "--id", "msg_nope", "--json"); code != 1 ||
				!strings.Contains(errs, "no pending delivery has the webhook-id msg_nope") || !strings.Contains(out, `"error"`) {
				t.Errorf("retry of an unknown id: %d %q %q", code, out, errs)
			}
			if r := runJSON(t, env, "", "webhooks", "retry", "--id", "msg_a"); r["retried"] != float64(1) {
				t.Errorf("retry --id msg_a: %v", r)
			}
			a = runJSON(t, env, "", "webhooks", "status")["deliveries"].([]any)[0].(map[string]any)
			next, err := time.Parse(time.RFC3339, a["nextAttemptAt"].(string))
			if err != nil || next.After(time.Now()) || a["attempts"] != float64(3) || a["lastError"] != lastErr {
				t.Errorf("after retry --id msg_a: %v, want it due now, its attempts and last error kept", a)
			}
			if r := runJSON(t, env, "", "webhooks", "retry"); r["retried"] != float64(2) {
				t.Errorf("retry of every delivery: %v", r)
			}

			// A running server whose receiver is down: the status shows its failed attempts; once
			// the receiver is back, retry has them delivered before their next attempt was due.
			var up atomic.Bool
			var mu sync.Mutex
			got := map[string]bool{}
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !up.Load() {
					http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
					return
				}
				mu.Lock()
				got[r.Header.Get("webhook-id")] = true
				mu.Unlock()
				w.WriteHeader(http.StatusNoContent)
			}))
			defer rcv.Close()
			live := map[string]string{"DATA_DIR": t.TempDir(), "LOG_LEVEL": "error", "DATABASE_URL": dbURL(),
				"WEBHOOK_URLS": rcv.URL + "/hook", "WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
			base, _ := startServer(t, live)
			if status, body := post(t, base+"/api/auth/sign-up/email", map[string]any{"name": "W", "email": "hook@example.com", "password": "password123"}, ""); status != 200 {
				t.Fatalf("sign-up: %d %v", status, body)
			}
			var failed []any
			for i := 0; ; i++ {
				s := runJSON(t, live, "", "webhooks", "status")
				failed = s["deliveries"].([]any)
				if len(failed) > 0 && !slices.ContainsFunc(failed, func(d any) bool { return d.(map[string]any)["attempts"] == float64(0) }) {
					break
				}
				if i == 50 {
					t.Fatalf("no failed attempt shown: %v", s)
				}
				time.Sleep(100 * time.Millisecond)
			}
			due := time.Now().Add(time.Hour)
			for _, d := range failed {
				m := d.(map[string]any)
				if m["lastError"] != "receiver answered 503" || !strings.HasPrefix(m["type"].(string), "auth.") || m["url"] != rcv.URL+"/hook" {
					t.Errorf("a failed delivery: %v", m)
				}
				if next, err := time.Parse(time.RFC3339, m["nextAttemptAt"].(string)); err == nil && next.Before(due) {
					due = next
				}
			}
			up.Store(true)
			if r := runJSON(t, live, "", "webhooks", "retry"); r["retried"] != float64(len(failed)) {
				t.Errorf("retry: %v, want %d", r, len(failed))
			}
			for {
				s := runJSON(t, live, "", "webhooks", "status")
				if s["pending"] == float64(0) {
					break
				}
				if time.Now().After(due) {
					t.Fatalf("still pending when the backoff ended, as if retry did nothing: %v", s)
				}
				time.Sleep(100 * time.Millisecond)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, d := range failed {
				if id := d.(map[string]any)["id"].(string); !got[id] {
					t.Errorf("%s not delivered under its webhook-id (got %v)", id, got)
				}
			}
		})
	}
}
