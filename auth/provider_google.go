package auth

import "context"

// ProviderGoogle is the type of Better-Auth's socialProviders.google: Google's fixed OpenID
// Connect endpoints, the profile read from the ID token.
const ProviderGoogle = "google"

const (
	googleAuthURL  = "https://accounts.google.com/o/oauth2/v2/auth"
	googleTokenURL = "https://oauth2.googleapis.com/token"
	googleJWKSURL  = "https://www.googleapis.com/oauth2/v3/certs"
)

// googleType is Google. Its own options are AccessType, Display and HostedDomain (hd): a
// hosted domain binds both the authorization URL and every ID token to that Workspace domain.
type googleType struct{ idTokenUser }

func (googleType) loadEnv(env func(string) string, cfg *ProviderConfig) {
	cfg.AccessType = env("GOOGLE_ACCESS_TYPE")
	cfg.HostedDomain = env("GOOGLE_HD")
	cfg.Audiences = splitList(env("GOOGLE_AUDIENCES"))
}

// validate requires the client secret: Better-Auth refuses to build the authorization URL
// without one.
func (googleType) validate(cfg ProviderConfig) error { return requireClientSecret(cfg) }

func (googleType) configure(p *provider) {
	p.endpoints(googleAuthURL, googleTokenURL, "")
	p.idToken = p.platformIDToken(or(p.cfg.JWKSURL, googleJWKSURL), "https://accounts.google.com", "accounts.google.com")
	if hd := p.cfg.HostedDomain; hd != "" {
		p.idToken.verifyClaims = func(c map[string]any) bool { return googleHostedDomainAllowed(hd, c["hd"]) }
	}
}

func (googleType) scopes(p *provider, requested []string) []string {
	return p.defaultScopesFirst([]string{"email", "profile", "openid"}, requested)
}

func (googleType) authorize(p *provider, q *authQuirks) {
	q.accessType, q.display, q.hd = p.cfg.AccessType, p.cfg.Display, p.cfg.HostedDomain
	q.extra.set("include_granted_scopes", "true")
}

func (googleType) claimsProfile(_ context.Context, p *provider, claims map[string]any, _ *tokenSet, _ *appleUser) *profile {
	if !googleHostedDomainAllowed(p.cfg.HostedDomain, claims["hd"]) {
		return nil
	}
	return &profile{Name: strPtr(claims["name"]), Email: strPtr(claims["email"]), Image: strPtr(claims["picture"]),
		EmailVerified: stringBool(claims["email_verified"]), Data: claims, Subject: jsString(claims["sub"])}
}

// googleHostedDomainAllowed reports whether a token's hd claim satisfies the configured hosted
// domain: any when none is configured, any domain at all for "*", else exactly that one.
func googleHostedDomainAllowed(want string, got any) bool {
	if want == "" {
		return true
	}
	hd, _ := got.(string)
	if hd == "" {
		return false
	}
	return want == "*" || hd == want
}
