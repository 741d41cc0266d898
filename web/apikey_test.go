package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"authserver/auth/apikey"
	"authserver/auth/jwt"
	"authserver/auth/plugin"
	"authserver/store"
	"authserver/store/storetest"
)

// apiKeyEnv is the whole server with the api-key plugin (and the content API, whose routes a key
// may also open) over st.
func apiKeyEnv(t *testing.T, st *store.Store, cfg apikey.Config) *contentEnv {
	t.Helper()
	ps := []plugin.Plugin{apikey.New(cfg)}
	if err := plugin.Install(context.Background(), st, ps); err != nil {
		t.Fatalf("plugin.Install: %v", err)
	}
	return newContentEnv(t, st, 50, func(o *envOptions) { o.auth.Plugins = ps })
}

var plainKey = regexp.MustCompile(`^[A-Za-z]{64}$`)

// createKey creates a key for c's user and returns the answer's key object.
func createKey(t *testing.T, c *client, body map[string]any) map[string]any {
	t.Helper()
	r := c.do("POST", "/api/auth/api-key/create", body)
	expect(t, r, 200, "")
	return r.JSON
}

func storedKey(t *testing.T, st *store.Store, id string) store.APIKey {
	t.Helper()
	k, err := st.APIKeyByID(context.Background(), id)
	if err != nil {
		t.Fatalf("APIKeyByID: %v", err)
	}
	return *k
}

func TestAPIKeyEndpoints(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := apiKeyEnv(t, st, apikey.DefaultConfig())
		anon := e.client()
		expect(t, anon.do("POST", "/api/auth/api-key/create", map[string]any{}), 401, "UNAUTHORIZED_SESSION")
		expect(t, anon.do("GET", "/api/auth/api-key/list", nil), 401, "UNAUTHORIZED")
		expect(t, anon.do("POST", "/api/auth/api-key/update", map[string]any{"keyId": "x", "name": "n"}), 401, "UNAUTHORIZED_SESSION")

		c := e.client()
		uid := signUp(t, c, "keys@example.com", "password123").JSON["user"].(map[string]any)["id"].(string)
		// The usage fields are the server's; userId too; metadata is off by default.
		for _, f := range []string{"remaining", "refillAmount", "refillInterval", "rateLimitMax", "rateLimitTimeWindow"} {
			expect(t, c.do("POST", "/api/auth/api-key/create", map[string]any{f: 5}), 400, "SERVER_ONLY_PROPERTY")
		}
		expect(t, c.do("POST", "/api/auth/api-key/create", map[string]any{"rateLimitEnabled": false}), 400, "SERVER_ONLY_PROPERTY")
		expect(t, c.do("POST", "/api/auth/api-key/create", map[string]any{"permissions": map[string]any{"files": []any{"read"}}}), 400, "SERVER_ONLY_PROPERTY")
		expect(t, c.do("POST", "/api/auth/api-key/create", map[string]any{"userId": uid}), 401, "UNAUTHORIZED_SESSION")
		expect(t, c.do("POST", "/api/auth/api-key/create", map[string]any{"metadata": map[string]any{"a": 1}}), 400, "METADATA_DISABLED")
		expect(t, c.do("POST", "/api/auth/api-key/create", map[string]any{"expiresIn": 3600}), 400, "EXPIRES_IN_IS_TOO_SMALL")
		expect(t, c.do("POST", "/api/auth/api-key/create", map[string]any{"expiresIn": 400 * 86400}), 400, "EXPIRES_IN_IS_TOO_LARGE")
		expect(t, c.do("POST", "/api/auth/api-key/create", map[string]any{"expiresIn": 0}), 400, "VALIDATION_ERROR")
		expect(t, c.do("POST", "/api/auth/api-key/create", map[string]any{"expiresIn": "1d"}), 400, "VALIDATION_ERROR")
		expect(t, c.do("POST", "/api/auth/api-key/create", map[string]any{"prefix": "no spaces"}), 400, "VALIDATION_ERROR")
		expect(t, c.do("POST", "/api/auth/api-key/create", map[string]any{"prefix": "p123456789012345678901234567890123"}), 400, "INVALID_PREFIX_LENGTH")
		expect(t, c.do("POST", "/api/auth/api-key/create", map[string]any{"name": "n123456789012345678901234567890123"}), 400, "INVALID_NAME_LENGTH")
		if n := countKeys(t, st); n != 0 {
			t.Fatalf("%d keys after refusals, want 0", n)
		}

		k := createKey(t, c, map[string]any{"name": "ci", "expiresIn": 86400 * 2})
		plain, _ := k["key"].(string)
		if !plainKey.MatchString(plain) || k["start"] != plain[:6] || k["referenceId"] != uid || k["name"] != "ci" ||
			k["prefix"] != nil || k["enabled"] != true || k["rateLimitEnabled"] != true || k["rateLimitMax"] != 10.0 ||
			k["rateLimitTimeWindow"] != 86400000.0 || k["requestCount"] != 0.0 || k["remaining"] != nil || k["configId"] != "default" ||
			k["metadata"] != nil || k["permissions"] != nil || !jsDate.MatchString(k["expiresAt"].(string)) || len(k) != 22 {
			t.Fatalf("create answered %v", k)
		}
		id := k["id"].(string)
		sum := sha256.Sum256([]byte(plain))
		if got := storedKey(t, st, id).Key; got != base64.RawURLEncoding.EncodeToString(sum[:]) {
			t.Fatalf("stored key %q is not base64url(SHA-256(key))", got)
		}
		pk := createKey(t, c, map[string]any{"prefix": "ak_"})
		if p := pk["key"].(string); p[:3] != "ak_" || len(p) != 67 || pk["prefix"] != "ak_" || pk["start"] != p[:6] || pk["name"] != nil {
			t.Fatalf("prefixed key %v", pk)
		}

		g := c.do("GET", "/api/auth/api-key/get?id="+id, nil)
		expect(t, g, 200, "")
		if _, has := g.JSON["key"]; has || g.JSON["id"] != id || g.JSON["name"] != "ci" || len(g.JSON) != 21 {
			t.Fatalf("get answered %s", g.Raw)
		}
		expect(t, c.do("GET", "/api/auth/api-key/get", nil), 400, "VALIDATION_ERROR")
		expect(t, c.do("GET", "/api/auth/api-key/get?id=nope", nil), 404, "KEY_NOT_FOUND")

		other := e.client()
		signUp(t, other, "other@example.com", "password123")
		expect(t, other.do("GET", "/api/auth/api-key/get?id="+id, nil), 404, "KEY_NOT_FOUND")
		expect(t, other.do("POST", "/api/auth/api-key/update", map[string]any{"keyId": id, "name": "mine"}), 404, "KEY_NOT_FOUND")
		expect(t, other.do("POST", "/api/auth/api-key/delete", map[string]any{"keyId": id}), 404, "KEY_NOT_FOUND")
		if l := other.do("GET", "/api/auth/api-key/list", nil); l.Status != 200 || l.JSON["total"] != 0.0 || len(l.JSON["apiKeys"].([]any)) != 0 {
			t.Fatalf("other's list %s", l.Raw)
		}

		l := c.do("GET", "/api/auth/api-key/list", nil)
		expect(t, l, 200, "")
		if l.JSON["total"] != 2.0 || len(l.JSON["apiKeys"].([]any)) != 2 || len(l.JSON) != 2 {
			t.Fatalf("list answered %s", l.Raw)
		}
		for _, x := range l.JSON["apiKeys"].([]any) {
			if _, has := x.(map[string]any)["key"]; has {
				t.Fatalf("list shows a key: %s", l.Raw)
			}
		}
		l = c.do("GET", "/api/auth/api-key/list?limit=1&offset=1&sortBy=createdAt&sortDirection=desc", nil)
		if l.JSON["total"] != 2.0 || len(l.JSON["apiKeys"].([]any)) != 1 || l.JSON["limit"] != 1.0 || l.JSON["offset"] != 1.0 {
			t.Fatalf("paged list answered %s", l.Raw)
		}
		expect(t, c.do("GET", "/api/auth/api-key/list?limit=-1", nil), 400, "VALIDATION_ERROR")
		expect(t, c.do("GET", "/api/auth/api-key/list?sortDirection=up", nil), 400, "VALIDATION_ERROR")

		u := c.do("POST", "/api/auth/api-key/update", map[string]any{"keyId": id, "name": "renamed", "enabled": false, "expiresIn": nil})
		expect(t, u, 200, "")
		if u.JSON["name"] != "renamed" || u.JSON["enabled"] != false || u.JSON["expiresAt"] != nil {
			t.Fatalf("update answered %s", u.Raw)
		}
		if s := storedKey(t, st, id); s.Enabled == nil || *s.Enabled || s.ExpiresAt != nil {
			t.Fatalf("update stored %+v", s)
		}
		expect(t, c.do("POST", "/api/auth/api-key/update", map[string]any{"keyId": id}), 400, "NO_VALUES_TO_UPDATE")
		expect(t, c.do("POST", "/api/auth/api-key/update", map[string]any{"keyId": id, "remaining": 5}), 400, "SERVER_ONLY_PROPERTY")
		expect(t, c.do("POST", "/api/auth/api-key/update", map[string]any{"keyId": id, "name": ""}), 400, "INVALID_NAME_LENGTH")
		expect(t, c.do("POST", "/api/auth/api-key/update", map[string]any{"keyId": id, "userId": "someone"}), 401, "UNAUTHORIZED_SESSION")
		expect(t, c.do("POST", "/api/auth/api-key/update", map[string]any{"name": "x"}), 400, "VALIDATION_ERROR")

		expect(t, c.do("POST", "/api/auth/api-key/delete", map[string]any{}), 400, "VALIDATION_ERROR")
		d := c.do("POST", "/api/auth/api-key/delete", map[string]any{"keyId": id})
		expect(t, d, 200, "")
		if string(d.Raw) != `{"success":true}` {
			t.Fatalf("delete answered %s", d.Raw)
		}
		expect(t, c.do("GET", "/api/auth/api-key/get?id="+id, nil), 404, "KEY_NOT_FOUND")
		// verify is server-only in Better-Auth: not on the wire.
		expect(t, c.do("POST", "/api/auth/api-key/verify", map[string]any{"key": plain}), 404, "")
		// Without API_KEY_ENABLE_SESSION the header is ignored.
		if r := anon.do("GET", "/api/auth/get-session", nil, "x-api-key", pk["key"].(string)); string(r.Raw) != "null" {
			t.Fatalf("get-session by key with sessions off answered %s", r.Raw)
		}
	})
}

func countKeys(t *testing.T, st *store.Store) int {
	t.Helper()
	var n int
	if err := st.RawRow(context.Background(), &n, `select count(*) from "apikey"`); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAPIKeyMetadata(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		cfg := apikey.DefaultConfig()
		cfg.EnableMetadata = true
		e := apiKeyEnv(t, st, cfg)
		c := e.client()
		signUp(t, c, "meta@example.com", "password123")
		expect(t, c.do("POST", "/api/auth/api-key/create", map[string]any{"metadata": "text"}), 400, "INVALID_METADATA_TYPE")
		k := createKey(t, c, map[string]any{"metadata": map[string]any{"team": "ops", "n": 2}})
		if m, _ := k["metadata"].(map[string]any); m["team"] != "ops" || m["n"] != 2.0 {
			t.Fatalf("create metadata %v", k["metadata"])
		}
		g := c.do("GET", "/api/auth/api-key/get?id="+k["id"].(string), nil)
		if m, _ := g.JSON["metadata"].(map[string]any); m["team"] != "ops" {
			t.Fatalf("get metadata %s", g.Raw)
		}
		u := c.do("POST", "/api/auth/api-key/update", map[string]any{"keyId": k["id"], "metadata": map[string]any{"team": "dev"}})
		if m, _ := u.JSON["metadata"].(map[string]any); u.Status != 200 || m["team"] != "dev" {
			t.Fatalf("update metadata %s", u.Raw)
		}
	})
}

// keySession is a server whose keys act as sessions, with a small rate limit.
func keySession(t *testing.T, st *store.Store, mod ...func(*apikey.Config)) *contentEnv {
	cfg := apikey.DefaultConfig()
	cfg.SessionForKeys = true
	cfg.RateLimitMax = 3
	cfg.RateLimitWindow = time.Minute
	for _, f := range mod {
		f(&cfg)
	}
	return apiKeyEnv(t, st, cfg)
}

func TestAPIKeySession(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := keySession(t, st)
		c := e.client()
		uid := signUp(t, c, "bot@example.com", "password123").JSON["user"].(map[string]any)["id"].(string)
		k := createKey(t, c, map[string]any{"name": "bot", "expiresIn": 86400})
		plain, id := k["key"].(string), k["id"].(string)

		anon := e.client()
		g := anon.do("GET", "/api/auth/get-session", nil, "x-api-key", plain)
		expect(t, g, 200, "")
		sess, _ := g.JSON["session"].(map[string]any)
		user, _ := g.JSON["user"].(map[string]any)
		if sess["id"] != id || sess["token"] != plain || sess["userId"] != uid || user["email"] != "bot@example.com" ||
			sess["expiresAt"] != k["expiresAt"] || len(g.Header.Values("Set-Cookie")) != 0 {
			t.Fatalf("get-session by key answered %s (cookies %v)", g.Raw, g.Header.Values("Set-Cookie"))
		}
		// /content/* and the endpoints that need a session accept the key too.
		expect(t, anon.do("GET", "/content/feed", nil, "x-api-key", plain), 200, "")
		// The key's owner may manage keys by key; that is the third use of the window (3 a minute).
		if l := anon.do("GET", "/api/auth/api-key/list", nil, "x-api-key", plain); l.Status != 200 || l.JSON["total"] != 1.0 {
			t.Fatalf("list by key answered %s", l.Raw)
		}
		r := anon.do("GET", "/api/auth/api-key/list", nil, "x-api-key", plain)
		expect(t, r, 429, "RATE_LIMITED")
		if d, _ := r.JSON["details"].(map[string]any); r.JSON["message"] != "Rate limit exceeded." || d["tryAgainIn"] == nil || d["tryAgainIn"].(float64) <= 0 || d["tryAgainIn"].(float64) > 60000 {
			t.Fatalf("rate limited answered %s", r.Raw)
		}
		expect(t, anon.do("GET", "/content/feed", nil, "x-api-key", plain), 429, "RATE_LIMITED")
		if s := storedKey(t, st, id); s.RequestCount == nil || *s.RequestCount != 3 || s.LastRequest == nil {
			t.Fatalf("stored counters %+v", s)
		}
		e.clock.Advance(61 * time.Second)
		expect(t, anon.do("GET", "/api/auth/api-key/list", nil, "x-api-key", plain), 200, "")
		if s := storedKey(t, st, id); *s.RequestCount != 1 {
			t.Fatalf("a new window counts %d", *s.RequestCount)
		}

		// Refusals.
		expect(t, anon.do("GET", "/api/auth/get-session", nil, "x-api-key", "short"), 403, "INVALID_API_KEY")
		expect(t, anon.do("GET", "/content/feed", nil, "x-api-key", plain[:63]+"Z"+"extra"), 401, "INVALID_API_KEY")
		expect(t, c.do("POST", "/api/auth/api-key/update", map[string]any{"keyId": id, "enabled": false}), 200, "")
		expect(t, anon.do("GET", "/api/auth/get-session", nil, "x-api-key", plain), 401, "KEY_DISABLED")
		expect(t, anon.do("GET", "/content/feed", nil, "x-api-key", plain), 401, "KEY_DISABLED")
		expect(t, c.do("POST", "/api/auth/api-key/update", map[string]any{"keyId": id, "enabled": true}), 200, "")
		expect(t, anon.do("GET", "/content/feed", nil, "x-api-key", plain), 200, "")
		e.clock.Advance(24 * time.Hour)
		expect(t, anon.do("GET", "/api/auth/get-session", nil, "x-api-key", plain), 401, "KEY_EXPIRED")
		if n := countKeys(t, st); n != 0 {
			t.Fatalf("an expired key is deleted when presented; %d left", n)
		}
		expect(t, anon.do("GET", "/api/auth/get-session", nil, "x-api-key", plain), 401, "INVALID_API_KEY")
		// A cookie session is unaffected by the plugin.
		if g := c.do("GET", "/api/auth/get-session", nil); g.JSON["user"] == nil {
			t.Fatalf("cookie session answered %s", g.Raw)
		}
	})
}

func TestAPIKeyRemainingAndRefill(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := keySession(t, st, func(c *apikey.Config) { c.RateLimit = false })
		c := e.client()
		signUp(t, c, "quota@example.com", "password123")
		ctx := context.Background()

		// remaining and refill are server-only fields: the server's operator sets them.
		k := createKey(t, c, map[string]any{"name": "quota"})
		plain, id := k["key"].(string), k["id"].(string)
		if _, err := st.UpdateAPIKey(ctx, id, map[string]any{"remaining": 2, "refillAmount": 2, "refillInterval": 60000}, ""); err != nil {
			t.Fatal(err)
		}
		anon := e.client()
		expect(t, anon.do("GET", "/content/feed", nil, "x-api-key", plain), 200, "")
		expect(t, anon.do("GET", "/content/feed", nil, "x-api-key", plain), 200, "")
		expect(t, anon.do("GET", "/content/feed", nil, "x-api-key", plain), 429, "USAGE_EXCEEDED")
		if g := c.do("GET", "/api/auth/api-key/get?id="+id, nil); g.JSON["remaining"] != 0.0 {
			t.Fatalf("remaining after three uses: %s", g.Raw)
		}
		e.clock.Advance(61 * time.Second)
		expect(t, anon.do("GET", "/content/feed", nil, "x-api-key", plain), 200, "")
		g := c.do("GET", "/api/auth/api-key/get?id="+id, nil)
		if g.JSON["remaining"] != 1.0 || g.JSON["lastRefillAt"] == nil {
			t.Fatalf("after the refill: %s", g.Raw)
		}

		// A key without refill is deleted once its last use is spent and it is presented again.
		k2 := createKey(t, c, map[string]any{"name": "once"})
		if _, err := st.UpdateAPIKey(ctx, k2["id"].(string), map[string]any{"remaining": 1}, ""); err != nil {
			t.Fatal(err)
		}
		expect(t, anon.do("GET", "/api/auth/get-session", nil, "x-api-key", k2["key"].(string)), 200, "")
		expect(t, anon.do("GET", "/api/auth/get-session", nil, "x-api-key", k2["key"].(string)), 429, "USAGE_EXCEEDED")
		expect(t, c.do("GET", "/api/auth/api-key/get?id="+k2["id"].(string), nil), 404, "KEY_NOT_FOUND")
	})
}

// TestAPIKeyCacheInvalidation checks that a cached key stops working at once when it is deleted
// or disabled: on the same server, and on PostgreSQL on another server sharing the database,
// which hears of it through the database's notifications.
func TestAPIKeyCacheInvalidation(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		noLimit := func(c *apikey.Config) { c.RateLimit = false }
		a := keySession(t, st, noLimit)
		servers := []*contentEnv{a}
		if st.Dialect() == store.Postgres {
			b := keySession(t, st, noLimit)
			servers = append(servers, b)
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			for _, s := range servers {
				ready := make(chan struct{}, 1)
				go st.Listen(ctx, store.SessionChannel, s.sessions.HandleInvalidation, func(ok bool) {
					s.sessions.SetCacheHealthy(ok)
					if ok {
						select {
						case ready <- struct{}{}:
						default:
						}
					}
				})
				<-ready
			}
		}
		last := servers[len(servers)-1]
		owner := a.client()
		signUp(t, owner, "cache@example.com", "password123")
		for _, step := range []struct {
			name   string
			revoke func(id string)
			code   string
		}{
			{"disabled", func(id string) {
				expect(t, owner.do("POST", "/api/auth/api-key/update", map[string]any{"keyId": id, "enabled": false}), 200, "")
			}, "KEY_DISABLED"},
			{"deleted", func(id string) {
				expect(t, owner.do("POST", "/api/auth/api-key/delete", map[string]any{"keyId": id}), 200, "")
			}, "INVALID_API_KEY"},
		} {
			k := createKey(t, owner, map[string]any{"name": step.name})
			plain := k["key"].(string)
			user := last.client()
			for range 3 { // read into the cache, then served from it
				expect(t, user.do("GET", "/content/feed", nil, "x-api-key", plain), 200, "")
			}
			step.revoke(k["id"].(string))
			deadline := time.Now().Add(3 * time.Second)
			for {
				r := user.do("GET", "/content/feed", nil, "x-api-key", plain)
				if r.Status == 401 && r.code() == step.code {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s key still answered %d %s", step.name, r.Status, r.Raw)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	})
}

// An x-api-key session with the jwt plugin on: Better-Auth's api-key answers get-session from its
// before-hook, so jwt's after-hook never adds set-auth-jwt (nor exposes it); /token, an ordinary
// endpoint needing a session, mints the key owner's JWT.
func TestAPIKeySessionWithJWT(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		kc := apikey.DefaultConfig()
		kc.SessionForKeys = true
		ps := []plugin.Plugin{jwt.New(jwt.Config{Issuer: testBaseURL, Audience: []string{testBaseURL}}), apikey.New(kc)}
		if err := plugin.Install(context.Background(), st, ps); err != nil {
			t.Fatalf("plugin.Install: %v", err)
		}
		e := newEnv(t, st, func(o *envOptions) { o.auth.Plugins = ps })
		c := e.client()
		uid := signUp(t, c, "jwtbot@example.com", "password123").JSON["user"].(map[string]any)["id"].(string)
		if g := c.do("GET", "/api/auth/get-session", nil); g.Header.Get("set-auth-jwt") == "" {
			t.Fatalf("a cookie session's get-session has no set-auth-jwt: %v", g.Header)
		}
		plain := createKey(t, c, map[string]any{"name": "bot"})["key"].(string)

		anon := e.client()
		g := anon.do("GET", "/api/auth/get-session", nil, "x-api-key", plain)
		expect(t, g, 200, "")
		if g.JSON["user"].(map[string]any)["id"] != uid {
			t.Fatalf("get-session by key answered %s", g.Raw)
		}
		if h := g.Header.Get("set-auth-jwt"); h != "" || strings.Contains(g.Header.Get("Access-Control-Expose-Headers"), "set-auth-jwt") {
			t.Fatalf("get-session by key: set-auth-jwt %q, exposed %q; Better-Auth sends neither", h, g.Header.Get("Access-Control-Expose-Headers"))
		}
		tok := anon.do("GET", "/api/auth/token", nil, "x-api-key", plain)
		expect(t, tok, 200, "")
		set, _ := jwksOf(t, e, "/jwks")
		_, _, claims := verifyJWT(t, set, tok.JSON["token"].(string), jose.EdDSA)
		if claims["sub"] != uid || claims["email"] != "jwtbot@example.com" {
			t.Fatalf("/token by key: claims %v", claims)
		}
	})
}
