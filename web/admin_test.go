package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"authserver/auth/admin"
	"authserver/auth/plugin"
	"authserver/store"
	"authserver/store/storetest"
)

// adminSetup serves the admin plugin with three signed-in users: an admin, a plain user and one
// whose role ("auditor") grants nothing.
type adminSetup struct {
	e                    *env
	st                   *store.Store
	admin, user, auditor *client
	adminID, userID      string
	auditorID            string
}

func newAdminSetup(t *testing.T, st *store.Store) *adminSetup {
	t.Helper()
	cfg, err := admin.LoadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	p := admin.New(cfg)
	if err := plugin.Install(context.Background(), st, []plugin.Plugin{p}); err != nil {
		t.Fatalf("plugin.Install: %v", err)
	}
	s := &adminSetup{st: st, e: newEnv(t, st, func(o *envOptions) { o.auth.Plugins = []plugin.Plugin{p} })}
	mk := func(email, role string) (*client, string) {
		c := s.e.client()
		up := signUp(t, c, email, "password123")
		id := userMap(t, up.Raw)["id"].(string)
		if role != "" {
			if err := st.SetUserFields(context.Background(), id, map[string]store.Value{"role": store.StringValue(role)}, store.NewTime(s.e.clock.Now())); err != nil {
				t.Fatal(err)
			}
		}
		return c, id
	}
	s.admin, s.adminID = mk("admin@example.com", "admin")
	s.user, s.userID = mk("user@example.com", "")
	s.auditor, s.auditorID = mk("auditor@example.com", "auditor")
	return s
}

func (s *adminSetup) signIn(t *testing.T, email string) *response {
	t.Helper()
	return s.e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": "password123"})
}

// Every endpoint's happy path answers in Better-Auth 1.7.25's shape.
func TestAdminEndpoints(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		s := newAdminSetup(t, st)
		a := s.admin
		up := signUp(t, s.e.client(), "new@example.com", "password123")
		if got := userMap(t, up.Raw)["role"]; got != "user" {
			t.Errorf("sign-up role = %v, want user", got)
		}
		if got := userMap(t, up.Raw)["banned"]; got != false {
			t.Errorf("sign-up banned = %v, want false", got)
		}

		c := a.do("POST", "/api/auth/admin/create-user", map[string]any{"email": "Made@Example.com", "name": "Made", "password": "pw", "role": []string{"a", "b"}, "data": map[string]any{"banReason": "x", "foo": 1}})
		expect(t, c, 200, "")
		made := c.JSON["user"].(map[string]any)
		if made["email"] != "made@example.com" || made["role"] != "a,b" || made["banReason"] != "x" || made["banned"] != false {
			t.Errorf("create-user = %s", c.Raw)
		}
		madeID := made["id"].(string)
		// The short password was stored (create-user checks only the maximum) and signs in.
		in := s.e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "made@example.com", "password": "pw"})
		expect(t, in, 200, "")
		expect(t, a.do("POST", "/api/auth/admin/create-user", map[string]any{"email": "made@example.com", "name": "M"}), 400, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL")
		expect(t, a.do("POST", "/api/auth/admin/create-user", map[string]any{"email": "nope", "name": "M"}), 400, "INVALID_EMAIL")
		expect(t, a.do("POST", "/api/auth/admin/create-user", map[string]any{"email": "r@example.com", "name": "M", "data": map[string]any{"role": 5}}), 400, "INVALID_ROLE_TYPE")
		expect(t, a.do("POST", "/api/auth/admin/create-user", map[string]any{"email": "r@example.com", "name": "M", "password": strings.Repeat("x", 200)}), 400, "PASSWORD_TOO_LONG")
		if userCount(t, st, "r@example.com") != 0 {
			t.Error("a refused create-user wrote a user")
		}

		g := a.do("GET", "/api/auth/admin/get-user?id="+s.userID, nil)
		expect(t, g, 200, "")
		if g.JSON["id"] != s.userID || g.JSON["role"] != "user" {
			t.Errorf("get-user = %s", g.Raw)
		}
		expect(t, a.do("GET", "/api/auth/admin/get-user?id=nope", nil), 404, "USER_NOT_FOUND")
		expect(t, a.do("GET", "/api/auth/admin/get-user", nil), 400, "VALIDATION_ERROR")

		r := a.do("POST", "/api/auth/admin/set-role", map[string]any{"userId": madeID, "role": []string{"x", "y"}})
		expect(t, r, 200, "")
		if r.JSON["user"].(map[string]any)["role"] != "x,y" {
			t.Errorf("set-role = %s", r.Raw)
		}
		expect(t, a.do("POST", "/api/auth/admin/set-role", map[string]any{"userId": "nope", "role": "x"}), 404, "USER_NOT_FOUND")

		u := a.do("POST", "/api/auth/admin/update-user", map[string]any{"userId": madeID, "data": map[string]any{"name": "Renamed", "unknown": 1}})
		expect(t, u, 200, "")
		if u.JSON["name"] != "Renamed" {
			t.Errorf("update-user = %s", u.Raw)
		}
		for body, code := range map[string]string{
			`{"userId":"` + madeID + `","data":{}}`:                            "NO_DATA_TO_UPDATE",
			`{"userId":"` + madeID + `","data":{"password":"x"}}`:              "PASSWORD_CANNOT_BE_UPDATED_VIA_UPDATE_USER",
			`{"userId":"` + madeID + `","data":{"id":"x"}}`:                    "USER_ID_CANNOT_BE_UPDATED",
			`{"userId":"` + madeID + `","data":{"email":"ADMIN@example.com"}}`: "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
			`{"userId":"` + s.adminID + `","data":{"banned":true}}`:            "YOU_CANNOT_BAN_YOURSELF",
			`{"userId":"` + madeID + `"}`:                                      "VALIDATION_ERROR",
		} {
			expect(t, a.do("POST", "/api/auth/admin/update-user", body), 400, code)
		}
		expect(t, a.do("POST", "/api/auth/admin/update-user", map[string]any{"userId": "nope", "data": map[string]any{"name": "x"}}), 404, "USER_NOT_FOUND")

		expect(t, a.do("POST", "/api/auth/admin/set-user-password", map[string]any{"userId": madeID, "newPassword": "short"}), 400, "PASSWORD_TOO_SHORT")
		expect(t, a.do("POST", "/api/auth/admin/set-user-password", map[string]any{"userId": madeID, "newPassword": ""}), 400, "VALIDATION_ERROR")
		expect(t, a.do("POST", "/api/auth/admin/set-user-password", map[string]any{"userId": "nope", "newPassword": "password456"}), 404, "USER_NOT_FOUND")
		p := a.do("POST", "/api/auth/admin/set-user-password", map[string]any{"userId": madeID, "newPassword": "password456"})
		expect(t, p, 200, "")
		if string(p.Raw) != `{"status":true}` {
			t.Errorf("set-user-password = %s", p.Raw)
		}
		expect(t, s.e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "made@example.com", "password": "password456"}), 200, "")

		ls := a.do("POST", "/api/auth/admin/list-user-sessions", map[string]any{"userId": s.userID})
		expect(t, ls, 200, "")
		sessions := ls.JSON["sessions"].([]any)
		if len(sessions) != 1 || sessions[0].(map[string]any)["impersonatedBy"] != nil {
			t.Fatalf("list-user-sessions = %s", ls.Raw)
		}
		token := sessions[0].(map[string]any)["token"].(string)
		expect(t, a.do("POST", "/api/auth/admin/revoke-user-session", map[string]any{"sessionToken": token}), 200, "")
		expect(t, s.user.do("GET", "/api/auth/list-sessions", nil), 401, "")
		expect(t, a.do("POST", "/api/auth/admin/revoke-user-session", map[string]any{"sessionToken": "nope"}), 200, "")
		in = s.signIn(t, "user@example.com")
		expect(t, a.do("POST", "/api/auth/admin/revoke-user-sessions", map[string]any{"userId": s.userID}), 200, "")
		if n := len(a.do("POST", "/api/auth/admin/list-user-sessions", map[string]any{"userId": s.userID}).JSON["sessions"].([]any)); n != 0 {
			t.Errorf("after revoke-user-sessions %d sessions remain", n)
		}

		hp := a.do("POST", "/api/auth/admin/has-permission", map[string]any{"permissions": map[string]any{"user": []string{"list"}}})
		expect(t, hp, 200, "")
		if string(hp.Raw) != `{"error":null,"success":true}` {
			t.Errorf("has-permission = %s", hp.Raw)
		}
		for _, body := range []string{`{"permissions":{"user":["impersonate-admins"]}}`, `{"permissions":{"nope":["list"]}}`, `{"permissions":{}}`} {
			if r := a.do("POST", "/api/auth/admin/has-permission", body); r.JSON["success"] != false {
				t.Errorf("has-permission %s = %s", body, r.Raw)
			}
		}
		legacy := a.do("POST", "/api/auth/admin/has-permission", map[string]any{"permission": map[string]any{"user": []string{"list"}}})
		if legacy.Status != 400 || string(legacy.Raw) != `{"message":"invalid permission check. no permission(s) were passed."}` {
			t.Errorf("legacy permission = %d %s", legacy.Status, legacy.Raw)
		}
		expect(t, a.do("POST", "/api/auth/admin/has-permission", `{"permission":{},"permissions":{}}`), 400, "VALIDATION_ERROR")
		expect(t, a.do("POST", "/api/auth/admin/has-permission", `{}`), 400, "VALIDATION_ERROR")

		expect(t, a.do("POST", "/api/auth/admin/remove-user", map[string]any{"userId": s.adminID}), 400, "YOU_CANNOT_REMOVE_YOURSELF")
		expect(t, a.do("POST", "/api/auth/admin/remove-user", map[string]any{"userId": "nope"}), 404, "USER_NOT_FOUND")
		expect(t, a.do("POST", "/api/auth/admin/remove-user", map[string]any{"userId": madeID}), 200, "")
		if userCount(t, st, "made@example.com") != 0 {
			t.Error("remove-user left the user")
		}
		// Methods are Better-Auth's: list-users is GET only, list-user-sessions POST only.
		expect(t, a.do("POST", "/api/auth/admin/list-users", map[string]any{}), 404, "")
		expect(t, a.do("GET", "/api/auth/admin/list-user-sessions?userId="+s.userID, nil), 404, "")
	})
}

// Every admin endpoint, for an admin, a user, a role without permissions and a signed-out
// caller: allowed, Better-Auth's 403 code, or 401 with no body.
func TestAdminPermissionMatrix(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		s := newAdminSetup(t, st)
		eps := []struct {
			method, path string
			body         func() any
			code         string
		}{
			{"GET", "/admin/list-users", nil, "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS"},
			{"GET", "/admin/get-user?id=" + s.userID, nil, "YOU_ARE_NOT_ALLOWED_TO_GET_USER"},
			{"POST", "/admin/create-user", func() any {
				return map[string]any{"email": "m" + fmt.Sprint(len(s.adminID)) + "@example.com", "name": "M"}
			}, "YOU_ARE_NOT_ALLOWED_TO_CREATE_USERS"},
			{"POST", "/admin/update-user", func() any { return map[string]any{"userId": s.userID, "data": map[string]any{"name": "N"}} }, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_USERS"},
			{"POST", "/admin/set-role", func() any { return map[string]any{"userId": s.userID, "role": "user"} }, "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE"},
			{"POST", "/admin/set-user-password", func() any { return map[string]any{"userId": s.userID, "newPassword": "password123"} }, "YOU_ARE_NOT_ALLOWED_TO_SET_USERS_PASSWORD"},
			{"POST", "/admin/unban-user", func() any { return map[string]any{"userId": s.userID} }, "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS"},
			{"POST", "/admin/list-user-sessions", func() any { return map[string]any{"userId": s.userID} }, "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS_SESSIONS"},
			{"POST", "/admin/revoke-user-session", func() any { return map[string]any{"sessionToken": "nope"} }, "YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS"},
			{"POST", "/admin/revoke-user-sessions", func() any { return map[string]any{"userId": "nope"} }, "YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS"},
			{"POST", "/admin/remove-user", func() any { return map[string]any{"userId": "nope"} }, "YOU_ARE_NOT_ALLOWED_TO_DELETE_USERS"},
			{"POST", "/admin/ban-user", func() any { return map[string]any{"userId": "nope"} }, "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS"},
			{"POST", "/admin/impersonate-user", func() any { return map[string]any{"userId": "nope"} }, "YOU_ARE_NOT_ALLOWED_TO_IMPERSONATE_USERS"},
		}
		signedOut := s.e.client()
		for _, ep := range eps {
			var body any
			if ep.body != nil {
				body = ep.body()
			}
			for name, c := range map[string]*client{"user": s.user, "auditor": s.auditor} {
				r := c.do(ep.method, "/api/auth"+ep.path, body)
				if r.Status != http.StatusForbidden || r.code() != ep.code {
					t.Errorf("%s %s as %s = %d %s, want 403 %s", ep.method, ep.path, name, r.Status, r.Raw, ep.code)
				}
			}
			r := signedOut.do(ep.method, "/api/auth"+ep.path, body)
			if r.Status != http.StatusUnauthorized || len(r.Raw) != 0 {
				t.Errorf("%s %s signed out = %d %q, want 401 with no body", ep.method, ep.path, r.Status, r.Raw)
			}
			r = s.admin.do(ep.method, "/api/auth"+ep.path, body)
			if r.Status == http.StatusForbidden || r.Status == http.StatusUnauthorized {
				t.Errorf("%s %s as admin = %d %s", ep.method, ep.path, r.Status, r.Raw)
			}
		}
		for name, c := range map[string]*client{"user": s.user, "auditor": s.auditor} {
			r := c.do("POST", "/api/auth/admin/has-permission", map[string]any{"permissions": map[string]any{"user": []string{"list"}}, "role": "admin"})
			if r.Status != 200 || r.JSON["success"] != false {
				t.Errorf("has-permission as %s = %d %s", name, r.Status, r.Raw)
			}
		}
		if r := signedOut.do("POST", "/api/auth/admin/has-permission", map[string]any{"permissions": map[string]any{"user": []string{"list"}}, "role": "admin"}); r.Status != 401 {
			t.Errorf("has-permission signed out = %d %s", r.Status, r.Raw)
		}
		if r := signedOut.do("POST", "/api/auth/admin/stop-impersonating", nil); r.Status != 401 || len(r.Raw) != 0 {
			t.Errorf("stop-impersonating signed out = %d %s", r.Status, r.Raw)
		}
	})
}

// A ban ends the user's sessions and refuses every sign-in with BANNED_USER; an expired ban is
// lifted at the next sign-in (and not before); unban lifts it at once.
func TestAdminBan(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		s := newAdminSetup(t, st)
		expect(t, s.admin.do("POST", "/api/auth/admin/ban-user", map[string]any{"userId": s.adminID}), 400, "YOU_CANNOT_BAN_YOURSELF")
		expect(t, s.admin.do("POST", "/api/auth/admin/ban-user", map[string]any{"userId": "nope"}), 404, "USER_NOT_FOUND")
		expect(t, s.admin.do("POST", "/api/auth/admin/ban-user", map[string]any{"userId": s.userID, "banExpiresIn": "10"}), 400, "VALIDATION_ERROR")
		b := s.admin.do("POST", "/api/auth/admin/ban-user", map[string]any{"userId": s.userID})
		expect(t, b, 200, "")
		bu := b.JSON["user"].(map[string]any)
		if bu["banned"] != true || bu["banReason"] != "No reason" || bu["banExpires"] != nil {
			t.Errorf("ban-user = %s", b.Raw)
		}
		if g := s.user.do("GET", "/api/auth/get-session", nil); string(g.Raw) != "null" {
			t.Errorf("banned user's session still works: %s", g.Raw)
		}
		in := s.signIn(t, "user@example.com")
		expect(t, in, 403, "BANNED_USER")
		if in.JSON["message"] != admin.DefaultBannedMessage || in.setCookies()["better-auth.session_token"] != "" {
			t.Errorf("banned sign-in = %s, cookies %v", in.Raw, in.Header.Values("Set-Cookie"))
		}
		un := s.admin.do("POST", "/api/auth/admin/unban-user", map[string]any{"userId": s.userID})
		expect(t, un, 200, "")
		if uu := un.JSON["user"].(map[string]any); uu["banned"] != false || uu["banReason"] != nil {
			t.Errorf("unban-user = %s", un.Raw)
		}
		expect(t, s.signIn(t, "user@example.com"), 200, "")

		// A ban already over when given: the row stays banned until the next sign-in lifts it.
		expect(t, s.admin.do("POST", "/api/auth/admin/ban-user", map[string]any{"userId": s.userID, "banReason": "spam", "banExpiresIn": -60}), 200, "")
		if g := s.admin.do("GET", "/api/auth/admin/get-user?id="+s.userID, nil); g.JSON["banned"] != true || g.JSON["banReason"] != "spam" {
			t.Errorf("expired ban before sign-in: %s", g.Raw)
		}
		in = s.signIn(t, "user@example.com")
		expect(t, in, 200, "")
		if userMap(t, in.Raw)["banned"] != true {
			t.Errorf("the sign-in answer shows the row read before the ban was lifted, as Better-Auth: %s", in.Raw)
		}
		if g := s.admin.do("GET", "/api/auth/admin/get-user?id="+s.userID, nil); g.JSON["banned"] != false || g.JSON["banExpires"] != nil {
			t.Errorf("expired ban after sign-in: %s", g.Raw)
		}
		// Banning through update-user ends the sessions too.
		expect(t, s.admin.do("POST", "/api/auth/admin/update-user", map[string]any{"userId": s.auditorID, "data": map[string]any{"banned": true}}), 200, "")
		if g := s.auditor.do("GET", "/api/auth/get-session", nil); string(g.Raw) != "null" {
			t.Errorf("user banned by update-user keeps a session: %s", g.Raw)
		}
		expect(t, s.signIn(t, "auditor@example.com"), 403, "BANNED_USER")
	})
}

// Impersonation swaps the browser's session for a one-hour, browser-scoped session of the user,
// keeps the admin's in admin_session, hides itself from the user's list-sessions, and
// stop-impersonating gives the admin session back.
func TestAdminImpersonation(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		s := newAdminSetup(t, st)
		a := s.admin
		adminToken := a.cookieValue("better-auth.session_token")
		expect(t, a.do("POST", "/api/auth/admin/stop-impersonating", nil), 400, "")
		expect(t, a.do("POST", "/api/auth/admin/impersonate-user", map[string]any{"userId": "nope"}), 404, "USER_NOT_FOUND")
		other := s.e.client()
		signUp(t, other, "admin2@example.com", "password123")
		id2 := userMap(t, other.do("GET", "/api/auth/get-session", nil).Raw)["id"].(string)
		if err := st.SetUserFields(context.Background(), id2, map[string]store.Value{"role": store.StringValue("user,admin")}, store.NewTime(s.e.clock.Now())); err != nil {
			t.Fatal(err)
		}
		expect(t, a.do("POST", "/api/auth/admin/impersonate-user", map[string]any{"userId": id2}), 403, "YOU_CANNOT_IMPERSONATE_ADMINS")

		imp := a.do("POST", "/api/auth/admin/impersonate-user", map[string]any{"userId": s.userID})
		expect(t, imp, 200, "")
		sess := imp.JSON["session"].(map[string]any)
		if sess["impersonatedBy"] != s.adminID || sess["userId"] != s.userID || imp.JSON["user"].(map[string]any)["id"] != s.userID {
			t.Errorf("impersonate-user = %s", imp.Raw)
		}
		if ex, _ := sess["expiresAt"].(string); ex == "" || ex > s.e.clock.Now().Add(61*60*1e9).UTC().Format("2006-01-02T15:04:05.000Z") {
			t.Errorf("impersonation session expires %v, want within the hour", sess["expiresAt"])
		}
		ck := imp.setCookies()
		if c := ck["better-auth.session_token"]; c == "" || strings.Contains(c, "Max-Age") {
			t.Errorf("impersonation session cookie %q, want a browser-session cookie", c)
		}
		if c := ck["better-auth.admin_session"]; !strings.Contains(c, "Max-Age=604800") || !strings.Contains(c, "HttpOnly") {
			t.Errorf("admin_session cookie %q", c)
		}
		if ck["better-auth.dont_remember"] == "" {
			t.Error("no dont_remember cookie")
		}
		g := a.do("GET", "/api/auth/get-session", nil)
		if userMap(t, g.Raw)["id"] != s.userID {
			t.Fatalf("get-session while impersonating = %s", g.Raw)
		}
		if l := a.do("GET", "/api/auth/list-sessions", nil); len(l.Array) != 1 {
			t.Errorf("list-sessions while impersonating shows %d sessions, want the user's own 1: %s", len(l.Array), l.Raw)
		}
		expect(t, a.do("GET", "/api/auth/admin/list-users", nil), 403, "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS")

		st2 := a.do("POST", "/api/auth/admin/stop-impersonating", nil)
		expect(t, st2, 200, "")
		if st2.JSON["user"].(map[string]any)["id"] != s.adminID || st2.JSON["session"].(map[string]any)["token"] == "" {
			t.Errorf("stop-impersonating = %s", st2.Raw)
		}
		ck = st2.setCookies()
		if c := ck["better-auth.session_token"]; !strings.Contains(c, "Max-Age=604800") {
			t.Errorf("restored session cookie %q", c)
		}
		if c := ck["better-auth.admin_session"]; !strings.Contains(c, "Max-Age=0") {
			t.Errorf("admin_session not expired: %q", c)
		}
		if a.cookieValue("better-auth.session_token") != adminToken {
			t.Error("the admin's own session cookie did not come back")
		}
		if g := a.do("GET", "/api/auth/get-session", nil); userMap(t, g.Raw)["id"] != s.adminID {
			t.Errorf("after stop: %s", g.Raw)
		}
		if ls := a.do("POST", "/api/auth/admin/list-user-sessions", map[string]any{"userId": s.userID}); len(ls.JSON["sessions"].([]any)) != 1 {
			t.Errorf("the impersonation session survived stop: %s", ls.Raw)
		}

		// Without admin_session there is nothing to go back to.
		expect(t, a.do("POST", "/api/auth/admin/impersonate-user", map[string]any{"userId": s.userID}), 200, "")
		r := s.e.client().do("POST", "/api/auth/admin/stop-impersonating", nil, "Cookie", "better-auth.session_token="+a.cookieValue("better-auth.session_token"))
		if r.Status != 500 || string(r.Raw) != `{"message":"Failed to find admin session"}` {
			t.Errorf("stop without admin_session = %d %s", r.Status, r.Raw)
		}
		// A banned user cannot be impersonated.
		expect(t, a.do("POST", "/api/auth/admin/stop-impersonating", nil), 200, "")
		expect(t, a.do("POST", "/api/auth/admin/ban-user", map[string]any{"userId": s.auditorID}), 200, "")
		expect(t, a.do("POST", "/api/auth/admin/impersonate-user", map[string]any{"userId": s.auditorID}), 403, "BANNED_USER")
	})
}

// list-users searches, filters, sorts and pages as Better-Auth's adapter does; a query the
// database cannot answer is an empty list.
func TestAdminListUsers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		s := newAdminSetup(t, st)
		emails := func(r *response) string {
			var out []string
			for _, u := range r.JSON["users"].([]any) {
				out = append(out, u.(map[string]any)["email"].(string))
			}
			return strings.Join(out, ",")
		}
		for _, tc := range []struct {
			query, want string
			total       float64
		}{
			{"sortBy=email", "admin@example.com,auditor@example.com,user@example.com", 3},
			{"sortBy=email&sortDirection=desc&limit=1&offset=1", "auditor@example.com", 3},
			{"searchValue=a&searchOperator=starts_with&sortBy=email", "admin@example.com,auditor@example.com", 2},
			{"searchValue=user@&searchField=email", "user@example.com", 1},
			{"filterField=role&filterValue=admin", "admin@example.com", 1},
			{"filterField=role&filterOperator=ne&filterValue=admin&sortBy=email", "auditor@example.com,user@example.com", 2},
			{"filterField=email&filterOperator=in&filterValue=user@example.com&filterValue=admin@example.com&sortBy=email", "admin@example.com,user@example.com", 2},
			{"filterField=banned&filterValue=false&limit=2&sortBy=email", "admin@example.com,auditor@example.com", 3},
			{"filterField=createdAt&filterOperator=gt&filterValue=2000-01-01T00:00:00.000Z&sortBy=email&limit=1", "admin@example.com", 3},
			{"sortBy=nope", "", 0},
			{"filterField=nope&filterValue=1", "", 0},
			{"filterField=email&filterOperator=in&filterValue=user@example.com", "", 0},
			{"limit=-1", "", 0},
		} {
			r := s.admin.do("GET", "/api/auth/admin/list-users?"+tc.query, nil)
			expect(t, r, 200, "")
			if got := emails(r); got != tc.want || r.JSON["total"] != tc.total {
				t.Errorf("%s: users %s total %v, want %s total %v", tc.query, got, r.JSON["total"], tc.want, tc.total)
			}
		}
		r := s.admin.do("GET", "/api/auth/admin/list-users?limit=2&offset=1&sortBy=email", nil)
		if r.JSON["limit"] != 2.0 || r.JSON["offset"] != 1.0 {
			t.Errorf("limit/offset echo: %s", r.Raw)
		}
		if r := s.admin.do("GET", "/api/auth/admin/list-users?limit=0", nil); strings.Contains(string(r.Raw), `"limit"`) {
			t.Errorf("limit=0 echoed: %s", r.Raw)
		}
		expect(t, s.admin.do("GET", "/api/auth/admin/list-users?searchValue=x&searchOperator=foo", nil), 400, "VALIDATION_ERROR")
	})
}

// The admin plugin's migration leaves the list-users indexes under this server's own names
// (web/listload_bench_test.go shows what they are for), trigram ones on PostgreSQL only, and
// they do not change an answer: PostgreSQL's LIKE stays case-sensitive over a case-folding
// trigram index, SQLite's stays case-insensitive for ASCII.
func TestAdminListIndexes(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		s := newAdminSetup(t, st)
		var names []string
		q := `select name from sqlite_master where type = 'index' and name like 'authserver_user_%' order by name`
		want := "authserver_user_createdAt_idx,authserver_user_role_idx"
		if st.Dialect() == store.Postgres {
			q = `select indexname from pg_indexes where tablename = 'user' and indexname like 'authserver_%' order by indexname`
			want = "authserver_user_createdAt_idx,authserver_user_email_trgm_idx,authserver_user_name_trgm_idx,authserver_user_role_idx"
		}
		if err := st.RawRow(context.Background(), &names, q); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(names, ","); got != want {
			t.Errorf("indexes = %s, want %s", got, want)
		}
		want = "0"
		if st.Dialect() == store.SQLite {
			want = "1"
		}
		r := s.admin.do("GET", "/api/auth/admin/list-users?searchValue=USER@EXAMPLE&searchField=email", nil)
		if got := fmt.Sprint(r.JSON["total"]); got != want {
			t.Errorf("search in the other case: total %s, want %s (%s)", got, want, r.Raw)
		}
	})
}

// userMap decodes the user of a sign-up, sign-in or get-session answer.
func userMap(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(userOf(t, raw), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// What the compat suite found 1.7.25 answering (compat/test/plugin-admin.test.mjs): a sign-up
// body naming a role is refused (role has no schema default; banned has one and is ignored), a
// missing userId is a validation error ahead of the session check, a role of the wrong type is
// the union's bare "Invalid input", an empty newPassword has its own message, and
// impersonate-user deletes the admin's cookies before it sets the impersonation's.
func TestAdminBodiesAsBetterAuth(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		s := newAdminSetup(t, st)
		a := s.admin
		r := s.e.client().do("POST", "/api/auth/sign-up/email", map[string]any{"name": "R", "email": "r@example.com", "password": "password123", "role": "admin"})
		if r.Status != 400 || string(r.Raw) != `{"message":"role is not allowed to be set","code":"FIELD_NOT_ALLOWED"}` {
			t.Errorf("sign-up with a role = %d %s", r.Status, r.Raw)
		}
		if userCount(t, st, "r@example.com") != 0 {
			t.Error("the refused sign-up wrote a user")
		}
		b := s.e.client().do("POST", "/api/auth/sign-up/email", map[string]any{"name": "B", "email": "b@example.com", "password": "password123", "banned": true, "role": ""})
		expect(t, b, 200, "")
		if u := userMap(t, b.Raw); u["banned"] != false || u["role"] != "user" {
			t.Errorf("sign-up with banned:true and role:\"\" = %s", b.Raw)
		}

		want := func(r *response, status int, body string) {
			t.Helper()
			if r.Status != status || string(r.Raw) != body {
				t.Errorf("= %d %s, want %d %s", r.Status, r.Raw, status, body)
			}
		}
		noUserID := `{"message":"[body.userId] Invalid input: expected nonoptional, received undefined","code":"VALIDATION_ERROR"}`
		for path, body := range map[string]map[string]any{
			"update-user": {"data": map[string]any{"name": "x"}}, "set-role": {"role": "x"}, "set-user-password": {"newPassword": "password123"},
			"ban-user": {}, "unban-user": {}, "list-user-sessions": {}, "revoke-user-sessions": {}, "remove-user": {}, "impersonate-user": {},
		} {
			want(a.do("POST", "/api/auth/admin/"+path, body), 400, noUserID)
			want(s.e.client().do("POST", "/api/auth/admin/"+path, body), 400, noUserID)
		}
		badRole := `{"message":"[body.role] Invalid input","code":"VALIDATION_ERROR"}`
		for _, role := range []any{5, []any{true}, nil} {
			want(a.do("POST", "/api/auth/admin/set-role", map[string]any{"userId": s.userID, "role": role}), 400, badRole)
			want(a.do("POST", "/api/auth/admin/create-user", map[string]any{"email": "c@example.com", "name": "C", "role": []any{"user", role}}), 400, badRole)
		}
		want(a.do("POST", "/api/auth/admin/set-role", map[string]any{"userId": s.userID}), 400, badRole)
		want(a.do("POST", "/api/auth/admin/set-user-password", map[string]any{"userId": s.userID, "newPassword": ""}), 400,
			`{"message":"[body.newPassword] newPassword cannot be empty","code":"VALIDATION_ERROR"}`)

		imp := a.do("POST", "/api/auth/admin/impersonate-user", map[string]any{"userId": s.userID})
		expect(t, imp, 200, "")
		var lines []string
		for _, l := range imp.Header.Values("Set-Cookie") {
			name, rest, _ := strings.Cut(l, "=")
			lines = append(lines, fmt.Sprintf("%s empty=%v maxAge0=%v", name, strings.HasPrefix(rest, ";"), strings.Contains(rest, "Max-Age=0")))
		}
		got := strings.Join(lines, "\n")
		wantLines := strings.Join([]string{
			"better-auth.session_token empty=true maxAge0=true",
			"better-auth.session_data empty=true maxAge0=true",
			"better-auth.dont_remember empty=true maxAge0=true",
			"better-auth.session_token empty=false maxAge0=false",
			"better-auth.dont_remember empty=false maxAge0=false",
			"better-auth.admin_session empty=false maxAge0=false",
		}, "\n")
		if got != wantLines {
			t.Errorf("impersonate-user Set-Cookie lines:\n%s\nwant (deletions first):\n%s", got, wantLines)
		}
		if g := a.do("GET", "/api/auth/get-session", nil); userMap(t, g.Raw)["id"] != s.userID {
			t.Errorf("the browser did not end up impersonating: %s", g.Raw)
		}
	})
}
