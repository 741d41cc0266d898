package web_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"authserver/auth/atrest"
	"authserver/auth/jwt"
	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store"
	"authserver/store/storetest"
)

func jwtEnv(t *testing.T, st *store.Store, cfg jwt.Config) *env {
	t.Helper()
	if cfg.Issuer == "" {
		cfg.Issuer = testBaseURL
	}
	if len(cfg.Audience) == 0 {
		cfg.Audience = []string{testBaseURL}
	}
	ps := []plugin.Plugin{jwt.New(cfg)}
	if err := plugin.Install(context.Background(), st, ps); err != nil {
		t.Fatalf("plugin.Install: %v", err)
	}
	return newEnv(t, st, func(o *envOptions) { o.auth.Plugins = ps })
}

// jwksOf fetches the key set as a verifier would.
func jwksOf(t *testing.T, e *env, path string) (jose.JSONWebKeySet, *response) {
	t.Helper()
	r := e.client().do("GET", "/api/auth"+path, nil)
	expect(t, r, 200, "")
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(r.Raw, &set); err != nil {
		t.Fatalf("jwks %s: %v", r.Raw, err)
	}
	return set, r
}

// verifyJWT checks tok as another backend would: the key by kid from the JWKS, the alg the JWK
// names, then the claims. It returns the kid, the protected header and the claims.
func verifyJWT(t *testing.T, set jose.JSONWebKeySet, tok string, alg jose.SignatureAlgorithm) (string, map[string]any, map[string]any) {
	t.Helper()
	parsed, err := josejwt.ParseSigned(tok, []jose.SignatureAlgorithm{alg})
	if err != nil {
		t.Fatalf("parse %q: %v", tok, err)
	}
	kid := parsed.Headers[0].KeyID
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("kid %q is not in the JWKS", kid)
	}
	if keys[0].Algorithm != string(alg) {
		t.Fatalf("JWKS names alg %q for %s, want %s", keys[0].Algorithm, kid, alg)
	}
	claims := map[string]any{}
	if err := parsed.Claims(keys[0].Key, &claims); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	hb, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	header := map[string]any{}
	_ = json.Unmarshal(hb, &header)
	return kid, header, claims
}

func TestJWTTokenJWKSAndHeader(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := jwtEnv(t, st, jwt.Config{})
		anon := e.client()
		expect(t, anon.do("GET", "/api/auth/token", nil), 401, "UNAUTHORIZED")
		if g := anon.do("GET", "/api/auth/get-session", nil); string(g.Raw) != "null" || g.Header.Get("set-auth-jwt") != "" {
			t.Fatalf("signed-out get-session: %s, set-auth-jwt %q", g.Raw, g.Header.Get("set-auth-jwt"))
		}
		c := e.client()
		signUp(t, c, "jay@example.com", "password123")
		expect(t, c.do("POST", "/api/auth/token", nil), 404, "")

		r := c.do("GET", "/api/auth/token", nil)
		expect(t, r, 200, "")
		tok, _ := r.JSON["token"].(string)
		if len(r.JSON) != 1 || tok == "" {
			t.Fatalf("/token answered %s", r.Raw)
		}
		set, jr := jwksOf(t, e, "/jwks")
		var doc struct{ Keys []map[string]any }
		_ = json.Unmarshal(jr.Raw, &doc)
		if len(doc.Keys) != 1 || !strings.HasPrefix(string(jr.Raw), `{"keys":[{"alg":"EdDSA","crv":"Ed25519","x":"`) || !strings.HasSuffix(string(jr.Raw), `","kty":"OKP","kid":"`+set.Keys[0].KeyID+`"}]}`) {
			t.Fatalf("jwks %s", jr.Raw)
		}
		kid, header, claims := verifyJWT(t, set, tok, jose.EdDSA)
		if !reflect.DeepEqual(header, map[string]any{"alg": "EdDSA", "kid": kid}) {
			t.Fatalf("header %v: Better-Auth's is {alg, kid}, no typ", header)
		}

		// The claims are the user as get-session prints it, plus iat, sub, exp, iss and aud.
		g := c.do("GET", "/api/auth/get-session", nil)
		expect(t, g, 200, "")
		user := g.JSON["user"].(map[string]any)
		want := map[string]any{}
		for k, v := range user {
			want[k] = v
		}
		now := float64(e.clock.Now().Unix())
		want["iat"], want["exp"], want["sub"] = now, now+900, user["id"]
		want["iss"], want["aud"] = testBaseURL, testBaseURL
		if !reflect.DeepEqual(claims, want) {
			t.Fatalf("claims\n got %v\nwant %v", claims, want)
		}
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
		if !strings.HasPrefix(string(payload), `{"iat":`) || !strings.HasSuffix(string(payload), `"exp":`+jsonNum(now+900)+`,"iss":"`+testBaseURL+`","aud":"`+testBaseURL+`"}`) {
			t.Fatalf("payload order: %s", payload)
		}

		// get-session carries a fresh JWT for the same key and exposes the header; a request
		// without Origin gets exactly Better-Auth's expose list.
		hj := g.Header.Get("set-auth-jwt")
		if _, _, hc := verifyJWT(t, set, hj, jose.EdDSA); hc["sub"] != user["id"] {
			t.Fatalf("set-auth-jwt claims %v", hc)
		}
		if exp := g.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(exp, "set-auth-jwt") {
			t.Fatalf("Access-Control-Expose-Headers %q", exp)
		}
		noOrigin := c.do("GET", "/api/auth/get-session", nil, "Origin", "")
		if noOrigin.Header.Get("Access-Control-Expose-Headers") != "set-auth-jwt" || noOrigin.Header.Get("set-auth-jwt") == "" {
			t.Fatalf("without Origin: expose %q", noOrigin.Header.Get("Access-Control-Expose-Headers"))
		}

		// The key row is Better-Auth's: public JWK text, the private one encrypted with the
		// secret as a JSON string, alg and crv set, no expiry.
		rows, err := st.Jwks(context.Background())
		if err != nil || len(rows) != 1 {
			t.Fatalf("rows %v %v", rows, err)
		}
		row := rows[0]
		if row.ID != kid || row.ExpiresAt != nil || *row.Alg != "EdDSA" || *row.Crv != "Ed25519" || !strings.HasPrefix(row.PublicKey, `{"crv":"Ed25519","x":"`) {
			t.Fatalf("row %+v", row)
		}
		var sealed string
		if err := json.Unmarshal([]byte(row.PrivateKey), &sealed); err != nil {
			t.Fatalf("privateKey %q is not a JSON string", row.PrivateKey)
		}
		plain, err := atrest.Decrypt(session.SingleKey([]byte(testSecret)), sealed)
		if err != nil || !strings.HasPrefix(plain, `{"crv":"Ed25519","d":"`) || strings.Contains(row.PrivateKey, `"d"`) {
			t.Fatalf("private key: %v %q", err, plain)
		}

		// A token expires after 15 minutes; a signed-out caller never gets one.
		e.clock.Advance(16 * time.Minute)
		parsed, _ := josejwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.EdDSA})
		var std josejwt.Claims
		_ = parsed.Claims(set.Keys[0].Key, &std)
		if err := std.ValidateWithLeeway(josejwt.Expected{Issuer: testBaseURL, AnyAudience: josejwt.Audience{testBaseURL}, Time: e.clock.Now()}, 0); err == nil {
			t.Fatal("a 16-minute-old token still validates")
		}
		c.do("POST", "/api/auth/sign-out", map[string]any{})
		expect(t, c.do("GET", "/api/auth/token", nil), 401, "UNAUTHORIZED")
	})
}

func jsonNum(f float64) string { b, _ := json.Marshal(f); return string(b) }

// Each algorithm Better-Auth offers signs tokens that verify against the published key.
func TestJWTAlgorithms(t *testing.T) {
	for _, alg := range []string{jwt.ES256, jwt.ES512, jwt.RS256, jwt.PS256} {
		t.Run(alg, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, st *store.Store) {
				e := jwtEnv(t, st, jwt.Config{Alg: alg})
				c := e.client()
				signUp(t, c, "alg@example.com", "password123")
				r := c.do("GET", "/api/auth/token", nil)
				expect(t, r, 200, "")
				set, jr := jwksOf(t, e, "/jwks")
				kid, header, claims := verifyJWT(t, set, r.JSON["token"].(string), jose.SignatureAlgorithm(alg))
				if header["alg"] != alg || claims["email"] != "alg@example.com" {
					t.Fatalf("header %v claims %v", header, claims)
				}
				var want string
				switch alg {
				case jwt.ES256:
					want = `{"keys":[{"alg":"ES256","crv":"P-256","kty":"EC","x":"`
				case jwt.ES512:
					want = `{"keys":[{"alg":"ES512","crv":"P-521","kty":"EC","x":"`
				default:
					want = `{"keys":[{"alg":"` + alg + `","kty":"RSA","n":"`
				}
				if !strings.HasPrefix(string(jr.Raw), want) || !strings.HasSuffix(string(jr.Raw), `"kid":"`+kid+`"}]}`) {
					t.Fatalf("jwks %s", jr.Raw)
				}
			})
		})
	}
}

// With a rotation interval a key signs until it expires, then a new one is minted; the old one
// stays in the JWKS for the grace period, so tokens it signed still verify, and then drops out.
func TestJWTRotation(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := jwtEnv(t, st, jwt.Config{RotationInterval: time.Hour, GracePeriod: 2 * time.Hour})
		c := e.client()
		signUp(t, c, "rot@example.com", "password123")
		token := func() string {
			r := c.do("GET", "/api/auth/token", nil)
			expect(t, r, 200, "")
			return r.JSON["token"].(string)
		}
		kids := func() []string {
			set, _ := jwksOf(t, e, "/jwks")
			var out []string
			for _, k := range set.Keys {
				out = append(out, k.KeyID)
			}
			return out
		}
		t1 := token()
		set, _ := jwksOf(t, e, "/jwks")
		k1, _, _ := verifyJWT(t, set, t1, jose.EdDSA)
		rows, _ := st.Jwks(context.Background())
		if len(rows) != 1 || rows[0].ExpiresAt == nil || !rows[0].ExpiresAt.Equal(rows[0].CreatedAt.Add(time.Hour)) {
			t.Fatalf("rows %+v: the key must expire an hour after it was made", rows)
		}

		e.clock.Advance(59 * time.Minute)
		if k, _, _ := verifyJWT(t, set, token(), jose.EdDSA); k != k1 {
			t.Fatalf("a live key was replaced: %s → %s", k1, k)
		}
		e.clock.Advance(2 * time.Minute) // 1h01: k1 expired
		t2 := token()
		set2, _ := jwksOf(t, e, "/jwks")
		k2, _, _ := verifyJWT(t, set2, t2, jose.EdDSA)
		if k2 == k1 {
			t.Fatal("an expired key still signs")
		}
		if got := kids(); !reflect.DeepEqual(got, []string{k1, k2}) {
			t.Fatalf("jwks in the grace period %v, want both [%s %s]", got, k1, k2)
		}
		verifyJWT(t, set2, t1, jose.EdDSA) // the old token still verifies against the new JWKS

		e.clock.Advance(2 * time.Hour) // 3h01: k1 past expiry + grace; k2 expired at 2h01
		if got := kids(); !reflect.DeepEqual(got, []string{k2}) {
			t.Fatalf("jwks after k1's grace period %v, want [%s]", got, k2)
		}
		t3 := token()
		set3, _ := jwksOf(t, e, "/jwks")
		k3, _, _ := verifyJWT(t, set3, t3, jose.EdDSA)
		if k3 == k2 || len(set3.Keys) != 2 {
			t.Fatalf("k3 %s, jwks %d keys", k3, len(set3.Keys))
		}
		if rows, _ := st.Jwks(context.Background()); len(rows) != 3 {
			t.Fatalf("%d rows: keys are never deleted", len(rows))
		}
	})
}

// The options that change the wire: the JWKS path, issuer, audience list, token life, and no
// header on get-session.
func TestJWTOptions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := jwtEnv(t, st, jwt.Config{JWKSPath: "/.well-known/jwks.json", Issuer: "https://issuer.example.com",
			Audience: []string{"https://api.example.com"}, AudienceList: true, ExpiresIn: time.Hour, DisableSettingJwtHeader: true})
		c := e.client()
		signUp(t, c, "opt@example.com", "password123")
		g := c.do("GET", "/api/auth/get-session", nil)
		if g.Header.Get("set-auth-jwt") != "" || strings.Contains(g.Header.Get("Access-Control-Expose-Headers"), "set-auth-jwt") {
			t.Fatal("set-auth-jwt set although disabled")
		}
		expect(t, e.client().do("GET", "/api/auth/jwks", nil), 404, "")
		r := c.do("GET", "/api/auth/token", nil)
		expect(t, r, 200, "")
		set, _ := jwksOf(t, e, "/.well-known/jwks.json")
		_, _, claims := verifyJWT(t, set, r.JSON["token"].(string), jose.EdDSA)
		if claims["iss"] != "https://issuer.example.com" || !reflect.DeepEqual(claims["aud"], []any{"https://api.example.com"}) ||
			claims["exp"].(float64)-claims["iat"].(float64) != 3600 {
			t.Fatalf("claims %v", claims)
		}
	})
}
