package web_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"authserver/auth/lastloginmethod"
	"authserver/auth/passkey"
	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store"
	"authserver/store/storetest"
)

const passkeyCookie = "better-auth.better-auth-passkey"

// passkeyEnv serves the passkey and last-login-method plugins, the relying party being the test
// server's base URL (localhost) with the trusted origin accepted too.
func passkeyEnv(t *testing.T, st *store.Store) *env {
	t.Helper()
	cfg, err := passkey.LoadConfig(func(string) string { return "" }, testBaseURL, []string{trusted}, "Test App")
	if err != nil {
		t.Fatal(err)
	}
	// The trusted origin is not on localhost: add it, as PASSKEY_ORIGINS would.
	cfg.Origins = append(cfg.Origins, trusted)
	ps := []plugin.Plugin{passkey.New(cfg), lastloginmethod.New(lastloginmethod.Config{CookieName: lastloginmethod.DefaultCookieName, MaxAge: lastloginmethod.DefaultMaxAge})}
	if err := plugin.Install(context.Background(), st, ps); err != nil {
		t.Fatalf("plugin.Install: %v", err)
	}
	return newEnv(t, st, func(o *envOptions) { o.auth.Plugins = ps })
}

var (
	challengePat = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	// A 32-character [a-z0-9] handle in base64url.
	userHandlePat = regexp.MustCompile(`^[a-z0-9]{32}$`)
)

// registerOptions asks for registration options and checks their shape.
func registerOptions(t *testing.T, c *client, query string) *response {
	t.Helper()
	r := c.do("GET", "/api/auth/passkey/generate-register-options"+query, nil)
	expect(t, r, 200, "")
	return r
}

// registerPasskey registers a new credential for c's user and returns the stored row's JSON.
func registerPasskey(t *testing.T, c *client, a *softAuthn, name string, cer ceremony) (map[string]any, *softCred) {
	t.Helper()
	opts := registerOptions(t, c, "")
	resp, cred := a.create(opts.JSON, cer)
	body := map[string]any{"response": resp}
	if name != "" {
		body["name"] = name
	}
	r := c.do("POST", "/api/auth/passkey/verify-registration", body)
	expect(t, r, 200, "")
	return r.JSON, cred
}

func authOptions(t *testing.T, c *client) map[string]any {
	t.Helper()
	r := c.do("GET", "/api/auth/passkey/generate-authenticate-options", nil)
	expect(t, r, 200, "")
	return r.JSON
}

// rawField returns the JSON text of an object's member as it was sent.
func rawField(t *testing.T, raw []byte, name string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return string(m[name])
}

// unescape undoes the percent-encoding of a cookie value.
func unescape(s string) string {
	v, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return v
}

func (e *env) passkeyCount(userID string) int {
	var n struct{ N int }
	if err := e.st.RawRow(context.Background(), &n, `select count(*) as n from "passkey" where "userId" = ?`, userID); err != nil {
		e.t.Fatal(err)
	}
	return n.N
}

func TestPasskeyRegisterListUpdateDelete(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := passkeyEnv(t, st)
		c := e.client()
		up := signUp(t, c, "alice@example.com", "password123")
		aliceID := up.JSON["user"].(map[string]any)["id"].(string)
		a := newSoftAuthn(t, trusted, "localhost")

		// Signed out: no options, no registration.
		expect(t, e.client().do("GET", "/api/auth/passkey/generate-register-options", nil), 401, "")
		expect(t, e.client().do("POST", "/api/auth/passkey/verify-registration", map[string]any{"response": map[string]any{}}), 401, "")
		expect(t, c.do("GET", "/api/auth/passkey/generate-register-options?authenticatorAttachment=usb", nil), 400, "VALIDATION_ERROR")

		opts := registerOptions(t, c, "?authenticatorAttachment=platform&name=Alice%27s%20phone&context=ctx-1")
		if got := strings.Join(jsonKeys(t, opts.Raw), ","); got != "challenge,rp,user,pubKeyCredParams,timeout,attestation,excludeCredentials,authenticatorSelection,extensions,hints" {
			t.Errorf("register options keys %s", got)
		}
		o := opts.JSON
		var rawOpts map[string]json.RawMessage
		if err := json.Unmarshal(opts.Raw, &rawOpts); err != nil {
			t.Fatal(err)
		}
		user := o["user"].(map[string]any)
		handle, _ := base64.RawURLEncoding.DecodeString(user["id"].(string))
		if !challengePat.MatchString(o["challenge"].(string)) || !userHandlePat.Match(handle) ||
			user["name"] != "Alice's phone" || user["displayName"] != "alice@example.com" {
			t.Errorf("register options %s", opts.Raw)
		}
		for k, want := range map[string]string{
			"rp":                     `{"name":"Test App","id":"localhost"}`,
			"pubKeyCredParams":       `[{"alg":-8,"type":"public-key"},{"alg":-7,"type":"public-key"},{"alg":-257,"type":"public-key"}]`,
			"timeout":                `60000`,
			"attestation":            `"none"`,
			"excludeCredentials":     `[]`,
			"authenticatorSelection": `{"residentKey":"preferred","userVerification":"preferred","authenticatorAttachment":"platform","requireResidentKey":false}`,
			"extensions":             `{"credProps":true}`,
			"hints":                  `[]`,
		} {
			if got := string(rawOpts[k]); got != want {
				t.Errorf("register options %s = %s, want %s", k, got, want)
			}
		}
		sc := opts.setCookies()[passkeyCookie]
		for _, attr := range []string{"Max-Age=300", "HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(sc, attr) {
				t.Errorf("challenge cookie %q lacks %s", sc, attr)
			}
		}
		ident, ok := session.Unsign([]byte(testSecret), unescape(c.cookieValue(passkeyCookie)))
		if !ok || len(ident) != 32 {
			t.Fatalf("challenge cookie value %q", c.cookieValue(passkeyCookie))
		}
		row, _ := e.verification(ident)
		wantRow := `{"type":"registration","expectedChallenge":"` + o["challenge"].(string) + `","userData":{"id":"` + aliceID +
			`","name":"alice@example.com","displayName":"alice@example.com"},"context":"ctx-1"}`
		if row != wantRow {
			t.Errorf("challenge row %s\nwant %s", row, wantRow)
		}

		// Answer those options with packed self-attestation and a name to trim.
		resp, cred := a.create(o, ceremony{Format: "packed", BackedUp: true})
		r := c.do("POST", "/api/auth/passkey/verify-registration", map[string]any{"response": resp, "name": "  Phone  "})
		expect(t, r, 200, "")
		if got := strings.Join(jsonKeys(t, r.Raw), ","); got != "name,publicKey,userId,credentialID,counter,deviceType,backedUp,transports,createdAt,aaguid,id" {
			t.Errorf("passkey keys %s", got)
		}
		pk := r.JSON
		if pk["name"] != "Phone" || pk["userId"] != aliceID || pk["credentialID"] != cred.IDString() || pk["counter"] != 0.0 ||
			pk["deviceType"] != "multiDevice" || pk["backedUp"] != true || pk["transports"] != "hybrid,internal" ||
			pk["aaguid"] != "00000000-0000-0000-0000-000000000000" || !jsDate.MatchString(pk["createdAt"].(string)) {
			t.Errorf("passkey %s", r.Raw)
		}
		if cose, err := base64.StdEncoding.DecodeString(pk["publicKey"].(string)); err != nil || len(cose) < 70 {
			t.Errorf("publicKey %q is not standard base64 COSE", pk["publicKey"])
		}
		if _, ok := e.verification(ident); ok {
			t.Error("the challenge row outlived its use")
		}
		// The same challenge again: consumed.
		resp2, _ := a.create(o, ceremony{})
		expect(t, c.do("POST", "/api/auth/passkey/verify-registration", map[string]any{"response": resp2}), 400, "CHALLENGE_NOT_FOUND")

		// A second passkey with attestation "none" and no name; the options now exclude the first.
		e.clock.Advance(time.Second) // listed after the first
		opts = registerOptions(t, c, "")
		if got := rawField(t, opts.Raw, "excludeCredentials"); got != `[{"id":"`+cred.IDString()+`","transports":["hybrid","internal"],"type":"public-key"}]` {
			t.Errorf("excludeCredentials %s", got)
		}
		if u := opts.JSON["user"].(map[string]any); u["name"] != "alice@example.com" {
			t.Errorf("user.name without ?name: %v", u["name"])
		}
		if got := rawField(t, opts.Raw, "authenticatorSelection"); got != `{"residentKey":"preferred","userVerification":"preferred","requireResidentKey":false}` {
			t.Errorf("authenticatorSelection %s", got)
		}
		resp, _ = a.create(opts.JSON, ceremony{})
		r = c.do("POST", "/api/auth/passkey/verify-registration", map[string]any{"response": resp})
		expect(t, r, 200, "")
		if r.JSON["name"] != nil || r.JSON["deviceType"] != "singleDevice" || r.JSON["backedUp"] != false {
			t.Errorf("second passkey %s", r.Raw)
		}
		second := r.JSON["id"].(string)

		l := c.do("GET", "/api/auth/passkey/list-user-passkeys", nil)
		expect(t, l, 200, "")
		if len(l.Array) != 2 || l.Array[0].(map[string]any)["id"] != pk["id"] || l.Array[1].(map[string]any)["id"] != second {
			t.Errorf("list %s", l.Raw)
		}
		expect(t, e.client().do("GET", "/api/auth/passkey/list-user-passkeys", nil), 401, "")

		// Bob cannot see, rename or delete Alice's passkeys.
		b := e.client()
		signUp(t, b, "bob@example.com", "password123")
		if l := b.do("GET", "/api/auth/passkey/list-user-passkeys", nil); l.Status != 200 || string(l.Raw) != "[]" {
			t.Errorf("bob's list %d %s", l.Status, l.Raw)
		}
		expect(t, b.do("POST", "/api/auth/passkey/update-passkey", map[string]any{"id": second, "name": "mine"}), 401, "YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY")
		del := b.do("POST", "/api/auth/passkey/delete-passkey", map[string]any{"id": second})
		if del.Status != 401 || len(del.Raw) != 0 {
			t.Errorf("bob's delete: %d %q, want 401 with no body", del.Status, del.Raw)
		}
		expect(t, b.do("POST", "/api/auth/passkey/update-passkey", map[string]any{"id": "nope", "name": "x"}), 404, "PASSKEY_NOT_FOUND")
		expect(t, b.do("POST", "/api/auth/passkey/delete-passkey", map[string]any{"id": "nope"}), 404, "PASSKEY_NOT_FOUND")
		expect(t, c.do("POST", "/api/auth/passkey/update-passkey", map[string]any{"id": second, "name": "   "}), 400, "VALIDATION_ERROR")
		expect(t, c.do("POST", "/api/auth/passkey/update-passkey", map[string]any{"id": second}), 400, "VALIDATION_ERROR")

		u := c.do("POST", "/api/auth/passkey/update-passkey", map[string]any{"id": second, "name": " Laptop "})
		expect(t, u, 200, "")
		if got := strings.Join(jsonKeys(t, u.Raw), ","); got != "passkey" || u.JSON["passkey"].(map[string]any)["name"] != "Laptop" {
			t.Errorf("update answer %s", u.Raw)
		}
		d := c.do("POST", "/api/auth/passkey/delete-passkey", map[string]any{"id": second})
		expect(t, d, 200, "")
		if string(d.Raw) != `{"status":true}` || e.passkeyCount(aliceID) != 1 {
			t.Errorf("delete answer %s, %d left", d.Raw, e.passkeyCount(aliceID))
		}

		// createSession: the row with a new session and its user, and the session cookie.
		before := e.sessionCount(aliceID)
		resp, _ = a.create(registerOptions(t, c, "").JSON, ceremony{})
		r = c.do("POST", "/api/auth/passkey/verify-registration", map[string]any{"response": resp, "createSession": true})
		expect(t, r, 200, "")
		if got := strings.Join(jsonKeys(t, r.Raw), ","); got != "name,publicKey,userId,credentialID,counter,deviceType,backedUp,transports,createdAt,aaguid,id,session,user" {
			t.Errorf("createSession answer keys %s", got)
		}
		if tok := r.JSON["session"].(map[string]any)["token"]; tok == nil || c.cookieValue("better-auth.session_token") == "" ||
			!strings.HasPrefix(unescape(c.cookieValue("better-auth.session_token")), tok.(string)+".") || e.sessionCount(aliceID) != before+1 {
			t.Errorf("createSession: %s, cookie %q", r.Raw, c.cookieValue("better-auth.session_token"))
		}
		if _, set := r.setCookies()[lastloginmethod.DefaultCookieName]; set {
			t.Error("registration set the last-login-method cookie")
		}
		expect(t, c.do("POST", "/api/auth/passkey/delete-passkey", map[string]any{"id": r.JSON["id"]}), 200, "")

		// A registration challenge is its user's: Bob cannot finish Alice's.
		opts = registerOptions(t, c, "")
		resp, _ = a.create(opts.JSON, ceremony{})
		expect(t, b.do("POST", "/api/auth/passkey/verify-registration", map[string]any{"response": resp}, "Cookie",
			passkeyCookie+"="+c.cookieValue(passkeyCookie)), 401, "YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY")
		if e.passkeyCount(aliceID) != 1 {
			t.Error("bob's attempt stored a passkey")
		}

		// A session older than the fresh age may not register.
		e.clock.Advance(25 * time.Hour)
		expect(t, c.do("GET", "/api/auth/passkey/generate-register-options", nil), 403, "SESSION_NOT_FRESH")
	})
}

func TestPasskeyRegistrationRefusals(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := passkeyEnv(t, st)
		c := e.client()
		id := signUp(t, c, "alice@example.com", "password123").JSON["user"].(map[string]any)["id"].(string)
		a := newSoftAuthn(t, trusted, "localhost")

		for _, tc := range []struct {
			name string
			cer  ceremony
		}{
			{"wrong challenge", ceremony{Challenge: b64url(make([]byte, 32))}},
			{"wrong origin", ceremony{Origin: "https://evil.example"}},
			{"wrong RP id", ceremony{RPID: "evil.example"}},
			{"wrong type", ceremony{Type: "webauthn.get"}},
			{"no user presence", ceremony{NoPresence: true}},
			{"bad packed signature", ceremony{Format: "packed", WrongKey: true}},
		} {
			opts := registerOptions(t, c, "")
			resp, _ := a.create(opts.JSON, tc.cer)
			r := c.do("POST", "/api/auth/passkey/verify-registration", map[string]any{"response": resp})
			if r.Status != 500 || r.code() != "FAILED_TO_VERIFY_REGISTRATION" || r.JSON["message"] != "Failed to verify registration" {
				t.Errorf("%s: %d %s", tc.name, r.Status, r.Raw)
			}
			// The challenge is spent even though the attempt failed.
			good, _ := a.create(opts.JSON, ceremony{})
			expect(t, c.do("POST", "/api/auth/passkey/verify-registration", map[string]any{"response": good}), 400, "CHALLENGE_NOT_FOUND")
		}

		// rawId that is not id, and a response that is no credential at all.
		opts := registerOptions(t, c, "")
		resp, _ := a.create(opts.JSON, ceremony{})
		resp["rawId"] = b64url([]byte("another id"))
		if r := c.do("POST", "/api/auth/passkey/verify-registration", map[string]any{"response": resp}); r.Status != 500 || r.code() != "FAILED_TO_VERIFY_REGISTRATION" {
			t.Errorf("rawId != id: %d %s", r.Status, r.Raw)
		}
		registerOptions(t, c, "")
		if r := c.do("POST", "/api/auth/passkey/verify-registration", map[string]any{"response": "garbage"}); r.Status != 500 || r.code() != "FAILED_TO_VERIFY_REGISTRATION" {
			t.Errorf("garbage response: %d %s", r.Status, r.Raw)
		}

		// No cookie (a second browser of Alice's), a forged cookie, authentication's challenge.
		resp, _ = a.create(registerOptions(t, c, "").JSON, ceremony{})
		c2 := e.client()
		expect(t, c2.do("POST", "/api/auth/sign-in/email", map[string]any{"email": "alice@example.com", "password": "password123"}), 200, "")
		expect(t, c2.do("POST", "/api/auth/passkey/verify-registration", map[string]any{"response": resp}), 400, "CHALLENGE_NOT_FOUND")
		expect(t, c2.do("POST", "/api/auth/passkey/verify-registration", map[string]any{"response": resp}, "Cookie",
			passkeyCookie+"="+session2Cookie(t, "another secret", "x")), 400, "CHALLENGE_NOT_FOUND")
		authOptions(t, c)
		expect(t, c.do("POST", "/api/auth/passkey/verify-registration", map[string]any{"response": resp}), 400, "CHALLENGE_NOT_FOUND")

		// A credential already registered is not registered twice.
		_, cred := registerPasskey(t, c, a, "", ceremony{})
		resp, _ = a.create(registerOptions(t, c, "").JSON, ceremony{Cred: cred})
		if r := c.do("POST", "/api/auth/passkey/verify-registration", map[string]any{"response": resp}); r.Status != 500 || r.code() != "FAILED_TO_VERIFY_REGISTRATION" {
			t.Errorf("credential registered twice: %d %s", r.Status, r.Raw)
		}
		if n := e.passkeyCount(id); n != 1 {
			t.Errorf("passkeys after refusals: %d, want 1", n)
		}
	})
}

// session2Cookie signs value with another secret, as a forged cookie would be.
func session2Cookie(t *testing.T, secret, value string) string {
	t.Helper()
	return session.EncodeURIComponent(session.Sign([]byte(secret), value))
}

func TestPasskeySignIn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := passkeyEnv(t, st)
		c := e.client()
		id := signUp(t, c, "alice@example.com", "password123").JSON["user"].(map[string]any)["id"].(string)
		a := newSoftAuthn(t, trusted, "localhost")
		pk, cred := registerPasskey(t, c, a, "Phone", ceremony{})

		// Signed in with passkeys: allowCredentials names them. Signed out: absent.
		or := c.do("GET", "/api/auth/passkey/generate-authenticate-options", nil)
		expect(t, or, 200, "")
		o := or.JSON
		if got := strings.Join(jsonKeys(t, or.Raw), ","); got != "rpId,challenge,allowCredentials,timeout,userVerification" {
			t.Errorf("signed-in options keys %s", got)
		}
		if got := rawField(t, or.Raw, "allowCredentials"); got != `[{"id":"`+cred.IDString()+`","transports":["hybrid","internal"],"type":"public-key"}]` {
			t.Errorf("allowCredentials %s", got)
		}
		b := e.client()
		raw := b.do("GET", "/api/auth/passkey/generate-authenticate-options", nil)
		expect(t, raw, 200, "")
		if got := strings.Join(jsonKeys(t, raw.Raw), ","); got != "rpId,challenge,timeout,userVerification" {
			t.Errorf("discoverable options keys %s", got)
		}
		if raw.JSON["rpId"] != "localhost" || raw.JSON["timeout"] != 60000.0 || raw.JSON["userVerification"] != "preferred" || !challengePat.MatchString(raw.JSON["challenge"].(string)) {
			t.Errorf("options %s", raw.Raw)
		}
		ident, _ := session.Unsign([]byte(testSecret), unescape(b.cookieValue(passkeyCookie)))
		if row, _ := e.verification(ident); row != `{"type":"authentication","expectedChallenge":"`+raw.JSON["challenge"].(string)+`","userData":{"id":""}}` {
			t.Errorf("authentication row %s", row)
		}
		// A signed-in user without passkeys gets no allowCredentials either.
		d := e.client()
		signUp(t, d, "dora@example.com", "password123")
		if _, has := authOptions(t, d)["allowCredentials"]; has {
			t.Error("allowCredentials for a user without passkeys")
		}

		// Discoverable sign-in from a fresh browser.
		sessions := e.sessionCount(id)
		r := b.do("POST", "/api/auth/passkey/verify-authentication", map[string]any{"response": a.get(raw.JSON, cred, ceremony{})})
		expect(t, r, 200, "")
		if got := strings.Join(jsonKeys(t, r.Raw), ","); got != "session,user" {
			t.Errorf("sign-in answer keys %s", got)
		}
		sess := r.JSON["session"].(map[string]any)
		if sess["userId"] != id || r.JSON["user"].(map[string]any)["email"] != "alice@example.com" || e.sessionCount(id) != sessions+1 {
			t.Errorf("sign-in answer %s", r.Raw)
		}
		setc := r.setCookies()
		if !strings.Contains(setc["better-auth.session_token"], "HttpOnly") || !strings.Contains(setc[lastloginmethod.DefaultCookieName], "=passkey;") {
			t.Errorf("sign-in cookies %v", r.Header.Values("Set-Cookie"))
		}
		if g := b.do("GET", "/api/auth/get-session", nil); g.JSON["session"] == nil || g.JSON["session"].(map[string]any)["token"] != sess["token"] {
			t.Errorf("get-session after passkey sign-in: %s", g.Raw)
		}
		var counter struct{ Counter int64 }
		if err := e.st.RawRow(context.Background(), &counter, `select "counter" from "passkey" where "id" = ?`, pk["id"]); err != nil || counter.Counter != 1 {
			t.Errorf("stored counter %d (%v)", counter.Counter, err)
		}
		// The challenge is spent.
		expect(t, b.do("POST", "/api/auth/passkey/verify-authentication", map[string]any{"response": a.get(raw.JSON, cred, ceremony{})}), 400, "CHALLENGE_NOT_FOUND")

		// With allowCredentials, signed in already (the current session plays no part).
		r = c.do("POST", "/api/auth/passkey/verify-authentication", map[string]any{"response": a.get(o, cred, ceremony{})})
		expect(t, r, 200, "")
	})
}

func TestPasskeySignInRefusals(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := passkeyEnv(t, st)
		c := e.client()
		id := signUp(t, c, "alice@example.com", "password123").JSON["user"].(map[string]any)["id"].(string)
		a := newSoftAuthn(t, trusted, "localhost")
		_, cred := registerPasskey(t, c, a, "", ceremony{})
		sessions := e.sessionCount(id)
		zero := uint32(0)

		b := e.client()
		for _, tc := range []struct {
			name   string
			cer    ceremony
			status int
		}{
			{"wrong challenge", ceremony{Challenge: b64url(make([]byte, 32))}, 400},
			{"wrong origin", ceremony{Origin: "http://localhost:9999"}, 400},
			{"wrong RP id", ceremony{RPID: "example.com"}, 400},
			{"wrong type", ceremony{Type: "webauthn.create"}, 400},
			{"no user presence", ceremony{NoPresence: true}, 400},
			{"signature by another key", ceremony{WrongKey: true}, 401},
			{"signature not DER", ceremony{NotDER: true}, 400},
		} {
			o := authOptions(t, b)
			r := b.do("POST", "/api/auth/passkey/verify-authentication", map[string]any{"response": a.get(o, cred, tc.cer)})
			if r.Status != tc.status || r.code() != "AUTHENTICATION_FAILED" || r.JSON["message"] != "Authentication failed" {
				t.Errorf("%s: %d %s", tc.name, r.Status, r.Raw)
			}
			// Spent, failed or not.
			expect(t, b.do("POST", "/api/auth/passkey/verify-authentication", map[string]any{"response": a.get(o, cred, ceremony{})}), 400, "CHALLENGE_NOT_FOUND")
		}

		// The counter must grow once it is in use: accept 5, then refuse 5 and 3, then accept 6.
		five, three := uint32(5), uint32(3)
		expect(t, b.do("POST", "/api/auth/passkey/verify-authentication", map[string]any{"response": a.get(authOptions(t, b), cred, ceremony{Counter: &five})}), 200, "")
		expect(t, b.do("POST", "/api/auth/passkey/verify-authentication", map[string]any{"response": a.get(authOptions(t, b), cred, ceremony{Counter: &five})}), 400, "AUTHENTICATION_FAILED")
		expect(t, b.do("POST", "/api/auth/passkey/verify-authentication", map[string]any{"response": a.get(authOptions(t, b), cred, ceremony{Counter: &three})}), 400, "AUTHENTICATION_FAILED")
		expect(t, b.do("POST", "/api/auth/passkey/verify-authentication", map[string]any{"response": a.get(authOptions(t, b), cred, ceremony{Counter: &zero})}), 400, "AUTHENTICATION_FAILED")
		six := uint32(6)
		expect(t, b.do("POST", "/api/auth/passkey/verify-authentication", map[string]any{"response": a.get(authOptions(t, b), cred, ceremony{Counter: &six})}), 200, "")
		if n := e.sessionCount(id); n != sessions+2 {
			t.Errorf("sessions %d, want %d: a refused sign-in made one", n, sessions+2)
		}

		// An authenticator without a counter (always 0) passes again and again.
		_, flat := registerPasskey(t, c, a, "", ceremony{})
		for range 2 {
			expect(t, b.do("POST", "/api/auth/passkey/verify-authentication", map[string]any{"response": a.get(authOptions(t, b), flat, ceremony{Counter: &zero})}), 200, "")
		}

		// Unknown credential; no cookie; forged cookie; registration's challenge; no response.
		stranger := &softCred{ID: []byte("unknown credential"), Key: cred.Key}
		expect(t, b.do("POST", "/api/auth/passkey/verify-authentication", map[string]any{"response": a.get(authOptions(t, b), stranger, ceremony{})}), 401, "PASSKEY_NOT_FOUND")
		resp := a.get(authOptions(t, b), cred, ceremony{})
		expect(t, e.client().do("POST", "/api/auth/passkey/verify-authentication", map[string]any{"response": resp}), 400, "CHALLENGE_NOT_FOUND")
		expect(t, e.client().do("POST", "/api/auth/passkey/verify-authentication", map[string]any{"response": resp}, "Cookie",
			passkeyCookie+"="+session2Cookie(t, "another secret", "abc")), 400, "CHALLENGE_NOT_FOUND")
		registerOptions(t, c, "")
		expect(t, c.do("POST", "/api/auth/passkey/verify-authentication", map[string]any{"response": a.get(authOptions(t, b), cred, ceremony{})}), 400, "CHALLENGE_NOT_FOUND")
		expect(t, b.do("POST", "/api/auth/passkey/verify-authentication", map[string]any{}), 400, "VALIDATION_ERROR")
		expect(t, b.do("POST", "/api/auth/passkey/verify-authentication", map[string]any{"response": "x"}), 400, "VALIDATION_ERROR")
	})
}
