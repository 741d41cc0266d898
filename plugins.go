package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"authserver/auth/admin"
	"authserver/auth/anonymous"
	"authserver/auth/apikey"
	"authserver/auth/deviceauth"
	"authserver/auth/emailotp"
	"authserver/auth/jwt"
	"authserver/auth/lastloginmethod"
	"authserver/auth/magiclink"
	"authserver/auth/multisession"
	"authserver/auth/onetimetoken"
	"authserver/auth/openapi"
	"authserver/auth/organization"
	"authserver/auth/passkey"
	"authserver/auth/phonenumber"
	"authserver/auth/plugin"
	"authserver/auth/twofactor"
	"authserver/auth/username"
)

// site is what the server's own configuration tells the plugins that need it.
type site struct {
	// AppName is APP_NAME (default defaultAppName), Better-Auth's appName.
	AppName string
	// BaseURL is the server's origin (BETTER_AUTH_URL) and TrustedOrigins the other origins
	// allowed to call it.
	BaseURL        string
	TrustedOrigins []string
	// OutboxDir is where development delivery writes files (DATA_DIR/outbox); Production is
	// APP_ENV=production, where such delivery is refused.
	OutboxDir  string
	Production bool
	// SessionExpiresIn is the session lifetime (SESSION_EXPIRES_IN), the session cookie's Max-Age.
	SessionExpiresIn time.Duration
}

// pluginBuilders are the Better-Auth plugins this server implements, by Better-Auth's name. Each
// reads its own options from the environment only when it is enabled.
var pluginBuilders = map[string]func(getenv func(string) string, s site) (plugin.Plugin, error){
	admin.ID: func(getenv func(string) string, _ site) (plugin.Plugin, error) {
		cfg, err := admin.LoadConfig(getenv)
		return admin.New(cfg), err
	},
	anonymous.ID: func(getenv func(string) string, _ site) (plugin.Plugin, error) {
		cfg, err := anonymous.LoadConfig(getenv)
		return anonymous.New(cfg), err
	},
	apikey.ID: func(getenv func(string) string, _ site) (plugin.Plugin, error) {
		cfg, err := apikey.LoadConfig(getenv)
		return apikey.New(cfg), err
	},
	deviceauth.ID: func(getenv func(string) string, s site) (plugin.Plugin, error) {
		// A relative verification URI is resolved against the auth base URL, as Better-Auth's
		// against its baseURL: the default "/device" is the web app's page at the server's origin.
		cfg, err := deviceauth.LoadConfig(getenv, s.BaseURL+"/api/auth")
		return deviceauth.New(cfg), err
	},
	emailotp.ID: func(getenv func(string) string, _ site) (plugin.Plugin, error) {
		cfg, err := emailotp.LoadConfig(getenv)
		return emailotp.New(cfg), err
	},
	jwt.ID: func(getenv func(string) string, s site) (plugin.Plugin, error) {
		// The issuer and audience default to the server's origin, as Better-Auth's to baseURL's.
		cfg, err := jwt.LoadConfig(getenv, s.BaseURL)
		return jwt.New(cfg), err
	},
	lastloginmethod.ID: func(getenv func(string) string, _ site) (plugin.Plugin, error) {
		cfg, err := lastloginmethod.LoadConfig(getenv)
		return lastloginmethod.New(cfg), err
	},
	magiclink.ID: func(getenv func(string) string, s site) (plugin.Plugin, error) {
		cfg, err := magiclink.LoadConfig(getenv, s.BaseURL+"/api/auth")
		return magiclink.New(cfg), err
	},
	multisession.ID: func(getenv func(string) string, s site) (plugin.Plugin, error) {
		// The multi cookies live as long as the session cookie.
		cfg, err := multisession.LoadConfig(getenv, s.SessionExpiresIn)
		return multisession.New(cfg), err
	},
	onetimetoken.ID: func(getenv func(string) string, _ site) (plugin.Plugin, error) {
		cfg, err := onetimetoken.LoadConfig(getenv)
		return onetimetoken.New(cfg), err
	},
	openapi.ID: func(getenv func(string) string, _ site) (plugin.Plugin, error) {
		cfg, err := openapi.LoadConfig(getenv)
		return openapi.New(cfg), err
	},
	organization.ID: func(getenv func(string) string, s site) (plugin.Plugin, error) {
		cfg, err := organization.LoadConfig(getenv, s.BaseURL)
		return organization.New(cfg), err
	},
	passkey.ID: func(getenv func(string) string, s site) (plugin.Plugin, error) {
		// The relying party's name falls back to the application's, as Better-Auth's to appName.
		cfg, err := passkey.LoadConfig(getenv, s.BaseURL, s.TrustedOrigins, s.AppName)
		return passkey.New(cfg), err
	},
	phonenumber.ID: func(getenv func(string) string, s site) (plugin.Plugin, error) {
		cfg, err := phonenumber.LoadConfig(getenv, s.AppName, s.OutboxDir, s.Production)
		return phonenumber.New(cfg), err
	},
	twofactor.ID: func(getenv func(string) string, s site) (plugin.Plugin, error) {
		// The issuer falls back to the application's name, as Better-Auth's falls back to appName.
		cfg, err := twofactor.LoadConfig(getenv, s.AppName)
		return twofactor.New(cfg), err
	},
	username.ID: func(getenv func(string) string, _ site) (plugin.Plugin, error) {
		cfg, err := username.LoadConfig(getenv)
		return username.New(cfg), err
	},
}

// notImplementedPlugins are Better-Auth plugins this server does not implement yet. Naming one
// refuses to start, so nobody believes a plugin is on when it is not.
var notImplementedPlugins = []string{
	"captcha", "haveibeenpwned", "oauth-provider", "oidc-provider",
}

// loadPlugins builds the plugins named in BETTER_AUTH_PLUGINS (comma-separated Better-Auth names),
// in the order given. bearer is always on and accepted as a name that changes nothing. s is the
// server's configuration as far as plugins need it.
func loadPlugins(getenv func(string) string, s site) ([]plugin.Plugin, error) {
	if s.AppName = strings.TrimSpace(s.AppName); s.AppName == "" {
		s.AppName = defaultAppName
	}
	var out []plugin.Plugin
	seen := map[string]bool{}
	for _, name := range strings.Split(getenv("BETTER_AUTH_PLUGINS"), ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" || name == "bearer" || seen[name] {
			continue
		}
		seen[name] = true
		build, ok := pluginBuilders[name]
		switch {
		case ok:
		case slices.Contains(notImplementedPlugins, name):
			return nil, fmt.Errorf("BETTER_AUTH_PLUGINS: the %s plugin is not implemented yet by this server; remove it (implemented: %s)", name, knownPlugins())
		case name == "generic-oauth":
			return nil, fmt.Errorf("BETTER_AUTH_PLUGINS: generic OAuth providers are configured with OIDC_PROVIDERS, not as a plugin")
		default:
			return nil, fmt.Errorf("BETTER_AUTH_PLUGINS: unknown plugin %q (known: %s)", name, knownPlugins())
		}
		p, err := build(getenv, s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// knownPlugins lists the names BETTER_AUTH_PLUGINS accepts, for error messages.
func knownPlugins() string {
	names := []string{"bearer"}
	for n := range pluginBuilders {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// pluginIDs names the enabled plugins for the start-up log; bearer is always among them.
func pluginIDs(ps []plugin.Plugin) string {
	names := []string{"bearer"}
	for _, p := range ps {
		names = append(names, p.ID)
	}
	return strings.Join(names, ",")
}
