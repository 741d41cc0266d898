package web

import (
	"github.com/labstack/echo/v4"

	"authserver/auth"
)

// pathPublicSettings is where the web app (or any client) learns the account rules its forms must
// follow. It sits with the public content routes, not under /api/auth, which stays exactly
// Better-Auth's surface.
const pathPublicSettings = "/content/public/settings"

// settingsResponse is the body of GET /content/public/settings.
type settingsResponse struct {
	MinPasswordLength        int  `json:"minPasswordLength"`
	MaxPasswordLength        int  `json:"maxPasswordLength"`
	SignUpDisabled           bool `json:"signUpDisabled"`
	RequireEmailVerification bool `json:"requireEmailVerification"`
	RejectCommonPasswords    bool `json:"rejectCommonPasswords"`
	// Plugins and SocialProviders let the app show only what the server offers (a two-factor
	// section, a "Link Google" button); both are always arrays.
	Plugins         []string `json:"plugins"`
	SocialProviders []string `json:"socialProviders"`
}

// settingsRoute declares the settings route for the content API's document; it is mounted on its
// own (server.go) because it is served with or without the content API.
var settingsRoute = contentRoute{method: "GET", path: pathPublicSettings, public: true, answer: settingsResponse{},
	summary: "The account rules the forms must follow and the plugins and social providers that are on"}

// publicSettings answers the account rules of svc. They change only with a restart, so shared
// caches may keep the answer for a minute like the other public answers.
func publicSettings(svc *auth.Service) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := svc.Rules()
		c.Response().Header().Set("Cache-Control", "public, max-age=60")
		return ok(c, settingsResponse{MinPasswordLength: r.MinPasswordLength, MaxPasswordLength: r.MaxPasswordLength,
			SignUpDisabled: r.SignUpDisabled, RequireEmailVerification: r.RequireEmailVerification,
			RejectCommonPasswords: r.RejectCommonPasswords, Plugins: r.Plugins, SocialProviders: r.SocialProviders})
	}
}
