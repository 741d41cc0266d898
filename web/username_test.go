package web_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"authserver/auth"
	"authserver/auth/plugin"
	"authserver/auth/username"
	"authserver/store"
	"authserver/store/storetest"
)

var usernameUserKeys = []string{"name", "email", "emailVerified", "image", "createdAt", "updatedAt", "username", "displayUsername", "id"}

// usernameEnv installs the username plugin (with cfg) on st and serves it.
func usernameEnv(t *testing.T, st *store.Store, cfg username.Config, opts ...func(*envOptions)) *env {
	t.Helper()
	p := username.New(cfg)
	if err := plugin.Install(context.Background(), st, []plugin.Plugin{p}); err != nil {
		t.Fatalf("plugin.Install: %v", err)
	}
	return newEnv(t, st, append([]func(*envOptions){func(o *envOptions) { o.auth.Plugins = []plugin.Plugin{p} }}, opts...)...)
}

var defaultUsernames = username.Config{MinLength: username.DefaultMinLength, MaxLength: username.DefaultMaxLength}

// userCount counts the users with the email, to show a refused request wrote nothing.
func userCount(t *testing.T, st *store.Store, email string) int {
	t.Helper()
	var n struct{ N int }
	if err := st.RawRow(context.Background(), &n, `select count(*) as n from "user" where "email" = ?`, email); err != nil {
		t.Fatal(err)
	}
	return n.N
}

// Sign-up takes a username (stored lower-cased, displayed as typed), sign-in by username is
// case-insensitive and answers as e-mail sign-in does, and every wrong sign-in is refused with
// Better-Auth's codes and statuses.
func TestUsernameSignUpAndSignIn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := usernameEnv(t, st, defaultUsernames)
		up := signUp(t, e.client(), "alice@example.com", "password123", "username", "Alice_1")
		pluginObject(t, "sign-up user", userOf(t, up.Raw), usernameUserKeys, map[string]any{"username": "alice_1", "displayUsername": "Alice_1"})

		c := e.client()
		in := c.do("POST", "/api/auth/sign-in/username", map[string]any{"username": "ALICE_1", "password": "password123"})
		expect(t, in, 200, "")
		if got := strings.Join(jsonKeys(t, in.Raw), ","); got != "redirect,token,user" {
			t.Errorf("sign-in keys = %s", got)
		}
		if in.JSON["redirect"] != false || in.JSON["token"] == "" || in.Header.Get("Location") != "" {
			t.Errorf("sign-in answer %s, Location %q", in.Raw, in.Header.Get("Location"))
		}
		pluginObject(t, "sign-in user", userOf(t, in.Raw), usernameUserKeys, map[string]any{"email": "alice@example.com", "username": "alice_1"})
		if _, ok := in.setCookies()["better-auth.session_token"]; !ok {
			t.Errorf("no session cookie: %v", in.Header.Values("Set-Cookie"))
		}
		g := c.do("GET", "/api/auth/get-session", nil)
		expect(t, g, 200, "")
		pluginObject(t, "get-session user", userOf(t, g.Raw), usernameUserKeys, map[string]any{"username": "alice_1", "displayUsername": "Alice_1"})

		cb := e.client().do("POST", "/api/auth/sign-in/username", map[string]any{"username": "alice_1", "password": "password123", "callbackURL": "/dashboard", "rememberMe": false})
		expect(t, cb, 200, "")
		if cb.JSON["redirect"] != true || cb.JSON["url"] != "/dashboard" || cb.Header.Get("Location") != "/dashboard" {
			t.Errorf("callbackURL answer %s, Location %q", cb.Raw, cb.Header.Get("Location"))
		}
		if _, ok := cb.setCookies()["better-auth.dont_remember"]; !ok {
			t.Errorf("rememberMe:false set no dont_remember cookie")
		}

		for _, tc := range []struct {
			name          string
			body          map[string]any
			status        int
			code, message string
		}{
			{"wrong password", map[string]any{"username": "alice_1", "password": "wrong-password"}, 401, "INVALID_USERNAME_OR_PASSWORD", "Invalid username or password"},
			{"unknown user", map[string]any{"username": "nobody", "password": "password123"}, 401, "INVALID_USERNAME_OR_PASSWORD", "Invalid username or password"},
			{"empty username", map[string]any{"username": "", "password": "password123"}, 401, "INVALID_USERNAME_OR_PASSWORD", "Invalid username or password"},
			{"empty password", map[string]any{"username": "alice_1", "password": ""}, 401, "INVALID_USERNAME_OR_PASSWORD", "Invalid username or password"},
			{"too short", map[string]any{"username": "al", "password": "password123"}, 422, "USERNAME_TOO_SHORT", "Username is too short"},
			{"too short before the pattern", map[string]any{"username": "a!", "password": "password123"}, 422, "USERNAME_TOO_SHORT", "Username is too short"},
			{"too long", map[string]any{"username": strings.Repeat("a", 31), "password": "password123"}, 422, "USERNAME_TOO_LONG", "Username is too long"},
			{"invalid", map[string]any{"username": "alice 1", "password": "password123"}, 422, "INVALID_USERNAME", "Username is invalid"},
			{"not a string", map[string]any{"username": 12345, "password": "password123"}, 400, "VALIDATION_ERROR", ""},
			{"password missing", map[string]any{"username": "alice_1"}, 400, "VALIDATION_ERROR", ""},
		} {
			r := e.client().do("POST", "/api/auth/sign-in/username", tc.body)
			expect(t, r, tc.status, tc.code)
			if tc.message != "" && r.JSON["message"] != tc.message {
				t.Errorf("%s: message = %v", tc.name, r.JSON["message"])
			}
			if len(r.setCookies()) != 0 {
				t.Errorf("%s: set cookies %v", tc.name, r.Header.Values("Set-Cookie"))
			}
		}
	})
}

// Sign-up checks the username before anything is written: duplicates (in any case), too short,
// too long and invalid names are 400s and create no user; a valid displayUsername alone becomes
// the username; a display name that is not a valid username is kept as display name only.
func TestUsernameSignUpRules(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := usernameEnv(t, st, defaultUsernames)
		signUp(t, e.client(), "alice@example.com", "password123", "username", "alice_1")
		for _, tc := range []struct {
			name, email string
			extra       map[string]any
			code, msg   string
		}{
			{"duplicate", "dup@example.com", map[string]any{"username": "ALICE_1"}, "USERNAME_IS_ALREADY_TAKEN", "Username is already taken. Please try another."},
			{"too short", "short@example.com", map[string]any{"username": "ab"}, "USERNAME_TOO_SHORT", "Username is too short"},
			{"too long", "long@example.com", map[string]any{"username": strings.Repeat("b", 31)}, "USERNAME_TOO_LONG", "Username is too long"},
			{"invalid", "inv@example.com", map[string]any{"username": "bad name"}, "INVALID_USERNAME", "Username is invalid"},
			{"empty", "empty@example.com", map[string]any{"username": ""}, "USERNAME_TOO_SHORT", "Username is too short"},
			{"display name of a taken username", "dup2@example.com", map[string]any{"displayUsername": "Alice_1"}, "USERNAME_IS_ALREADY_TAKEN", ""},
			{"not a string", "num@example.com", map[string]any{"username": 42}, "VALIDATION_ERROR", ""},
			{"display name not a string", "num2@example.com", map[string]any{"displayUsername": true}, "VALIDATION_ERROR", ""},
		} {
			body := map[string]any{"name": "N", "email": tc.email, "password": "password123"}
			for k, v := range tc.extra {
				body[k] = v
			}
			r := e.client().do("POST", "/api/auth/sign-up/email", body)
			expect(t, r, 400, tc.code)
			if tc.msg != "" && r.JSON["message"] != tc.msg {
				t.Errorf("%s: message = %v", tc.name, r.JSON["message"])
			}
			if n := userCount(t, st, tc.email); n != 0 {
				t.Errorf("%s: the refused sign-up created a user", tc.name)
			}
		}

		up := signUp(t, e.client(), "bob@example.com", "password123", "displayUsername", "Bob.B")
		pluginObject(t, "displayUsername only", userOf(t, up.Raw), usernameUserKeys, map[string]any{"username": "bob.b", "displayUsername": "Bob.B"})
		up = signUp(t, e.client(), "carol@example.com", "password123", "displayUsername", "Carol C!")
		pluginObject(t, "invalid displayUsername only", userOf(t, up.Raw), usernameUserKeys, map[string]any{"username": nil, "displayUsername": "Carol C!"})
		up = signUp(t, e.client(), "dave@example.com", "password123", "username", "DaveD", "displayUsername", "Dave the Great")
		pluginObject(t, "both", userOf(t, up.Raw), usernameUserKeys, map[string]any{"username": "daved", "displayUsername": "Dave the Great"})
		up = signUp(t, e.client(), "erin@example.com", "password123")
		pluginObject(t, "neither", userOf(t, up.Raw), usernameUserKeys, map[string]any{"username": nil, "displayUsername": nil})
		in := e.client().do("POST", "/api/auth/sign-in/username", map[string]any{"username": "Bob.b", "password": "password123"})
		expect(t, in, 200, "")
	})
}

// is-username-available looks the name up lower-cased and refuses malformed names with 422.
func TestUsernameIsAvailable(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := usernameEnv(t, st, defaultUsernames)
		signUp(t, e.client(), "alice@example.com", "password123", "username", "Alice_1")
		c := e.client()
		for _, tc := range []struct {
			name   string
			status int
			body   string
		}{
			{"ALICE_1", 200, `{"available":false}`},
			{"alice_1", 200, `{"available":false}`},
			{"alice_2", 200, `{"available":true}`},
			{"", 422, `{"message":"Username is invalid","code":"INVALID_USERNAME"}`},
			{"a!", 422, `{"message":"Username is too short","code":"USERNAME_TOO_SHORT"}`},
			{strings.Repeat("x", 31), 422, `{"message":"Username is too long","code":"USERNAME_TOO_LONG"}`},
			{"no spaces", 422, `{"message":"Username is invalid","code":"INVALID_USERNAME"}`},
		} {
			r := c.do("POST", "/api/auth/is-username-available", map[string]any{"username": tc.name})
			if r.Status != tc.status || string(r.Raw) != tc.body {
				t.Errorf("%q: %d %s, want %d %s", tc.name, r.Status, r.Raw, tc.status, tc.body)
			}
		}
		expect(t, c.do("POST", "/api/auth/is-username-available", map[string]any{}), 400, "VALIDATION_ERROR")
	})
}

// update-user changes username (lower-cased, checked as at sign-up, free to its owner) and
// displayUsername; null clears them.
func TestUsernameUpdateUser(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := usernameEnv(t, st, defaultUsernames)
		signUp(t, e.client(), "bob@example.com", "password123", "username", "bob_b")
		c := e.client()
		signUp(t, c, "alice@example.com", "password123", "username", "Alice_1")
		session := func() []byte {
			g := c.do("GET", "/api/auth/get-session", nil)
			expect(t, g, 200, "")
			return userOf(t, g.Raw)
		}
		r := c.do("POST", "/api/auth/update-user", map[string]any{"username": "NewAlice"})
		expect(t, r, 200, "")
		pluginObject(t, "after username change", session(), usernameUserKeys, map[string]any{"username": "newalice", "displayUsername": "Alice_1"})
		expect(t, c.do("POST", "/api/auth/update-user", map[string]any{"username": "NEWALICE", "displayUsername": "New Alice"}), 200, "")
		pluginObject(t, "own username again", session(), usernameUserKeys, map[string]any{"username": "newalice", "displayUsername": "New Alice"})

		for _, tc := range []struct {
			body map[string]any
			code string
		}{
			{map[string]any{"username": "BOB_B"}, "USERNAME_IS_ALREADY_TAKEN"},
			{map[string]any{"username": "ab"}, "USERNAME_TOO_SHORT"},
			{map[string]any{"username": strings.Repeat("c", 31)}, "USERNAME_TOO_LONG"},
			{map[string]any{"username": "not valid", "name": "Changed"}, "INVALID_USERNAME"},
			{map[string]any{"username": 7}, "VALIDATION_ERROR"},
		} {
			r := c.do("POST", "/api/auth/update-user", tc.body)
			expect(t, r, 400, tc.code)
		}
		pluginObject(t, "after refusals", session(), usernameUserKeys, map[string]any{"name": "Test User", "username": "newalice"})

		expect(t, c.do("POST", "/api/auth/update-user", map[string]any{"username": nil, "displayUsername": nil}), 200, "")
		pluginObject(t, "cleared", session(), usernameUserKeys, map[string]any{"username": nil, "displayUsername": nil})
		expect(t, e.client().do("POST", "/api/auth/update-user", map[string]any{"username": "someone"}), 401, "")
	})
}

// With requireEmailVerification an unverified user's right password is refused with 403, as in
// e-mail sign-in; a wrong one is still the 401.
func TestUsernameSignInRequiresVerifiedEmail(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := usernameEnv(t, st, defaultUsernames, func(o *envOptions) { o.auth.RequireEmailVerification = true })
		signUp(t, e.client(), "alice@example.com", "password123", "username", "alice")
		r := e.client().do("POST", "/api/auth/sign-in/username", map[string]any{"username": "alice", "password": "password123"})
		expect(t, r, 403, "EMAIL_NOT_VERIFIED")
		r = e.client().do("POST", "/api/auth/sign-in/username", map[string]any{"username": "alice", "password": "password999"})
		expect(t, r, 401, "INVALID_USERNAME_OR_PASSWORD")
	})
}

// USERNAME_MIN_LENGTH and USERNAME_MAX_LENGTH move the bounds on every path.
func TestUsernameLengthOptions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := usernameEnv(t, st, username.Config{MinLength: 5, MaxLength: 8})
		r := e.client().do("POST", "/api/auth/sign-up/email", map[string]any{"name": "N", "email": "a@example.com", "password": "password123", "username": "abcd"})
		expect(t, r, 400, "USERNAME_TOO_SHORT")
		r = e.client().do("POST", "/api/auth/is-username-available", map[string]any{"username": "abcdefghi"})
		expect(t, r, 422, "USERNAME_TOO_LONG")
		r = e.client().do("POST", "/api/auth/sign-in/username", map[string]any{"username": "abcd", "password": "password123"})
		expect(t, r, 422, "USERNAME_TOO_SHORT")
		signUp(t, e.client(), "b@example.com", "password123", "username", "abcde")
	})
}

// The migration adds both columns with Better-Auth's unique constraint (PostgreSQL:
// user_username_key) or index (SQLite: user_username_uidx), so two users cannot share a name even
// past the pre-check; a database Better-Auth migrated already has the columns and keeps them.
func TestUsernameSchema(t *testing.T) {
	restartable(t, func(t *testing.T, open func(ps ...plugin.Plugin) *store.Store) {
		ctx := context.Background()
		st := open(username.New(defaultUsernames))
		q := `select count(*) as n from pg_indexes where schemaname = current_schema() and tablename = 'user' and indexname = 'user_username_key' and indexdef like 'CREATE UNIQUE INDEX%'`
		if st.Dialect() == store.SQLite {
			q = `select count(*) as n from pragma_index_list('user') where name = 'user_username_uidx' and "unique" = 1`
		}
		var n struct{ N int }
		if err := st.RawRow(ctx, &n, q); err != nil || n.N != 1 {
			t.Fatalf("unique index on username: %v, %d", err, n.N)
		}
		if err := st.ExecAdmin(ctx, `insert into "user" ("id", "name", "email", "emailVerified", "createdAt", "updatedAt", "username") values ('u1', 'A', 'a@x.io', false, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 'same')`); err != nil {
			t.Fatal(err)
		}
		if err := st.ExecAdmin(ctx, `insert into "user" ("id", "name", "email", "emailVerified", "createdAt", "updatedAt", "username") values ('u2', 'B', 'b@x.io', false, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 'same')`); err == nil {
			t.Error("two users share a username")
		}
	})
}

// A database Better-Auth migrated with the plugin already has both columns: they are adopted with
// their values and the migrations recorded as done.
func TestUsernameAdoptsExistingColumns(t *testing.T) {
	restartable(t, func(t *testing.T, open func(ps ...plugin.Plugin) *store.Store) {
		ctx := context.Background()
		st := open()
		signUp(t, newEnv(t, st).client(), "ba@example.com", "password123")
		for _, stmt := range []string{
			`alter table "user" add column "username" text`,
			`alter table "user" add column "displayUsername" text`,
			`create unique index "user_username_uidx" on "user" ("username")`,
			`update "user" set "username" = 'ba_user', "displayUsername" = 'BA_User'`,
		} {
			if err := st.ExecAdmin(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
		_ = st.Close()
		st = open(username.New(defaultUsernames))
		p := username.New(defaultUsernames)
		e := newEnv(t, st, func(o *envOptions) { o.auth.Plugins = []plugin.Plugin{p} })
		in := e.client().do("POST", "/api/auth/sign-in/username", map[string]any{"username": "BA_User", "password": "password123"})
		expect(t, in, 200, "")
		pluginObject(t, "sign-in user", userOf(t, in.Raw), usernameUserKeys, map[string]any{"username": "ba_user", "displayUsername": "BA_User"})
		var n struct{ N int }
		if err := st.RawRow(ctx, &n, `select count(*) as n from "authserver_plugin_migrations" where "name" like 'username/%'`); err != nil || n.N != 2 {
			t.Errorf("migration records: %v, %d", err, n.N)
		}
	})
}

// With LOCKOUT on, failures by username and by e-mail count against the same account: guessing
// through both doors gives no more tries than one.
func TestUsernameSharesTheAccountLockout(t *testing.T) {
	st := storetest.OpenSQLite(t)
	e := usernameEnv(t, st, defaultUsernames, func(o *envOptions) {
		o.auth.Lockout = auth.LockoutConfig{Enabled: true, Threshold: 3, Base: time.Minute, Max: time.Hour}
	})
	c := e.client()
	signUp(t, c, "lock@example.com", "password123", "username", "locky")
	for i := 0; i < 2; i++ {
		expect(t, c.do("POST", "/api/auth/sign-in/username", map[string]any{"username": "locky", "password": "wrong-password"}), 401, "INVALID_USERNAME_OR_PASSWORD")
	}
	expect(t, c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "lock@example.com", "password": "wrong-password"}), 401, "")
	expect(t, c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "lock@example.com", "password": "password123"}), 429, "TOO_MANY_ATTEMPTS")
	expect(t, c.do("POST", "/api/auth/sign-in/username", map[string]any{"username": "LOCKY", "password": "password123"}), 429, "TOO_MANY_ATTEMPTS")
	e.clock.Advance(61 * time.Second)
	expect(t, c.do("POST", "/api/auth/sign-in/username", map[string]any{"username": "locky", "password": "password123"}), 200, "")
}

// Several users asking update-user for the same free username at once: the plugin's check passes
// for all of them before any writes, so all but one lose at the unique index. Each loser must get
// the plugin's refusal, never a 500, and exactly one wins.
func TestUsernameUpdateUserRace(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := usernameEnv(t, st, defaultUsernames)
		const n = 6
		clients := make([]*client, n)
		for i := range clients {
			clients[i] = e.client()
			signUp(t, clients[i], "racer"+strconv.Itoa(i)+"@example.com", "password123")
		}
		for round := 0; round < 3; round++ {
			name := "prize_" + strconv.Itoa(round)
			results := make([]*response, n)
			var wg sync.WaitGroup
			for i, c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i] = c.do("POST", "/api/auth/update-user", map[string]any{"username": name})
				}()
			}
			wg.Wait()
			won := 0
			for _, r := range results {
				switch {
				case r.Status == 200:
					won++
				case r.Status == 400 && r.JSON["code"] == "USERNAME_IS_ALREADY_TAKEN":
				default:
					t.Fatalf("round %d: %d %s, want 200 or 400 USERNAME_IS_ALREADY_TAKEN", round, r.Status, r.Raw)
				}
			}
			if won != 1 {
				t.Fatalf("round %d: %d requests got the username, want 1", round, won)
			}
		}
	})
}
