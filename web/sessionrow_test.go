package web_test

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"authserver/session"
	"authserver/store"
	"authserver/store/storetest"
)

// These tests pin what the session and user rows hold and what a client sees of them, so that
// moving the session code cannot quietly change it: the client address and agent recorded, the
// timestamps and expiry written on sign-in, refresh and password change, the revocations that must
// reach sessions already cached in memory, and the session options that change cookies.

// rowLife is a session lifetime other than Better-Auth's default, so an expiry computed from a
// hard-coded 7 days shows up.
const rowLife = 72 * time.Hour

// sessionRowEnv trusts the loopback proxy (so X-Forwarded-For names the client) and sets the
// session lifetime to rowLife.
func sessionRowEnv(o *envOptions) {
	o.web.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	o.session.ExpiresIn = rowLife
	o.auth.Email.DeleteUserEnabled = true
}

// rowOf reads the session row behind token straight from the database.
func rowOf(t *testing.T, st *store.Store, token string) *store.Session {
	t.Helper()
	s, _, err := st.SessionByToken(context.Background(), token)
	if err != nil {
		t.Fatalf("session row: %v", err)
	}
	return s
}

// wantRow is what a session row must hold.
type wantRow struct {
	ip, ua           string
	created, updated time.Time
	life             time.Duration // expiresAt - updatedAt
}

// checkRow compares a session row with want, and the session a client sees (get-session's
// "session", or nil to skip) with the row.
func checkRow(t *testing.T, row *store.Session, seen map[string]any, want wantRow) {
	t.Helper()
	if row.IPAddress == nil || *row.IPAddress != want.ip {
		t.Errorf("row ipAddress = %v, want %q", deref(row.IPAddress), want.ip)
	}
	if row.UserAgent == nil || *row.UserAgent != want.ua {
		t.Errorf("row userAgent = %v, want %q", deref(row.UserAgent), want.ua)
	}
	if !row.CreatedAt.Equal(want.created) {
		t.Errorf("row createdAt = %v, want %v", row.CreatedAt, want.created)
	}
	if !row.UpdatedAt.Equal(want.updated) {
		t.Errorf("row updatedAt = %v, want %v", row.UpdatedAt, want.updated)
	}
	if wantExp := want.updated.Add(want.life); !row.ExpiresAt.Equal(wantExp) {
		t.Errorf("row expiresAt = %v, want updatedAt + %v = %v", row.ExpiresAt, want.life, wantExp)
	}
	if seen == nil {
		return
	}
	for k, v := range map[string]string{
		"ipAddress": deref(row.IPAddress), "userAgent": deref(row.UserAgent), "createdAt": row.CreatedAt.String(),
		"updatedAt": row.UpdatedAt.String(), "expiresAt": row.ExpiresAt.String(), "token": row.Token, "id": row.ID,
	} {
		if seen[k] != v {
			t.Errorf("client sees session.%s = %v, the row holds %q", k, seen[k], v)
		}
	}
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// seenSession returns get-session's "session" object, failing the test when there is none.
func seenSession(t *testing.T, r *response) map[string]any {
	t.Helper()
	s, ok := r.JSON["session"].(map[string]any)
	if r.Status != 200 || !ok {
		t.Fatalf("get-session = %d %s, want a session", r.Status, r.Raw)
	}
	return s
}

// rowMaxAge is the session-token cookie attribute a row with rowLife must come with.
const rowMaxAge = "; Max-Age=259200;"

// Sign-up and sign-in record the client's address the way Better-Auth does (IPv4 as is,
// IPv4-mapped IPv6 unwrapped, other IPv6 expanded and masked to its /64) and its User-Agent, set
// createdAt = updatedAt = now and expiresAt = now + the configured lifetime.
func TestSessionRowOnSignIn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, sessionRowEnv)
		signUp(t, e.client(), "row@example.com", "password123")
		tests := []struct {
			name, forwardedFor, wantIP string
		}{
			{"IPv4", "203.0.113.7", "203.0.113.7"},
			{"IPv6 masked to its /64", "2001:DB8:1:2:abcd:ef01:2345:6789", "2001:0db8:0001:0002:0000:0000:0000:0000"},
			{"IPv6 compressed", "2001:db8::1", "2001:0db8:0000:0000:0000:0000:0000:0000"},
			{"IPv6 with a short /64", "fe80:0:0:1::7", "fe80:0000:0000:0001:0000:0000:0000:0000"},
			{"IPv4-mapped IPv6", "::ffff:192.0.2.1", "192.0.2.1"},
			{"no forwarded header: the peer", "", "127.0.0.1"},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.clock.Advance(time.Duration(i+1) * time.Second)
				now := e.clock.Now()
				ua := "RowAgent/" + tt.name
				c := e.client()
				in := c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "row@example.com", "password": "password123"},
					"X-Forwarded-For", tt.forwardedFor, "User-Agent", ua)
				expect(t, in, 200, "")
				if sc := in.setCookies()["better-auth.session_token"]; !strings.Contains(sc, rowMaxAge) {
					t.Errorf("session cookie = %q, want Max-Age of the configured lifetime", sc)
				}
				token := in.JSON["token"].(string)
				seen := seenSession(t, c.do("GET", "/api/auth/get-session", nil))
				checkRow(t, rowOf(t, st, token), seen, wantRow{ip: tt.wantIP, ua: ua, created: now, updated: now, life: rowLife})
			})
		}
		t.Run("sign-up", func(t *testing.T) {
			e.clock.Advance(time.Minute)
			now := e.clock.Now()
			c := e.client()
			up := c.do("POST", "/api/auth/sign-up/email", map[string]any{"name": "Up", "email": "row-up@example.com", "password": "password123"},
				"X-Forwarded-For", "2001:db8:ffff:eeee:1::1", "User-Agent", "SignUpAgent/1")
			expect(t, up, 200, "")
			seen := seenSession(t, c.do("GET", "/api/auth/get-session", nil))
			checkRow(t, rowOf(t, st, up.JSON["token"].(string)), seen,
				wantRow{ip: "2001:0db8:ffff:eeee:0000:0000:0000:0000", ua: "SignUpAgent/1", created: now, updated: now, life: rowLife})
		})
	})
}

// A refresh moves updatedAt to now and expiresAt to now + the lifetime, keeps createdAt, and keeps
// the address and agent recorded at sign-in even when another one uses the session.
func TestSessionRowOnRefresh(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, sessionRowEnv)
		c := e.client()
		signUp(t, c, "refresh-row@example.com", "password123")
		created := e.clock.Now()
		in := c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "refresh-row@example.com", "password": "password123"},
			"X-Forwarded-For", "198.51.100.4", "User-Agent", "FirstAgent/1")
		expect(t, in, 200, "")
		token := in.JSON["token"].(string)
		first := wantRow{ip: "198.51.100.4", ua: "FirstAgent/1", created: created, updated: created, life: rowLife}

		// Not due yet (updateAge is a day): nothing is written.
		e.clock.Advance(23 * time.Hour)
		r := c.do("GET", "/api/auth/get-session", nil, "X-Forwarded-For", "2001:db8::9", "User-Agent", "OtherAgent/2")
		if sc := r.Header.Values("Set-Cookie"); len(sc) != 0 {
			t.Errorf("a session not due was refreshed: %v", sc)
		}
		checkRow(t, rowOf(t, st, token), seenSession(t, r), first)

		// Due: the row slides.
		e.clock.Advance(2*time.Hour + 123*time.Millisecond)
		now := e.clock.Now()
		r = c.do("GET", "/api/auth/get-session", nil, "X-Forwarded-For", "2001:db8::9", "User-Agent", "OtherAgent/2")
		if sc := r.setCookies()["better-auth.session_token"]; !strings.Contains(sc, rowMaxAge) {
			t.Errorf("refresh cookie = %q, want it re-issued with the full lifetime", sc)
		}
		checkRow(t, rowOf(t, st, token), seenSession(t, r), wantRow{ip: "198.51.100.4", ua: "FirstAgent/1", created: created, updated: now, life: rowLife})

		// A sensitive endpoint (an authoritative read) refreshes the same way.
		e.clock.Advance(25 * time.Hour)
		now = e.clock.Now()
		expect(t, c.do("GET", "/api/auth/list-accounts", nil), 200, "")
		checkRow(t, rowOf(t, st, token), nil, wantRow{ip: "198.51.100.4", ua: "FirstAgent/1", created: created, updated: now, life: rowLife})
	})
}

// change-password with revokeOtherSessions signs the caller in again: the new session records the
// address and agent of the change-password request and starts now.
func TestSessionRowOnChangePassword(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, sessionRowEnv)
		c := e.client()
		old := signUp(t, c, "cp-row@example.com", "password123").JSON["token"].(string)
		oldRow := rowOf(t, st, old)

		e.clock.Advance(2 * time.Hour)
		r := c.do("POST", "/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": "password456"},
			"X-Forwarded-For", "203.0.113.50", "User-Agent", "KeepAgent/1")
		expect(t, r, 200, "")
		if r.JSON["token"] != nil {
			t.Fatalf("change-password without revokeOtherSessions gave a new token: %s", r.Raw)
		}
		if got := rowOf(t, st, old); !got.UpdatedAt.Equal(oldRow.UpdatedAt.Time) || !got.ExpiresAt.Equal(oldRow.ExpiresAt.Time) || deref(got.IPAddress) != deref(oldRow.IPAddress) {
			t.Errorf("change-password without revoking rewrote the session row: %+v, was %+v", got, oldRow)
		}

		e.clock.Advance(time.Hour)
		now := e.clock.Now()
		r = c.do("POST", "/api/auth/change-password", map[string]any{"currentPassword": "password456", "newPassword": "password789", "revokeOtherSessions": true},
			"X-Forwarded-For", "2001:db8:aaaa:bbbb:1:2:3:4", "User-Agent", "ChangeAgent/3")
		expect(t, r, 200, "")
		token, _ := r.JSON["token"].(string)
		if token == "" || token == old {
			t.Fatalf("change-password with revokeOtherSessions = %s, want a new token", r.Raw)
		}
		if sc := r.setCookies()["better-auth.session_token"]; !strings.Contains(sc, rowMaxAge) {
			t.Errorf("new session cookie = %q, want Max-Age of the configured lifetime", sc)
		}
		seen := seenSession(t, c.do("GET", "/api/auth/get-session", nil))
		checkRow(t, rowOf(t, st, token), seen, wantRow{ip: "2001:0db8:aaaa:bbbb:0000:0000:0000:0000", ua: "ChangeAgent/3", created: now, updated: now, life: rowLife})
		if _, _, err := st.SessionByToken(context.Background(), old); err == nil {
			t.Error("the old session row survived revokeOtherSessions")
		}
	})
}

// The user and account rows keep Better-Auth's timestamps: sign-up sets createdAt = updatedAt =
// now, update-user moves the user's updatedAt and keeps createdAt, and change-password moves the
// credential account's updatedAt without touching the user row.
func TestUserRowTimestamps(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		c := e.client()
		t0 := store.NewTime(e.clock.Now()).String()
		u := signUp(t, c, "stamps@example.com", "password123").JSON["user"].(map[string]any)
		if u["createdAt"] != t0 || u["updatedAt"] != t0 {
			t.Errorf("signed-up user createdAt %v updatedAt %v, want both %s", u["createdAt"], u["updatedAt"], t0)
		}

		e.clock.Advance(time.Hour)
		t1 := store.NewTime(e.clock.Now()).String()
		expect(t, c.do("POST", "/api/auth/update-user", map[string]any{"name": "Stamped"}), 200, "")
		g := c.do("GET", "/api/auth/get-session", nil)
		if u := g.JSON["user"].(map[string]any); u["name"] != "Stamped" || u["createdAt"] != t0 || u["updatedAt"] != t1 {
			t.Errorf("user after update-user = %v, want name Stamped, createdAt %s, updatedAt %s", u, t0, t1)
		}
		row, err := st.UserByEmail(context.Background(), "stamps@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if row.CreatedAt.String() != t0 || row.UpdatedAt.String() != t1 {
			t.Errorf("user row createdAt %s updatedAt %s, want %s %s", row.CreatedAt, row.UpdatedAt, t0, t1)
		}

		e.clock.Advance(time.Hour)
		t2 := store.NewTime(e.clock.Now()).String()
		expect(t, c.do("POST", "/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": "password456"}), 200, "")
		l := c.do("GET", "/api/auth/list-accounts", nil)
		expect(t, l, 200, "")
		if a := l.Array[0].(map[string]any); a["createdAt"] != t0 || a["updatedAt"] != t2 {
			t.Errorf("credential account after change-password = %v, want createdAt %s, updatedAt %s", a, t0, t2)
		}
		if row, _ := st.UserByEmail(context.Background(), "stamps@example.com"); row == nil || row.UpdatedAt.String() != t1 {
			t.Errorf("change-password touched the user row: %+v", row)
		}
	})
}

// readTwice makes a session cached in memory: the cache admits a session from its second read.
func readTwice(t *testing.T, e *env, token string) {
	t.Helper()
	for i := 0; i < 2; i++ {
		seenSession(t, e.client().do("GET", "/api/auth/get-session", nil, "Authorization", "Bearer "+token))
	}
}

// checkDead fails unless token no longer opens anything: get-session says null, a protected
// endpoint says 401.
func checkDead(t *testing.T, e *env, token, which string) {
	t.Helper()
	if r := e.client().do("GET", "/api/auth/get-session", nil, "Authorization", "Bearer "+token); r.Status != 200 || string(r.Raw) != "null" {
		t.Errorf("%s: get-session after revocation = %d %s, want null", which, r.Status, r.Raw)
	}
	if r := e.client().do("GET", "/api/auth/list-accounts", nil, "Authorization", "Bearer "+token); r.Status != 401 || r.code() != "UNAUTHORIZED" {
		t.Errorf("%s: list-accounts after revocation = %d %s, want 401 UNAUTHORIZED", which, r.Status, r.Raw)
	}
}

// Every way of revoking several sessions at once reaches sessions this process already serves from
// memory. No database notification runs in these tests, so only the revoking code's own cache
// clear can make the cached token fail.
func TestBulkRevocationReachesCachedSessions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, sessionRowEnv)
		signIn := func(t *testing.T, c *client, email, password string) string {
			t.Helper()
			r := c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": password})
			expect(t, r, 200, "")
			return r.JSON["token"].(string)
		}

		// Without this the rest would prove nothing: a session read twice answers from memory even
		// after its row is deleted behind the server's back.
		t.Run("precondition: a session read twice is served from memory", func(t *testing.T) {
			tok := signUp(t, e.client(), "cached@example.com", "password123").JSON["token"].(string)
			readTwice(t, e, tok)
			if err := st.DeleteSession(context.Background(), tok); err != nil {
				t.Fatal(err)
			}
			if r := e.client().do("GET", "/api/auth/get-session", nil, "Authorization", "Bearer "+tok); r.JSON == nil {
				t.Fatalf("a session read twice was not served from memory (%s): the cache admission rule changed, and readTwice must follow it", r.Raw)
			}
		})

		tests := []struct {
			name string
			// revoke acts as the owner; it returns whether the owner's first session must survive.
			revoke func(t *testing.T, owner *client, victim string) (ownerKept bool)
		}{
			{"revoke-other-sessions", func(t *testing.T, owner *client, _ string) bool {
				expect(t, owner.do("POST", "/api/auth/revoke-other-sessions", map[string]any{}), 200, "")
				return true
			}},
			{"change-password with revokeOtherSessions", func(t *testing.T, owner *client, _ string) bool {
				expect(t, owner.do("POST", "/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": "password456", "revokeOtherSessions": true}), 200, "")
				return false
			}},
			{"delete-user", func(t *testing.T, owner *client, _ string) bool {
				r := owner.do("POST", "/api/auth/delete-user", map[string]any{"password": "password123"})
				if r.Status != 200 || r.JSON["message"] != "User deleted" {
					t.Fatalf("delete-user = %d %s", r.Status, r.Raw)
				}
				return false
			}},
			{"revoke-sessions", func(t *testing.T, owner *client, _ string) bool {
				expect(t, owner.do("POST", "/api/auth/revoke-sessions", map[string]any{}), 200, "")
				return false
			}},
			{"revoke-session", func(t *testing.T, owner *client, victim string) bool {
				expect(t, owner.do("POST", "/api/auth/revoke-session", map[string]any{"token": victim}), 200, "")
				return true
			}},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				email := "bulk" + string(rune('a'+i)) + "@example.com"
				owner := e.client()
				ownerTok := signUp(t, owner, email, "password123").JSON["token"].(string)
				victim := signIn(t, e.client(), email, "password123")
				bystander := signUp(t, e.client(), "by"+email, "password123").JSON["token"].(string)
				readTwice(t, e, victim)
				readTwice(t, e, ownerTok)
				readTwice(t, e, bystander)

				kept := tt.revoke(t, owner, victim)

				checkDead(t, e, victim, "the other session")
				if kept {
					seenSession(t, e.client().do("GET", "/api/auth/get-session", nil, "Authorization", "Bearer "+ownerTok))
				} else {
					checkDead(t, e, ownerTok, "the caller's own session")
				}
				// Another user's cached session is untouched.
				seenSession(t, e.client().do("GET", "/api/auth/get-session", nil, "Authorization", "Bearer "+bystander))
			})
		}

		// A change to the user row reaches sessions cached for that user.
		t.Run("update-user", func(t *testing.T) {
			owner := e.client()
			signUp(t, owner, "rename@example.com", "password123")
			other := signIn(t, e.client(), "rename@example.com", "password123")
			readTwice(t, e, other)
			expect(t, owner.do("POST", "/api/auth/update-user", map[string]any{"name": "Renamed"}), 200, "")
			r := e.client().do("GET", "/api/auth/get-session", nil, "Authorization", "Bearer "+other)
			if u, _ := r.JSON["user"].(map[string]any); u == nil || u["name"] != "Renamed" {
				t.Errorf("another session of the renamed user sees %s, want name Renamed", r.Raw)
			}
		})
	})
}

// list-sessions lists the live sessions only: one expired a moment ago is left out even though its
// row is still there, and one expiring at this very millisecond counts as expired.
func TestListSessionsLeavesOutExpired(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		signIn := func(rememberMe bool) string {
			r := e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "lister@example.com", "password": "password123", "rememberMe": rememberMe})
			expect(t, r, 200, "")
			return r.JSON["token"].(string)
		}
		first := signUp(t, e.client(), "lister@example.com", "password123").JSON["token"].(string)
		e.clock.Advance(time.Second)
		expiresNow := signIn(false) // a one-day session
		e.clock.Advance(time.Millisecond)
		expiresSoon := signIn(false) // one millisecond younger
		e.clock.Advance(24*time.Hour - time.Millisecond)
		// Now expiresNow's expiresAt is exactly now, expiresSoon's a millisecond ahead.
		lister := e.client()
		listerTok := lister.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "lister@example.com", "password": "password123"}).JSON["token"].(string)

		r := lister.do("GET", "/api/auth/list-sessions", nil)
		expect(t, r, 200, "")
		var got []string
		for _, s := range r.Array {
			got = append(got, s.(map[string]any)["token"].(string))
		}
		want := []string{first, expiresSoon, listerTok}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("list-sessions tokens = %v, want %v (oldest first, without the expired one)", got, want)
		}
		if _, _, err := st.SessionByToken(context.Background(), expiresNow); err != nil {
			t.Fatalf("the expired row is already gone (%v): the listing filter is not what this test exercises", err)
		}
	})
}

// Password length is counted in UTF-16 units, as JavaScript does, and the bounds are inclusive:
// 8 and 128 are accepted, 7 and 129 refused with Better-Auth's codes, on sign-up, sign-in and
// change-password.
func TestPasswordLengthBoundaries(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		tests := []struct {
			name       string
			password   string
			wantStatus int
			wantCode   string
		}{
			{"8 characters", strings.Repeat("p", 8), 200, ""},
			{"7 characters", strings.Repeat("p", 7), 400, "PASSWORD_TOO_SHORT"},
			{"128 characters", strings.Repeat("p", 128), 200, ""},
			{"129 characters", strings.Repeat("p", 129), 400, "PASSWORD_TOO_LONG"},
			{"4 astral characters are 8 units", strings.Repeat("😀", 4), 200, ""},
			{"3 astral characters and one more are 7 units", strings.Repeat("😀", 3) + "p", 400, "PASSWORD_TOO_SHORT"},
			{"64 astral characters are 128 units", strings.Repeat("😀", 64), 200, ""},
			{"64 astral characters and one more are 129 units", strings.Repeat("😀", 64) + "p", 400, "PASSWORD_TOO_LONG"},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				email := "len" + string(rune('a'+i)) + "@example.com"
				r := e.client().do("POST", "/api/auth/sign-up/email", map[string]any{"name": "Len", "email": email, "password": tt.password})
				expect(t, r, tt.wantStatus, tt.wantCode)
				switch tt.wantCode {
				case "":
					// The password was stored as given: signing in with it works.
					expect(t, e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": tt.password}), 200, "")
				case "PASSWORD_TOO_LONG":
					if r.JSON["message"] != "Password too long" {
						t.Errorf("message = %v", r.JSON["message"])
					}
					expect(t, e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": tt.password}), 400, "PASSWORD_TOO_LONG")
				case "PASSWORD_TOO_SHORT":
					if r.JSON["message"] != "Password too short" {
						t.Errorf("message = %v", r.JSON["message"])
					}
				}
			})
		}
		t.Run("change-password", func(t *testing.T) {
			c := e.client()
			signUp(t, c, "len-cp@example.com", "password123")
			change := func(cur, next string) *response {
				return c.do("POST", "/api/auth/change-password", map[string]any{"currentPassword": cur, "newPassword": next})
			}
			expect(t, change("password123", strings.Repeat("q", 129)), 400, "PASSWORD_TOO_LONG")
			expect(t, change("password123", strings.Repeat("q", 7)), 400, "PASSWORD_TOO_SHORT")
			expect(t, change("password123", strings.Repeat("q", 128)), 200, "")
			expect(t, change(strings.Repeat("q", 128), strings.Repeat("r", 8)), 200, "")
			expect(t, e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "len-cp@example.com", "password": strings.Repeat("r", 8)}), 200, "")
		})
	})
}

// verify-password answers {"status":true} for the right password and Better-Auth's
// INVALID_PASSWORD for a wrong one, without touching the session.
func TestVerifyPassword(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		c := e.client()
		signUp(t, c, "verify@example.com", "password123")
		tests := []struct {
			name     string
			password any
			status   int
			body     string
		}{
			{"right password", "password123", 200, `{"status":true}`},
			{"wrong password", "password124", 400, `{"message":"Invalid password","code":"INVALID_PASSWORD"}`},
			{"empty password", "", 400, `{"message":"Invalid password","code":"INVALID_PASSWORD"}`},
			{"a prefix of the password", "password12", 400, `{"message":"Invalid password","code":"INVALID_PASSWORD"}`},
			{"too long", strings.Repeat("p", 129), 400, `{"message":"Password too long","code":"PASSWORD_TOO_LONG"}`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := c.do("POST", "/api/auth/verify-password", map[string]any{"password": tt.password})
				if r.Status != tt.status || string(r.Raw) != tt.body {
					t.Errorf("verify-password = %d %s, want %d %s", r.Status, r.Raw, tt.status, tt.body)
				}
				if sc := r.Header.Values("Set-Cookie"); len(sc) != 0 {
					t.Errorf("verify-password set cookies: %v", sc)
				}
			})
		}
		seenSession(t, c.do("GET", "/api/auth/get-session", nil))
		expect(t, e.client().do("POST", "/api/auth/verify-password", map[string]any{"password": "password123"}), 401, "UNAUTHORIZED")
	})
}

// Concurrent uses of a session due for refresh, through two replicas sharing the database and
// while the clock moves between requests, agree on one expiry: the one the first refresh wrote to
// the row. A refresh that read the row before another replica's write must neither write its own,
// later expiry nor report one the row does not hold. (With a frozen clock every refresh computes
// the same expiry, so that check could not fail.)
func TestConcurrentRefreshWithMovingClock(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		a := newEnv(t, st)
		b := newEnv(t, st) // a second replica: its own process cache and refresh de-duplication
		token := signUp(t, a.client(), "moving@example.com", "password123").JSON["token"].(string)
		before := rowOf(t, st, token)
		a.clock.Advance(25 * time.Hour)
		// The replicas' clocks differ by half a second, so their refreshes never compute the same
		// expiry by chance.
		b.clock.mu.Lock()
		b.clock.now = a.clock.Now().Add(500 * time.Millisecond)
		b.clock.mu.Unlock()
		start := a.clock.Now()

		// Hold the row (an update that changes nothing, in an open transaction) so that every
		// refresh has read the row before any of them can write: reads go on, writes wait.
		ctx := context.Background()
		locked, release, txDone := make(chan error, 1), make(chan struct{}), make(chan error, 1)
		go func() {
			txDone <- st.Tx(ctx, func(tx *store.Store) error {
				_, err := tx.ExtendSession(ctx, token, before.ExpiresAt, before.ExpiresAt, before.UpdatedAt)
				locked <- err
				<-release
				return nil
			})
		}()
		if err := <-locked; err != nil {
			t.Fatal(err)
		}
		const n = 30
		var wg sync.WaitGroup
		var mu sync.Mutex
		expiries := map[string]int{}
		updated := map[string]int{}
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(replica *env) {
				defer wg.Done()
				replica.clock.Advance(time.Millisecond) // each request sees a later time than the one before
				r := replica.client().do("GET", "/api/auth/get-session", nil, "Authorization", "Bearer "+token)
				s, ok := r.JSON["session"].(map[string]any)
				if r.Status != 200 || !ok {
					t.Errorf("concurrent get-session = %d %s, want the session", r.Status, r.Raw)
					return
				}
				mu.Lock()
				expiries[s["expiresAt"].(string)]++
				updated[s["updatedAt"].(string)]++
				mu.Unlock()
			}([]*env{a, b}[i%2])
		}
		time.Sleep(300 * time.Millisecond) // the reads are done in well under this; the writes wait
		close(release)
		wg.Wait()
		if err := <-txDone; err != nil {
			t.Fatal(err)
		}
		row := rowOf(t, st, token)
		if len(expiries) != 1 || len(updated) != 1 {
			t.Fatalf("concurrent refreshes under a moving clock answered %d expiries %v and %d updatedAt %v, want one", len(expiries), expiries, len(updated), updated)
		}
		for exp := range expiries {
			if exp != row.ExpiresAt.String() {
				t.Errorf("clients were told expiresAt %s, the row holds %s", exp, row.ExpiresAt)
			}
		}
		if last := start.Add(500*time.Millisecond + n*time.Millisecond); row.UpdatedAt.Before(start) || row.UpdatedAt.After(last) || !row.UpdatedAt.After(before.UpdatedAt.Time) {
			t.Errorf("row updatedAt = %v, want a time during the burst (%v .. %v)", row.UpdatedAt, start, last)
		}
		if !row.ExpiresAt.Equal(row.UpdatedAt.Add(7 * 24 * time.Hour)) {
			t.Errorf("row expiresAt = %v, want updatedAt + 7 days", row.ExpiresAt)
		}
	})
}

// The session options change what a client sees: no sliding at all, sliding on every use, the
// cookie Domain, and secure cookies with their __Secure- names.
func TestSessionOptionsAsClientsSeeThem(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		withSession := func(f func(*session.Config)) func(*envOptions) {
			return func(o *envOptions) { f(&o.session) }
		}

		t.Run("DisableRefresh", func(t *testing.T) {
			e := newEnv(t, st, withSession(func(c *session.Config) { c.DisableRefresh = true }))
			c := e.client()
			token := signUp(t, c, "norefresh@example.com", "password123").JSON["token"].(string)
			before := rowOf(t, st, token)
			e.clock.Advance(25 * time.Hour)
			for _, path := range []string{"/api/auth/get-session", "/api/auth/list-accounts", "/api/auth/get-session"} {
				r := c.do("GET", path, nil)
				expect(t, r, 200, "")
				if sc := r.Header.Values("Set-Cookie"); len(sc) != 0 {
					t.Errorf("%s re-issued cookies with refresh disabled: %v", path, sc)
				}
			}
			g := c.do("GET", "/api/auth/get-session", nil)
			if got := seenSession(t, g)["expiresAt"]; got != before.ExpiresAt.String() {
				t.Errorf("expiresAt = %v, want it unchanged at %s", got, before.ExpiresAt)
			}
			if row := rowOf(t, st, token); !row.ExpiresAt.Equal(before.ExpiresAt.Time) || !row.UpdatedAt.Equal(before.UpdatedAt.Time) {
				t.Errorf("row = expires %v updated %v, want unchanged %v %v", row.ExpiresAt, row.UpdatedAt, before.ExpiresAt, before.UpdatedAt)
			}
			e.clock.Advance(6 * 24 * time.Hour) // past the original expiry
			if r := c.do("GET", "/api/auth/get-session", nil); string(r.Raw) != "null" {
				t.Errorf("a never-refreshed session outlived its expiry: %s", r.Raw)
			}
		})

		t.Run("RefreshEveryUse", func(t *testing.T) {
			e := newEnv(t, st, withSession(func(c *session.Config) { c.RefreshEveryUse = true }))
			c := e.client()
			token := signUp(t, c, "everyuse@example.com", "password123").JSON["token"].(string)
			for i := 0; i < 2; i++ {
				e.clock.Advance(time.Second)
				now := e.clock.Now()
				r := c.do("GET", "/api/auth/get-session", nil)
				if sc := r.setCookies()["better-auth.session_token"]; !strings.Contains(sc, "; Max-Age=604800;") {
					t.Errorf("use %d a second later did not re-issue the cookie: %v", i+1, r.Header.Values("Set-Cookie"))
				}
				want := store.NewTime(now.Add(7 * 24 * time.Hour)).String()
				if got := seenSession(t, r)["expiresAt"]; got != want {
					t.Errorf("use %d: expiresAt = %v, want now + 7 days = %s", i+1, got, want)
				}
				if row := rowOf(t, st, token); !row.UpdatedAt.Equal(now) {
					t.Errorf("use %d: row updatedAt = %v, want %v", i+1, row.UpdatedAt, now)
				}
			}
		})

		t.Run("CookieDomain", func(t *testing.T) {
			e := newEnv(t, st, withSession(func(c *session.Config) { c.CookieDomain = "example.test" }))
			up := signUp(t, e.client(), "domain@example.com", "password123")
			signed := session.EncodeURIComponent(session.Sign([]byte(testSecret), up.JSON["token"].(string)))
			if got, want := up.setCookies()["better-auth.session_token"], "better-auth.session_token="+signed+"; Max-Age=604800; Domain=example.test; Path=/; HttpOnly; SameSite=Lax"; got != want {
				t.Errorf("session cookie = %q\nwant             %q", got, want)
			}
			in := e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "domain@example.com", "password": "password123", "rememberMe": false})
			expect(t, in, 200, "")
			if got := in.setCookies()["better-auth.dont_remember"]; !strings.HasSuffix(got, "; Domain=example.test; Path=/; HttpOnly; SameSite=Lax") {
				t.Errorf("dont_remember cookie = %q, want Domain=example.test", got)
			}
			// Clearing must name the same Domain, or the browser keeps the cookie.
			out := e.client().do("POST", "/api/auth/sign-out", map[string]any{}, "Cookie", "better-auth.session_token="+signed)
			expect(t, out, 200, "")
			cleared := out.setCookies()
			for _, name := range []string{"better-auth.session_token", "better-auth.session_data", "better-auth.dont_remember"} {
				if want := name + "=; Max-Age=0; Domain=example.test; Path=/; HttpOnly; SameSite=Lax"; cleared[name] != want {
					t.Errorf("sign-out %s = %q, want %q", name, cleared[name], want)
				}
			}
		})

		t.Run("Secure", func(t *testing.T) {
			e := newEnv(t, st, withSession(func(c *session.Config) { c.Secure = true }))
			up := signUp(t, e.client(), "secure@example.com", "password123")
			signed := session.EncodeURIComponent(session.Sign([]byte(testSecret), up.JSON["token"].(string)))
			set := up.setCookies()
			if got, want := set["__Secure-better-auth.session_token"], "__Secure-better-auth.session_token="+signed+"; Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Lax"; got != want {
				t.Errorf("session cookie = %q\nwant             %q", got, want)
			}
			if _, has := set["better-auth.session_token"]; has {
				t.Errorf("an unprefixed session cookie was set too: %v", up.Header.Values("Set-Cookie"))
			}
			// Only the configured (prefixed) name is read.
			if r := e.client().do("GET", "/api/auth/get-session", nil, "Cookie", "__Secure-better-auth.session_token="+signed); r.JSON == nil {
				t.Errorf("the __Secure- cookie was not accepted: %s", r.Raw)
			}
			if r := e.client().do("GET", "/api/auth/get-session", nil, "Cookie", "better-auth.session_token="+signed); string(r.Raw) != "null" {
				t.Errorf("the unprefixed cookie was accepted with secure cookies on: %s", r.Raw)
			}
			out := e.client().do("POST", "/api/auth/sign-out", map[string]any{}, "Cookie", "__Secure-better-auth.session_token="+signed)
			expect(t, out, 200, "")
			cleared := out.setCookies()
			for _, name := range []string{"__Secure-better-auth.session_token", "__Secure-better-auth.session_data", "__Secure-better-auth.dont_remember"} {
				if want := name + "=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax"; cleared[name] != want {
					t.Errorf("sign-out %s = %q, want %q", name, cleared[name], want)
				}
			}
		})
	})
}
