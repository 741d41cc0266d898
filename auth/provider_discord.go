package auth

import (
	"context"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// ProviderDiscord is the type of Better-Auth's socialProviders.discord: plain OAuth 2.0 without
// PKCE, the profile read from the API's /users/@me.
const ProviderDiscord = "discord"

const (
	discordAuthURL  = "https://discord.com/api/oauth2/authorize"
	discordTokenURL = "https://discord.com/api/oauth2/token"
	discordUserURL  = "https://discord.com/api/users/@me"
)

// discordType is Discord: no PKCE, the prompt "none" unless configured, and the avatar URL
// built from the user document.
type discordType struct{ baseType }

func (discordType) configure(p *provider) {
	p.endpoints(discordAuthURL, discordTokenURL, discordUserURL)
	p.pkce = false // Better-Auth sends Discord no code challenge
}

// scopes puts the request's scopes before the configured ones, Better-Auth's order for Discord.
func (discordType) scopes(p *provider, requested []string) []string {
	defaults := []string{"identify", "email"}
	if p.cfg.DisableDefaultScope {
		defaults = nil
	}
	return append(append(defaults, requested...), p.cfg.Scopes...)
}

// authorize defaults the prompt to "none" and sends no login hint, as Better-Auth does.
func (discordType) authorize(p *provider, q *authQuirks) {
	q.prompt = or(p.cfg.Prompt, "none")
	q.noLoginHint = true
}

// profile builds the avatar URL Better-Auth stores: the user's own avatar (animated ones as
// GIF), else Discord's default avatar for the account.
func (discordType) profile(ctx context.Context, p *provider, t *tokenSet, _ *appleUser, _ string) *profile {
	var prof map[string]any
	if !p.fetchUser(ctx, bearer(t.AccessToken), &prof) {
		return nil
	}
	id := jsString(prof["id"])
	if avatar, ok := prof["avatar"].(string); ok {
		format := "png"
		if strings.HasPrefix(avatar, "a_") {
			format = "gif"
		}
		prof["image_url"] = "https://cdn.discordapp.com/avatars/" + id + "/" + avatar + "." + format
	} else if prof["avatar"] == nil {
		index := int64(0)
		if disc := jsString(prof["discriminator"]); disc == "0" {
			if n, ok := new(big.Int).SetString(id, 10); ok {
				index = new(big.Int).Rsh(n, 22).Int64() % 6
			}
		} else if d, err := strconv.Atoi(disc); err == nil {
			index = int64(d % 5)
		}
		prof["image_url"] = fmt.Sprintf("https://cdn.discordapp.com/embed/avatars/%d.png", index)
	}
	name, _ := prof["global_name"].(string)
	if name == "" {
		name, _ = prof["username"].(string)
	}
	return &profile{Name: &name, Email: strPtr(prof["email"]), Image: strPtr(prof["image_url"]), EmailVerified: prof["verified"] == true,
		Data: prof, Subject: id}
}
