package auth

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ProviderMicrosoft is the type of Better-Auth's socialProviders.microsoft (Entra ID): OpenID
// Connect at a tenant's endpoints, the profile read from the ID token plus the Graph photo.
const ProviderMicrosoft = "microsoft"

const (
	microsoftGraph   = "https://graph.microsoft.com/v1.0/me/photos/"
	msConsumerTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"
)

// microsoftType is Microsoft Entra ID. Its own options are TenantID (default "common"),
// Authority, DisableProfilePhoto and ProfilePhotoSize.
type microsoftType struct{ idTokenUser }

func (microsoftType) loadEnv(env func(string) string, cfg *ProviderConfig) {
	cfg.TenantID = env("MICROSOFT_TENANT_ID")
	cfg.Authority = env("MICROSOFT_AUTHORITY")
}

func (microsoftType) configure(p *provider) {
	tenant := or(p.cfg.TenantID, "common")
	authority := strings.TrimRight(or(p.cfg.Authority, "https://login.microsoftonline.com"), "/")
	p.endpoints(authority+"/"+tenant+"/oauth2/v2.0/authorize", authority+"/"+tenant+"/oauth2/v2.0/token", "")
	spec := p.platformIDToken(or(p.cfg.JWKSURL, authority+"/"+tenant+"/discovery/v2.0/keys"))
	if tenant != "common" && tenant != "organizations" && tenant != "consumers" {
		spec.issuers = []string{authority + "/" + tenant + "/v2.0"}
	}
	// The multi-tenant endpoints cannot name one issuer, so bind the token to its own
	// tenant and to the configured account class, as Better-Auth does.
	spec.verifyClaims = func(c map[string]any) bool {
		tid, _ := c["tid"].(string)
		if tid == "" || c["iss"] != authority+"/"+tid+"/v2.0" {
			return false
		}
		if tenant == "organizations" && tid == msConsumerTenant {
			return false
		}
		if tenant == "consumers" && tid != msConsumerTenant {
			return false
		}
		return true
	}
	p.idToken = spec
}

func (microsoftType) scopes(p *provider, requested []string) []string {
	return p.defaultScopesFirst([]string{"openid", "profile", "email", "User.Read", "offline_access"}, requested)
}

// claimsProfile keys the account on the object id (oid), which is stable across the user's
// apps, and trusts the email only as verified by email_verified or the verified email lists.
func (m microsoftType) claimsProfile(ctx context.Context, p *provider, claims map[string]any, t *tokenSet, _ *appleUser) *profile {
	oid, _ := claims["oid"].(string)
	if strings.TrimSpace(oid) == "" {
		return nil
	}
	if !p.cfg.DisableProfilePhoto && t.AccessToken != "" {
		if pic := m.photo(ctx, p, t.AccessToken); pic != "" {
			claims["picture"] = pic
		}
	}
	email, _ := claims["email"].(string)
	verified := false
	if v, present := claims["email_verified"]; present {
		verified = stringBool(v)
	} else if email != "" {
		verified = listContains(claims["verified_primary_email"], email) || listContains(claims["verified_secondary_email"], email)
	}
	return &profile{Name: strPtr(claims["name"]), Email: strPtr(claims["email"]), Image: strPtr(claims["picture"]),
		EmailVerified: verified, Data: claims, Subject: oid}
}

// photo returns the user's Graph photo as the data URL Better-Auth stores (including its space
// after the comma), or "" when there is none.
func (microsoftType) photo(ctx context.Context, p *provider, accessToken string) string {
	size := p.cfg.ProfilePhotoSize
	if size <= 0 {
		size = 48
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s%dx%d/$value", microsoftGraph, size, size), nil)
	if err != nil {
		return ""
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	res, err := p.social.http.Do(req)
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return ""
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return ""
	}
	return "data:image/jpeg;base64, " + base64.StdEncoding.EncodeToString(body)
}

func listContains(list any, s string) bool {
	items, _ := list.([]any)
	for _, it := range items {
		if it == s {
			return true
		}
	}
	return false
}
