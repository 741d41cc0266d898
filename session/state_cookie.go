package session

import "net/http"

// stateCookieMaxAge is the lifetime Better-Auth gives the OAuth state cookie (seconds); the state
// row itself lives ten minutes, so the cookie, not the row, bounds how long a sign-in may take.
const stateCookieMaxAge = 300

// StateCookieName is the full name of the OAuth state cookie ("better-auth.state", with the
// __Secure- prefix when cookies are secure), the cookie Better-Auth's "database" state strategy
// binds a sign-in's state to the browser that started it with.
func (m *Manager) StateCookieName() string {
	pre := ""
	if m.cfg.Secure {
		pre = "__Secure-"
	}
	return pre + m.cfg.CookiePrefix + ".state"
}

// SetStateCookie writes the signed state cookie (Max-Age 300, the auth cookies' attributes), as
// Better-Auth's generateState does with setSignedCookie.
func (m *Manager) SetStateCookie(w http.ResponseWriter, state string) {
	m.replaceCookie(w, m.StateCookieName(), EncodeURIComponent(Sign(m.cfg.Secret, state)), m.attrs(stateCookieMaxAge))
}

// StateFromCookie returns the state the request's state cookie carries, if the cookie is present
// and validly signed.
func (m *Manager) StateFromCookie(r *http.Request) (string, bool) {
	v, ok := ReadCookie(r, m.StateCookieName())
	if !ok || v == "" {
		return "", false
	}
	return m.cfg.Keys.UnsignAny(v)
}

// ClearStateCookie expires the state cookie once the callback has used the state.
func (m *Manager) ClearStateCookie(w http.ResponseWriter) {
	m.replaceCookie(w, m.StateCookieName(), "", m.attrs(0))
}
