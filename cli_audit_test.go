package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"authserver/store/storetest"
)

// Every operator command that changes a user leaves its admin.<action> row (detail.via "cli",
// no actor) and, with WEBHOOK_URLS, its webhook rows; a change whose row cannot be written does
// not happen. Run as the built binary on SQLite and PostgreSQL, read back with audit tail.
func TestOperatorCommandsAudited(t *testing.T) {
	buildBinary(t)
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			env := map[string]string{"DATA_DIR": t.TempDir(), "LOG_LEVEL": "error", "BETTER_AUTH_PLUGINS": "admin",
				"WEBHOOK_URLS": "http://127.0.0.1:9/hook", "WEBHOOK_SECRET": "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
			if db == "postgres" {
				env["DATABASE_URL"] = storetest.PostgresURL(t)
			}
			with := func(k, v string) map[string]string {
				m := map[string]string{k: v}
				for k, v := range env {
					m[k] = v
				}
				return m
			}
			const pw1, pw2 = "cli-Secret-pw-1", "cli-Secret-pw-2"
			runJSON(t, env, "", "migrate", "apply")
			id := runJSON(t, env, pw1+"\n", "user", "create", "--email", "ops@example.com", "--role", "admin")["user"].(map[string]any)["id"].(string)
			runJSON(t, with(userPasswordEnv, pw2), "", "user", "set-password", "--id", id, "--revoke-sessions")
			runJSON(t, env, "", "user", "set-role", "--id", id, "--role", "user")
			runJSON(t, env, "", "user", "ban", "--email", "ops@example.com", "--reason", "spam", "--expires-in", "1h")
			runJSON(t, env, "", "user", "unban", "--id", id)
			runJSON(t, env, "", "sessions", "revoke", "--user", "ops@example.com")

			code, out, errs := runBinary(t, env, "", "audit", "tail", "-n", "100", "--json")
			if code != 0 {
				t.Fatalf("audit tail: %d %s", code, errs)
			}
			if strings.Contains(out, pw1) || strings.Contains(out, pw2) {
				t.Fatalf("a password in the audit log: %s", out)
			}
			tail := runJSON(t, env, "", "audit", "tail", "-n", "100")["entries"].([]any)
			want := []struct {
				event  string
				detail map[string]any
			}{
				{"admin.create-user", map[string]any{"role": "admin"}},
				{"admin.set-user-password", map[string]any{"revokeSessions": true}},
				{"admin.set-role", map[string]any{"role": "user"}},
				{"admin.ban-user", map[string]any{"banReason": "spam", "banExpiresIn": float64(3600), "revokedSessions": float64(0)}},
				{"admin.unban-user", map[string]any{}},
				{"admin.revoke-user-sessions", map[string]any{"revokedSessions": float64(0)}},
			}
			if len(tail) != len(want) {
				t.Fatalf("audit tail: %d rows, want %d: %v", len(tail), len(want), tail)
			}
			for i, w := range want {
				r := tail[i].(map[string]any)
				d := r["detail"].(map[string]any)
				if r["event"] != w.event || r["outcome"] != "success" || r["userId"] != id || r["actorId"] != nil || d["via"] != "cli" {
					t.Errorf("row %d = %v, want %s about %s via cli", i, r, w.event, id)
				}
				for k, v := range w.detail {
					if d[k] != v {
						t.Errorf("%s: detail.%s = %v, want %v", w.event, k, d[k], v)
					}
				}
			}

			// The webhook rows were queued with the audit rows, one per event.
			cfg, err := loadConfig(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			st, err := openStore(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			due, err := st.DueWebhooks(context.Background(), time.Now().Add(time.Hour), 100)
			st.Close()
			if err != nil {
				t.Fatal(err)
			}
			if len(due) != len(want) {
				t.Fatalf("%d webhook rows, want %d", len(due), len(want))
			}
			for i, w := range want {
				if !strings.Contains(due[i].Payload, `"type":"auth.`+w.event+`"`) {
					t.Errorf("webhook row %d: %s, want auth.%s", i, due[i].Payload, w.event)
				}
			}

			// With the audit table gone, a ban fails and leaves the user as they were.
			sql := func(q string) {
				t.Helper()
				var cmd *exec.Cmd
				if db == "sqlite" {
					cmd = exec.Command("sqlite3", filepath.Join(env["DATA_DIR"], "app.db"), q)
				} else {
					cmd = exec.Command("psql", "-q", env["DATABASE_URL"], "-c", q)
				}
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s: %v\n%s", q, err, out)
				}
			}
			sql(`alter table authserver_audit_log rename to audit_away`)
			if code, _, _ := runBinary(t, env, "", "user", "ban", "--id", id); code != 1 {
				t.Errorf("ban without an audit table: exit %d, want 1", code)
			}
			sql(`alter table audit_away rename to authserver_audit_log`)
			users := runJSON(t, env, "", "user", "list")["users"].([]any)
			if len(users) != 1 || users[0].(map[string]any)["banned"] != false {
				t.Errorf("the ban whose audit row failed stood: %v", users)
			}
			if n := len(runJSON(t, env, "", "audit", "tail", "-n", "100")["entries"].([]any)); n != len(want) {
				t.Errorf("%d audit rows after the failed ban, want %d", n, len(want))
			}

			// The older admin command is audited alike.
			if code, _, errs := runBinary(t, with("AUTHSERVER_ADMIN_PASSWORD", pw1), "", "admin", "create", "--email", "two@example.com"); code != 0 {
				t.Fatalf("admin create: %d %s", code, errs)
			}
			if code, _, errs := runBinary(t, env, "", "admin", "set-role", "--email", "two@example.com", "--role", "user"); code != 0 {
				t.Fatalf("admin set-role: %d %s", code, errs)
			}
			last := runJSON(t, env, "", "audit", "tail", "-n", "2")["entries"].([]any)
			for i, w := range []string{"admin.create-user", "admin.set-role"} {
				r := last[i].(map[string]any)
				if r["event"] != w || r["userId"] == id || r["userId"] == nil || r["detail"].(map[string]any)["via"] != "cli" {
					t.Errorf("admin command row %d = %v, want %s", i, r, w)
				}
			}
		})
	}
}
