package session

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"authserver/store"
)

// Better-Auth's cookie cache (session.cookieCache, "compact" strategy): a session_data cookie
// carrying the session and user, signed with the secret, that get-session trusts without asking
// the database until the cookie's own expiry (maxAge, 5 minutes by default). It is off by default
// here as in Better-Auth, because it is the one mechanism that lets a revoked session keep
// working: a stolen or signed-out browser keeps answering from its cookie until it expires.

// cachePayload is the signed part of a session_data cookie.
type cachePayload struct {
	Session   json.RawMessage `json:"session"`
	User      json.RawMessage `json:"user"`
	UpdatedAt int64           `json:"updatedAt"`
	Version   string          `json:"version"`
}

// cacheSession and cacheUser read the core fields of the session and user in the payload, which
// is written by store.AppendSessionJSON and store.AppendUserJSON as Better-Auth writes it.
type cacheSession struct {
	ExpiresAt string  `json:"expiresAt"`
	Token     string  `json:"token"`
	CreatedAt string  `json:"createdAt"`
	UpdatedAt string  `json:"updatedAt"`
	IPAddress *string `json:"ipAddress"`
	UserAgent *string `json:"userAgent"`
	UserID    string  `json:"userId"`
	ID        string  `json:"id"`
}

type cacheUser struct {
	Name          string  `json:"name"`
	Email         string  `json:"email"`
	EmailVerified bool    `json:"emailVerified"`
	Image         *string `json:"image"`
	CreatedAt     string  `json:"createdAt"`
	UpdatedAt     string  `json:"updatedAt"`
	ID            string  `json:"id"`
}

// signedWithExpiry returns the bytes Better-Auth signs: the payload JSON with ,"expiresAt":E
// appended inside its closing brace.
func signedWithExpiry(payload []byte, expiresAt int64) []byte {
	out := append([]byte{}, payload[:len(payload)-1]...)
	out = append(out, `,"expiresAt":`...)
	out = strconv.AppendInt(out, expiresAt, 10)
	return append(out, '}')
}

func (m *Manager) cacheSignature(data []byte) string {
	mac := hmac.New(sha256.New, m.cfg.Secret)
	mac.Write(data)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// writeCacheCookie sets session_data for a, as Better-Auth's setCookieCache does.
func (m *Manager) writeCacheCookie(w http.ResponseWriter, a *Auth, dontRemember bool, now time.Time) {
	// As JavaScript's JSON.stringify writes it (no HTML escaping, no spaces): the signature covers
	// these exact bytes, and Better-Auth re-serialises what it parses before checking.
	payload := []byte(`{"session":`)
	payload = store.AppendSessionJSON(payload, &a.Session, m.cols.Session)
	payload = append(payload, `,"user":`...)
	payload = store.AppendUserJSON(payload, &a.User, m.cols.User)
	payload = append(payload, `,"updatedAt":`...)
	payload = strconv.AppendInt(payload, now.UnixMilli(), 10)
	payload = append(payload, `,"version":"1"}`...)
	maxAge := int(m.cfg.CookieCacheMaxAge.Seconds())
	life := m.cfg.CookieCacheMaxAge
	if dontRemember {
		maxAge, life = -1, time.Minute
	}
	exp := now.Add(life).UnixMilli()
	outer := []byte(`{"session":`)
	outer = append(outer, payload...)
	outer = append(outer, `,"expiresAt":`...)
	outer = strconv.AppendInt(outer, exp, 10)
	outer = append(outer, `,"signature":"`...)
	outer = append(outer, m.cacheSignature(signedWithExpiry(payload, exp))...)
	outer = append(outer, `"}`...)
	m.replaceCookie(w, m.names.data, base64.RawURLEncoding.EncodeToString(outer), m.attrs(maxAge))
}

// readCacheCookie returns the session a valid session_data cookie carries for token, or ok false
// (and the cookie should be expired) when it is malformed, forged, stale or for another token.
func (m *Manager) readCacheCookie(raw, token string, now time.Time) (*Auth, bool) {
	dec, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(raw, "="))
	if err != nil {
		return nil, false
	}
	var outer struct {
		Session   json.RawMessage `json:"session"`
		ExpiresAt int64           `json:"expiresAt"`
		Signature string          `json:"signature"`
	}
	if json.Unmarshal(dec, &outer) != nil || len(outer.Session) < 2 {
		return nil, false
	}
	// Re-serialise compactly, as Better-Auth's JSON.stringify of the parsed value would.
	var compact bytes.Buffer
	if json.Compact(&compact, outer.Session) != nil {
		return nil, false
	}
	want := m.cacheSignature(signedWithExpiry(compact.Bytes(), outer.ExpiresAt))
	if !hmac.Equal([]byte(want), []byte(outer.Signature)) {
		return nil, false
	}
	var p cachePayload
	if json.Unmarshal(outer.Session, &p) != nil {
		return nil, false
	}
	var cs cacheSession
	var cu cacheUser
	if json.Unmarshal(p.Session, &cs) != nil || json.Unmarshal(p.User, &cu) != nil {
		return nil, false
	}
	version := p.Version
	if version == "" {
		version = "1"
	}
	if cs.Token != token || version != "1" || outer.ExpiresAt < now.UnixMilli() {
		return nil, false
	}
	sx, err := store.DecodeFields(p.Session, m.cols.Session)
	if err != nil {
		return nil, false
	}
	ux, err := store.DecodeFields(p.User, m.cols.User)
	if err != nil {
		return nil, false
	}
	var a Auth
	a.Session = store.Session{Token: cs.Token, IPAddress: cs.IPAddress, UserAgent: cs.UserAgent, UserID: cs.UserID, ID: cs.ID, Extra: sx}
	a.User = store.User{Name: cu.Name, Email: cu.Email, EmailVerified: cu.EmailVerified, Image: cu.Image, ID: cu.ID, Extra: ux}
	for _, f := range []struct {
		dst *store.Time
		src string
	}{{&a.Session.ExpiresAt, cs.ExpiresAt}, {&a.Session.CreatedAt, cs.CreatedAt}, {&a.Session.UpdatedAt, cs.UpdatedAt},
		{&a.User.CreatedAt, cu.CreatedAt}, {&a.User.UpdatedAt, cu.UpdatedAt}} {
		if f.dst.Scan(f.src) != nil {
			return nil, false
		}
	}
	if !m.live(&a.Session, now) {
		return nil, false
	}
	return &a, true
}
