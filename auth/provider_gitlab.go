package auth

import (
	"context"
	"strings"
)

// ProviderGitLab is the type of Better-Auth's socialProviders.gitlab: plain OAuth 2.0 at
// gitlab.com or a self-hosted instance, the profile read from the API's /api/v4/user.
const ProviderGitLab = "gitlab"

// gitlabType is GitLab. Issuer is the instance's base URL (default https://gitlab.com).
type gitlabType struct{ baseType }

func (gitlabType) loadEnv(env func(string) string, cfg *ProviderConfig) {
	cfg.Issuer = env("GITLAB_ISSUER")
}

func (gitlabType) configure(p *provider) {
	base := or(p.cfg.Issuer, "https://gitlab.com")
	p.endpoints(cleanDoubleSlashes(base+"/oauth/authorize"), cleanDoubleSlashes(base+"/oauth/token"), cleanDoubleSlashes(base+"/api/v4/user"))
}

func (gitlabType) scopes(p *provider, requested []string) []string {
	return p.defaultScopesFirst([]string{"read_user"}, requested)
}

func (gitlabType) authorize(_ *provider, q *authQuirks) {
	q.prompt = "" // Better-Auth sends GitLab no prompt
}

// profile refuses blocked and locked users, as Better-Auth does.
func (gitlabType) profile(ctx context.Context, p *provider, t *tokenSet, _ *appleUser, _ string) *profile {
	var prof map[string]any
	if !p.fetchUser(ctx, bearer(t.AccessToken), &prof) {
		return nil
	}
	if prof["state"] != "active" || prof["locked"] == true {
		return nil
	}
	name, ok := prof["name"].(string)
	if !ok {
		name, _ = prof["username"].(string)
	}
	return &profile{Name: &name, Email: strPtr(prof["email"]), Image: strPtr(prof["avatar_url"]), EmailVerified: prof["email_verified"] == true,
		Data: prof, Subject: jsString(prof["id"])}
}

// cleanDoubleSlashes collapses repeated slashes outside the scheme separator, so an Issuer with
// a trailing slash still gives GitLab's paths.
func cleanDoubleSlashes(s string) string {
	parts := strings.Split(s, "://")
	for i := range parts {
		for strings.Contains(parts[i], "//") {
			parts[i] = strings.ReplaceAll(parts[i], "//", "/")
		}
	}
	return strings.Join(parts, "://")
}
