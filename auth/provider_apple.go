package auth

import (
	"context"
	"strings"
)

// ProviderApple is the type of Better-Auth's socialProviders.apple (Sign in with Apple): the
// code and ID token posted back as a form, the profile read from the ID token.
const ProviderApple = "apple"

const (
	appleAuthURL  = "https://appleid.apple.com/auth/authorize"
	appleTokenURL = "https://appleid.apple.com/auth/token"
	appleJWKSURL  = "https://appleid.apple.com/auth/keys"
	appleIssuer   = "https://appleid.apple.com"
)

// appleType is Apple. Audiences carries the app bundle ids whose native ID tokens may sign in.
type appleType struct{ idTokenUser }

// appleUser is the "user" JSON Apple posts on the first sign-in (the only time it sends the
// user's name).
type appleUser struct {
	Name *struct {
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
	} `json:"name"`
	Email string `json:"email"`
}

func (appleType) loadEnv(env func(string) string, cfg *ProviderConfig) {
	cfg.Audiences = splitList(env("APPLE_AUDIENCES"))
}

// validate requires the client secret (the signed client JWT): Better-Auth refuses to build
// the authorization URL without one.
func (appleType) validate(cfg ProviderConfig) error { return requireClientSecret(cfg) }

func (appleType) configure(p *provider) {
	p.endpoints(appleAuthURL, appleTokenURL, "")
	p.idToken = p.platformIDToken(or(p.cfg.JWKSURL, appleJWKSURL), appleIssuer)
	// Apple's native SDKs put the SHA-256 of the nonce in the token.
	p.idToken.nonceSHA256 = true
}

func (appleType) scopes(p *provider, requested []string) []string {
	return p.defaultScopesFirst([]string{"email", "name"}, requested)
}

// authorize asks for the ID token with the code, posted back as a form (Apple requires
// form_post when scopes are requested); Better-Auth sends Apple no prompt or login hint.
func (appleType) authorize(_ *provider, q *authQuirks) {
	q.responseType, q.responseMode = "code id_token", "form_post"
	q.prompt = ""
	q.noLoginHint = true
}

// claimsProfile takes the name from the user JSON of the first sign-in when there is one.
func (appleType) claimsProfile(_ context.Context, _ *provider, claims map[string]any, _ *tokenSet, au *appleUser) *profile {
	name := ""
	if au != nil && au.Name != nil {
		name = strings.TrimSpace(au.Name.FirstName + " " + au.Name.LastName)
	} else if n, ok := claims["name"].(string); ok {
		name = n
	}
	claims["name"] = name
	return &profile{Name: &name, Email: strPtr(claims["email"]), EmailVerified: stringBool(claims["email_verified"]),
		Data: claims, Subject: jsString(claims["sub"])}
}
