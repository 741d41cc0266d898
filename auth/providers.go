package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"authserver/env"
)

// providerTypes are the provider implementations, one provider_<type>.go each, in the order
// LoadProvidersFromEnv reads them. Adding a provider is its file and one line here.
var providerTypes = []struct {
	name string
	typ  providerType
}{
	{ProviderGoogle, googleType{}},
	{ProviderGitHub, githubType{}},
	{ProviderMicrosoft, microsoftType{}},
	{ProviderApple, appleType{}},
	{ProviderDiscord, discordType{}},
	{ProviderGitLab, gitlabType{}},
	{ProviderOIDC, oidcType{}},
}

// builtinProviders are the types a provider id names by itself, each configured from the
// environment by <TYPE>_CLIENT_ID: every type but the generic "oidc".
var builtinProviders = func() []string {
	var names []string
	for _, t := range providerTypes {
		if t.name != ProviderOIDC {
			names = append(names, t.name)
		}
	}
	return names
}()

// typeNamed returns the implementation of a provider type, nil for an unknown one.
func typeNamed(name string) providerType {
	for _, t := range providerTypes {
		if t.name == name {
			return t.typ
		}
	}
	return nil
}

// ProviderConfig configures one social provider. Field names follow Better-Auth's provider
// options (socialProviders.<id> and genericOAuth's config) so a Better-Auth configuration
// translates one to one.
type ProviderConfig struct {
	// Type is the implementation: a built-in name (google, github, microsoft, apple, discord,
	// gitlab) or "oidc". Empty means the provider id when that is a built-in name, else "oidc".
	Type         string `json:"type,omitempty" yaml:"type,omitempty"`
	ClientID     string `json:"clientId" yaml:"clientId"`
	ClientSecret string `json:"clientSecret,omitempty" yaml:"clientSecret,omitempty"`
	// Audiences are further client ids an ID token may be issued to (Better-Auth's clientId
	// array; Apple's audience or appBundleIdentifier), e.g. an app's iOS and Android clients.
	Audiences []string `json:"audiences,omitempty" yaml:"audiences,omitempty"`
	// Scopes are requested on top of the provider's defaults (Better-Auth's scope / scopes).
	Scopes              []string `json:"scopes,omitempty" yaml:"scopes,omitempty"`
	DisableDefaultScope bool     `json:"disableDefaultScope,omitempty" yaml:"disableDefaultScope,omitempty"`
	// RedirectURI replaces {API URL}/callback/{id} as the registered redirect URI.
	RedirectURI string `json:"redirectURI,omitempty" yaml:"redirectURI,omitempty"`
	Prompt      string `json:"prompt,omitempty" yaml:"prompt,omitempty"`
	// AccessType ("offline" for refresh tokens), Display and HostedDomain (hd) are Google's.
	AccessType   string `json:"accessType,omitempty" yaml:"accessType,omitempty"`
	Display      string `json:"display,omitempty" yaml:"display,omitempty"`
	HostedDomain string `json:"hd,omitempty" yaml:"hd,omitempty"`
	// TenantID (default "common"), Authority (default https://login.microsoftonline.com),
	// DisableProfilePhoto and ProfilePhotoSize (default 48) are Microsoft Entra ID's.
	TenantID            string `json:"tenantId,omitempty" yaml:"tenantId,omitempty"`
	Authority           string `json:"authority,omitempty" yaml:"authority,omitempty"`
	DisableProfilePhoto bool   `json:"disableProfilePhoto,omitempty" yaml:"disableProfilePhoto,omitempty"`
	ProfilePhotoSize    int    `json:"profilePhotoSize,omitempty" yaml:"profilePhotoSize,omitempty"`
	// Issuer is GitLab's base URL, for self-hosted instances (default https://gitlab.com).
	Issuer string `json:"issuer,omitempty" yaml:"issuer,omitempty"`
	// DiscoveryURL is an OpenID provider's /.well-known/openid-configuration (type "oidc").
	DiscoveryURL string `json:"discoveryUrl,omitempty" yaml:"discoveryUrl,omitempty"`
	// PKCE sends a S256 code challenge (type "oidc"; default true; built-ins do as Better-Auth).
	PKCE *bool `json:"pkce,omitempty" yaml:"pkce,omitempty"`
	// AuthorizationURL, TokenURL, UserInfoURL and JWKSURL replace the endpoints a provider
	// would use (the discovered ones for "oidc"; for GitHub UserInfoURL is the API's /user).
	AuthorizationURL string `json:"authorizationUrl,omitempty" yaml:"authorizationUrl,omitempty"`
	TokenURL         string `json:"tokenUrl,omitempty" yaml:"tokenUrl,omitempty"`
	UserInfoURL      string `json:"userInfoUrl,omitempty" yaml:"userInfoUrl,omitempty"`
	JWKSURL          string `json:"jwksUrl,omitempty" yaml:"jwksUrl,omitempty"`
	// AuthorizationURLParams are extra query parameters of every authorization URL ("oidc").
	AuthorizationURLParams map[string]string `json:"authorizationUrlParams,omitempty" yaml:"authorizationUrlParams,omitempty"`
	// TokenAuthBasic authenticates to the token endpoint with HTTP Basic instead of
	// client_secret_post (Better-Auth's authentication: "basic").
	TokenAuthBasic bool `json:"tokenAuthBasic,omitempty" yaml:"tokenAuthBasic,omitempty"`
	// DisableSignUp never creates users through this provider; DisableImplicitSignUp creates
	// them only when the client asks with requestSignUp.
	DisableSignUp         bool `json:"disableSignUp,omitempty" yaml:"disableSignUp,omitempty"`
	DisableImplicitSignUp bool `json:"disableImplicitSignUp,omitempty" yaml:"disableImplicitSignUp,omitempty"`
	// RequireEmailVerification refuses sign-in until the user's email is verified.
	RequireEmailVerification bool `json:"requireEmailVerification,omitempty" yaml:"requireEmailVerification,omitempty"`
	// OverrideUserInfoOnSignIn copies the provider's name, image and email onto the user at
	// every sign-in.
	OverrideUserInfoOnSignIn bool `json:"overrideUserInfoOnSignIn,omitempty" yaml:"overrideUserInfoOnSignIn,omitempty"`
	// DisableIDTokenSignIn refuses sign-in with a client-supplied ID token.
	DisableIDTokenSignIn bool `json:"disableIdTokenSignIn,omitempty" yaml:"disableIdTokenSignIn,omitempty"`
	// DisableIDTokenNonceBinding stops sending and checking an ID-token nonce ("oidc").
	DisableIDTokenNonceBinding bool `json:"disableIdTokenNonceBinding,omitempty" yaml:"disableIdTokenNonceBinding,omitempty"`
}

// AccountLinkingConfig is Better-Auth's account.accountLinking.
type AccountLinkingConfig struct {
	// Disabled turns linking off (Better-Auth's enabled: false).
	Disabled bool `json:"disabled,omitempty" yaml:"disabled,omitempty"`
	// DisableImplicitLinking never links a provider account to an existing user at sign-in;
	// link-social still works.
	DisableImplicitLinking bool `json:"disableImplicitLinking,omitempty" yaml:"disableImplicitLinking,omitempty"`
	// AllowDifferentEmails lets link-social link an account whose email is not the user's.
	AllowDifferentEmails bool `json:"allowDifferentEmails,omitempty" yaml:"allowDifferentEmails,omitempty"`
	// RequireLocalEmailVerified (default true) links implicitly only to users whose own email
	// is verified, so nobody can pre-register a victim's address and inherit their sign-in.
	RequireLocalEmailVerified *bool `json:"requireLocalEmailVerified,omitempty" yaml:"requireLocalEmailVerified,omitempty"`
	// UpdateUserInfoOnLink copies the provider's name and image onto the user when linking.
	UpdateUserInfoOnLink bool `json:"updateUserInfoOnLink,omitempty" yaml:"updateUserInfoOnLink,omitempty"`
	// AllowChangedEmail restores Better-Auth's implicit linking to a user whose address came
	// through change-email. Off by default: whoever verified that address by clicking a link may
	// not own the account, and would sign in to it through the provider.
	AllowChangedEmail bool `json:"allowChangedEmail,omitempty" yaml:"allowChangedEmail,omitempty"`
}

// SocialConfig configures social sign-in: the providers by id (the id is the {providerId} in
// /api/auth/callback/{providerId}) and Better-Auth's account options.
type SocialConfig struct {
	Providers map[string]ProviderConfig `json:"providers,omitempty" yaml:"providers,omitempty"`
	// TrustedProviders may link to an existing user even when they do not vouch for the email
	// (Better-Auth's accountLinking.trustedProviders).
	TrustedProviders []string             `json:"trustedProviders,omitempty" yaml:"trustedProviders,omitempty"`
	AccountLinking   AccountLinkingConfig `json:"accountLinking,omitempty" yaml:"accountLinking,omitempty"`
	// EncryptOAuthTokens stores access and refresh tokens encrypted (XChaCha20-Poly1305 under
	// SHA-256 of the secret, hex), exactly as Better-Auth's account.encryptOAuthTokens.
	EncryptOAuthTokens bool `json:"encryptOAuthTokens,omitempty" yaml:"encryptOAuthTokens,omitempty"`
	// UpdateAccountOnSignIn (default true) stores the fresh tokens at every sign-in.
	UpdateAccountOnSignIn *bool `json:"updateAccountOnSignIn,omitempty" yaml:"updateAccountOnSignIn,omitempty"`
	// ErrorURL replaces {API URL}/error as where failed callbacks land without an
	// errorCallbackURL (Better-Auth's onAPIError.errorURL).
	ErrorURL string `json:"errorURL,omitempty" yaml:"errorURL,omitempty"`

	// Secret encrypts tokens and link state; nil uses the service's email secret (the same
	// BETTER_AUTH_SECRET that signs cookies).
	Secret []byte `json:"-" yaml:"-"`
	// APIURL is the public base of the auth API; empty uses the service's EmailConfig.APIURL.
	APIURL string `json:"-" yaml:"-"`
	// HTTPClient talks to the providers; nil means a client with a 10 s timeout. Redirects are
	// always refused, as Better-Auth refuses them on server-side OAuth requests.
	HTTPClient *http.Client `json:"-" yaml:"-"`
	Logger     *slog.Logger `json:"-" yaml:"-"`
	// Now is the clock; nil uses the service's.
	Now func() time.Time `json:"-" yaml:"-"`
}

// LoadProvidersFromEnv reads the social providers and account options from the environment:
//
//	GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET (+ GOOGLE_ACCESS_TYPE, GOOGLE_PROMPT, GOOGLE_HD, GOOGLE_AUDIENCES)
//	GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET
//	MICROSOFT_CLIENT_ID, MICROSOFT_CLIENT_SECRET, MICROSOFT_TENANT_ID (+ MICROSOFT_AUTHORITY)
//	APPLE_CLIENT_ID, APPLE_CLIENT_SECRET (+ APPLE_AUDIENCES, e.g. the app bundle id)
//	DISCORD_CLIENT_ID, DISCORD_CLIENT_SECRET
//	GITLAB_CLIENT_ID, GITLAB_CLIENT_SECRET, GITLAB_ISSUER
//	OIDC_PROVIDERS=id1,id2 with OIDC_<ID>_DISCOVERY_URL, _CLIENT_ID, _CLIENT_SECRET, _SCOPES
//	TRUSTED_PROVIDERS=google,github   ENCRYPT_OAUTH_TOKENS=true
//
// Every provider also reads <P>_SCOPES (extra scopes, comma or space separated), <P>_PROMPT,
// <P>_REDIRECT_URI, <P>_DISABLE_SIGN_UP, <P>_DISABLE_IMPLICIT_SIGN_UP,
// <P>_REQUIRE_EMAIL_VERIFICATION and <P>_OVERRIDE_USER_INFO, where <P> is GOOGLE, ... or
// OIDC_<ID> (the id upper-cased, "-" and "." as "_"). A provider is on when its client id is
// set. Account linking: ACCOUNT_LINKING_ENABLED (default true), ACCOUNT_LINKING_ALLOW_DIFFERENT_EMAILS,
// ACCOUNT_LINKING_DISABLE_IMPLICIT, ACCOUNT_LINKING_REQUIRE_LOCAL_EMAIL_VERIFIED (default true),
// ACCOUNT_LINKING_UPDATE_USER_INFO, ACCOUNT_LINKING_ALLOW_CHANGED_EMAIL; OAUTH_ERROR_URL replaces
// the default error page.
func LoadProvidersFromEnv(getenv func(string) string) (SocialConfig, error) {
	r := env.New(getenv)
	env := func(k string) string { return r.String(k, "") }
	cfg := SocialConfig{Providers: map[string]ProviderConfig{}}
	common := func(prefix string, p *ProviderConfig) {
		p.ClientSecret = env(prefix + "_CLIENT_SECRET")
		p.Scopes = splitList(env(prefix + "_SCOPES"))
		p.Prompt = env(prefix + "_PROMPT")
		p.RedirectURI = env(prefix + "_REDIRECT_URI")
		p.DisableSignUp = r.Bool(prefix+"_DISABLE_SIGN_UP", false)
		p.DisableImplicitSignUp = r.Bool(prefix+"_DISABLE_IMPLICIT_SIGN_UP", false)
		p.RequireEmailVerification = r.Bool(prefix+"_REQUIRE_EMAIL_VERIFICATION", false)
		p.OverrideUserInfoOnSignIn = r.Bool(prefix+"_OVERRIDE_USER_INFO", false)
	}
	for _, id := range builtinProviders {
		prefix := strings.ToUpper(id)
		clientID := env(prefix + "_CLIENT_ID")
		if clientID == "" {
			continue
		}
		p := ProviderConfig{Type: id, ClientID: clientID}
		common(prefix, &p)
		typeNamed(id).loadEnv(env, &p)
		cfg.Providers[id] = p
	}
	for _, id := range splitList(env("OIDC_PROVIDERS")) {
		prefix := "OIDC_" + envKey(id)
		p := ProviderConfig{Type: ProviderOIDC, ClientID: env(prefix + "_CLIENT_ID"), DiscoveryURL: env(prefix + "_DISCOVERY_URL")}
		common(prefix, &p)
		p.PKCE = r.OptionalBool(prefix + "_PKCE")
		p.TokenAuthBasic = strings.EqualFold(env(prefix+"_TOKEN_AUTH"), "basic")
		if _, dup := cfg.Providers[id]; dup {
			r.Fail(fmt.Errorf("OIDC_PROVIDERS: %q is already configured", id))
			continue
		}
		cfg.Providers[id] = p
	}
	cfg.TrustedProviders = splitList(env("TRUSTED_PROVIDERS"))
	cfg.EncryptOAuthTokens = r.Bool("ENCRYPT_OAUTH_TOKENS", false)
	cfg.AccountLinking.Disabled = !r.Bool("ACCOUNT_LINKING_ENABLED", true)
	cfg.AccountLinking.AllowDifferentEmails = r.Bool("ACCOUNT_LINKING_ALLOW_DIFFERENT_EMAILS", false)
	cfg.AccountLinking.DisableImplicitLinking = r.Bool("ACCOUNT_LINKING_DISABLE_IMPLICIT", false)
	cfg.AccountLinking.UpdateUserInfoOnLink = r.Bool("ACCOUNT_LINKING_UPDATE_USER_INFO", false)
	cfg.AccountLinking.AllowChangedEmail = r.Bool("ACCOUNT_LINKING_ALLOW_CHANGED_EMAIL", false)
	requireLocal := r.Bool("ACCOUNT_LINKING_REQUIRE_LOCAL_EMAIL_VERIFIED", true)
	cfg.AccountLinking.RequireLocalEmailVerified = &requireLocal
	cfg.ErrorURL = env("OAUTH_ERROR_URL")
	r.Fail(cfg.Validate())
	return cfg, r.Err()
}

// Validate checks that every provider has what it needs to work.
func (c SocialConfig) Validate() error {
	var errs []error
	for _, id := range sortedKeys(c.Providers) {
		p := c.Providers[id]
		typ := typeNamed(providerKind(id, p))
		if !validProviderID.MatchString(id) {
			errs = append(errs, fmt.Errorf("social provider %q: ids are letters, digits, '-', '_' and '.'", id))
		}
		if typ == nil {
			errs = append(errs, fmt.Errorf("social provider %q: unknown type %q", id, p.Type))
			continue
		}
		if p.ClientID == "" {
			errs = append(errs, fmt.Errorf("social provider %q: the client id is required", id))
		}
		if err := typ.validate(p); err != nil {
			errs = append(errs, fmt.Errorf("social provider %q: %w", id, err))
		}
		for _, u := range []string{p.DiscoveryURL, p.AuthorizationURL, p.TokenURL, p.UserInfoURL, p.JWKSURL, p.Issuer, p.Authority} {
			if u == "" {
				continue
			}
			if pu, err := url.Parse(u); err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
				errs = append(errs, fmt.Errorf("social provider %q: %q is not an http(s) URL", id, u))
			}
		}
	}
	return errors.Join(errs...)
}

var validProviderID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func providerKind(id string, p ProviderConfig) string {
	if p.Type != "" {
		return strings.ToLower(p.Type)
	}
	if slices.Contains(builtinProviders, id) {
		return id
	}
	return ProviderOIDC
}

func envKey(id string) string {
	return strings.NewReplacer("-", "_", ".", "_").Replace(strings.ToUpper(id))
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// providerType is what one kind of provider adds to the machinery every provider shares
// (discovery, PKCE, the code exchange, refresh, ID-token verification), each as Better-Auth's
// provider of that name does. Embed baseType for the hooks a type does not need, or
// idTokenUser when the user's profile is the ID token.
type providerType interface {
	// loadEnv reads a built-in type's own environment variables into cfg
	// (LoadProvidersFromEnv, after the ones every provider reads).
	loadEnv(env func(string) string, cfg *ProviderConfig)
	// validate reports what cfg lacks for this type beyond a client id, nil when nothing.
	validate(cfg ProviderConfig) error
	// configure sets p's endpoints, ID-token rules (p.idToken; nil means no ID-token sign-in)
	// and PKCE from p.cfg.
	configure(p *provider)
	// scopes is the scope list of an authorization request, in Better-Auth's order.
	scopes(p *provider, requested []string) []string
	// authorize sets the type's own authorization-URL parameters on q, which holds the
	// defaults.
	authorize(p *provider, q *authQuirks)
	// profile turns the tokens of a code exchange into the user's profile, or nil when the
	// provider gives none; an ID token among them is verified first, with nonce if not empty.
	profile(ctx context.Context, p *provider, t *tokenSet, au *appleUser, nonce string) *profile
	// claimsProfile builds the profile of a verified ID token's claims, or nil.
	claimsProfile(ctx context.Context, p *provider, claims map[string]any, t *tokenSet, au *appleUser) *profile
	// storedProfile reads the profile behind an account's stored tokens (account-info).
	storedProfile(ctx context.Context, p *provider, t *tokenSet) *profile
}

// baseType is the default of the optional hooks: no environment variables of its own, nothing
// to require, Better-Auth's default authorization URL, no ID tokens, and account-info asking
// the provider again with the stored access token.
type baseType struct{}

func (baseType) loadEnv(func(string) string, *ProviderConfig) {}
func (baseType) validate(ProviderConfig) error                { return nil }
func (baseType) authorize(*provider, *authQuirks)             {}
func (baseType) claimsProfile(context.Context, *provider, map[string]any, *tokenSet, *appleUser) *profile {
	return nil
}
func (baseType) storedProfile(ctx context.Context, p *provider, t *tokenSet) *profile {
	return p.typ.profile(ctx, p, t, nil, "")
}

// idTokenUser is the base of the types whose user is their ID token (Google, Microsoft, Apple):
// the code flow verifies the token the exchange returned and reads its claims.
type idTokenUser struct{ baseType }

func (idTokenUser) profile(ctx context.Context, p *provider, t *tokenSet, au *appleUser, nonce string) *profile {
	if t.IDToken == "" {
		return nil
	}
	claims, ok := p.verifiedClaims(ctx, t.IDToken, nonce)
	if !ok {
		return nil
	}
	return p.typ.claimsProfile(ctx, p, claims, t, au)
}

// storedProfile reads the stored ID token as Better-Auth reads it: it was verified when it
// arrived and has long expired since, so it is decoded, not verified again.
func (idTokenUser) storedProfile(ctx context.Context, p *provider, t *tokenSet) *profile {
	claims := unverifiedClaims(t.IDToken)
	if claims == nil {
		return nil
	}
	return p.typ.claimsProfile(ctx, p, claims, t, nil)
}

// provider is one configured provider at run time: its endpoints and how it turns tokens into a
// user, mirroring Better-Auth's provider objects.
type provider struct {
	id     string
	kind   string
	typ    providerType
	cfg    ProviderConfig
	social *Social

	authURL, tokenURL, userInfoURL string
	// issuer is compared with the callback's RFC 9207 iss parameter (generic OIDC only, as in
	// Better-Auth).
	issuer string
	// idToken verifies ID tokens; nil means the provider has no ID-token sign-in.
	idToken *idTokenSpec
	// requiresNonce binds the ID token of the redirect flow to the sign-in with a nonce.
	requiresNonce bool
	pkce          bool
	// discovery: the endpoints come from cfg.DiscoveryURL, fetched on first use (ready).
	discovery bool
	// isOIDC: the discovery document lists ID-token signing algorithms (generic providers).
	isOIDC bool
	// endSession is the provider's RP-initiated logout endpoint (generic OIDC, from discovery).
	endSession string

	// mu guards discovered, the retry bookkeeping and the fields discovery fills in.
	mu         sync.Mutex
	discovered bool
	// retryAt and lastErr hold back a failed discovery for a while, so an unreachable provider
	// costs each sign-in an immediate error rather than a 10 s wait.
	retryAt time.Time
	lastErr error
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// newProvider builds a provider from its configuration, which Validate has accepted (so its
// type is known). Providers with a discovery document find their endpoints later, on first use.
func newProvider(s *Social, id string, cfg ProviderConfig) *provider {
	kind := providerKind(id, cfg)
	typ := typeNamed(kind)
	if typ == nil {
		panic("auth: provider " + strconv.Quote(id) + " has unknown type " + strconv.Quote(cfg.Type) + "; Validate refuses it")
	}
	p := &provider{id: id, kind: kind, typ: typ, cfg: cfg, social: s, pkce: true}
	typ.configure(p)
	return p
}

func requireClientSecret(cfg ProviderConfig) error {
	if cfg.ClientSecret == "" {
		return errors.New("the client secret is required")
	}
	return nil
}

// endpoints sets the type's default endpoints, each replaced by its ProviderConfig override.
func (p *provider) endpoints(authURL, tokenURL, userInfoURL string) {
	p.authURL, p.tokenURL, p.userInfoURL = or(p.cfg.AuthorizationURL, authURL), or(p.cfg.TokenURL, tokenURL), or(p.cfg.UserInfoURL, userInfoURL)
}

// platformIDToken is the ID-token rule set Better-Auth gives Google, Microsoft and Apple: RS256
// only, issued within the hour, to the client id or one of the configured Audiences.
func (p *provider) platformIDToken(jwksURL string, issuers ...string) *idTokenSpec {
	return &idTokenSpec{jwksURL: jwksURL, issuers: issuers, audiences: append([]string{p.cfg.ClientID}, p.cfg.Audiences...),
		algs: []string{"RS256"}, maxAge: time.Hour}
}

// defaultScopesFirst is Better-Auth's usual scope order: the type's defaults (unless
// DisableDefaultScope), the configured scopes, then the request's.
func (p *provider) defaultScopesFirst(defaults, requested []string) []string {
	if p.cfg.DisableDefaultScope {
		defaults = nil
	}
	return append(append(defaults, p.cfg.Scopes...), requested...)
}

// verifiedClaims verifies an ID token from the code exchange; a rejected one is logged and ok
// is false.
func (p *provider) verifiedClaims(ctx context.Context, raw, nonce string) (map[string]any, bool) {
	claims, err := p.verifyIDToken(ctx, raw, nonce)
	if err != nil {
		p.social.log.LogAttrs(ctx, slog.LevelWarn, "oauth id token rejected", slog.String("provider", p.id), slog.String("error", err.Error()))
		return nil, false
	}
	return claims, true
}

// fetchUser fetches the provider's user document from userInfoURL into dst; a failure is logged
// and reported as false.
func (p *provider) fetchUser(ctx context.Context, h http.Header, dst any) bool {
	if err := p.social.getJSON(ctx, p.userInfoURL, h, dst); err != nil {
		p.social.log.LogAttrs(ctx, slog.LevelWarn, p.kind+" user failed", slog.String("error", err.Error()))
		return false
	}
	return true
}

// discoveryDoc is the part of an OpenID provider's metadata the server uses.
type discoveryDoc struct {
	Issuer           string   `json:"issuer"`
	AuthorizationURL string   `json:"authorization_endpoint"`
	TokenURL         string   `json:"token_endpoint"`
	UserInfoURL      string   `json:"userinfo_endpoint"`
	JWKSURL          string   `json:"jwks_uri"`
	Algorithms       []string `json:"id_token_signing_alg_values_supported"`
	EndSessionURL    string   `json:"end_session_endpoint"`
}

// ready makes sure a generic provider has its endpoints, fetching the discovery document if it
// has not been fetched yet. A failed fetch is retried by the next request, as Better-Auth
// retries a provider whose startup discovery failed.
func (p *provider) ready(ctx context.Context) error {
	if !p.discovery {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.discovered {
		return nil
	}
	if p.lastErr != nil && time.Now().Before(p.retryAt) {
		return p.lastErr
	}
	if err := p.discover(ctx); err != nil {
		p.lastErr, p.retryAt = err, time.Now().Add(10*time.Second)
		return err
	}
	p.discovered, p.lastErr = true, nil
	return nil
}

// discover fetches and applies the discovery document; the caller holds mu.
func (p *provider) discover(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var doc discoveryDoc
	if err := p.social.getJSON(ctx, p.cfg.DiscoveryURL, nil, &doc); err != nil {
		return fmt.Errorf("auth: discovery for %q: %w", p.id, err)
	}
	if doc.Issuer != "" {
		if u, err := url.Parse(doc.Issuer); err != nil || u.Scheme == "" {
			return fmt.Errorf("auth: discovery for %q: invalid issuer %q", p.id, doc.Issuer)
		}
	}
	authURL, tokenURL := or(p.cfg.AuthorizationURL, doc.AuthorizationURL), or(p.cfg.TokenURL, doc.TokenURL)
	if authURL == "" || tokenURL == "" {
		return fmt.Errorf("auth: discovery for %q left no authorization or token endpoint", p.id)
	}
	p.authURL, p.tokenURL, p.userInfoURL = authURL, tokenURL, or(p.cfg.UserInfoURL, doc.UserInfoURL)
	p.issuer = doc.Issuer
	p.isOIDC = len(doc.Algorithms) > 0
	p.endSession = doc.EndSessionURL
	if doc.JWKSURL != "" && doc.Issuer != "" {
		base, _ := url.Parse(p.cfg.DiscoveryURL)
		ref, err := url.Parse(or(p.cfg.JWKSURL, doc.JWKSURL))
		if err != nil {
			return fmt.Errorf("auth: discovery for %q: invalid jwks_uri", p.id)
		}
		spec := &idTokenSpec{jwksURL: base.ResolveReference(ref).String(), issuers: []string{doc.Issuer}, audiences: []string{p.cfg.ClientID}}
		if p.isOIDC {
			spec.algs = doc.Algorithms
		}
		p.idToken = spec
		p.requiresNonce = !p.cfg.DisableIDTokenNonceBinding
	}
	return nil
}

// supportsIDTokenSignIn reports whether a client may sign in with an ID token it got itself.
func (p *provider) supportsIDTokenSignIn() bool {
	return p.idToken != nil && !p.cfg.DisableIDTokenSignIn
}

// verifyIDToken checks an ID token against the provider's keys and rules.
func (p *provider) verifyIDToken(ctx context.Context, raw, nonce string) (map[string]any, error) {
	if p.idToken == nil {
		return nil, errIDTokenRejected
	}
	return p.idToken.verify(ctx, p.social.http, p.social.now(), raw, nonce)
}

// redirectURI is where the provider sends the browser back: {API URL}/callback/{id}.
func (p *provider) redirectURI() string {
	return or(p.cfg.RedirectURI, p.social.apiURL+"/callback/"+p.id)
}

// scopes is the scope list of an authorization request, in Better-Auth's order per provider.
func (p *provider) scopes(requested []string) []string { return p.typ.scopes(p, requested) }

// authRequest is what an authorization URL is built from.
type authRequest struct {
	state, codeVerifier, nonce, loginHint string
	scopes                                []string
	additional                            map[string]string
}

// reservedAuthParams cannot be set through additionalParams: they carry the request's
// correlation and PKCE binding.
var reservedAuthParams = []string{"state", "client_id", "redirect_uri", "response_type", "code_challenge", "code_challenge_method", "nonce", "scope"}

// IsReservedAuthParam reports whether an additionalParams key is one Better-Auth refuses.
func IsReservedAuthParam(key string) bool { return slices.Contains(reservedAuthParams, key) }

// authQuirks are the parts of an authorization URL a provider type decides.
type authQuirks struct {
	responseType, responseMode, prompt, accessType, display, hd string
	// noLoginHint drops the request's login hint.
	noLoginHint bool
	// extra are the type's own further parameters (with the configured ones), which go before
	// the request's additionalParams.
	extra params
}

// authorizationURL builds the provider's authorization URL with Better-Auth's parameters, in
// its order, so the URL matches the one Node would send byte for byte.
func (p *provider) authorizationURL(r authRequest) (string, error) {
	var q params
	a := authQuirks{responseType: "code", prompt: p.cfg.Prompt}
	p.typ.authorize(p, &a)
	// Extra parameters in Better-Auth's order: the provider's own, the configured ones, then
	// the request's (a later one replaces an earlier one of the same name in place).
	additional := a.extra
	for _, k := range sortedKeys(r.additional) {
		additional.set(k, r.additional[k])
	}
	q.set("response_type", a.responseType)
	q.set("client_id", p.cfg.ClientID)
	q.set("state", r.state)
	if len(r.scopes) > 0 {
		q.set("scope", strings.Join(r.scopes, " "))
	}
	q.set("redirect_uri", p.redirectURI())
	if a.display != "" {
		q.set("display", a.display)
	}
	if r.loginHint != "" && !a.noLoginHint {
		q.set("login_hint", r.loginHint)
	}
	if r.nonce != "" {
		q.set("nonce", r.nonce)
	}
	if a.prompt != "" {
		q.set("prompt", a.prompt)
	}
	if a.hd != "" {
		q.set("hd", a.hd)
	}
	if a.accessType != "" {
		q.set("access_type", a.accessType)
	}
	if a.responseMode != "" {
		q.set("response_mode", a.responseMode)
	}
	if p.pkce && r.codeVerifier != "" {
		q.set("code_challenge_method", "S256")
		q.set("code_challenge", oauth2.S256ChallengeFromVerifier(r.codeVerifier))
	}
	for _, kv := range additional {
		if !IsReservedAuthParam(kv[0]) {
			q.set(kv[0], kv[1])
		}
	}
	return appendQueryParams(withoutQueryParams(p.authURL, q), q)
}

// params is an ordered query with URLSearchParams' set semantics: setting a present name
// replaces its value in place.
type params [][2]string

func (q *params) set(k, v string) {
	for i := range *q {
		if (*q)[i][0] == k {
			(*q)[i][1] = v
			return
		}
	}
	*q = append(*q, [2]string{k, v})
}

func (q params) has(k string) bool {
	for _, kv := range q {
		if kv[0] == k {
			return true
		}
	}
	return false
}

// encode serialises like URLSearchParams.toString (FormEncode).
func (q params) encode() string { return FormEncode(q) }

// FormEncode writes name-value pairs in order as URLSearchParams.toString does:
// application/x-www-form-urlencoded, spaces as "+", only [A-Za-z0-9*-._] left as they are. Links
// and redirects built this way match Better-Auth's byte for byte.
func FormEncode(pairs [][2]string) string {
	var b strings.Builder
	for i, kv := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(formEscape(kv[0]))
		b.WriteByte('=')
		b.WriteString(formEscape(kv[1]))
	}
	return b.String()
}

func formEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '*', c == '-', c == '.', c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte("0123456789ABCDEF"[c>>4])
			b.WriteByte("0123456789ABCDEF"[c&15])
		}
	}
	return b.String()
}

// withoutQueryParams drops from endpoint's query the names q sets, keeping the rest of the
// query's text untouched (providers may sign it).
func withoutQueryParams(endpoint string, q params) string {
	u, err := url.Parse(endpoint)
	if err != nil || u.RawQuery == "" {
		return endpoint
	}
	var kept []string
	for _, pair := range strings.Split(u.RawQuery, "&") {
		if pair == "" {
			continue
		}
		name, _, _ := strings.Cut(pair, "=")
		if dec, err := url.QueryUnescape(name); err == nil {
			name = dec
		}
		if !q.has(name) {
			kept = append(kept, pair)
		}
	}
	u.RawQuery = strings.Join(kept, "&")
	return u.String()
}

// appendQueryParams is Better-Auth's appendQueryParams: the parameters go after any existing
// query (whose text is kept), before the fragment, for absolute and root-relative URLs alike.
func appendQueryParams(target string, q params) (string, error) {
	if strings.HasPrefix(target, "//") || strings.HasPrefix(target, `/\`) {
		return "", errors.New("auth: expected an absolute or root-relative URL")
	}
	extra := q.encode()
	if extra == "" {
		return target, nil
	}
	u, err := url.Parse(target)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(target, "/") && (u.Scheme == "" || u.Opaque != "") {
		return "", errors.New("auth: expected an absolute or root-relative URL")
	}
	switch {
	case u.RawQuery == "" && !u.ForceQuery:
		u.RawQuery = extra
	case strings.HasSuffix(u.RawQuery, "&"):
		u.RawQuery += extra
	default:
		u.RawQuery += "&" + extra
	}
	u.ForceQuery = false
	return u.String(), nil
}

// tokenSet is a token response, Better-Auth's OAuth2Tokens.
type tokenSet struct {
	TokenType             string
	AccessToken           string
	RefreshToken          string
	IDToken               string
	AccessTokenExpiresAt  *time.Time
	RefreshTokenExpiresAt *time.Time
	Scopes                []string
}

func (p *provider) oauth2Config() *oauth2.Config {
	style := oauth2.AuthStyleInParams
	if p.cfg.TokenAuthBasic {
		style = oauth2.AuthStyleInHeader
	}
	return &oauth2.Config{
		ClientID:     p.cfg.ClientID,
		ClientSecret: p.cfg.ClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: p.authURL, TokenURL: p.tokenURL, AuthStyle: style},
		RedirectURL:  p.redirectURI(),
	}
}

// exchange trades an authorization code for tokens (with the PKCE verifier when the provider
// uses PKCE) through golang.org/x/oauth2.
func (p *provider) exchange(ctx context.Context, code, verifier, deviceID string) (*tokenSet, error) {
	var opts []oauth2.AuthCodeOption
	if p.pkce && verifier != "" {
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	if deviceID != "" {
		opts = append(opts, oauth2.SetAuthURLParam("device_id", deviceID))
	}
	tok, err := p.oauth2Config().Exchange(p.social.clientContext(ctx), code, opts...)
	if err != nil {
		return nil, err
	}
	return p.social.tokensFrom(tok), nil
}

// refresh trades a refresh token for new tokens.
func (p *provider) refresh(ctx context.Context, refreshToken string) (*tokenSet, error) {
	tok, err := p.oauth2Config().TokenSource(p.social.clientContext(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return nil, err
	}
	t := p.social.tokensFrom(tok)
	if s, _ := tok.Extra("refresh_token").(string); s == "" {
		// x/oauth2 hands back the old refresh token when the provider sent none; Better-Auth
		// reports "none" and keeps the stored one.
		t.RefreshToken = ""
	}
	return t, nil
}

// tokensFrom reads a token response as Better-Auth's getOAuth2Tokens does, with expiries from
// the server's clock.
func (s *Social) tokensFrom(tok *oauth2.Token) *tokenSet {
	t := &tokenSet{TokenType: tok.TokenType, AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken}
	t.IDToken, _ = tok.Extra("id_token").(string)
	now := s.now()
	if secs := number(tok.Extra("expires_in")); secs > 0 {
		at := now.Add(time.Duration(secs * float64(time.Second)))
		t.AccessTokenExpiresAt = &at
	} else if !tok.Expiry.IsZero() {
		at := tok.Expiry
		t.AccessTokenExpiresAt = &at
	}
	if secs := number(tok.Extra("refresh_token_expires_in")); secs > 0 {
		at := now.Add(time.Duration(secs * float64(time.Second)))
		t.RefreshTokenExpiresAt = &at
	}
	t.Scopes = parseScopeField(tok.Extra("scope"))
	return t
}

func number(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case json.Number:
		f, _ := x.Float64()
		return f
	case string:
		f, _ := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f
	}
	return 0
}

// parseScopeField reads a token response's scope: space-delimited per RFC 6749, or an array as
// some providers send.
func parseScopeField(v any) []string {
	switch x := v.(type) {
	case string:
		return strings.Fields(x)
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok && strings.TrimSpace(s) != "" {
				out = append(out, strings.TrimSpace(s))
			}
		}
		return out
	}
	return nil
}

// profile is what a provider says about the user: Better-Auth's getUserInfo result.
type profile struct {
	Name          *string
	Email         *string
	Image         *string
	EmailVerified bool
	// Data is the raw provider profile (account-info's data).
	Data map[string]any
	// Subject is the provider's stable id for the user, the account's accountId.
	Subject string
}

// fetchProfile turns tokens from the code exchange into a profile, or nil when the provider
// gives none (Better-Auth's unable_to_get_user_info). ID tokens in the exchange response are
// verified before they are read; nonce is the one bound to this sign-in, if any.
func (p *provider) fetchProfile(ctx context.Context, t *tokenSet, au *appleUser, nonce string) *profile {
	return p.typ.profile(ctx, p, t, au, nonce)
}

// profileFromClaims builds the profile of a verified ID token (the ID-token sign-in path, and
// the code flow of providers whose profile is the ID token).
func (p *provider) profileFromClaims(ctx context.Context, claims map[string]any, t *tokenSet, au *appleUser) *profile {
	return p.typ.claimsProfile(ctx, p, claims, t, au)
}

// storedProfile reads the profile behind an account's stored tokens, for account-info.
func (p *provider) storedProfile(ctx context.Context, t *tokenSet) *profile {
	return p.typ.storedProfile(ctx, p, t)
}

func bearer(token string) http.Header {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	return h
}

// getJSON fetches a provider document with the no-redirect client and decodes it, numbers kept
// exact (account ids are numbers at some providers).
func (s *Social) getJSON(ctx context.Context, target string, h http.Header, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	res, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("%s answered %d", redactURL(target), res.StatusCode)
	}
	dec := json.NewDecoder(io.LimitReader(res.Body, 1<<20))
	dec.UseNumber()
	return dec.Decode(dst)
}

// redactURL keeps a URL's scheme, host and path for logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// unverifiedClaims decodes a JWT's payload without checking it, for values already trusted
// because they came straight from the token endpoint (as Better-Auth's decodeJwt).
func unverifiedClaims(raw string) map[string]any {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var claims map[string]any
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if dec.Decode(&claims) != nil {
		return nil
	}
	return claims
}

// stringBool is Better-Auth's parseStringBoolean(v) ?? false: true and "true" are true.
func stringBool(v any) bool {
	return v == true || v == "true"
}

func strPtr(v any) *string {
	if s, ok := v.(string); ok {
		return &s
	}
	return nil
}

// jsString is JavaScript's String(v) for the values a provider uses as an account id; nil
// gives "" (an unusable id).
func jsString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}
