package web_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"authserver/auth/lastloginmethod"
	"authserver/auth/plugin"
	"authserver/store"
	"authserver/store/storetest"
)

// restartable runs fn on SQLite and PostgreSQL with a function that opens the same database
// again, as a server restart with other BETTER_AUTH_PLUGINS would: core migrations, then the
// given plugins installed.
func restartable(t *testing.T, fn func(t *testing.T, open func(ps ...plugin.Plugin) *store.Store)) {
	run := func(t *testing.T, url string) {
		fn(t, func(ps ...plugin.Plugin) *store.Store {
			t.Helper()
			ctx := context.Background()
			st, err := store.Open(ctx, store.Config{URL: url})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := plugin.Install(ctx, st, ps); err != nil {
				t.Fatalf("plugin.Install: %v", err)
			}
			return st
		})
	}
	t.Run("sqlite", func(t *testing.T) { run(t, "sqlite:"+filepath.Join(t.TempDir(), "test.db")) })
	t.Run("postgres", func(t *testing.T) { run(t, storetest.PostgresURL(t)) })
}

func lastLoginMethodStored() plugin.Plugin {
	return lastloginmethod.New(lastloginmethod.Config{CookieName: lastloginmethod.DefaultCookieName, MaxAge: lastloginmethod.DefaultMaxAge, StoreInDatabase: true})
}

// storedMethod reads user.lastLoginMethod as stored; ok is false when the column is missing.
func storedMethod(t *testing.T, st *store.Store, email string) (val *string, ok bool) {
	t.Helper()
	// Not a select of the column alone: SQLite reads a quoted name it does not know as a string.
	q := `select count(*) as n from information_schema.columns where table_schema = current_schema() and table_name = 'user' and column_name = 'lastLoginMethod'`
	if st.Dialect() == store.SQLite {
		q = `select count(*) as n from pragma_table_info('user') where name = 'lastLoginMethod'`
	}
	var n struct{ N int }
	if err := st.RawRow(context.Background(), &n, q); err != nil {
		t.Fatal(err)
	}
	if n.N == 0 {
		return nil, false
	}
	var row struct{ LastLoginMethod *string }
	if err := st.RawRow(context.Background(), &row, `select "lastLoginMethod" as last_login_method from "user" where "email" = ?`, email); err != nil {
		t.Fatal(err)
	}
	return row.LastLoginMethod, true
}

var lastLoginUserKeys = []string{"name", "email", "emailVerified", "image", "createdAt", "updatedAt", "lastLoginMethod", "id"}

// storeInDatabase: the column exists only once the plugin is on with the option, every user body
// carries it, each sign-in sets it (and updatedAt) while the sign-in answer shows the row as read
// before, bodies may not set it, and turning the plugin off leaves column and values in place.
func TestLastLoginMethodStoreInDatabase(t *testing.T) {
	restartable(t, func(t *testing.T, open func(ps ...plugin.Plugin) *store.Store) {
		// Off: no column, no key.
		st := open()
		e := newEnv(t, st)
		up := signUp(t, e.client(), "old@example.com", "password123")
		var body struct{ User json.RawMessage }
		_ = json.Unmarshal(up.Raw, &body)
		if keys := jsonKeys(t, body.User); len(keys) != 7 {
			t.Fatalf("plugin off: user keys %v", keys)
		}
		if _, ok := storedMethod(t, st, "old@example.com"); ok {
			t.Fatal("plugin off added the lastLoginMethod column")
		}
		_ = st.Close()

		// On: the column is added; the existing user has null until they sign in.
		st = open(lastLoginMethodStored())
		e = newEnv(t, st, func(o *envOptions) { o.auth.Plugins = []plugin.Plugin{lastLoginMethodStored()} })
		if v, ok := storedMethod(t, st, "old@example.com"); !ok || v != nil {
			t.Fatalf("after turning it on: column present %v, value %v", ok, v)
		}
		c := e.client()
		up = signUp(t, c, "ada@example.com", "password123")
		_ = json.Unmarshal(up.Raw, &body)
		pluginObject(t, "sign-up user", body.User, lastLoginUserKeys, map[string]any{"lastLoginMethod": "email"})

		old := e.client()
		e.clock.Advance(time.Minute)
		in := old.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "old@example.com", "password": "password123"})
		expect(t, in, 200, "")
		pluginObject(t, "sign-in user (as read before the sign-in)", userOf(t, in.Raw), lastLoginUserKeys, map[string]any{"lastLoginMethod": nil})
		g := old.do("GET", "/api/auth/get-session", nil)
		expect(t, g, 200, "")
		pluginObject(t, "get-session user", userOf(t, g.Raw), lastLoginUserKeys, map[string]any{"lastLoginMethod": "email"})
		before, _ := userField(t, in.Raw, "updatedAt")
		if after, _ := userField(t, g.Raw, "updatedAt"); after == before {
			t.Errorf("the sign-in did not bump updatedAt (%v)", after)
		}

		// Only the server sets it.
		r := e.client().do("POST", "/api/auth/sign-up/email", map[string]any{"name": "M", "email": "mal@example.com", "password": "password123", "lastLoginMethod": "google"})
		expect(t, r, 400, "FIELD_NOT_ALLOWED")
		if string(r.Raw) != `{"message":"lastLoginMethod is not allowed to be set","code":"FIELD_NOT_ALLOWED"}` {
			t.Errorf("refusal body = %s", r.Raw)
		}
		if _, err := st.UserByEmail(context.Background(), "mal@example.com"); err == nil {
			t.Error("the refused sign-up created a user")
		}
		up = signUp(t, e.client(), "empty@example.com", "password123", "lastLoginMethod", "")
		_ = json.Unmarshal(up.Raw, &body)
		pluginObject(t, "sign-up with an empty lastLoginMethod (ignored)", body.User, lastLoginUserKeys, map[string]any{"lastLoginMethod": "email"})
		r = c.do("POST", "/api/auth/update-user", map[string]any{"name": "Ada", "lastLoginMethod": "github"})
		expect(t, r, 400, "FIELD_NOT_ALLOWED")
		r = c.do("POST", "/api/auth/update-user", map[string]any{"name": "Ada", "lastLoginMethod": nil})
		expect(t, r, 200, "")
		if v, _ := storedMethod(t, st, "ada@example.com"); v == nil || *v != "email" {
			t.Errorf("after update-user: stored %v", v)
		}
		_ = st.Close()

		// Off again: column and values stay, bodies no longer carry the key.
		st = open()
		e = newEnv(t, st)
		if v, ok := storedMethod(t, st, "ada@example.com"); !ok || v == nil || *v != "email" {
			t.Fatalf("after turning it off: column present %v, value %v", ok, v)
		}
		in = e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "ada@example.com", "password": "password123"})
		expect(t, in, 200, "")
		if _, has := userField(t, in.Raw, "lastLoginMethod"); has {
			t.Errorf("plugin off, yet the key is printed: %s", in.Raw)
		}
		_ = st.Close()

		// On again: nothing to redo.
		st = open(lastLoginMethodStored())
		if v, _ := storedMethod(t, st, "ada@example.com"); v == nil || *v != "email" {
			t.Errorf("after turning it on again: stored %v", v)
		}
	})
}

// A database Better-Auth migrated with storeInDatabase already has the column: it is adopted
// with its values, and the migration is recorded as done.
func TestLastLoginMethodAdoptsExistingColumn(t *testing.T) {
	restartable(t, func(t *testing.T, open func(ps ...plugin.Plugin) *store.Store) {
		ctx := context.Background()
		st := open()
		e := newEnv(t, st)
		signUp(t, e.client(), "ba@example.com", "password123")
		for _, stmt := range []string{`alter table "user" add column "lastLoginMethod" text`, `update "user" set "lastLoginMethod" = 'github'`} {
			if err := st.ExecAdmin(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
		_ = st.Close()
		st = open(lastLoginMethodStored())
		e = newEnv(t, st, func(o *envOptions) { o.auth.Plugins = []plugin.Plugin{lastLoginMethodStored()} })
		in := e.client().do("POST", "/api/auth/sign-in/email", map[string]any{"email": "ba@example.com", "password": "password123"})
		expect(t, in, 200, "")
		pluginObject(t, "sign-in user", userOf(t, in.Raw), lastLoginUserKeys, map[string]any{"lastLoginMethod": "github"})
		var n struct{ N int }
		if err := st.RawRow(ctx, &n, `select count(*) as n from "authserver_plugin_migrations" where "name" = 'last-login-method/0001_user_lastLoginMethod'`); err != nil || n.N != 1 {
			t.Errorf("migration record: %v, %d", err, n.N)
		}
	})
}

// userOf returns the "user" object of a body as sent, keys in their order.
func userOf(t *testing.T, raw []byte) json.RawMessage {
	t.Helper()
	var b struct{ User json.RawMessage }
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	return b.User
}

// userField returns one field of the body's "user" object.
func userField(t *testing.T, raw []byte, key string) (any, bool) {
	t.Helper()
	var m map[string]any
	_ = json.Unmarshal(userOf(t, raw), &m)
	v, ok := m[key]
	return v, ok
}
