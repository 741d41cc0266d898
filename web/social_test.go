package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/oauth2"
	"golang.org/x/text/language"

	"authserver/auth"
	"authserver/session"
	"authserver/store"
	"authserver/store/storetest"
	"authserver/web"
)

// The social tests run the whole redirect dance against a real OpenID provider in the test
// process: zitadel's OpenID-certified OP library (github.com/zitadel/oidc/v3/pkg/op) over its
// example in-memory storage. It issues codes, checks PKCE, signs ID tokens (RS256, with the
// nonce), serves discovery, JWKS and userinfo, and rotates refresh tokens. The "login page" is
// the test's: it signs in whichever user the test queued, or declines.

const idpClientID, idpClientSecret = "app", "app-secret"

// idpUser is a user of the test provider; Picture is served as the picture claim.
type idpUser struct {
	storage.User
	Picture string
}

// idpUsers is the provider's user store (storage.UserStore).
type idpUsers struct {
	mu     sync.Mutex
	byName map[string]*idpUser
}

func (u *idpUsers) GetUserByID(id string) *storage.User {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, x := range u.byName {
		if x.ID == id {
			return &x.User
		}
	}
	return nil
}

func (u *idpUsers) GetUserByUsername(name string) *storage.User {
	u.mu.Lock()
	defer u.mu.Unlock()
	if x := u.byName[name]; x != nil {
		return &x.User
	}
	return nil
}

func (u *idpUsers) ExampleClientID() string { return "service" }

func (u *idpUsers) picture(id string) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, x := range u.byName {
		if x.ID == id {
			return x.Picture
		}
	}
	return ""
}

// testIdP is the OpenID provider the server under test signs users in with.
type testIdP struct {
	t        *testing.T
	srv      *httptest.Server
	issuer   string
	provider *op.Provider
	store    *storage.Storage
	users    *idpUsers
	clients  map[string]*storage.Client

	mu sync.Mutex // guards the fields below, which tests change between requests
	// next is the username the login page signs in.
	next string
	// deny makes the login page decline, as a user pressing "Cancel" does.
	deny bool
	// userinfoOnly leaves the profile and email claims out of ID tokens, so they come from
	// the userinfo endpoint (the spec's default when an access token is issued).
	userinfoOnly bool
	// idTokenLifetime shortens the ID tokens' lifetime (zero: the library's hour).
	idTokenLifetime time.Duration
}

// idpStorage adds what the example storage lacks: per-test ID-token settings and a picture.
type idpStorage struct {
	*storage.Storage
	idp *testIdP
}

func (s idpStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return idpClient{Client: c, idp: s.idp}, nil
}

func (s idpStorage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, token op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, ui, token, scopes); err != nil {
		return err
	}
	if ui.Name != "" {
		ui.Picture = s.idp.users.picture(token.GetSubject())
	}
	return nil
}

func (s idpStorage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, ui, tokenID, subject, origin); err != nil {
		return err
	}
	if ui.Name != "" {
		ui.Picture = s.idp.users.picture(ui.Subject)
	}
	return nil
}

type idpClient struct {
	op.Client
	idp *testIdP
}

func (c idpClient) IDTokenUserinfoClaimsAssertion() bool {
	c.idp.mu.Lock()
	defer c.idp.mu.Unlock()
	return !c.idp.userinfoOnly
}

func (c idpClient) IDTokenLifetime() time.Duration {
	c.idp.mu.Lock()
	defer c.idp.mu.Unlock()
	if c.idp.idTokenLifetime > 0 {
		return c.idp.idTokenLifetime
	}
	return c.Client.IDTokenLifetime()
}

// directRedirect is a redirect URI the tests use to run the code flow themselves (to get ID
// tokens to hand to the ID-token sign-in); nothing listens there.
const directRedirect = "http://127.0.0.1:9/direct"

func newTestIdP(t *testing.T) *testIdP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	idp := &testIdP{t: t, issuer: "http://" + ln.Addr().String(), clients: map[string]*storage.Client{},
		users: &idpUsers{byName: map[string]*idpUser{}}}
	idp.store = storage.NewStorageWithClients(idp.users, idp.clients)
	cfg := &op.Config{
		CryptoKey:             sha256.Sum256([]byte("test idp key")),
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
	}
	idp.provider, err = op.NewOpenIDProvider(idp.issuer, cfg, idpStorage{Storage: idp.store, idp: idp}, op.WithAllowInsecure())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/login/username", op.NewIssuerInterceptor(idp.provider.IssuerFromRequest).HandlerFunc(idp.login))
	mux.Handle("/", idp.provider)
	idp.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	idp.srv.Start()
	t.Cleanup(idp.srv.Close)
	return idp
}

// addClient registers an OAuth client (client_secret_post or basic, PKCE when sent).
func (idp *testIdP) addClient(id, secret string, redirectURIs ...string) {
	idp.clients[id] = storage.WebClient(id, secret, redirectURIs...)
}

// addUser registers a user and returns its subject.
func (idp *testIdP) addUser(username, email string, verified bool) string {
	idp.users.mu.Lock()
	defer idp.users.mu.Unlock()
	id := "sub-" + username
	idp.users.byName[username] = &idpUser{User: storage.User{ID: id, Username: username, Password: "pw-" + username,
		FirstName: "Ada", LastName: strings.ToUpper(username[:1]) + username[1:], Email: email, EmailVerified: verified,
		PreferredLanguage: language.English}, Picture: "https://img.example.test/" + username + ".png"}
	return id
}

func (idp *testIdP) set(f func(*testIdP)) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	f(idp)
}

// login is the provider's login page: it signs in the queued user at once, or declines.
func (idp *testIdP) login(w http.ResponseWriter, r *http.Request) {
	id := r.FormValue("authRequestID")
	idp.mu.Lock()
	name, deny := idp.next, idp.deny
	idp.mu.Unlock()
	if deny {
		req, err := idp.store.AuthRequestByID(r.Context(), id)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		op.AuthRequestError(w, r, req, oidc.ErrAccessDenied().WithDescription("The user declined"), idp.provider)
		return
	}
	u := idp.users.GetUserByUsername(name)
	if u == nil {
		http.Error(w, "no user queued", http.StatusBadRequest)
		return
	}
	if err := idp.store.CheckUsernamePassword(name, u.Password, id); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, op.AuthCallbackURL(idp.provider)(r.Context(), id), http.StatusFound)
}

// directIDToken runs the code flow for clientID itself (as a mobile app would) and returns the
// ID token the provider issued for username.
func (idp *testIdP) directIDToken(t *testing.T, clientID, secret, username, nonce string) string {
	t.Helper()
	idp.set(func(i *testIdP) { i.next = username })
	cfg := &oauth2.Config{ClientID: clientID, ClientSecret: secret, RedirectURL: directRedirect,
		Endpoint: oauth2.Endpoint{AuthURL: idp.issuer + "/authorize", TokenURL: idp.issuer + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams},
		Scopes:   []string{"openid", "email", "profile"}}
	verifier := oauth2.GenerateVerifier()
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if nonce != "" {
		opts = append(opts, oauth2.SetAuthURLParam("nonce", nonce))
	}
	hc := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), directRedirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	res, err := hc.Get(cfg.AuthCodeURL("direct-state", opts...))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("direct flow ended at %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	tok, err := cfg.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("direct exchange: %v", err)
	}
	idt, _ := tok.Extra("id_token").(string)
	if idt == "" {
		t.Fatal("direct flow returned no id_token")
	}
	return idt
}

// socialEnv is the server with the test provider configured as the generic OIDC provider "idp".
type socialEnv struct {
	*env
	idp    *testIdP
	svc    *auth.Service
	social *auth.Social
}

type socialOptions struct {
	social auth.SocialConfig
	auth   auth.Config
}

// newSocialEnv builds the server like newEnv, on a listener whose URL is the base URL (the
// provider must be able to send the browser back to it), with social sign-in turned on.
func newSocialEnv(t *testing.T, st *store.Store, opts ...func(*socialOptions)) *socialEnv {
	t.Helper()
	idp := newTestIdP(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	idp.addClient(idpClientID, idpClientSecret, base+"/api/auth/callback/idp", directRedirect)
	idp.addClient("other-app", "other-secret", directRedirect)
	clk := &clock{now: time.Now().UTC().Truncate(time.Millisecond)}
	o := socialOptions{social: auth.SocialConfig{Providers: map[string]auth.ProviderConfig{
		"idp": {Type: auth.ProviderOIDC, ClientID: idpClientID, ClientSecret: idpClientSecret,
			DiscoveryURL: idp.issuer + "/.well-known/openid-configuration", Scopes: []string{"email", "profile", "offline_access"}},
	}}}
	for _, f := range opts {
		f(&o)
	}
	sessions := session.New(session.Config{Secret: []byte(testSecret), Now: clk.Now}, st)
	o.auth.Now = clk.Now
	o.auth.Email.APIURL = base + "/api/auth"
	o.auth.Email.Secret = []byte(testSecret)
	svc := auth.New(o.auth, st, sessions)
	social, err := svc.EnableSocial(o.social)
	if err != nil {
		t.Fatal(err)
	}
	wcfg := web.Config{BaseURL: base, TrustedOrigins: []string{trusted}}
	deps := web.Deps{Store: st, Sessions: sessions, Auth: svc}
	e := web.New(wcfg, deps)
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: e}}
	srv.Start()
	t.Cleanup(srv.Close)
	return &socialEnv{env: &env{t: t, st: st, srv: srv, clock: clk, sessions: sessions}, idp: idp, svc: svc, social: social}
}

// browse follows redirects from start like a browser with c's cookie jar, through the provider
// and the server, and returns the first URL it does not follow: one outside both (the app), or
// one stopAt picks.
func (se *socialEnv) browse(t *testing.T, c *client, start string, stopAt func(*url.URL) bool) *url.URL {
	t.Helper()
	srv, _ := url.Parse(se.srv.URL)
	idp, _ := url.Parse(se.idp.issuer)
	hc := &http.Client{Jar: c.jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) > 12 {
			return errors.New("too many redirects")
		}
		if (req.URL.Host != srv.Host && req.URL.Host != idp.Host) || (stopAt != nil && stopAt(req.URL)) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	res, err := hc.Get(start)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusFound && res.StatusCode != http.StatusSeeOther {
		t.Fatalf("browsing %s ended with %d at %s: %s", start, res.StatusCode, res.Request.URL, body)
	}
	loc, err := res.Request.URL.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func isCallback(u *url.URL) bool { return strings.HasPrefix(u.Path, "/api/auth/callback/") }

// leavesAuth stops browsing at a page of the server other than the OAuth callback (the site
// root, the error page).
func (se *socialEnv) leavesAuth(u *url.URL) bool {
	return se.srv.URL == "http://"+u.Host && !isCallback(u)
}

// browser is a browser (a client with its own cookie jar) for a social env.
func (se *socialEnv) browser() *client { return se.client() }

// startSignIn posts sign-in/social and returns the provider URL it answers with.
func startSignIn(t *testing.T, c *client, body map[string]any) string {
	t.Helper()
	if _, ok := body["provider"]; !ok {
		body["provider"] = "idp"
	}
	r := c.do("POST", "/api/auth/sign-in/social", body)
	expect(t, r, 200, "")
	u, _ := r.JSON["url"].(string)
	if u == "" || r.JSON["redirect"] != true || r.Header.Get("Location") != u {
		t.Fatalf("sign-in/social = %s (Location %q), want {url, redirect:true} and the same Location", r.Raw, r.Header.Get("Location"))
	}
	return u
}

// signInVia runs the whole dance for the provider user username and returns where the browser
// landed.
func (se *socialEnv) signInVia(t *testing.T, c *client, username string, body map[string]any) *url.URL {
	t.Helper()
	se.idp.set(func(i *testIdP) { i.next = username })
	return se.browse(t, c, startSignIn(t, c, body), nil)
}

func appURL(path string) string { return trusted + path }

func sessionOf(t *testing.T, c *client) map[string]any {
	t.Helper()
	r := c.do("GET", "/api/auth/get-session", nil)
	expect(t, r, 200, "")
	return r.JSON
}

func wantLanding(t *testing.T, got *url.URL, want string) {
	t.Helper()
	if got.String() != want {
		t.Fatalf("browser landed on %s, want %s", got, want)
	}
}

func TestSocialSignInFullDance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		se := newSocialEnv(t, st)
		sub := se.idp.addUser("ada", "Ada@Example.com", true)
		c := se.browser()

		r0 := c.do("POST", "/api/auth/sign-in/social", map[string]any{"provider": "idp", "callbackURL": appURL("/dashboard"),
			"newUserCallbackURL": appURL("/welcome"), "errorCallbackURL": appURL("/oops"), "scopes": []string{"phone"}})
		expect(t, r0, 200, "")
		start, _ := r0.JSON["url"].(string)
		if r0.Header.Get("Location") != start || r0.JSON["redirect"] != true || len(r0.JSON) != 2 {
			t.Fatalf("sign-in/social = %s, Location %q", r0.Raw, r0.Header.Get("Location"))
		}
		// The signed state cookie, with Better-Auth's attributes.
		if sc := r0.setCookies()["better-auth.state"]; !strings.HasSuffix(sc, "; Max-Age=300; Path=/; HttpOnly; SameSite=Lax") {
			t.Fatalf("state cookie = %q", sc)
		}
		u, _ := url.Parse(start)
		q := u.Query()
		if !strings.HasPrefix(start, se.idp.issuer+"/authorize?response_type=code&client_id=app&state=") ||
			q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 ||
			q.Get("redirect_uri") != se.srv.URL+"/api/auth/callback/idp" || len(q.Get("state")) != 32 || len(q.Get("nonce")) != 32 ||
			q.Get("scope") != "phone email profile offline_access openid" && q.Get("scope") != "openid phone email profile offline_access" {
			t.Fatalf("authorization URL = %s", start)
		}
		stateCookie := c.cookieValue("better-auth.state")
		if !strings.HasPrefix(stateCookie, q.Get("state")+".") {
			t.Fatalf("state cookie = %q, want the signed state %q", stateCookie, q.Get("state"))
		}

		se.idp.set(func(i *testIdP) { i.next = "ada" })
		landed := se.browse(t, c, start, nil)
		wantLanding(t, landed, appURL("/welcome"))
		if c.cookieValue("better-auth.state") != "" {
			t.Error("the state cookie survived the callback")
		}
		s := sessionOf(t, c)
		user, _ := s["user"].(map[string]any)
		if user["email"] != "ada@example.com" || user["name"] != "Ada Ada" || user["emailVerified"] != true ||
			user["image"] != "https://img.example.test/ada.png" {
			t.Fatalf("new user = %v, want the provider's name, lower-cased email, image and verified flag", user)
		}
		r := c.do("GET", "/api/auth/list-accounts", nil)
		expect(t, r, 200, "")
		if len(r.Array) != 1 {
			t.Fatalf("list-accounts = %s", r.Raw)
		}
		acct := r.Array[0].(map[string]any)
		if acct["providerId"] != "idp" || acct["accountId"] != sub {
			t.Fatalf("account = %v, want providerId idp and the provider's subject", acct)
		}
		var row store.Account
		if err := st.RawRow(context.Background(), &row, `select * from "account" where "providerId" = ?`, "idp"); err != nil {
			t.Fatal(err)
		}
		if row.AccessToken == nil || row.RefreshToken == nil || row.IDToken == nil || row.AccessTokenExpiresAt == nil {
			t.Fatalf("stored account = %+v, want access, refresh and ID tokens and the expiry", row)
		}

		// The second sign-in finds the linked account and goes to callbackURL, not newUserCallbackURL.
		c2 := se.browser()
		wantLanding(t, se.signInVia(t, c2, "ada", map[string]any{"callbackURL": appURL("/dashboard"), "newUserCallbackURL": appURL("/welcome")}), appURL("/dashboard"))
		if got := sessionOf(t, c2)["user"].(map[string]any)["id"]; got != user["id"] {
			t.Fatalf("second sign-in user = %v, want %v", got, user["id"])
		}
	})
}

func TestSocialSignInDefaultsAndErrors(t *testing.T) {
	se := newSocialEnv(t, storetest.OpenSQLite(t))
	se.idp.addUser("bob", "bob@example.com", true)

	t.Run("no callbackURL goes to the base URL", func(t *testing.T) {
		c := se.browser()
		se.idp.set(func(i *testIdP) { i.next = "bob" })
		wantLanding(t, se.browse(t, c, startSignIn(t, c, map[string]any{}), se.leavesAuth), se.srv.URL)
	})
	t.Run("unknown provider", func(t *testing.T) {
		r := se.browser().do("POST", "/api/auth/sign-in/social", map[string]any{"provider": "nope"})
		expect(t, r, 404, "PROVIDER_NOT_FOUND")
	})
	t.Run("bodies are validated like zod", func(t *testing.T) {
		c := se.browser()
		cases := []struct {
			body any
			msg  string
		}{
			{map[string]any{}, "[body.provider] Invalid input"},
			{map[string]any{"provider": "idp", "scopes": "email"}, "[body.scopes] Invalid input: expected array, received string"},
			{map[string]any{"provider": "idp", "scopes": []any{"a", 1}}, "[body.scopes.1] Invalid input: expected string, received number"},
			{map[string]any{"provider": "idp", "idToken": map[string]any{}}, "[body.idToken.token] Invalid input: expected string, received undefined"},
			{map[string]any{"provider": "idp", "additionalParams": map[string]any{"state": "x"}},
				"[body.additionalParams] additionalParams cannot include reserved OAuth parameters: state, client_id, redirect_uri, response_type, code_challenge, code_challenge_method, nonce, scope"},
			{"[]", "[body] Invalid input: expected object, received array"},
		}
		for _, tc := range cases {
			r := c.do("POST", "/api/auth/sign-in/social", tc.body)
			expect(t, r, 400, "VALIDATION_ERROR")
			if r.JSON["message"] != tc.msg {
				t.Errorf("body %v: message = %q, want %q", tc.body, r.JSON["message"], tc.msg)
			}
		}
	})
	t.Run("untrusted callbackURL", func(t *testing.T) {
		r := se.browser().do("POST", "/api/auth/sign-in/social", map[string]any{"provider": "idp", "callbackURL": "http://evil.example.com/"})
		expect(t, r, 403, "INVALID_CALLBACK_URL")
	})
	t.Run("disableRedirect and additionalParams", func(t *testing.T) {
		r := se.browser().do("POST", "/api/auth/sign-in/social", map[string]any{"provider": "idp", "disableRedirect": true,
			"loginHint": "bob@example.com", "additionalParams": map[string]any{"ui_locales": "de"}})
		expect(t, r, 200, "")
		if r.JSON["redirect"] != false || r.Header.Get("Location") != "" {
			t.Fatalf("disableRedirect: %s, Location %q", r.Raw, r.Header.Get("Location"))
		}
		u, _ := url.Parse(r.JSON["url"].(string))
		if u.Query().Get("login_hint") != "bob@example.com" || u.Query().Get("ui_locales") != "de" {
			t.Fatalf("authorization URL %s lacks login_hint or the additional parameter", u)
		}
	})
	t.Run("provider error lands on the error callback", func(t *testing.T) {
		c := se.browser()
		se.idp.set(func(i *testIdP) { i.deny = true })
		defer se.idp.set(func(i *testIdP) { i.deny = false })
		landed := se.browse(t, c, startSignIn(t, c, map[string]any{"callbackURL": appURL("/dashboard"), "errorCallbackURL": appURL("/oops?from=idp")}), nil)
		if landed.Path != "/oops" || landed.Query().Get("from") != "idp" || landed.Query().Get("error") != "access_denied" ||
			landed.Query().Get("error_description") != "The user declined" {
			t.Fatalf("landed on %s, want the error callback with error=access_denied and its description", landed)
		}
	})
	t.Run("callback without state", func(t *testing.T) {
		landed := se.browse(t, se.browser(), se.srv.URL+"/api/auth/callback/idp?code=abc", se.leavesAuth)
		wantLanding(t, landed, se.srv.URL+"/api/auth/error?error=state_not_found")
	})
	t.Run("form_post callback becomes a GET", func(t *testing.T) {
		req, _ := http.NewRequest("POST", se.srv.URL+"/api/auth/callback/idp", strings.NewReader("state=s1&code=c+1&user=%7B%7D"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		want := se.srv.URL + "/api/auth/callback/idp?code=c+1&state=s1&user=%7B%7D"
		if res.StatusCode != 302 || res.Header.Get("Location") != want {
			t.Fatalf("POST callback = %d %q, want 302 to %q", res.StatusCode, res.Header.Get("Location"), want)
		}
	})
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// The state binds a callback to the browser and the sign-in that started it, once.
func TestSocialStateAndPKCE(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		se := newSocialEnv(t, st)
		se.idp.addUser("cy", "cy@example.com", true)
		errURL := appURL("/oops")
		begin := func(t *testing.T, c *client) *url.URL {
			t.Helper()
			se.idp.set(func(i *testIdP) { i.next = "cy" })
			return se.browse(t, c, startSignIn(t, c, map[string]any{"callbackURL": appURL("/dashboard"), "errorCallbackURL": errURL}), isCallback)
		}
		// Failures without a readable state go to the server's own error page, the others to
		// the errorCallbackURL; either way the code is in ?error=.
		wantError := func(t *testing.T, landed *url.URL, code string) {
			t.Helper()
			if landed.Query().Get("error") != code {
				t.Fatalf("landed on %s, want error=%s", landed, code)
			}
		}

		t.Run("tampered state", func(t *testing.T) {
			c := se.browser()
			cb := begin(t, c)
			q := cb.Query()
			st := q.Get("state")
			swap := "x" // a different first character, whatever the state began with
			if st[0] == 'x' {
				swap = "y"
			}
			q.Set("state", swap+st[1:])
			cb.RawQuery = q.Encode()
			wantError(t, se.browse(t, c, cb.String(), se.leavesAuth), "state_mismatch")
		})
		t.Run("callback in another browser (login CSRF)", func(t *testing.T) {
			cb := begin(t, se.browser())
			wantError(t, se.browse(t, se.browser(), cb.String(), se.leavesAuth), "state_mismatch")
		})
		t.Run("replayed state", func(t *testing.T) {
			c := se.browser()
			cb := begin(t, c)
			stateCookie := c.cookieValue("better-auth.state")
			wantLanding(t, se.browse(t, c, cb.String(), nil), appURL("/dashboard"))
			// Even with the state cookie put back, the used state is gone.
			replay := se.browser()
			replay.jar.SetCookies(mustParse(t, se.srv.URL), []*http.Cookie{{Name: "better-auth.state", Value: stateCookie}})
			wantError(t, se.browse(t, replay, cb.String(), se.leavesAuth), "state_mismatch")
		})
		t.Run("expired state", func(t *testing.T) {
			c := se.browser()
			cb := begin(t, c)
			se.clock.Advance(11 * time.Minute)
			defer se.clock.Advance(-11 * time.Minute)
			wantError(t, se.browse(t, c, cb.String(), se.leavesAuth), "state_mismatch")
		})
		t.Run("wrong PKCE verifier", func(t *testing.T) {
			c := se.browser()
			cb := begin(t, c)
			rewriteState(t, st, cb.Query().Get("state"), func(m map[string]any) { m["codeVerifier"] = strings.Repeat("v", 128) })
			wantError(t, se.browse(t, c, cb.String(), se.leavesAuth), "invalid_code")
		})
		t.Run("wrong nonce", func(t *testing.T) {
			c := se.browser()
			cb := begin(t, c)
			rewriteState(t, st, cb.Query().Get("state"), func(m map[string]any) { m["idTokenNonce"] = strings.Repeat("n", 32) })
			wantError(t, se.browse(t, c, cb.String(), se.leavesAuth), "unable_to_get_user_info")
		})
		t.Run("issuer mix-up", func(t *testing.T) {
			c := se.browser()
			cb := begin(t, c)
			q := cb.Query()
			q.Set("iss", "https://other-idp.example.test")
			cb.RawQuery = q.Encode()
			wantError(t, se.browse(t, c, cb.String(), se.leavesAuth), "issuer_mismatch")
		})
		t.Run("expired ID token", func(t *testing.T) {
			se.idp.set(func(i *testIdP) { i.idTokenLifetime = time.Second })
			defer se.idp.set(func(i *testIdP) { i.idTokenLifetime = 0 })
			c := se.browser()
			cb := begin(t, c)
			// Two minutes later: the state is still good, the ID token (1 s, 30 s leeway) is not.
			se.clock.Advance(2 * time.Minute)
			defer se.clock.Advance(-2 * time.Minute)
			wantError(t, se.browse(t, c, cb.String(), se.leavesAuth), "unable_to_get_user_info")
		})
	})
}

// rewriteState edits the stored state of a sign-in in flight.
func rewriteState(t *testing.T, st *store.Store, state string, edit func(map[string]any)) {
	t.Helper()
	ctx := context.Background()
	v, err := st.ConsumeVerification(ctx, "auth-state:"+state, store.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(v.Value), &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, _ := json.Marshal(m)
	v.Value = string(b)
	if err := st.CreateVerification(ctx, v); err != nil {
		t.Fatal(err)
	}
}

func TestSocialImplicitLinkingRules(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		tests := []struct {
			name             string
			providerVerified bool
			localVerified    bool
			trustProvider    bool
			want             string // landing path, or error code
		}{
			{"both verified: links", true, true, false, "/dashboard"},
			{"provider email unverified: refused", false, true, false, "account_not_linked"},
			{"local email unverified: refused", true, false, false, "account_not_linked"},
			{"trusted provider, unverified provider email: links", false, true, true, "/dashboard"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				se := newSocialEnv(t, st, func(o *socialOptions) {
					if tt.trustProvider {
						o.social.TrustedProviders = []string{"idp"}
					}
				})
				email := strings.ToLower(strings.ReplaceAll(tt.name[:6], " ", "") + "-" + session.RandomString(6) + "@example.com")
				owner := se.client()
				signUp(t, owner, email, "password123")
				if tt.localVerified {
					markVerified(t, st, email)
				}
				username := "dee" + session.RandomString(6)
				se.idp.addUser(username, email, tt.providerVerified)
				c := se.browser()
				landed := se.signInVia(t, c, username, map[string]any{"callbackURL": appURL("/dashboard"), "errorCallbackURL": appURL("/oops")})
				if strings.HasPrefix(tt.want, "/") {
					wantLanding(t, landed, appURL(tt.want))
					if got := sessionOf(t, c)["user"].(map[string]any)["email"]; got != email {
						t.Fatalf("signed in as %v, want the existing user %s", got, email)
					}
					return
				}
				if landed.Path != "/oops" || landed.Query().Get("error") != tt.want {
					t.Fatalf("landed on %s, want /oops?error=%s", landed, tt.want)
				}
				if r := c.do("GET", "/api/auth/get-session", nil); string(r.Raw) != "null" {
					t.Fatalf("a refused sign-in left a session: %s", r.Raw)
				}
			})
		}
	})
}

func markVerified(t *testing.T, st *store.Store, email string) {
	t.Helper()
	u, err := st.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateUser(context.Background(), u.ID, map[string]any{"emailVerified": true}, store.NewTime(time.Now())); err != nil {
		t.Fatal(err)
	}
}

func TestSocialUnverifiedNewUser(t *testing.T) {
	se := newSocialEnv(t, storetest.OpenSQLite(t))
	se.idp.addUser("eve", "eve@example.com", false)
	c := se.browser()
	wantLanding(t, se.signInVia(t, c, "eve", map[string]any{"callbackURL": appURL("/dashboard")}), appURL("/dashboard"))
	if v := sessionOf(t, c)["user"].(map[string]any)["emailVerified"]; v != false {
		t.Fatalf("emailVerified = %v, want false (the provider did not verify the email)", v)
	}

	// With requireEmailVerification the same provider user is refused.
	se2 := newSocialEnv(t, storetest.OpenSQLite(t), func(o *socialOptions) {
		p := o.social.Providers["idp"]
		p.RequireEmailVerification = true
		o.social.Providers["idp"] = p
	})
	se2.idp.addUser("eve", "eve@example.com", false)
	landed := se2.signInVia(t, se2.browser(), "eve", map[string]any{"callbackURL": appURL("/dashboard"), "errorCallbackURL": appURL("/oops")})
	if landed.Query().Get("error") != "email_not_verified" {
		t.Fatalf("landed on %s, want error=email_not_verified", landed)
	}
}

func TestSocialUserinfoEndpoint(t *testing.T) {
	se := newSocialEnv(t, storetest.OpenSQLite(t))
	se.idp.set(func(i *testIdP) { i.userinfoOnly = true })
	se.idp.addUser("fay", "fay@example.com", true)
	c := se.browser()
	wantLanding(t, se.signInVia(t, c, "fay", map[string]any{"callbackURL": appURL("/dashboard")}), appURL("/dashboard"))
	user := sessionOf(t, c)["user"].(map[string]any)
	if user["email"] != "fay@example.com" || user["name"] != "Ada Fay" || user["image"] != "https://img.example.test/fay.png" {
		t.Fatalf("user from the userinfo endpoint = %v", user)
	}
}

func TestSocialIDTokenSignIn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		se := newSocialEnv(t, st)
		se.idp.addUser("gus", "gus@example.com", true)

		t.Run("valid token signs in", func(t *testing.T) {
			tok := se.idp.directIDToken(t, idpClientID, idpClientSecret, "gus", "nonce-1")
			c := se.browser()
			r := c.do("POST", "/api/auth/sign-in/social", map[string]any{"provider": "idp", "idToken": map[string]any{"token": tok, "nonce": "nonce-1"}})
			expect(t, r, 200, "")
			user, _ := r.JSON["user"].(map[string]any)
			if r.JSON["redirect"] != false || r.JSON["token"] == "" || user["email"] != "gus@example.com" || user["emailVerified"] != true {
				t.Fatalf("sign-in with id token = %s", r.Raw)
			}
			if _, has := r.JSON["url"]; has {
				t.Errorf("body has url: %s", r.Raw)
			}
			if !strings.HasPrefix(r.setCookies()["better-auth.session_token"], "better-auth.session_token="+r.JSON["token"].(string)+".") {
				t.Errorf("no session cookie for the new session: %v", r.Header.Values("Set-Cookie"))
			}
		})
		t.Run("wrong nonce", func(t *testing.T) {
			tok := se.idp.directIDToken(t, idpClientID, idpClientSecret, "gus", "nonce-2")
			r := se.browser().do("POST", "/api/auth/sign-in/social", map[string]any{"provider": "idp", "idToken": map[string]any{"token": tok, "nonce": "other"}})
			expect(t, r, 401, "INVALID_TOKEN")
		})
		t.Run("wrong audience", func(t *testing.T) {
			tok := se.idp.directIDToken(t, "other-app", "other-secret", "gus", "")
			r := se.browser().do("POST", "/api/auth/sign-in/social", map[string]any{"provider": "idp", "idToken": map[string]any{"token": tok}})
			expect(t, r, 401, "INVALID_TOKEN")
		})
		t.Run("expired token", func(t *testing.T) {
			tok := se.idp.directIDToken(t, idpClientID, idpClientSecret, "gus", "")
			se.clock.Advance(2 * time.Hour)
			defer se.clock.Advance(-2 * time.Hour)
			r := se.browser().do("POST", "/api/auth/sign-in/social", map[string]any{"provider": "idp", "idToken": map[string]any{"token": tok}})
			expect(t, r, 401, "INVALID_TOKEN")
		})
		t.Run("tampered token", func(t *testing.T) {
			tok := se.idp.directIDToken(t, idpClientID, idpClientSecret, "gus", "")
			parts := strings.Split(tok, ".")
			parts[2] = strings.Repeat("A", len(parts[2]))
			r := se.browser().do("POST", "/api/auth/sign-in/social", map[string]any{"provider": "idp", "idToken": map[string]any{"token": strings.Join(parts, ".")}})
			expect(t, r, 401, "INVALID_TOKEN")
		})
		t.Run("existing unverified user is not taken over", func(t *testing.T) {
			owner := se.client()
			signUp(t, owner, "hal@example.com", "password123")
			se.idp.addUser("hal", "hal@example.com", true)
			tok := se.idp.directIDToken(t, idpClientID, idpClientSecret, "hal", "")
			r := se.browser().do("POST", "/api/auth/sign-in/social", map[string]any{"provider": "idp", "idToken": map[string]any{"token": tok}})
			expect(t, r, 401, "OAUTH_LINK_ERROR")
			if r.JSON["message"] != "account not linked" {
				t.Fatalf("message = %v, want Better-Auth's reason", r.JSON["message"])
			}
		})
	})
}

func TestSocialLinkAndUnlink(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		se := newSocialEnv(t, st)
		c := se.browser()
		signUp(t, c, "ivy@example.com", "password123")
		se.idp.addUser("ivy", "ivy@example.com", true)

		r := c.do("POST", "/api/auth/link-social", map[string]any{"provider": "idp", "callbackURL": appURL("/settings"), "errorCallbackURL": appURL("/oops")})
		expect(t, r, 200, "")
		se.idp.set(func(i *testIdP) { i.next = "ivy" })
		wantLanding(t, se.browse(t, c, r.JSON["url"].(string), nil), appURL("/settings"))
		r = c.do("GET", "/api/auth/list-accounts", nil)
		if len(r.Array) != 2 {
			t.Fatalf("after linking, list-accounts = %s", r.Raw)
		}
		var social map[string]any
		for _, a := range r.Array {
			if m := a.(map[string]any); m["providerId"] == "idp" {
				social = m
			}
		}
		if social == nil {
			t.Fatalf("no idp account in %s", r.Raw)
		}

		t.Run("signed out", func(t *testing.T) {
			r := se.browser().do("POST", "/api/auth/link-social", map[string]any{"provider": "idp"})
			expect(t, r, 401, "UNAUTHORIZED")
		})
		t.Run("provider email differs from the user's", func(t *testing.T) {
			other := se.browser()
			signUp(t, other, "jay@example.com", "password123")
			se.idp.addUser("jay", "jay.private@example.com", true)
			r := other.do("POST", "/api/auth/link-social", map[string]any{"provider": "idp", "callbackURL": appURL("/settings"), "errorCallbackURL": appURL("/oops")})
			expect(t, r, 200, "")
			se.idp.set(func(i *testIdP) { i.next = "jay" })
			landed := se.browse(t, other, r.JSON["url"].(string), nil)
			if landed.Path != "/oops" || landed.Query().Get("error") != "email_does_not_match" {
				t.Fatalf("landed on %s, want /oops?error=email_does_not_match", landed)
			}
		})
		t.Run("session revoked before the provider answered", func(t *testing.T) {
			d := se.browser()
			signUp(t, d, "lee@example.com", "password123")
			se.idp.addUser("lee", "lee@example.com", true)
			r := d.do("POST", "/api/auth/link-social", map[string]any{"provider": "idp", "callbackURL": appURL("/settings"), "errorCallbackURL": appURL("/oops")})
			expect(t, r, 200, "")
			token, _ := session.Unsign([]byte(testSecret), urlDecode(d.cookieValue("better-auth.session_token")))
			if err := st.DeleteSession(context.Background(), token); err != nil {
				t.Fatal(err)
			}
			se.idp.set(func(i *testIdP) { i.next = "lee" })
			landed := se.browse(t, d, r.JSON["url"].(string), nil)
			if landed.Query().Get("error") != "unable_to_link_account" {
				t.Fatalf("landed on %s, want unable_to_link_account", landed)
			}
		})

		// Unlinking: the social account can go, the last one cannot.
		r = c.do("POST", "/api/auth/unlink-account", map[string]any{"accountId": social["id"]})
		expect(t, r, 200, "")
		r = c.do("GET", "/api/auth/list-accounts", nil)
		if len(r.Array) != 1 {
			t.Fatalf("after unlinking, list-accounts = %s", r.Raw)
		}
		last := r.Array[0].(map[string]any)["id"]
		r = c.do("POST", "/api/auth/unlink-account", map[string]any{"accountId": last})
		expect(t, r, 400, "FAILED_TO_UNLINK_LAST_ACCOUNT")
	})
}

func TestSocialLinkAccountOfAnotherUser(t *testing.T) {
	se := newSocialEnv(t, storetest.OpenSQLite(t), func(o *socialOptions) { o.social.AccountLinking.AllowDifferentEmails = true })
	se.idp.addUser("rae", "rae@example.com", true)
	owner := se.browser()
	wantLanding(t, se.signInVia(t, owner, "rae", map[string]any{"callbackURL": appURL("/dashboard")}), appURL("/dashboard"))

	c := se.browser()
	signUp(t, c, "sam@example.com", "password123")
	r := c.do("POST", "/api/auth/link-social", map[string]any{"provider": "idp", "callbackURL": appURL("/settings"), "errorCallbackURL": appURL("/oops")})
	expect(t, r, 200, "")
	se.idp.set(func(i *testIdP) { i.next = "rae" })
	landed := se.browse(t, c, r.JSON["url"].(string), nil)
	if landed.Query().Get("error") != "account_already_linked_to_different_user" {
		t.Fatalf("landed on %s, want error=account_already_linked_to_different_user", landed)
	}
}

func urlDecode(s string) string {
	d, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return d
}

func TestSocialLinkWithIDToken(t *testing.T) {
	se := newSocialEnv(t, storetest.OpenSQLite(t))
	c := se.browser()
	signUp(t, c, "mia@example.com", "password123")
	se.idp.addUser("mia", "mia@example.com", true)
	se.idp.addUser("mia2", "someone-else@example.com", true)
	se.idp.addUser("mia3", "mia@example.com", false)

	r := c.do("POST", "/api/auth/link-social", map[string]any{"provider": "idp", "idToken": map[string]any{"token": se.idp.directIDToken(t, idpClientID, idpClientSecret, "mia2", "")}})
	expect(t, r, 401, "LINKING_DIFFERENT_EMAILS_NOT_ALLOWED")
	r = c.do("POST", "/api/auth/link-social", map[string]any{"provider": "idp", "idToken": map[string]any{"token": se.idp.directIDToken(t, idpClientID, idpClientSecret, "mia3", "")}})
	expect(t, r, 401, "LINKING_NOT_ALLOWED")
	tok := se.idp.directIDToken(t, idpClientID, idpClientSecret, "mia", "")
	r = c.do("POST", "/api/auth/link-social", map[string]any{"provider": "idp", "idToken": map[string]any{"token": tok}})
	expect(t, r, 200, "")
	if string(r.Raw) != `{"url":"","status":true,"redirect":false}` {
		t.Fatalf("link-social with id token = %s", r.Raw)
	}
	// The same provider account on another user is a conflict.
	other := se.browser()
	signUp(t, other, "ned@example.com", "password123")
	r = other.do("POST", "/api/auth/link-social", map[string]any{"provider": "idp", "idToken": map[string]any{"token": tok}})
	expect(t, r, 409, "SOCIAL_ACCOUNT_ALREADY_LINKED")
}

func TestSocialProviderTokens(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		for _, encrypt := range []bool{false, true} {
			name := "plain"
			if encrypt {
				name = "encrypted at rest"
			}
			t.Run(name, func(t *testing.T) {
				se := newSocialEnv(t, st, func(o *socialOptions) { o.social.EncryptOAuthTokens = encrypt })
				user := "oli" + session.RandomString(4)
				se.idp.addUser(user, user+"@example.com", true)
				c := se.browser()
				wantLanding(t, se.signInVia(t, c, user, map[string]any{"callbackURL": appURL("/dashboard")}), appURL("/dashboard"))
				r := c.do("GET", "/api/auth/list-accounts", nil)
				accountID := r.Array[0].(map[string]any)["id"].(string)

				r = c.do("POST", "/api/auth/get-access-token", map[string]any{"accountId": accountID})
				expect(t, r, 200, "")
				first, _ := r.JSON["accessToken"].(string)
				if first == "" || !jsDate.MatchString(r.JSON["accessTokenExpiresAt"].(string)) || r.JSON["idToken"] == nil {
					t.Fatalf("get-access-token = %s", r.Raw)
				}
				var row store.Account
				if err := st.RawRow(context.Background(), &row, `select * from "account" where "id" = ?`, accountID); err != nil {
					t.Fatal(err)
				}
				if stored := *row.AccessToken; (stored == first) == encrypt {
					t.Fatalf("stored access token %q vs returned %q: encrypt=%v", stored, first, encrypt)
				}

				// Past the expiry the token is refreshed through the provider and stored.
				se.clock.Advance(10 * time.Minute)
				r = c.do("POST", "/api/auth/get-access-token", map[string]any{"accountId": accountID})
				expect(t, r, 200, "")
				second, _ := r.JSON["accessToken"].(string)
				if second == "" || second == first {
					t.Fatalf("expired token not refreshed: %s", r.Raw)
				}
				r = c.do("POST", "/api/auth/get-access-token", map[string]any{"accountId": accountID})
				if r.JSON["accessToken"] != second {
					t.Fatalf("refreshed token not stored: got %v, want %v", r.JSON["accessToken"], second)
				}

				r = c.do("POST", "/api/auth/refresh-token", map[string]any{"accountId": accountID})
				expect(t, r, 200, "")
				if r.JSON["accessToken"] == second || r.JSON["refreshToken"] == "" || r.JSON["providerId"] != "idp" || r.JSON["accountId"] != accountID {
					t.Fatalf("refresh-token = %s", r.Raw)
				}
				for _, k := range []string{"refreshTokenExpiresAt", "scope", "idToken"} {
					if _, present := r.JSON[k]; !present {
						t.Errorf("refresh-token lacks %s (Better-Auth sends null when unknown): %s", k, r.Raw)
					}
				}

				r = c.do("GET", "/api/auth/account-info?accountId="+accountID, nil)
				expect(t, r, 200, "")
				info, _ := r.JSON["user"].(map[string]any)
				acct, _ := r.JSON["account"].(map[string]any)
				if info["email"] != user+"@example.com" || acct["id"] != accountID || acct["providerId"] != "idp" {
					t.Fatalf("account-info = %s", r.Raw)
				}

				r = c.do("POST", "/api/auth/get-access-token", map[string]any{"accountId": "nope"})
				expect(t, r, 400, "ACCOUNT_NOT_FOUND")
				r = c.do("POST", "/api/auth/get-access-token", map[string]any{"providerId": "idp"})
				expect(t, r, 400, "VALIDATION_ERROR")
				if r.JSON["message"] != "[body] Invalid input" {
					t.Errorf("pre-1.7 body: message = %v", r.JSON["message"])
				}
				r = c.do("POST", "/api/auth/get-access-token", map[string]any{"accountId": accountID, "foo": 1})
				expect(t, r, 400, "VALIDATION_ERROR")
				if r.JSON["message"] != `[body] Unrecognized key: "foo"` {
					t.Errorf("unknown key: message = %v", r.JSON["message"])
				}
			})
		}
	})
}

func TestSocialTokenEndpointsSignedOut(t *testing.T) {
	se := newSocialEnv(t, storetest.OpenSQLite(t))
	c := se.browser()
	for _, tc := range []struct{ method, path string }{
		{"POST", "/api/auth/get-access-token"},
		{"POST", "/api/auth/refresh-token"},
		{"GET", "/api/auth/account-info?accountId=x"},
	} {
		var body any
		if tc.method == "POST" {
			body = map[string]any{"accountId": "x"}
		}
		r := c.do(tc.method, tc.path, body)
		if r.Status != 401 || len(r.Raw) != 0 || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s signed out = %d %q (%s), want 401 with an empty JSON body", tc.method, tc.path, r.Status, r.Raw, r.Header.Get("Content-Type"))
		}
	}
	r := c.do("GET", "/api/auth/account-info?useAccountCookie=true", nil)
	expect(t, r, 400, "VALIDATION_ERROR")
}

func TestSocialCredentialAccountTokens(t *testing.T) {
	se := newSocialEnv(t, storetest.OpenSQLite(t))
	c := se.browser()
	signUp(t, c, "quinn@example.com", "password123")
	r := c.do("GET", "/api/auth/list-accounts", nil)
	id := r.Array[0].(map[string]any)["id"]
	r = c.do("POST", "/api/auth/get-access-token", map[string]any{"accountId": id})
	expect(t, r, 400, "PROVIDER_NOT_SUPPORTED")
	if r.JSON["message"] != "Provider credential is not supported." {
		t.Errorf("message = %v", r.JSON["message"])
	}
	r = c.do("POST", "/api/auth/refresh-token", map[string]any{"accountId": id})
	expect(t, r, 400, "PROVIDER_NOT_SUPPORTED")
	r = c.do("GET", "/api/auth/account-info?accountId="+id.(string), nil)
	expect(t, r, 400, "PROVIDER_NOT_CONFIGURED")
}
