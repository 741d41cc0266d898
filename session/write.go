package session

import (
	"context"
	"net/http"
	"strconv"
	"strings"
)

// AuthTokenHeader carries the signed session token on every response that sets a live session
// cookie, as Better-Auth's bearer plugin does, so clients without cookies can keep it.
const AuthTokenHeader = "set-auth-token"

// SetCookie writes the signed session cookie for token. dontRemember chooses a browser-session
// cookie (no Max-Age) plus the signed dont_remember cookie; nil keeps whatever the request's
// dont_remember cookie says, as Better-Auth's setSessionCookie does. It also sets set-auth-token.
//
// With the cookie cache on it also writes session_data, reading the session and user afresh.
func (m *Manager) SetCookie(w http.ResponseWriter, r *http.Request, token string, dontRemember *bool) {
	m.setCookie(w, r, token, dontRemember, nil)
}

func (m *Manager) setCookie(w http.ResponseWriter, r *http.Request, token string, dontRemember *bool, a *Auth) {
	hadDontRemember := m.dontRemember(r)
	dr := hadDontRemember
	if dontRemember != nil {
		dr = *dontRemember
	}
	signed := Sign(m.cfg.Secret, token)
	attrs := m.attrs(int(m.cfg.ExpiresIn.Seconds()))
	if dr {
		attrs.maxAge = -1
	}
	m.replaceCookie(w, m.names.token, EncodeURIComponent(signed), attrs)
	if dr {
		m.replaceCookie(w, m.names.dontRemember, EncodeURIComponent(Sign(m.cfg.Secret, "true")), m.attrs(-1))
	} else if hadDontRemember {
		m.expire(w, m.names.dontRemember)
	}
	h := w.Header()
	h.Set(AuthTokenHeader, signed)
	ExposeHeader(h, AuthTokenHeader)
	if m.onCookie != nil {
		for _, kv := range m.onCookie(r.Context(), token) {
			h.Set(kv[0], kv[1])
			ExposeHeader(h, kv[0])
		}
	}
	if m.cfg.CookieCache {
		if a == nil {
			if sess, u, err := m.st.SessionByToken(r.Context(), token); err == nil {
				a = &Auth{Session: *sess, User: *u}
			}
		}
		if a != nil {
			m.writeCacheCookie(w, a, dr, m.now())
		}
	}
}

// SetPlainCookie writes a cookie with the session cookie's Domain, Path, Secure and SameSite
// but its own Max-Age and HttpOnly, under name exactly as given: no prefix and no __Secure-, as
// Better-Auth writes plugin cookies set under a literal name (last-login-method's). The value is
// percent-encoded as JavaScript's encodeURIComponent would.
func (m *Manager) SetPlainCookie(w http.ResponseWriter, name, value string, maxAge int, httpOnly bool) {
	a := m.attrs(maxAge)
	a.script = !httpOnly
	m.replaceCookie(w, name, EncodeURIComponent(value), a)
}

// readChunked reads a cookie that may have been split into name.0, name.1, ... chunks.
func readChunked(r *http.Request, name string) (string, bool) {
	if v, ok := ReadCookie(r, name); ok && v != "" {
		return v, true
	}
	var b strings.Builder
	for i := 0; i < 100; i++ {
		v, ok := ReadCookie(r, name+"."+strconv.Itoa(i))
		if !ok {
			break
		}
		b.WriteString(v)
	}
	return b.String(), b.Len() > 0
}

// ClearCookies expires the session, cache and don't-remember cookies, in Better-Auth's order.
func (m *Manager) ClearCookies(w http.ResponseWriter, r *http.Request) {
	m.expire(w, m.names.token)
	m.expire(w, m.names.data)
	m.cleanDataCookies(w, r)
	m.expire(w, m.names.dontRemember)
}

// cleanDataCookies expires every session_data cookie (and chunk) the request carries: the cookie
// cache is off, so any such cookie is stale.
func (m *Manager) cleanDataCookies(w http.ResponseWriter, r *http.Request) {
	for _, c := range r.Cookies() {
		if c.Name == m.names.data || strings.HasPrefix(c.Name, m.names.data+".") {
			m.appendCookie(w, c.Name, "", m.attrs(0))
		}
	}
}

func (m *Manager) attrs(maxAge int) cookieAttrs {
	return cookieAttrs{maxAge: maxAge, secure: m.cfg.Secure, domain: m.cfg.CookieDomain}
}

// expire writes name=; Max-Age=0 after removing any Set-Cookie for the same name from this
// response, so a cookie set and then cleared in one request never leaks its value.
func (m *Manager) expire(w http.ResponseWriter, name string) {
	m.replaceCookie(w, name, "", m.attrs(0))
	if name == m.names.token {
		w.Header().Del(AuthTokenHeader)
	}
}

func (m *Manager) replaceCookie(w http.ResponseWriter, name, value string, a cookieAttrs) {
	h := w.Header()
	prev := h.Values("Set-Cookie")
	kept := prev[:0:0]
	for _, c := range prev {
		if strings.HasPrefix(c, name+"=") || strings.HasPrefix(c, name+".") {
			continue
		}
		kept = append(kept, c)
	}
	if len(kept) != len(prev) {
		h.Del("Set-Cookie")
		for _, c := range kept {
			h.Add("Set-Cookie", c)
		}
	}
	m.appendCookie(w, name, value, a)
}

func (m *Manager) appendCookie(w http.ResponseWriter, name, value string, a cookieAttrs) {
	w.Header().Add("Set-Cookie", formatSetCookie(name, value, a))
}

// OnSessionCookie makes every answer that writes the session cookie (a sign-in or sign-up, a
// refresh, a session handed over), where Better-Auth's after hooks see a new session, also carry
// the headers fn returns for the session's token, each exposed to scripts through
// Access-Control-Expose-Headers after set-auth-token. Set it once, before serving.
func (m *Manager) OnSessionCookie(fn func(ctx context.Context, token string) [][2]string) {
	m.onCookie = fn
}

// ExposeHeader adds name to Access-Control-Expose-Headers, keeping the entries already there, so
// browsers let scripts read it, as Better-Auth's plugins do for the headers they set.
func ExposeHeader(h http.Header, name string) {
	cur := h.Get("Access-Control-Expose-Headers")
	for _, p := range strings.Split(cur, ",") {
		if strings.EqualFold(strings.TrimSpace(p), name) {
			return
		}
	}
	if cur == "" {
		h.Set("Access-Control-Expose-Headers", name)
		return
	}
	h.Set("Access-Control-Expose-Headers", cur+", "+name)
}

// SetSignedCookie writes one of Better-Auth's auth cookies other than the session's (two_factor,
// trust_device): named "<prefix>.<name>" (with __Secure- when secure), the value signed with the
// secret, HttpOnly, with the session cookie's Domain, Path, Secure and SameSite. maxAge 0
// expires it.
func (m *Manager) SetSignedCookie(w http.ResponseWriter, name, value string, maxAge int) {
	full := m.AuthCookieName(name)
	if maxAge == 0 {
		m.expire(w, full)
		return
	}
	m.replaceCookie(w, full, EncodeURIComponent(Sign(m.cfg.Secret, value)), m.attrs(maxAge))
}

// SignedCookie returns the value of the auth cookie name ("<prefix>.<name>", with __Secure- when
// secure) if its signature verifies.
func (m *Manager) SignedCookie(r *http.Request, name string) (string, bool) {
	raw, ok := ReadCookie(r, m.AuthCookieName(name))
	if !ok {
		return "", false
	}
	return m.cfg.Keys.UnsignAny(raw)
}

// AuthCookieName is the full name Better-Auth gives its auth cookie name: the prefix, a dot and
// name, with __Secure- in front when cookies are secure.
func (m *Manager) AuthCookieName(name string) string {
	if m.cfg.Secure {
		return "__Secure-" + m.cfg.CookiePrefix + "." + name
	}
	return m.cfg.CookiePrefix + "." + name
}

// ClearForChallenge is the session part of a sign-in answered with a challenge instead of a
// session (two-factor): the session and cache cookies expired, as Better-Auth deletes the session
// it had just made, and for a rememberMe:false sign-in the dont_remember cookie set, so the
// session that follows the challenge keeps the choice.
func (m *Manager) ClearForChallenge(w http.ResponseWriter, dontRemember bool) {
	m.expire(w, m.names.token)
	m.expire(w, m.names.data)
	if dontRemember {
		m.replaceCookie(w, m.names.dontRemember, EncodeURIComponent(Sign(m.cfg.Secret, "true")), m.attrs(-1))
	}
}

// Secret is the secret cookies are signed with (BETTER_AUTH_SECRET), for plugins whose own
// signatures and encryption must match Better-Auth's.
func (m *Manager) Secret() []byte { return m.cfg.Secret }

// Keys is the keyring: the current secret and every older one still accepted, for signatures
// and encryption at rest that must survive a secret rotation.
func (m *Manager) Keys() Keys { return m.cfg.Keys }
