package auth

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
)

// ProviderOIDC is the type of any OpenID Connect (or plain OAuth 2.0) provider configured by
// its discovery document or its endpoints: Better-Auth's generic OAuth plugin.
const ProviderOIDC = "oidc"

// oidcType is a generic provider. Its endpoints come from DiscoveryURL, fetched on first use,
// unless AuthorizationURL and TokenURL are given; AuthorizationURLParams, PKCE, TokenAuthBasic
// and DisableIDTokenNonceBinding are its own options.
type oidcType struct{ baseType }

func (oidcType) validate(cfg ProviderConfig) error {
	if cfg.DiscoveryURL == "" && (cfg.AuthorizationURL == "" || cfg.TokenURL == "") {
		return errors.New("a discovery URL (or authorization and token URLs) is required")
	}
	return nil
}

func (oidcType) configure(p *provider) {
	cfg := p.cfg
	p.pkce = cfg.PKCE == nil || *cfg.PKCE
	p.endpoints("", "", "")
	if cfg.DiscoveryURL != "" {
		p.discovery = true
		return
	}
	p.issuer = cfg.Issuer
	if cfg.JWKSURL != "" && cfg.Issuer != "" {
		p.idToken = &idTokenSpec{jwksURL: cfg.JWKSURL, issuers: []string{cfg.Issuer}, audiences: []string{cfg.ClientID}}
		p.requiresNonce = !cfg.DisableIDTokenNonceBinding
	}
}

// scopes has no defaults: the request's scopes, then the configured ones, with openid first
// when the discovery document says the provider is an OpenID provider.
func (oidcType) scopes(p *provider, requested []string) []string {
	out := append(append([]string{}, requested...), p.cfg.Scopes...)
	if p.isOIDC && !slices.Contains(out, "openid") {
		out = append([]string{"openid"}, out...)
	}
	return out
}

func (oidcType) authorize(p *provider, q *authQuirks) {
	q.accessType = p.cfg.AccessType
	for _, k := range sortedKeys(p.cfg.AuthorizationURLParams) {
		q.extra.set(k, p.cfg.AuthorizationURLParams[k])
	}
}

// profile verifies the exchange's ID token when the provider has ID-token rules, then reads the
// user as userInfo does.
func (o oidcType) profile(ctx context.Context, p *provider, t *tokenSet, _ *appleUser, nonce string) *profile {
	if t.IDToken == "" || p.idToken == nil {
		return o.userInfo(ctx, p, t, nil)
	}
	claims, ok := p.verifiedClaims(ctx, t.IDToken, nonce)
	if !ok {
		return nil
	}
	return o.userInfo(ctx, p, t, claims)
}

func (o oidcType) claimsProfile(ctx context.Context, p *provider, claims map[string]any, t *tokenSet, _ *appleUser) *profile {
	return o.userInfo(ctx, p, &tokenSet{IDToken: t.IDToken}, claims)
}

// userInfo is Better-Auth's generic-OAuth user info: the ID token's claims when they carry sub
// and email, else the userinfo endpoint, whose sub must then match the ID token's.
func (oidcType) userInfo(ctx context.Context, p *provider, t *tokenSet, claims map[string]any) *profile {
	var raw map[string]any
	decoded := claims
	if decoded == nil && t.IDToken != "" {
		decoded = unverifiedClaims(t.IDToken)
	}
	if decoded != nil && truthyClaim(decoded["sub"]) && truthyClaim(decoded["email"]) {
		raw = map[string]any{"id": decoded["sub"], "emailVerified": stringBool(decoded["email_verified"])}
		if pic, ok := decoded["picture"]; ok {
			raw["image"] = pic
		}
		for k, v := range decoded {
			raw[k] = v
		}
	} else {
		if p.userInfoURL == "" || t.AccessToken == "" {
			return nil
		}
		var info map[string]any
		if err := p.social.getJSON(ctx, p.userInfoURL, bearer(t.AccessToken), &info); err != nil {
			p.social.log.LogAttrs(ctx, slog.LevelWarn, "oauth userinfo failed", slog.String("provider", p.id), slog.String("error", err.Error()))
			return nil
		}
		raw = info
		raw["emailVerified"] = stringBool(info["email_verified"])
		delete(raw, "image")
		if pic, ok := info["picture"]; ok {
			raw["image"] = pic
		}
	}
	if claims != nil {
		if sub, present := claims["sub"]; present && jsString(raw["sub"]) != jsString(sub) {
			return nil
		}
	}
	prof := &profile{Name: strPtr(raw["name"]), Email: strPtr(raw["email"]), Image: strPtr(raw["image"]),
		EmailVerified: stringBool(raw["emailVerified"]), Data: raw}
	switch {
	case !p.isOIDC:
		prof.Subject = jsString(raw["id"])
	case p.idToken != nil && t.IDToken != "":
		src := claims
		if src == nil {
			src = unverifiedClaims(t.IDToken)
		}
		prof.Subject = jsString(src["sub"])
	default:
		prof.Subject = jsString(raw["sub"])
	}
	return prof
}

// truthyClaim is JavaScript truthiness for a decoded claim.
func truthyClaim(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case bool:
		return x
	case float64:
		return x != 0
	case json.Number:
		return x.String() != "0"
	}
	return true
}
