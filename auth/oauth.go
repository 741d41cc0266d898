package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"authserver/auth/atrest"
	"authserver/auth/plugin"
	"authserver/session"
	"authserver/store"
)

// Errors of social sign-in and the provider-token endpoints; the web layer's error table gives
// their wire form (Better-Auth's codes and statuses).
var (
	ErrProviderNotFound       = errors.New("auth: social provider not found")
	ErrIDTokenNotSupported    = errors.New("auth: provider has no id token sign-in")
	ErrIDTokenInvalid         = errors.New("auth: id token rejected")
	ErrFailedToGetUserInfo    = errors.New("auth: failed to get user info from the provider")
	ErrUserEmailNotFound      = errors.New("auth: the provider gave no email")
	ErrSocialAccountLinked    = errors.New("auth: social account already linked to another user")
	ErrLinkingNotAllowed      = errors.New("auth: account linking not allowed")
	ErrLinkingDifferentEmails = errors.New("auth: linking an account with a different email not allowed")
	ErrLinkingFailed          = errors.New("auth: unable to create the linked account")
	ErrRefreshTokenNotFound   = errors.New("auth: refresh token not found")
	ErrRefreshFailed          = errors.New("auth: failed to refresh access token")
	ErrAccessTokenFailed      = errors.New("auth: failed to get a valid access token")
	ErrProviderNotConfigured  = errors.New("auth: account is not associated with a configured provider")
	ErrAccessTokenNotFound    = errors.New("auth: access token not found")
)

// ProviderNotSupportedError means an account's provider is not configured here (the credential
// account, or a provider since removed). Refresh distinguishes Better-Auth's
// TOKEN_REFRESH_NOT_SUPPORTED from PROVIDER_NOT_SUPPORTED.
type ProviderNotSupportedError struct {
	ProviderID string
	Refresh    bool
}

func (e *ProviderNotSupportedError) Error() string {
	if e.Refresh {
		return "auth: provider " + e.ProviderID + " does not support token refreshing"
	}
	return "auth: provider " + e.ProviderID + " is not supported"
}

// LinkError is an ID-token sign-in that resolved to no usable user; Reason is Better-Auth's
// wording ("account not linked", "signup disabled", ...), sent as the OAUTH_LINK_ERROR message.
type LinkError struct{ Reason string }

func (e *LinkError) Error() string { return "auth: oauth sign-in failed: " + e.Reason }

// Callback error codes, sent as ?error= to the error callback URL, as Better-Auth sends them.
const (
	cbStateNotFound         = "state_not_found"
	cbStateMismatch         = "state_mismatch"
	cbInternal              = "internal_server_error"
	cbNoCode                = "no_code"
	cbProviderNotFound      = "oauth_provider_not_found"
	cbIssuerMismatch        = "issuer_mismatch"
	cbNonceBindingMissing   = "nonce_binding_missing"
	cbInvalidCode           = "invalid_code"
	cbUnableToGetUserInfo   = "unable_to_get_user_info"
	cbNoCallbackURL         = "no_callback_url"
	cbUnableToLinkAccount   = "unable_to_link_account"
	cbEmailDoesNotMatch     = "email_does_not_match"
	cbAlreadyLinkedToOther  = "account_already_linked_to_different_user"
	cbEmailNotFound         = "email_not_found"
	cbEmailNotVerified      = "email_not_verified"
	stateIdentifierPrefix   = "auth-state:"
	stateLifetime           = 10 * time.Minute
	linkSessionTokenPurpose = "oauth-link-session-token"
)

// Reasons handleUserInfo gives, in Better-Auth's words; the callback turns spaces into "_".
const (
	reasonNotLinked      = "account not linked"
	reasonSignUpDisabled = "signup disabled"
	reasonCreateUser     = "unable to create user"
	reasonLinkAccount    = "unable to link account"
	reasonCreateSession  = "unable to create session"
	reasonUpdateAccount  = "unable to update account"
)

// Social runs Better-Auth 1.7.25's social sign-in: the redirect flow with state and PKCE, the
// OAuth callback, sign-in with a provider's ID token, account linking, and the provider-token
// endpoints. It is safe for concurrent use.
type Social struct {
	cfg       SocialConfig
	svc       *Service
	st        *store.Store
	sessions  *session.Manager
	providers map[string]*provider
	secret    []byte
	apiURL    string
	// origin is the base URL's origin, the callbackURL a sign-in gets when it names none.
	origin string
	http   *http.Client
	log    *slog.Logger
	now    func() time.Time
	// nextCleanup is when expired verification rows are next swept (Unix ms).
	nextCleanup atomic.Int64
}

// EnableSocial turns on social sign-in for the service with cfg's providers and returns it.
// Calling it again replaces the earlier configuration.
func (s *Service) EnableSocial(cfg SocialConfig) (*Social, error) {
	soc, err := newSocial(cfg, s)
	if err != nil {
		return nil, err
	}
	s.social.Store(soc)
	return soc, nil
}

// Social returns the service's social sign-in; without EnableSocial it has no providers, so
// every provider id is unknown, as in a Better-Auth server with no socialProviders.
func (s *Service) Social() *Social {
	if soc := s.social.Load(); soc != nil {
		return soc
	}
	soc, err := newSocial(SocialConfig{}, s)
	if err != nil {
		panic("auth: empty social config rejected: " + err.Error())
	}
	s.social.CompareAndSwap(nil, soc)
	return s.social.Load()
}

func newSocial(cfg SocialConfig, svc *Service) (*Social, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Social{cfg: cfg, svc: svc, st: svc.st, sessions: svc.sessions, providers: map[string]*provider{}}
	s.secret = cfg.Secret
	if len(s.secret) == 0 {
		s.secret = svc.email.Secret
	}
	if cfg.EncryptOAuthTokens && len(s.secret) == 0 {
		return nil, errors.New("auth: encrypting OAuth tokens needs the secret")
	}
	s.apiURL = strings.TrimRight(or(cfg.APIURL, svc.email.APIURL), "/")
	if len(cfg.Providers) > 0 && s.apiURL == "" {
		return nil, errors.New("auth: social sign-in needs the public API URL (BETTER_AUTH_URL) to build redirect URIs")
	}
	if u, err := url.Parse(s.apiURL); err == nil && u.Host != "" {
		s.origin = u.Scheme + "://" + u.Host
	}
	client := &http.Client{Timeout: 10 * time.Second}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		client = &c
	}
	// Better-Auth refuses redirects on server-side OAuth requests (SSRF); a 3xx is a failure.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.http = client
	s.log = cfg.Logger
	if s.log == nil {
		s.log = svc.email.Logger
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.now = cfg.Now
	if s.now == nil {
		s.now = svc.cfg.Now
	}
	for id, pc := range cfg.Providers {
		s.providers[id] = newProvider(s, id, pc)
	}
	return s, nil
}

// ProviderIDs lists the configured providers.
func (s *Social) ProviderIDs() []string { return sortedKeys(s.providers) }

// APIURL is the public base of the auth API the redirect URIs are built on.
func (s *Social) APIURL() string { return s.apiURL }

func (s *Social) storeNow() store.Time { return store.NewTime(s.now()) }

func (s *Social) clientContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, s.http)
}

func (s *Social) trusted(providerID string) bool {
	return slices.Contains(s.cfg.TrustedProviders, providerID)
}

// provider returns a configured provider ready for use, or nil when the id is unknown or its
// discovery document cannot be had right now.
func (s *Social) provider(ctx context.Context, id string) *provider {
	p := s.providers[id]
	if p == nil {
		return nil
	}
	if err := p.ready(ctx); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "oauth provider unavailable", slog.String("provider", id), slog.String("error", err.Error()))
		return nil
	}
	return p
}

// errorURL is where failures go when the state names no error callback URL.
func (s *Social) errorURL() string { return or(s.cfg.ErrorURL, s.apiURL+"/error") }

// Warm fetches the discovery documents of the generic providers now rather than on first use,
// logging (not failing on) providers that cannot be reached, as Better-Auth does at start.
func (s *Social) Warm(ctx context.Context) {
	for _, id := range s.ProviderIDs() {
		_ = s.provider(ctx, id)
	}
}

// --- tokens at rest -------------------------------------------------------------------------

// keys is the keyring OAuth values are sealed with: the session manager's during a secret
// rotation (BETTER_AUTH_SECRETS), when its current secret is this feature's; otherwise the single
// configured secret.
func (s *Social) keys() session.Keys {
	if s.sessions != nil {
		if k := s.sessions.Keys(); k.Versioned() && string(k.Current) == string(s.secret) {
			return k
		}
	}
	return session.SingleKey(s.secret)
}

// sealToken is Better-Auth's setTokenUtil: tokens are encrypted when EncryptOAuthTokens is on.
func (s *Social) sealToken(tok string) (*string, error) {
	if tok == "" {
		return nil, nil
	}
	if !s.cfg.EncryptOAuthTokens {
		return &tok, nil
	}
	enc, err := atrest.Encrypt(s.keys(), tok)
	if err != nil {
		return nil, err
	}
	return &enc, nil
}

// openToken is Better-Auth's decryptOAuthToken: with encryption on, values that look encrypted
// are decrypted; others (written before encryption was turned on) are returned as they are.
func (s *Social) openToken(tok string) (string, error) {
	if tok == "" || !s.cfg.EncryptOAuthTokens || !isLikelyEncrypted(tok) {
		return tok, nil
	}
	return atrest.Decrypt(s.keys(), tok)
}

// --- state ----------------------------------------------------------------------------------

// stateData is the JSON Better-Auth keeps for a sign-in in flight (verification value
// "auth-state:<state>"); Node and this server read each other's.
type stateData struct {
	CallbackURL   string     `json:"callbackURL"`
	CodeVerifier  string     `json:"codeVerifier"`
	ErrorURL      *string    `json:"errorURL,omitempty"`
	NewUserURL    *string    `json:"newUserURL,omitempty"`
	Link          *stateLink `json:"link,omitempty"`
	ExpiresAt     int64      `json:"expiresAt"`
	RequestSignUp *bool      `json:"requestSignUp,omitempty"`
	IDTokenNonce  string     `json:"idTokenNonce,omitempty"`
	OAuthState    string     `json:"oauthState,omitempty"`
}

// stateLink marks a link-social flow: the user to link to, and (encrypted) the session that
// started it, which must still be live when the provider returns.
type stateLink struct {
	Email                 string     `json:"email"`
	UserID                flexString `json:"userId"`
	EncryptedSessionToken string     `json:"encryptedSessionToken,omitempty"`
}

// flexString accepts a JSON string or number (Better-Auth coerces link.userId to a string).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexString(n.String())
	return nil
}

// internalStateKeys cannot come from additionalData: Better-Auth writes its own values over them.
var internalStateKeys = []string{"callbackURL", "codeVerifier", "errorURL", "newUserURL", "expiresAt", "oauthState", "link", "requestSignUp", "idTokenNonce", "serverContext"}

// encodeState writes the state JSON: the client's additionalData first, then the state's own
// keys, as Better-Auth's {...additionalData, callbackURL, ...} does.
func encodeState(d *stateData, additional map[string]any) (string, error) {
	own, err := json.Marshal(d)
	if err != nil {
		return "", err
	}
	var extra []string
	for _, k := range sortedKeys(additional) {
		if slices.Contains(internalStateKeys, k) {
			continue
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(additional[k])
		if err != nil {
			return "", err
		}
		extra = append(extra, string(kb)+":"+string(vb))
	}
	if len(extra) == 0 {
		return string(own), nil
	}
	return "{" + strings.Join(extra, ",") + "," + string(own[1:]), nil
}

// stateRequest is what a redirect flow stores and sends.
type stateRequest struct {
	callbackURL, errorURL, newUserURL *string
	requestSignUp                     *bool
	link                              *stateLink
	additionalData                    map[string]any
	scopes                            []string
	loginHint                         string
	additionalParams                  map[string]string
}

// authorize starts a redirect flow: it stores the state row and returns the provider URL and the
// state for the signed cookie, as Better-Auth's generateState and createAuthorizationURL.
func (s *Social) authorize(ctx context.Context, p *provider, r stateRequest) (authURL, state string, err error) {
	callbackURL := ""
	if r.callbackURL != nil {
		callbackURL = *r.callbackURL
	}
	if callbackURL == "" {
		callbackURL = s.origin
	}
	if callbackURL == "" {
		return "", "", ErrCallbackURLRequired
	}
	now := s.now()
	d := &stateData{
		CallbackURL:   callbackURL,
		CodeVerifier:  randomURLSafe(128),
		ErrorURL:      r.errorURL,
		NewUserURL:    r.newUserURL,
		Link:          r.link,
		ExpiresAt:     now.Add(stateLifetime).UnixMilli(),
		RequestSignUp: r.requestSignUp,
	}
	if p.requiresNonce {
		d.IDTokenNonce = randomURLSafe(32)
	}
	state = randomURLSafe(32)
	d.OAuthState = state
	value, err := encodeState(d, r.additionalData)
	if err != nil {
		return "", "", err
	}
	nowT := store.NewTime(now)
	v := &store.Verification{ID: session.NewID(), Identifier: stateIdentifierPrefix + state, Value: value,
		ExpiresAt: store.NewTime(now.Add(stateLifetime)), CreatedAt: nowT, UpdatedAt: nowT}
	if err := s.st.CreateVerification(ctx, v); err != nil {
		return "", "", fmt.Errorf("auth: store oauth state: %w", err)
	}
	authURL, err = p.authorizationURL(authRequest{state: state, codeVerifier: d.CodeVerifier, nonce: d.IDTokenNonce,
		loginHint: r.loginHint, scopes: p.scopes(r.scopes), additional: r.additionalParams})
	if err != nil {
		return "", "", fmt.Errorf("auth: authorization URL for %q: %w", p.id, err)
	}
	return authURL, state, nil
}

// ErrCallbackURLRequired means a sign-in named no callback URL and no base URL is configured.
var ErrCallbackURLRequired = errors.New("auth: callbackURL is required")

// callbackFailure is a callback that ends on the error page with ?error=code.
type callbackFailure struct {
	code, description string
	// url is where the failure goes; empty means the default error URL.
	url string
}

// parseState loads, checks and uses up the state a callback brings back, as Better-Auth's
// parseGenericState with the database strategy: the row must exist and name this state, the
// signed state cookie must carry the same state, and the row is deleted (so a state works once).
// clearCookie reports whether the state cookie must be expired (it is, once the cookie matched).
func (s *Social) parseState(ctx context.Context, state, cookieState string) (d *stateData, clearCookie bool, fail *callbackFailure) {
	now := s.now()
	s.sweepVerifications(ctx, now)
	id := stateIdentifierPrefix + state
	// Read the row whether or not it expired, as Better-Auth does, so an expired sign-in lands
	// on its own error callback URL.
	v, err := s.st.FindVerification(ctx, id, store.Time{})
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, &callbackFailure{code: cbStateMismatch}
	}
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "oauth state lookup failed", slog.String("error", err.Error()))
		return nil, false, &callbackFailure{code: cbInternal}
	}
	d = &stateData{}
	if err := json.Unmarshal([]byte(v.Value), d); err != nil || d.CodeVerifier == "" || d.ExpiresAt == 0 {
		s.log.LogAttrs(ctx, slog.LevelError, "oauth state unreadable")
		return nil, false, &callbackFailure{code: cbInternal}
	}
	errURL := ""
	if d.ErrorURL != nil {
		errURL = *d.ErrorURL
	}
	if d.OAuthState != "" && d.OAuthState != state {
		return nil, false, &callbackFailure{code: cbStateMismatch, url: errURL}
	}
	if cookieState == "" || cookieState != state {
		// The browser that finishes the sign-in is not the one that started it.
		return nil, false, &callbackFailure{code: cbStateMismatch, url: errURL}
	}
	_, err = s.st.ConsumeVerification(ctx, id, store.Time{})
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Another request used this state a moment ago: a replay.
		return nil, true, &callbackFailure{code: cbStateMismatch, url: errURL}
	case err != nil:
		s.log.LogAttrs(ctx, slog.LevelError, "oauth state delete failed", slog.String("error", err.Error()))
		return nil, true, &callbackFailure{code: cbInternal}
	}
	if d.ExpiresAt < now.UnixMilli() {
		return nil, true, &callbackFailure{code: cbStateMismatch, url: errURL}
	}
	return d, true, nil
}

// sweepVerifications deletes expired verification rows at most every five minutes, as
// Better-Auth cleans up before lookups.
func (s *Social) sweepVerifications(ctx context.Context, now time.Time) {
	next := s.nextCleanup.Load()
	if now.UnixMilli() < next || !s.nextCleanup.CompareAndSwap(next, now.Add(5*time.Minute).UnixMilli()) {
		return
	}
	if err := s.st.DeleteExpiredVerifications(ctx, store.NewTime(now)); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "verification cleanup failed", slog.String("error", err.Error()))
	}
}

// --- sign-in ----------------------------------------------------------------------------------

// IDTokenInput is a client-supplied ID token (sign-in/social and link-social's idToken).
type IDTokenInput struct {
	Token        string
	Nonce        string
	AccessToken  string
	RefreshToken string
	// User is Apple's first-sign-in user object: the only place Apple gives the name.
	User *IDTokenUser
}

// IDTokenUser is the user object Apple's SDKs hand the app on the first sign-in.
type IDTokenUser struct {
	FirstName, LastName, Email string
	HasName                    bool
}

// SocialSignInInput is a validated sign-in/social request.
type SocialSignInInput struct {
	Provider           string
	CallbackURL        *string
	NewUserCallbackURL *string
	ErrorCallbackURL   *string
	Scopes             []string
	LoginHint          string
	RequestSignUp      *bool
	AdditionalParams   map[string]string
	AdditionalData     map[string]any
	IDToken            *IDTokenInput
	Meta               session.Meta
	// Incoming is the request, for the plugins' hooks on an ID-token sign-in.
	Incoming plugin.Incoming
}

// SocialSignInResult is either a redirect (URL, and State for the state cookie) or, for the
// ID-token flow, the completed sign-in.
type SocialSignInResult struct {
	URL    string
	State  string
	SignIn *plugin.SignIn
}

// SignIn starts a social sign-in, or completes one at once when the client brings an ID token.
func (s *Social) SignIn(ctx context.Context, in SocialSignInInput) (*SocialSignInResult, error) {
	p := s.provider(ctx, in.Provider)
	if p == nil {
		if in.IDToken != nil {
			plugin.SignInFailed(ctx, s.svc, "", "", "provider-not-found")
		}
		return nil, ErrProviderNotFound
	}
	if in.IDToken != nil {
		return s.signInWithIDToken(ctx, p, in)
	}
	u, state, err := s.authorize(ctx, p, stateRequest{callbackURL: in.CallbackURL, errorURL: in.ErrorCallbackURL,
		newUserURL: in.NewUserCallbackURL, requestSignUp: in.RequestSignUp, additionalData: in.AdditionalData,
		scopes: in.Scopes, loginHint: in.LoginHint, additionalParams: in.AdditionalParams})
	if err != nil {
		return nil, err
	}
	return &SocialSignInResult{URL: u, State: state}, nil
}

// verifiedIDToken checks a client-supplied ID token and reads the user from it: the steps
// sign-in/social and link-social share.
func (s *Social) verifiedIDToken(ctx context.Context, p *provider, in *IDTokenInput) (*profile, error) {
	if !p.supportsIDTokenSignIn() {
		return nil, ErrIDTokenNotSupported
	}
	claims, err := p.verifyIDToken(ctx, in.Token, in.Nonce)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "invalid id token", slog.String("provider", p.id), slog.String("error", err.Error()))
		return nil, ErrIDTokenInvalid
	}
	var au *appleUser
	if in.User != nil && in.User.HasName {
		au = &appleUser{Name: &struct {
			FirstName string `json:"firstName"`
			LastName  string `json:"lastName"`
		}{in.User.FirstName, in.User.LastName}}
	}
	prof := p.profileFromClaims(ctx, claims, &tokenSet{IDToken: in.Token, AccessToken: in.AccessToken, RefreshToken: in.RefreshToken}, au)
	if prof == nil {
		return nil, ErrFailedToGetUserInfo
	}
	if prof.Email == nil || *prof.Email == "" {
		return nil, ErrUserEmailNotFound
	}
	if !validSubject(prof.Subject) {
		return nil, ErrFailedToGetUserInfo
	}
	return prof, nil
}

// idTokenRefusal names verifiedIDToken's refusal for the audit log, "" for an error that is no
// refusal.
func idTokenRefusal(err error) string {
	switch {
	case errors.Is(err, ErrIDTokenNotSupported):
		return "id-token-not-supported"
	case errors.Is(err, ErrIDTokenInvalid):
		return "invalid-id-token"
	case errors.Is(err, ErrFailedToGetUserInfo):
		return "unable-to-get-user-info"
	case errors.Is(err, ErrUserEmailNotFound):
		return "email-not-found"
	}
	return ""
}

// validSubject is Better-Auth's check that an account key resolved to a usable id.
func validSubject(s string) bool {
	return strings.TrimSpace(s) != "" && s != "undefined" && s != "null"
}

func (s *Social) signInWithIDToken(ctx context.Context, p *provider, in SocialSignInInput) (*SocialSignInResult, error) {
	prof, err := s.verifiedIDToken(ctx, p, in.IDToken)
	if err != nil {
		if reason := idTokenRefusal(err); reason != "" {
			plugin.SignInFailed(ctx, s.svc, p.id, "", reason) // never the token
		}
		return nil, err
	}
	acct := oauthAccount{ProviderID: p.id, AccountID: prof.Subject, IDToken: in.IDToken.Token, AccessToken: in.IDToken.AccessToken}
	callbackURL := ""
	if in.CallbackURL != nil {
		callbackURL = *in.CallbackURL
	}
	disableSignUp := (p.cfg.DisableImplicitSignUp && (in.RequestSignUp == nil || !*in.RequestSignUp)) || p.cfg.DisableSignUp
	// Better-Auth's last-login-method names no method for /sign-in/social.
	out, reason, err := s.handleUserInfo(ctx, p, userFromProfile(prof), acct, callbackURL, disableSignUp, false, "", in.Meta, in.Incoming)
	if err != nil {
		return nil, err
	}
	if reason != "" && !out.audited {
		uid := ""
		if out.user != nil {
			uid = out.user.ID
		}
		// Failures carry the provider as method, though the success row's method is empty.
		plugin.SignInFailed(ctx, s.svc, p.id, uid, strings.NewReplacer(" ", "-", "_", "-").Replace(reason))
	}
	switch reason {
	case "":
	case cbEmailNotVerified:
		return nil, ErrEmailNotVerified
	default:
		return nil, &LinkError{Reason: reason}
	}
	return &SocialSignInResult{SignIn: out.signIn}, nil
}

// oauthUser is the provider's user as handleUserInfo takes it.
type oauthUser struct {
	email         string
	name          string
	image         *string
	emailVerified bool
}

// userFromProfile keeps a provider's name and picture within the bounds sign-up sets (a provider,
// or Apple's client-posted name, can send anything): a longer name is cut, a longer picture URL,
// which cut would be broken, is left out.
func userFromProfile(p *profile) oauthUser {
	u := oauthUser{emailVerified: p.EmailVerified}
	if p.Image != nil && TextLength(*p.Image) <= MaxImageLength {
		u.image = p.Image
	}
	if p.Email != nil {
		u.email = *p.Email
	}
	if p.Name != nil {
		u.name = cutText(*p.Name, MaxNameLength)
	}
	return u
}

// cutText returns the longest prefix of s of at most max UTF-16 code units, whole characters only.
func cutText(s string, max int) string {
	n := 0
	for i, r := range s {
		w := utf16Units(r)
		if n+w > max {
			return s[:i]
		}
		n += w
	}
	return s
}

// oauthAccount is the account row a sign-in creates or refreshes, tokens in clear.
type oauthAccount struct {
	ProviderID, AccountID                    string
	AccessToken, RefreshToken, IDToken       string
	AccessTokenExpiresAt, RefreshTokenExpiry *time.Time
	Scope                                    *string
}

func accountFromTokens(p *provider, subject string, t *tokenSet) oauthAccount {
	scope := strings.Join(t.Scopes, ",")
	return oauthAccount{ProviderID: p.id, AccountID: subject, AccessToken: t.AccessToken, RefreshToken: t.RefreshToken,
		IDToken: t.IDToken, AccessTokenExpiresAt: t.AccessTokenExpiresAt, RefreshTokenExpiry: t.RefreshTokenExpiresAt, Scope: &scope}
}

// newAccountRow builds the row for a newly linked provider account, tokens sealed.
func (s *Social) newAccountRow(userID string, a oauthAccount) (*store.Account, error) {
	at, err := s.sealToken(a.AccessToken)
	if err != nil {
		return nil, err
	}
	rt, err := s.sealToken(a.RefreshToken)
	if err != nil {
		return nil, err
	}
	now := s.storeNow()
	row := &store.Account{ID: session.NewID(), AccountID: a.AccountID, ProviderID: a.ProviderID, UserID: userID,
		AccessToken: at, RefreshToken: rt, Scope: a.Scope, CreatedAt: now, UpdatedAt: now}
	if a.IDToken != "" {
		id := a.IDToken
		row.IDToken = &id
	}
	row.AccessTokenExpiresAt = timePtr(a.AccessTokenExpiresAt)
	row.RefreshTokenExpiresAt = timePtr(a.RefreshTokenExpiry)
	return row, nil
}

func timePtr(t *time.Time) *store.Time {
	if t == nil {
		return nil
	}
	v := store.NewTime(*t)
	return &v
}

// tokenColumns are the columns a fresh grant updates: only the values the provider sent, as
// Better-Auth drops undefined ones.
func (s *Social) tokenColumns(a oauthAccount) (map[string]any, error) {
	cols := map[string]any{"providerId": a.ProviderID}
	if a.IDToken != "" {
		cols["idToken"] = a.IDToken
	}
	if a.AccessToken != "" {
		v, err := s.sealToken(a.AccessToken)
		if err != nil {
			return nil, err
		}
		cols["accessToken"] = *v
	}
	if a.RefreshToken != "" {
		v, err := s.sealToken(a.RefreshToken)
		if err != nil {
			return nil, err
		}
		cols["refreshToken"] = *v
	}
	if a.AccessTokenExpiresAt != nil {
		cols["accessTokenExpiresAt"] = store.NewTime(*a.AccessTokenExpiresAt)
	}
	if a.RefreshTokenExpiry != nil {
		cols["refreshTokenExpiresAt"] = store.NewTime(*a.RefreshTokenExpiry)
	}
	return cols, nil
}

// signInOutcome is a resolved sign-in or, with a refusal reason, the user the refused sign-in
// named (nil when none) and whether the refusal is already in the audit log (a sign-in hook's,
// which CompleteSignIn records).
type signInOutcome struct {
	signIn     *plugin.SignIn
	isRegister bool
	user       *store.User
	audited    bool
}

var errAmbiguousAccount = errors.New("auth: several accounts have the same provider account id")

// handleUserInfo is Better-Auth's handleOAuthUserInfo: find the user the provider account
// belongs to (or the user with its email, or nobody), link or create as the rules allow, and
// complete the sign-in with method (see plugin.SignIn). Unlike Better-Auth it does not link
// implicitly to an account whose address came through change-email (the victim of a change to
// their address would join the changer's account), unless AccountLinking.AllowChangedEmail says
// so. A refusal comes back as reason (Better-Auth's wording), a database failure as err.
func (s *Social) handleUserInfo(ctx context.Context, p *provider, u oauthUser, a oauthAccount, callbackURL string, disableSignUp, override bool, method string, meta session.Meta, incoming plugin.Incoming) (*signInOutcome, string, error) {
	email := NormalizeEmail(u.email)
	owners, err := s.st.AccountsByKey(ctx, a.ProviderID, a.AccountID)
	if err != nil {
		return nil, "", err
	}
	if len(owners) > 1 {
		return nil, "", errAmbiguousAccount
	}
	var user *store.User
	var linked *store.Account
	if len(owners) == 1 {
		linked = &owners[0]
		user, err = s.st.UserByID(ctx, linked.UserID)
		if errors.Is(err, store.ErrNotFound) {
			s.log.LogAttrs(ctx, slog.LevelError, "oauth account references a missing user", slog.String("provider", a.ProviderID))
			return &signInOutcome{}, reasonLinkAccount, nil
		}
		if err != nil {
			return nil, "", err
		}
	} else {
		user, err = s.st.UserByEmail(ctx, email)
		if errors.Is(err, store.ErrNotFound) {
			user, err = nil, nil
		}
		if err != nil {
			return nil, "", err
		}
	}
	isRegister := user == nil
	link := s.cfg.AccountLinking
	if user != nil {
		if linked == nil {
			requireLocal := link.RequireLocalEmailVerified == nil || *link.RequireLocalEmailVerified
			if (!s.trusted(a.ProviderID) && !u.emailVerified) || (requireLocal && !user.EmailVerified) || link.Disabled || link.DisableImplicitLinking {
				// Never attach a provider account to a user on an email nobody proved: not the
				// provider's (unverified) and not the local user's.
				return &signInOutcome{user: user}, reasonNotLinked, nil
			}
			// An address the account took through change-email was verified by a click in its
			// mailbox, which proves nothing about who owns the account: its owner may be someone
			// else. Whoever holds the address signs in through the provider, not into that account
			// (the owner can still link the provider explicitly with link-social).
			if !link.AllowChangedEmail {
				fromChange, err := s.st.EmailFromChange(ctx, user.ID, user.Email)
				if err != nil {
					return nil, "", err
				}
				if fromChange {
					return &signInOutcome{user: user}, reasonNotLinked, nil
				}
			}
			row, err := s.newAccountRow(user.ID, a)
			if err == nil {
				err = s.st.CreateAccount(ctx, row)
			}
			if err != nil {
				s.log.LogAttrs(ctx, slog.LevelError, "oauth link failed", slog.String("error", err.Error()))
				return &signInOutcome{user: user}, reasonLinkAccount, nil
			}
			if err := s.upgradeVerified(ctx, user, u, email); err != nil {
				return nil, "", err
			}
			if link.UpdateUserInfoOnLink {
				if nu := s.applyUserInfoOnLink(ctx, user.ID, u); nu != nil {
					user = nu
				}
			}
		} else {
			if s.cfg.UpdateAccountOnSignIn == nil || *s.cfg.UpdateAccountOnSignIn {
				cols, err := s.tokenColumns(a)
				if err != nil {
					return nil, "", err
				}
				if _, err := s.st.UpdateAccount(ctx, linked.ID, cols, s.storeNow()); err != nil {
					if errors.Is(err, store.ErrUnavailable) {
						return nil, "", err
					}
					s.log.LogAttrs(ctx, slog.LevelError, "oauth account update failed", slog.String("error", err.Error()))
					return &signInOutcome{user: user}, reasonUpdateAccount, nil
				}
			}
			if err := s.upgradeVerified(ctx, user, u, email); err != nil {
				return nil, "", err
			}
		}
		if override {
			cols := map[string]any{"name": u.name, "email": email}
			if u.image != nil {
				cols["image"] = *u.image
			}
			if email == user.Email {
				cols["emailVerified"] = user.EmailVerified || u.emailVerified
			} else {
				cols["emailVerified"] = u.emailVerified
			}
			if nu, err := s.st.UpdateUser(ctx, user.ID, cols, s.storeNow()); err == nil {
				if nu.Email != user.Email {
					// Reset links went to the old address; they end with it.
					if err := s.st.DeleteResetTokens(ctx, user.ID); err != nil {
						return nil, "", err
					}
				}
				user = nu
			} else {
				s.log.LogAttrs(ctx, slog.LevelWarn, "could not update user info during oauth sign-in", slog.String("error", err.Error()))
			}
		}
	} else {
		if disableSignUp {
			return &signInOutcome{}, reasonSignUpDisabled, nil
		}
		now := s.storeNow()
		nu := store.User{ID: session.NewID(), Name: u.name, Email: email, EmailVerified: u.emailVerified, Image: u.image, CreatedAt: now, UpdatedAt: now}
		if err := s.svc.newUserValues(&nu, method); err != nil {
			return nil, "", err
		}
		row, err := s.newAccountRow(nu.ID, a)
		if err != nil {
			return nil, "", err
		}
		// The user and its account are written together: never one without the other.
		err = s.st.Atomic(ctx, func(ctx context.Context) error {
			tx := s.st // joins the transaction ctx now carries, as does every call made with ctx
			if err := tx.CreateUser(ctx, &nu); err != nil {
				return err
			}
			if err := tx.CreateAccount(ctx, row); err != nil {
				return err
			}
			return s.svc.Audit(ctx, tx, plugin.AuditEvent{Event: "sign-up", UserID: nu.ID, Detail: map[string]any{"method": method}})
		})
		if err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "oauth sign-up failed", slog.String("error", err.Error()))
			return &signInOutcome{}, reasonCreateUser, nil
		}
		user = &nu
	}
	requireVerified := p.cfg.RequireEmailVerification
	sendOnSignUp := requireVerified
	if s.svc.email.SendOnSignUp != nil {
		sendOnSignUp = *s.svc.email.SendOnSignUp
	}
	if isRegister && !user.EmailVerified && sendOnSignUp {
		s.svc.sendVerification(user, callbackURL)
	}
	if requireVerified && !user.EmailVerified {
		if !isRegister && s.svc.email.SendOnSignIn {
			s.svc.sendVerification(user, callbackURL)
		}
		return &signInOutcome{user: user}, cbEmailNotVerified, nil
	}
	in, err := s.svc.CompleteSignIn(ctx, nil, SignInRequest{User: *user, Method: method, Meta: meta, Incoming: incoming})
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "oauth session creation failed", slog.String("error", err.Error()))
		return &signInOutcome{user: user, audited: !errors.Is(err, ErrCreateSession)}, reasonCreateSession, nil
	}
	return &signInOutcome{signIn: in, isRegister: isRegister}, "", nil
}

// upgradeVerified marks the user's email verified when the provider vouches for that very
// address.
func (s *Social) upgradeVerified(ctx context.Context, user *store.User, u oauthUser, email string) error {
	if !u.emailVerified || user.EmailVerified || email != user.Email {
		return nil
	}
	nu, err := s.st.UpdateUser(ctx, user.ID, map[string]any{"emailVerified": true}, s.storeNow())
	if err != nil {
		return err
	}
	*user = *nu
	return nil
}

// applyUserInfoOnLink is Better-Auth's updateUserInfoOnLink: the provider's name and image are
// copied onto the user; email and emailVerified never are. Failures are logged, not fatal.
func (s *Social) applyUserInfoOnLink(ctx context.Context, userID string, u oauthUser) *store.User {
	cols := map[string]any{"name": u.name}
	if u.image != nil {
		cols["image"] = *u.image
	}
	nu, err := s.st.UpdateUser(ctx, userID, cols, s.storeNow())
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "could not update user info on account link", slog.String("error", err.Error()))
		return nil
	}
	return nu
}

// --- callback ---------------------------------------------------------------------------------

// CallbackParams are the parameters a provider sends back (query, or form_post body).
type CallbackParams struct {
	Code, State, Error, ErrorDescription, DeviceID, User, Iss string
}

// CallbackInput is one request to /callback/{id}.
type CallbackInput struct {
	ProviderID string
	Params     CallbackParams
	// StateCookie is the state the signed state cookie carries ("" when absent or forged).
	StateCookie string
	Meta        session.Meta
	// Incoming is the request, for the plugins' hooks on the sign-in.
	Incoming plugin.Incoming
}

// CallbackResult says how to answer a callback: always a 302 to Location, answered as a sign-in
// when SignIn is not nil, and with the state cookie expired when ClearStateCookie is set.
type CallbackResult struct {
	Location         string
	SignIn           *plugin.SignIn
	ClearStateCookie bool
}

// Callback completes a redirect flow, as Better-Auth's GET /callback/:id. It never fails: every
// problem, the provider's included, becomes a redirect to the error callback URL with
// Better-Auth's error code.
func (s *Social) Callback(ctx context.Context, in CallbackInput) *CallbackResult {
	res := &CallbackResult{}
	// A failed sign-in is recorded with the callback's error code in kebab-case as reason
	// (state-mismatch, account-not-linked, ...), the user when one was named, and the provider
	// as method when it is configured. A failed link-social is no sign-in and is not.
	method := ""
	if s.providers[in.ProviderID] != nil {
		method = in.ProviderID
	}
	linking, audited := false, false
	var named *store.User
	// why and more replace the reason taken from the code, and add to the detail.
	why, more := "", map[string]any(nil)
	fail := func(base, code, desc string) *CallbackResult {
		if !linking && !audited {
			uid := ""
			if named != nil {
				uid = named.ID
			}
			if why == "" {
				why = strings.ReplaceAll(code, "_", "-")
			}
			plugin.SignInFailedWith(ctx, s.svc, method, uid, why, more)
		}
		res.Location = s.errorLocation(base, code, desc)
		res.SignIn = nil
		return res
	}
	pr := in.Params
	if pr.State == "" {
		return fail("", cbStateNotFound, "")
	}
	d, clear, f := s.parseState(ctx, pr.State, in.StateCookie)
	res.ClearStateCookie = clear
	if f != nil {
		return fail(f.url, f.code, f.description)
	}
	linking = d.Link != nil
	errURL := ""
	if d.ErrorURL != nil {
		errURL = *d.ErrorURL
	}
	if pr.Error != "" {
		// The provider's own code (access_denied, ...) is its text, not one of ours: the reason
		// is fixed and the code kept apart, cut short.
		why, more = "provider-error", map[string]any{"providerError": cutText(pr.Error, 64)}
		return fail(errURL, pr.Error, pr.ErrorDescription)
	}
	if pr.Code == "" {
		return fail(errURL, cbNoCode, "")
	}
	p := s.provider(ctx, in.ProviderID)
	if p == nil {
		return fail(errURL, cbProviderNotFound, "")
	}
	if pr.Iss != "" && p.issuer != "" && pr.Iss != p.issuer {
		// RFC 9207: the response came from another authorization server (mix-up attack).
		return fail(errURL, cbIssuerMismatch, "")
	}
	if p.requiresNonce && d.IDTokenNonce == "" {
		return fail(errURL, cbNonceBindingMissing, "")
	}
	toks, err := p.exchange(ctx, pr.Code, d.CodeVerifier, pr.DeviceID)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "oauth code exchange failed", slog.String("provider", p.id), slog.String("error", err.Error()))
		return fail(errURL, cbInvalidCode, "")
	}
	var au *appleUser
	if pr.User != "" {
		au = &appleUser{}
		if json.Unmarshal([]byte(pr.User), au) != nil {
			au = nil
		}
	}
	prof := p.fetchProfile(ctx, toks, au, d.IDTokenNonce)
	if prof == nil || !validSubject(prof.Subject) {
		return fail(errURL, cbUnableToGetUserInfo, "")
	}
	if d.CallbackURL == "" {
		return fail(errURL, cbNoCallbackURL, "")
	}
	acct := accountFromTokens(p, prof.Subject, toks)
	u := userFromProfile(prof)
	if d.Link != nil {
		code, err := s.linkFromCallback(ctx, d.Link, prof, acct, toks.Scopes)
		if err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "oauth link failed", slog.String("error", err.Error()))
			return fail(errURL, cbInternal, "")
		}
		if code != "" {
			return fail(errURL, code, "")
		}
		res.Location = d.CallbackURL
		return res
	}
	if u.email == "" {
		return fail(errURL, cbEmailNotFound, "")
	}
	disableSignUp := (p.cfg.DisableImplicitSignUp && (d.RequestSignUp == nil || !*d.RequestSignUp)) || p.cfg.DisableSignUp
	out, reason, err := s.handleUserInfo(ctx, p, u, acct, d.CallbackURL, disableSignUp, p.cfg.OverrideUserInfoOnSignIn, p.id, in.Meta, in.Incoming)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "oauth sign-in failed", slog.String("error", err.Error()))
		return fail("", cbInternal, "")
	}
	if reason != "" {
		named, audited = out.user, out.audited
		return fail(errURL, strings.ReplaceAll(reason, " ", "_"), "")
	}
	res.SignIn = out.signIn
	res.Location = d.CallbackURL
	if out.isRegister && d.NewUserURL != nil && *d.NewUserURL != "" {
		res.Location = *d.NewUserURL
	}
	return res
}

// errorLocation is base (or the default error URL) with ?error=code[&error_description=...].
func (s *Social) errorLocation(base, code, desc string) string {
	q := params{{"error", code}}
	if desc != "" {
		q = append(q, [2]string{"error_description", desc})
	}
	if base != "" {
		if loc, err := appendQueryParams(base, q); err == nil {
			return loc
		}
	}
	loc, err := appendQueryParams(s.errorURL(), q)
	if err != nil {
		return s.apiURL + "/error?" + q.encode()
	}
	return loc
}

// linkFromCallback is Better-Auth's linkOAuthAccount, the end of a link-social redirect flow.
// It returns a callback error code when linking is refused.
func (s *Social) linkFromCallback(ctx context.Context, link *stateLink, prof *profile, a oauthAccount, scopes []string) (string, error) {
	live, err := s.linkSessionLive(ctx, link)
	if err != nil {
		return "", err
	}
	if !live {
		return cbUnableToLinkAccount, nil
	}
	userID := string(link.UserID)
	if (!s.trusted(a.ProviderID) && !prof.EmailVerified) || s.cfg.AccountLinking.Disabled {
		return cbUnableToLinkAccount, nil
	}
	if (prof.Email == nil || !strings.EqualFold(*prof.Email, link.Email)) && !s.cfg.AccountLinking.AllowDifferentEmails {
		return cbEmailDoesNotMatch, nil
	}
	existing, err := s.st.AccountsByKey(ctx, a.ProviderID, a.AccountID)
	if err != nil {
		return "", err
	}
	if len(existing) > 1 {
		return "", errAmbiguousAccount
	}
	if len(existing) == 1 {
		if existing[0].UserID != userID {
			return cbAlreadyLinkedToOther, nil
		}
		cols, err := s.tokenColumns(a)
		if err != nil {
			return "", err
		}
		stored := ""
		if existing[0].Scope != nil {
			stored = *existing[0].Scope
		}
		if merged := mergeScopes(stored, scopes); merged != "" {
			cols["scope"] = merged
		}
		if _, err := s.st.UpdateAccount(ctx, existing[0].ID, cols, s.storeNow()); err != nil {
			return "", err
		}
	} else {
		row, err := s.newAccountRow(userID, a)
		if err == nil {
			err = s.linkAccount(ctx, row)
		}
		if err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "oauth link failed", slog.String("error", err.Error()))
			return cbUnableToLinkAccount, nil
		}
	}
	if s.cfg.AccountLinking.UpdateUserInfoOnLink {
		s.applyUserInfoOnLink(ctx, userID, userFromProfile(prof))
	}
	return "", nil
}

// linkSessionLive checks that the session that started a link flow still exists and belongs to
// the user being linked, so a link cannot complete after sign-out.
func (s *Social) linkSessionLive(ctx context.Context, link *stateLink) (bool, error) {
	if link.EncryptedSessionToken == "" {
		return true, nil
	}
	token, err := atrest.Decrypt(purposeKeys(s.keys(), linkSessionTokenPurpose), link.EncryptedSessionToken)
	if err != nil {
		return false, nil
	}
	sess, _, err := s.st.SessionByToken(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return sess.UserID == string(link.UserID) && sess.ExpiresAt.After(s.now()), nil
}

// mergeScopes is the union of stored (comma-separated) and new scopes, stored order first.
func mergeScopes(stored string, incoming []string) string {
	var out []string
	for _, sc := range append(strings.Split(stored, ","), incoming...) {
		if sc = strings.TrimSpace(sc); sc != "" && !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return strings.Join(out, ",")
}

// --- link-social --------------------------------------------------------------------------------

// LinkSocialInput is a validated link-social request.
type LinkSocialInput struct {
	Provider         string
	CallbackURL      *string
	ErrorCallbackURL *string
	Scopes           []string
	LoginHint        string
	RequestSignUp    *bool
	AdditionalParams map[string]string
	AdditionalData   map[string]any
	IDToken          *IDTokenInput
}

// LinkSocialResult is a redirect (URL and State) or, for an ID token, Linked.
type LinkSocialResult struct {
	URL    string
	State  string
	Linked bool
}

// Link links a provider account to the signed-in user: through a redirect flow, or at once with
// an ID token.
func (s *Social) Link(ctx context.Context, a *session.Auth, in LinkSocialInput) (*LinkSocialResult, error) {
	p := s.provider(ctx, in.Provider)
	if p == nil {
		return nil, ErrProviderNotFound
	}
	if in.IDToken != nil {
		if err := s.linkWithIDToken(ctx, p, a, in.IDToken); err != nil {
			return nil, err
		}
		return &LinkSocialResult{Linked: true}, nil
	}
	sealed, err := atrest.Encrypt(purposeKeys(s.keys(), linkSessionTokenPurpose), a.Session.Token)
	if err != nil {
		return nil, err
	}
	link := &stateLink{Email: a.User.Email, UserID: flexString(a.User.ID), EncryptedSessionToken: sealed}
	u, state, err := s.authorize(ctx, p, stateRequest{callbackURL: in.CallbackURL, errorURL: in.ErrorCallbackURL,
		requestSignUp: in.RequestSignUp, link: link, additionalData: in.AdditionalData, scopes: in.Scopes,
		loginHint: in.LoginHint, additionalParams: in.AdditionalParams})
	if err != nil {
		return nil, err
	}
	return &LinkSocialResult{URL: u, State: state}, nil
}

func (s *Social) linkWithIDToken(ctx context.Context, p *provider, a *session.Auth, in *IDTokenInput) error {
	prof, err := s.verifiedIDToken(ctx, p, in)
	if err != nil {
		return err
	}
	acct := oauthAccount{ProviderID: p.id, AccountID: prof.Subject, IDToken: in.Token, AccessToken: in.AccessToken, RefreshToken: in.RefreshToken}
	existing, err := s.st.AccountsByKey(ctx, p.id, prof.Subject)
	if err != nil {
		return err
	}
	if len(existing) > 1 {
		return errAmbiguousAccount
	}
	if len(existing) == 1 {
		if existing[0].UserID != a.User.ID {
			return ErrSocialAccountLinked
		}
		cols, err := s.tokenColumns(acct)
		if err != nil {
			return err
		}
		if _, err := s.st.UpdateAccount(ctx, existing[0].ID, cols, s.storeNow()); err != nil {
			return err
		}
	} else {
		if (!s.trusted(p.id) && !prof.EmailVerified) || s.cfg.AccountLinking.Disabled {
			return ErrLinkingNotAllowed
		}
		if !strings.EqualFold(*prof.Email, a.User.Email) && !s.cfg.AccountLinking.AllowDifferentEmails {
			return ErrLinkingDifferentEmails
		}
		row, err := s.newAccountRow(a.User.ID, acct)
		if err == nil {
			err = s.linkAccount(ctx, row)
		}
		if err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "oauth link failed", slog.String("error", err.Error()))
			return ErrLinkingFailed
		}
	}
	if s.cfg.AccountLinking.UpdateUserInfoOnLink {
		s.applyUserInfoOnLink(ctx, a.User.ID, userFromProfile(prof))
	}
	return nil
}

// --- provider tokens --------------------------------------------------------------------------

// userAccount finds one of the user's accounts by its row id.
func (s *Social) userAccount(ctx context.Context, userID, accountID string) (*store.Account, error) {
	accts, err := s.st.AccountsByUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	for i := range accts {
		if accts[i].ID == accountID {
			return &accts[i], nil
		}
	}
	return nil, ErrAccountNotFound
}

// AccessTokenResult is get-access-token's answer.
type AccessTokenResult struct {
	AccessToken          string
	AccessTokenExpiresAt *time.Time
	Scopes               []string
	IDToken              *string
}

// AccessToken returns a usable provider access token for one of the user's accounts, refreshing
// it first (and storing the new tokens) when it expires within five seconds.
func (s *Social) AccessToken(ctx context.Context, userID, accountID string) (*AccessTokenResult, error) {
	acct, err := s.userAccount(ctx, userID, accountID)
	if err != nil {
		return nil, err
	}
	p := s.provider(ctx, acct.ProviderID)
	if p == nil {
		return nil, &ProviderNotSupportedError{ProviderID: acct.ProviderID}
	}
	return s.validAccessToken(ctx, p, acct)
}

func (s *Social) validAccessToken(ctx context.Context, p *provider, acct *store.Account) (*AccessTokenResult, error) {
	res := &AccessTokenResult{Scopes: storedScopes(acct.Scope), IDToken: acct.IDToken}
	if acct.AccessTokenExpiresAt != nil {
		t := acct.AccessTokenExpiresAt.Time
		res.AccessTokenExpiresAt = &t
	}
	expiring := acct.AccessTokenExpiresAt != nil && acct.AccessTokenExpiresAt.Sub(s.now()) < 5*time.Second
	if acct.RefreshToken != nil && *acct.RefreshToken != "" && expiring {
		nt, _, _, err := s.refreshAccount(ctx, p, acct, ErrAccessTokenFailed)
		if err != nil {
			return nil, err
		}
		res.AccessToken = nt.AccessToken
		if nt.AccessTokenExpiresAt != nil {
			res.AccessTokenExpiresAt = nt.AccessTokenExpiresAt
		}
		if nt.IDToken != "" {
			res.IDToken = &nt.IDToken
		}
		return res, nil
	}
	stored := ""
	if acct.AccessToken != nil {
		stored = *acct.AccessToken
	}
	at, err := s.openToken(stored)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAccessTokenFailed, err)
	}
	res.AccessToken = at
	return res, nil
}

// refreshAccount trades the account's stored refresh token for new tokens at the provider and
// stores them; it returns the new tokens, the refresh token it used and the updated row. Every
// failure is reported as fail (the caller's Better-Auth error), the provider's own answer only
// reaching the log.
func (s *Social) refreshAccount(ctx context.Context, p *provider, acct *store.Account, fail error) (*tokenSet, string, *store.Account, error) {
	rt, err := s.openToken(*acct.RefreshToken)
	if err != nil {
		return nil, "", nil, fmt.Errorf("%w: %v", fail, err)
	}
	nt, err := p.refresh(ctx, rt)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "oauth token refresh failed", slog.String("provider", p.id), slog.String("error", err.Error()))
		return nil, "", nil, fail
	}
	cols, err := s.refreshedColumns(acct, nt)
	if err != nil {
		return nil, "", nil, fmt.Errorf("%w: %v", fail, err)
	}
	updated, err := s.st.UpdateAccount(ctx, acct.ID, cols, s.storeNow())
	if err != nil {
		return nil, "", nil, fmt.Errorf("%w: %v", fail, err)
	}
	return nt, rt, updated, nil
}

// refreshedColumns are the account columns a refresh rewrites (scope stays: a refresh may
// answer with fewer scopes than were granted).
func (s *Social) refreshedColumns(acct *store.Account, nt *tokenSet) (map[string]any, error) {
	cols := map[string]any{}
	at, err := s.sealToken(nt.AccessToken)
	if err != nil {
		return nil, err
	}
	if at != nil {
		cols["accessToken"] = *at
	}
	if nt.AccessTokenExpiresAt != nil {
		cols["accessTokenExpiresAt"] = store.NewTime(*nt.AccessTokenExpiresAt)
	}
	if nt.RefreshToken != "" {
		rt, err := s.sealToken(nt.RefreshToken)
		if err != nil {
			return nil, err
		}
		cols["refreshToken"] = *rt
	}
	if nt.RefreshTokenExpiresAt != nil {
		cols["refreshTokenExpiresAt"] = store.NewTime(*nt.RefreshTokenExpiresAt)
	}
	if nt.IDToken != "" {
		cols["idToken"] = nt.IDToken
	}
	return cols, nil
}

func storedScopes(scope *string) []string {
	out := []string{}
	if scope == nil {
		return out
	}
	for _, sc := range strings.Split(*scope, ",") {
		if sc = strings.TrimSpace(sc); sc != "" {
			out = append(out, sc)
		}
	}
	return out
}

// RefreshTokenResult is refresh-token's answer. Nil pointers are JSON null except
// AccessTokenExpiresAt, which is left out (Better-Auth's undefined).
type RefreshTokenResult struct {
	AccessToken           string
	RefreshToken          string
	AccessTokenExpiresAt  *time.Time
	RefreshTokenExpiresAt *time.Time
	Scope                 *string
	IDToken               *string
	ProviderID            string
	AccountID             string
}

// RefreshToken refreshes one of the user's provider accounts now and stores the new tokens.
func (s *Social) RefreshToken(ctx context.Context, userID, accountID string) (*RefreshTokenResult, error) {
	acct, err := s.userAccount(ctx, userID, accountID)
	if err != nil {
		return nil, err
	}
	p := s.provider(ctx, acct.ProviderID)
	if p == nil {
		return nil, &ProviderNotSupportedError{ProviderID: acct.ProviderID}
	}
	if acct.RefreshToken == nil || *acct.RefreshToken == "" {
		return nil, ErrRefreshTokenNotFound
	}
	nt, rt, updated, err := s.refreshAccount(ctx, p, acct, ErrRefreshFailed)
	if err != nil {
		return nil, err
	}
	out := &RefreshTokenResult{AccessToken: nt.AccessToken, RefreshToken: or(nt.RefreshToken, rt), AccessTokenExpiresAt: nt.AccessTokenExpiresAt,
		Scope: updated.Scope, IDToken: acct.IDToken, ProviderID: acct.ProviderID, AccountID: acct.ID}
	if nt.IDToken != "" {
		out.IDToken = &nt.IDToken
	}
	if nt.RefreshTokenExpiresAt != nil {
		out.RefreshTokenExpiresAt = nt.RefreshTokenExpiresAt
	} else if acct.RefreshTokenExpiresAt != nil {
		t := acct.RefreshTokenExpiresAt.Time
		out.RefreshTokenExpiresAt = &t
	}
	return out, nil
}

// AccountInfoUser is the provider's view of the user in account-info.
type AccountInfoUser struct {
	Name          *string
	Email         *string
	Image         *string
	EmailVerified bool
}

// AccountInfoResult is account-info's answer: the provider's user, its raw profile, and the
// account it was read for.
type AccountInfoResult struct {
	User    AccountInfoUser
	Data    map[string]any
	Account store.Account
}

// AccountInfo asks the provider who the account is, with a valid access token.
func (s *Social) AccountInfo(ctx context.Context, userID, accountID string) (*AccountInfoResult, error) {
	acct, err := s.userAccount(ctx, userID, accountID)
	if err != nil {
		return nil, err
	}
	p := s.provider(ctx, acct.ProviderID)
	if p == nil {
		return nil, ErrProviderNotConfigured
	}
	tok, err := s.validAccessToken(ctx, p, acct)
	if err != nil {
		return nil, err
	}
	if tok.AccessToken == "" {
		return nil, ErrAccessTokenNotFound
	}
	t := &tokenSet{AccessToken: tok.AccessToken}
	if tok.IDToken != nil {
		t.IDToken = *tok.IDToken
	}
	prof := p.storedProfile(ctx, t)
	if prof == nil {
		return nil, ErrFailedToGetUserInfo
	}
	return &AccountInfoResult{User: AccountInfoUser{Name: prof.Name, Email: prof.Email, Image: prof.Image, EmailVerified: prof.EmailVerified},
		Data: prof.Data, Account: *acct}, nil
}

// EndSessionURL is Better-Auth's provider logout on sign-out: among the user's accounts at
// providers that advertise an end_session_endpoint (generic OpenID Connect), the most recently
// updated one gives the URL the browser should visit next, with the account's ID token as
// id_token_hint and callbackURL (resolved against the API URL) as post_logout_redirect_uri. ok is
// false when no provider offers it.
func (s *Social) EndSessionURL(ctx context.Context, accounts []store.Account, callbackURL, state string) (string, bool) {
	sorted := append([]store.Account(nil), accounts...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].UpdatedAt.After(sorted[j].UpdatedAt.Time) })
	seen := map[string]bool{}
	for _, a := range sorted {
		if seen[a.ProviderID] {
			continue
		}
		seen[a.ProviderID] = true
		p := s.provider(ctx, a.ProviderID)
		if p == nil || p.kind != ProviderOIDC || p.ready(ctx) != nil || p.endSession == "" {
			continue
		}
		u, err := url.Parse(p.endSession)
		if err != nil || u.Scheme == "" {
			continue
		}
		q := u.Query()
		idToken := ""
		if a.IDToken != nil {
			idToken = *a.IDToken
		}
		if idToken != "" {
			q.Set("id_token_hint", idToken)
		}
		if callbackURL != "" {
			base, _ := url.Parse(s.apiURL)
			if ref, err := url.Parse(callbackURL); err == nil && base != nil {
				q.Set("post_logout_redirect_uri", base.ResolveReference(ref).String())
				q.Set("client_id", p.cfg.ClientID)
				if state != "" {
					q.Set("state", state)
				}
			}
		} else if idToken == "" {
			q.Set("client_id", p.cfg.ClientID)
		}
		u.RawQuery = q.Encode()
		return u.String(), true
	}
	return "", false
}

// linkAccount stores a linked account and its audit row in one transaction.
func (s *Social) linkAccount(ctx context.Context, row *store.Account) error {
	return s.svc.Audited(ctx, plugin.AuditEvent{Event: "account-linked", UserID: row.UserID, Detail: map[string]any{"provider": row.ProviderID}},
		func(ctx context.Context) error { return s.st.CreateAccount(ctx, row) })
}
