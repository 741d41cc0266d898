package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"authserver/auth/atrest"
	"authserver/session"
)

// symmetricEncrypt and symmetricDecrypt are Better-Auth's functions with a plain string key.
func symmetricEncrypt(secret []byte, plaintext string) (string, error) {
	return atrest.Encrypt(session.SingleKey(secret), plaintext)
}

func symmetricDecrypt(secret []byte, data string) (string, error) {
	return atrest.Decrypt(session.SingleKey(secret), data)
}

// During a rotation the link session token's purpose key is derived per version: a value sealed
// before the rotation (legacy secret) still opens, and new ones carry the current version.
func TestPurposeKeysDuringRotation(t *testing.T) {
	keys, err := session.ParseSecrets("2:rotated-secret-0123456789abcdef0123456789", []byte(vectorSecret))
	if err != nil {
		t.Fatal(err)
	}
	pk := purposeKeys(keys, linkSessionTokenPurpose)
	got, err := atrest.Decrypt(pk, "394d03fca376553825efffb6e08a0249541a0a8a67b70dd0c3d0e0fcd07cdf3cb7416659fed2b06a06466b14448b9133c6a2b93eb70f18733ad06a7d0ebb33a4db9a14af437bc476")
	if err != nil || got != "Oa4vWTxnHehZJQRwLtpsbOW8uJEctD9c" {
		t.Fatalf("legacy link session token = %q, %v", got, err)
	}
	sealed, err := atrest.Encrypt(pk, "tok")
	if err != nil || !strings.HasPrefix(sealed, "$ba$2$") {
		t.Fatalf("sealed = %q, %v", sealed, err)
	}
	if _, err := atrest.Decrypt(keys, sealed); err == nil {
		t.Error("a purpose-key value opened with the bare secret")
	}
}

const vectorSecret = "test-secret-0123456789abcdef0123456789abcdef"

// Ciphertexts produced by better-auth 1.7.25's symmetricEncrypt and derivePurposeKey (node,
// @noble/ciphers) with vectorSecret, so a token either server stores is readable by the other.
func TestSymmetricDecryptReadsBetterAuthCiphertexts(t *testing.T) {
	got, err := symmetricDecrypt([]byte(vectorSecret), "e2f63e8e015bf7565f583ffb84e48a2637d7de80a8bc228b03fd2fe979fc8daf7ac37df92e1dbfe6b74edfa26535d099cf01878d9defb0696e")
	if err != nil || got != "ya29.access-token" {
		t.Fatalf("symmetricDecrypt(node ciphertext) = %q, %v; want ya29.access-token", got, err)
	}
	key := purposeKey([]byte(vectorSecret), linkSessionTokenPurpose)
	if string(key) != "d7eab44d9d2c181be3f23e42375f032273c56dc36826b35964733389357fc27b" {
		t.Fatalf("purposeKey = %s, want node's derivePurposeKey output", key)
	}
	got, err = symmetricDecrypt(key, "394d03fca376553825efffb6e08a0249541a0a8a67b70dd0c3d0e0fcd07cdf3cb7416659fed2b06a06466b14448b9133c6a2b93eb70f18733ad06a7d0ebb33a4db9a14af437bc476")
	if err != nil || got != "Oa4vWTxnHehZJQRwLtpsbOW8uJEctD9c" {
		t.Fatalf("symmetricDecrypt(link session token) = %q, %v", got, err)
	}
}

func TestSymmetricEncryptRoundTrip(t *testing.T) {
	enc, err := symmetricEncrypt([]byte(vectorSecret), "refresh-token")
	if err != nil {
		t.Fatal(err)
	}
	if !isLikelyEncrypted(enc) || len(enc) != 2*(24+len("refresh-token")+16) {
		t.Fatalf("ciphertext %q is not nonce||sealed in lowercase hex", enc)
	}
	if got, err := symmetricDecrypt([]byte(vectorSecret), enc); err != nil || got != "refresh-token" {
		t.Fatalf("round trip = %q, %v", got, err)
	}
	if _, err := symmetricDecrypt([]byte("another secret"), enc); err == nil {
		t.Fatal("decrypted with the wrong secret")
	}
	if _, err := symmetricDecrypt([]byte(vectorSecret), "$ba$2$"+enc); err == nil {
		t.Fatal("a versioned ciphertext was accepted without its key")
	}
	for _, tc := range []struct {
		in   string
		want bool
	}{{"ya29.a0AfH6SM", false}, {"abc", false}, {"00ff", true}, {"$ba$1$00", true}} {
		if got := isLikelyEncrypted(tc.in); got != tc.want {
			t.Errorf("isLikelyEncrypted(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestRandomURLSafe(t *testing.T) {
	s := randomURLSafe(128)
	if len(s) != 128 || strings.Trim(s, urlSafeAlphabet) != "" {
		t.Fatalf("randomURLSafe(128) = %q", s)
	}
}

func testSocial(t *testing.T) *Social {
	t.Helper()
	return &Social{apiURL: "https://app.example.com/api/auth", origin: "https://app.example.com", http: &http.Client{Timeout: 5 * time.Second},
		log: slog.New(slog.DiscardHandler), now: time.Now, providers: map[string]*provider{}}
}

// The authorization URLs better-auth 1.7.25's providers build for the same input (captured with
// node), so a provider sees exactly the request Node would send.
func TestAuthorizationURLsMatchBetterAuth(t *testing.T) {
	s := testSocial(t)
	s.apiURL = "https://app.example.com/api/auth"
	const state, verifier = "STATEstate_0123456789-abcdefghij", "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv-_0123456789"
	tests := []struct {
		id   string
		cfg  ProviderConfig
		req  authRequest
		want string
	}{
		{"google", ProviderConfig{ClientID: "g-client", ClientSecret: "g-secret", AccessType: "offline", Prompt: "consent"},
			authRequest{scopes: []string{"https://www.googleapis.com/auth/drive.readonly"}, loginHint: "a@b.co", additional: map[string]string{"hl": "de"}},
			"https://accounts.google.com/o/oauth2/v2/auth?response_type=code&client_id=g-client&state=STATEstate_0123456789-abcdefghij&scope=email+profile+openid+https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fdrive.readonly&redirect_uri=https%3A%2F%2Fapp.example.com%2Fapi%2Fauth%2Fcallback%2Fgoogle&login_hint=a%40b.co&prompt=consent&access_type=offline&code_challenge_method=S256&code_challenge=Q0wbpPAmMRttG3lwyEDPs-QyElk6VBM-ZGTjZSTzAiw&include_granted_scopes=true&hl=de"},
		{"github", ProviderConfig{ClientID: "gh-client", ClientSecret: "gh-secret"}, authRequest{},
			"https://github.com/login/oauth/authorize?response_type=code&client_id=gh-client&state=STATEstate_0123456789-abcdefghij&scope=read%3Auser+user%3Aemail&redirect_uri=https%3A%2F%2Fapp.example.com%2Fapi%2Fauth%2Fcallback%2Fgithub&code_challenge_method=S256&code_challenge=Q0wbpPAmMRttG3lwyEDPs-QyElk6VBM-ZGTjZSTzAiw"},
		{"microsoft", ProviderConfig{ClientID: "ms-client", ClientSecret: "ms-secret", TenantID: "contoso"}, authRequest{loginHint: "x y"},
			"https://login.microsoftonline.com/contoso/oauth2/v2.0/authorize?response_type=code&client_id=ms-client&state=STATEstate_0123456789-abcdefghij&scope=openid+profile+email+User.Read+offline_access&redirect_uri=https%3A%2F%2Fapp.example.com%2Fapi%2Fauth%2Fcallback%2Fmicrosoft&login_hint=x+y&code_challenge_method=S256&code_challenge=Q0wbpPAmMRttG3lwyEDPs-QyElk6VBM-ZGTjZSTzAiw"},
		{"apple", ProviderConfig{ClientID: "com.example.web", ClientSecret: "jwt"}, authRequest{loginHint: "ignored"},
			"https://appleid.apple.com/auth/authorize?response_type=code+id_token&client_id=com.example.web&state=STATEstate_0123456789-abcdefghij&scope=email+name&redirect_uri=https%3A%2F%2Fapp.example.com%2Fapi%2Fauth%2Fcallback%2Fapple&response_mode=form_post&code_challenge_method=S256&code_challenge=Q0wbpPAmMRttG3lwyEDPs-QyElk6VBM-ZGTjZSTzAiw"},
		{"discord", ProviderConfig{ClientID: "d-client", ClientSecret: "d-secret", Scopes: []string{"guilds"}}, authRequest{scopes: []string{"connections"}},
			"https://discord.com/api/oauth2/authorize?response_type=code&client_id=d-client&state=STATEstate_0123456789-abcdefghij&scope=identify+email+connections+guilds&redirect_uri=https%3A%2F%2Fapp.example.com%2Fapi%2Fauth%2Fcallback%2Fdiscord&prompt=none"},
		{"gitlab", ProviderConfig{ClientID: "gl-client", ClientSecret: "gl-secret", Issuer: "https://git.example.com/"}, authRequest{},
			"https://git.example.com/oauth/authorize?response_type=code&client_id=gl-client&state=STATEstate_0123456789-abcdefghij&scope=read_user&redirect_uri=https%3A%2F%2Fapp.example.com%2Fapi%2Fauth%2Fcallback%2Fgitlab&code_challenge_method=S256&code_challenge=Q0wbpPAmMRttG3lwyEDPs-QyElk6VBM-ZGTjZSTzAiw"},
	}
	for _, tt := range tests {
		p := newProvider(s, tt.id, tt.cfg)
		tt.req.state, tt.req.codeVerifier = state, verifier
		tt.req.scopes = p.scopes(tt.req.scopes)
		got, err := p.authorizationURL(tt.req)
		if err != nil || got != tt.want {
			t.Errorf("%s: authorizationURL =\n  %s (%v)\nwant\n  %s", tt.id, got, err, tt.want)
		}
	}
}

func TestAppendQueryParams(t *testing.T) {
	q := params{{"error", "state_mismatch"}, {"error_description", "a b&c"}}
	tests := []struct{ in, want string }{
		{"https://app.example.com/oops", "https://app.example.com/oops?error=state_mismatch&error_description=a+b%26c"},
		{"https://app.example.com/oops?from=x#frag", "https://app.example.com/oops?from=x&error=state_mismatch&error_description=a+b%26c#frag"},
		{"https://app.example.com/oops?from=x&", "https://app.example.com/oops?from=x&error=state_mismatch&error_description=a+b%26c"},
		{"/oops", "/oops?error=state_mismatch&error_description=a+b%26c"},
	}
	for _, tt := range tests {
		if got, err := appendQueryParams(tt.in, q); err != nil || got != tt.want {
			t.Errorf("appendQueryParams(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"//evil.example.com/x", `/\evil.example.com`, "relative/path"} {
		if _, err := appendQueryParams(bad, q); err == nil {
			t.Errorf("appendQueryParams(%q) accepted a URL that is neither absolute nor root-relative", bad)
		}
	}
}

func TestMergeScopes(t *testing.T) {
	if got := mergeScopes("openid,email", []string{"email", "profile", " "}); got != "openid,email,profile" {
		t.Errorf("mergeScopes = %q", got)
	}
	if got := mergeScopes("", nil); got != "" {
		t.Errorf("mergeScopes(empty) = %q", got)
	}
}

func TestEncodeStateKeepsItsOwnKeys(t *testing.T) {
	errURL := "https://app.example.com/oops"
	d := &stateData{CallbackURL: "https://app.example.com/", CodeVerifier: "v", ErrorURL: &errURL, ExpiresAt: 1700000000000, OAuthState: "s"}
	got, err := encodeState(d, map[string]any{"invite": "abc", "callbackURL": "https://evil.example.com/", "codeVerifier": "x"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"invite":"abc","callbackURL":"https://app.example.com/","codeVerifier":"v","errorURL":"https://app.example.com/oops","expiresAt":1700000000000,"oauthState":"s"}`
	if got != want {
		t.Fatalf("encodeState = %s\nwant %s", got, want)
	}
	// Node writes link.userId as it has it; a number is read as its text.
	var back stateData
	if err := json.Unmarshal([]byte(`{"callbackURL":"/","codeVerifier":"v","expiresAt":1,"link":{"email":"a@b.co","userId":42}}`), &back); err != nil || back.Link.UserID != "42" {
		t.Fatalf("parse node state = %+v, %v", back.Link, err)
	}
}

func TestLoadProvidersFromEnv(t *testing.T) {
	env := map[string]string{
		"GOOGLE_CLIENT_ID": "g-id", "GOOGLE_CLIENT_SECRET": "g-secret", "GOOGLE_ACCESS_TYPE": "offline",
		"GITHUB_CLIENT_ID": "gh-id", "GITHUB_CLIENT_SECRET": "gh-secret", "GITHUB_SCOPES": "repo, gist",
		"MICROSOFT_CLIENT_ID": "ms-id", "MICROSOFT_TENANT_ID": "contoso",
		"OIDC_PROVIDERS":              "keycloak,corp-sso",
		"OIDC_KEYCLOAK_DISCOVERY_URL": "https://kc.example.com/realms/x/.well-known/openid-configuration",
		"OIDC_KEYCLOAK_CLIENT_ID":     "kc", "OIDC_KEYCLOAK_CLIENT_SECRET": "kc-secret", "OIDC_KEYCLOAK_SCOPES": "openid email",
		"OIDC_CORP_SSO_DISCOVERY_URL": "https://sso.corp.example/.well-known/openid-configuration", "OIDC_CORP_SSO_CLIENT_ID": "corp",
		"OIDC_CORP_SSO_PKCE": "false",
		"TRUSTED_PROVIDERS":  "google,keycloak", "ENCRYPT_OAUTH_TOKENS": "true", "ACCOUNT_LINKING_ALLOW_DIFFERENT_EMAILS": "yes",
		"ACCOUNT_LINKING_ALLOW_CHANGED_EMAIL": "true",
	}
	cfg, err := LoadProvidersFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if got := sortedKeys(cfg.Providers); strings.Join(got, ",") != "corp-sso,github,google,keycloak,microsoft" {
		t.Fatalf("providers = %v", got)
	}
	if p := cfg.Providers["github"]; strings.Join(p.Scopes, " ") != "repo gist" || p.ClientSecret != "gh-secret" {
		t.Errorf("github = %+v", p)
	}
	if p := cfg.Providers["google"]; p.AccessType != "offline" {
		t.Errorf("google = %+v", p)
	}
	if p := cfg.Providers["microsoft"]; p.TenantID != "contoso" {
		t.Errorf("microsoft = %+v", p)
	}
	if p := cfg.Providers["keycloak"]; p.Type != ProviderOIDC || p.ClientID != "kc" || p.DiscoveryURL == "" || strings.Join(p.Scopes, " ") != "openid email" {
		t.Errorf("keycloak = %+v", p)
	}
	if p := cfg.Providers["corp-sso"]; p.PKCE == nil || *p.PKCE {
		t.Errorf("corp-sso PKCE = %v, want false", p.PKCE)
	}
	if !cfg.EncryptOAuthTokens || !cfg.AccountLinking.AllowDifferentEmails || strings.Join(cfg.TrustedProviders, ",") != "google,keycloak" ||
		cfg.AccountLinking.Disabled || cfg.AccountLinking.RequireLocalEmailVerified == nil || !*cfg.AccountLinking.RequireLocalEmailVerified ||
		!cfg.AccountLinking.AllowChangedEmail {
		t.Errorf("account options = %+v", cfg)
	}

	bad := []map[string]string{
		{"GOOGLE_CLIENT_ID": "g"}, // Google needs its secret
		{"OIDC_PROVIDERS": "x", "OIDC_X_CLIENT_ID": "c"},
		{"OIDC_PROVIDERS": "x", "OIDC_X_CLIENT_ID": "c", "OIDC_X_DISCOVERY_URL": "ftp://x"},
		{"ENCRYPT_OAUTH_TOKENS": "maybe"},
	}
	for _, e := range bad {
		if _, err := LoadProvidersFromEnv(func(k string) string { return e[k] }); err == nil {
			t.Errorf("LoadProvidersFromEnv(%v) accepted a broken configuration", e)
		}
	}
	if cfg, err := LoadProvidersFromEnv(func(string) string { return "" }); err != nil || len(cfg.Providers) != 0 {
		t.Errorf("empty environment = %+v, %v; want no providers", cfg, err)
	}
}

// testKeys is an RSA key published as a JWKS by an httptest server, signing with go-jose.
type testKeys struct {
	key  *rsa.PrivateKey
	kid  string
	srv  *httptest.Server
	jwks jose.JSONWebKeySet
}

func newTestKeys(t *testing.T) *testKeys {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k := &testKeys{key: key, kid: "k1"}
	k.jwks = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: k.kid, Algorithm: "RS256", Use: "sig"}}}
	k.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(k.jwks)
	}))
	t.Cleanup(k.srv.Close)
	return k
}

func (k *testKeys) sign(t *testing.T, alg jose.SignatureAlgorithm, key any, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: k.kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestIDTokenVerification(t *testing.T) {
	k := newTestKeys(t)
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	base := func() map[string]any {
		return map[string]any{"iss": "https://idp.example.test", "sub": "user-1", "aud": "client-1", "exp": now.Add(time.Hour).Unix(),
			"iat": now.Unix(), "email": "a@example.com", "nonce": "n-1"}
	}
	with := func(k string, v any) map[string]any {
		c := base()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	sha := sha256.Sum256([]byte("n-1"))
	tests := []struct {
		name   string
		token  func() string
		nonce  string
		spec   func(*idTokenSpec)
		wantOK bool
	}{
		{"valid", func() string { return k.sign(t, jose.RS256, k.key, base()) }, "n-1", nil, true},
		{"valid without a nonce check", func() string { return k.sign(t, jose.RS256, k.key, base()) }, "", nil, true},
		{"wrong audience", func() string { return k.sign(t, jose.RS256, k.key, with("aud", "client-2")) }, "", nil, false},
		{"one of several audiences", func() string { return k.sign(t, jose.RS256, k.key, with("aud", []string{"x", "client-1"})) }, "", nil, true},
		{"extra accepted audience", func() string { return k.sign(t, jose.RS256, k.key, with("aud", "ios-client")) }, "",
			func(s *idTokenSpec) { s.audiences = []string{"client-1", "ios-client"} }, true},
		{"wrong issuer", func() string { return k.sign(t, jose.RS256, k.key, with("iss", "https://evil.example.test")) }, "", nil, false},
		{"expired", func() string { return k.sign(t, jose.RS256, k.key, with("exp", now.Add(-31*time.Second).Unix())) }, "", nil, false},
		{"expired within the 30 s leeway", func() string { return k.sign(t, jose.RS256, k.key, with("exp", now.Add(-20*time.Second).Unix())) }, "", nil, true},
		{"wrong nonce", func() string { return k.sign(t, jose.RS256, k.key, base()) }, "n-2", nil, false},
		{"hashed nonce where allowed (Apple)", func() string { return k.sign(t, jose.RS256, k.key, with("nonce", hex.EncodeToString(sha[:]))) }, "n-1",
			func(s *idTokenSpec) { s.nonceSHA256 = true }, true},
		{"hashed nonce elsewhere", func() string { return k.sign(t, jose.RS256, k.key, with("nonce", hex.EncodeToString(sha[:]))) }, "n-1", nil, false},
		{"signed by another key", func() string { return k.sign(t, jose.RS256, other, base()) }, "", nil, false},
		{"HS256 with the public key as secret", func() string {
			return k.sign(t, jose.HS256, []byte("public-key-material-used-as-a-secret-0123456789"), base())
		}, "", nil, false},
		{"no iat", func() string { return k.sign(t, jose.RS256, k.key, with("iat", nil)) }, "", nil, false},
		{"no sub", func() string { return k.sign(t, jose.RS256, k.key, with("sub", nil)) }, "", nil, false},
		{"older than the maximum age", func() string { return k.sign(t, jose.RS256, k.key, with("iat", now.Add(-2*time.Hour).Unix())) }, "",
			func(s *idTokenSpec) { s.maxAge = time.Hour }, false},
		{"issued in the future with a maximum age", func() string { return k.sign(t, jose.RS256, k.key, with("iat", now.Add(5*time.Minute).Unix())) }, "",
			func(s *idTokenSpec) { s.maxAge = time.Hour }, false},
		{"provider rule refuses (Google hd)", func() string { return k.sign(t, jose.RS256, k.key, with("hd", "other.example")) }, "",
			func(s *idTokenSpec) {
				s.verifyClaims = func(c map[string]any) bool { return googleHostedDomainAllowed("corp.example", c["hd"]) }
			}, false},
		{"opaque token", func() string { return "not-a-jwt" }, "", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := &idTokenSpec{jwksURL: k.srv.URL, issuers: []string{"https://idp.example.test"}, audiences: []string{"client-1"}, algs: []string{"RS256"}}
			if tt.spec != nil {
				tt.spec(spec)
			}
			claims, err := spec.verify(context.Background(), http.DefaultClient, now, tt.token(), tt.nonce)
			if (err == nil) != tt.wantOK {
				t.Fatalf("verify = %v, %v; want ok=%v", claims, err, tt.wantOK)
			}
			if tt.wantOK && claims["sub"] != "user-1" {
				t.Fatalf("claims = %v", claims)
			}
		})
	}
}

// Google's two issuer spellings are both accepted, as go-oidc and Better-Auth accept them.
func TestGoogleIssuerVariants(t *testing.T) {
	k := newTestKeys(t)
	s := testSocial(t)
	p := newProvider(s, "google", ProviderConfig{ClientID: "g-client", ClientSecret: "x", JWKSURL: k.srv.URL, Audiences: []string{"ios-client"}})
	now := time.Now()
	for _, iss := range []string{"https://accounts.google.com", "accounts.google.com"} {
		tok := k.sign(t, jose.RS256, k.key, map[string]any{"iss": iss, "sub": "1", "aud": "ios-client", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(),
			"email": "a@gmail.com", "email_verified": true, "name": "A", "picture": "https://p/a.png"})
		claims, err := p.verifyIDToken(context.Background(), tok, "")
		if err != nil {
			t.Fatalf("iss %q: %v", iss, err)
		}
		prof := p.profileFromClaims(context.Background(), claims, &tokenSet{IDToken: tok}, nil)
		if prof == nil || prof.Subject != "1" || *prof.Email != "a@gmail.com" || !prof.EmailVerified || *prof.Image != "https://p/a.png" {
			t.Fatalf("profile = %+v", prof)
		}
	}
}

func TestMicrosoftTenantRules(t *testing.T) {
	k := newTestKeys(t)
	s := testSocial(t)
	now := time.Now()
	token := func(tid string) string {
		return k.sign(t, jose.RS256, k.key, map[string]any{"iss": "https://login.microsoftonline.com/" + tid + "/v2.0", "tid": tid, "sub": "s", "oid": "o-1",
			"aud": "ms-client", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()})
	}
	tests := []struct {
		tenant, tid string
		ok          bool
	}{
		{"common", "aaaa", true},
		{"organizations", msConsumerTenant, false},
		{"consumers", "aaaa", false},
		{"consumers", msConsumerTenant, true},
		{"contoso-id", "contoso-id", true},
		{"contoso-id", "other", false},
	}
	for _, tt := range tests {
		p := newProvider(s, "microsoft", ProviderConfig{ClientID: "ms-client", TenantID: tt.tenant, JWKSURL: k.srv.URL})
		_, err := p.verifyIDToken(context.Background(), token(tt.tid), "")
		if (err == nil) != tt.ok {
			t.Errorf("tenant %s, token tid %s: err = %v, want ok=%v", tt.tenant, tt.tid, err, tt.ok)
		}
	}
}

// jsonServer answers each path with its JSON document.
func jsonServer(t *testing.T, docs map[string]any) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer at-1" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		doc, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestProviderProfiles(t *testing.T) {
	s := testSocial(t)
	ctx := context.Background()
	tok := &tokenSet{AccessToken: "at-1"}

	t.Run("github without a public email takes the primary one", func(t *testing.T) {
		srv := jsonServer(t, map[string]any{
			"/user":        map[string]any{"id": 583231, "login": "octocat", "name": nil, "email": nil, "avatar_url": "https://a/o.png"},
			"/user/emails": []any{map[string]any{"email": "old@example.com", "primary": false, "verified": true}, map[string]any{"email": "octo@example.com", "primary": true, "verified": true}},
		})
		p := newProvider(s, "github", ProviderConfig{ClientID: "c", UserInfoURL: srv.URL + "/user"})
		prof := p.fetchProfile(ctx, tok, nil, "")
		if prof == nil || prof.Subject != "583231" || *prof.Name != "octocat" || *prof.Email != "octo@example.com" || !prof.EmailVerified {
			t.Fatalf("github profile = %+v", prof)
		}
	})
	t.Run("discord default avatar", func(t *testing.T) {
		srv := jsonServer(t, map[string]any{"/me": map[string]any{"id": "80351110224678912", "username": "nelly", "global_name": "Nelly",
			"discriminator": "0", "avatar": nil, "email": "nelly@example.com", "verified": true}})
		p := newProvider(s, "discord", ProviderConfig{ClientID: "c", UserInfoURL: srv.URL + "/me"})
		prof := p.fetchProfile(ctx, tok, nil, "")
		// (80351110224678912 >> 22) % 6 = 0... computed as Better-Auth does.
		if prof == nil || prof.Subject != "80351110224678912" || *prof.Name != "Nelly" || !prof.EmailVerified ||
			!strings.HasPrefix(*prof.Image, "https://cdn.discordapp.com/embed/avatars/") {
			t.Fatalf("discord profile = %+v", prof)
		}
	})
	t.Run("gitlab blocked user gives no profile", func(t *testing.T) {
		srv := jsonServer(t, map[string]any{"/api/v4/user": map[string]any{"id": 1, "username": "u", "state": "blocked", "email": "u@example.com"}})
		p := newProvider(s, "gitlab", ProviderConfig{ClientID: "c", Issuer: srv.URL})
		if prof := p.fetchProfile(ctx, tok, nil, ""); prof != nil {
			t.Fatalf("blocked gitlab user = %+v, want none", prof)
		}
	})
	t.Run("gitlab active user", func(t *testing.T) {
		srv := jsonServer(t, map[string]any{"/api/v4/user": map[string]any{"id": 7, "username": "u", "name": "U Ser", "state": "active", "email": "u@example.com"}})
		p := newProvider(s, "gitlab", ProviderConfig{ClientID: "c", Issuer: srv.URL})
		prof := p.fetchProfile(ctx, tok, nil, "")
		if prof == nil || prof.Subject != "7" || *prof.Name != "U Ser" || prof.EmailVerified {
			t.Fatalf("gitlab profile = %+v (GitLab does not vouch for emails)", prof)
		}
	})
	t.Run("apple takes the name from the first-sign-in user object", func(t *testing.T) {
		p := newProvider(s, "apple", ProviderConfig{ClientID: "c", ClientSecret: "x"})
		au := &appleUser{}
		_ = json.Unmarshal([]byte(`{"name":{"firstName":"Tim","lastName":"Apple"},"email":"t@privaterelay.appleid.com"}`), au)
		prof := p.profileFromClaims(ctx, map[string]any{"sub": "001.abc", "email": "t@privaterelay.appleid.com", "email_verified": "true"}, &tokenSet{}, au)
		if prof == nil || *prof.Name != "Tim Apple" || !prof.EmailVerified || prof.Image != nil || prof.Subject != "001.abc" {
			t.Fatalf("apple profile = %+v", prof)
		}
	})
}

func TestTokensFromResponse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.Form.Get("client_secret") != "sec" || r.Form.Get("code_verifier") != "ver" || r.Form.Get("grant_type") != "authorization_code" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"at","token_type":"Bearer","expires_in":3600,"refresh_token":"rt","refresh_token_expires_in":"7200","scope":"openid email","id_token":"x.y.z"}`))
	}))
	defer srv.Close()
	s := testSocial(t)
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.now = func() time.Time { return fixed }
	p := newProvider(s, "idp", ProviderConfig{Type: ProviderOIDC, ClientID: "cid", ClientSecret: "sec", AuthorizationURL: srv.URL + "/a", TokenURL: srv.URL})
	got, err := p.exchange(context.Background(), "code", "ver", "")
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != "at" || got.RefreshToken != "rt" || got.IDToken != "x.y.z" || strings.Join(got.Scopes, ",") != "openid,email" ||
		!got.AccessTokenExpiresAt.Equal(fixed.Add(time.Hour)) || !got.RefreshTokenExpiresAt.Equal(fixed.Add(2*time.Hour)) {
		t.Fatalf("tokens = %+v", got)
	}
	if _, err := newProvider(s, "idp", ProviderConfig{Type: ProviderOIDC, ClientID: "cid", ClientSecret: "wrong", AuthorizationURL: srv.URL, TokenURL: srv.URL}).
		exchange(context.Background(), "code", "ver", ""); err == nil {
		t.Fatal("a refused exchange succeeded")
	}
}

// Server-side OAuth requests never follow redirects (Better-Auth refuses them against SSRF).
func TestProviderRequestsRefuseRedirects(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"id":1}`)) }))
	defer target.Close()
	redirector := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	defer redirector.Close()
	soc, err := newSocial(SocialConfig{APIURL: "https://app.example.com/api/auth", HTTPClient: &http.Client{}}, New(Config{}, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := soc.getJSON(context.Background(), redirector.URL, nil, &out); err == nil {
		t.Fatalf("followed a redirect: %v", out)
	}
}

func TestSocialWithoutProviders(t *testing.T) {
	svc := New(Config{}, nil, nil)
	if _, err := svc.Social().SignIn(context.Background(), SocialSignInInput{Provider: "google"}); err != ErrProviderNotFound {
		t.Fatalf("SignIn without providers = %v, want ErrProviderNotFound", err)
	}
	if svc.Social() != svc.Social() {
		t.Fatal("Social() is not stable")
	}
}

// A provider whose discovery document cannot be fetched is unavailable, and is not asked again
// at every request.
func TestDiscoveryFailureIsHeldBack(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	s := testSocial(t)
	p := newProvider(s, "sso", ProviderConfig{Type: ProviderOIDC, ClientID: "c", DiscoveryURL: down.URL + "/.well-known/openid-configuration"})
	s.providers["sso"] = p
	if s.provider(context.Background(), "sso") != nil {
		t.Fatal("a provider without its discovery document is usable")
	}
	first := p.lastErr
	if err := p.ready(context.Background()); err != first {
		t.Fatalf("second ready() = %v, want the held-back error %v", err, first)
	}
}
