package auth

import "context"

// ProviderGitHub is the type of Better-Auth's socialProviders.github: plain OAuth 2.0, the
// profile read from the REST API's /user and /user/emails.
const ProviderGitHub = "github"

const (
	githubAuthURL  = "https://github.com/login/oauth/authorize"
	githubTokenURL = "https://github.com/login/oauth/access_token"
	githubUserURL  = "https://api.github.com/user"
)

// githubType is GitHub. UserInfoURL replaces the API's /user (GitHub Enterprise); the emails
// are read from the same URL plus /emails.
type githubType struct{ baseType }

func (githubType) configure(p *provider) {
	p.endpoints(githubAuthURL, githubTokenURL, githubUserURL)
}

func (githubType) scopes(p *provider, requested []string) []string {
	return p.defaultScopesFirst([]string{"read:user", "user:email"}, requested)
}

// profile takes the public email, else the primary (or first) of the user's emails, and counts
// it verified only when the emails list says so, as Better-Auth does.
func (githubType) profile(ctx context.Context, p *provider, t *tokenSet, _ *appleUser, _ string) *profile {
	h := bearer(t.AccessToken)
	h.Set("User-Agent", "better-auth")
	var prof map[string]any
	if !p.fetchUser(ctx, h, &prof) {
		return nil
	}
	var emails []map[string]any
	_ = p.social.getJSON(ctx, p.userInfoURL+"/emails", h, &emails)
	email, _ := prof["email"].(string)
	if email == "" && len(emails) > 0 {
		pick := emails[0]
		for _, e := range emails {
			if e["primary"] == true {
				pick = e
				break
			}
		}
		if e, ok := pick["email"].(string); ok {
			email = e
			prof["email"] = e
		}
	}
	verified := false
	for _, e := range emails {
		if e["email"] == email {
			verified = e["verified"] == true
			break
		}
	}
	name, _ := prof["name"].(string)
	if name == "" {
		name, _ = prof["login"].(string)
	}
	return &profile{Name: &name, Email: strPtr(prof["email"]), Image: strPtr(prof["avatar_url"]), EmailVerified: verified,
		Data: prof, Subject: jsString(prof["id"])}
}
