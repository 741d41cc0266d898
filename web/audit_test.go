package web_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"authserver/store"
	"authserver/store/storetest"
)

// auditTrail reads the audit rows written since the last call, oldest first.
type auditTrail struct {
	t    *testing.T
	st   *store.Store
	seen map[string]bool
	all  []store.AuditEntry
}

func newAuditTrail(t *testing.T, st *store.Store) *auditTrail {
	return &auditTrail{t: t, st: st, seen: map[string]bool{}}
}

func (a *auditTrail) next() []store.AuditEntry {
	a.t.Helper()
	rows, _, err := a.st.AuditLog(context.Background(), store.AuditFilter{Limit: 10000})
	if err != nil {
		a.t.Fatal(err)
	}
	var out []store.AuditEntry
	for i := len(rows) - 1; i >= 0; i-- {
		if !a.seen[rows[i].ID] {
			a.seen[rows[i].ID] = true
			out = append(out, rows[i])
			a.all = append(a.all, rows[i])
		}
	}
	return out
}

// expectOne fails unless exactly one new row was written, of this event and outcome, about
// userID ("" for none), and returns it with its detail decoded.
func (a *auditTrail) expectOne(event, outcome, userID string) (store.AuditEntry, map[string]any) {
	a.t.Helper()
	rows := a.next()
	if len(rows) != 1 {
		a.t.Fatalf("%s: %d new audit rows, want 1: %+v", event, len(rows), rows)
	}
	return a.check(rows[0], event, outcome, userID)
}

func (a *auditTrail) check(r store.AuditEntry, event, outcome, userID string) (store.AuditEntry, map[string]any) {
	a.t.Helper()
	if r.Event != event || r.Outcome != outcome {
		a.t.Fatalf("row = %s/%s, want %s/%s", r.Event, r.Outcome, event, outcome)
	}
	if (userID == "" && r.UserID != nil) || (userID != "" && (r.UserID == nil || *r.UserID != userID)) {
		a.t.Fatalf("%s: userId = %v, want %q", event, r.UserID, userID)
	}
	if r.IPAddress == nil || *r.IPAddress != "127.0.0.1" {
		a.t.Fatalf("%s: ipAddress = %v, want 127.0.0.1", event, r.IPAddress)
	}
	if r.UserAgent == nil || *r.UserAgent != "audit-test/1" {
		a.t.Fatalf("%s: userAgent = %v", event, r.UserAgent)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(r.Detail), &d); err != nil {
		a.t.Fatalf("%s: detail %q: %v", event, r.Detail, err)
	}
	return r, d
}

// noSecrets fails if any audit row so far holds one of the secrets in any column.
func (a *auditTrail) noSecrets(secrets ...string) {
	a.t.Helper()
	a.next()
	for _, r := range a.all {
		b, _ := json.Marshal(r)
		text := string(b) + r.Detail
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				a.t.Fatalf("audit row %s holds a secret: %s", r.Event, text)
			}
		}
	}
}

func TestAuditLogCoreEvents(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		a := newAuditTrail(t, st)
		c := e.client()
		c.headers["User-Agent"] = "audit-test/1"
		const pw, pw2 = "first-Secret-pw-1", "second-Secret-pw-2"

		r := signUp(t, c, "audit@example.com", pw)
		uid := r.JSON["user"].(map[string]any)["id"].(string)
		token1, _ := r.JSON["token"].(string)
		rows := a.next()
		if len(rows) != 2 {
			t.Fatalf("sign-up wrote %d rows, want sign-up and sign-in: %+v", len(rows), rows)
		}
		if rows[0].Event != "sign-up" { // one transaction, one millisecond: order by event
			rows[0], rows[1] = rows[1], rows[0]
		}
		_, d := a.check(rows[0], "sign-up", "success", uid)
		if d["method"] != "email" {
			t.Fatalf("sign-up detail %v", d)
		}
		in, d := a.check(rows[1], "sign-in", "success", uid)
		if d["method"] != "email" || in.SessionID == nil {
			t.Fatalf("sign-in row %+v detail %v", in, d)
		}

		other := e.client()
		other.headers["User-Agent"] = "audit-test/1"
		expect(t, other.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "audit@example.com", "password": "wrong-password-9"}), 401, "INVALID_EMAIL_OR_PASSWORD")
		if _, d := a.expectOne("sign-in", "failure", uid); d["reason"] != "invalid-password" || d["method"] != "email" {
			t.Fatalf("failure detail %v", d)
		}
		expect(t, other.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "nobody@example.com", "password": "wrong-password-9"}), 401, "INVALID_EMAIL_OR_PASSWORD")
		if _, d := a.expectOne("sign-in", "failure", ""); d["reason"] != "invalid-credentials" {
			t.Fatalf("failure detail %v", d)
		}
		r = other.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "audit@example.com", "password": pw})
		expect(t, r, 200, "")
		token2, _ := r.JSON["token"].(string)
		a.expectOne("sign-in", "success", uid)

		expect(t, c.do("POST", "/api/auth/change-password", map[string]any{"currentPassword": pw, "newPassword": pw2}), 200, "")
		if _, d := a.expectOne("password-change", "success", uid); d["revokeOtherSessions"] != false {
			t.Fatalf("password-change detail %v", d)
		}

		expect(t, c.do("POST", "/api/auth/revoke-other-sessions", map[string]any{}), 200, "")
		if _, d := a.expectOne("session-revoked", "success", uid); d["scope"] != "others" {
			t.Fatalf("revoke detail %v", d)
		}

		expect(t, c.do("POST", "/api/auth/sign-out", map[string]any{}), 200, "")
		if out, _ := a.expectOne("sign-out", "success", uid); out.SessionID == nil || *out.SessionID != *in.SessionID {
			t.Fatalf("sign-out row %+v", out)
		}
		s1, s2 := e.client(), e.client()
		s1.headers["User-Agent"] = "audit-test/1"
		for _, cl := range []*client{s1, s2} {
			expect(t, cl.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "audit@example.com", "password": pw2}), 200, "")
			a.next()
		}
		tok2 := s2.cookieValue("better-auth.session_token")
		tok2, _, _ = strings.Cut(tok2, ".")
		expect(t, s1.do("POST", "/api/auth/revoke-session", map[string]any{"token": tok2}), 200, "")
		if _, d := a.expectOne("session-revoked", "success", uid); d["scope"] != "one" {
			t.Fatalf("revoke-session detail %v", d)
		}
		expect(t, s1.do("POST", "/api/auth/revoke-sessions", map[string]any{}), 200, "")
		if _, d := a.expectOne("session-revoked", "success", uid); d["scope"] != "all" {
			t.Fatalf("revoke-sessions detail %v", d)
		}
		a.noSecrets(pw, pw2, token1, token2, tok2, testSecret)
	})
}

// Admin actions leave one "admin.<action>" row each naming the admin as actor and the user acted
// on; a banned user's refused sign-in is a failure row with the reason; reads leave nothing.
func TestAuditLogAdminActions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		s := newAdminSetup(t, st)
		a := newAuditTrail(t, st)
		a.next() // the setup's sign-ups
		s.admin.headers["User-Agent"] = "audit-test/1"
		expect(t, s.admin.do("GET", "/api/auth/admin/list-users", nil), 200, "")
		expect(t, s.admin.do("POST", "/api/auth/admin/list-user-sessions", map[string]any{"userId": s.userID}), 200, "")
		if rows := a.next(); len(rows) != 0 {
			t.Fatalf("reads wrote audit rows: %+v", rows)
		}
		expect(t, s.admin.do("POST", "/api/auth/admin/set-role", map[string]any{"userId": s.userID, "role": "user"}), 200, "")
		r, d := a.expectOne("admin.set-role", "success", s.userID)
		if r.ActorID == nil || *r.ActorID != s.adminID || d["role"] != "user" {
			t.Fatalf("set-role row %+v detail %v", r, d)
		}
		expect(t, s.admin.do("POST", "/api/auth/admin/set-user-password", map[string]any{"userId": s.userID, "newPassword": "admin-Set-pw-77"}), 200, "")
		a.next() // set-user-password and the password reset it performs
		expect(t, s.admin.do("POST", "/api/auth/admin/ban-user", map[string]any{"userId": s.userID, "banReason": "spam"}), 200, "")
		if _, d := a.expectOne("admin.ban-user", "success", s.userID); d["banReason"] != "spam" {
			t.Fatalf("ban detail %v", d)
		}
		in := s.e.client()
		in.headers["User-Agent"] = "audit-test/1"
		expect(t, in.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "user@example.com", "password": "admin-Set-pw-77"}), 403, "BANNED_USER")
		if _, d := a.expectOne("sign-in", "failure", s.userID); d["reason"] != "BANNED_USER" {
			t.Fatalf("banned sign-in detail %v", d)
		}
		expect(t, s.admin.do("POST", "/api/auth/admin/unban-user", map[string]any{"userId": s.userID}), 200, "")
		a.expectOne("admin.unban-user", "success", s.userID)
		imp := s.admin.do("POST", "/api/auth/admin/impersonate-user", map[string]any{"userId": s.userID})
		expect(t, imp, 200, "")
		rows := a.next()
		var found bool
		for _, r := range rows {
			if r.Event == "admin.impersonate-user" {
				found = true
				a.check(r, "admin.impersonate-user", "success", s.userID)
				if r.ActorID == nil || *r.ActorID != s.adminID || r.SessionID == nil || *r.SessionID != imp.JSON["session"].(map[string]any)["id"] {
					t.Fatalf("impersonation row %+v", r)
				}
			}
		}
		if !found {
			t.Fatalf("no impersonation row in %+v", rows)
		}
		a.noSecrets("admin-Set-pw-77", "password123", imp.JSON["session"].(map[string]any)["token"].(string))
	})
}

// Two-factor on and off leave one row each; so do adding and removing a passkey.
func TestAuditLogTwoFactorAndPasskeys(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		t.Run("two-factor", func(t *testing.T) {
			e, _ := twoFactorEnv(t, st, defaultTwoFactor())
			a := newAuditTrail(t, st)
			c, id, secret, _ := enableTOTP(t, e)
			if n := countEvents(a.next(), "two-factor-enabled", id); n != 1 {
				t.Fatalf("%d two-factor-enabled rows, want 1", n)
			}
			in := e.client()
			in.headers["User-Agent"] = "audit-test/1"
			e.challenge(in, false)
			a.next()
			expect(t, in.do("POST", "/api/auth/two-factor/verify-totp", map[string]any{"code": e.wrongCode(secret)}), 401, "INVALID_CODE")
			if _, d := a.expectOne("sign-in", "failure", id); d["method"] != "two-factor" || d["reason"] != "invalid-code" {
				t.Fatalf("wrong code detail %v", d)
			}
			c.headers["User-Agent"] = "audit-test/1"
			expect(t, c.do("POST", "/api/auth/two-factor/disable", map[string]any{"password": "password123"}), 200, "")
			a.expectOne("two-factor-disabled", "success", id)
		})
		t.Run("passkey", func(t *testing.T) {
			e := passkeyEnv(t, st)
			c := e.client()
			up := signUp(t, c, "pk@example.com", "password123")
			id := up.JSON["user"].(map[string]any)["id"].(string)
			a := newAuditTrail(t, st)
			a.next()
			c.headers["User-Agent"] = "audit-test/1"
			pk, _ := registerPasskey(t, c, newSoftAuthn(t, trusted, "localhost"), "Phone", ceremony{})
			if _, d := a.expectOne("passkey-added", "success", id); d["passkeyId"] != pk["id"] {
				t.Fatalf("passkey-added detail %v, passkey %v", d, pk)
			}
			expect(t, c.do("POST", "/api/auth/passkey/delete-passkey", map[string]any{"id": pk["id"]}), 200, "")
			a.expectOne("passkey-removed", "success", id)
		})
	})
}

func countEvents(rows []store.AuditEntry, event, userID string) int {
	n := 0
	for _, r := range rows {
		if r.Event == event && r.UserID != nil && *r.UserID == userID {
			n++
		}
	}
	return n
}

// The admin reads the audit log, filtered and paged; others are refused. A user reads their own
// security events and nobody else's.
func TestAuditLogRead(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		s := newAdminSetup(t, st)
		expect(t, s.user.do("GET", "/api/auth/admin/audit-log", nil), 403, "YOU_ARE_NOT_ALLOWED_TO_READ_THE_AUDIT_LOG")
		expect(t, s.e.client().do("GET", "/api/auth/admin/audit-log", nil), 401, "")
		expect(t, s.admin.do("GET", "/api/auth/admin/audit-log?limit=-1", nil), 400, "VALIDATION_ERROR")
		r := s.admin.do("GET", "/api/auth/admin/audit-log?userId="+s.userID, nil)
		expect(t, r, 200, "")
		entries := r.JSON["entries"].([]any)
		if r.JSON["total"] != float64(2) || len(entries) != 2 { // the user's sign-up and sign-in
			t.Fatalf("audit-log = %s", r.Raw)
		}
		first := entries[0].(map[string]any)
		if first["userId"] != s.userID || first["ipAddress"] != "127.0.0.1" || !jsDate.MatchString(first["createdAt"].(string)) {
			t.Fatalf("entry %v", first)
		}
		if d, ok := first["detail"].(map[string]any); !ok || d["method"] != "email" {
			t.Fatalf("entry detail %v", first["detail"])
		}
		r = s.admin.do("GET", "/api/auth/admin/audit-log?limit=1&offset=1", nil)
		if got := r.JSON["entries"].([]any); len(got) != 1 || r.JSON["total"] != float64(6) {
			t.Fatalf("paged audit-log = %s", r.Raw)
		}

		expect(t, s.e.client().do("GET", "/api/auth/security-events", nil), 401, "")
		ev := s.user.do("GET", "/api/auth/security-events", nil)
		expect(t, ev, 200, "")
		list := ev.JSON["events"].([]any)
		if len(list) != 2 {
			t.Fatalf("security-events = %s", ev.Raw)
		}
		for _, e := range list {
			if e.(map[string]any)["userId"] != s.userID {
				t.Fatalf("someone else's event: %s", ev.Raw)
			}
		}
		if one := s.user.do("GET", "/api/auth/security-events?limit=1", nil); len(one.JSON["events"].([]any)) != 1 {
			t.Fatalf("limit=1: %s", one.Raw)
		}
		expect(t, s.user.do("GET", "/api/auth/security-events?limit=abc", nil), 400, "VALIDATION_ERROR")
	})
}

// An audit row is written in the transaction of the change it records: while the audit table
// cannot be written, a sign-in makes no session (401 FAILED_TO_CREATE_SESSION), revoking sessions leaves them working and an
// admin's ban does not happen, each answered with an error; sign-out still ends the session (it
// is logged instead), since a session the user asked to end must not outlive the audit table.
// With the table back, each change commits with exactly one row.
func TestAuditRowCommitsWithItsChange(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s := newAdminSetup(t, st)
		s.admin.headers["User-Agent"] = "audit-test/1"
		a := newAuditTrail(t, st)
		a.next()
		sessions := func() int {
			list, err := st.SessionsByUser(ctx, s.userID, store.NewTime(s.e.clock.Now()))
			if err != nil {
				t.Fatal(err)
			}
			return len(list)
		}
		breakAudit := func(broken bool) {
			from, to := "authserver_audit_log", "authserver_audit_log_away"
			if !broken {
				from, to = to, from
			}
			if err := st.ExecAdmin(ctx, `ALTER TABLE "`+from+`" RENAME TO "`+to+`"`); err != nil {
				t.Fatal(err)
			}
		}
		second := s.e.client()
		expect(t, second.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "user@example.com", "password": "password123"}), 200, "")
		before := sessions()
		a.next()

		breakAudit(true)
		// As Better-Auth answers a session it could not store.
		expect(t, s.e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "user@example.com", "password": "password123"}),
			401, "FAILED_TO_CREATE_SESSION")
		if n := sessions(); n != before {
			t.Fatalf("a failed sign-in left a session: %d sessions, want %d", n, before)
		}
		if r := s.user.do("POST", "/api/auth/revoke-other-sessions", nil); r.Status < 500 {
			t.Fatalf("revoke-other-sessions without an audit table: %d, want a 5xx", r.Status)
		}
		if n := sessions(); n != before {
			t.Fatalf("a failed revocation deleted sessions: %d left, want %d", n, before)
		}
		if r := s.admin.do("POST", "/api/auth/admin/ban-user", map[string]any{"userId": s.userID}); r.Status < 500 {
			t.Fatalf("ban-user without an audit table: %d, want a 5xx", r.Status)
		}
		expect(t, s.user.do("GET", "/api/auth/get-session", nil), 200, "")
		if u := s.admin.do("GET", "/api/auth/admin/get-user?id="+s.userID, nil); u.JSON["banned"] == true {
			t.Fatalf("a failed ban stands: %v", u.JSON)
		}
		expect(t, second.do("POST", "/api/auth/sign-out", nil), 200, "")
		if n := sessions(); n != before-1 {
			t.Fatalf("sign-out without an audit table: %d sessions, want %d", n, before-1)
		}
		breakAudit(false)
		if rows := a.next(); len(rows) != 0 {
			t.Fatalf("rows written while the table was away: %+v", rows)
		}

		expect(t, s.admin.do("POST", "/api/auth/admin/ban-user", map[string]any{"userId": s.userID}), 200, "")
		a.expectOne("admin.ban-user", "success", s.userID)
		if n := sessions(); n != 0 {
			t.Fatalf("ban left %d sessions", n)
		}
	})
}
