package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"authserver/store"
	"authserver/store/storetest"
)

// jsonKeys lists an object's keys in the order they appear in raw.
func jsonKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", raw)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// pluginObject checks one user or session object: its keys in order and the added values.
func pluginObject(t *testing.T, what string, raw json.RawMessage, wantKeys []string, want map[string]any) {
	t.Helper()
	if got := strings.Join(jsonKeys(t, raw), ","); got != strings.Join(wantKeys, ",") {
		t.Errorf("%s keys = %s\nwant %s", what, got, strings.Join(wantKeys, ","))
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s[%q] = %#v, want %#v (%s)", what, k, m[k], v, raw)
		}
	}
}

var (
	pluginUserKeys    = []string{"name", "email", "emailVerified", "image", "createdAt", "updatedAt", "nickname", "isPro", "id"}
	pluginSessionKeys = []string{"expiresAt", "token", "createdAt", "updatedAt", "ipAddress", "userAgent", "userId", "activeTeam", "hops", "seenAt", "id"}
)

// Fields a plugin registers on the user and session rows flow through every body that carries a
// user or session, after the core fields and before "id" as Better-Auth prints them: sign-up and
// sign-in, get-session (from the database, the memory cache and the cookie cache alone) and
// list-sessions. A hidden (returned:false) field is read but never printed; an unset field gets
// its default on insert, or null.
func TestPluginFieldsFlowThroughBodies(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		boolean, timestamp, no := "integer", "text", "0"
		if st.Dialect() == store.Postgres {
			boolean, timestamp, no = "boolean", "timestamptz", "false"
		}
		for _, stmt := range []string{
			`alter table "user" add column "nickname" text`,
			`alter table "user" add column "isPro" ` + boolean,
			`alter table "user" add column "secretNote" text`,
			`alter table "session" add column "activeTeam" text`,
			`alter table "session" add column "hops" integer`,
			`alter table "session" add column "seenAt" ` + timestamp,
		} {
			if err := st.ExecAdmin(ctx, stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		err := st.RegisterFields([]store.Field{
			{Name: "nickname", Type: store.StringField, Nullable: true},
			{Name: "isPro", Type: store.BoolField, Default: store.BoolValue(true)},
			{Name: "secretNote", Type: store.StringField, Nullable: true, Hidden: true},
		}, []store.Field{
			{Name: "activeTeam", Type: store.StringField, Nullable: true},
			{Name: "hops", Type: store.IntField, Default: store.IntValue(7)},
			{Name: "seenAt", Type: store.TimeField, Nullable: true},
		})
		if err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, st, func(o *envOptions) { o.session.CookieCache = true })
		c := e.client()

		var up struct{ User json.RawMessage }
		_ = json.Unmarshal(signUp(t, c, "plug@example.com", "password123").Raw, &up)
		pluginObject(t, "sign-up user", up.User, pluginUserKeys, map[string]any{"nickname": nil, "isPro": true})

		seen := "2026-03-04T05:06:07.089Z"
		for _, stmt := range []string{
			`update "user" set "nickname" = 'Nick "the" ü', "secretNote" = 'never shown', "isPro" = ` + no,
			`update "session" set "activeTeam" = 'team-1', "seenAt" = '` + seen + `'`,
		} {
			if err := st.ExecAdmin(ctx, stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		wantUser := map[string]any{"nickname": `Nick "the" ü`, "isPro": false}
		wantSession := map[string]any{"activeTeam": nil, "hops": float64(7), "seenAt": nil}

		in := c.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "plug@example.com", "password": "password123"})
		expect(t, in, 200, "")
		var inBody struct{ User json.RawMessage }
		_ = json.Unmarshal(in.Raw, &inBody)
		pluginObject(t, "sign-in user", inBody.User, pluginUserKeys, wantUser)

		// The new session's cookie cache carries the added fields (not the hidden one).
		raw, _ := url.QueryUnescape(c.cookieValue("better-auth.session_data"))
		dec, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(raw, "="))
		if err != nil {
			t.Fatalf("session_data: %v", err)
		}
		var cookie struct {
			Session struct{ Session, User json.RawMessage }
		}
		if err := json.Unmarshal(dec, &cookie); err != nil {
			t.Fatalf("session_data: %v: %s", err, dec)
		}
		pluginObject(t, "cookie cache session", cookie.Session.Session, pluginSessionKeys, wantSession)
		pluginObject(t, "cookie cache user", cookie.Session.User, pluginUserKeys, wantUser)

		var bodies []string
		var current string
		for _, q := range []string{"", "?disableCookieCache=true", "?disableCookieCache=true", "?disableCookieCache=true"} {
			g := c.do("GET", "/api/auth/get-session"+q, nil)
			expect(t, g, 200, "")
			var gs struct{ Session, User json.RawMessage }
			_ = json.Unmarshal(g.Raw, &gs)
			pluginObject(t, "get-session"+q+" session", gs.Session, pluginSessionKeys, wantSession)
			pluginObject(t, "get-session"+q+" user", gs.User, pluginUserKeys, wantUser)
			bodies = append(bodies, string(g.Raw))
			var tok struct{ Token string }
			_ = json.Unmarshal(gs.Session, &tok)
			current = tok.Token
		}
		for i, b := range bodies[1:] {
			if b != bodies[0] {
				t.Errorf("get-session %d differs from the cookie cache's answer:\n%s\n%s", i+1, b, bodies[0])
			}
		}

		l := c.do("GET", "/api/auth/list-sessions", nil)
		expect(t, l, 200, "")
		var list []json.RawMessage
		_ = json.Unmarshal(l.Raw, &list)
		if len(list) != 2 {
			t.Fatalf("list-sessions: %s", l.Raw)
		}
		for _, s := range list {
			var tok struct{ Token string }
			_ = json.Unmarshal(s, &tok)
			if tok.Token == current {
				pluginObject(t, "sign-in session", s, pluginSessionKeys, wantSession)
			} else {
				pluginObject(t, "sign-up session", s, pluginSessionKeys, map[string]any{"activeTeam": "team-1", "hops": float64(7), "seenAt": seen})
			}
		}

		// Without the memory cache, get-session is answered from the cookie cache alone: with the
		// session rows gone, the added fields still come back from the cookie.
		e2 := newEnv(t, st, func(o *envOptions) { o.session.CookieCache, o.session.DisableCache = true, true })
		c2 := e2.client()
		expect(t, c2.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "plug@example.com", "password": "password123"}), 200, "")
		if err := st.ExecAdmin(ctx, `delete from "session"`); err != nil {
			t.Fatal(err)
		}
		g := c2.do("GET", "/api/auth/get-session", nil)
		var gs struct{ Session, User json.RawMessage }
		if err := json.Unmarshal(g.Raw, &gs); err != nil || gs.Session == nil {
			t.Fatalf("get-session from the cookie cache: %s", g.Raw)
		}
		pluginObject(t, "cookie-cached session", gs.Session, pluginSessionKeys, wantSession)
		pluginObject(t, "cookie-cached user", gs.User, pluginUserKeys, wantUser)
	})
}
